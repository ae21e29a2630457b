//! `dolist`, `dotimes`, `do` and `do*`: each runs in an implicit `nil` block and checks the step
//! limit and the interrupt flag on every iteration.

use crate::env::{Env, Namespace};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::special::{arg, args_from, binding_parts};
use crate::value::{Cons, Value};
use std::rc::Rc;

/// `(dolist (var list [result]) body...)`.
pub fn dolist(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let spec = arg(c, 0);
    let Some(var) = spec.car().as_sym().cloned() else {
        return fail(
            "program-error",
            "dolist: expected (variable list [result])",
            c.span,
        );
    };
    let list = interp.eval(&spec.cdr().car(), env)?;
    let result_form = spec.cdr().cdr().car();
    let body = args_from(c, 1);
    let nil = interp.known.nil.clone();
    interp.with_block(&nil, env, |interp, env| {
        let inner = Env::child(env);
        inner.bind(&var, Namespace::Variable, Value::Nil);
        for item in list.iter() {
            interp.tick(c.span)?;
            inner.set(&var, Namespace::Variable, item);
            interp.progn(&body, &inner)?;
        }
        inner.set(&var, Namespace::Variable, Value::Nil);
        interp.eval(&result_form, &inner)
    })
}

/// `(dotimes (var count [result]) body...)`.
pub fn dotimes(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let spec = arg(c, 0);
    let Some(var) = spec.car().as_sym().cloned() else {
        return fail(
            "program-error",
            "dotimes: expected (variable count [result])",
            c.span,
        );
    };
    let count = interp.eval(&spec.cdr().car(), env)?;
    let Some(count) = count.as_i64() else {
        return fail(
            "type-error",
            format!(
                "dotimes: the count {} is not an integer",
                crate::printer::prin1(&count)
            ),
            c.span,
        );
    };
    let result_form = spec.cdr().cdr().car();
    let body = args_from(c, 1);
    let nil = interp.known.nil.clone();
    interp.with_block(&nil, env, |interp, env| {
        let inner = Env::child(env);
        inner.bind(&var, Namespace::Variable, Value::int(0));
        for i in 0..count.max(0) {
            interp.tick(c.span)?;
            inner.set(&var, Namespace::Variable, Value::int(i));
            interp.progn(&body, &inner)?;
        }
        inner.set(&var, Namespace::Variable, Value::int(count.max(0)));
        interp.eval(&result_form, &inner)
    })
}

/// `(do ((var init step)...) (end-test result...) body...)`; `do*` binds and steps in sequence.
pub fn do_loop(
    interp: &mut Interp,
    c: &Rc<Cons>,
    env: &Rc<Env>,
    sequential: bool,
) -> Result<Value, Flow> {
    let specs: Vec<Value> = arg(c, 0).iter().collect();
    let end = arg(c, 1);
    let body = args_from(c, 2);
    let nil = interp.known.nil.clone();
    interp.with_block(&nil, env, |interp, env| {
        let inner = Env::child(env);
        let mut steps = Vec::new();
        for spec in &specs {
            let (var, init) = binding_parts(spec, c.span)?;
            let value = interp.eval(&init, if sequential { &inner } else { env })?;
            inner.bind(&var, Namespace::Variable, value);
            if let Value::Cons(_) = spec.cdr().cdr() {
                steps.push((var, spec.cdr().cdr().car()));
            }
        }
        loop {
            interp.tick(c.span)?;
            if interp.eval(&end.car(), &inner)?.truthy() {
                return interp.progn(&end.cdr(), &inner);
            }
            interp.progn(&body, &inner)?;
            let mut pending = Vec::new();
            for (var, step) in &steps {
                let value = interp.eval(step, &inner)?;
                if sequential {
                    inner.set(var, Namespace::Variable, value);
                } else {
                    pending.push((var, value));
                }
            }
            for (var, value) in pending {
                inner.set(var, Namespace::Variable, value);
            }
        }
    })
}
