//! Conditions: `error`, `warn`, `handler-case`, `ignore-errors`, `unwind-protect`,
//! `catch`/`throw`, `assert`, `check-type`, `define-condition`, and the condition type
//! hierarchy that handlers match against. The host's interrupt (Ctrl-C) arrives as an
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
    interp.define_fn("make-condition", make_condition);
}

/// The parent of a built-in condition type.
fn builtin_parent(name: &str) -> Option<&'static str> {
    Some(match name {
        "serious-condition" | "warning" | "interrupt" | "simple-condition" => "condition",
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
    let result = crate::special::multiple_values(interp, &arg(c, 0), env);
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
    match interp.progn(&args_from(c, 0), env) {
        Err(Flow::Error(raised))
            if catchable(&raised) && is_subtype(interp, raised.error.condition(), "error") =>
        {
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

/// `(define-condition name (parents...) slots options...)`: records the parents.
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
    Ok(Value::sym(&name))
}

/// Builds the condition `(error datum args...)` describes.
fn make_signal(interp: &mut Interp, args: &[Value], span: Span) -> Result<Rc<Condition>, Flow> {
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
            let message = crate::format::format(interp, control, &args[1..], span)?;
            let ctype = interp.symbol("simple-error");
            Ok(Rc::new(Condition { ctype, message }))
        }
        Value::Sym(s, _) => {
            let rest = &args[1..];
            let control = keyword_arg(rest, "format-control");
            let message = match control {
                Some(Value::Str(control, _)) => {
                    let fargs: Vec<Value> = keyword_arg(rest, "format-arguments")
                        .map(|a| a.iter().collect())
                        .unwrap_or_default();
                    crate::format::format(interp, &control, &fargs, span)?
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
            Ok(Rc::new(Condition {
                ctype: s.clone(),
                message,
            }))
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

pub fn error(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let condition = make_signal(interp, args, span)?;
    let error = EvalError::new(&condition.ctype.name, condition.message.clone(), span);
    Err(Flow::Error(Box::new(Raised {
        error,
        condition: Some(Value::Condition(condition)),
    })))
}

fn make_condition(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    Ok(Value::Condition(make_signal(interp, args, span)?))
}

fn warn(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let condition = make_signal(interp, args, span)?;
    let sink = Sink::Error;
    let fresh = if sink.at_line_start(interp) { "" } else { "\n" };
    sink.write(interp, &format!("{fresh}WARNING: {}\n", condition.message))?;
    Ok(Value::Nil)
}
