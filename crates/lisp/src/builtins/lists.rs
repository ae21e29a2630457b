//! Conses and lists: accessors, construction, searching (`member`, `assoc`), mapping
//! (`mapcar`, `mapc`, `mapcan`, `maplist`), property lists and set operations.

use super::{arity, index, keyword};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::place::{cxr_path, nthcdr};
use crate::value::BuiltinFn;
use crate::value::Value;
use whistler_syntax::Span;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("cons", |_, a, s| {
        arity(a, 2, 2, "cons", s)?;
        Ok(Value::cons(a[0].clone(), a[1].clone()))
    }),
    ("list", |_, a, _| Ok(Value::list(a.iter().cloned()))),
    ("list*", |_, a, s| {
        arity(a, 1, usize::MAX, "list*", s)?;
        let (last, items) = a.split_last().expect("arity checked");
        Ok(Value::list_with_tail(items.iter().cloned(), last.clone()))
    }),
    ("rest", |_, a, s| {
        arity(a, 1, 1, "rest", s)?;
        list_arg(&a[0], s).map(|l| l.cdr())
    }),
    ("nth", |_, a, s| {
        arity(a, 2, 2, "nth", s)?;
        Ok(nthcdr(&a[1], index(&a[0], s)?).car())
    }),
    ("nthcdr", |_, a, s| {
        arity(a, 2, 2, "nthcdr", s)?;
        Ok(nthcdr(&a[1], index(&a[0], s)?))
    }),
    ("last", last),
    ("butlast", butlast),
    ("append", append),
    ("nconc", append),
    ("copy-list", |_, a, s| {
        arity(a, 1, 1, "copy-list", s)?;
        Ok(copy_list(&a[0]))
    }),
    ("copy-tree", |_, a, s| {
        arity(a, 1, 1, "copy-tree", s)?;
        Ok(copy_tree(&a[0], 0))
    }),
    ("make-list", |_, a, s| {
        arity(a, 1, 3, "make-list", s)?;
        let n = index(&a[0], s)?;
        super::check_size(n, s)?;
        let init = keyword(&a[1..], "initial-element")
            .cloned()
            .unwrap_or(Value::Nil);
        Ok(Value::list(vec![init; n]))
    }),
    ("member", member),
    ("member-if", |i, a, s| member_if(i, a, s, true)),
    ("member-if-not", |i, a, s| member_if(i, a, s, false)),
    ("assoc", |i, a, s| assoc(i, a, s, "assoc", Value::car)),
    ("assoc-if", assoc_if),
    ("rassoc", |i, a, s| assoc(i, a, s, "rassoc", Value::cdr)),
    ("acons", |_, a, s| {
        arity(a, 3, 3, "acons", s)?;
        Ok(Value::cons(
            Value::cons(a[0].clone(), a[1].clone()),
            a[2].clone(),
        ))
    }),
    ("pairlis", |_, a, s| {
        arity(a, 2, 3, "pairlis", s)?;
        let tail = a.get(2).cloned().unwrap_or(Value::Nil);
        let pairs: Vec<Value> = a[0]
            .iter()
            .zip(a[1].iter())
            .map(|(k, v)| Value::cons(k, v))
            .collect();
        Ok(Value::list_with_tail(pairs, tail))
    }),
    ("getf", |_, a, s| {
        arity(a, 2, 3, "getf", s)?;
        Ok(getf(&a[0], &a[1]).unwrap_or_else(|| a.get(2).cloned().unwrap_or(Value::Nil)))
    }),
    ("mapcar", |i, a, s| {
        map_lists(i, a, s, MapKind::Collect, false)
    }),
    ("mapc", |i, a, s| map_lists(i, a, s, MapKind::Ignore, false)),
    ("mapcan", |i, a, s| {
        map_lists(i, a, s, MapKind::Concatenate, false)
    }),
    ("maplist", |i, a, s| {
        map_lists(i, a, s, MapKind::Collect, true)
    }),
    ("mapl", |i, a, s| map_lists(i, a, s, MapKind::Ignore, true)),
    ("mapcon", |i, a, s| {
        map_lists(i, a, s, MapKind::Concatenate, true)
    }),
    ("adjoin", |i, a, s| {
        arity(a, 2, usize::MAX, "adjoin", s)?;
        for e in a[1].iter() {
            if test_matches(i, &a[2..], &a[0], &e, s)? {
                return Ok(a[1].clone());
            }
        }
        Ok(Value::cons(a[0].clone(), a[1].clone()))
    }),
    ("union", |i, a, s| set_op(i, a, s, SetOp::Union)),
    ("intersection", |i, a, s| {
        set_op(i, a, s, SetOp::Intersection)
    }),
    ("set-difference", |i, a, s| {
        set_op(i, a, s, SetOp::Difference)
    }),
    ("subsetp", |i, a, s| {
        arity(a, 2, usize::MAX, "subsetp", s)?;
        for x in a[0].iter() {
            if !contains(i, &a[2..], &x, &a[1], s)? {
                return Ok(Value::Nil);
            }
        }
        Ok(i.t())
    }),
    ("list-length", |_, a, s| {
        arity(a, 1, 1, "list-length", s)?;
        Ok(Value::int(a[0].iter().count() as i64))
    }),
    ("tree-equal", |i, a, s| {
        arity(a, 2, 2, "tree-equal", s)?;
        Ok(i.bool(crate::hash::equal(&a[0], &a[1])))
    }),
    ("subst", |i, a, s| {
        arity(a, 3, 9, "subst", s)?;
        if a.len() == 3 {
            return Ok(subst(&a[0], &a[1], &a[2], 0));
        }
        subst_matching(i, &a[0], &a[1], &a[2], &a[3..], s, 0)
    }),
];

/// `first` to `tenth`, and the c[ad]r family with a function per name (each knows its path).
pub(super) const POSITIONS_AND_CXRS: &[(&str, BuiltinFn)] = &[
    ("first", |_, a, s| nth_of(a, s, 0)),
    ("second", |_, a, s| nth_of(a, s, 1)),
    ("third", |_, a, s| nth_of(a, s, 2)),
    ("fourth", |_, a, s| nth_of(a, s, 3)),
    ("fifth", |_, a, s| nth_of(a, s, 4)),
    ("sixth", |_, a, s| nth_of(a, s, 5)),
    ("seventh", |_, a, s| nth_of(a, s, 6)),
    ("eighth", |_, a, s| nth_of(a, s, 7)),
    ("ninth", |_, a, s| nth_of(a, s, 8)),
    ("tenth", |_, a, s| nth_of(a, s, 9)),
    ("car", |_, a, s| walk_cxr("car", a, s)),
    ("cdr", |_, a, s| walk_cxr("cdr", a, s)),
    ("caar", |_, a, s| walk_cxr("caar", a, s)),
    ("cadr", |_, a, s| walk_cxr("cadr", a, s)),
    ("cdar", |_, a, s| walk_cxr("cdar", a, s)),
    ("cddr", |_, a, s| walk_cxr("cddr", a, s)),
    ("caaar", |_, a, s| walk_cxr("caaar", a, s)),
    ("caadr", |_, a, s| walk_cxr("caadr", a, s)),
    ("cadar", |_, a, s| walk_cxr("cadar", a, s)),
    ("caddr", |_, a, s| walk_cxr("caddr", a, s)),
    ("cdaar", |_, a, s| walk_cxr("cdaar", a, s)),
    ("cdadr", |_, a, s| walk_cxr("cdadr", a, s)),
    ("cddar", |_, a, s| walk_cxr("cddar", a, s)),
    ("cdddr", |_, a, s| walk_cxr("cdddr", a, s)),
    ("cadddr", |_, a, s| walk_cxr("cadddr", a, s)),
    ("cddddr", |_, a, s| walk_cxr("cddddr", a, s)),
];

fn list_arg(v: &Value, span: Span) -> Result<Value, Flow> {
    match v {
        Value::Nil | Value::Cons(_) => Ok(v.clone()),
        other => fail(
            "type-error",
            format!("{} is not a list", crate::printer::prin1(other)),
            span,
        ),
    }
}

fn walk_cxr(name: &str, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 1, name, span)?;
    let path = cxr_path(name).unwrap_or("");
    let mut v = args[0].clone();
    for step in path.chars().rev() {
        v = list_arg(&v, span).map_err(|_| {
            crate::error::EvalError::new(
                "type-error",
                format!("{name}: {} is not a list", crate::printer::prin1(&v)),
                span,
            )
        })?;
        v = if step == 'a' { v.car() } else { v.cdr() };
    }
    Ok(v)
}

fn nth_of(args: &[Value], span: Span, n: usize) -> Result<Value, Flow> {
    arity(args, 1, 1, "first..tenth", span)?;
    list_arg(&args[0], span)?;
    Ok(nthcdr(&args[0], n).car())
}

fn last(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 2, "last", span)?;
    let n = args
        .get(1)
        .map(|v| index(v, span))
        .transpose()?
        .unwrap_or(1);
    let mut cells = Vec::new();
    let mut rest = list_arg(&args[0], span)?;
    let mut walked = 0usize;
    while let Value::Cons(_) = rest {
        walked += 1;
        if walked > crate::value::MAX_LIST_WALK {
            break;
        }
        cells.push(rest.clone());
        rest = rest.cdr();
    }
    Ok(if n == 0 {
        rest
    } else {
        cells
            .get(cells.len().saturating_sub(n))
            .cloned()
            .unwrap_or(Value::Nil)
    })
}

fn butlast(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 2, "butlast", span)?;
    let n = args
        .get(1)
        .map(|v| index(v, span))
        .transpose()?
        .unwrap_or(1);
    let items: Vec<Value> = list_arg(&args[0], span)?.iter().collect();
    Ok(Value::list(items[..items.len().saturating_sub(n)].to_vec()))
}

fn append(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let Some((last, init)) = args.split_last() else {
        return Ok(Value::Nil);
    };
    let total = init.iter().map(|l| l.iter().count()).sum();
    super::check_size(total, span)?;
    let mut items = Vec::new();
    for a in init {
        items.extend(list_arg(a, span)?.iter());
    }
    Ok(Value::list_with_tail(items, last.clone()))
}

pub fn copy_list(v: &Value) -> Value {
    let (items, tail) = v.items_and_tail();
    Value::list_with_tail(items, tail)
}

fn copy_tree(v: &Value, depth: usize) -> Value {
    crate::stack::guard(|| copy_tree_unguarded(v, depth))
}

fn copy_tree_unguarded(v: &Value, depth: usize) -> Value {
    match v {
        Value::Cons(c) if depth < 10_000 => Value::cons_at(
            copy_tree(&c.car(), depth + 1),
            copy_tree(&c.cdr(), depth + 1),
            c.span,
        ),
        other => other.clone(),
    }
}

fn subst(new: &Value, old: &Value, tree: &Value, depth: usize) -> Value {
    crate::stack::guard(|| subst_unguarded(new, old, tree, depth))
}

fn subst_unguarded(new: &Value, old: &Value, tree: &Value, depth: usize) -> Value {
    if crate::hash::eql(tree, old) {
        return new.clone();
    }
    match tree {
        Value::Cons(c) if depth < 10_000 => Value::cons_at(
            subst(new, old, &c.car(), depth + 1),
            subst(new, old, &c.cdr(), depth + 1),
            c.span,
        ),
        other => other.clone(),
    }
}

/// `subst` with `:key`/`:test`/`:test-not`: every subtree (conses and atoms) that matches
/// `old` is replaced.
fn subst_matching(
    interp: &mut Interp,
    new: &Value,
    old: &Value,
    tree: &Value,
    options: &[Value],
    span: Span,
    depth: usize,
) -> Result<Value, Flow> {
    if depth > 10_000 {
        return Ok(tree.clone());
    }
    crate::stack::guard(|| subst_matching_unguarded(interp, new, old, tree, options, span, depth))
}

fn subst_matching_unguarded(
    interp: &mut Interp,
    new: &Value,
    old: &Value,
    tree: &Value,
    options: &[Value],
    span: Span,
    depth: usize,
) -> Result<Value, Flow> {
    if test_matches(interp, options, old, tree, span)? {
        return Ok(new.clone());
    }
    Ok(match tree {
        Value::Cons(c) => Value::cons_at(
            subst_matching(interp, new, old, &c.car(), options, span, depth + 1)?,
            subst_matching(interp, new, old, &c.cdr(), options, span, depth + 1)?,
            c.span,
        ),
        other => other.clone(),
    })
}

/// Applies the `:key` function of `options` to `v`.
pub fn apply_key(
    interp: &mut Interp,
    options: &[Value],
    v: &Value,
    span: Span,
) -> Result<Value, Flow> {
    match keyword(options, "key") {
        Some(f) if f.truthy() => interp.apply(f, std::slice::from_ref(v), span),
        _ => Ok(v.clone()),
    }
}

/// Whether `item` matches `element` under the `:test`/`:test-not`/`:key` of `options`.
pub fn test_matches(
    interp: &mut Interp,
    options: &[Value],
    item: &Value,
    element: &Value,
    span: Span,
) -> Result<bool, Flow> {
    let element = apply_key(interp, options, element, span)?;
    if let Some(test) = keyword(options, "test") {
        return Ok(interp.apply(test, &[item.clone(), element], span)?.truthy());
    }
    if let Some(test) = keyword(options, "test-not") {
        return Ok(interp.apply(test, &[item.clone(), element], span)?.is_nil());
    }
    Ok(crate::hash::eql(item, &element))
}

fn contains(
    interp: &mut Interp,
    options: &[Value],
    item: &Value,
    list: &Value,
    span: Span,
) -> Result<bool, Flow> {
    let item = apply_key(interp, options, item, span)?;
    for e in list.iter() {
        if test_matches(interp, options, &item, &e, span)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn member(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "member", span)?;
    first_tail_whose_car(list_arg(&args[1], span)?, |item| {
        test_matches(interp, &args[2..], &args[0], item, span)
    })
}

fn member_if(interp: &mut Interp, args: &[Value], span: Span, want: bool) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "member-if", span)?;
    first_tail_whose_car(list_arg(&args[1], span)?, |item| {
        let key = apply_key(interp, &args[2..], item, span)?;
        Ok(interp.apply(&args[0], &[key], span)?.truthy() == want)
    })
}

/// The first tail of `list` whose car satisfies `hit`, or `Nil` (what `member` returns).
fn first_tail_whose_car(
    list: Value,
    mut hit: impl FnMut(&Value) -> Result<bool, Flow>,
) -> Result<Value, Flow> {
    let mut rest = list;
    let mut walked = 0usize;
    while let Value::Cons(c) = &rest {
        walked += 1;
        if walked > crate::value::MAX_LIST_WALK {
            break;
        }
        if hit(&c.car())? {
            return Ok(rest);
        }
        let next = c.cdr();
        rest = next;
    }
    Ok(Value::Nil)
}

/// `assoc` (`key_of` is [`Value::car`]) and `rassoc` ([`Value::cdr`]): the first pair of the
/// alist whose key matches.
fn assoc(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    name: &str,
    key_of: fn(&Value) -> Value,
) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, name, span)?;
    for pair in list_arg(&args[1], span)?.iter() {
        if pair.truthy() && test_matches(interp, &args[2..], &args[0], &key_of(&pair), span)? {
            return Ok(pair);
        }
    }
    Ok(Value::Nil)
}

fn assoc_if(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "assoc-if", span)?;
    for pair in list_arg(&args[1], span)?.iter() {
        if pair.truthy() && interp.apply(&args[0], &[pair.car()], span)?.truthy() {
            return Ok(pair);
        }
    }
    Ok(Value::Nil)
}

pub fn getf(plist: &Value, indicator: &Value) -> Option<Value> {
    plist_value_cell(plist, indicator).map(|cell| cell.car())
}

/// What follows the first `indicator` (by `eq`) in indicator position of `plist`: the cell
/// whose car is its value, or an atom when the plist ends there.
pub fn plist_value_cell(plist: &Value, indicator: &Value) -> Option<Value> {
    let mut rest = plist.clone();
    let mut walked = 0usize;
    while let Value::Cons(c) = rest {
        walked += 1;
        if walked > crate::value::MAX_LIST_WALK {
            break;
        }
        let value_cell = c.cdr();
        if crate::hash::eq(&c.car(), indicator) {
            return Some(value_cell);
        }
        rest = value_cell.cdr();
    }
    None
}

#[derive(PartialEq, Clone, Copy)]
enum MapKind {
    Collect,
    Ignore,
    Concatenate,
}

fn map_lists(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    kind: MapKind,
    on_tails: bool,
) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "mapcar", span)?;
    let f = &args[0];
    let mut lists: Vec<Value> = args[1..]
        .iter()
        .map(|l| list_arg(l, span))
        .collect::<Result<_, _>>()?;
    let mut results = Vec::new();
    while lists.iter().all(|l| matches!(l, Value::Cons(_))) {
        interp.tick(span)?;
        let call_args: Vec<Value> = lists
            .iter()
            .map(|l| if on_tails { l.clone() } else { l.car() })
            .collect();
        let r = interp.apply(f, &call_args, span)?;
        match kind {
            MapKind::Collect => results.push(r),
            MapKind::Concatenate => results.extend(r.iter()),
            MapKind::Ignore => {}
        }
        for l in &mut lists {
            *l = l.cdr();
        }
    }
    Ok(match kind {
        MapKind::Ignore => args[1].clone(),
        _ => Value::list(results),
    })
}

enum SetOp {
    Union,
    Intersection,
    Difference,
}

fn set_op(interp: &mut Interp, args: &[Value], span: Span, op: SetOp) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "set operation", span)?;
    let options = &args[2..];
    let mut out = Vec::new();
    for x in list_arg(&args[0], span)?.iter() {
        let inside = contains(interp, options, &x, &args[1], span)?;
        match op {
            SetOp::Intersection if inside => out.push(x),
            SetOp::Difference if !inside => out.push(x),
            SetOp::Union => out.push(x),
            _ => {}
        }
    }
    if let SetOp::Union = op {
        for y in list_arg(&args[1], span)?.iter() {
            if !contains(interp, options, &y, &args[0], span)? {
                out.push(y);
            }
        }
    }
    Ok(Value::list(out))
}
