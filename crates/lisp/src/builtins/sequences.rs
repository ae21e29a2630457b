//! Generic sequence functions over lists, strings and vectors: `length`, `elt`, `subseq`,
//! `reverse`, `find`, `position`, `remove`, `count`, `some`/`every`, `reduce`, `sort`,
//! `remove-duplicates`, `concatenate`, `coerce`, `map`, `search`, and vectors themselves.

use super::lists::{apply_key, test_matches};
use super::{arity, index, keyword};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::value::BuiltinFn;
use crate::value::{Value, NO_SPAN};
use std::cell::RefCell;
use std::rc::Rc;
use whistler_syntax::Span;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    List,
    Str,
    Vector,
}

fn items(v: &Value, span: Span) -> Result<(Vec<Value>, Kind), Flow> {
    Ok(match v {
        Value::Nil => (Vec::new(), Kind::List),
        Value::Cons(_) => {
            let items: Vec<Value> = v.iter().take(super::MAX_ELEMENTS + 1).collect();
            super::check_size(items.len(), span)?;
            (items, Kind::List)
        }
        Value::Str(s, _) => (
            s.text().chars().map(|c| Value::Char(c, NO_SPAN)).collect(),
            Kind::Str,
        ),
        Value::Vector(items) => (items.borrow().clone(), Kind::Vector),
        other => {
            return fail(
                "type-error",
                format!("{} is not a sequence", crate::printer::prin1(other)),
                span,
            )
        }
    })
}

/// A sequence's length without copying it (0 for non-sequences, which fail later).
fn sequence_length(v: &Value) -> usize {
    match v {
        Value::Str(s, _) => s.len(),
        Value::Vector(items) => items.borrow().len(),
        other => other.iter().count(),
    }
}

fn rebuild(kind: Kind, items: Vec<Value>, span: Span) -> Result<Value, Flow> {
    super::check_size(items.len(), span)?;
    Ok(match kind {
        Kind::List => Value::list(items),
        Kind::Vector => Value::Vector(Rc::new(RefCell::new(items))),
        Kind::Str => Value::string(text_of(items, span)?),
    })
}

/// The text of a sequence of characters.
fn text_of(items: Vec<Value>, span: Span) -> Result<String, Flow> {
    let mut s = String::with_capacity(items.len());
    for item in items {
        match item {
            Value::Char(c, _) => s.push(c),
            other => {
                return fail(
                    "type-error",
                    format!("{} is not a character", crate::printer::prin1(&other)),
                    span,
                )
            }
        }
    }
    Ok(s)
}

/// Gives the vector or string `target` the elements `items` in place, so every reference sees
/// them (in-place `sort`, `nreverse`); a list gets a fresh list. Returns the result.
fn store_in_place(
    target: &Value,
    items: Vec<Value>,
    kind: Kind,
    span: Span,
) -> Result<Value, Flow> {
    match target {
        Value::Vector(v) => {
            *v.borrow_mut() = items;
            Ok(target.clone())
        }
        Value::Str(s, _) => {
            s.set_text(text_of(items, span)?);
            Ok(target.clone())
        }
        _ => rebuild(kind, items, span),
    }
}

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("length", |_, a, s| {
        arity(a, 1, 1, "length", s)?;
        Ok(Value::int(match &a[0] {
            Value::Str(text, _) => text.len(),
            Value::Vector(v) => v.borrow().len(),
            other => items(other, s)?.0.len(),
        } as i64))
    }),
    ("elt", |i, a, s| {
        arity(a, 2, 2, "elt", s)?;
        if matches!(a[0], Value::Str(..) | Value::Vector(_)) {
            return aref(i, a, s);
        }
        let (items, _) = items(&a[0], s)?;
        let i = index(&a[1], s)?;
        items.get(i).cloned().map_or_else(
            || fail("error", format!("elt: index {i} is out of bounds"), s),
            Ok,
        )
    }),
    ("subseq", subseq),
    ("reverse", reverse),
    ("copy-seq", |_, a, s| {
        arity(a, 1, 1, "copy-seq", s)?;
        let (items, kind) = items(&a[0], s)?;
        rebuild(kind, items, s)
    }),
    ("nreverse", |_, a, s| {
        arity(a, 1, 1, "nreverse", s)?;
        let (mut items, kind) = items(&a[0], s)?;
        items.reverse();
        store_in_place(&a[0], items, kind, s)
    }),
    ("find", |i, a, s| find(i, a, s, Search::Item, false)),
    ("find-if", |i, a, s| find(i, a, s, Search::If, false)),
    ("find-if-not", |i, a, s| find(i, a, s, Search::IfNot, false)),
    ("position", |i, a, s| find(i, a, s, Search::Item, true)),
    ("position-if", |i, a, s| find(i, a, s, Search::If, true)),
    ("position-if-not", |i, a, s| {
        find(i, a, s, Search::IfNot, true)
    }),
    ("remove", |i, a, s| remove(i, a, s, Search::Item)),
    ("remove-if", |i, a, s| remove(i, a, s, Search::If)),
    ("remove-if-not", |i, a, s| remove(i, a, s, Search::IfNot)),
    ("delete", |i, a, s| remove(i, a, s, Search::Item)),
    ("delete-if", |i, a, s| remove(i, a, s, Search::If)),
    ("delete-if-not", |i, a, s| remove(i, a, s, Search::IfNot)),
    ("count", |i, a, s| count(i, a, s, Search::Item)),
    ("count-if", |i, a, s| count(i, a, s, Search::If)),
    ("count-if-not", |i, a, s| count(i, a, s, Search::IfNot)),
    ("some", |i, a, s| quantify(i, a, s, Quantifier::Some)),
    ("every", |i, a, s| quantify(i, a, s, Quantifier::Every)),
    ("notany", |i, a, s| quantify(i, a, s, Quantifier::NotAny)),
    ("notevery", |i, a, s| {
        quantify(i, a, s, Quantifier::NotEvery)
    }),
    ("reduce", reduce),
    ("sort", sort),
    ("stable-sort", sort),
    ("remove-duplicates", remove_duplicates),
    ("concatenate", concatenate),
    ("coerce", coerce),
    ("map", map),
    ("search", search),
    ("vector", |_, a, _| {
        Ok(Value::Vector(Rc::new(RefCell::new(a.to_vec()))))
    }),
    ("make-array", make_array),
    ("aref", aref),
    ("svref", aref),
    ("char", aref),
    ("schar", aref),
    ("vector-push-extend", vector_push),
    ("vector-push", vector_push),
    ("fill-pointer", |_, a, s| {
        arity(a, 1, 1, "fill-pointer", s)?;
        match &a[0] {
            Value::Vector(v) => Ok(Value::int(v.borrow().len() as i64)),
            Value::Str(text, _) => Ok(Value::int(text.len() as i64)),
            _ => fail("type-error", "fill-pointer: not a vector", s),
        }
    }),
    ("%set-fill-pointer", set_fill_pointer),
];

/// The `:start`/`:end` bounds of `options` for a sequence of `len` items.
fn bounds(options: &[Value], len: usize, span: Span) -> Result<(usize, usize), Flow> {
    super::input::bounds(
        keyword(options, "start"),
        keyword(options, "end"),
        len,
        span,
    )
}

fn subseq(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 3, "subseq", span)?;
    let (items, kind) = items(&args[0], span)?;
    let start = index(&args[1], span)?;
    let end = match args.get(2) {
        Some(Value::Nil) | None => items.len(),
        Some(v) => index(v, span)?,
    };
    if start > end || end > items.len() {
        return fail(
            "error",
            format!(
                "subseq: bounds {start}..{end} are out of range for length {}",
                items.len()
            ),
            span,
        );
    }
    rebuild(kind, items[start..end].to_vec(), span)
}

fn reverse(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 1, "reverse", span)?;
    let (mut items, kind) = items(&args[0], span)?;
    items.reverse();
    rebuild(kind, items, span)
}

#[derive(Clone, Copy)]
enum Search {
    Item,
    If,
    IfNot,
}

fn hit(
    interp: &mut Interp,
    how: Search,
    target: &Value,
    options: &[Value],
    element: &Value,
    span: Span,
) -> Result<bool, Flow> {
    match how {
        Search::Item => test_matches(interp, options, target, element, span),
        Search::If | Search::IfNot => {
            let key = apply_key(interp, options, element, span)?;
            let r = interp.apply(target, &[key], span)?.truthy();
            Ok(r == matches!(how, Search::If))
        }
    }
}

fn find(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    how: Search,
    position: bool,
) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "find", span)?;
    let (items, _) = items(&args[1], span)?;
    let options = &args[2..];
    let (start, end) = bounds(options, items.len(), span)?;
    let from_end = keyword(options, "from-end").is_some_and(Value::truthy);
    let mut order: Vec<usize> = (start..end).collect();
    if from_end {
        order.reverse();
    }
    for i in order {
        if hit(interp, how, &args[0], options, &items[i], span)? {
            return Ok(if position {
                Value::int(i as i64)
            } else {
                items[i].clone()
            });
        }
    }
    Ok(Value::Nil)
}

/// `remove` and its kin: the items in `:start`..`:end` that match are dropped, at most
/// `:count` of them, counted from the end with `:from-end`.
fn remove(interp: &mut Interp, args: &[Value], span: Span, how: Search) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "remove", span)?;
    let (items, kind) = items(&args[1], span)?;
    let options = &args[2..];
    let (start, end) = bounds(options, items.len(), span)?;
    let from_end = keyword(options, "from-end").is_some_and(Value::truthy);
    let mut left = match keyword(options, "count") {
        Some(Value::Nil) | None => usize::MAX,
        Some(v) => super::int(v, span)?.max(0) as usize,
    };
    let mut order: Vec<usize> = (start..end).collect();
    if from_end {
        order.reverse();
    }
    let mut dropped = vec![false; items.len()];
    for i in order {
        if left == 0 {
            break;
        }
        if hit(interp, how, &args[0], options, &items[i], span)? {
            dropped[i] = true;
            left -= 1;
        }
    }
    let kept = items
        .into_iter()
        .zip(dropped)
        .filter(|(_, dropped)| !dropped)
        .map(|(item, _)| item)
        .collect();
    rebuild(kind, kept, span)
}

fn count(interp: &mut Interp, args: &[Value], span: Span, how: Search) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "count", span)?;
    let (items, _) = items(&args[1], span)?;
    let options = &args[2..];
    let (start, end) = bounds(options, items.len(), span)?;
    let mut n = 0;
    for item in &items[start..end] {
        if hit(interp, how, &args[0], options, item, span)? {
            n += 1;
        }
    }
    Ok(Value::int(n))
}

#[derive(Clone, Copy)]
enum Quantifier {
    Some,
    Every,
    NotAny,
    NotEvery,
}

fn quantify(interp: &mut Interp, args: &[Value], span: Span, q: Quantifier) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "some/every", span)?;
    let seqs: Vec<Vec<Value>> = args[1..]
        .iter()
        .map(|s| items(s, span).map(|(i, _)| i))
        .collect::<Result<_, _>>()?;
    let len = seqs.iter().map(Vec::len).min().unwrap_or(0);
    for i in 0..len {
        let call: Vec<Value> = seqs.iter().map(|s| s[i].clone()).collect();
        let r = interp.apply(&args[0], &call, span)?;
        match q {
            Quantifier::Some if r.truthy() => return Ok(r),
            Quantifier::Every if r.is_nil() => return Ok(Value::Nil),
            Quantifier::NotAny if r.truthy() => return Ok(Value::Nil),
            Quantifier::NotEvery if r.is_nil() => return Ok(interp.t()),
            _ => {}
        }
    }
    Ok(match q {
        Quantifier::Some | Quantifier::NotEvery => Value::Nil,
        Quantifier::Every | Quantifier::NotAny => interp.t(),
    })
}

fn reduce(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "reduce", span)?;
    let (items, _) = items(&args[1], span)?;
    let options = &args[2..];
    let (start, end) = bounds(options, items.len(), span)?;
    let mut items = items[start..end].to_vec();
    let from_end = keyword(options, "from-end").is_some_and(Value::truthy);
    for item in &mut items {
        *item = apply_key(interp, options, item, span)?;
    }
    if from_end {
        items.reverse();
    }
    let mut iter = items.into_iter();
    let mut acc = match keyword(options, "initial-value") {
        Some(v) => v.clone(),
        None => match iter.next() {
            Some(v) => v,
            None => return interp.apply(&args[0], &[], span),
        },
    };
    for item in iter {
        let call = if from_end { [item, acc] } else { [acc, item] };
        acc = interp.apply(&args[0], &call, span)?;
    }
    Ok(acc)
}

fn sort(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 4, "sort", span)?;
    let (items, kind) = items(&args[0], span)?;
    let mut keyed = Vec::new();
    for item in items {
        keyed.push((apply_key(interp, &args[2..], &item, span)?, item));
    }
    // Merge sort driven by the Lisp predicate (stable; errors propagate).
    let sorted = merge_sort(interp, keyed, &args[1], span)?;
    store_in_place(
        &args[0],
        sorted.into_iter().map(|(_, v)| v).collect(),
        kind,
        span,
    )
}

fn merge_sort(
    interp: &mut Interp,
    mut v: Vec<(Value, Value)>,
    less: &Value,
    span: Span,
) -> Result<Vec<(Value, Value)>, Flow> {
    if v.len() <= 1 {
        return Ok(v);
    }
    let right = v.split_off(v.len() / 2);
    let left = merge_sort(interp, v, less, span)?;
    let right = merge_sort(interp, right, less, span)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        let take_right = interp
            .apply(less, &[b.0.clone(), a.0.clone()], span)?
            .truthy();
        out.push(if take_right { r.next() } else { l.next() }.expect("peeked"));
    }
    out.extend(l);
    out.extend(r);
    Ok(out)
}

/// Of the items in `:start`..`:end` that match one another, the last is kept (the first with
/// `:from-end`); items outside the bounds stay as they are.
fn remove_duplicates(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "remove-duplicates", span)?;
    let (items, kind) = items(&args[0], span)?;
    let options = &args[1..];
    let (start, end) = bounds(options, items.len(), span)?;
    let from_end = keyword(options, "from-end").is_some_and(Value::truthy);
    let mut keep = vec![true; items.len()];
    for i in start..end {
        let key = apply_key(interp, options, &items[i], span)?;
        let others = if from_end { start..i } else { i + 1..end };
        for j in others {
            if keep[j] && test_matches(interp, options, &key, &items[j], span)? {
                keep[i] = false;
                break;
            }
        }
    }
    let kept = items
        .into_iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|(item, _)| item)
        .collect();
    rebuild(kind, kept, span)
}

fn result_kind(v: &Value, span: Span) -> Result<Kind, Flow> {
    let name = match v {
        Value::Sym(s, _) => s.name.clone(),
        Value::Cons(_) => v.car().as_sym().map(|s| s.name.clone()).unwrap_or_default(),
        _ => String::new(),
    };
    Ok(match name.as_str() {
        "string" | "simple-string" | "base-string" => Kind::Str,
        "list" | "cons" => Kind::List,
        "vector" | "simple-vector" | "array" => Kind::Vector,
        other => {
            return fail(
                "type-error",
                format!("unsupported result type `{other}`"),
                span,
            )
        }
    })
}

fn concatenate(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "concatenate", span)?;
    let kind = result_kind(&args[0], span)?;
    let total = args[1..].iter().map(sequence_length).sum();
    super::check_size(total, span)?;
    if kind == Kind::Str && args[1..].iter().all(|a| matches!(a, Value::Str(..))) {
        let mut joined = String::new();
        for text in args[1..].iter().filter_map(Value::as_str) {
            joined.push_str(&text);
        }
        return Ok(Value::string(joined));
    }
    let mut all = Vec::new();
    for a in &args[1..] {
        all.extend(items(a, span)?.0);
    }
    rebuild(kind, all, span)
}

fn coerce(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 2, "coerce", span)?;
    if let Some(name) = args[1].as_sym().map(|s| s.name.as_str()) {
        match (name, &args[0]) {
            ("character", Value::Str(s, _)) if s.len() == 1 => {
                return Ok(Value::Char(s.char_at(0).unwrap_or(' '), NO_SPAN))
            }
            ("character", Value::Sym(s, _)) if s.name.chars().count() == 1 => {
                return Ok(Value::Char(
                    s.lisp_name().chars().next().unwrap_or(' '),
                    NO_SPAN,
                ))
            }
            ("integer" | "fixnum", v @ (Value::Int(..) | Value::Big(_))) => return Ok(v.clone()),
            _ => {}
        }
    }
    let kind = result_kind(&args[1], span)?;
    let (items, from) = items(&args[0], span)?;
    if from == kind {
        // Already of the type: the object itself.
        return Ok(args[0].clone());
    }
    rebuild(kind, items, span)
}

fn map(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 3, usize::MAX, "map", span)?;
    let seqs: Vec<Vec<Value>> = args[2..]
        .iter()
        .map(|s| items(s, span).map(|(i, _)| i))
        .collect::<Result<_, _>>()?;
    let len = seqs.iter().map(Vec::len).min().unwrap_or(0);
    let mut out = Vec::new();
    for i in 0..len {
        let call: Vec<Value> = seqs.iter().map(|s| s[i].clone()).collect();
        out.push(interp.apply(&args[1], &call, span)?);
    }
    if args[0].is_nil() {
        return Ok(Value::Nil);
    }
    rebuild(result_kind(&args[0], span)?, out, span)
}

/// The bounds given by `:startN`/`:endN` (`N` is 1 or 2).
fn bounds_n(options: &[Value], n: u8, len: usize, span: Span) -> Result<(usize, usize), Flow> {
    let start = keyword(options, &format!("start{n}"));
    let end = keyword(options, &format!("end{n}"));
    super::input::bounds(start, end, len, span)
}

/// The first (with `:from-end`, the last) place in `sequence2`'s bounds where the elements of
/// `sequence1`'s bounds match, under `:test`/`:test-not`/`:key` (the key applies to both).
fn search(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "search", span)?;
    let (needle, _) = items(&args[0], span)?;
    let (hay, _) = items(&args[1], span)?;
    let options = &args[2..];
    let (start1, end1) = bounds_n(options, 1, needle.len(), span)?;
    let (start2, end2) = bounds_n(options, 2, hay.len(), span)?;
    let needle = &needle[start1..end1];
    if needle.len() > end2 - start2 {
        return Ok(Value::Nil);
    }
    let mut keys = Vec::with_capacity(needle.len());
    for n in needle {
        keys.push(apply_key(interp, options, n, span)?);
    }
    let mut starts: Vec<usize> = (start2..=end2 - needle.len()).collect();
    if keyword(options, "from-end").is_some_and(Value::truthy) {
        starts.reverse();
    }
    'outer: for start in starts {
        for (i, key) in keys.iter().enumerate() {
            if !test_matches(interp, options, key, &hay[start + i], span)? {
                continue 'outer;
            }
        }
        return Ok(Value::int(start as i64));
    }
    Ok(Value::Nil)
}

fn make_array(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "make-array", span)?;
    let size = match &args[0] {
        Value::Cons(_) => index(&args[0].car(), span)?,
        v => index(v, span)?,
    };
    super::check_size(size, span)?;
    let options = &args[1..];
    let items = match keyword(options, "initial-contents") {
        Some(contents) => items(contents, span)?.0,
        None => vec![
            keyword(options, "initial-element")
                .cloned()
                .unwrap_or(Value::Nil);
            size
        ],
    };
    let fill = match keyword(options, "fill-pointer") {
        Some(Value::Int(n, _)) => Some(*n as usize),
        _ => None,
    };
    let mut items = items;
    if let Some(n) = fill {
        items.truncate(n);
    }
    if is_character_type(keyword(options, "element-type")) {
        return Ok(Value::string(text_of(items, span)?));
    }
    Ok(Value::Vector(Rc::new(RefCell::new(items))))
}

/// Whether an `:element-type` makes a string.
fn is_character_type(element_type: Option<&Value>) -> bool {
    element_type
        .and_then(Value::as_sym)
        .is_some_and(|s| matches!(s.name.as_str(), "character" | "base-char" | "standard-char"))
}

/// `(setf (fill-pointer vector) n)`: keeps the first `n` elements (a vector's length is its
/// fill pointer, so it cannot grow this way).
fn set_fill_pointer(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 2, "(setf fill-pointer)", span)?;
    let n = index(&args[0], span)?;
    let len = sequence_length(&args[1]);
    if n > len {
        return fail(
            "error",
            format!("(setf fill-pointer): {n} is beyond the vector's {len} elements"),
            span,
        );
    }
    match &args[1] {
        Value::Vector(v) => v.borrow_mut().truncate(n),
        Value::Str(s, _) => s.truncate(n),
        other => {
            return fail(
                "type-error",
                format!("{} is not a vector", crate::printer::prin1(other)),
                span,
            )
        }
    }
    Ok(args[0].clone())
}

fn aref(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 2, "aref", span)?;
    let i = index(&args[1], span)?;
    let item = match &args[0] {
        Value::Vector(v) => v.borrow().get(i).cloned(),
        Value::Str(s, _) => s.char_at(i).map(|c| Value::Char(c, NO_SPAN)),
        other => {
            return fail(
                "type-error",
                format!("{} is not an array", crate::printer::prin1(other)),
                span,
            )
        }
    };
    item.map_or_else(
        || fail("error", format!("index {i} is out of bounds"), span),
        Ok,
    )
}

fn vector_push(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 3, "vector-push-extend", span)?;
    match &args[1] {
        Value::Vector(v) => {
            let mut v = v.borrow_mut();
            v.push(args[0].clone());
            Ok(Value::int(v.len() as i64 - 1))
        }
        Value::Str(s, _) => match &args[0] {
            Value::Char(c, _) => {
                s.push_str(c.encode_utf8(&mut [0u8; 4]));
                Ok(Value::int(s.len() as i64 - 1))
            }
            other => fail(
                "type-error",
                format!("{} is not a character", crate::printer::prin1(other)),
                span,
            ),
        },
        other => fail(
            "type-error",
            format!("{} is not a vector", crate::printer::prin1(other)),
            span,
        ),
    }
}
