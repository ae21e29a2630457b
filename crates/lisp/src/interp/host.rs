//! The entry points the host (the compiler, the session runner) calls: evaluating top-level
//! forms and library forms, expanding macro calls, calling Lisp functions, and registering
//! host functions and macros.

use super::{package_key, Interp};
use crate::error::{EvalError, Flow};
use crate::value::{Function, HostFn, Sym, Value, NO_SPAN};
use std::rc::Rc;
use whistler_syntax::{Sexp, Span, Symbol};

impl Interp {
    /// Evaluates a top-level form (`defmacro`, `defun`, `defvar`, `progn`, anything).
    pub fn eval_toplevel(&mut self, form: &Sexp) -> Result<Value, EvalError> {
        let value = self.sexp_to_value(form);
        self.eval_value(&value)
    }

    /// Evaluates a form given as a value, in the global environment.
    pub fn eval_value(&mut self, form: &Value) -> Result<Value, EvalError> {
        let global = self.global.clone();
        let result = self.run_outermost(|interp| interp.eval(form, &global));
        self.values = None;
        result.map_err(|flow| {
            let mut e = self.flow_to_error(flow, form.span());
            if e.span == NO_SPAN {
                e.span = form.span();
            }
            e
        })
    }

    /// Calls a function value (a closure from Lisp code, a builtin) with arguments.
    pub fn call(&mut self, function: &Value, args: &[Value]) -> Result<Value, EvalError> {
        let result = self.run_outermost(|interp| interp.apply(function, args, NO_SPAN));
        result.map_err(|flow| self.flow_to_error(flow, NO_SPAN))
    }

    /// Runs `f` with fresh step and depth counters when it is the outermost entry from the
    /// host (host functions may re-enter the interpreter; those share the running budget).
    fn run_outermost<T>(
        &mut self,
        f: impl FnOnce(&mut Interp) -> Result<T, Flow>,
    ) -> Result<T, Flow> {
        if self.active == 0 {
            self.steps = 0;
            self.depth = 0;
            self.nesting = 0;
        }
        self.active += 1;
        let result = f(self);
        self.active -= 1;
        result
    }

    pub(crate) fn flow_to_error(&self, flow: Flow, span: Span) -> EvalError {
        match flow {
            Flow::Error(raised) => raised.error,
            Flow::Return { .. } => EvalError::new(
                "control-error",
                "return-from a block that is no longer active",
                span,
            ),
            Flow::Throw { tag, .. } => EvalError::new(
                "control-error",
                format!("throw to tag {} with no catch", crate::printer::prin1(&tag)),
                span,
            ),
        }
    }

    /// True when `name` is defined as a macro with `defmacro`.
    pub fn is_macro(&self, name: &Symbol) -> bool {
        self.find_symbol(name).is_some_and(|s| s.has_macro())
    }

    /// The names of every macro defined (library and user `defmacro`s), sorted.
    pub fn macro_names(&self) -> Vec<String> {
        self.symbols.sorted_keys(|s| s.has_macro())
    }

    /// The global value of `name` (`defvar`, `defparameter`, `defconstant`, [`Interp::set_global`]),
    /// without interning it.
    pub fn global_value(&self, name: &Symbol) -> Option<Value> {
        self.find_symbol(name)?.value.borrow().clone()
    }

    /// Defines the constants of `table`, each as [`Interp::define_constant`] would, when its
    /// symbol is first interned (or the symbol table listed): an evaluator given a large table
    /// pays for the constants a program names. A constant defined later replaces the table's.
    pub fn define_constant_table(&mut self, table: Rc<dyn crate::ConstantTable>) {
        self.symbols.add_constant_table(table);
    }

    /// Defines `name` as a global constant, as `defconstant` would.
    pub fn define_constant(&mut self, name: &Symbol, value: Value) {
        if name.package.is_none() {
            // Installed when the symbol is first interned, like builtins (`interp/symbols.rs`).
            let key = std::borrow::Cow::Owned(name.name.clone());
            return self.symbols.define_constant(key, value);
        }
        let sym = self.intern_symbol(name);
        sym.special.set(true);
        sym.constant.set(true);
        sym.value.replace(Some(value));
    }

    fn find_symbol(&self, name: &Symbol) -> Option<Sym> {
        let key = match package_key(name.package.as_deref()) {
            Some(p) => format!("{p}:{}", name.name),
            None => name.name.clone(),
        };
        self.symbols.get(&key)
    }

    /// One macroexpansion step of a form whose head is a macro; `Ok(None)` if it is not a
    /// macro form. Pieces of the arguments keep their spans; everything the macro built gets
    /// the span of `form`.
    pub fn macroexpand_1(&mut self, form: &Sexp) -> Result<Option<Sexp>, EvalError> {
        let Some(head) = form
            .as_list()
            .and_then(|l| l.first())
            .and_then(Sexp::as_symbol)
        else {
            return Ok(None);
        };
        if !self.is_macro(head) {
            return Ok(None);
        }
        let value = self.sexp_to_value(form);
        let global = self.global.clone();
        let expanded = self
            .run_outermost(|interp| interp.expand_once(&value, &global))
            .map_err(|flow| self.flow_to_error(flow, form.span))?;
        let Some(expansion) = expanded else {
            return Ok(None);
        };
        crate::convert::check_convertible(&expansion, form.span)?;
        Ok(Some(self.value_to_sexp(&expansion, form.span)))
    }

    /// Registers a host function callable from Lisp as `name` (e.g. `"bpf:attach"`).
    /// A host function replaces a standard macro of the same name (`defstruct`, ...), but not a
    /// special operator.
    pub fn define_builtin(&mut self, name: &str, f: Box<HostFn>) {
        let sym = self.symbol(name);
        let function = Function::Host {
            name: name.to_string(),
            f: std::cell::RefCell::new(f),
        };
        sym.function.replace(Some(Value::Func(Rc::new(function))));
        sym.macro_fn.replace(None);
        crate::special::forget_standard_macro(&sym);
    }

    /// Registers a macro implemented in Rust: `f` receives the whole call form (unevaluated,
    /// with spans) and returns its expansion. The compiler sees it through
    /// [`Interp::is_macro`] and [`Interp::macroexpand_1`] like any `defmacro`.
    pub fn define_host_macro(&mut self, name: &str, mut f: Box<HostFn>) {
        let sym = self.symbol(name);
        let expander: Box<HostFn> = Box::new(move |interp, args, span| f(interp, &args[..1], span));
        let function = Function::Host {
            name: name.to_string(),
            f: std::cell::RefCell::new(expander),
        };
        sym.macro_fn.replace(Some(Value::Func(Rc::new(function))));
        crate::special::forget_standard_macro(&sym);
        self.clear_expansion_cache();
    }

    /// Evaluates a form of a library shipped with the compiler: its values carry no spans, so
    /// whatever its macros build, and any error inside them, is placed at the user's call site.
    /// An error while loading is placed at `form`'s own span (in the library's text).
    pub fn eval_library_form(&mut self, form: &Sexp) -> Result<Value, EvalError> {
        let value = self.sexp_to_value_without_spans(form);
        self.eval_value(&value).map_err(|mut e| {
            if e.span == NO_SPAN {
                e.span = form.span;
            }
            e
        })
    }

    /// Defines the builtin function `name` (written as Lisp reads it, like [`Interp::symbol`]).
    pub(crate) fn define_fn(&mut self, name: &'static str, f: crate::value::BuiltinFn) {
        if name.contains(':') || name.chars().any(char::is_uppercase) {
            let sym = self.symbol(name);
            let function = Function::Builtin { name, f };
            sym.function.replace(Some(Value::Func(Rc::new(function))));
            return;
        }
        self.symbols.define_builtin(name, f);
    }

    /// Writes `text` to a Lisp output stream value (`t`, a string stream, a file stream...).
    pub fn write_to_stream(&mut self, stream: &Value, text: &str) -> Result<(), EvalError> {
        let result = crate::streams::Sink::of(self, Some(stream), NO_SPAN)
            .and_then(|sink| sink.write(self, text));
        result.map_err(|flow| self.flow_to_error(flow, NO_SPAN))
    }

    /// Sets a global (special) variable, as `defparameter` would.
    pub fn set_global(&mut self, name: &str, value: Value) {
        let sym = self.symbol(name);
        sym.special.set(true);
        sym.value.replace(Some(value));
    }

    pub fn global(&mut self, name: &str) -> Option<Value> {
        let sym = self.symbol(name);
        let value = sym.value.borrow().clone();
        value
    }
}
