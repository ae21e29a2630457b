//! The printer's entry points and its control variables: `print`, `prin1`, `princ`, `pprint`,
//! `write` (with `:stream`, `:escape`, `:base`, `:radix`, `:case`), the `...-to-string`
//! functions, and `*print-base*`, `*print-radix*`, `*print-case*`, `*print-escape*`. The
//! other `*print-...*` variables exist with their standard defaults.

use super::{arity, keyword};
use crate::error::Flow;
use crate::interp::Interp;
use crate::streams::Sink;
use crate::value::BuiltinFn;
use crate::value::Value;
use whistler_syntax::Span;

/// How to print, from the printer variables and `write`'s keywords.
struct Style {
    escape: bool,
    base: u32,
    radix: bool,
    /// `:upcase`, `:downcase` or `:capitalize`.
    case: String,
}

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("print", |i, a, s| out(i, a, s, "\n", true, " ")),
    ("prin1", |i, a, s| out(i, a, s, "", true, "")),
    ("princ", |i, a, s| out(i, a, s, "", false, "")),
    ("pprint", |i, a, s| {
        out(i, a, s, "\n", true, "")?;
        Ok(Value::Nil)
    }),
    ("write", |i, a, s| {
        arity(a, 1, usize::MAX, "write", s)?;
        let text = styled(i, &a[0], Some(&a[1..]), None);
        Sink::of(i, keyword(&a[1..], "stream"), s)?.write(i, &text)?;
        Ok(a[0].clone())
    }),
    ("write-to-string", |i, a, s| {
        arity(a, 1, usize::MAX, "write-to-string", s)?;
        Ok(Value::string(styled(i, &a[0], Some(&a[1..]), None)))
    }),
    ("prin1-to-string", |i, a, s| {
        arity(a, 1, 1, "prin1-to-string", s)?;
        Ok(Value::string(styled(i, &a[0], None, Some(true))))
    }),
    ("princ-to-string", |i, a, s| {
        arity(a, 1, 1, "princ-to-string", s)?;
        Ok(Value::string(styled(i, &a[0], None, Some(false))))
    }),
    ("write-sequence", |i, a, s| {
        arity(a, 2, 6, "write-sequence", s)?;
        let items: Vec<Value> = match &a[0] {
            Value::Str(text, _) => text
                .text()
                .chars()
                .map(|c| Value::Char(c, crate::value::NO_SPAN))
                .collect(),
            Value::Vector(v) => v.borrow().clone(),
            other => other.iter().collect(),
        };
        let (start, end) = super::input::bounds(
            keyword(&a[2..], "start"),
            keyword(&a[2..], "end"),
            items.len(),
            s,
        )?;
        let mut text = String::new();
        for item in &items[start..end] {
            match item {
                Value::Char(c, _) => text.push(*c),
                Value::Int(n, _) => text.push(char::from(*n as u8)),
                other => text.push_str(&crate::printer::princ(other)),
            }
        }
        Sink::of(i, Some(&a[1]), s)?.write(i, &text)?;
        Ok(a[0].clone())
    }),
];

pub fn install(interp: &mut Interp) {
    let defaults: [(&str, Value); 14] = [
        ("*print-base*", Value::int(10)),
        ("*print-radix*", Value::Nil),
        ("*print-case*", Value::sym(&interp.keyword("upcase"))),
        ("*print-escape*", interp.t()),
        ("*print-pretty*", Value::Nil),
        ("*print-readably*", Value::Nil),
        ("*print-circle*", Value::Nil),
        ("*print-gensym*", interp.t()),
        ("*print-array*", interp.t()),
        ("*print-length*", Value::Nil),
        ("*print-level*", Value::Nil),
        ("*print-lines*", Value::Nil),
        ("*print-right-margin*", Value::Nil),
        ("*print-miser-width*", Value::Nil),
    ];
    for (name, value) in defaults {
        interp.set_global(name, value);
    }
}

fn out(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    before: &str,
    escape: bool,
    after: &str,
) -> Result<Value, Flow> {
    arity(args, 1, 2, "print", span)?;
    let text = format!(
        "{before}{}{after}",
        styled(interp, &args[0], None, Some(escape))
    );
    Sink::of(interp, args.get(1), span)?.write(interp, &text)?;
    Ok(args[0].clone())
}

/// `value` printed under the printer variables (`prin1` when `escape`, else `princ`), as
/// `format`'s `~S` and `~A` print.
pub(crate) fn print_styled(interp: &mut Interp, value: &Value, escape: bool) -> String {
    styled(interp, value, None, Some(escape))
}

/// `value` printed under the printer variables, overridden by `write`-style keywords and, for
/// `prin1`/`princ`, by `escape`.
fn styled(
    interp: &mut Interp,
    value: &Value,
    keys: Option<&[Value]>,
    escape: Option<bool>,
) -> String {
    let setting = |interp: &mut Interp, key: &str, variable: &str| -> Value {
        keys.and_then(|k| keyword(k, key).cloned())
            .or_else(|| interp.global(variable))
            .unwrap_or(Value::Nil)
    };
    let style = Style {
        escape: escape.unwrap_or_else(|| setting(interp, "escape", "*print-escape*").truthy()),
        base: setting(interp, "base", "*print-base*")
            .as_i64()
            .filter(|b| (2..=36).contains(b))
            .unwrap_or(10) as u32,
        radix: setting(interp, "radix", "*print-radix*").truthy(),
        case: setting(interp, "case", "*print-case*")
            .as_sym()
            .map_or_else(|| "upcase".to_string(), |s| s.name.clone()),
    };
    if style.base == 10 && !style.radix && style.case == "upcase" {
        return plain(value, style.escape);
    }
    let mut text = String::new();
    write_styled(&mut text, value, &style, 0);
    text
}

fn plain(value: &Value, escape: bool) -> String {
    if escape {
        crate::printer::prin1(value)
    } else {
        crate::printer::princ(value)
    }
}

/// Prints integers in the base and symbols in the case asked, through lists and vectors;
/// everything else as the printer does.
fn write_styled(out: &mut String, value: &Value, style: &Style, depth: usize) {
    if depth > 1000 {
        out.push_str("...");
        return;
    }
    match value {
        Value::Int(..) | Value::Big(_) => {
            let n = crate::number::num(value, crate::value::NO_SPAN).ok();
            let digits = n.map_or_else(String::new, |n| {
                crate::number::to_string_radix(&n, style.base)
            });
            match (style.radix, style.base) {
                (false, _) => out.push_str(&digits),
                (true, 10) => {
                    out.push_str(&digits);
                    out.push('.');
                }
                (true, 2) => out.push_str(&format!("#b{digits}")),
                (true, 8) => out.push_str(&format!("#o{digits}")),
                (true, 16) => out.push_str(&format!("#x{digits}")),
                (true, b) => out.push_str(&format!("#{b}r{digits}")),
            }
        }
        Value::Sym(..) | Value::Nil => {
            let text = plain(value, style.escape);
            out.push_str(&match style.case.as_str() {
                "downcase" => text.to_lowercase(),
                "capitalize" => capitalize(&text),
                _ => text,
            });
        }
        Value::Cons(_) => {
            out.push('(');
            let mut rest = value.clone();
            let mut first = true;
            let mut walked = 0;
            while let Value::Cons(c) = rest.clone() {
                walked += 1;
                if walked > crate::value::MAX_LIST_WALK {
                    break;
                }
                if !first {
                    out.push(' ');
                }
                first = false;
                write_styled(out, &c.car(), style, depth + 1);
                rest = c.cdr();
            }
            if !rest.is_nil() {
                out.push_str(" . ");
                write_styled(out, &rest, style, depth + 1);
            }
            out.push(')');
        }
        other => out.push_str(&plain(other, style.escape)),
    }
}

fn capitalize(text: &str) -> String {
    let mut out = String::new();
    let mut word_start = true;
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(if word_start {
                c.to_uppercase().collect::<Vec<_>>()
            } else {
                c.to_lowercase().collect()
            });
            word_start = false;
        } else {
            out.push(c);
            word_start = true;
        }
    }
    out
}
