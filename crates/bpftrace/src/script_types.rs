//! The layout of the C structs and unions a script declares (`struct NAME { ... };`), with
//! C's alignment rules on x86-64 and arm64, for `offsetof`: members of integer types,
//! pointers, arrays, and structs declared earlier in the script.

use crate::ast::StructDecl;

/// A member of a declared struct: where it starts and, for an embedded struct, its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub offset: u64,
    pub embedded: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub size: u64,
    pub align: u64,
    pub members: Vec<Member>,
}

/// The layout of declared struct `name` (`None` when the script declares no such struct).
/// Structs it embeds must be declared before it.
pub fn layout(structs: &[StructDecl], name: &str) -> Option<Result<Layout, String>> {
    let index = structs.iter().rposition(|s| s.name == name)?;
    Some(layout_of(&structs[..index], &structs[index]))
}

fn layout_of(earlier: &[StructDecl], decl: &StructDecl) -> Result<Layout, String> {
    let kind = if decl.union { "union" } else { "struct" };
    let mut layout = Layout {
        size: 0,
        align: 1,
        members: Vec::new(),
    };
    for declaration in decl.members.split(';').map(str::trim) {
        if declaration.is_empty() {
            continue;
        }
        let fail = |why: &str| format!("{kind} {}: `{declaration}`: {why}", decl.name);
        if declaration.contains(['{', '}', '(', ':']) {
            return Err(fail(
                "only members of integer, pointer, array and struct types",
            ));
        }
        let mut declarators = declaration.split(',');
        let first = declarators.next().unwrap_or_default();
        let base_end = first
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == ']'))
            .map_or(0, |i| i + 1);
        let base = first[..base_end]
            .trim_end_matches(['*', ' ', '\t', '\n'])
            .trim();
        let first_declarator = &first[base.len()..];
        for declarator in std::iter::once(first_declarator).chain(declarators) {
            let declarator = declarator.trim();
            let pointer = declarator.starts_with('*');
            let declarator = declarator.trim_start_matches(['*', ' ']);
            let (name, dims) = match declarator.split_once('[') {
                Some((name, rest)) => (name.trim(), Some(rest)),
                None => (declarator, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(fail("expected a member name"));
            }
            let (mut size, align, embedded) = match pointer {
                true => (8, 8, None),
                false => base_type(earlier, base).map_err(|why| fail(&why))?,
            };
            for dim in dims.into_iter().flat_map(|d| d.split('[')) {
                let count = dim.trim().trim_end_matches(']').trim();
                let count: u64 = count
                    .parse()
                    .map_err(|_| fail("array sizes must be numbers"))?;
                size *= count;
            }
            let offset = match decl.union {
                true => 0,
                false => layout.size.next_multiple_of(align),
            };
            layout.size = layout.size.max(offset + size);
            layout.align = layout.align.max(align);
            layout.members.push(Member {
                name: name.to_string(),
                offset,
                embedded: embedded.filter(|_| dims.is_none()),
            });
        }
    }
    layout.size = layout.size.next_multiple_of(layout.align);
    Ok(layout)
}

/// The size and alignment of a member's type, and the struct's name for an embedded struct.
fn base_type(earlier: &[StructDecl], base: &str) -> Result<(u64, u64, Option<String>), String> {
    let words: Vec<&str> = base
        .split_whitespace()
        .filter(|w| !matches!(*w, "const" | "volatile"))
        .collect();
    if let ["struct" | "union", name] = words[..] {
        return match layout(earlier, name) {
            Some(Ok(inner)) => Ok((inner.size, inner.align, Some(name.to_string()))),
            Some(Err(why)) => Err(why),
            None => Err(format!("`{name}` is not declared before it in the script")),
        };
    }
    let size = match words.join(" ").as_str() {
        "char" | "signed char" | "unsigned char" | "bool" | "_Bool" | "u8" | "s8" | "__u8"
        | "__s8" | "int8_t" | "uint8_t" => 1,
        "short" | "unsigned short" | "short int" | "unsigned short int" | "u16" | "s16"
        | "__u16" | "__s16" | "int16_t" | "uint16_t" => 2,
        "int" | "unsigned" | "unsigned int" | "signed int" | "u32" | "s32" | "__u32" | "__s32"
        | "int32_t" | "uint32_t" | "pid_t" | "uid_t" | "gid_t" => 4,
        "long" | "unsigned long" | "long int" | "unsigned long int" | "long long"
        | "unsigned long long" | "u64" | "s64" | "__u64" | "__s64" | "int64_t" | "uint64_t"
        | "size_t" | "ssize_t" => 8,
        _ => return Err(format!("unknown type `{base}`")),
    };
    Ok((size, size, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use whistler_syntax::Span;

    fn decl(name: &str, union: bool, members: &str) -> StructDecl {
        StructDecl {
            name: name.into(),
            union,
            members: members.into(),
            span: Span::default(),
        }
    }

    fn offsets(layout: &Layout) -> Vec<(&str, u64)> {
        let members = layout.members.iter();
        members.map(|m| (m.name.as_str(), m.offset)).collect()
    }

    #[test]
    fn c_alignment_padding_arrays_and_embedded_structs() {
        let structs = [
            decl("inner", false, " char c; int i; "),
            decl(
                "outer",
                false,
                "char tag; struct inner in; char name[5]; long *p, n; unsigned short s;",
            ),
            decl("either", true, "char c[3]; int i;"),
        ];
        let inner = layout(&structs, "inner").unwrap().unwrap();
        assert_eq!((inner.size, inner.align), (8, 4));
        assert_eq!(offsets(&inner), [("c", 0), ("i", 4)]);
        let outer = layout(&structs, "outer").unwrap().unwrap();
        let expected = [
            ("tag", 0),
            ("in", 4),
            ("name", 12),
            ("p", 24),
            ("n", 32),
            ("s", 40),
        ];
        assert_eq!(offsets(&outer), expected);
        assert_eq!(outer.size, 48);
        assert_eq!(outer.members[1].embedded.as_deref(), Some("inner"));
        let either = layout(&structs, "either").unwrap().unwrap();
        assert_eq!(
            (either.size, offsets(&either)),
            (4, vec![("c", 0), ("i", 0)])
        );
        assert!(layout(&structs, "nothing").is_none());
    }

    #[test]
    fn unsupported_members_are_reported() {
        let structs = [
            decl("s", false, "int x : 3;"),
            decl("t", false, "struct u v;"),
        ];
        let err = layout(&structs, "s").unwrap().unwrap_err();
        assert!(err.starts_with("struct s: `int x : 3`"), "{err}");
        let err = layout(&structs, "t").unwrap().unwrap_err();
        assert!(err.contains("`u` is not declared"), "{err}");
    }
}
