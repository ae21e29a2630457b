//! Strings, characters and symbol names: comparison, case, `intern`, `make-symbol`, `gensym`,
//! `parse-integer`, `read-from-string`, printing to strings.

use super::{arity, keyword, string_designator};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::value::BuiltinFn;
use crate::value::{Value, NO_SPAN};
use std::cmp::Ordering;
use std::rc::Rc;
use whistler_syntax::Span;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("string=", |i, a, s| {
        let equal = compare(a, s, false, |o| o == Ordering::Equal)?;
        Ok(i.bool(equal.truthy()))
    }),
    ("string-equal", |i, a, s| {
        let equal = compare(a, s, true, |o| o == Ordering::Equal)?;
        Ok(i.bool(equal.truthy()))
    }),
    ("string/=", |_, a, s| {
        compare(a, s, false, |o| o != Ordering::Equal)
    }),
    ("string<", |_, a, s| {
        compare(a, s, false, |o| o == Ordering::Less)
    }),
    ("string>", |_, a, s| {
        compare(a, s, false, |o| o == Ordering::Greater)
    }),
    ("string<=", |_, a, s| {
        compare(a, s, false, |o| o != Ordering::Greater)
    }),
    ("string>=", |_, a, s| {
        compare(a, s, false, |o| o != Ordering::Less)
    }),
    ("string-lessp", |_, a, s| {
        compare(a, s, true, |o| o == Ordering::Less)
    }),
    ("string-upcase", |_, a, s| {
        convert(a, s, |t| t.to_uppercase())
    }),
    ("string-downcase", |_, a, s| {
        convert(a, s, |t| t.to_lowercase())
    }),
    ("string-capitalize", |_, a, s| convert(a, s, capitalize)),
    ("nstring-upcase", |_, a, s| {
        convert_in_place(a, s, |t| t.to_uppercase())
    }),
    ("nstring-downcase", |_, a, s| {
        convert_in_place(a, s, |t| t.to_lowercase())
    }),
    ("nstring-capitalize", |_, a, s| {
        convert_in_place(a, s, capitalize)
    }),
    ("string", |_, a, s| {
        arity(a, 1, 1, "string", s)?;
        if let Value::Str(..) = a[0] {
            return Ok(a[0].clone());
        }
        Ok(Value::string(string_designator(&a[0], s)?))
    }),
    ("symbol-name", |i, a, s| {
        arity(a, 1, 1, "symbol-name", s)?;
        Ok(Value::string(super::symbol(&a[0], i, s)?.lisp_name()))
    }),
    ("intern", intern),
    ("make-symbol", |_, a, s| {
        arity(a, 1, 1, "make-symbol", s)?;
        let name = string_designator(&a[0], s)?.to_lowercase();
        Ok(Value::sym(&Rc::new(crate::value::SymData::new(
            name, None, false,
        ))))
    }),
    ("gensym", |i, a, s| {
        arity(a, 0, 1, "gensym", s)?;
        let prefix = match a.first() {
            Some(v) => string_designator(v, s)?,
            None => "g".into(),
        };
        Ok(Value::sym(&i.gensym(&prefix)))
    }),
    ("symbol-package", |i, a, s| {
        arity(a, 1, 1, "symbol-package", s)?;
        let sym = super::symbol(&a[0], i, s)?;
        Ok(match (&sym.package, sym.interned) {
            (_, false) => Value::Nil,
            (Some(p), _) => Value::string(p.to_uppercase()),
            (None, _) => Value::string("COMMON-LISP-USER"),
        })
    }),
    ("char-code", |_, a, s| {
        arity(a, 1, 1, "char-code", s)?;
        Ok(Value::int(char_arg(&a[0], s)? as i64))
    }),
    ("code-char", |_, a, s| {
        arity(a, 1, 1, "code-char", s)?;
        let code = super::int(&a[0], s)?;
        Ok(u32::try_from(code)
            .ok()
            .and_then(char::from_u32)
            .map_or(Value::Nil, |c| Value::Char(c, NO_SPAN)))
    }),
    ("char-upcase", |_, a, s| {
        char_map(a, s, |c| c.to_uppercase().next().unwrap_or(c))
    }),
    ("char-downcase", |_, a, s| {
        char_map(a, s, |c| c.to_lowercase().next().unwrap_or(c))
    }),
    ("char=", |i, a, s| {
        char_compare(i, a, s, false, |o| o == Ordering::Equal)
    }),
    ("char-equal", |i, a, s| {
        char_compare(i, a, s, true, |o| o == Ordering::Equal)
    }),
    ("char<", |i, a, s| {
        char_compare(i, a, s, false, |o| o == Ordering::Less)
    }),
    ("char>", |i, a, s| {
        char_compare(i, a, s, false, |o| o == Ordering::Greater)
    }),
    ("char/=", |i, a, s| {
        arity(a, 1, usize::MAX, "char/=", s)?;
        let chars = a
            .iter()
            .map(|c| char_arg(c, s))
            .collect::<Result<Vec<_>, _>>()?;
        let distinct = chars
            .iter()
            .enumerate()
            .all(|(n, c)| !chars[n + 1..].contains(c));
        Ok(i.bool(distinct))
    }),
    ("digit-char-p", |_, a, s| {
        arity(a, 1, 2, "digit-char-p", s)?;
        let radix = radix_arg(a, s)?;
        Ok(char_arg(&a[0], s)?
            .to_digit(radix)
            .map_or(Value::Nil, |d| Value::int(d as i64)))
    }),
    ("digit-char", |_, a, s| {
        arity(a, 1, 2, "digit-char", s)?;
        let radix = radix_arg(a, s)?;
        let d = super::int(&a[0], s)?;
        Ok(u32::try_from(d)
            .ok()
            .and_then(|d| char::from_digit(d, radix))
            .map_or(Value::Nil, |c| Value::Char(c.to_ascii_uppercase(), NO_SPAN)))
    }),
    ("alpha-char-p", |i, a, s| {
        char_test(i, a, s, char::is_alphabetic)
    }),
    ("alphanumericp", |i, a, s| {
        char_test(i, a, s, char::is_alphanumeric)
    }),
    ("upper-case-p", |i, a, s| {
        char_test(i, a, s, char::is_uppercase)
    }),
    ("lower-case-p", |i, a, s| {
        char_test(i, a, s, char::is_lowercase)
    }),
    ("string-trim", |_, a, s| trim(a, s, true, true)),
    ("string-left-trim", |_, a, s| trim(a, s, true, false)),
    ("string-right-trim", |_, a, s| trim(a, s, false, true)),
    ("parse-integer", parse_integer),
    ("read-from-string", read_from_string),
];

/// The string comparisons over `:start1`/`:end1`/`:start2`/`:end2`: when `ok` holds for the
/// two substrings, the index in the first string where they start to differ (its end when they
/// are equal), else nil.
fn compare(
    args: &[Value],
    span: Span,
    fold: bool,
    ok: fn(Ordering) -> bool,
) -> Result<Value, Flow> {
    arity(args, 2, 10, "string comparison", span)?;
    let fold_char = |c: char| {
        if fold {
            c.to_lowercase().next().unwrap_or(c)
        } else {
            c
        }
    };
    let a: Vec<char> = string_designator(&args[0], span)?.chars().collect();
    let b: Vec<char> = string_designator(&args[1], span)?.chars().collect();
    let options = &args[2..];
    let (start1, end1) = super::input::bounds(
        keyword(options, "start1"),
        keyword(options, "end1"),
        a.len(),
        span,
    )?;
    let (start2, end2) = super::input::bounds(
        keyword(options, "start2"),
        keyword(options, "end2"),
        b.len(),
        span,
    )?;
    let (a, b) = (&a[start1..end1], &b[start2..end2]);
    let common = a
        .iter()
        .zip(b)
        .take_while(|(x, y)| fold_char(**x) == fold_char(**y))
        .count();
    let order = match (a.get(common), b.get(common)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => fold_char(*x).cmp(&fold_char(*y)),
    };
    Ok(if ok(order) {
        Value::int((start1 + common) as i64)
    } else {
        Value::Nil
    })
}

/// The case conversions: `f` applied to the part of the string between `:start` and `:end`.
fn convert(args: &[Value], span: Span, f: impl Fn(&str) -> String) -> Result<Value, Flow> {
    Ok(Value::string(converted(args, span, f)?))
}

/// The destructive case conversions (`nstring-upcase`...): the string itself is changed and
/// returned.
fn convert_in_place(args: &[Value], span: Span, f: impl Fn(&str) -> String) -> Result<Value, Flow> {
    let Some(Value::Str(target, _)) = args.first() else {
        return fail(
            "type-error",
            format!(
                "{} is not a string",
                args.first().map_or("nothing".into(), crate::printer::prin1)
            ),
            span,
        );
    };
    target.set_text(converted(args, span, f)?);
    Ok(args[0].clone())
}

/// The text of a case conversion.
fn converted(args: &[Value], span: Span, f: impl Fn(&str) -> String) -> Result<String, Flow> {
    arity(args, 1, 5, "string conversion", span)?;
    let chars: Vec<char> = string_designator(&args[0], span)?.chars().collect();
    let (start, end) = super::input::bounds(
        keyword(&args[1..], "start"),
        keyword(&args[1..], "end"),
        chars.len(),
        span,
    )?;
    let before: String = chars[..start].iter().collect();
    let middle: String = chars[start..end].iter().collect();
    let after: String = chars[end..].iter().collect();
    Ok(format!("{before}{}{after}", f(&middle)))
}

fn capitalize(text: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start = false;
        } else {
            out.push(c);
            start = true;
        }
    }
    out
}

fn intern(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 2, "intern", span)?;
    let name = match &args[0] {
        Value::Str(s, _) => s.text().to_lowercase(),
        other => {
            return fail(
                "type-error",
                format!("intern: {} is not a string", crate::printer::prin1(other)),
                span,
            )
        }
    };
    let package = match args.get(1) {
        Some(p) => Some(string_designator(p, span)?.to_lowercase()),
        None => None,
    };
    if name == "nil" && package.is_none() {
        return Ok(Value::Nil);
    }
    let sym = interp.intern_in(package.as_deref(), &name);
    interp.values = Some(vec![Value::sym(&sym), Value::Nil]);
    Ok(Value::sym(&sym))
}

fn char_arg(v: &Value, span: Span) -> Result<char, Flow> {
    match v {
        Value::Char(c, _) => Ok(*c),
        other => fail(
            "type-error",
            format!("{} is not a character", crate::printer::prin1(other)),
            span,
        ),
    }
}

fn char_map(args: &[Value], span: Span, f: fn(char) -> char) -> Result<Value, Flow> {
    arity(args, 1, 1, "character function", span)?;
    Ok(Value::Char(f(char_arg(&args[0], span)?), NO_SPAN))
}

/// The optional radix of `digit-char-p` and `digit-char`, the second argument: 10 when absent,
/// held to 2..=36.
fn radix_arg(args: &[Value], span: Span) -> Result<u32, Flow> {
    Ok(args
        .get(1)
        .map(|r| super::int(r, span))
        .transpose()?
        .unwrap_or(10)
        .clamp(2, 36) as u32)
}

fn char_test(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    f: fn(char) -> bool,
) -> Result<Value, Flow> {
    arity(args, 1, 1, "character predicate", span)?;
    Ok(interp.bool(f(char_arg(&args[0], span)?)))
}

fn char_compare(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    fold: bool,
    ok: fn(Ordering) -> bool,
) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "character comparison", span)?;
    let mut chars = Vec::new();
    for a in args {
        let c = char_arg(a, span)?;
        chars.push(if fold {
            c.to_lowercase().next().unwrap_or(c)
        } else {
            c
        });
    }
    Ok(interp.bool(chars.windows(2).all(|w| ok(w[0].cmp(&w[1])))))
}

fn trim(args: &[Value], span: Span, left: bool, right: bool) -> Result<Value, Flow> {
    arity(args, 2, 2, "string-trim", span)?;
    let bag: Vec<char> = match &args[0] {
        Value::Str(s, _) => s.text().chars().collect(),
        list => list
            .iter()
            .filter_map(|c| {
                if let Value::Char(c, _) = c {
                    Some(c)
                } else {
                    None
                }
            })
            .collect(),
    };
    let text = string_designator(&args[1], span)?;
    let mut t = text.as_str();
    if left {
        t = t.trim_start_matches(|c| bag.contains(&c));
    }
    if right {
        t = t.trim_end_matches(|c| bag.contains(&c));
    }
    Ok(Value::string(t))
}

/// `(parse-integer string &key start end radix junk-allowed)`: the integer and the index where
/// parsing stopped (the end, past trailing whitespace, unless junk is allowed).
fn parse_integer(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "parse-integer", span)?;
    let text = string_designator(&args[0], span)?;
    let chars: Vec<char> = text.chars().collect();
    let options = &args[1..];
    let (start, end) = super::input::bounds(
        keyword(options, "start"),
        keyword(options, "end"),
        chars.len(),
        span,
    )?;
    let radix = keyword(options, "radix")
        .and_then(Value::as_i64)
        .unwrap_or(10)
        .clamp(2, 36) as u32;
    let junk_allowed = keyword(options, "junk-allowed").is_some_and(Value::truthy);
    let mut pos = start;
    while pos < end && chars[pos].is_whitespace() {
        pos += 1;
    }
    let negative = pos < end && chars[pos] == '-';
    if pos < end && matches!(chars[pos], '-' | '+') {
        pos += 1;
    }
    let digits_start = pos;
    while pos < end && chars[pos].is_digit(radix) {
        pos += 1;
    }
    let digits: String = chars[digits_start..pos].iter().collect();
    let mut stop = pos;
    while stop < end && chars[stop].is_whitespace() {
        stop += 1;
    }
    let parsed = num_bigint::BigInt::parse_bytes(digits.as_bytes(), radix);
    let value = match parsed {
        Some(n) if junk_allowed || stop == end => {
            Some(crate::number::from_big(if negative { -n } else { n }))
        }
        _ if junk_allowed => None,
        _ => {
            return fail(
                "parse-error",
                format!("parse-integer: {text:?} is not an integer"),
                span,
            )
        }
    };
    let index = if junk_allowed { pos } else { stop };
    let value = value.unwrap_or(Value::Nil);
    interp.values = Some(vec![value.clone(), Value::int(index as i64)]);
    Ok(value)
}

/// `(read-from-string string [eof-error-p [eof-value]] &key start end)`: the first form and
/// the index after it (and after the whitespace that ends a token).
fn read_from_string(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "read-from-string", span)?;
    let text = string_designator(&args[0], span)?;
    let chars: Vec<char> = text.chars().collect();
    let options = args.get(3..).unwrap_or(&[]);
    let (start, end) = super::input::bounds(
        keyword(options, "start"),
        keyword(options, "end"),
        chars.len(),
        span,
    )?;
    let part: String = chars[start..end].iter().collect();
    let result = whistler_syntax::read_str(&part);
    if let Some(d) = result.diagnostics.first() {
        return fail(
            "reader-error",
            format!("read-from-string: {}", d.message),
            span,
        );
    }
    let Some(first) = result.forms.first() else {
        if args.get(1).is_some_and(Value::is_nil) {
            let eof = args.get(2).cloned().unwrap_or(Value::Nil);
            interp.values = Some(vec![eof.clone(), Value::int(start as i64)]);
            return Ok(eof);
        }
        return fail(
            "end-of-file",
            "read-from-string: no form in the string",
            span,
        );
    };
    let mut stop = start + part[..first.span.end as usize].chars().count();
    let token = !matches!(chars[stop - 1], ')' | '"');
    if token && stop < end && chars[stop].is_whitespace() {
        stop += 1;
    }
    let value = interp.sexp_to_value_without_spans(first);
    interp.values = Some(vec![value.clone(), Value::int(stop as i64)]);
    Ok(value)
}
