//! Printing values as Common Lisp does: `prin1` (readable: strings quoted, `#\c` characters,
//! `|odd symbols|` between bars, escaped by the reader crate's rules so the text reads back)
//! and `princ` (for people). Symbols print in upper case, like SBCL. Deep or circular
//! structure is cut off with `...` instead of looping.

use crate::value::{Function, Sym, Value};
use std::fmt::Write;
use whistler_syntax::{write_char_literal, write_string_literal, write_symbol_name, LetterCase};

/// Lists longer than this, or nested deeper, print with `...`.
const MAX_LENGTH: usize = 100_000;
const MAX_DEPTH: usize = 1_000;

pub fn prin1(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, true, 0);
    out
}

pub fn princ(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, false, 0);
    out
}

/// A symbol's name for messages: lower case as written in source, with its package.
pub fn symbol_text(s: &Sym) -> String {
    match s.package.as_deref() {
        Some("keyword") => format!(":{}", s.name),
        Some(p) => format!("{p}:{}", s.name),
        None => s.name.clone(),
    }
}

/// `princ` shows only the name (`:key` prints as `KEY`, like SBCL); `prin1` adds the package
/// marker.
fn write_symbol(out: &mut String, s: &Sym, readably: bool) {
    if !readably {
        out.push_str(&s.lisp_name());
        return;
    }
    match s.package.as_deref() {
        Some("keyword") => out.push(':'),
        Some(p) => {
            let _ = write_symbol_name(out, p, LetterCase::Upper);
            out.push(':');
        }
        None if !s.interned => out.push_str("#:"),
        None => {}
    }
    let _ = write_symbol_name(out, &s.name, LetterCase::Upper);
}

fn write_value(out: &mut String, v: &Value, readably: bool, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    match v {
        Value::Nil => out.push_str("NIL"),
        Value::Int(n, _) => {
            let _ = write!(out, "{n}");
        }
        Value::Big(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Ratio(r) => {
            let _ = write!(out, "{}/{}", r.numer(), r.denom());
        }
        Value::Float(x) => {
            let _ = write!(out, "{x:?}");
        }
        Value::Sym(s, _) => write_symbol(out, s, readably),
        Value::Str(s, _) if readably => {
            let _ = write_string_literal(out, &s.text());
        }
        Value::Str(s, _) => out.push_str(&s.text()),
        Value::Char(c, _) if readably => {
            let _ = write_char_literal(out, *c);
        }
        Value::Char(c, _) => out.push(*c),
        Value::Cons(_) => write_list(out, v, readably, depth),
        Value::Vector(items) => {
            out.push_str("#(");
            for (i, item) in items.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_value(out, item, readably, depth + 1);
            }
            out.push(')');
        }
        Value::Hash(h) => {
            let h = h.borrow();
            let _ = write!(
                out,
                "#<HASH-TABLE :TEST {:?} :COUNT {}>",
                h.test,
                h.map.len()
            );
            out.make_ascii_uppercase_tail();
        }
        Value::Func(f) => {
            let kind = if matches!(**f, Function::Closure(_)) {
                "FUNCTION"
            } else {
                "BUILTIN-FUNCTION"
            };
            let _ = write!(out, "#<{kind} {}>", f.name().to_uppercase());
        }
        Value::Condition(c) if readably => {
            let _ = write!(out, "#<{} \"{}\">", c.ctype.lisp_name(), c.message);
        }
        Value::Condition(c) => out.push_str(&c.message),
        Value::Foreign(_) => out.push_str("#<FOREIGN-OBJECT>"),
    }
}

trait UpperTail {
    fn make_ascii_uppercase_tail(&mut self);
}

impl UpperTail for String {
    /// Upper-cases the `#<...>` just written (for the hash table's test name).
    fn make_ascii_uppercase_tail(&mut self) {
        if let Some(start) = self.rfind("#<") {
            let tail = self.split_off(start).to_ascii_uppercase();
            self.push_str(&tail);
        }
    }
}

fn quote_prefix(v: &Value) -> Option<&'static str> {
    let s = v.car();
    let s = s.as_sym()?;
    if s.package.is_some() || !v.cdr().cdr().is_nil() || v.cdr().is_nil() {
        return None;
    }
    Some(match s.name.as_str() {
        "quote" => "'",
        "function" => "#'",
        "quasiquote" => "`",
        "unquote" => ",",
        "unquote-splicing" => ",@",
        _ => return None,
    })
}

fn write_list(out: &mut String, v: &Value, readably: bool, depth: usize) {
    if let Some(prefix) = quote_prefix(v) {
        out.push_str(prefix);
        write_value(out, &v.cdr().car(), readably, depth + 1);
        return;
    }
    out.push('(');
    let mut rest = v.clone();
    let mut count = 0;
    loop {
        match rest {
            Value::Cons(c) => {
                if count > 0 {
                    out.push(' ');
                }
                if count >= MAX_LENGTH {
                    out.push_str("...");
                    break;
                }
                write_value(out, &c.car(), readably, depth + 1);
                count += 1;
                rest = c.cdr();
            }
            Value::Nil => break,
            atom => {
                out.push_str(" . ");
                write_value(out, &atom, readably, depth + 1);
                break;
            }
        }
    }
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::prin1;
    use crate::Interp;
    use whistler_syntax::read_str;

    /// `prin1` escapes atoms by the reader crate's rules, so it agrees with that crate's
    /// printer and what it writes reads back as the same atom. (With rules of its own it wrote
    /// `#\U+000C` for `#\Page`, a raw no-break space after `#\`, and `|a b|` as `A B`.)
    #[test]
    fn prin1_agrees_with_the_reader_crate_and_reads_back() {
        let sources = [
            r"#\Page",
            r"#\Rubout",
            r"#\Bell",
            r"#\U+00A0",
            r"#\a",
            r#""say \"hi\" \\ now""#,
            "|a b|",
            "|Foo|",
            r"|back\\slash|",
            "|123|",
            "plain-name",
            ":keyword",
        ];
        let mut interp = Interp::new();
        for source in sources {
            let form = &read_str(source).forms[0];
            let printed = prin1(&interp.sexp_to_value(form));
            assert_eq!(
                printed.to_lowercase(),
                form.to_string().to_lowercase(),
                "{source}"
            );
            let reread = &read_str(&printed).forms[0];
            assert_eq!(
                reread.to_string(),
                form.to_string(),
                "{source} via {printed}"
            );
        }
    }
}
