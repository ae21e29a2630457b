//! The macro's input: `[attributes] [pub] struct Name;` followed by the Lisp, given as tokens, as
//! one string literal (`r#"..."#`), or as `include "file.lisp"` relative to the calling file.

use proc_macro2::{Delimiter, Ident, Literal, Span, TokenStream, TokenTree};
use std::path::PathBuf;

/// Where the macro was called from.
pub struct CallFile {
    /// rustc's name for the file (used as the source name in diagnostics and line info).
    pub display_name: String,
    /// The file on disk, when there is one.
    pub local_path: Option<PathBuf>,
}

/// The declared session type.
pub struct Header {
    pub attributes: TokenStream,
    pub visibility: TokenStream,
    pub name: Ident,
}

/// How the Lisp was written.
pub enum Body {
    Tokens(TokenStream),
    Literal(Literal),
    File { literal: Literal },
}

/// A mistake in the Rust-side syntax of the macro call.
pub struct InputError {
    pub span: Span,
    pub message: String,
}

fn error(span: Span, message: impl Into<String>) -> InputError {
    InputError {
        span,
        message: message.into(),
    }
}

/// Splits `[#[attr]]* [pub[(..)]] struct Name;` from the rest.
pub fn parse(input: TokenStream) -> Result<(Header, Body), InputError> {
    let mut tokens = input.into_iter().peekable();
    let mut attributes = TokenStream::new();
    while matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '#') {
        let hash = tokens.next().expect("peeked");
        match tokens.next() {
            Some(group @ TokenTree::Group(_)) => attributes.extend([hash, group]),
            other => {
                return Err(error(
                    other.map_or(hash.span(), |t| t.span()),
                    "expected `[...]` after `#`",
                ))
            }
        }
    }
    let mut visibility = TokenStream::new();
    if matches!(tokens.peek(), Some(TokenTree::Ident(i)) if i == "pub") {
        visibility.extend(tokens.next());
        if matches!(tokens.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
        {
            visibility.extend(tokens.next());
        }
    }
    let usage = "a session starts with `pub struct Name;` (or `struct Name;`), then the Lisp forms";
    match tokens.next() {
        Some(TokenTree::Ident(i)) if i == "struct" => {}
        Some(other) => return Err(error(other.span(), usage)),
        None => return Err(error(Span::call_site(), usage)),
    }
    let name = match tokens.next() {
        Some(TokenTree::Ident(name)) => name,
        other => return Err(error(other.map_or(Span::call_site(), |t| t.span()), usage)),
    };
    match tokens.next() {
        Some(TokenTree::Punct(p)) if p.as_char() == ';' => {}
        other => {
            return Err(error(
                other.map_or(name.span(), |t| t.span()),
                "expected `;` after the session's name",
            ))
        }
    }
    let mut rest: Vec<TokenTree> = tokens.collect();
    // rustfmt rewrites `session!(pub struct S; r#"..."#)` as `(pub struct S;, r#"..."#)`: a
    // comma before a string body is accepted, so that formatted code still builds.
    if let [TokenTree::Punct(comma), after @ ..] = rest.as_slice() {
        let string_body = match after {
            [TokenTree::Literal(lit)] => is_string_literal(lit),
            [TokenTree::Ident(kw), TokenTree::Literal(lit)] => {
                kw == "include" && is_string_literal(lit)
            }
            _ => false,
        };
        if comma.as_char() == ',' && string_body {
            rest.remove(0);
        }
    }
    let body = match rest.as_slice() {
        [TokenTree::Literal(lit)] if is_string_literal(lit) => Body::Literal(lit.clone()),
        [TokenTree::Ident(kw), TokenTree::Literal(lit)]
            if kw == "include" && is_string_literal(lit) =>
        {
            Body::File {
                literal: lit.clone(),
            }
        }
        _ => Body::Tokens(rest.into_iter().collect()),
    };
    Ok((
        Header {
            attributes,
            visibility,
            name,
        },
        body,
    ))
}

fn is_string_literal(lit: &Literal) -> bool {
    let text = lit.to_string();
    text.starts_with('"') || text.starts_with("r\"") || text.starts_with("r#")
}

/// The value of a string literal and how many characters precede it in the literal's text
/// (`r#"` is 3), so that positions inside raw strings can be mapped to the .rs file.
pub fn string_value(lit: &Literal) -> Result<(String, usize), InputError> {
    let text = lit.to_string();
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let inner = &raw[hashes + 1..raw.len() - hashes - 1];
        return Ok((inner.to_string(), hashes + 2));
    }
    let inner = &text[1..text.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some('\n') => {
                let rest = chars.as_str().trim_start();
                chars = rest.chars();
            }
            _ => {
                return Err(error(
                    lit.span(),
                    "use a raw string literal (`r#\"...\"#`) for Lisp with escapes",
                ))
            }
        }
    }
    Ok((out, 1))
}
