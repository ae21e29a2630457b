//! Restarts: `restart-case` and `restart-bind` (through `%call-with-restarts`, which the
//! prelude's macros expand into), `invoke-restart`, `find-restart`, `compute-restarts`, and
//! the standard restart functions (`abort`, `continue`, `muffle-warning`, `store-value`,
//! `use-value`). A `restart-case` restart unwinds to its clause with `throw` semantics; a
//! `restart-bind` restart is a function called where it is invoked.

use crate::builtins::arity;
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::value::{Sym, Value};
use std::rc::Rc;
use whistler_syntax::Span;

/// An active restart.
pub struct Restart {
    pub name: Option<Sym>,
    /// For `restart-bind`: called with the arguments where the restart is invoked.
    function: Option<Value>,
    /// A function of no arguments returning the argument list, for
    /// `invoke-restart-interactively`.
    interactive: Option<Value>,
}

pub fn install(interp: &mut Interp) {
    interp.define_fn("%call-with-restarts", call_with_restarts);
    interp.define_fn("invoke-restart", |i, a, s| {
        arity(a, 1, usize::MAX, "invoke-restart", s)?;
        let restart = find(i, &a[0], s)?;
        invoke(i, &restart, a[1..].to_vec(), s)
    });
    interp.define_fn("invoke-restart-interactively", |i, a, s| {
        arity(a, 1, 1, "invoke-restart-interactively", s)?;
        let restart = find(i, &a[0], s)?;
        let args = match &restart.interactive {
            Some(f) => i.apply(f, &[], s)?.iter().collect(),
            None => Vec::new(),
        };
        invoke(i, &restart, args, s)
    });
    interp.define_fn("find-restart", |i, a, s| {
        arity(a, 1, 2, "find-restart", s)?;
        Ok(lookup(i, &a[0]).map_or(Value::Nil, |r| Value::Foreign(r)))
    });
    interp.define_fn("compute-restarts", |i, a, s| {
        arity(a, 0, 1, "compute-restarts", s)?;
        let all = i.restarts.iter().rev().map(|r| Value::Foreign(r.clone()));
        Ok(Value::list(all.collect::<Vec<_>>()))
    });
    interp.define_fn("restart-name", |_, a, s| {
        arity(a, 1, 1, "restart-name", s)?;
        match a[0].downcast::<Restart>() {
            Some(r) => Ok(r.name.as_ref().map_or(Value::Nil, Value::sym)),
            None => fail("type-error", "restart-name: not a restart", s),
        }
    });
    interp.define_fn("abort", |i, a, s| standard(i, a, s, "abort", true));
    interp.define_fn("continue", |i, a, s| standard(i, a, s, "continue", false));
    interp.define_fn("muffle-warning", |i, a, s| {
        standard(i, a, s, "muffle-warning", true)
    });
    interp.define_fn("store-value", |i, a, s| {
        standard(i, a, s, "store-value", false)
    });
    interp.define_fn("use-value", |i, a, s| standard(i, a, s, "use-value", false));
}

/// The innermost active restart named by `designator` (a symbol or a restart object).
fn lookup(interp: &Interp, designator: &Value) -> Option<Rc<Restart>> {
    if let Some(r) = designator.downcast::<Restart>() {
        return interp.restarts.iter().find(|a| Rc::ptr_eq(a, &r)).cloned();
    }
    let name = designator.as_sym()?;
    interp
        .restarts
        .iter()
        .rev()
        .find(|r| r.name.as_ref().is_some_and(|n| Rc::ptr_eq(n, name)))
        .cloned()
}

fn find(interp: &Interp, designator: &Value, span: Span) -> Result<Rc<Restart>, Flow> {
    match lookup(interp, designator) {
        Some(r) => Ok(r),
        None => fail(
            "control-error",
            format!("no restart {} is active", crate::printer::prin1(designator)),
            span,
        ),
    }
}

fn invoke(
    interp: &mut Interp,
    restart: &Rc<Restart>,
    args: Vec<Value>,
    span: Span,
) -> Result<Value, Flow> {
    if let Some(function) = &restart.function {
        return interp.apply(function, &args, span);
    }
    Err(Flow::Throw {
        tag: Value::Foreign(restart.clone()),
        value: Value::list(args),
    })
}

/// `abort`, `continue`, ...: invoke the innermost restart of that name (with the value for
/// `store-value` and `use-value`); `abort` and `muffle-warning` fail when there is none, the
/// others return nil.
fn standard(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    name: &str,
    required: bool,
) -> Result<Value, Flow> {
    let takes_value = matches!(name, "store-value" | "use-value");
    let sym = interp.symbol(name);
    match lookup(interp, &Value::sym(&sym)) {
        Some(r) => {
            let values = if takes_value {
                args.iter().take(1).cloned().collect()
            } else {
                Vec::new()
            };
            invoke(interp, &r, values, span)
        }
        None if required => fail(
            "control-error",
            format!("no {name} restart is active"),
            span,
        ),
        None => Ok(Value::Nil),
    }
}

/// Runs `body` with restarts pushed, popping them whatever happens.
fn with_restarts<T>(
    interp: &mut Interp,
    restarts: &[Rc<Restart>],
    body: impl FnOnce(&mut Interp) -> Result<T, Flow>,
) -> Result<T, Flow> {
    let depth = interp.restarts.len();
    interp.restarts.extend(restarts.iter().cloned());
    let result = body(interp);
    interp.restarts.truncate(depth);
    result
}

/// Runs `body` with a restart `name` that unwinds back here: `Ok(None)` when it was invoked.
pub(crate) fn with_restart<T>(
    interp: &mut Interp,
    name: &Sym,
    body: impl FnOnce(&mut Interp) -> Result<T, Flow>,
) -> Result<Option<T>, Flow> {
    let restart = Rc::new(Restart {
        name: Some(name.clone()),
        function: None,
        interactive: None,
    });
    match with_restarts(interp, std::slice::from_ref(&restart), body) {
        Ok(v) => Ok(Some(v)),
        Err(Flow::Throw { tag, .. }) if is_tag(&tag, &restart) => Ok(None),
        Err(other) => Err(other),
    }
}

fn is_tag(tag: &Value, restart: &Rc<Restart>) -> bool {
    tag.downcast::<Restart>()
        .is_some_and(|t| Rc::ptr_eq(&t, restart))
}

/// `(%call-with-restarts ((name report interactive function unwind-p)...) thunk)`: runs the
/// thunk with the restarts active. For an unwinding restart (`restart-case`) that is invoked,
/// the thunk is left and `function` is called with the restart's arguments; otherwise
/// (`restart-bind`) `function` is called where the restart is invoked.
fn call_with_restarts(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 2, "restart-case", span)?;
    let mut restarts = Vec::new();
    let mut clauses = Vec::new();
    for spec in args[0].iter() {
        let parts: Vec<Value> = spec.iter().collect();
        let part = |i: usize| parts.get(i).cloned().unwrap_or(Value::Nil);
        let unwinds = part(4).truthy();
        let restart = Rc::new(Restart {
            name: part(0).as_sym().cloned(),
            function: (!unwinds).then(|| part(3)),
            interactive: part(2).truthy().then(|| part(2)),
        });
        clauses.push((restart.clone(), part(3)));
        restarts.push(restart);
    }
    let thunk = args[1].clone();
    match with_restarts(interp, &restarts, |interp| interp.apply(&thunk, &[], span)) {
        Err(Flow::Throw { tag, value }) => match clauses.iter().find(|(r, _)| is_tag(&tag, r)) {
            Some((_, function)) => {
                let args: Vec<Value> = value.iter().collect();
                interp.apply(function, &args, span)
            }
            None => Err(Flow::Throw { tag, value }),
        },
        other => other,
    }
}
