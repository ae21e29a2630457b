//! CO-RE in a written object: the kernel types that relocations name, described in `.BTF`
//! under their kernel names with just the members and enumerators relocations use (members in
//! offset order, at the build machine's offsets), and each relocation's root type and access
//! string: `0:N` for a field (N the member's index in that description), `0` for a type, `N`
//! for an enumerator (its index in the enum's description). Loaders match the descriptions to
//! the running kernel's types by name, as they do for clang's `preserve_access_index` structs.

use std::collections::{BTreeMap, HashMap};

use super::btf_types::Builder;
use crate::btf::{EnumValue, Kind, Member};
use crate::{KernelMember, KernelStructRef, KernelSubject, KernelType, ProgramSpec};

/// For each program, for each of its relocations: (root type id, access string offset).
pub(super) type CoreRecords = Vec<Vec<(u32, u32)>>;

/// The members relocations use in one kernel struct, by (offset, name).
type Members<'a> = BTreeMap<(u32, &'a str), &'a KernelMember>;

/// An enum's size and sign, and the enumerators relocations use, by name.
struct EnumDescription<'a> {
    size: u32,
    signed: bool,
    values: BTreeMap<&'a str, i64>,
}

/// The kernel types the relocations of `programs` name, gathered before any is written.
#[derive(Default)]
struct Described<'a> {
    structs: BTreeMap<&'a str, (&'a KernelStructRef, Members<'a>)>,
    enums: BTreeMap<&'a str, EnumDescription<'a>>,
}

impl<'a> Described<'a> {
    fn gather(programs: &'a [ProgramSpec]) -> Described<'a> {
        let mut d = Described::default();
        for r in programs.iter().flat_map(|p| &p.core_relocs) {
            match &r.value.of {
                KernelSubject::Field(field) => {
                    let member = &field.member;
                    d.structure(&field.structure)
                        .insert((member.offset, member.name.as_str()), member);
                }
                KernelSubject::Type(KernelType::Composite(s)) => {
                    d.structure(s);
                }
                KernelSubject::Type(KernelType::Enum { name, size, signed }) => {
                    d.enumeration(name, *size, *signed);
                }
                KernelSubject::Type(_) => {}
                KernelSubject::Enumerator(e) => {
                    let values = &mut d.enumeration(&e.enumeration, e.size, e.signed).values;
                    values.insert(e.name.as_str(), e.value);
                }
            }
        }
        d
    }

    fn structure(&mut self, s: &'a KernelStructRef) -> &mut Members<'a> {
        &mut self
            .structs
            .entry(s.name.as_str())
            .or_insert_with(|| (s, BTreeMap::new()))
            .1
    }

    fn enumeration(&mut self, name: &'a str, size: u32, signed: bool) -> &mut EnumDescription<'a> {
        self.enums.entry(name).or_insert_with(|| EnumDescription {
            size,
            signed,
            values: BTreeMap::new(),
        })
    }
}

/// Type ids of the described structs, unions and enums, by name.
#[derive(Default)]
struct Ids {
    composites: HashMap<String, u32>,
    enums: HashMap<String, u32>,
}

pub(super) fn describe(b: &mut Builder<'_>, programs: &[ProgramSpec]) -> CoreRecords {
    let described = Described::gather(programs);
    let mut ids = Ids::default();
    for (name, e) in &described.enums {
        let values = e
            .values
            .iter()
            .map(|(name, value)| EnumValue {
                name_off: b.btf.add_string(name),
                value: *value as u64,
            })
            .collect();
        let id = b.btf.add(name, enum_kind(e.size, e.signed, values));
        ids.enums.insert(name.to_string(), id);
    }
    for (name, (s, _)) in &described.structs {
        let id = composite(b, s);
        ids.composites.insert(name.to_string(), id);
    }
    for (name, (_, members)) in &described.structs {
        let members: Vec<Member> = members
            .values()
            .map(|m| Member {
                name_off: b.btf.add_string(&m.name),
                ty: kernel_type(b, &m.ty, &mut ids),
                bit_offset: m.offset * 8,
                bitfield_size: 0,
            })
            .collect();
        let id = ids.composites[*name];
        if let Some(Kind::Struct { members: m, .. } | Kind::Union { members: m, .. }) =
            b.btf.type_by_id_mut(id).map(|t| &mut t.kind)
        {
            *m = members;
        }
    }
    let mut record = |subject: &KernelSubject| -> (u32, u32) {
        let (root, access) = match subject {
            KernelSubject::Field(f) => {
                let (_, members) = &described.structs[f.structure.name.as_str()];
                let key = (f.member.offset, f.member.name.as_str());
                let index = members.keys().position(|k| *k == key).unwrap_or(0);
                (ids.composites[&f.structure.name], format!("0:{index}"))
            }
            KernelSubject::Type(t) => (kernel_type(b, t, &mut ids), "0".to_string()),
            KernelSubject::Enumerator(e) => {
                let values = &described.enums[e.enumeration.as_str()].values;
                let index = values.keys().position(|k| *k == e.name).unwrap_or(0);
                (ids.enums[&e.enumeration], index.to_string())
            }
        };
        (root, b.btf.add_string(&access))
    };
    programs
        .iter()
        .map(|p| p.core_relocs.iter().map(|r| record(&r.value.of)).collect())
        .collect()
}

/// `Enum` when every value fits 32 bits, `Enum64` otherwise.
fn enum_kind(size: u32, signed: bool, values: Vec<EnumValue>) -> Kind {
    let fits = |v: &EnumValue| {
        let n = v.value as i64;
        i32::try_from(n).is_ok() || u32::try_from(n).is_ok()
    };
    if values.iter().all(fits) {
        Kind::Enum {
            size,
            signed,
            values,
        }
    } else {
        Kind::Enum64 {
            size,
            signed,
            values,
        }
    }
}

/// A struct or union without members (they are filled in later, or never for types only
/// named as a member's type or by a type relocation).
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

fn kernel_type(b: &mut Builder<'_>, ty: &KernelType, ids: &mut Ids) -> u32 {
    match ty {
        KernelType::Int { size, signed } => b.int(*size, *signed),
        KernelType::Ptr => b.ptr(0),
        KernelType::Enum { name, size, signed } => match ids.enums.get(name) {
            Some(&id) => id,
            None => {
                let id = b.btf.add(name, enum_kind(*size, *signed, Vec::new()));
                ids.enums.insert(name.clone(), id);
                id
            }
        },
        KernelType::Composite(s) => match ids.composites.get(&s.name) {
            Some(&id) => id,
            None => {
                let id = composite(b, s);
                ids.composites.insert(s.name.clone(), id);
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
