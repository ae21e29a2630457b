//! CO-RE in a written object: the kernel structs that relocations name, described in `.BTF`
//! under their kernel names with just the members relocations use (in offset order, at the
//! build machine's offsets), and each relocation's root type and access string `0:N`, where N
//! is the member's index in that description. Loaders match the description to the running
//! kernel's types by name, as they do for clang's `preserve_access_index` structs.

use std::collections::{BTreeMap, HashMap};

use super::btf_types::Builder;
use crate::btf::{Kind, Member};
use crate::{KernelMember, KernelStructRef, KernelType, ProgramSpec};

/// For each program, for each of its relocations: (root type id, access string offset).
pub(super) type CoreRecords = Vec<Vec<(u32, u32)>>;

/// The members relocations use in one kernel struct, by (offset, name).
type Members<'a> = BTreeMap<(u32, &'a str), &'a KernelMember>;

pub(super) fn describe(b: &mut Builder<'_>, programs: &[ProgramSpec]) -> CoreRecords {
    let mut structs: BTreeMap<&str, (&KernelStructRef, Members)> = BTreeMap::new();
    for r in programs.iter().flat_map(|p| &p.core_relocs) {
        let member = &r.field.member;
        let (_, members) = structs
            .entry(r.field.structure.name.as_str())
            .or_insert_with(|| (&r.field.structure, BTreeMap::new()));
        members.insert((member.offset, member.name.as_str()), member);
    }
    let mut ids: HashMap<String, u32> = HashMap::new();
    for (name, (s, _)) in &structs {
        let id = composite(b, s);
        ids.insert(name.to_string(), id);
    }
    for (name, (_, members)) in &structs {
        let described: Vec<Member> = members
            .values()
            .map(|m| Member {
                name_off: b.btf.add_string(&m.name),
                ty: kernel_type(b, &m.ty, &mut ids),
                bit_offset: m.offset * 8,
                bitfield_size: 0,
            })
            .collect();
        if let Some(Kind::Struct { members, .. } | Kind::Union { members, .. }) =
            b.btf.type_by_id_mut(ids[*name]).map(|t| &mut t.kind)
        {
            *members = described;
        }
    }
    programs
        .iter()
        .map(|p| {
            p.core_relocs
                .iter()
                .map(|r| {
                    let (_, members) = &structs[r.field.structure.name.as_str()];
                    let key = (r.field.member.offset, r.field.member.name.as_str());
                    let index = members.keys().position(|k| *k == key).unwrap_or(0);
                    let access = b.btf.add_string(&format!("0:{index}"));
                    (ids[&r.field.structure.name], access)
                })
                .collect()
        })
        .collect()
}

/// A struct or union without members (they are filled in later, or never for types only
/// named as a member's type).
fn composite(b: &mut Builder<'_>, s: &KernelStructRef) -> u32 {
    let (size, members, bitfield_encoding) = (s.size, Vec::new(), false);
    let kind = if s.union {
        Kind::Union {
            size,
            members,
            bitfield_encoding,
        }
    } else {
        Kind::Struct {
            size,
            members,
            bitfield_encoding,
        }
    };
    b.btf.add(&s.name, kind)
}

fn kernel_type(b: &mut Builder<'_>, ty: &KernelType, ids: &mut HashMap<String, u32>) -> u32 {
    match ty {
        KernelType::Int { size, signed } => b.int(*size, *signed),
        KernelType::Ptr => b.ptr(0),
        KernelType::Enum { name, size, signed } => b.btf.add(
            name,
            Kind::Enum {
                size: *size,
                signed: *signed,
                values: Vec::new(),
            },
        ),
        KernelType::Composite(s) => match ids.get(&s.name) {
            Some(&id) => id,
            None => {
                let id = composite(b, s);
                ids.insert(s.name.clone(), id);
                id
            }
        },
        KernelType::Array { elem, count } => {
            let elem = kernel_type(b, elem, ids);
            b.array(elem, *count)
        }
        KernelType::Float { size } => {
            let name = match size {
                4 => "float",
                8 => "double",
                _ => "long double",
            };
            b.btf.add(name, Kind::Float { size: *size })
        }
    }
}
