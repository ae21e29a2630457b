//! Printing s-expressions back as Lisp text that reads back to the same forms.
//!
//! `(quote x)` prints as `'x` (likewise `` ` ``, `,`, `,@`, `#'`), symbols that would not read
//! back as themselves are printed between `|` bars, strings and characters are escaped. The
//! escaping functions are public: the Lisp evaluator's `prin1` writes atoms with them too, so
//! both printers agree on what reads back.

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
            SexpKind::Str(s) => write_string_literal(f, s),
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
            write_symbol_name(f, p, LetterCase::Lower)?;
            f.write_char(':')?;
        }
    }
    write_symbol_name(f, &sym.name, LetterCase::Lower)
}

/// How [`write_symbol_name`] spells a name that needs no bars (the reader lower-cases both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LetterCase {
    /// `xdp-pass`, as source is written.
    Lower,
    /// `XDP-PASS`, as Common Lisp prints.
    Upper,
}

/// Writes a symbol's (or package's) name so that it reads back as exactly `name`: plainly
/// when it can, else between `|` bars with `|` and `\` escaped.
pub fn write_symbol_name(f: &mut impl Write, name: &str, case: LetterCase) -> fmt::Result {
    if !name_reads_back(name) {
        f.write_char('|')?;
        for c in name.chars() {
            if c == '|' || c == '\\' {
                f.write_char('\\')?;
            }
            f.write_char(c)?;
        }
        return f.write_char('|');
    }
    match case {
        LetterCase::Lower => f.write_str(name),
        LetterCase::Upper => f.write_str(&name.to_uppercase()),
    }
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

/// Writes `s` as a string literal: between double quotes, `"` and `\` escaped.
pub fn write_string_literal(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// Writes `c` as a character literal: `#\a`, `#\Space` for named characters, `#\U+00A0` for
/// other whitespace and control characters.
pub fn write_char_literal(f: &mut impl Write, c: char) -> fmt::Result {
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
