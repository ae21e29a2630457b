//! Lambda lists: parsing `(a &optional (b 1 b-p) &rest r &key ((:k k) 0) &aux x)` once when a
//! function or macro is defined, and binding arguments to it at each call. Macro lambda lists
//! also destructure (`((var init) &body body)`), take `&whole`, `&body`, `&environment` and a
//! dotted rest (`(a . rest)`).

use crate::env::{Env, Namespace};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::value::{Sym, Value};
use std::rc::Rc;
use whistler_syntax::Span;

pub enum Pattern {
    Var(Sym),
    /// A nested lambda list (macro lambda lists and `destructuring-bind` only).
    Nested(Box<LambdaList>),
    /// `nil` in a destructuring pattern: the value is ignored.
    Ignore,
}

pub struct Optional {
    pattern: Pattern,
    init: Value,
    supplied: Option<Sym>,
}

pub struct KeyParam {
    keyword: Sym,
    pattern: Pattern,
    init: Value,
    supplied: Option<Sym>,
}

#[derive(Default)]
pub struct LambdaList {
    whole: Option<Sym>,
    required: Vec<Pattern>,
    optional: Vec<Optional>,
    rest: Option<Pattern>,
    keys: Option<Vec<KeyParam>>,
    allow_other_keys: bool,
    aux: Vec<(Sym, Value)>,
}

#[derive(PartialEq, PartialOrd, Clone, Copy)]
enum Section {
    Required,
    Optional,
    Rest,
    AfterRest,
    Key,
    Aux,
}

fn bad(what: &str, span: Span) -> Result<LambdaList, Flow> {
    fail(
        "program-error",
        format!("malformed lambda list: {what}"),
        span,
    )
}

/// Parses a lambda list; `destructuring` allows nested lists in required positions.
pub fn parse(
    interp: &mut Interp,
    list: &Value,
    destructuring: bool,
    span: Span,
) -> Result<LambdaList, Flow> {
    let mut ll = LambdaList::default();
    let mut section = Section::Required;
    let mut rest = list.clone();
    let span = if list.span() == crate::value::NO_SPAN {
        span
    } else {
        list.span()
    };
    loop {
        let item = match rest {
            Value::Nil => return Ok(ll),
            Value::Cons(ref c) => c.car(),
            ref tail => {
                if section > Section::Optional {
                    return bad("a dotted rest after &rest or &key", span);
                }
                ll.rest = Some(pattern(interp, tail, destructuring, span)?);
                return Ok(ll);
            }
        };
        rest = rest.cdr();
        if let Some(marker) = lambda_keyword(interp, &item) {
            section = match (marker, section) {
                (Marker::Whole, Section::Required)
                    if ll.required.is_empty() && ll.whole.is_none() =>
                {
                    let Some(sym) = rest.car().as_sym().cloned() else {
                        return bad("&whole needs a variable", span);
                    };
                    ll.whole = Some(sym);
                    rest = rest.cdr();
                    Section::Required
                }
                (Marker::Environment, s) => {
                    rest = rest.cdr();
                    s
                }
                (Marker::Optional, Section::Required) => Section::Optional,
                (Marker::Rest, s) if s <= Section::Optional => Section::Rest,
                (Marker::Key, s) if s <= Section::AfterRest => {
                    ll.keys = Some(Vec::new());
                    Section::Key
                }
                (Marker::AllowOtherKeys, Section::Key) => {
                    ll.allow_other_keys = true;
                    Section::Key
                }
                (Marker::Aux, s) if s != Section::Rest => Section::Aux,
                _ => {
                    return bad(
                        &format!("`{}` is out of place", crate::printer::princ(&item)),
                        span,
                    )
                }
            };
            continue;
        }
        match section {
            Section::Required => ll
                .required
                .push(pattern(interp, &item, destructuring, span)?),
            Section::Optional => ll
                .optional
                .push(optional(interp, &item, destructuring, span)?),
            Section::Rest => {
                ll.rest = Some(pattern(interp, &item, destructuring, span)?);
                section = Section::AfterRest;
            }
            Section::AfterRest => return bad("more than one variable after &rest", span),
            Section::Key => {
                let key = key_param(interp, &item, destructuring, span)?;
                ll.keys.get_or_insert_with(Vec::new).push(key);
            }
            Section::Aux => {
                let (var, init) = match &item {
                    Value::Sym(s, _) => (s.clone(), Value::Nil),
                    Value::Cons(_) => match item.car().as_sym() {
                        Some(s) => (s.clone(), item.cdr().car()),
                        None => return bad("&aux needs variables", span),
                    },
                    _ => return bad("&aux needs variables", span),
                };
                ll.aux.push((var, init));
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Marker {
    Optional,
    Rest,
    Key,
    Aux,
    Whole,
    Environment,
    AllowOtherKeys,
}

fn lambda_keyword(interp: &Interp, item: &Value) -> Option<Marker> {
    let s = item.as_sym()?;
    let k = &interp.known;
    let table = [
        (&k.optional, Marker::Optional),
        (&k.rest, Marker::Rest),
        (&k.body, Marker::Rest),
        (&k.key, Marker::Key),
        (&k.aux, Marker::Aux),
        (&k.whole, Marker::Whole),
        (&k.environment, Marker::Environment),
        (&k.allow_other_keys, Marker::AllowOtherKeys),
    ];
    table
        .iter()
        .find(|(sym, _)| Rc::ptr_eq(sym, s))
        .map(|(_, m)| *m)
}

fn pattern(
    interp: &mut Interp,
    item: &Value,
    destructuring: bool,
    span: Span,
) -> Result<Pattern, Flow> {
    crate::stack::guard(|| pattern_unguarded(interp, item, destructuring, span))
}

fn pattern_unguarded(
    interp: &mut Interp,
    item: &Value,
    destructuring: bool,
    span: Span,
) -> Result<Pattern, Flow> {
    match item {
        Value::Sym(s, _) if s.is_keyword() || s.constant.get() => {
            Err(crate::error::EvalError::new(
                "program-error",
                format!("cannot use the constant `{}` as a variable", s.name),
                item.span(),
            )
            .into())
        }
        Value::Sym(s, _) => Ok(Pattern::Var(s.clone())),
        Value::Nil if destructuring => Ok(Pattern::Ignore),
        Value::Cons(_) if destructuring => {
            Ok(Pattern::Nested(Box::new(parse(interp, item, true, span)?)))
        }
        other => Err(crate::error::EvalError::new(
            "program-error",
            format!(
                "malformed lambda list: {} is not a variable",
                crate::printer::prin1(other)
            ),
            if other.span() == crate::value::NO_SPAN {
                span
            } else {
                other.span()
            },
        )
        .into()),
    }
}

fn optional(
    interp: &mut Interp,
    item: &Value,
    destructuring: bool,
    span: Span,
) -> Result<Optional, Flow> {
    if let Value::Cons(_) = item {
        let supplied = item.cdr().cdr().car().as_sym().cloned();
        return Ok(Optional {
            pattern: pattern(interp, &item.car(), destructuring, span)?,
            init: item.cdr().car(),
            supplied,
        });
    }
    Ok(Optional {
        pattern: pattern(interp, item, false, span)?,
        init: Value::Nil,
        supplied: None,
    })
}

fn key_param(
    interp: &mut Interp,
    item: &Value,
    destructuring: bool,
    span: Span,
) -> Result<KeyParam, Flow> {
    let (spec, init, supplied) = match item {
        Value::Cons(_) => (
            item.car(),
            item.cdr().car(),
            item.cdr().cdr().car().as_sym().cloned(),
        ),
        _ => (item.clone(), Value::Nil, None),
    };
    let (keyword, pattern) = match &spec {
        Value::Sym(s, _) => {
            let name = s.name.clone();
            (interp.keyword(&name), pattern(interp, &spec, false, span)?)
        }
        Value::Cons(_) => {
            let Some(keyword) = spec.car().as_sym().cloned() else {
                return fail("program-error", "malformed &key parameter", span);
            };
            (
                keyword,
                pattern(interp, &spec.cdr().car(), destructuring, span)?,
            )
        }
        _ => return fail("program-error", "malformed &key parameter", span),
    };
    Ok(KeyParam {
        keyword,
        pattern,
        init,
        supplied,
    })
}

/// Binds a macro call's arguments: the whole form goes to `&whole`, the rest destructures.
pub fn bind_macro(
    interp: &mut Interp,
    ll: &LambdaList,
    form: &Value,
    env: &Rc<Env>,
    span: Span,
    what: &str,
) -> Result<(), Flow> {
    if let Some(whole) = &ll.whole {
        env.bind(whole, Namespace::Variable, form.clone());
    }
    bind_list(interp, ll, &form.cdr(), env, span, &format!("macro {what}"))
}

/// Destructures a list value against a lambda list.
pub fn bind_list(
    interp: &mut Interp,
    ll: &LambdaList,
    list: &Value,
    env: &Rc<Env>,
    span: Span,
    what: &str,
) -> Result<(), Flow> {
    let (items, tail) = list.items_and_tail();
    bind(interp, ll, &items, tail, env, span, what)
}

/// Binds `args` (and a dotted `tail`) into `env` following `ll`. Init forms are evaluated in
/// `env` as it fills, so later defaults see earlier parameters.
pub fn bind(
    interp: &mut Interp,
    ll: &LambdaList,
    args: &[Value],
    tail: Value,
    env: &Rc<Env>,
    span: Span,
    what: &str,
) -> Result<(), Flow> {
    if args.len() < ll.required.len() {
        return fail(
            "program-error",
            format!(
                "too few arguments to {what}: expected {}{}, got {}",
                if ll.optional.is_empty() && ll.rest.is_none() && ll.keys.is_none() {
                    ""
                } else {
                    "at least "
                },
                ll.required.len(),
                args.len()
            ),
            span,
        );
    }
    for (pattern, arg) in ll.required.iter().zip(args) {
        bind_pattern(interp, pattern, arg.clone(), env, span, what)?;
    }
    let mut next = ll.required.len();
    for opt in &ll.optional {
        let (value, given) = match args.get(next) {
            Some(v) => (v.clone(), true),
            None => (interp.eval(&opt.init, env)?, false),
        };
        next += 1;
        bind_pattern(interp, &opt.pattern, value, env, span, what)?;
        if let Some(s) = &opt.supplied {
            env.bind(s, Namespace::Variable, interp.bool(given));
        }
    }
    let remaining = args.get(next..).unwrap_or(&[]);
    if let Some(rest) = &ll.rest {
        let list = Value::list_with_tail(remaining.iter().cloned(), tail.clone());
        bind_pattern(interp, rest, list, env, span, what)?;
    }
    match &ll.keys {
        Some(keys) => bind_keys(interp, ll, keys, remaining, env, span, what)?,
        None if ll.rest.is_none() && (!remaining.is_empty() || tail.truthy()) => {
            return fail(
                "program-error",
                format!(
                    "too many arguments to {what}: expected at most {}, got {}",
                    ll.required.len() + ll.optional.len(),
                    args.len()
                ),
                span,
            );
        }
        None => {}
    }
    for (var, init) in &ll.aux {
        let value = interp.eval(init, env)?;
        env.bind(var, Namespace::Variable, value);
    }
    Ok(())
}

fn bind_keys(
    interp: &mut Interp,
    ll: &LambdaList,
    keys: &[KeyParam],
    plist: &[Value],
    env: &Rc<Env>,
    span: Span,
    what: &str,
) -> Result<(), Flow> {
    if !plist.len().is_multiple_of(2) {
        return fail(
            "program-error",
            format!("odd number of keyword arguments to {what}"),
            span,
        );
    }
    let allow_kw = interp.known.allow_other_keys_kw.clone();
    let allow_other = ll.allow_other_keys
        || plist
            .chunks(2)
            .any(|p| matches!(p[0].as_sym(), Some(s) if Rc::ptr_eq(s, &allow_kw)) && p[1].truthy());
    if !allow_other {
        for pair in plist.chunks(2) {
            let known = match pair[0].as_sym() {
                Some(s) => {
                    Rc::ptr_eq(s, &allow_kw) || keys.iter().any(|k| Rc::ptr_eq(&k.keyword, s))
                }
                None => false,
            };
            if !known {
                let valid: Vec<String> = keys
                    .iter()
                    .map(|k| format!(":{}", k.keyword.name))
                    .collect();
                let span = if pair[0].span() == crate::value::NO_SPAN {
                    span
                } else {
                    pair[0].span()
                };
                return Err(crate::error::EvalError::new(
                    "program-error",
                    format!(
                        "unknown keyword argument {} to {what}",
                        crate::printer::prin1(&pair[0])
                    ),
                    span,
                )
                .with_help(format!("valid keywords: {}", valid.join(" ")))
                .into());
            }
        }
    }
    for key in keys {
        let found = plist
            .chunks(2)
            .find(|p| matches!(p[0].as_sym(), Some(s) if Rc::ptr_eq(s, &key.keyword)))
            .map(|p| p[1].clone());
        let given = found.is_some();
        let value = match found {
            Some(v) => v,
            None => interp.eval(&key.init, env)?,
        };
        bind_pattern(interp, &key.pattern, value, env, span, what)?;
        if let Some(s) = &key.supplied {
            env.bind(s, Namespace::Variable, interp.bool(given));
        }
    }
    Ok(())
}

fn bind_pattern(
    interp: &mut Interp,
    pattern: &Pattern,
    value: Value,
    env: &Rc<Env>,
    span: Span,
    what: &str,
) -> Result<(), Flow> {
    crate::stack::guard(|| bind_pattern_unguarded(interp, pattern, value, env, span, what))
}

fn bind_pattern_unguarded(
    interp: &mut Interp,
    pattern: &Pattern,
    value: Value,
    env: &Rc<Env>,
    span: Span,
    what: &str,
) -> Result<(), Flow> {
    match pattern {
        Pattern::Var(s) => {
            env.bind(s, Namespace::Variable, value);
            Ok(())
        }
        Pattern::Ignore => Ok(()),
        Pattern::Nested(inner) => {
            let span = if value.span() == crate::value::NO_SPAN {
                span
            } else {
                value.span()
            };
            if !matches!(value, Value::Cons(_) | Value::Nil) {
                return fail(
                    "program-error",
                    format!(
                        "{what}: expected a list to destructure, got {}",
                        crate::printer::prin1(&value)
                    ),
                    span,
                );
            }
            bind_list(interp, inner, &value, env, span, what)
        }
    }
}
