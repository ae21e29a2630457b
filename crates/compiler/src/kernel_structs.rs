//! Kernel types read from BTF: struct layouts for `import-kernel-struct` (each field's byte
//! offset and how BPF code reads it; members of anonymous structs and unions are flattened into
//! their parent, as C code names them), and named types and enums for the CO-RE forms
//! (`kernel-type-exists`, `kernel-enum-value`...), and tracepoint records
//! (`struct trace_event_raw_EVENT`) for `deftracepoint` and the bpftrace front end's `args`.

use crate::ast::Ty;
use whistler_object::btf::{BtfKind, BtfTypes, Kind, INT_SIGNED};
use whistler_object::{KernelStructRef, KernelType};

/// A struct (or union) of the kernel, by its C name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelStruct {
    pub name: String,
    pub union: bool,
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
    /// The member's type as CO-RE relocations describe it.
    pub ty: KernelType,
}

/// How BPF code reads a field through a kernel pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldAccess {
    /// An integer, enum or pointer, loaded (with `probe-read-kernel`) as this type; pointers
    /// are `u64`.
    Value(Ty),
    /// An embedded struct or union (with its C name when it has one), an array or anything else
    /// that is not a scalar: the accessor gives its address.
    Address(Option<String>),
    /// A bitfield or a member off a byte boundary: not readable by a byte load.
    Bitfield,
}

/// The layout of kernel struct (or union) `name`.
pub fn kernel_struct(btf: &impl BtfTypes, name: &str) -> Result<KernelStruct, String> {
    let id = [BtfKind::Struct, BtfKind::Union]
        .into_iter()
        .find_map(|kind| {
            btf.ids_named(name, kind)
                .into_iter()
                .find(|&id| btf.members(id).is_ok_and(|m| !m.is_empty()))
        })
        .ok_or_else(|| not_found(btf, name))?;
    let size = btf.resolve_size(id).map_err(|e| e.to_string())?;
    let mut fields = Vec::new();
    collect_fields(btf, id, 0, &mut fields, 0);
    Ok(KernelStruct {
        name: name.to_string(),
        union: matches!(btf.kind(id), Some(Kind::Union { .. })),
        size,
        fields,
    })
}

/// A tracepoint's record as the kernel's BTF describes it: `struct trace_event_raw_EVENT`, which
/// `TRACE_EVENT` and `DECLARE_EVENT_CLASS` define. Events defined in another event's class
/// (`DEFINE_EVENT`) and the syscall events (`sys_enter_NAME`, recorded in `struct
/// trace_event_raw_sys_enter`'s `args[6]`) have no struct of their own, and so no record here:
/// their fields are read at the format file's offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracepointRecord {
    /// The struct, as CO-RE relocations name it.
    pub structure: KernelType,
    /// The fields the format file lists, by its names, each with the member holding it
    /// (`__data_loc_NAME` for a `__data_loc` field); the common header (`ent`) and the variable
    /// part (`__data`) are no fields.
    pub fields: Vec<(String, KernelField)>,
}

impl TracepointRecord {
    /// The member holding the format file's field `name`.
    pub fn member(&self, name: &str) -> Option<&KernelField> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }
}

/// The record of tracepoint `event` (`sched_process_fork`), `None` when the kernel's BTF has no
/// `struct trace_event_raw_EVENT`.
pub fn tracepoint_record(btf: &impl BtfTypes, event: &str) -> Option<TracepointRecord> {
    let name = format!("trace_event_raw_{event}");
    // Asked first, as `kernel_struct` looks for a name to suggest when there is none.
    if btf.ids_named(&name, BtfKind::Struct).is_empty() {
        return None;
    }
    let layout = kernel_struct(btf, &name).ok().filter(|l| !l.union)?;
    let fields = layout.fields.into_iter().filter_map(|member| {
        if member.name == "ent" || member.name == "__data" {
            return None;
        }
        let field = member
            .name
            .strip_prefix("__data_loc_")
            .unwrap_or(&member.name);
        Some((field.to_string(), member))
    });
    Some(TracepointRecord {
        structure: KernelType::Composite(KernelStructRef {
            name: layout.name,
            union: false,
            size: layout.size,
        }),
        fields: fields.collect(),
    })
}

/// The struct, union or enum named `name` (structs first, with members before forward
/// declarations), as CO-RE relocations describe it; `None` when the kernel has none.
pub fn named_type(btf: &impl BtfTypes, name: &str) -> Option<KernelType> {
    let kinds = [
        BtfKind::Struct,
        BtfKind::Union,
        BtfKind::Enum,
        BtfKind::Enum64,
    ];
    let mut ids = kinds.into_iter().flat_map(|kind| btf.ids_named(name, kind));
    let id = ids.find(|&id| btf.resolve_size(id).is_ok_and(|size| size > 0))?;
    kernel_type(btf, id, 0)
}

/// The enum named `name` and its values by name (as two's complement 64-bit numbers); `None`
/// when the kernel has no such enum.
pub fn kernel_enum(btf: &impl BtfTypes, name: &str) -> Option<(KernelType, Vec<(String, i64)>)> {
    let id = [BtfKind::Enum, BtfKind::Enum64]
        .into_iter()
        .find_map(|kind| btf.ids_named(name, kind).first().copied())?;
    let Some(Kind::Enum { values, .. } | Kind::Enum64 { values, .. }) = btf.kind(id) else {
        return None;
    };
    let values = values.iter();
    let values = values.map(|v| (btf.str_at(v.name_off).to_string(), v.value as i64));
    Some((kernel_type(btf, id, 0)?, values.collect()))
}

/// Anonymous members nest at most this deep (the kernel's go a few levels).
const MAX_NESTING: usize = 16;

fn collect_fields(
    btf: &impl BtfTypes,
    id: u32,
    base: u32,
    out: &mut Vec<KernelField>,
    depth: usize,
) {
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
        let Some(ty) = kernel_type(btf, target, 0) else {
            continue;
        };
        let access = if member.is_bitfield(btf) || member.byte_offset().is_none() {
            FieldAccess::Bitfield
        } else {
            match kind {
                Some(Kind::Ptr { .. }) => FieldAccess::Value(Ty::U64),
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
            ty,
        });
    }
}

/// The type `id` (typedefs and qualifiers skipped) as CO-RE compares it; `None` for kinds no
/// member has (functions, variables...).
fn kernel_type(btf: &impl BtfTypes, id: u32, depth: usize) -> Option<KernelType> {
    let id = btf.skip_mods_and_typedefs(id);
    Some(match btf.kind(id)? {
        Kind::Int { size, encoding, .. } => KernelType::Int {
            size: *size,
            signed: encoding & INT_SIGNED != 0,
        },
        Kind::Ptr { .. } => KernelType::Ptr,
        Kind::Enum { size, signed, .. } | Kind::Enum64 { size, signed, .. } => KernelType::Enum {
            name: btf.name(id).to_string(),
            size: *size,
            signed: *signed,
        },
        Kind::Struct { size, .. } | Kind::Union { size, .. } => {
            KernelType::Composite(KernelStructRef {
                name: btf.name(id).to_string(),
                union: matches!(btf.kind(id), Some(Kind::Union { .. })),
                size: *size,
            })
        }
        Kind::Array { elem, nelems, .. } if depth < MAX_NESTING => KernelType::Array {
            elem: Box::new(kernel_type(btf, *elem, depth + 1)?),
            count: *nelems,
        },
        Kind::Float { size } => KernelType::Float { size: *size },
        _ => return None,
    })
}

/// The load type of a `size`-byte integer; other sizes (`__int128`) are read by address.
fn scalar(size: u32, signed: bool) -> FieldAccess {
    Ty::integer(size, signed).map_or(FieldAccess::Address(None), FieldAccess::Value)
}

fn not_found(btf: &impl BtfTypes, name: &str) -> String {
    let mut names = btf.names_of_kind(BtfKind::Struct);
    names.extend(btf.names_of_kind(BtfKind::Union));
    let mut message = format!("the kernel's BTF has no struct or union named `{name}`");
    if let Some(near) = whistler_syntax::suggest::closest(name, names.iter().copied()) {
        message.push_str(&format!("; did you mean `{near}`?"));
    }
    message
}
