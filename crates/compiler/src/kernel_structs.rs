//! Kernel struct layouts read from BTF, for `import-kernel-struct`: each field's byte offset and
//! how BPF code reads it. Members of anonymous structs and unions are flattened into their
//! parent, as C code names them.

use whistler_object::btf::{Btf, BtfKind, Kind, INT_SIGNED};

/// A struct (or union) of the kernel, by its C name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelStruct {
    pub name: String,
    pub size: u32,
    pub fields: Vec<KernelField>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelField {
    /// The C name (`real_parent`).
    pub name: String,
    /// Bytes from the start of the struct.
    pub offset: u32,
    pub access: FieldAccess,
}

/// How BPF code reads a field through a kernel pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldAccess {
    /// An integer, enum or pointer, loaded (with `probe-read-kernel`) as this Whistler type:
    /// `u8`..`u64` or `i8`..`i64`; pointers are `u64`.
    Value(&'static str),
    /// An embedded struct or union (with its C name when it has one), an array or anything else
    /// that is not a scalar: the accessor gives its address.
    Address(Option<String>),
    /// A bitfield or a member off a byte boundary: not readable by a byte load.
    Bitfield,
}

/// The layout of kernel struct (or union) `name`.
pub fn kernel_struct(btf: &Btf, name: &str) -> Result<KernelStruct, String> {
    let id = [BtfKind::Struct, BtfKind::Union]
        .into_iter()
        .find_map(|kind| {
            btf.find_all_by_name_kind(name, kind)
                .into_iter()
                .find(|&id| btf.members(id).is_ok_and(|m| !m.is_empty()))
        })
        .ok_or_else(|| not_found(btf, name))?;
    let size = btf.resolve_size(id).map_err(|e| e.to_string())?;
    let mut fields = Vec::new();
    collect_fields(btf, id, 0, &mut fields, 0);
    Ok(KernelStruct {
        name: name.to_string(),
        size,
        fields,
    })
}

/// Anonymous members nest at most this deep (the kernel's go a few levels).
const MAX_NESTING: usize = 16;

fn collect_fields(btf: &Btf, id: u32, base: u32, out: &mut Vec<KernelField>, depth: usize) {
    let Ok(members) = btf.members(id) else {
        return;
    };
    for member in members {
        let name = btf.member_name(member);
        let offset = base + member.bit_offset / 8;
        let target = btf.skip_mods_and_typedefs(member.ty);
        let kind = btf.kind(target);
        if name.is_empty() {
            if matches!(kind, Some(Kind::Struct { .. } | Kind::Union { .. }))
                && depth < MAX_NESTING
                && member.byte_offset().is_some()
            {
                collect_fields(btf, target, offset, out, depth + 1);
            }
            continue;
        }
        let access = if member.is_bitfield(btf) || member.byte_offset().is_none() {
            FieldAccess::Bitfield
        } else {
            match kind {
                Some(Kind::Ptr { .. }) => FieldAccess::Value("u64"),
                Some(Kind::Int { size, encoding, .. }) => scalar(*size, encoding & INT_SIGNED != 0),
                Some(Kind::Enum { size, signed, .. } | Kind::Enum64 { size, signed, .. }) => {
                    scalar(*size, *signed)
                }
                Some(Kind::Struct { .. } | Kind::Union { .. }) => {
                    let struct_name = btf.name(target);
                    FieldAccess::Address((!struct_name.is_empty()).then(|| struct_name.to_string()))
                }
                _ => FieldAccess::Address(None),
            }
        };
        out.push(KernelField {
            name: name.to_string(),
            offset,
            access,
        });
    }
}

/// The Whistler type of a `size`-byte integer; other sizes (`__int128`) are read by address.
fn scalar(size: u32, signed: bool) -> FieldAccess {
    let name = match (size, signed) {
        (1, false) => "u8",
        (2, false) => "u16",
        (4, false) => "u32",
        (8, false) => "u64",
        (1, true) => "i8",
        (2, true) => "i16",
        (4, true) => "i32",
        (8, true) => "i64",
        _ => return FieldAccess::Address(None),
    };
    FieldAccess::Value(name)
}

fn not_found(btf: &Btf, name: &str) -> String {
    let names = btf.iter().filter_map(|(id, ty)| {
        matches!(ty.kind, Kind::Struct { .. } | Kind::Union { .. }).then(|| btf.name(id))
    });
    let names: Vec<&str> = names.filter(|n| !n.is_empty()).collect();
    let mut message = format!("the kernel's BTF has no struct or union named `{name}`");
    if let Some(near) = crate::diag::closest(name, names.iter().copied()) {
        message.push_str(&format!("; did you mean `{near}`?"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use whistler_object::btf::Member;

    /// struct task { int pid; unsigned long flags; struct task *parent; char comm[16];
    ///   union { u16 a; u32 b; }; struct list links; unsigned x:3; }
    fn sample() -> Btf {
        let mut btf = Btf::new();
        let int = btf.add(
            "int",
            Kind::Int {
                size: 4,
                encoding: INT_SIGNED,
                offset: 0,
                bits: 32,
            },
        );
        let ulong = btf.add(
            "unsigned long",
            Kind::Int {
                size: 8,
                encoding: 0,
                offset: 0,
                bits: 64,
            },
        );
        let u16_ = btf.add(
            "u16",
            Kind::Int {
                size: 2,
                encoding: 0,
                offset: 0,
                bits: 16,
            },
        );
        let u32_ = btf.add(
            "u32",
            Kind::Int {
                size: 4,
                encoding: 0,
                offset: 0,
                bits: 32,
            },
        );
        let char_ = btf.add(
            "char",
            Kind::Int {
                size: 1,
                encoding: 0,
                offset: 0,
                bits: 8,
            },
        );
        let comm = btf.add(
            "",
            Kind::Array {
                elem: char_,
                index: int,
                nelems: 16,
            },
        );
        let member = |btf: &mut Btf, name: &str, ty, bit_offset, bitfield_size| Member {
            name_off: btf.add_string(name),
            ty,
            bit_offset,
            bitfield_size,
        };
        let a = member(&mut btf, "a", u16_, 0, 0);
        let b = member(&mut btf, "b", u32_, 0, 0);
        let anon = btf.add(
            "",
            Kind::Union {
                size: 4,
                members: vec![a, b],
                bitfield_encoding: false,
            },
        );
        let next = member(&mut btf, "next", ulong, 0, 0);
        let list = btf.add(
            "list",
            Kind::Struct {
                size: 8,
                members: vec![next],
                bitfield_encoding: false,
            },
        );
        let task_ptr = btf.add_type(whistler_object::btf::Type {
            name_off: 0,
            kind: Kind::Ptr { ty: 10 },
        });
        let members = vec![
            member(&mut btf, "pid", int, 0, 0),
            member(&mut btf, "flags", ulong, 64, 0),
            member(&mut btf, "parent", task_ptr, 128, 0),
            member(&mut btf, "comm", comm, 192, 0),
            member(&mut btf, "", anon, 320, 0),
            member(&mut btf, "links", list, 384, 0),
            member(&mut btf, "x", u32_, 448, 3),
        ];
        let task = btf.add(
            "task",
            Kind::Struct {
                size: 64,
                members,
                bitfield_encoding: true,
            },
        );
        assert_eq!(task, 10, "the pointer above refers to it");
        btf
    }

    #[test]
    fn fields_offsets_and_access() {
        let layout = kernel_struct(&sample(), "task").unwrap();
        assert_eq!(layout.size, 64);
        let fields: Vec<(&str, u32, &FieldAccess)> = layout
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.offset, &f.access))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("pid", 0, &FieldAccess::Value("i32")),
                ("flags", 8, &FieldAccess::Value("u64")),
                ("parent", 16, &FieldAccess::Value("u64")),
                ("comm", 24, &FieldAccess::Address(None)),
                ("a", 40, &FieldAccess::Value("u16")),
                ("b", 40, &FieldAccess::Value("u32")),
                ("links", 48, &FieldAccess::Address(Some("list".into()))),
                ("x", 56, &FieldAccess::Bitfield),
            ]
        );
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        let e = kernel_struct(&sample(), "tsak").unwrap_err();
        assert!(e.contains("no struct or union named `tsak`"), "{e}");
        assert!(e.contains("did you mean `task`?"), "{e}");
    }
}
