//! Built-in functions, grouped by what they work on, plus the argument helpers they share.

mod environment;
mod files;
mod input;
pub mod lists;
mod math;
mod misc;
mod numbers;
mod pathnames;
mod printing;
mod sequences;
mod strings;
mod time;

use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::value::{Sym, Value};
use std::rc::Rc;
use whistler_syntax::Span;

pub fn install(interp: &mut Interp) {
    numbers::install(interp);
    lists::install(interp);
    sequences::install(interp);
    strings::install(interp);
    misc::install(interp);
    math::install(interp);
    input::install(interp);
    files::install(interp);
    time::install(interp);
    environment::install(interp);
    printing::install(interp);
}

pub use crate::streams::StringStream;
pub(crate) use printing::print_styled;

/// The most elements one list, string or vector built by a builtin may have.
pub const MAX_ELEMENTS: usize = 4_000_000;

/// Fails with a `storage-condition` when `n` elements would be too many.
pub fn check_size(n: usize, span: Span) -> Result<(), Flow> {
    if n > MAX_ELEMENTS {
        return fail(
            "storage-condition",
            format!("a sequence of {n} elements is larger than the limit of {MAX_ELEMENTS}"),
            span,
        );
    }
    Ok(())
}

/// Checks the argument count.
pub fn arity(args: &[Value], min: usize, max: usize, name: &str, span: Span) -> Result<(), Flow> {
    if args.len() < min || args.len() > max {
        let expected = match (min, max) {
            (a, b) if a == b => format!("{a}"),
            (a, usize::MAX) => format!("at least {a}"),
            (a, b) => format!("{a} to {b}"),
        };
        return fail(
            "program-error",
            format!(
                "{name}: expected {expected} argument{}, got {}",
                if max == 1 { "" } else { "s" },
                args.len()
            ),
            span,
        );
    }
    Ok(())
}

/// A non-negative index argument.
pub fn index(v: &Value, span: Span) -> Result<usize, Flow> {
    match v {
        Value::Int(n, _) if *n >= 0 => Ok(*n as usize),
        other => fail(
            "type-error",
            format!("{} is not a valid index", crate::printer::prin1(other)),
            span,
        ),
    }
}

pub fn int(v: &Value, span: Span) -> Result<i64, Flow> {
    match v {
        Value::Int(n, _) => Ok(*n),
        other => fail(
            "type-error",
            format!("{} is not a (64-bit) integer", crate::printer::prin1(other)),
            span,
        ),
    }
}

/// A string designator: strings, symbols (their name) and characters.
pub fn string_designator(v: &Value, span: Span) -> Result<String, Flow> {
    match v {
        Value::Str(s, _) => Ok(s.to_string()),
        Value::Sym(s, _) => Ok(s.lisp_name()),
        Value::Nil => Ok("NIL".into()),
        Value::Char(c, _) => Ok(c.to_string()),
        other => fail(
            "type-error",
            format!(
                "{} is not a string designator",
                crate::printer::prin1(other)
            ),
            span,
        ),
    }
}

pub fn symbol(v: &Value, interp: &Interp, span: Span) -> Result<Sym, Flow> {
    match v {
        Value::Sym(s, _) => Ok(s.clone()),
        Value::Nil => Ok(interp.known.nil.clone()),
        other => fail(
            "type-error",
            format!("{} is not a symbol", crate::printer::prin1(other)),
            span,
        ),
    }
}

/// Looks up `:name` in keyword arguments (`name` without the colon): `(f x :timeout-ms 10)`.
pub fn keyword<'a>(args: &'a [Value], name: &str) -> Option<&'a Value> {
    args.chunks(2)
        .find(|p| {
            p[0].as_sym()
                .is_some_and(|s| s.is_keyword() && s.name == name)
        })
        .and_then(|p| p.get(1))
}

/// `(typep value type)` for the type specifiers macros use.
pub fn typep(interp: &Interp, v: &Value, ty: &Value) -> bool {
    crate::stack::guard(|| typep_unguarded(interp, v, ty))
}

fn typep_unguarded(interp: &Interp, v: &Value, ty: &Value) -> bool {
    let name = match ty {
        Value::Sym(s, _) => s.name.as_str(),
        Value::Nil => return false,
        Value::Cons(_) => {
            let head = ty.car();
            let args: Vec<Value> = ty.cdr().iter().collect();
            return match head.as_sym().map(|s| s.name.as_str()) {
                Some("or") => args.iter().any(|t| typep(interp, v, t)),
                Some("and") => args.iter().all(|t| typep(interp, v, t)),
                Some("not") => !args.first().is_some_and(|t| typep(interp, v, t)),
                Some("member") => args.iter().any(|a| crate::hash::eql(a, v)),
                Some("eql") => args.first().is_some_and(|a| crate::hash::eql(a, v)),
                Some("integer") => integer_in_range(v, &args),
                Some(other) => type_name_matches(interp, v, other),
                None => false,
            };
        }
        _ => return false,
    };
    type_name_matches(interp, v, name)
}

fn integer_in_range(v: &Value, args: &[Value]) -> bool {
    let Value::Int(n, _) = v else {
        return matches!(v, Value::Big(_)) && args.is_empty();
    };
    let low = args.first().and_then(Value::as_i64).unwrap_or(i64::MIN);
    let high = args.get(1).and_then(Value::as_i64).unwrap_or(i64::MAX);
    *n >= low && *n <= high
}

fn type_name_matches(interp: &Interp, v: &Value, name: &str) -> bool {
    match (name, v) {
        ("t", _) => true,
        ("null", Value::Nil) => true,
        ("list", Value::Nil | Value::Cons(_)) => true,
        ("cons", Value::Cons(_)) => true,
        ("atom", v) => !matches!(v, Value::Cons(_)),
        ("symbol", Value::Nil | Value::Sym(..)) => true,
        ("keyword", Value::Sym(s, _)) => s.is_keyword(),
        ("boolean", Value::Nil) => true,
        ("boolean", Value::Sym(s, _)) => Rc::ptr_eq(s, &interp.known.t),
        ("integer" | "number" | "rational" | "real", Value::Int(..) | Value::Big(_)) => true,
        ("ratio" | "number" | "rational" | "real", Value::Ratio(_)) => true,
        ("fixnum", Value::Int(..)) => true,
        ("float" | "double-float" | "single-float" | "number" | "real", Value::Float(_)) => true,
        ("bignum", Value::Big(_)) => true,
        ("string" | "simple-string", Value::Str(..)) => true,
        ("character" | "base-char" | "standard-char", Value::Char(..)) => true,
        ("vector" | "array" | "simple-vector" | "sequence", Value::Vector(_)) => true,
        ("vector" | "array" | "sequence", Value::Str(..)) => true,
        ("sequence", Value::Nil | Value::Cons(_)) => true,
        ("hash-table", Value::Hash(_)) => true,
        ("function", Value::Func(_)) => true,
        (ty, Value::Condition(c)) => crate::conditions::is_subtype(interp, &c.ctype.name, ty),
        _ => false,
    }
}

pub fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Nil => "null",
        Value::Int(..) => "fixnum",
        Value::Big(_) => "bignum",
        Value::Ratio(_) => "ratio",
        Value::Float(_) => "double-float",
        Value::Sym(s, _) if s.is_keyword() => "keyword",
        Value::Sym(..) => "symbol",
        Value::Str(..) => "string",
        Value::Char(..) => "character",
        Value::Cons(_) => "cons",
        Value::Vector(_) => "vector",
        Value::Hash(_) => "hash-table",
        Value::Func(_) => "function",
        Value::Condition(_) => "condition",
        Value::Foreign(_) => "foreign-object",
    }
}
