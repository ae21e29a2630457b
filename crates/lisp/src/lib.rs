//! The compile-time Lisp: a Common Lisp subset that runs Whistler's macros (and the code of
//! Lisp session files), built on the reader's spanned s-expressions.
//!
//! [`Interp`] evaluates top-level forms, expands macro calls for the compiler
//! ([`Interp::macroexpand_1`]) and hosts Rust functions ([`Interp::define_builtin`]). Values
//! remember where they were read from, so a macro's expansion keeps the spans of the argument
//! pieces it reuses and gives everything it built the span of the call. Errors
//! ([`EvalError`]) carry the span of the failing form and the macro expansions it happened in.
//! A step limit, a depth limit and an interrupt flag keep runaway code in check.

mod builtins;
mod conditions;
mod convert;
mod env;
mod error;
mod format;
mod hash;
mod interp;
mod iteration;
mod lambda_list;
mod loop_macro;
mod number;
mod place;
mod printer;
mod quasi;
mod special;
mod stack;
mod structs;
mod value;

pub use builtins::keyword as keyword_arg;
pub use convert::check_convertible;
pub use error::{ErrorKind, EvalError, MacroFrame};
pub use interp::{Interp, Limits};
pub use printer::{prin1, princ};
pub use value::{
    Closure, Condition, Cons, Function, HashTable, HashTest, HostFn, Sym, SymData, Value, NO_SPAN,
};
