//! `loop`: the simple form `(loop body...)` and the common extended clauses: `named`, `with`,
//! `repeat`, `for`/`as` (`in`, `on`, `across`, `=`/`then`, `from`/`upfrom`/`downfrom` with
//! `to`/`upto`/`below`/`downto`/`above` and `by`, `being the hash-keys/hash-values of`),
//! `while`, `until`, `do`, `collect`, `append`, `nconc`, `sum`, `count`, `maximize`,
//! `minimize` (each optionally `into` a variable), `when`/`if`/`unless` with `and`/`else`/`end`,
//! `return`, `always`, `never`, `thereis`, `initially`, `finally`.
//!
//! Iteration clauses step at the top of every iteration, in order; the rest run in order.

use crate::env::{Env, Namespace};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::number::{self, Num};
use crate::special::args_from;
use crate::value::{Cons, Sym, Value};
use std::rc::Rc;
use whistler_syntax::Span;

mod parse;

enum Iter {
    Repeat(Value),
    In {
        var: Value,
        list: Value,
        by: Option<Value>,
        on: bool,
    },
    Across {
        var: Value,
        vector: Value,
    },
    Equals {
        var: Value,
        init: Value,
        then: Option<Value>,
    },
    Range {
        var: Sym,
        from: Value,
        limit: Option<(Value, Limit)>,
        by: Option<Value>,
        down: bool,
    },
    Hash {
        var: Value,
        table: Value,
        values: bool,
        other: Option<Value>,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum Limit {
    Inclusive,
    Exclusive,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum AccKind {
    Collect,
    Append,
    Sum,
    Count,
    Maximize,
    Minimize,
}

enum Clause {
    Do(Vec<Value>),
    Accumulate {
        kind: AccKind,
        form: Value,
        into: Option<Sym>,
    },
    While(Value, bool),
    Return(Value),
    Always(Value, bool),
    Thereis(Value),
    Cond {
        test: Value,
        negate: bool,
        then: Vec<Clause>,
        otherwise: Vec<Clause>,
    },
}

#[derive(Default)]
struct Spec {
    name: Option<Sym>,
    withs: Vec<(Value, Value)>,
    iters: Vec<Iter>,
    body: Vec<Clause>,
    initially: Vec<Value>,
    finally: Vec<Value>,
}

pub fn eval(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let items: Vec<Value> = args_from(c, 0).iter().collect();
    let nil = interp.known.nil.clone();
    if items.iter().all(|v| matches!(v, Value::Cons(_))) {
        let body = args_from(c, 0);
        return interp.with_block(&nil, env, |interp, env| loop {
            interp.tick(c.span)?;
            interp.progn(&body, env)?;
        });
    }
    let mut tokens = parse::Tokens {
        items,
        pos: 0,
        span: c.span,
    };
    let spec = parse::parse(&mut tokens)?;
    let name = spec.name.clone().unwrap_or(nil);
    interp.with_block(&name, env, |interp, env| run(interp, &spec, env, c.span))
}

/// One running accumulator.
enum Acc {
    List { head: Value, last: Option<Rc<Cons>> },
    Number(Option<Num>),
}

/// Per-iteration state of an iteration clause.
enum State {
    Count(i64),
    List(Value),
    Index(Rc<std::cell::RefCell<Vec<Value>>>, usize),
    Entries(Vec<(Value, Value)>, usize),
    Number {
        next: Num,
        step: Num,
        limit: Option<(Num, Limit)>,
    },
    First,
}

struct Run<'a> {
    spec: &'a Spec,
    env: Rc<Env>,
    span: Span,
    default_acc: Option<Acc>,
    named: Vec<(Sym, Acc)>,
}

fn run(interp: &mut Interp, spec: &Spec, env: &Rc<Env>, span: Span) -> Result<Value, Flow> {
    let inner = Env::child(env);
    for (var, init) in &spec.withs {
        let value = interp.eval(init, &inner)?;
        destructure(&inner, var, value, true);
    }
    let mut states = Vec::new();
    for iter in &spec.iters {
        states.push(start(interp, iter, &inner, span)?);
    }
    let mut r = Run {
        spec,
        env: inner,
        span,
        default_acc: None,
        named: Vec::new(),
    };
    for form in &spec.initially {
        interp.eval(form, &r.env)?;
    }
    loop {
        interp.tick(span)?;
        if !step(interp, spec, &mut states, &r.env, span)? {
            break;
        }
        match r.clauses(interp, &spec.body)? {
            Next::Continue => {}
            Next::Stop => break,
            Next::Return(v) => return Ok(v),
        }
    }
    for form in &spec.finally {
        interp.eval(form, &r.env)?;
    }
    Ok(r.result(interp))
}

fn destructure(env: &Rc<Env>, pattern: &Value, value: Value, fresh: bool) {
    crate::stack::guard(|| destructure_unguarded(env, pattern, value, fresh))
}

fn destructure_unguarded(env: &Rc<Env>, pattern: &Value, value: Value, fresh: bool) {
    match pattern {
        Value::Sym(s, _) if (fresh || !env.set(s, Namespace::Variable, value.clone())) => {
            env.bind(s, Namespace::Variable, value);
        }
        Value::Cons(c) => {
            destructure(env, &c.car(), value.car(), fresh);
            destructure(env, &c.cdr(), value.cdr(), fresh);
        }
        _ => {}
    }
}

fn start(interp: &mut Interp, iter: &Iter, env: &Rc<Env>, span: Span) -> Result<State, Flow> {
    Ok(match iter {
        Iter::Repeat(n) => {
            let n = interp.eval(n, env)?;
            State::Count(n.as_i64().unwrap_or(0))
        }
        Iter::In { var, list, .. } => {
            destructure(env, var, Value::Nil, true);
            State::List(interp.eval(list, env)?)
        }
        Iter::Across { var, vector } => {
            destructure(env, var, Value::Nil, true);
            match interp.eval(vector, env)? {
                Value::Vector(v) => State::Index(v, 0),
                Value::Str(s, _) => {
                    let chars = s
                        .text()
                        .chars()
                        .map(|c| Value::Char(c, crate::value::NO_SPAN))
                        .collect();
                    State::Index(Rc::new(std::cell::RefCell::new(chars)), 0)
                }
                list => State::Index(Rc::new(std::cell::RefCell::new(list.iter().collect())), 0),
            }
        }
        Iter::Equals { var, .. } => {
            destructure(env, var, Value::Nil, true);
            State::First
        }
        Iter::Range {
            var,
            from,
            limit,
            by,
            down,
        } => {
            env.bind(var, Namespace::Variable, Value::Nil);
            let next = number::num(&interp.eval(from, env)?, span)?;
            let limit = match limit {
                Some((form, kind)) => Some((number::num(&interp.eval(form, env)?, span)?, *kind)),
                None => None,
            };
            let mut step = match by {
                Some(form) => number::num(&interp.eval(form, env)?, span)?,
                None => Num::Small(1),
            };
            if *down {
                step = number::neg(&step);
            }
            State::Number { next, step, limit }
        }
        Iter::Hash {
            var, table, other, ..
        } => {
            destructure(env, var, Value::Nil, true);
            if let Some(o) = other {
                destructure(env, o, Value::Nil, true);
            }
            match interp.eval(table, env)? {
                Value::Hash(h) => State::Entries(h.borrow().map.values().cloned().collect(), 0),
                other => {
                    return fail(
                        "type-error",
                        format!(
                            "loop: {} is not a hash table",
                            crate::printer::prin1(&other)
                        ),
                        span,
                    )
                }
            }
        }
    })
}

/// Advances every iteration clause; false when one of them is exhausted.
fn step(
    interp: &mut Interp,
    spec: &Spec,
    states: &mut [State],
    env: &Rc<Env>,
    span: Span,
) -> Result<bool, Flow> {
    for (iter, state) in spec.iters.iter().zip(states.iter_mut()) {
        if !step_one(interp, iter, state, env, span)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn step_one(
    interp: &mut Interp,
    iter: &Iter,
    state: &mut State,
    env: &Rc<Env>,
    span: Span,
) -> Result<bool, Flow> {
    match (iter, state) {
        (Iter::Repeat(_), State::Count(n)) => {
            *n -= 1;
            Ok(*n >= 0)
        }
        (Iter::In { var, by, on, .. }, State::List(list)) => {
            if !matches!(list, Value::Cons(_)) {
                return Ok(false);
            }
            destructure(env, var, if *on { list.clone() } else { list.car() }, false);
            *list = match by {
                Some(f) => {
                    let f = interp.eval(f, env)?;
                    interp.apply(&f, std::slice::from_ref(list), span)?
                }
                None => list.cdr(),
            };
            Ok(true)
        }
        (Iter::Across { var, .. }, State::Index(items, i)) => {
            let item = items.borrow().get(*i).cloned();
            let Some(item) = item else { return Ok(false) };
            *i += 1;
            destructure(env, var, item, false);
            Ok(true)
        }
        (Iter::Equals { var, init, then }, state) => {
            let form = match (&state, then) {
                (State::First, _) | (_, None) => init,
                (_, Some(then)) => then,
            };
            let value = interp.eval(form, env)?;
            *state = State::Count(0);
            destructure(env, var, value, false);
            Ok(true)
        }
        (Iter::Range { var, .. }, State::Number { next, step, limit }) => {
            if let Some((bound, kind)) = limit {
                let ord = number::compare(next, bound);
                let down = number::compare(step, &Num::Small(0)).is_lt();
                let past = match (down, *kind) {
                    (false, Limit::Inclusive) => ord.is_gt(),
                    (false, Limit::Exclusive) => ord.is_ge(),
                    (true, Limit::Inclusive) => ord.is_lt(),
                    (true, Limit::Exclusive) => ord.is_le(),
                };
                if past {
                    return Ok(false);
                }
            }
            env.set(var, Namespace::Variable, next.clone().value());
            *next = number::add(next, step);
            Ok(true)
        }
        (
            Iter::Hash {
                var, values, other, ..
            },
            State::Entries(entries, i),
        ) => {
            let Some((k, v)) = entries.get(*i).cloned() else {
                return Ok(false);
            };
            *i += 1;
            let (main, second) = if *values { (v, k) } else { (k, v) };
            destructure(env, var, main, false);
            if let Some(o) = other {
                destructure(env, o, second, false);
            }
            Ok(true)
        }
        _ => fail("error", "loop: internal iteration state mismatch", span),
    }
}

enum Next {
    Continue,
    Stop,
    Return(Value),
}

impl Run<'_> {
    fn clauses(&mut self, interp: &mut Interp, clauses: &[Clause]) -> Result<Next, Flow> {
        for clause in clauses {
            match self.clause(interp, clause)? {
                Next::Continue => {}
                other => return Ok(other),
            }
        }
        Ok(Next::Continue)
    }

    fn clause(&mut self, interp: &mut Interp, clause: &Clause) -> Result<Next, Flow> {
        let env = self.env.clone();
        match clause {
            Clause::Do(forms) => {
                for f in forms {
                    interp.eval(f, &env)?;
                }
            }
            Clause::Accumulate { kind, form, into } => {
                let value = interp.eval(form, &env)?;
                self.accumulate(interp, *kind, value, into.as_ref())?;
            }
            Clause::While(test, keep_going) => {
                if interp.eval(test, &env)?.truthy() != *keep_going {
                    return Ok(Next::Stop);
                }
            }
            Clause::Return(form) => return Ok(Next::Return(interp.eval(form, &env)?)),
            Clause::Always(test, expected) => {
                if interp.eval(test, &env)?.truthy() != *expected {
                    return Ok(Next::Return(Value::Nil));
                }
                self.default_acc.get_or_insert(Acc::Number(None));
            }
            Clause::Thereis(test) => {
                let v = interp.eval(test, &env)?;
                if v.truthy() {
                    return Ok(Next::Return(v));
                }
            }
            Clause::Cond {
                test,
                negate,
                then,
                otherwise,
            } => {
                let hit = interp.eval(test, &env)?.truthy() != *negate;
                return self.clauses(interp, if hit { then } else { otherwise });
            }
        }
        Ok(Next::Continue)
    }

    fn accumulate(
        &mut self,
        interp: &mut Interp,
        kind: AccKind,
        value: Value,
        into: Option<&Sym>,
    ) -> Result<(), Flow> {
        let span = self.span;
        let acc = match into {
            Some(sym) => {
                if !self.named.iter().any(|(s, _)| Rc::ptr_eq(s, sym)) {
                    self.env.bind(sym, Namespace::Variable, Value::Nil);
                    self.named.push((sym.clone(), new_acc(kind)));
                }
                let index = self
                    .named
                    .iter()
                    .position(|(s, _)| Rc::ptr_eq(s, sym))
                    .unwrap_or(0);
                &mut self.named[index].1
            }
            None => self.default_acc.get_or_insert_with(|| new_acc(kind)),
        };
        add(acc, kind, value, span)?;
        if let Some(sym) = into {
            let current = acc_value(acc, kind);
            self.env.set(sym, Namespace::Variable, current);
        }
        let _ = interp;
        Ok(())
    }

    fn result(&mut self, interp: &Interp) -> Value {
        let has_always = self
            .spec
            .body
            .iter()
            .any(|c| matches!(c, Clause::Always(..)));
        match &self.default_acc {
            Some(Acc::List { head, .. }) => head.clone(),
            Some(Acc::Number(Some(n))) => n.clone().value(),
            Some(Acc::Number(None)) if has_always => interp.t(),
            Some(Acc::Number(None)) => match self.default_kind() {
                Some(AccKind::Sum | AccKind::Count) => Value::int(0),
                _ => Value::Nil,
            },
            None if has_always => interp.t(),
            None => match self.default_kind() {
                Some(AccKind::Sum | AccKind::Count) => Value::int(0),
                _ => Value::Nil,
            },
        }
    }

    fn default_kind(&self) -> Option<AccKind> {
        fn find(clauses: &[Clause]) -> Option<AccKind> {
            clauses.iter().find_map(|c| match c {
                Clause::Accumulate {
                    kind, into: None, ..
                } => Some(*kind),
                Clause::Cond {
                    then, otherwise, ..
                } => find(then).or_else(|| find(otherwise)),
                _ => None,
            })
        }
        find(&self.spec.body)
    }
}

fn new_acc(kind: AccKind) -> Acc {
    match kind {
        AccKind::Collect | AccKind::Append => Acc::List {
            head: Value::Nil,
            last: None,
        },
        _ => Acc::Number(None),
    }
}

fn acc_value(acc: &Acc, kind: AccKind) -> Value {
    match acc {
        Acc::List { head, .. } => head.clone(),
        Acc::Number(Some(n)) => n.clone().value(),
        Acc::Number(None) if matches!(kind, AccKind::Sum | AccKind::Count) => Value::int(0),
        Acc::Number(None) => Value::Nil,
    }
}

fn add(acc: &mut Acc, kind: AccKind, value: Value, span: Span) -> Result<(), Flow> {
    match (acc, kind) {
        (Acc::List { head, last }, AccKind::Collect) => append_cell(head, last, value),
        (Acc::List { head, last }, AccKind::Append) => {
            for item in value.iter() {
                append_cell(head, last, item);
            }
        }
        (Acc::Number(n), AccKind::Count) => {
            if value.truthy() {
                *n = Some(number::add(
                    n.as_ref().unwrap_or(&Num::Small(0)),
                    &Num::Small(1),
                ));
            } else if n.is_none() {
                *n = Some(Num::Small(0));
            }
        }
        (Acc::Number(n), kind) => {
            let v = number::num(&value, span)?;
            *n = Some(match (n.take(), kind) {
                (None, _) => v,
                (Some(old), AccKind::Sum) => number::add(&old, &v),
                (Some(old), AccKind::Maximize) => {
                    if number::compare(&v, &old).is_gt() {
                        v
                    } else {
                        old
                    }
                }
                (Some(old), _) => {
                    if number::compare(&v, &old).is_lt() {
                        v
                    } else {
                        old
                    }
                }
            });
        }
        (Acc::List { .. }, other) => {
            return fail(
                "program-error",
                format!("loop: cannot mix {other:?} with collect in one accumulator"),
                span,
            )
        }
    }
    Ok(())
}

fn append_cell(head: &mut Value, last: &mut Option<Rc<Cons>>, value: Value) {
    let cell = Value::cons(value, Value::Nil);
    let rc = cell.as_cons().cloned();
    match last {
        Some(l) => {
            l.cdr.replace(cell);
        }
        None => *head = cell,
    }
    *last = rc;
}
