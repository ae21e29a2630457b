//! Printing s-expressions back as Lisp text that reads back to the same forms.
//!
//! `(quote x)` prints as `'x` (likewise `` ` ``, `,`, `,@`, `#'`), symbols that would not read
//! back as themselves are printed between `|` bars, strings and characters are escaped.

use crate::literal::CHAR_NAMES;
use crate::{Sexp, SexpKind, Symbol};
use std::fmt::{self, Display, Formatter, Write};

impl Display for Sexp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SexpKind::List(items) => {
                if let Some(prefix) = prefix_form(items) {
                    let inner = items[1].to_string();
                    // `,` before `@...` or `.` would read as `,@` or `,.`: keep them apart.
                    let space = if prefix == "," && inner.starts_with(['@', '.']) {
                        " "
                    } else {
                        ""
                    };
                    return write!(f, "{prefix}{space}{inner}");
                }
                f.write_char('(')?;
                write_items(f, items)?;
                f.write_char(')')
            }
            SexpKind::DottedList(items, tail) => {
                f.write_char('(')?;
                write_items(f, items)?;
                write!(f, " . {tail})")
            }
            SexpKind::Symbol(sym) => write_symbol(f, sym),
            SexpKind::Int(n) => write!(f, "{n}"),
            SexpKind::Str(s) => write_string(f, s),
            SexpKind::Char(c) => write_char_literal(f, *c),
        }
    }
}

fn write_items(f: &mut Formatter<'_>, items: &[Sexp]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_char(' ')?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// The reader prefix for `(quote x)` and friends.
fn prefix_form(items: &[Sexp]) -> Option<&'static str> {
    let [head, form] = items else { return None };
    let sym = head.as_symbol().filter(|s| s.package.is_none())?;
    Some(match sym.name.as_str() {
        crate::VECTOR_LITERAL if form.as_list().is_some() => "#",
        "quote" => "'",
        "quasiquote" => "`",
        "unquote" => ",",
        "unquote-splicing" => ",@",
        "function" => "#'",
        _ => return None,
    })
}

/// Writes a symbol so that reading the text gives the same symbol.
pub fn write_symbol(f: &mut impl Write, sym: &Symbol) -> fmt::Result {
    match sym.package.as_deref() {
        Some(crate::FLOAT_PACKAGE) => return f.write_str(&sym.name),
        None => {}
        Some("keyword") => f.write_char(':')?,
        Some(p) => {
            write_name(f, p)?;
            f.write_char(':')?;
        }
    }
    write_name(f, &sym.name)
}

fn write_name(f: &mut impl Write, name: &str) -> fmt::Result {
    if name_reads_back(name) {
        return f.write_str(name);
    }
    f.write_char('|')?;
    for c in name.chars() {
        if c == '|' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('|')
}

/// True when `name` written plainly reads back as a symbol with exactly this name.
fn name_reads_back(name: &str) -> bool {
    let plain = !name.is_empty()
        && !name.starts_with('#')
        && name.chars().all(|c| {
            !crate::token::is_terminator(c)
                && !matches!(c, '|' | '\\' | ':')
                && c.to_lowercase().eq(std::iter::once(c))
        });
    plain && !name.chars().all(|c| c == '.') && crate::literal::parse_token(name).is_none()
}

fn write_string(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

fn write_char_literal(f: &mut impl Write, c: char) -> fmt::Result {
    f.write_str("#\\")?;
    if let Some((name, _)) = CHAR_NAMES.iter().find(|&&(_, named)| named == c) {
        let mut chars = name.chars();
        let first = chars.next().map(|c| c.to_ascii_uppercase());
        return write!(f, "{}{}", first.unwrap_or(' '), chars.as_str());
    }
    if c.is_control() || c.is_whitespace() {
        return write!(f, "U+{:04X}", c as u32);
    }
    f.write_char(c)
}
