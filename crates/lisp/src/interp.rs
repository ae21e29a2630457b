//! The interpreter: symbol table, limits, the public entry points, and the core of evaluation
//! (symbols, function calls, macro forms, closures and blocks).

use crate::env::{Env, Namespace};
use crate::error::{fail, ErrorKind, EvalError, Flow, Raised};
use crate::streams::{ErrorStream, Output};
use crate::value::{Closure, Condition, Cons, Function, Sym, SymData, Value, NO_SPAN};
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use whistler_syntax::suggest::closest;
use whistler_syntax::{Span, Symbol};

mod host;
pub(crate) mod symbols;

/// Macro expansions remembered per call form (code built at run time can make many forms).
const MAX_CACHED_EXPANSIONS: usize = 100_000;

/// How many nested compound forms one level of calls may use before the nesting counts as
/// runaway too (deeply nested generated code).
const NESTING_PER_CALL: usize = 16;

/// Bounds that turn runaway code into errors.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Forms evaluated per top-level call before giving up.
    pub max_steps: u64,
    /// Function calls and macro expansions nested deeper than this fail.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 10_000_000,
            max_depth: 2_000,
        }
    }
}

/// Symbols the evaluator itself looks for.
pub(crate) struct Known {
    pub t: Sym,
    pub nil: Sym,
    pub quasiquote: Sym,
    pub unquote: Sym,
    pub unquote_splicing: Sym,
    pub lambda: Sym,
    pub optional: Sym,
    pub rest: Sym,
    pub body: Sym,
    pub key: Sym,
    pub aux: Sym,
    pub whole: Sym,
    pub environment: Sym,
    pub allow_other_keys: Sym,
    pub allow_other_keys_kw: Sym,
    pub declare: Sym,
    pub standard_output: Sym,
}

pub struct Interp {
    pub(crate) symbols: symbols::SymbolTable,
    pub(crate) known: Known,
    pub(crate) output: Output,
    pub(crate) error_output: Output,
    interrupt: Arc<AtomicBool>,
    pub limits: Limits,
    steps: u64,
    depth: usize,
    /// Nested evaluation of compound forms (bounded at `NESTING_PER_CALL` times the depth limit).
    nesting: usize,
    /// How many host entry points (`eval_value`, `call`, ...) are running.
    active: usize,
    next_block: u64,
    pub(crate) gensym_counter: u64,
    expansion_cache: HashMap<usize, (Rc<Cons>, Value)>,
    /// Secondary values of the last multiple-value call (`floor`, `gethash`, `values`).
    pub(crate) values: Option<Vec<Value>>,
    /// `define-condition` parents, by condition type name.
    pub(crate) condition_parents: HashMap<String, Vec<String>>,
    pub(crate) global: Rc<Env>,
    /// Active `handler-bind` and `handler-case` clusters, innermost last.
    pub(crate) handlers: Vec<Vec<crate::conditions::Handler>>,
    /// Active restarts, innermost last.
    pub(crate) restarts: Vec<Rc<crate::restarts::Restart>>,
    /// `define-condition` slots and reports, by condition type name.
    pub(crate) condition_classes: HashMap<String, crate::conditions::ConditionClass>,
    /// Files, clocks, the environment: whatever the embedding program allows.
    pub(crate) host: Box<dyn crate::host::Host>,
}

impl Default for Interp {
    fn default() -> Interp {
        Interp::new()
    }
}

impl Drop for Interp {
    /// Symbols' cells may hold closures whose environments refer back to symbols: break the
    /// cycles so everything is freed.
    fn drop(&mut self) {
        self.symbols.clear_cells();
        self.expansion_cache.clear();
    }
}

/// Packages that are all one namespace for us (the Common Lisp and Whistler user packages).
pub(crate) fn package_key(package: Option<&str>) -> Option<&str> {
    match package {
        None
        | Some(
            "cl"
            | "common-lisp"
            | "cl-user"
            | "common-lisp-user"
            | "whistler"
            | "whistler-user"
            | "whistler/loader"
            | "whistler-loader"
            | "whistler-loader-user",
        ) => None,
        Some(p) => Some(p),
    }
}

impl Interp {
    pub fn new() -> Interp {
        let symbols = symbols::SymbolTable::default();
        let intern = |name: &str| -> Sym {
            symbols.intern(name, || SymData::new(name.to_string(), None, true))
        };
        let known = Known {
            t: intern("t"),
            nil: intern("nil"),
            quasiquote: intern("quasiquote"),
            unquote: intern("unquote"),
            unquote_splicing: intern("unquote-splicing"),
            lambda: intern("lambda"),
            optional: intern("&optional"),
            rest: intern("&rest"),
            body: intern("&body"),
            key: intern("&key"),
            aux: intern("&aux"),
            whole: intern("&whole"),
            environment: intern("&environment"),
            allow_other_keys: intern("&allow-other-keys"),
            allow_other_keys_kw: symbols.intern("keyword:allow-other-keys", || {
                SymData::new("allow-other-keys".into(), Some("keyword".into()), true)
            }),
            declare: intern("declare"),
            standard_output: intern("*standard-output*"),
        };
        let allow_other_keys_kw = Value::sym(&known.allow_other_keys_kw);
        known
            .allow_other_keys_kw
            .value
            .replace(Some(allow_other_keys_kw));
        let mut interp = Interp {
            symbols,
            known,
            output: Output::new(Box::new(std::io::stdout())),
            error_output: Output::new(Box::new(std::io::stderr())),
            interrupt: Arc::new(AtomicBool::new(false)),
            limits: Limits::default(),
            steps: 0,
            depth: 0,
            nesting: 0,
            active: 0,
            next_block: 0,
            gensym_counter: 0,
            expansion_cache: HashMap::new(),
            values: None,
            condition_parents: HashMap::new(),
            global: Env::root(),
            handlers: Vec::new(),
            restarts: Vec::new(),
            condition_classes: HashMap::new(),
            host: Box::new(crate::host::NoHost),
        };
        interp.install_globals();
        interp
    }

    fn install_globals(&mut self) {
        let t = self.known.t.clone();
        t.value.replace(Some(Value::sym(&t)));
        t.constant.set(true);
        self.known.nil.constant.set(true);
        self.known.nil.value.replace(Some(Value::Nil));
        let out = self.known.standard_output.clone();
        out.value.replace(Some(Value::sym(&t)));
        out.special.set(true);
        for name in ["*error-output*", "*trace-output*"] {
            let stream = self.symbol(name);
            stream
                .value
                .replace(Some(Value::Foreign(Rc::new(ErrorStream))));
            stream.special.set(true);
        }
        let input = self.symbol("*standard-input*");
        input.value.replace(Some(
            Value::Foreign(crate::streams::InputStream::standard()),
        ));
        input.special.set(true);
        for name in ["*terminal-io*", "*query-io*", "*debug-io*"] {
            let stream = self.symbol(name);
            stream.value.replace(Some(Value::sym(&t)));
            stream.special.set(true);
        }
        crate::special::install(self);
        crate::builtins::install(self);
        crate::conditions::install(self);
        crate::restarts::install(self);
        crate::prelude::load(self);
    }

    /// Where `format t`, `print` and friends write.
    pub fn set_output(&mut self, w: Box<dyn Write>) {
        self.output = Output::new(w);
    }

    /// What the evaluator may ask of the world (files, clocks, the environment); by default
    /// nothing ([`crate::host::NoHost`]).
    pub fn set_host(&mut self, host: Box<dyn crate::host::Host>) {
        self.host = host;
    }

    /// Where `*error-output*`, `*trace-output*` and warnings write (stderr by default).
    pub fn set_error_output(&mut self, w: Box<dyn Write>) {
        self.error_output = Output::new(w);
    }

    /// The current value of `*standard-output*`.
    pub(crate) fn standard_output_value(&self) -> Value {
        self.known
            .standard_output
            .value
            .borrow()
            .clone()
            .unwrap_or(Value::Nil)
    }

    /// Setting this flag (from a Ctrl-C handler) signals an `interrupt` condition in the running
    /// code, which `handler-case` can catch.
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// The names of every function defined (builtins, host functions and `defun`s), sorted.
    pub fn function_names(&self) -> Vec<String> {
        self.symbols.sorted_keys(|s| s.has_function())
    }

    /// How `name` is defined, as Common Lisp's `describe` would say: `"special operator"`,
    /// `"macro"`, `"function"` or `"variable"` (constants included); `None` when undefined.
    pub fn definition_kind(&self, name: &str) -> Option<&'static str> {
        let sym = self.symbols.get(name)?;
        if sym.form.get().is_some() {
            Some("special operator")
        } else if sym.has_macro() {
            Some("macro")
        } else if sym.has_function() {
            Some("function")
        } else if sym.value.borrow().is_some() {
            Some("variable")
        } else {
            None
        }
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The interned symbol `name` (written as Lisp reads it: `foo`, `bpf:attach`, `:key`).
    pub fn symbol(&mut self, name: &str) -> Sym {
        let (package, base) = match name.rfind(':') {
            Some(0) => (Some("keyword"), &name[1..]),
            Some(i) => (Some(name[..i].trim_end_matches(':')), &name[i + 1..]),
            None => (None, name),
        };
        if base.chars().any(char::is_uppercase) {
            return self.intern_in(package, &base.to_lowercase());
        }
        self.intern_in(package, base)
    }

    pub(crate) fn intern_in(&mut self, package: Option<&str>, name: &str) -> Sym {
        self.symbols.intern_in(package_key(package), name)
    }

    pub(crate) fn intern_symbol(&mut self, s: &Symbol) -> Sym {
        self.intern_in(s.package.as_deref(), &s.name)
    }

    pub(crate) fn keyword(&mut self, name: &str) -> Sym {
        self.intern_in(Some("keyword"), name)
    }

    pub(crate) fn t(&self) -> Value {
        Value::sym(&self.known.t)
    }

    pub(crate) fn bool(&self, b: bool) -> Value {
        Value::bool(b, &self.known.t)
    }

    /// Counts a step and checks the step limit and the interrupt flag.
    pub(crate) fn tick(&mut self, span: Span) -> Result<(), Flow> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err(EvalError {
                kind: ErrorKind::StepLimit(self.limits.max_steps),
                span,
                expansions: Vec::new(),
                help: Some("this looks like an endless loop or recursion; raise the step limit if the work is real".into()),
            }
            .into());
        }
        if self.steps & 0xff == 0 && self.interrupt.swap(false, Ordering::Relaxed) {
            return Err(self.interrupt_condition(span));
        }
        Ok(())
    }

    /// Raises the interrupt condition now if the host set the flag.
    pub(crate) fn check_interrupt(&mut self, span: Span) -> Result<(), Flow> {
        if self.interrupt.swap(false, Ordering::Relaxed) {
            return Err(self.interrupt_condition(span));
        }
        Ok(())
    }

    fn interrupt_condition(&mut self, span: Span) -> Flow {
        let ctype = self.symbol("interrupt");
        let condition = Value::Condition(Rc::new(Condition {
            ctype,
            message: "interrupted".into(),
            slots: Vec::new(),
        }));
        Flow::Error(Box::new(Raised {
            error: EvalError {
                kind: ErrorKind::Interrupted,
                span,
                expansions: Vec::new(),
                help: None,
            },
            condition: Some(condition),
            signalled: false,
        }))
    }

    /// Enters a call or expansion, checking the depth limit.
    pub(crate) fn enter(&mut self, span: Span) -> Result<(), Flow> {
        if self.depth >= self.limits.max_depth {
            return Err(self.depth_error(span));
        }
        self.depth += 1;
        Ok(())
    }

    fn depth_error(&self, span: Span) -> Flow {
        EvalError {
            kind: ErrorKind::DepthLimit(self.limits.max_depth),
            span,
            expansions: Vec::new(),
            help: Some("this looks like endless recursion; check the base case".into()),
        }
        .into()
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub(crate) fn new_block_id(&mut self) -> u64 {
        self.next_block += 1;
        self.next_block
    }

    pub(crate) fn eval(&mut self, form: &Value, env: &Rc<Env>) -> Result<Value, Flow> {
        match form {
            Value::Sym(s, span) => self.eval_symbol(s, *span, env),
            Value::Cons(c) => {
                self.tick(c.span)?;
                if self.nesting >= self.limits.max_depth.saturating_mul(NESTING_PER_CALL) {
                    return Err(self.depth_error(c.span));
                }
                self.nesting += 1;
                let c = c.clone();
                let result = crate::stack::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
                    self.eval_cons(&c, env)
                });
                self.nesting -= 1;
                result.map_err(|flow| crate::conditions::signal_raised(self, flow))
            }
            other => Ok(other.clone()),
        }
    }

    fn eval_symbol(&mut self, s: &Sym, span: Span, env: &Rc<Env>) -> Result<Value, Flow> {
        if s.is_keyword() {
            return Ok(Value::Sym(s.clone(), span));
        }
        if !s.special.get() {
            if let Some(v) = env.lookup(s, Namespace::Variable) {
                return Ok(v);
            }
        }
        if let Some(v) = s.value.borrow().as_ref() {
            return Ok(v.clone());
        }
        let mut candidates = env.variable_names();
        candidates.extend(self.names_where(|s| s.value.borrow().is_some() && !s.is_keyword()));
        let help = match closest(&s.name, candidates.iter().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "bind it with `let`, or define it with `defvar` or `defparameter`".into(),
        };
        Err(EvalError::new(
            "unbound-variable",
            format!("the variable `{}` is unbound", s.name),
            span,
        )
        .with_help(help)
        .into())
    }

    /// Names of interned symbols (without package) that satisfy `keep`.
    fn names_where(&self, keep: impl Fn(&SymData) -> bool) -> Vec<String> {
        self.symbols
            .symbols()
            .into_iter()
            .filter(|s| s.package.is_none() && keep(s))
            .map(|s| s.name.clone())
            .collect()
    }

    fn undefined_function(&self, sym: &Sym, span: Span) -> Flow {
        let candidates =
            self.names_where(|s| s.has_function() || s.has_macro() || s.form.get().is_some());
        let help = match closest(&sym.name, candidates.iter().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "define it with `defun` (or `defmacro`) before this form runs".into(),
        };
        EvalError::new(
            "undefined-function",
            format!(
                "the function `{}` is undefined",
                crate::printer::symbol_text(sym)
            ),
            span,
        )
        .with_help(help)
        .into()
    }

    /// Evaluates each form of a list, returning the last value (`progn`).
    pub(crate) fn progn(&mut self, body: &Value, env: &Rc<Env>) -> Result<Value, Flow> {
        let mut result = Value::Nil;
        let mut rest = body.clone();
        let mut walked = 0usize;
        while let Value::Cons(c) = rest {
            walked += 1;
            if walked > crate::value::MAX_LIST_WALK {
                break;
            }
            result = self.eval(&c.car.borrow(), env)?;
            rest = c.cdr();
        }
        Ok(result)
    }

    fn eval_cons(&mut self, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
        let head = c.car();
        let Value::Sym(sym, _) = &head else {
            return self.eval_lambda_call(c, &head, env);
        };
        if let Some(form) = sym.form.get() {
            return crate::special::eval(self, form, c, env);
        }
        if let Some((ns, local)) = env.shadows_function(sym) {
            if ns == Namespace::Macro {
                return self.eval_macro_form(c, sym, &local, env);
            }
            let args = self.eval_args(&c.cdr(), env)?;
            return self.apply(&local, &args, c.span);
        }
        self.define_deferred(sym)?;
        let macro_fn = sym.macro_fn.borrow().clone();
        if let Some(m) = macro_fn {
            return self.eval_macro_form(c, sym, &m, env);
        }
        let function = sym.function.borrow().clone();
        let Some(f) = function else {
            return Err(self.undefined_function(sym, c.span));
        };
        let args = self.eval_args(&c.cdr(), env)?;
        self.apply(&f, &args, c.span)
    }

    fn eval_lambda_call(
        &mut self,
        c: &Rc<Cons>,
        head: &Value,
        env: &Rc<Env>,
    ) -> Result<Value, Flow> {
        let is_lambda = matches!(head.car().as_sym(), Some(s) if Rc::ptr_eq(s, &self.known.lambda));
        if !is_lambda {
            return fail(
                "program-error",
                format!("{} is not a function name", crate::printer::prin1(head)),
                head.span(),
            );
        }
        let f = self.eval(head, env)?;
        let args = self.eval_args(&c.cdr(), env)?;
        self.apply(&f, &args, c.span)
    }

    pub(crate) fn eval_args(&mut self, args: &Value, env: &Rc<Env>) -> Result<Vec<Value>, Flow> {
        let mut out = Vec::new();
        let mut rest = args.clone();
        let mut walked = 0usize;
        while let Value::Cons(c) = rest {
            walked += 1;
            if walked > crate::value::MAX_LIST_WALK {
                break;
            }
            out.push(self.eval(&c.car.borrow(), env)?);
            rest = c.cdr();
        }
        Ok(out)
    }

    fn eval_macro_form(
        &mut self,
        c: &Rc<Cons>,
        sym: &Sym,
        expander: &Value,
        env: &Rc<Env>,
    ) -> Result<Value, Flow> {
        let key = Rc::as_ptr(c) as usize;
        let cached = self.expansion_cache.get(&key).map(|(_, v)| v.clone());
        let expansion = match cached {
            Some(v) => v,
            None => {
                let form = Value::Cons(c.clone());
                let v = self.call_expander(expander, &form, sym, env)?;
                if self.expansion_cache.len() >= MAX_CACHED_EXPANSIONS {
                    self.expansion_cache.clear();
                }
                self.expansion_cache.insert(key, (c.clone(), v.clone()));
                v
            }
        };
        self.enter(c.span)?;
        let result = self.eval(&expansion, env);
        self.leave();
        result.map_err(|flow| in_expansion(flow, &sym.name, c.span))
    }

    /// Applies a macro's expander to the whole form.
    pub(crate) fn call_expander(
        &mut self,
        expander: &Value,
        form: &Value,
        sym: &Sym,
        env: &Rc<Env>,
    ) -> Result<Value, Flow> {
        let span = form.span();
        let Value::Func(f) = expander else {
            return fail("error", "macro expander is not a function", span);
        };
        let Function::Closure(closure) = &**f else {
            let args = [form.clone(), Value::Nil];
            return self.apply(expander, &args, span);
        };
        let _ = env;
        self.enter(span)?;
        let result = self.call_closure_with(closure, CallArgs::Macro(form), span);
        self.leave();
        result.map_err(|flow| in_expansion(flow, &sym.name, span))
    }

    /// Expands `form` once if its head is a macro (global or local); `None` otherwise.
    pub(crate) fn expand_once(
        &mut self,
        form: &Value,
        env: &Rc<Env>,
    ) -> Result<Option<Value>, Flow> {
        let Some(sym) = form.car().as_sym().cloned() else {
            return Ok(None);
        };
        let expander = match env.shadows_function(&sym) {
            Some((Namespace::Macro, m)) => m,
            Some(_) => return Ok(None),
            None => {
                self.define_deferred(&sym)?;
                match sym.macro_fn.borrow().clone() {
                    Some(m) => m,
                    None => return Ok(None),
                }
            }
        };
        self.call_expander(&expander, form, &sym, env).map(Some)
    }

    pub(crate) fn clear_expansion_cache(&mut self) {
        self.expansion_cache.clear();
    }

    /// Calls a function value with evaluated arguments.
    pub(crate) fn apply(&mut self, f: &Value, args: &[Value], span: Span) -> Result<Value, Flow> {
        self.tick(span)?;
        let func = match f {
            Value::Func(func) => func.clone(),
            Value::Sym(s, _) => {
                self.define_deferred(s)?;
                match s.function.borrow().clone() {
                    Some(Value::Func(func)) => func,
                    _ => return Err(self.undefined_function(s, span)),
                }
            }
            other => {
                return fail(
                    "type-error",
                    format!("{} is not a function", crate::printer::prin1(other)),
                    span,
                )
            }
        };
        match &*func {
            Function::Builtin { f, .. } => {
                f(self, args, span).map_err(|flow| crate::conditions::signal_raised(self, flow))
            }
            Function::Host { name, f } => {
                let Ok(mut host) = f.try_borrow_mut() else {
                    return fail("error", format!("{name} called itself re-entrantly"), span);
                };
                host(self, args, span).map_err(|mut e| {
                    if e.span == NO_SPAN {
                        e.span = span;
                    }
                    Flow::from(e)
                })
            }
            Function::Closure(closure) => {
                self.enter(span)?;
                let result = self.call_closure_with(closure, CallArgs::Function(args), span);
                self.leave();
                result
            }
        }
    }

    fn call_closure_with(
        &mut self,
        c: &Closure,
        args: CallArgs,
        span: Span,
    ) -> Result<Value, Flow> {
        let env = Env::child(&c.env);
        let what = c.name.as_ref().map_or_else(
            || "anonymous function".to_string(),
            |s| format!("`{}`", s.name),
        );
        match args {
            CallArgs::Function(args) => {
                crate::lambda_list::bind(self, &c.params, args, Value::Nil, &env, span, &what)?
            }
            CallArgs::Macro(form) => {
                crate::lambda_list::bind_macro(self, &c.params, form, &env, span, &what)?
            }
        }
        let body = c.body.clone();
        match &c.block {
            Some(name) => self.with_block(name, &env, |interp, env| interp.progn(&body, env)),
            None => self.progn(&body, &env),
        }
    }

    /// Runs `f` inside a block named `name` that `return-from` can leave.
    pub(crate) fn with_block(
        &mut self,
        name: &Sym,
        env: &Rc<Env>,
        f: impl FnOnce(&mut Interp, &Rc<Env>) -> Result<Value, Flow>,
    ) -> Result<Value, Flow> {
        let id = self.new_block_id();
        let inner = Env::child(env);
        inner.bind(name, Namespace::Block, Value::int(id as i64));
        match f(self, &inner) {
            Err(Flow::Return { block, value }) if block == id => Ok(value),
            other => other,
        }
    }

    /// Makes a closure over `env`.
    pub(crate) fn make_closure(
        &mut self,
        name: Option<Sym>,
        params: &Value,
        body: &Value,
        env: &Rc<Env>,
        span: Span,
        destructuring: bool,
    ) -> Result<Value, Flow> {
        let params = crate::lambda_list::parse(self, params, destructuring, span)?;
        let body = strip_declarations(self, body);
        let block = name.clone();
        Ok(Value::Func(Rc::new(Function::Closure(Closure {
            name,
            params: Rc::new(params),
            body,
            env: env.clone(),
            block,
            span,
        }))))
    }

    /// A fresh uninterned symbol.
    pub(crate) fn gensym(&mut self, prefix: &str) -> Sym {
        self.gensym_counter += 1;
        Rc::new(SymData::new(
            format!("{}{}", prefix.to_lowercase(), self.gensym_counter),
            None,
            false,
        ))
    }

    /// Flushes standard and error output.
    pub(crate) fn flush_output(&mut self) {
        self.output.flush();
        self.error_output.flush();
    }
}

pub(crate) enum CallArgs<'a> {
    Function(&'a [Value]),
    Macro(&'a Value),
}

fn in_expansion(flow: Flow, name: &str, span: Span) -> Flow {
    match flow {
        Flow::Error(mut raised) => {
            raised.error.in_expansion(name, span);
            Flow::Error(raised)
        }
        other => other,
    }
}

/// Drops leading `(declare ...)` forms and a docstring followed by more forms.
fn strip_declarations(interp: &Interp, body: &Value) -> Value {
    let mut rest = body.clone();
    loop {
        let first = rest.car();
        let is_declare =
            matches!(first.car().as_sym(), Some(s) if Rc::ptr_eq(s, &interp.known.declare));
        let is_doc = matches!(first, Value::Str(..)) && rest.cdr().truthy();
        if !(is_declare || is_doc) {
            return rest;
        }
        rest = rest.cdr();
    }
}
