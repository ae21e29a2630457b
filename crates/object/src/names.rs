//! The one rule that turns a Lisp name (`pkt-count`) into the name objects carry (`pkt_count`).

/// The name a program, map, struct or field of `name` carries in the object: ELF symbol, BTF
/// name, and the name loaders and sessions look things up by. The kernel accepts only C
/// identifiers in BTF and `[A-Za-z0-9_.]` in program and map names, and libbpf passes names on
/// unchanged, so every other character becomes `_` and a leading digit gets a `_` before it.
/// Distinct Lisp names can meet here (`a-b` and `a_b`); the compiler reports such clashes.
pub fn symbol_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::symbol_name;

    #[test]
    fn lisp_names_become_c_identifiers() {
        assert_eq!(symbol_name("pkt-count"), "pkt_count");
        assert_eq!(symbol_name("already_c"), "already_c");
        assert_eq!(symbol_name("a.b*c"), "a_b_c");
        assert_eq!(symbol_name("1st"), "_1st");
        assert_eq!(symbol_name(&symbol_name("x-1")), "x_1", "idempotent");
    }
}
