//! Rust names for Lisp names: `pkt-count` → `pkt_count`, `call-event` → `CallEvent`.

use proc_macro2::{Ident, Span};

/// `pkt-count` → `pkt_count`: the object's name for it ([`whistler_object::symbol_name`]), in
/// lower case.
pub fn snake_case(lisp: &str) -> String {
    let out = whistler_object::symbol_name(lisp).to_ascii_lowercase();
    if out.is_empty() {
        return "_".into();
    }
    out
}

/// `call-event` → `CallEvent`.
pub fn camel_case(lisp: &str) -> String {
    let mut out = String::new();
    for part in lisp
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// An identifier for a field or type, escaping Rust keywords.
pub fn ident(name: &str, span: Span) -> Ident {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern",
        "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
        "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use",
        "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro", "override",
        "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    match name {
        "self" | "super" | "crate" | "Self" => Ident::new(&format!("{name}_"), span),
        _ if KEYWORDS.contains(&name) => Ident::new_raw(name, span),
        _ => Ident::new(name, span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(snake_case("pkt-count"), "pkt_count");
        assert_eq!(snake_case("count-egress"), "count_egress");
        assert_eq!(snake_case("*hits*"), "_hits_");
        assert_eq!(camel_case("call-event"), "CallEvent");
        assert_eq!(camel_case("ipv4-hdr"), "Ipv4Hdr");
        assert_eq!(ident("type", Span::call_site()).to_string(), "r#type");
    }
}
