//! Generalized places for `setf`, `push`, `pop`, `incf`, `decf`: a place's subforms are
//! evaluated once into a [`Place`], which is then read and written.

use crate::env::{Env, Namespace};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::special::{arg, args_from};
use crate::value::{Cons, HashTable, LispString, Sym, Value};
use std::cell::RefCell;
use std::rc::Rc;
use whistler_syntax::Span;

pub enum Place {
    Var(Sym, Span),
    Car(Rc<Cons>),
    Cdr(Rc<Cons>),
    Hash(Rc<RefCell<HashTable>>, Value, Value),
    Aref(Rc<RefCell<Vec<Value>>>, usize),
    /// `(char string i)`: a character of a string.
    Char(Rc<LispString>, usize, Span),
    SymbolValue(Sym),
    /// `(getf base indicator default)`.
    Getf(Box<Place>, Value, Value),
    /// `(get symbol indicator)`: the symbol's property list.
    Get(Sym, Value),
    /// A place with a `(setf name)` function: `(name args...)`.
    Call {
        reader: Sym,
        writer: Value,
        args: Vec<Value>,
        span: Span,
    },
}

fn cons_of(v: Value, what: &str, span: Span) -> Result<Rc<Cons>, Flow> {
    match v {
        Value::Cons(c) => Ok(c),
        other => fail(
            "type-error",
            format!(
                "cannot setf the {what} of {}, which is not a cons",
                crate::printer::prin1(&other)
            ),
            span,
        ),
    }
}

/// Evaluates the subforms of a place form.
pub fn resolve(interp: &mut Interp, form: &Value, env: &Rc<Env>) -> Result<Place, Flow> {
    let span = form.span();
    let c = match form {
        Value::Sym(s, span) => return Ok(Place::Var(s.clone(), *span)),
        Value::Cons(c) => c.clone(),
        other => {
            return fail(
                "program-error",
                format!(
                    "{} is not a place that setf can assign",
                    crate::printer::prin1(other)
                ),
                span,
            )
        }
    };
    let Some(head) = c.car().as_sym().cloned() else {
        return fail("program-error", "malformed place", span);
    };
    interp.define_deferred_setf(&head)?;
    let name = head.name.as_str();
    if let Some(path) = cxr_path(name) {
        let mut target = interp.eval(&arg(&c, 0), env)?;
        for step in path[1..].chars().rev() {
            target = if step == 'a' {
                target.car()
            } else {
                target.cdr()
            };
        }
        let cell = cons_of(target, name, span)?;
        return Ok(if path.starts_with('a') {
            Place::Car(cell)
        } else {
            Place::Cdr(cell)
        });
    }
    match name {
        "first" | "second" | "third" | "fourth" | "fifth" | "sixth" | "seventh" | "eighth"
        | "ninth" | "tenth" => {
            let index = ORDINALS.iter().position(|o| *o == name).unwrap_or(0);
            let list = interp.eval(&arg(&c, 0), env)?;
            Ok(Place::Car(cons_of(nthcdr(&list, index), name, span)?))
        }
        "rest" => Ok(Place::Cdr(cons_of(
            interp.eval(&arg(&c, 0), env)?,
            name,
            span,
        )?)),
        "nth" => {
            let n = interp.eval(&arg(&c, 0), env)?;
            let list = interp.eval(&arg(&c, 1), env)?;
            let n = crate::builtins::index(&n, span)?;
            Ok(Place::Car(cons_of(nthcdr(&list, n), name, span)?))
        }
        "gethash" => {
            let key = interp.eval(&arg(&c, 0), env)?;
            let table = interp.eval(&arg(&c, 1), env)?;
            let default = interp.eval(&arg(&c, 2), env)?;
            match table {
                Value::Hash(h) => Ok(Place::Hash(h, key, default)),
                other => fail(
                    "type-error",
                    format!("{} is not a hash table", crate::printer::prin1(&other)),
                    span,
                ),
            }
        }
        "aref" | "svref" | "elt" | "char" | "schar" => {
            let target = interp.eval(&arg(&c, 0), env)?;
            let i = interp.eval(&arg(&c, 1), env)?;
            let i = crate::builtins::index(&i, span)?;
            match target {
                Value::Vector(v) => {
                    if i >= v.borrow().len() {
                        return fail("error", format!("index {i} is out of bounds"), span);
                    }
                    Ok(Place::Aref(v, i))
                }
                Value::Str(text, _) if name != "svref" => {
                    if i >= text.len() {
                        return fail("error", format!("index {i} is out of bounds"), span);
                    }
                    Ok(Place::Char(text, i, span))
                }
                list @ Value::Cons(_) if name == "elt" => {
                    Ok(Place::Car(cons_of(nthcdr(&list, i), name, span)?))
                }
                other => fail(
                    "type-error",
                    format!(
                        "cannot setf an element of {}",
                        crate::printer::prin1(&other)
                    ),
                    span,
                ),
            }
        }
        "getf" => {
            let base = resolve(interp, &arg(&c, 0), env)?;
            let indicator = interp.eval(&arg(&c, 1), env)?;
            let default = interp.eval(&arg(&c, 2), env)?;
            Ok(Place::Getf(Box::new(base), indicator, default))
        }
        "get" => {
            let sym = interp.eval(&arg(&c, 0), env)?;
            let indicator = interp.eval(&arg(&c, 1), env)?;
            match sym.as_sym() {
                Some(s) => Ok(Place::Get(s.clone(), indicator)),
                None => fail("type-error", "get: not a symbol", span),
            }
        }
        "symbol-value" => {
            let sym = interp.eval(&arg(&c, 0), env)?;
            match sym.as_sym() {
                Some(s) => Ok(Place::SymbolValue(s.clone())),
                None => fail("type-error", "symbol-value: not a symbol", span),
            }
        }
        _ if head.setf_function.borrow().is_some() => {
            let writer = head.setf_function.borrow().clone().unwrap_or(Value::Nil);
            let args = interp.eval_args(&args_from(&c, 0), env)?;
            Ok(Place::Call {
                reader: head.clone(),
                writer,
                args,
                span,
            })
        }
        _ if struct_slot(&head).is_some() => {
            let index = struct_slot(&head).unwrap_or(0);
            match interp.eval(&arg(&c, 0), env)? {
                Value::Vector(v) if index < v.borrow().len() => Ok(Place::Aref(v, index)),
                other => fail(
                    "type-error",
                    format!(
                        "{}: {} is not a structure of the right type",
                        head.name,
                        crate::printer::prin1(&other)
                    ),
                    span,
                ),
            }
        }
        _ => match interp.expand_once(form, env)? {
            Some(expanded) => resolve(interp, &expanded, env),
            None => fail(
                "program-error",
                format!("`({} ...)` is not a place that setf can assign", head.name),
                span,
            ),
        },
    }
}

/// The slot index a `defstruct` accessor recorded on its symbol.
fn struct_slot(accessor: &Sym) -> Option<usize> {
    let plist = accessor.plist.borrow().clone();
    let mut rest = plist;
    let mut walked = 0usize;
    while let Value::Cons(c) = rest {
        walked += 1;
        if walked > crate::value::MAX_LIST_WALK {
            break;
        }
        let next = c.cdr();
        if c.car()
            .as_sym()
            .is_some_and(|s| s.name == crate::structs::SLOT_INDEX)
        {
            return next.car().as_i64().map(|n| n as usize);
        }
        rest = next.cdr();
    }
    None
}

const ORDINALS: [&str; 10] = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];

/// `cadr` -> `Some("ad")`: the letters between `c` and `r`.
pub fn cxr_path(name: &str) -> Option<&str> {
    let inner = name.strip_prefix('c')?.strip_suffix('r')?;
    (!inner.is_empty() && inner.len() <= 4 && inner.chars().all(|c| c == 'a' || c == 'd'))
        .then_some(inner)
}

pub fn nthcdr(list: &Value, n: usize) -> Value {
    let mut v = list.clone();
    for _ in 0..n {
        v = v.cdr();
    }
    v
}

fn plist_find(plist: &Value, indicator: &Value) -> Option<Rc<Cons>> {
    crate::builtins::lists::plist_value_cell(plist, indicator)?
        .as_cons()
        .cloned()
}

pub fn get(interp: &mut Interp, place: &Place, env: &Rc<Env>) -> Result<Value, Flow> {
    Ok(match place {
        Place::Var(s, span) => interp.eval(&Value::Sym(s.clone(), *span), env)?,
        Place::Car(c) => c.car(),
        Place::Cdr(c) => c.cdr(),
        Place::Hash(h, key, default) => {
            let h = h.borrow();
            let k = crate::hash::key(h.test, key);
            h.map
                .get(&k)
                .map_or_else(|| default.clone(), |(_, v)| v.clone())
        }
        Place::Aref(v, i) => v.borrow()[*i].clone(),
        Place::Char(text, i, span) => match text.char_at(*i) {
            Some(c) => Value::Char(c, crate::value::NO_SPAN),
            None => return fail("error", format!("index {i} is out of bounds"), *span),
        },
        Place::SymbolValue(s) => s.value.borrow().clone().unwrap_or(Value::Nil),
        Place::Getf(base, indicator, default) => {
            let plist = get(interp, base, env)?;
            plist_find(&plist, indicator).map_or_else(|| default.clone(), |c| c.car())
        }
        Place::Get(s, indicator) => {
            let plist = s.plist.borrow().clone();
            plist_find(&plist, indicator).map_or(Value::Nil, |c| c.car())
        }
        Place::Call {
            reader, args, span, ..
        } => interp.apply(&Value::sym(reader), args, *span)?,
    })
}

pub fn set(interp: &mut Interp, place: &Place, value: Value, env: &Rc<Env>) -> Result<(), Flow> {
    match place {
        Place::Var(s, span) => set_variable(s, value, env, *span)?,
        Place::Car(c) => {
            c.car.replace(value);
        }
        Place::Cdr(c) => {
            c.cdr.replace(value);
        }
        Place::Hash(h, key, _) => {
            let mut h = h.borrow_mut();
            let k = crate::hash::key(h.test, key);
            h.map.insert(k, (key.clone(), value));
        }
        Place::Aref(v, i) => v.borrow_mut()[*i] = value,
        Place::Char(text, i, span) => {
            let Value::Char(c, _) = value else {
                return fail(
                    "type-error",
                    format!(
                        "{} is not a character, so it cannot be stored in a string",
                        crate::printer::prin1(&value)
                    ),
                    *span,
                );
            };
            if !text.set_char(*i, c) {
                return fail("error", format!("index {i} is out of bounds"), *span);
            }
        }
        Place::SymbolValue(s) => {
            let global = interp.global.clone();
            set_variable(s, value, &global, crate::value::NO_SPAN)?;
        }
        Place::Getf(base, indicator, _) => {
            let plist = get(interp, base, env)?;
            match plist_find(&plist, indicator) {
                Some(cell) => {
                    cell.car.replace(value);
                }
                None => {
                    let extended = Value::cons(indicator.clone(), Value::cons(value, plist));
                    set(interp, base, extended, env)?;
                }
            }
        }
        Place::Get(s, indicator) => {
            let plist = s.plist.borrow().clone();
            match plist_find(&plist, indicator) {
                Some(cell) => {
                    cell.car.replace(value);
                }
                None => {
                    s.plist
                        .replace(Value::cons(indicator.clone(), Value::cons(value, plist)));
                }
            }
        }
        Place::Call {
            writer, args, span, ..
        } => {
            let mut all = vec![value];
            all.extend(args.iter().cloned());
            interp.apply(writer, &all, *span)?;
        }
    }
    Ok(())
}

pub fn set_variable(s: &Sym, value: Value, env: &Rc<Env>, span: Span) -> Result<(), Flow> {
    if s.constant.get() {
        return fail(
            "program-error",
            format!("cannot assign to the constant `{}`", s.name),
            span,
        );
    }
    if s.special.get() || !env.set(s, Namespace::Variable, value.clone()) {
        s.value.replace(Some(value));
    }
    Ok(())
}

/// `(setf place value ...)` and `(setq var value ...)`.
pub fn setf(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let mut rest = args_from(c, 0);
    let mut result = Value::Nil;
    let mut walked = 0usize;
    while let Value::Cons(pair) = rest {
        walked += 1;
        if walked > crate::value::MAX_LIST_WALK {
            break;
        }
        let value_form = pair.cdr();
        if value_form.is_nil() {
            return fail(
                "program-error",
                "setf needs an even number of arguments (place value ...)",
                c.span,
            );
        }
        let place = resolve(interp, &pair.car(), env)?;
        result = interp.eval(&value_form.car(), env)?;
        set(interp, &place, result.clone(), env)?;
        rest = value_form.cdr();
    }
    Ok(result)
}

/// `(psetf place value ...)`: all values are computed before any place is assigned.
pub fn psetf(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let mut assignments = Vec::new();
    let mut rest = args_from(c, 0);
    let mut walked = 0usize;
    while let Value::Cons(pair) = rest {
        walked += 1;
        if walked > crate::value::MAX_LIST_WALK {
            break;
        }
        let place = resolve(interp, &pair.car(), env)?;
        let value = interp.eval(&pair.cdr().car(), env)?;
        assignments.push((place, value));
        rest = pair.cdr().cdr();
    }
    for (place, value) in assignments {
        set(interp, &place, value, env)?;
    }
    Ok(Value::Nil)
}

pub fn push(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let item = interp.eval(&arg(c, 0), env)?;
    let place = resolve(interp, &arg(c, 1), env)?;
    let old = get(interp, &place, env)?;
    let new = Value::cons(item, old);
    set(interp, &place, new.clone(), env)?;
    Ok(new)
}

pub fn pushnew(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let item = interp.eval(&arg(c, 0), env)?;
    let place = resolve(interp, &arg(c, 1), env)?;
    let options = interp.eval_args(&args_from(c, 2), env)?;
    let old = get(interp, &place, env)?;
    for existing in old.iter() {
        if crate::builtins::lists::test_matches(interp, &options, &item, &existing, c.span)? {
            return Ok(old);
        }
    }
    let new = Value::cons(item, old);
    set(interp, &place, new.clone(), env)?;
    Ok(new)
}

pub fn pop(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let place = resolve(interp, &arg(c, 0), env)?;
    let old = get(interp, &place, env)?;
    set(interp, &place, old.cdr(), env)?;
    Ok(old.car())
}

pub fn incf(
    interp: &mut Interp,
    c: &Rc<Cons>,
    env: &Rc<Env>,
    decrement: bool,
) -> Result<Value, Flow> {
    let place = resolve(interp, &arg(c, 0), env)?;
    let old = get(interp, &place, env)?;
    let delta = match args_from(c, 1) {
        Value::Nil => Value::int(1),
        rest => interp.eval(&rest.car(), env)?,
    };
    let a = crate::number::number(&old, c.span)?;
    let b = crate::number::number(&delta, c.span)?;
    let op = if decrement {
        crate::number::Op::Sub
    } else {
        crate::number::Op::Add
    };
    let new = crate::number::arith(&a, &b, op, c.span)?.value();
    set(interp, &place, new.clone(), env)?;
    Ok(new)
}

/// `(rotatef place...)`: each place takes the value of the next, the last the first's.
pub fn rotatef(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let (places, mut values) = places_and_values(interp, c, env)?;
    if !values.is_empty() {
        values.rotate_left(1);
    }
    for (place, value) in places.iter().zip(values) {
        set(interp, place, value, env)?;
    }
    Ok(Value::Nil)
}

/// `(shiftf place... new)`: each place takes the value of the next, the last `new`; returns
/// the first place's old value.
pub fn shiftf(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let forms: Vec<Value> = args_from(c, 0).iter().collect();
    let Some((new_form, place_forms)) = forms.split_last() else {
        return fail(
            "program-error",
            "shiftf needs at least a place and a value",
            c.span,
        );
    };
    let mut places = Vec::new();
    let mut values = Vec::new();
    for form in place_forms {
        let place = resolve(interp, form, env)?;
        values.push(get(interp, &place, env)?);
        places.push(place);
    }
    values.push(interp.eval(new_form, env)?);
    let old = values.remove(0);
    for (place, value) in places.iter().zip(values) {
        set(interp, place, value, env)?;
    }
    Ok(old)
}

/// `(%apply-to-place place function args...)`: sets the place to `(function old args...)`
/// with the place's subforms evaluated once (what `define-modify-macro` macros expand into).
pub fn apply_to_place(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let place = resolve(interp, &arg(c, 0), env)?;
    let function = interp.eval(&arg(c, 1), env)?;
    let mut args = vec![get(interp, &place, env)?];
    args.extend(interp.eval_args(&args_from(c, 2), env)?);
    let new = interp.apply(&function, &args, c.span)?;
    set(interp, &place, new.clone(), env)?;
    Ok(new)
}

fn places_and_values(
    interp: &mut Interp,
    c: &Rc<Cons>,
    env: &Rc<Env>,
) -> Result<(Vec<Place>, Vec<Value>), Flow> {
    let mut places = Vec::new();
    let mut values = Vec::new();
    for form in args_from(c, 0).iter() {
        let place = resolve(interp, &form, env)?;
        values.push(get(interp, &place, env)?);
        places.push(place);
    }
    Ok((places, values))
}
