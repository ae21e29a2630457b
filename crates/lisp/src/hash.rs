//! Equality (`eq`, `eql`, `equal`, `equalp`) and the keys hash tables use for each test.

use crate::value::{HashTest, Value};
use num_bigint::BigInt;
use std::rc::Rc;

/// A hash-table key: values that are equal under the table's test map to equal keys.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum HashKey {
    Nil,
    Int(i64),
    Big(BigInt),
    Char(char),
    Float(u64),
    Str(String),
    /// Identity of a heap object (symbols, conses, vectors, functions, ...).
    Ptr(usize),
    /// Printed structure, for `equal` keys that are lists.
    Structural(String),
}

/// Identity of a heap value, for `eq`.
pub fn identity(v: &Value) -> Option<usize> {
    Some(match v {
        Value::Sym(s, _) => Rc::as_ptr(s) as usize,
        Value::Str(s, _) => Rc::as_ptr(s) as *const u8 as usize,
        Value::Cons(c) => Rc::as_ptr(c) as usize,
        Value::Vector(v) => Rc::as_ptr(v) as usize,
        Value::Hash(h) => Rc::as_ptr(h) as usize,
        Value::Func(f) => Rc::as_ptr(f) as usize,
        Value::Condition(c) => Rc::as_ptr(c) as usize,
        Value::Foreign(f) => Rc::as_ptr(f) as *const () as usize,
        Value::Big(b) => Rc::as_ptr(b) as usize,
        Value::Ratio(r) => Rc::as_ptr(r) as usize,
        Value::Nil | Value::Int(..) | Value::Char(..) | Value::Float(_) => return None,
    })
}

pub fn key(test: HashTest, v: &Value) -> HashKey {
    match (test, v) {
        (_, Value::Nil) => HashKey::Nil,
        (_, Value::Int(n, _)) => HashKey::Int(*n),
        (_, Value::Float(x)) => HashKey::Float(x.to_bits()),
        (HashTest::Eq, Value::Big(_)) => HashKey::Ptr(identity(v).unwrap_or(0)),
        (_, Value::Big(b)) => HashKey::Big((**b).clone()),
        (HashTest::Eq, Value::Ratio(_)) => HashKey::Ptr(identity(v).unwrap_or(0)),
        (_, Value::Ratio(r)) => HashKey::Structural(r.to_string()),
        (HashTest::Equalp, Value::Char(c, _)) => HashKey::Char(c.to_ascii_lowercase()),
        (_, Value::Char(c, _)) => HashKey::Char(*c),
        (HashTest::Equal, Value::Str(s, _)) => HashKey::Str(s.to_string()),
        (HashTest::Equalp, Value::Str(s, _)) => HashKey::Str(s.text().to_lowercase()),
        (HashTest::Equal | HashTest::Equalp, Value::Cons(_)) => {
            let printed = crate::printer::prin1(v);
            HashKey::Structural(if test == HashTest::Equalp {
                printed.to_lowercase()
            } else {
                printed
            })
        }
        _ => HashKey::Ptr(identity(v).unwrap_or(0)),
    }
}

pub fn eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Int(x, _), Value::Int(y, _)) => x == y,
        (Value::Char(x, _), Value::Char(y, _)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        _ => matches!((identity(a), identity(b)), (Some(x), Some(y)) if x == y),
    }
}

pub fn eql(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Big(x), Value::Big(y)) => x == y,
        (Value::Ratio(x), Value::Ratio(y)) => x == y,
        _ => eq(a, b),
    }
}

/// Structural equality; `fold` compares strings and characters case-insensitively and vectors
/// element by element (`equalp`).
fn structural(a: &Value, b: &Value, fold: bool, depth: usize) -> bool {
    crate::stack::guard(|| structural_unguarded(a, b, fold, depth))
}

fn structural_unguarded(a: &Value, b: &Value, fold: bool, depth: usize) -> bool {
    if depth > 10_000 {
        return false;
    }
    let (mut a, mut b) = (a.clone(), b.clone());
    for _ in 0..crate::value::MAX_LIST_WALK {
        match (&a, &b) {
            (Value::Cons(x), Value::Cons(y)) => {
                if Rc::ptr_eq(x, y) {
                    return true;
                }
                if !structural(&x.car(), &y.car(), fold, depth + 1) {
                    return false;
                }
                let (next_a, next_b) = (x.cdr(), y.cdr());
                a = next_a;
                b = next_b;
            }
            (Value::Str(x, _), Value::Str(y, _)) if fold => {
                return x.text().to_lowercase() == y.text().to_lowercase()
            }
            (Value::Str(x, _), Value::Str(y, _)) => {
                return Rc::ptr_eq(x, y) || x.text() == y.text()
            }
            (Value::Char(x, _), Value::Char(y, _)) if fold => {
                return x.to_lowercase().eq(y.to_lowercase())
            }
            (Value::Vector(x), Value::Vector(y)) if fold => {
                let (x, y) = (x.borrow(), y.borrow());
                return x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|(p, q)| structural(p, q, fold, depth + 1));
            }
            _ => return eql(&a, &b),
        }
    }
    false
}

pub fn equal(a: &Value, b: &Value) -> bool {
    structural(a, b, false, 0)
}

pub fn equalp(a: &Value, b: &Value) -> bool {
    structural(a, b, true, 0)
}
