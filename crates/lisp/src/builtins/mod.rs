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
use crate::value::{BuiltinFn, Sym, Value};
use std::rc::Rc;
use whistler_syntax::Span;

/// Defines the builtins that need more than a name and a function (computed names, variables,
/// constants); the others wait in [`BUILTINS`].
pub fn install(interp: &mut Interp) {
    math::install(interp);
    files::install(interp);
    time::install(interp);
    printing::install(interp);
}

/// A builtin function's name and function.
type Entry = (&'static str, BuiltinFn);

/// Each module's table of builtins that need nothing but a name and a function.
const TABLES: &[&[Entry]] = &[
    numbers::BUILTINS,
    lists::BUILTINS,
    lists::POSITIONS_AND_CXRS,
    sequences::BUILTINS,
    strings::BUILTINS,
    misc::BUILTINS,
    math::BUILTINS,
    math::FLOAT_FUNCTIONS,
    input::BUILTINS,
    files::BUILTINS,
    pathnames::BUILTINS,
    time::BUILTINS,
    environment::BUILTINS,
    printing::BUILTINS,
];

/// Every module's table in one, sorted by name at compile time (and checked to define no name
/// twice), so that an evaluator's start installs none of them: the symbol table asks
/// [`builtin`] when a symbol is first interned (`interp/symbols.rs`).
static BUILTINS: [Entry; entries(TABLES)] = sorted(TABLES);

/// The builtin function `name` of the tables.
pub(crate) fn builtin(name: &str) -> Option<Entry> {
    let at = BUILTINS.binary_search_by(|(n, _)| n.cmp(&name)).ok()?;
    Some(BUILTINS[at])
}

/// The names of every builtin in the tables.
pub(crate) fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(name, _)| *name)
}

const fn entries(tables: &[&[Entry]]) -> usize {
    let (mut count, mut i) = (0, 0);
    while i < tables.len() {
        count += tables[i].len();
        i += 1;
    }
    count
}

/// The entries of `tables` (`N` of them) sorted by name, by heapsort.
const fn sorted<const N: usize>(tables: &[&[Entry]]) -> [Entry; N] {
    let mut all = [tables[0][0]; N];
    let (mut at, mut i) = (0, 0);
    while i < tables.len() {
        let mut j = 0;
        while j < tables[i].len() {
            all[at] = tables[i][j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    let mut start = N / 2;
    while start > 0 {
        start -= 1;
        sift_down(&mut all, start, N);
    }
    let mut end = N;
    while end > 1 {
        end -= 1;
        let first = all[0];
        all[0] = all[end];
        all[end] = first;
        sift_down(&mut all, 0, end);
    }
    let mut k = 1;
    while k < N {
        assert!(
            name_before(all[k - 1].0, all[k].0),
            "a builtin is defined twice"
        );
        k += 1;
    }
    all
}

/// Restores the max-heap order of `heap[..end]` below `root`.
const fn sift_down(heap: &mut [Entry], mut root: usize, end: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && name_before(heap[child].0, heap[child + 1].0) {
            child += 1;
        }
        if !name_before(heap[root].0, heap[child].0) {
            return;
        }
        let parent = heap[root];
        heap[root] = heap[child];
        heap[child] = parent;
        root = child;
    }
}

/// True when `a` sorts strictly before `b` (byte order, as `str`'s `Ord`).
const fn name_before(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
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
