//! Special forms and the standard macros the evaluator implements natively: binding, definition,
//! conditionals, blocks. Iteration, places, conditions, `loop` and backquote live in their own
//! files; this one dispatches to them.

use crate::env::{Env, Namespace};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::value::{Cons, Sym, Value};
use std::rc::Rc;
use whistler_syntax::Span;

macro_rules! special_forms {
    ($($variant:ident = $name:literal),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum SpecialForm { $($variant),* }
        const TABLE: &[(&'static str, SpecialForm)] = &[$(($name, SpecialForm::$variant)),*];
    };
}

special_forms! {
    Quote = "quote", Quasiquote = "quasiquote", Function = "function", Lambda = "lambda",
    If = "if", Progn = "progn", Let = "let", LetStar = "let*", Setq = "setq", Psetq = "psetq",
    Setf = "setf", Psetf = "psetf", Defun = "defun", Defmacro = "defmacro", Defvar = "defvar",
    Defparameter = "defparameter", Defconstant = "defconstant", Flet = "flet", Labels = "labels",
    Macrolet = "macrolet", Block = "block", ReturnFrom = "return-from", Return = "return",
    When = "when", Unless = "unless", Cond = "cond", Case = "case", Ecase = "ecase",
    Typecase = "typecase", Etypecase = "etypecase", And = "and", Or = "or", Dolist = "dolist",
    Dotimes = "dotimes", Do = "do", DoStar = "do*", Loop = "loop",
    UnwindProtect = "unwind-protect", HandlerCase = "handler-case", IgnoreErrors = "ignore-errors",
    Catch = "catch", Throw = "throw", Push = "push", Pushnew = "pushnew", Pop = "pop",
    Incf = "incf", Decf = "decf", MultipleValueBind = "multiple-value-bind",
    MultipleValueList = "multiple-value-list", DestructuringBind = "destructuring-bind",
    Declare = "declare", Declaim = "declaim", The = "the", Locally = "locally",
    EvalWhen = "eval-when", InPackage = "in-package", Prog1 = "prog1", Prog2 = "prog2",
    Assert = "assert", CheckType = "check-type", DefineCondition = "define-condition",
    WithOutputToString = "with-output-to-string", Time = "time", Defpackage = "defpackage",
    WhenLet = "when-let", IfLet = "if-let", Defstruct = "defstruct", Tagbody = "tagbody",
    Go = "go", NthValue = "nth-value", Rotatef = "rotatef", Shiftf = "shiftf",
    ApplyToPlace = "%apply-to-place", MultipleValueCall = "multiple-value-call",
    Progv = "progv",
}

pub fn install(interp: &mut Interp) {
    for &(name, form) in TABLE {
        interp.symbols.define_form(name, form);
    }
}

/// The `n`th argument form of a special form (0 = the first after the head).
pub(crate) fn arg(c: &Cons, n: usize) -> Value {
    let mut rest = c.cdr();
    for _ in 0..n {
        rest = rest.cdr();
    }
    rest.car()
}

/// The argument forms from the `n`th on.
pub(crate) fn args_from(c: &Cons, n: usize) -> Value {
    let mut rest = c.cdr();
    for _ in 0..n {
        rest = rest.cdr();
    }
    rest
}

pub(crate) fn sym_arg(c: &Cons, n: usize, what: &str) -> Result<Sym, Flow> {
    let v = arg(c, n);
    match v.as_sym() {
        Some(s) => Ok(s.clone()),
        None => fail(
            "program-error",
            format!("{what} must be a symbol, not {}", crate::printer::prin1(&v)),
            if v.span() == crate::value::NO_SPAN {
                c.span
            } else {
                v.span()
            },
        ),
    }
}

pub fn eval(
    interp: &mut Interp,
    form: SpecialForm,
    c: &Rc<Cons>,
    env: &Rc<Env>,
) -> Result<Value, Flow> {
    use SpecialForm as F;
    match form {
        F::Quote => Ok(arg(c, 0)),
        F::Quasiquote => crate::quasi::eval(interp, &arg(c, 0), env),
        F::Function => function(interp, c, env),
        F::Lambda => interp.make_closure(None, &arg(c, 0), &args_from(c, 1), env, c.span, false),
        F::If => {
            let branch = if interp.eval(&arg(c, 0), env)?.truthy() {
                1
            } else {
                2
            };
            interp.eval(&arg(c, branch), env)
        }
        F::Progn | F::Locally => interp.progn(&args_from(c, 0), env),
        F::EvalWhen => interp.progn(&args_from(c, 1), env),
        F::Let => let_form(interp, c, env, false),
        F::LetStar => let_form(interp, c, env, true),
        F::Setq | F::Setf => crate::place::setf(interp, c, env),
        F::Psetq | F::Psetf => crate::place::psetf(interp, c, env),
        F::Defun => defun(interp, c, env),
        F::Defmacro => defmacro(interp, c, env),
        F::Defvar | F::Defparameter | F::Defconstant => defvar(interp, form, c, env),
        F::Flet | F::Labels | F::Macrolet => local_definitions(interp, c, env, form),
        F::Block => {
            let name = block_name(interp, &arg(c, 0), c.span)?;
            let body = args_from(c, 1);
            interp.with_block(&name, env, |interp, env| interp.progn(&body, env))
        }
        F::ReturnFrom => {
            let name = block_name(interp, &arg(c, 0), c.span)?;
            return_from(interp, &name, &arg(c, 1), env, c.span)
        }
        F::Return => {
            let name = interp.known.nil.clone();
            return_from(interp, &name, &arg(c, 0), env, c.span)
        }
        F::When | F::Unless => {
            let test = interp.eval(&arg(c, 0), env)?.truthy();
            if test == (form == F::When) {
                interp.progn(&args_from(c, 1), env)
            } else {
                Ok(Value::Nil)
            }
        }
        F::Cond => cond(interp, c, env),
        F::Case | F::Ecase => case(interp, c, env, form == F::Ecase),
        F::Typecase | F::Etypecase => typecase(interp, c, env, form == F::Etypecase),
        F::And => {
            let mut result = interp.t();
            for f in args_from(c, 0).iter() {
                result = interp.eval(&f, env)?;
                if result.is_nil() {
                    break;
                }
            }
            Ok(result)
        }
        F::Or => {
            for f in args_from(c, 0).iter() {
                interp.values = None;
                let v = interp.eval(&f, env)?;
                if v.truthy() {
                    return Ok(v);
                }
            }
            Ok(Value::Nil)
        }
        F::Dolist => crate::iteration::dolist(interp, c, env),
        F::Dotimes => crate::iteration::dotimes(interp, c, env),
        F::Do => crate::iteration::do_loop(interp, c, env, false),
        F::DoStar => crate::iteration::do_loop(interp, c, env, true),
        F::Loop => crate::loop_macro::eval(interp, c, env),
        F::UnwindProtect => crate::conditions::unwind_protect(interp, c, env),
        F::HandlerCase => crate::conditions::handler_case(interp, c, env),
        F::IgnoreErrors => crate::conditions::ignore_errors(interp, c, env),
        F::Catch => crate::conditions::catch(interp, c, env),
        F::Throw => {
            let tag = interp.eval(&arg(c, 0), env)?;
            let value = interp.eval(&arg(c, 1), env)?;
            Err(Flow::Throw { tag, value })
        }
        F::Push => crate::place::push(interp, c, env),
        F::Pushnew => crate::place::pushnew(interp, c, env),
        F::Pop => crate::place::pop(interp, c, env),
        F::Incf => crate::place::incf(interp, c, env, false),
        F::Decf => crate::place::incf(interp, c, env, true),
        F::MultipleValueBind => multiple_value_bind(interp, c, env),
        F::MultipleValueList => {
            let values = multiple_values(interp, &arg(c, 0), env)?;
            Ok(Value::list(values))
        }
        F::DestructuringBind => destructuring_bind(interp, c, env),
        F::Declare | F::Declaim | F::InPackage | F::Defpackage => Ok(Value::Nil),
        F::The => interp.eval(&arg(c, 1), env),
        F::Prog1 | F::Prog2 => {
            let keep = if form == F::Prog1 { 0 } else { 1 };
            let mut result = Value::Nil;
            for (i, f) in args_from(c, 0).iter().enumerate() {
                let v = interp.eval(&f, env)?;
                if i == keep {
                    result = v;
                }
            }
            Ok(result)
        }
        F::Assert => crate::conditions::assert(interp, c, env),
        F::CheckType => crate::conditions::check_type(interp, c, env),
        F::DefineCondition => crate::conditions::define_condition(interp, c),
        F::WithOutputToString => with_output_to_string(interp, c, env),
        F::Time => interp.eval(&arg(c, 0), env),
        F::WhenLet | F::IfLet => when_let(interp, c, env, form == F::IfLet),
        F::Defstruct => crate::structs::defstruct(interp, c, env),
        F::Tagbody => tagbody(interp, c, env),
        F::Rotatef => crate::place::rotatef(interp, c, env),
        F::Shiftf => crate::place::shiftf(interp, c, env),
        F::ApplyToPlace => crate::place::apply_to_place(interp, c, env),
        F::MultipleValueCall => multiple_value_call(interp, c, env),
        F::Progv => progv(interp, c, env),
        F::Go => go(interp, c, env),
        F::NthValue => {
            let n = interp.eval(&arg(c, 0), env)?;
            let n = crate::builtins::index(&n, c.span)?;
            let values = multiple_values(interp, &arg(c, 1), env)?;
            Ok(values.get(n).cloned().unwrap_or(Value::Nil))
        }
    }
}

fn function(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let name = arg(c, 0);
    match &name {
        Value::Sym(s, span) => {
            if let Some(f) = env.lookup(s, Namespace::Function) {
                return Ok(f);
            }
            interp.define_deferred(s)?;
            match s.function.borrow().clone() {
                Some(f) => Ok(f),
                None => fail(
                    "undefined-function",
                    format!("the function `{}` is undefined", s.name),
                    *span,
                ),
            }
        }
        Value::Cons(_) if setf_name(&name).is_some() => {
            let accessor = setf_name(&name).unwrap_or_else(|| interp.known.nil.clone());
            interp.define_deferred_setf(&accessor)?;
            let f = accessor.setf_function.borrow().clone();
            f.map_or_else(
                || {
                    fail(
                        "undefined-function",
                        format!("(setf {}) is undefined", accessor.name),
                        c.span,
                    )
                },
                Ok,
            )
        }
        Value::Cons(_) => interp.eval(&name, env),
        other => fail(
            "program-error",
            format!(
                "(function {}) names no function",
                crate::printer::prin1(other)
            ),
            c.span,
        ),
    }
}

pub(crate) fn block_name(interp: &Interp, v: &Value, span: Span) -> Result<Sym, Flow> {
    match v {
        Value::Nil => Ok(interp.known.nil.clone()),
        Value::Sym(s, _) => Ok(s.clone()),
        other => fail(
            "program-error",
            format!(
                "block name {} is not a symbol",
                crate::printer::prin1(other)
            ),
            span,
        ),
    }
}

fn return_from(
    interp: &mut Interp,
    name: &Sym,
    form: &Value,
    env: &Rc<Env>,
    span: Span,
) -> Result<Value, Flow> {
    let Some(id) = env.lookup(name, Namespace::Block) else {
        return fail(
            "control-error",
            format!("return-from `{}`: no such block is active here", name.name),
            span,
        );
    };
    let value = interp.eval(form, env)?;
    Err(Flow::Return {
        block: id.as_i64().unwrap_or(0) as u64,
        value,
    })
}

/// `(var init)`, `var` or `(var)` in a binding list.
pub(crate) fn binding_parts(binding: &Value, span: Span) -> Result<(Sym, Value), Flow> {
    match binding {
        Value::Sym(s, _) => Ok((s.clone(), Value::Nil)),
        Value::Cons(_) => match binding.car().as_sym() {
            Some(s) => Ok((s.clone(), binding.cdr().car())),
            None => fail(
                "program-error",
                "malformed binding: expected (variable value)",
                binding.span(),
            ),
        },
        other => fail(
            "program-error",
            format!("malformed binding {}", crate::printer::prin1(other)),
            span,
        ),
    }
}

/// Binds `sym` in `env`, or dynamically (saving the old value in `saved`) when it is special.
pub(crate) fn bind_var(
    env: &Rc<Env>,
    sym: &Sym,
    value: Value,
    saved: &mut Vec<(Sym, Option<Value>)>,
) {
    if sym.special.get() {
        let old = sym.value.replace(Some(value));
        saved.push((sym.clone(), old));
    } else {
        env.bind(sym, Namespace::Variable, value);
    }
}

pub(crate) fn restore_specials(saved: Vec<(Sym, Option<Value>)>) {
    for (sym, old) in saved.into_iter().rev() {
        sym.value.replace(old);
    }
}

fn let_form(
    interp: &mut Interp,
    c: &Rc<Cons>,
    env: &Rc<Env>,
    sequential: bool,
) -> Result<Value, Flow> {
    let inner = Env::child(env);
    let mut saved = Vec::new();
    let result = let_bindings(interp, c, env, &inner, sequential, &mut saved)
        .and_then(|()| interp.progn(&args_from(c, 1), &inner));
    restore_specials(saved);
    result
}

fn let_bindings(
    interp: &mut Interp,
    c: &Rc<Cons>,
    env: &Rc<Env>,
    inner: &Rc<Env>,
    sequential: bool,
    saved: &mut Vec<(Sym, Option<Value>)>,
) -> Result<(), Flow> {
    let mut pending = Vec::new();
    let bindings = arg(c, 0);
    if !matches!(bindings, Value::Nil | Value::Cons(_)) {
        return fail(
            "program-error",
            format!(
                "malformed let: the bindings {} are not a list",
                crate::printer::prin1(&bindings)
            ),
            c.span,
        );
    }
    for binding in bindings.iter() {
        let (sym, init) = binding_parts(&binding, c.span)?;
        let value = interp.eval(&init, if sequential { inner } else { env })?;
        if sequential {
            bind_var(inner, &sym, value, saved);
        } else {
            pending.push((sym, value));
        }
    }
    for (sym, value) in pending {
        bind_var(inner, &sym, value, saved);
    }
    Ok(())
}

fn defun(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    if let Some(accessor) = setf_name(&arg(c, 0)) {
        let f = interp.make_closure(None, &arg(c, 1), &args_from(c, 2), env, c.span, false)?;
        accessor.deferred_setf.replace(None);
        accessor.setf_function.replace(Some(f));
        return Ok(arg(c, 0));
    }
    let name = sym_arg(c, 0, "the function name")?;
    let f = interp.make_closure(
        Some(name.clone()),
        &arg(c, 1),
        &args_from(c, 2),
        env,
        c.span,
        false,
    )?;
    name.function.replace(Some(f));
    forget_standard_macro(&name);
    Ok(Value::sym(&name))
}

fn defmacro(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let name = sym_arg(c, 0, "the macro name")?;
    let f = interp.make_closure(
        Some(name.clone()),
        &arg(c, 1),
        &args_from(c, 2),
        env,
        c.span,
        true,
    )?;
    name.macro_fn.replace(Some(f));
    forget_standard_macro(&name);
    interp.clear_expansion_cache();
    Ok(Value::sym(&name))
}

/// Lets a user or host definition of `sym` replace our native standard macro of that name (and
/// a library definition not evaluated yet).
pub(crate) fn forget_standard_macro(sym: &Sym) {
    sym.deferred.replace(None);
    if sym.form.get().is_some_and(is_redefinable) {
        sym.form.set(None);
    }
}

/// Forms that user code may redefine as functions or macros (the standard macros we implement
/// natively); the true special operators stay.
pub(crate) fn is_redefinable(form: SpecialForm) -> bool {
    use SpecialForm as F;
    !matches!(
        form,
        F::Quote
            | F::Quasiquote
            | F::Function
            | F::If
            | F::Progn
            | F::Let
            | F::LetStar
            | F::Setq
            | F::Block
            | F::ReturnFrom
            | F::Flet
            | F::Labels
            | F::Macrolet
            | F::UnwindProtect
            | F::Catch
            | F::Throw
            | F::The
            | F::Locally
            | F::EvalWhen
            | F::Lambda
    )
}

fn defvar(
    interp: &mut Interp,
    form: SpecialForm,
    c: &Rc<Cons>,
    env: &Rc<Env>,
) -> Result<Value, Flow> {
    let name = sym_arg(c, 0, "the variable name")?;
    let has_value = args_from(c, 1).truthy();
    let bound = name.value.borrow().is_some();
    if has_value && (form != SpecialForm::Defvar || !bound) {
        let value = interp.eval(&arg(c, 1), env)?;
        name.value.replace(Some(value));
    }
    if form == SpecialForm::Defconstant {
        name.constant.set(true);
    } else {
        name.special.set(true);
    }
    Ok(Value::sym(&name))
}

/// `flet`, `labels` and `macrolet`: binds each definition in a child environment and runs the
/// body there. Only `labels` definitions see one another (and themselves); `macrolet` binds macros.
fn local_definitions(
    interp: &mut Interp,
    c: &Rc<Cons>,
    env: &Rc<Env>,
    form: SpecialForm,
) -> Result<Value, Flow> {
    let is_macro = form == SpecialForm::Macrolet;
    let inner = Env::child(env);
    for def in arg(c, 0).iter() {
        let Some(name) = def.car().as_sym().cloned() else {
            let message = if is_macro {
                "malformed macrolet definition"
            } else {
                "malformed local function definition"
            };
            return fail("program-error", message, c.span);
        };
        let closure_env = if form == SpecialForm::Labels {
            &inner
        } else {
            env
        };
        let f = interp.make_closure(
            Some(name.clone()),
            &def.cdr().car(),
            &def.cdr().cdr(),
            closure_env,
            def.span(),
            is_macro,
        )?;
        let namespace = if is_macro {
            Namespace::Macro
        } else {
            Namespace::Function
        };
        inner.bind(&name, namespace, f);
    }
    interp.progn(&args_from(c, 1), &inner)
}

fn cond(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    for clause in args_from(c, 0).iter() {
        let test = interp.eval(&clause.car(), env)?;
        if test.truthy() {
            let body = clause.cdr();
            return if body.is_nil() {
                Ok(test)
            } else {
                interp.progn(&body, env)
            };
        }
    }
    Ok(Value::Nil)
}

fn is_otherwise(v: &Value) -> bool {
    matches!(v.as_sym(), Some(s) if s.name == "otherwise" || s.name == "t")
}

fn case(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>, exhaustive: bool) -> Result<Value, Flow> {
    let key = interp.eval(&arg(c, 0), env)?;
    for clause in args_from(c, 1).iter() {
        let keys = clause.car();
        let hit = match &keys {
            k if is_otherwise(k) && !exhaustive => true,
            Value::Cons(_) => keys.iter().any(|k| crate::hash::eql(&k, &key)),
            k => crate::hash::eql(k, &key),
        };
        if hit {
            return interp.progn(&clause.cdr(), env);
        }
    }
    if exhaustive {
        return fail(
            "type-error",
            format!("ecase: {} matches no clause", crate::printer::prin1(&key)),
            c.span,
        );
    }
    Ok(Value::Nil)
}

fn typecase(
    interp: &mut Interp,
    c: &Rc<Cons>,
    env: &Rc<Env>,
    exhaustive: bool,
) -> Result<Value, Flow> {
    let key = interp.eval(&arg(c, 0), env)?;
    for clause in args_from(c, 1).iter() {
        let ty = clause.car();
        if (is_otherwise(&ty) && !exhaustive) || crate::builtins::typep(interp, &key, &ty) {
            return interp.progn(&clause.cdr(), env);
        }
    }
    if exhaustive {
        return fail(
            "type-error",
            format!(
                "etypecase: {} matches no clause",
                crate::printer::prin1(&key)
            ),
            c.span,
        );
    }
    Ok(Value::Nil)
}

/// All values of `form` (secondary values come from `values`, `floor`, `gethash`, ...).
pub(crate) fn multiple_values(
    interp: &mut Interp,
    form: &Value,
    env: &Rc<Env>,
) -> Result<Vec<Value>, Flow> {
    interp.values = None;
    let primary = interp.eval(form, env)?;
    Ok(match interp.values.take() {
        Some(values)
            if values
                .first()
                .is_some_and(|v| crate::hash::eql(v, &primary)) =>
        {
            values
        }
        _ => vec![primary],
    })
}

fn multiple_value_bind(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let values = multiple_values(interp, &arg(c, 1), env)?;
    let inner = Env::child(env);
    for (i, var) in arg(c, 0).iter().enumerate() {
        if let Some(s) = var.as_sym() {
            inner.bind(
                s,
                Namespace::Variable,
                values.get(i).cloned().unwrap_or(Value::Nil),
            );
        }
    }
    interp.progn(&args_from(c, 2), &inner)
}

fn destructuring_bind(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let ll = crate::lambda_list::parse(interp, &arg(c, 0), true, c.span)?;
    let value = interp.eval(&arg(c, 1), env)?;
    let inner = Env::child(env);
    crate::lambda_list::bind_list(interp, &ll, &value, &inner, c.span, "destructuring-bind")?;
    interp.progn(&args_from(c, 2), &inner)
}

/// `(tagbody tag statement... (go tag) ...)`: runs the statements in order; `go` jumps to the
/// statement after a tag. Returns nil.
fn tagbody(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let items: Vec<Value> = args_from(c, 0).iter().collect();
    let id = interp.new_block_id();
    let inner = Env::child(env);
    for (i, item) in items.iter().enumerate() {
        if let Value::Sym(tag, _) = item {
            inner.bind(
                tag,
                Namespace::Tag,
                Value::cons(Value::int(id as i64), Value::int(i as i64)),
            );
        }
    }
    let mut pc = 0;
    while pc < items.len() {
        let item = &items[pc];
        pc += 1;
        if !matches!(item, Value::Cons(_)) {
            continue;
        }
        interp.tick(c.span)?;
        match interp.eval(item, &inner) {
            Ok(_) => {}
            Err(Flow::Return { block, value }) if block == id => {
                pc = value.as_i64().unwrap_or(0) as usize + 1;
            }
            Err(other) => return Err(other),
        }
    }
    Ok(Value::Nil)
}

fn go(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let _ = interp;
    let tag = arg(c, 0);
    let target = tag.as_sym().and_then(|s| env.lookup(s, Namespace::Tag));
    let Some(target) = target else {
        return fail(
            "control-error",
            format!("go: no tag {} is visible here", crate::printer::prin1(&tag)),
            c.span,
        );
    };
    Err(Flow::Return {
        block: target.car().as_i64().unwrap_or(0) as u64,
        value: target.cdr(),
    })
}

/// `(with-output-to-string (s) body)`: `format s` and `princ x s` inside write to a string
/// (`s` may be a special variable such as `*standard-output*`, bound dynamically).
/// `(with-output-to-string (s string) body)` appends to `string` (one with a fill pointer) and
/// returns the body's value.
fn with_output_to_string(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let var = arg(c, 0).car();
    let target = match interp.eval(&arg(c, 0).cdr().car(), env)? {
        Value::Nil => None,
        Value::Str(s, _) => Some(s),
        other => {
            return fail(
                "type-error",
                format!(
                    "with-output-to-string: {} is not a string",
                    crate::printer::prin1(&other)
                ),
                c.span,
            )
        }
    };
    let buffer = match &target {
        Some(s) => crate::builtins::StringStream::appending_to(s.clone()),
        None => crate::builtins::StringStream::new(),
    };
    let inner = Env::child(env);
    let mut saved = Vec::new();
    if let Some(s) = var.as_sym() {
        bind_var(&inner, s, Value::Foreign(buffer.clone()), &mut saved);
    }
    let result = interp.progn(&args_from(c, 1), &inner);
    restore_specials(saved);
    match target {
        Some(_) => result,
        None => result.map(|_| Value::string(buffer.text.take())),
    }
}

/// `(when-let ((x form)) body)` / `(if-let ((x form)) then else)` (Alexandria's).
fn when_let(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>, if_let: bool) -> Result<Value, Flow> {
    let bindings = arg(c, 0);
    let bindings = if bindings.car().as_sym().is_some() {
        Value::list([bindings])
    } else {
        bindings
    };
    let inner = Env::child(env);
    let mut all = true;
    for binding in bindings.iter() {
        let (sym, init) = binding_parts(&binding, c.span)?;
        let value = interp.eval(&init, env)?;
        all &= value.truthy();
        inner.bind(&sym, Namespace::Variable, value);
    }
    match (all, if_let) {
        (true, false) => interp.progn(&args_from(c, 1), &inner),
        (false, false) => Ok(Value::Nil),
        (true, true) => interp.eval(&arg(c, 1), &inner),
        (false, true) => interp.progn(&args_from(c, 2), env),
    }
}

/// `(multiple-value-call function form...)`: calls the function with every value of every form.
fn multiple_value_call(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let function = interp.eval(&arg(c, 0), env)?;
    let mut args = Vec::new();
    for form in args_from(c, 1).iter() {
        args.extend(multiple_values(interp, &form, env)?);
    }
    interp.apply(&function, &args, c.span)
}

/// `(progv symbols values body...)`: binds the symbols dynamically for the body.
fn progv(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let symbols = interp.eval(&arg(c, 0), env)?;
    let values: Vec<Value> = interp.eval(&arg(c, 1), env)?.iter().collect();
    let mut saved = Vec::new();
    for (i, sym) in symbols.iter().enumerate() {
        let sym = crate::builtins::symbol(&sym, interp, c.span)?;
        saved.push((sym.clone(), sym.value.borrow().clone(), sym.special.get()));
        sym.special.set(true);
        sym.value.replace(values.get(i).cloned());
    }
    let result = interp.progn(&args_from(c, 2), env);
    for (sym, value, special) in saved.into_iter().rev() {
        sym.value.replace(value);
        sym.special.set(special);
    }
    result
}

/// `foo` for a function name `(setf foo)`.
pub(crate) fn setf_name(name: &Value) -> Option<Sym> {
    let is_setf = name.car().as_sym().is_some_and(|s| s.name == "setf");
    let accessor = name.cdr().car().as_sym().cloned()?;
    (is_setf && name.cdr().cdr().is_nil()).then_some(accessor)
}
