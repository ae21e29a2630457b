//! Backquote: `` `(a ,b ,@c) `` with nesting (`` `(a `(b ,,c)) ``) and dotted unquote
//! (`` `(a . ,b) ``). New list structure gets no span, so a macro's output shows up at its call.

use crate::env::Env;
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::value::{Sym, Value};
use std::rc::Rc;

pub fn eval(interp: &mut Interp, template: &Value, env: &Rc<Env>) -> Result<Value, Flow> {
    expand(interp, template, env, 1)
}

/// Which of the backquote operators heads `v`, with its single argument.
fn operator(interp: &Interp, v: &Value) -> Option<(Op, Value)> {
    let Value::Cons(c) = v else { return None };
    let head = c.car();
    let sym = head.as_sym()?;
    let rest = c.cdr();
    if !rest.cdr().is_nil() || rest.is_nil() {
        return None;
    }
    let k = &interp.known;
    let op = if Rc::ptr_eq(sym, &k.unquote) {
        Op::Unquote
    } else if Rc::ptr_eq(sym, &k.unquote_splicing) {
        Op::Splice
    } else if Rc::ptr_eq(sym, &k.quasiquote) {
        Op::Quasiquote
    } else {
        return None;
    };
    Some((op, rest.car()))
}

#[derive(PartialEq, Clone, Copy)]
enum Op {
    Unquote,
    Splice,
    Quasiquote,
}

fn wrap(sym: &Sym, inner: Value) -> Value {
    Value::list([Value::sym(sym), inner])
}

fn expand(interp: &mut Interp, x: &Value, env: &Rc<Env>, depth: usize) -> Result<Value, Flow> {
    crate::stack::guard(|| expand_unguarded(interp, x, env, depth))
}

fn expand_unguarded(
    interp: &mut Interp,
    x: &Value,
    env: &Rc<Env>,
    depth: usize,
) -> Result<Value, Flow> {
    match operator(interp, x) {
        Some((Op::Unquote, e)) if depth == 1 => return interp.eval(&e, env),
        Some((Op::Splice, _)) if depth == 1 => {
            return fail("error", "`,@` is only allowed inside a list", x.span());
        }
        Some((op, e)) => {
            let next = if op == Op::Quasiquote {
                depth + 1
            } else {
                depth - 1
            };
            let inner = expand(interp, &e, env, next)?;
            let k = &interp.known;
            let sym = match op {
                Op::Unquote => k.unquote.clone(),
                Op::Splice => k.unquote_splicing.clone(),
                Op::Quasiquote => k.quasiquote.clone(),
            };
            return Ok(wrap(&sym, inner));
        }
        None => {}
    }
    let Value::Cons(_) = x else {
        return Ok(x.clone());
    };
    let mut items = Vec::new();
    let mut rest = x.clone();
    let tail = loop {
        if items.len() >= crate::value::MAX_LIST_WALK {
            return fail("error", "backquote template is a circular list", x.span());
        }
        match &rest {
            Value::Cons(c) => {
                if operator(interp, &rest).is_some_and(|(op, _)| op == Op::Unquote) {
                    // `(a . ,b)` reads as `(a unquote b)`.
                    break expand(interp, &rest, env, depth)?;
                }
                let item = c.car();
                match operator(interp, &item) {
                    Some((Op::Splice, e)) if depth == 1 => {
                        let spliced = interp.eval(&e, env)?;
                        items.extend(spliced.iter());
                    }
                    _ => items.push(expand(interp, &item, env, depth)?),
                }
                let next = c.cdr();
                rest = next;
            }
            Value::Nil => break Value::Nil,
            atom => break atom.clone(),
        }
    };
    Ok(Value::list_with_tail(items, tail))
}
