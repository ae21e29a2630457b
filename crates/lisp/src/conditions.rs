//! Conditions: `error`, `signal`, `warn`, `cerror`, `handler-bind`, `handler-case`,
//! `ignore-errors`, `unwind-protect`, `catch`/`throw`, `assert`, `check-type`,
//! `define-condition` (slots, readers, `:report`), and the condition type hierarchy that
//! handlers match against.
//!
//! Handlers live on a stack of clusters. A condition is signalled where it happens: the
//! `handler-bind` handlers run there, innermost first, each with only the handlers outside its
//! own cluster active, and may transfer control (a restart, `return-from`, `throw`); an
//! innermost matching `handler-case` (or `ignore-errors`) ends the walk, and the error then
//! unwinds to it. Errors raised by builtins are signalled the same way on their way out. The host's interrupt (Ctrl-C) arrives as an
//! `interrupt` condition (alias `sb-sys:interactive-interrupt`), which is not an `error`.
//! Step and depth limits are not conditions: no handler can catch them.

use crate::env::{Env, Namespace};
use crate::error::{fail, ErrorKind, EvalError, Flow, Raised};
use crate::interp::Interp;
use crate::special::{arg, args_from};
use crate::streams::Sink;
use crate::value::{Condition, Cons, Value};
use std::rc::Rc;
use whistler_syntax::Span;

pub fn install(interp: &mut Interp) {
    interp.define_fn("error", error);
    interp.define_fn("warn", warn);
    interp.define_fn("signal", signal);
    interp.define_fn("cerror", cerror);
    interp.define_fn("make-condition", make_condition);
    interp.define_fn("%call-with-handlers", call_with_handlers);
    let readers = [
        ("simple-condition-format-control", "format-control"),
        ("simple-condition-format-arguments", "format-arguments"),
        ("type-error-datum", "datum"),
        ("type-error-expected-type", "expected-type"),
        ("cell-error-name", "name"),
        ("arithmetic-error-operation", "operation"),
        ("arithmetic-error-operands", "operands"),
        ("stream-error-stream", "stream"),
        ("file-error-pathname", "pathname"),
        ("package-error-package", "package"),
        ("print-not-readable-object", "object"),
        ("unbound-slot-instance", "instance"),
    ];
    for (reader, slot) in readers {
        define_reader(interp, reader, slot);
    }
    interp.set_global("*break-on-signals*", Value::Nil);
    interp.set_global("*debugger-hook*", Value::Nil);
}

/// One entry of a handler cluster.
#[derive(Clone)]
pub enum Handler {
    /// A `handler-bind` handler: called where the condition is signalled.
    Bind { spec: Value, function: Value },
    /// A `handler-case` clause (or `ignore-errors`): the condition unwinds to it.
    Case { spec: Value },
}

/// What `define-condition` recorded about a condition type.
#[derive(Clone, Default)]
pub struct ConditionClass {
    /// (slot name, initarg keyword name, initform).
    pub slots: Vec<(String, Option<String>, Option<Value>)>,
    /// A format string or a function of (condition stream).
    pub report: Option<Value>,
}

/// Defines a function that reads slot `slot` of a condition.
fn define_reader(interp: &mut Interp, reader: &str, slot: &str) {
    let slot = slot.to_string();
    interp.define_builtin(
        reader,
        Box::new(move |_, args, span| {
            let slots = match args.first() {
                Some(Value::Condition(c)) => &c.slots,
                _ => return Err(EvalError::new("type-error", "not a condition", span)),
            };
            Ok(slots
                .iter()
                .find(|(name, _)| *name == slot)
                .map_or(Value::Nil, |(_, v)| v.clone()))
        }),
    );
}

/// Runs the handlers for `condition` (of type `ctype`) where it is signalled. Returns true
/// when a `handler-case` will take it (so it must unwind), false when no handler took it.
pub(crate) fn run_handlers(
    interp: &mut Interp,
    condition: &Value,
    ctype: &str,
    span: Span,
) -> Result<bool, Flow> {
    let mut level = interp.handlers.len();
    while level > 0 {
        level -= 1;
        let cluster = interp.handlers[level].clone();
        for handler in cluster {
            match handler {
                Handler::Case { spec } if matches_spec(interp, &spec, ctype) => return Ok(true),
                Handler::Bind { spec, function } if matches_spec(interp, &spec, ctype) => {
                    let outer = interp.handlers.split_off(level);
                    let result = interp.apply(&function, std::slice::from_ref(condition), span);
                    interp.handlers.extend(outer);
                    result?;
                }
                _ => {}
            }
        }
    }
    Ok(false)
}

/// Gives an error raised by a builtin or a special form to the handlers, once.
pub(crate) fn signal_raised(interp: &mut Interp, flow: Flow) -> Flow {
    let Flow::Error(mut raised) = flow else {
        return flow;
    };
    if raised.signalled || interp.handlers.is_empty() || !catchable(&raised) {
        return Flow::Error(raised);
    }
    raised.signalled = true;
    let condition = condition_object(interp, &raised);
    raised.condition = Some(condition.clone());
    let ctype = raised.error.condition().to_string();
    match run_handlers(interp, &condition, &ctype, raised.error.span) {
        Ok(_) => Flow::Error(raised),
        Err(other) => other,
    }
}

/// Runs `body` with a handler cluster pushed, popping it whatever happens.
pub(crate) fn with_handlers<T>(
    interp: &mut Interp,
    cluster: Vec<Handler>,
    body: impl FnOnce(&mut Interp) -> Result<T, Flow>,
) -> Result<T, Flow> {
    interp.handlers.push(cluster);
    let depth = interp.handlers.len();
    let result = body(interp);
    interp.handlers.truncate(depth - 1);
    result
}

/// `(%call-with-handlers ((type . function)...) thunk)`, what `handler-bind` expands into.
fn call_with_handlers(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    crate::builtins::arity(args, 2, 2, "handler-bind", span)?;
    let cluster = args[0]
        .iter()
        .map(|binding| Handler::Bind {
            spec: binding.car(),
            function: binding.cdr(),
        })
        .collect();
    let thunk = args[1].clone();
    with_handlers(interp, cluster, |interp| interp.apply(&thunk, &[], span))
}

/// The parent of a built-in condition type.
fn builtin_parent(name: &str) -> Option<&'static str> {
    Some(match name {
        // `%exit` is how a host's exit function unwinds: no `error` handler may stop it.
        "serious-condition" | "warning" | "interrupt" | "simple-condition" | "%exit" => "condition",
        "error" => "serious-condition",
        "simple-error" | "type-error" | "program-error" | "control-error" | "arithmetic-error"
        | "cell-error" | "stream-error" | "file-error" | "package-error" | "parse-error" => "error",
        "division-by-zero" => "arithmetic-error",
        "unbound-variable" | "undefined-function" => "cell-error",
        "simple-warning" | "style-warning" => "warning",
        _ => return None,
    })
}

fn canonical(name: &str) -> &str {
    match name {
        "interactive-interrupt" => "interrupt",
        other => other,
    }
}

/// True when a condition of type `ctype` is of type `target`.
pub fn is_subtype(interp: &Interp, ctype: &str, target: &str) -> bool {
    let target = canonical(target);
    if target == "t" {
        return true;
    }
    let mut pending = vec![canonical(ctype).to_string()];
    let mut seen = 0;
    while let Some(name) = pending.pop() {
        seen += 1;
        if name == target || seen > 1000 {
            return name == target;
        }
        if let Some(parents) = interp.condition_parents.get(&name) {
            pending.extend(parents.iter().cloned());
        } else if let Some(parent) = builtin_parent(&name) {
            pending.push(parent.to_string());
            // The simple conditions also inherit from simple-condition (format control).
            if matches!(name.as_str(), "simple-error" | "simple-warning") {
                pending.push("simple-condition".to_string());
            }
        } else if name != "condition" {
            pending.push("error".to_string());
        }
    }
    false
}

/// Whether a handler clause's type specifier (`error`, `(or a b)`) matches `ctype`.
fn matches_spec(interp: &Interp, spec: &Value, ctype: &str) -> bool {
    match spec {
        Value::Sym(s, _) => is_subtype(interp, ctype, &s.name),
        Value::Cons(_) if spec.car().as_sym().is_some_and(|s| s.name == "or") => {
            spec.cdr().iter().any(|s| matches_spec(interp, &s, ctype))
        }
        _ => false,
    }
}

/// The condition object for a raised error (made from the error when code did not make one).
fn condition_object(interp: &mut Interp, raised: &Raised) -> Value {
    if let Some(c) = &raised.condition {
        return c.clone();
    }
    let ctype = interp.symbol(raised.error.condition());
    Value::Condition(Rc::new(Condition {
        ctype,
        message: raised.error.message(),
        slots: Vec::new(),
    }))
}

fn catchable(raised: &Raised) -> bool {
    matches!(
        raised.error.kind,
        ErrorKind::Signal { .. } | ErrorKind::Interrupted
    )
}

pub fn handler_case(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let clauses: Vec<Value> = args_from(c, 1).iter().collect();
    let is_no_error = |clause: &Value| {
        clause
            .car()
            .as_sym()
            .is_some_and(|s| s.is_keyword() && s.name == "no-error")
    };
    let cluster = clauses
        .iter()
        .filter(|cl| !is_no_error(cl))
        .map(|cl| Handler::Case { spec: cl.car() })
        .collect();
    let form = arg(c, 0);
    let result = with_handlers(interp, cluster, |interp| {
        crate::special::multiple_values(interp, &form, env)
    });
    match result {
        Ok(values) => match clauses.iter().find(|cl| is_no_error(cl)) {
            Some(clause) => {
                let ll = crate::lambda_list::parse(interp, &clause.cdr().car(), false, c.span)?;
                let inner = Env::child(env);
                crate::lambda_list::bind(
                    interp,
                    &ll,
                    &values,
                    Value::Nil,
                    &inner,
                    c.span,
                    "handler-case :no-error",
                )?;
                interp.progn(&clause.cdr().cdr(), &inner)
            }
            None => {
                let first = values.first().cloned().unwrap_or(Value::Nil);
                interp.values = Some(values);
                Ok(first)
            }
        },
        Err(Flow::Error(raised)) if catchable(&raised) => {
            let ctype = raised.error.condition().to_string();
            let Some(clause) = clauses
                .iter()
                .find(|cl| !is_no_error(cl) && matches_spec(interp, &cl.car(), &ctype))
            else {
                return Err(Flow::Error(raised));
            };
            let inner = Env::child(env);
            if let Some(var) = clause.cdr().car().car().as_sym() {
                let condition = condition_object(interp, &raised);
                inner.bind(var, Namespace::Variable, condition);
            }
            interp.progn(&clause.cdr().cdr(), &inner)
        }
        Err(other) => Err(other),
    }
}

pub fn ignore_errors(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let cluster = vec![Handler::Case {
        spec: Value::sym(&interp.symbol("error")),
    }];
    let body = args_from(c, 0);
    match with_handlers(interp, cluster, |interp| interp.progn(&body, env)) {
        Err(Flow::Error(raised))
            if catchable(&raised) && is_subtype(interp, raised.error.condition(), "error") =>
        {
            // Two values: nil and the condition.
            let condition = condition_object(interp, &raised);
            interp.values = Some(vec![Value::Nil, condition]);
            Ok(Value::Nil)
        }
        other => other,
    }
}

pub fn unwind_protect(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let result = interp.eval(&arg(c, 0), env);
    interp.progn(&args_from(c, 1), env)?;
    result
}

pub fn catch(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let tag = interp.eval(&arg(c, 0), env)?;
    match interp.progn(&args_from(c, 1), env) {
        Err(Flow::Throw { tag: thrown, value }) if crate::hash::eq(&thrown, &tag) => Ok(value),
        other => other,
    }
}

pub fn assert(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let test = arg(c, 0);
    if interp.eval(&test, env)?.truthy() {
        return Ok(Value::Nil);
    }
    let datum = arg(c, 2);
    if datum.truthy() {
        let mut args = vec![interp.eval(&datum, env)?];
        args.extend(interp.eval_args(&args_from(c, 3), env)?);
        return error(interp, &args, c.span);
    }
    fail(
        "simple-error",
        format!("the assertion {} failed", crate::printer::prin1(&test)),
        c.span,
    )
}

pub fn check_type(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let place = arg(c, 0);
    let value = interp.eval(&place, env)?;
    let ty = arg(c, 1);
    if crate::builtins::typep(interp, &value, &ty) {
        return Ok(Value::Nil);
    }
    fail(
        "type-error",
        format!(
            "the value of {} is {}, which is not of type {}",
            crate::printer::prin1(&place),
            crate::printer::prin1(&value),
            crate::printer::prin1(&ty)
        ),
        c.span,
    )
}

/// `(define-condition name (parents...) (slots...) options...)`: records the parents, the
/// slots (`:initarg`, `:initform`, `:reader`/`:accessor`) and the `:report`.
pub fn define_condition(interp: &mut Interp, c: &Rc<Cons>) -> Result<Value, Flow> {
    let name = crate::special::sym_arg(c, 0, "the condition name")?;
    let parents: Vec<String> = arg(c, 1)
        .iter()
        .filter_map(|p| p.as_sym().map(|s| s.name.clone()))
        .collect();
    let parents = if parents.is_empty() {
        vec!["condition".to_string()]
    } else {
        parents
    };
    interp.condition_parents.insert(name.name.clone(), parents);
    let mut class = ConditionClass::default();
    for slot in arg(c, 2).iter() {
        let (slot_name, options) = match slot.as_sym() {
            Some(s) => (s.name.clone(), Vec::new()),
            None => (
                slot.car()
                    .as_sym()
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                slot.cdr().iter().collect::<Vec<_>>(),
            ),
        };
        let mut initarg = None;
        let mut initform = None;
        for pair in options.chunks(2) {
            let (Some(key), Some(value)) = (pair[0].as_sym(), pair.get(1)) else {
                continue;
            };
            match key.name.as_str() {
                "initarg" => initarg = value.as_sym().map(|s| s.name.clone()),
                "initform" => initform = Some(value.clone()),
                "reader" | "accessor" => {
                    if let Some(reader) = value.as_sym() {
                        let reader = crate::printer::symbol_text(reader);
                        define_reader(interp, &reader, &slot_name);
                    }
                }
                _ => {}
            }
        }
        class.slots.push((slot_name, initarg, initform));
    }
    for option in args_from(c, 3).iter() {
        if option.car().as_sym().is_some_and(|s| s.name == "report") {
            class.report = Some(option.cdr().car());
        }
    }
    interp.condition_classes.insert(name.name.clone(), class);
    Ok(Value::sym(&name))
}

/// The slots of a new condition of type `ctype` from `initargs` (a plist) and the initforms
/// of its type and the types it inherits from.
fn condition_slots(
    interp: &mut Interp,
    ctype: &str,
    initargs: &[Value],
    span: Span,
) -> Result<Vec<(String, Value)>, Flow> {
    let mut slots: Vec<(String, Value)> = Vec::new();
    for pair in initargs.chunks(2) {
        if let (Some(key), Some(value)) = (pair[0].as_sym(), pair.get(1)) {
            slots.push((key.name.clone(), value.clone()));
        }
    }
    let mut pending = vec![ctype.to_string()];
    let mut seen = 0;
    while let Some(name) = pending.pop() {
        seen += 1;
        if seen > 100 {
            break;
        }
        let Some(class) = interp.condition_classes.get(&name).cloned() else {
            continue;
        };
        for (slot, initarg, initform) in class.slots {
            let given = initarg.and_then(|key| {
                initargs
                    .chunks(2)
                    .find(|p| p[0].as_sym().is_some_and(|s| s.name == key))
                    .and_then(|p| p.get(1).cloned())
            });
            let value = match (given, initform) {
                (Some(v), _) => v,
                (None, Some(form)) => {
                    let global = interp.global.clone();
                    interp.eval(&form, &global)?
                }
                (None, None) => continue,
            };
            slots.retain(|(name, _)| *name != slot);
            slots.push((slot, value));
        }
        if let Some(parents) = interp.condition_parents.get(&name) {
            pending.extend(parents.iter().cloned());
        }
    }
    let _ = span;
    Ok(slots)
}

/// The `:report` of `ctype` or the nearest type it inherits one from.
fn report_of(interp: &Interp, ctype: &str) -> Option<Value> {
    let mut pending = vec![ctype.to_string()];
    let mut seen = 0;
    while let Some(name) = pending.pop() {
        seen += 1;
        if seen > 100 {
            return None;
        }
        if let Some(report) = interp
            .condition_classes
            .get(&name)
            .and_then(|c| c.report.clone())
        {
            return Some(report);
        }
        if let Some(parents) = interp.condition_parents.get(&name) {
            pending.extend(parents.iter().cloned());
        }
    }
    None
}

/// Runs a `:report` (a string, or a function of the condition and a stream) into a message.
fn report_message(
    interp: &mut Interp,
    report: &Value,
    condition: &Condition,
    span: Span,
) -> Result<String, Flow> {
    if let Value::Str(text, _) = report {
        return Ok(text.to_string());
    }
    let function = match report {
        Value::Cons(_) => {
            let global = interp.global.clone();
            interp.eval(report, &global)?
        }
        other => other.clone(),
    };
    let stream = crate::streams::StringStream::new();
    let draft = Value::Condition(Rc::new(Condition {
        ctype: condition.ctype.clone(),
        message: String::new(),
        slots: condition.slots.clone(),
    }));
    interp.apply(&function, &[draft, Value::Foreign(stream.clone())], span)?;
    let text = stream.text.to_string();
    Ok(text)
}

/// Builds the condition `(error datum args...)` describes; a format string makes a condition
/// of type `default_type` (`simple-error`, `simple-warning`, `simple-condition`).
fn make_signal(
    interp: &mut Interp,
    args: &[Value],
    default_type: &str,
    span: Span,
) -> Result<Rc<Condition>, Flow> {
    let Some(datum) = args.first() else {
        return fail(
            "program-error",
            "error needs a message or a condition type",
            span,
        );
    };
    match datum {
        Value::Condition(c) => Ok(c.clone()),
        Value::Str(control, _) => {
            let message = crate::format::format(interp, &control.text(), &args[1..], span)?;
            let ctype = interp.symbol(default_type);
            let slots = vec![
                ("format-control".to_string(), datum.clone()),
                (
                    "format-arguments".to_string(),
                    Value::list(args[1..].to_vec()),
                ),
            ];
            Ok(Rc::new(Condition {
                ctype,
                message,
                slots,
            }))
        }
        Value::Sym(s, _) => {
            let rest = &args[1..];
            let slots = condition_slots(interp, &s.name, rest, span)?;
            let mut condition = Condition {
                ctype: s.clone(),
                message: String::new(),
                slots,
            };
            let control = keyword_arg(rest, "format-control");
            condition.message = match (report_of(interp, &s.name), control) {
                (Some(report), _) => report_message(interp, &report, &condition, span)?,
                (None, Some(Value::Str(control, _))) => {
                    let fargs: Vec<Value> = keyword_arg(rest, "format-arguments")
                        .map(|a| a.iter().collect())
                        .unwrap_or_default();
                    // The report is made when the condition is made; a control string its
                    // arguments do not fit reports as written rather than failing here.
                    crate::format::format(interp, &control.text(), &fargs, span)
                        .unwrap_or_else(|_| control.to_string())
                }
                _ if rest.is_empty() => format!("condition {} was signalled", s.lisp_name()),
                _ => format!(
                    "{}: {}",
                    s.lisp_name(),
                    rest.iter()
                        .map(crate::printer::prin1)
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            };
            Ok(Rc::new(condition))
        }
        other => fail(
            "type-error",
            format!(
                "error: {} is not a string or condition type",
                crate::printer::prin1(other)
            ),
            span,
        ),
    }
}

fn keyword_arg(args: &[Value], name: &str) -> Option<Value> {
    args.chunks(2)
        .find(|p| {
            p[0].as_sym()
                .is_some_and(|s| s.is_keyword() && s.name == name)
        })
        .and_then(|p| p.get(1).cloned())
}

/// Signals `condition` to the handlers and returns the error that unwinds when none of them
/// transferred control.
fn raise(interp: &mut Interp, condition: Rc<Condition>, span: Span) -> Flow {
    let value = Value::Condition(condition.clone());
    if let Err(other) = run_handlers(interp, &value, &condition.ctype.name, span) {
        return other;
    }
    let error = EvalError::new(&condition.ctype.name, condition.message.clone(), span);
    Flow::Error(Box::new(Raised {
        error,
        condition: Some(value),
        signalled: true,
    }))
}

pub fn error(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let condition = make_signal(interp, args, "simple-error", span)?;
    Err(raise(interp, condition, span))
}

/// `(cerror continue-format datum args...)`: an error with a `continue` restart that returns nil.
fn cerror(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    crate::builtins::arity(args, 2, usize::MAX, "cerror", span)?;
    let condition = make_signal(interp, &args[1..], "simple-error", span)?;
    let name = interp.symbol("continue");
    crate::restarts::with_restart(interp, &name, |interp| {
        Err::<Value, Flow>(raise(interp, condition, span))
    })
    .map(|_| Value::Nil)
}

/// `(signal datum args...)`: handlers run; nil when none of them took the condition.
fn signal(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let condition = make_signal(interp, args, "simple-condition", span)?;
    offer_to_handlers(interp, &condition, span)?;
    Ok(Value::Nil)
}

/// Runs the active handlers on `condition`; a handler that takes it (transfers control)
/// becomes the returned `Err`.
fn offer_to_handlers(
    interp: &mut Interp,
    condition: &Rc<Condition>,
    span: Span,
) -> Result<(), Flow> {
    let value = Value::Condition(condition.clone());
    if run_handlers(interp, &value, &condition.ctype.name, span)? {
        let error = EvalError::new(&condition.ctype.name, condition.message.clone(), span);
        return Err(Flow::Error(Box::new(Raised {
            error,
            condition: Some(value),
            signalled: true,
        })));
    }
    Ok(())
}

fn make_condition(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    Ok(Value::Condition(make_signal(
        interp,
        args,
        "simple-condition",
        span,
    )?))
}

/// `(warn datum args...)`: handlers run with a `muffle-warning` restart; unless one muffles
/// it, the warning is printed on the error output.
fn warn(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let condition = make_signal(interp, args, "simple-warning", span)?;
    let name = interp.symbol("muffle-warning");
    let muffled = crate::restarts::with_restart(interp, &name, |interp| {
        offer_to_handlers(interp, &condition, span).map(|()| false)
    })?
    .is_none();
    if muffled {
        return Ok(Value::Nil);
    }
    let sink = Sink::Error;
    let fresh = if sink.at_line_start(interp) { "" } else { "\n" };
    sink.write(interp, &format!("{fresh}WARNING: {}\n", condition.message))?;
    Ok(Value::Nil)
}
