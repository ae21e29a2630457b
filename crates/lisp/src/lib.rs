//! The compile-time Lisp: a Common Lisp subset that runs Whistler's macros (and the code of
//! Lisp session files), built on the reader's spanned s-expressions.
//!
//! [`Interp`] evaluates top-level forms, expands macro calls for the compiler
//! ([`Interp::macroexpand_1`]) and hosts Rust functions ([`Interp::define_builtin`]). Values
//! remember where they were read from, so a macro's expansion keeps the spans of the argument
//! pieces it reuses and gives everything it built the span of the call. Errors
//! ([`EvalError`]) carry the span of the failing form and the macro expansions it happened in.
//! A step limit, a depth limit and an interrupt flag keep runaway code in check.
//!
//! ```
//! use whistler_lisp::{Interp, Value};
//! use whistler_syntax::read_str;
//!
//! let mut interp = Interp::new();
//! let text = "(defmacro twice (x) `(+ ,x ,x)) (twice (f y))";
//! let forms = read_str(text).forms;
//! interp.eval_toplevel(&forms[0]).unwrap();
//! let expanded = interp.macroexpand_1(&forms[1]).unwrap().unwrap();
//! assert_eq!(expanded.to_string(), "(+ (f y) (f y))");
//! // `(f y)` in the expansion still points at the call's argument text.
//! let arg = &expanded.as_list().unwrap()[1];
//! assert_eq!(&text[arg.span.start as usize..arg.span.end as usize], "(f y)");
//!
//! // Host functions (the session runner's `bpf:attach`, ...) are plain closures.
//! interp.define_builtin("host:double", Box::new(|_, args, _| {
//!     Ok(Value::int(args[0].as_i64().unwrap_or(0) * 2))
//! }));
//! let v = interp.eval_toplevel(&read_str("(host:double 21)").forms[0]).unwrap();
//! assert_eq!(v.as_i64(), Some(42));
//! ```

mod builtins;
mod conditions;
mod convert;
mod env;
mod error;
mod format;
mod hash;
pub mod host;
mod interp;
mod iteration;
mod lambda_list;
mod library;
mod loop_macro;
mod number;
mod place;
mod prelude;
mod printer;
mod quasi;
mod restarts;
mod special;
pub mod stack;
mod streams;
mod structs;
mod value;

pub use builtins::keyword as keyword_arg;
pub use convert::check_convertible;
pub use error::{ErrorKind, EvalError, MacroFrame};
pub use interp::symbols::ConstantTable;
pub use interp::{Interp, Limits};
pub use printer::{prin1, princ};
pub use streams::{InputStream, StringStream};
pub use value::{
    Closure, Condition, Cons, Function, HashTable, HashTest, HostFn, Sym, SymData, Value, NO_SPAN,
};
