//! Key and value layouts from an object's BTF, for objects served without their source: the
//! types clang (`__type(key, ...)`) and our compiler record for each map.
//!
//! Integers and pointers read as integers, enums as their names (integers in values), `char`
//! arrays as text, other byte arrays as hex; structs by their members, nested structs and arrays flattened into fields named
//! `outer.inner` and `name[i]`. A key whose type has a part that reads as none of these
//! (a bitfield, a union, a float) shows as hex, so that distinct keys keep distinct labels; a
//! value keeps the integer fields it has.

use crate::layout::{Enumerators, Field, FieldKind, Layout};
use std::collections::HashMap;
use whistler_object::btf::{Btf, Kind, INT_CHAR, INT_SIGNED};

/// Nested structs and arrays deeper than this are not followed.
const MAX_DEPTH: u32 = 8;
/// Arrays of more elements than this (other than byte arrays) are not flattened.
const MAX_ELEMENTS: u32 = 64;

/// The key and value layouts of each map of the object `elf` whose BTF describes its key and
/// value types, by the map's object name. Maps without those types, and objects without BTF
/// or that do not parse, give none.
pub fn object_layouts(elf: &[u8]) -> HashMap<String, (Layout, Layout)> {
    let Ok(object) = whistler_object::parse(elf) else {
        return HashMap::new();
    };
    let Some(btf) = object.btf.as_deref().and_then(|b| Btf::from_bytes(b).ok()) else {
        return HashMap::new();
    };
    object
        .maps
        .iter()
        .filter(|m| m.btf_key_type_id != 0 && m.btf_value_type_id != 0)
        .map(|m| {
            let key = key_layout(&btf, m.btf_key_type_id);
            let value = value_layout(&btf, m.btf_value_type_id);
            (m.name.clone(), (key, value))
        })
        .collect()
}

/// The layout of a key of BTF type `id`.
pub fn key_layout(btf: &Btf, id: u32) -> Layout {
    layout(btf, id, true)
}

/// The layout of a value of BTF type `id`.
pub fn value_layout(btf: &Btf, id: u32) -> Layout {
    layout(btf, id, false)
}

fn layout(btf: &Btf, id: u32, key: bool) -> Layout {
    let id = btf.skip_mods_and_typedefs(id);
    if let Some(kind) = field_kind(btf, id) {
        return match kind {
            FieldKind::Int { signed } => Layout::Int { signed },
            FieldKind::Enum(names) => Layout::Enum(names),
            FieldKind::Text if key => Layout::Text,
            FieldKind::Text | FieldKind::Hex => Layout::Bytes,
        };
    }
    let mut fields = Vec::new();
    let complete = flatten(btf, id, "", 0, 0, &mut fields);
    match (btf.kind(id), complete || !key) {
        (Some(Kind::Struct { .. }), true) => Layout::Struct(fields),
        _ => Layout::Bytes,
    }
}

/// How a value of type `id` (modifiers and typedefs skipped) reads as one field: integers,
/// enums and pointers of 1, 2, 4 or 8 bytes, `char` arrays, byte arrays; `None` for other
/// types.
fn field_kind(btf: &Btf, id: u32) -> Option<FieldKind> {
    match btf.kind(id)? {
        Kind::Int { size, encoding, .. } if is_int_size(*size) => Some(FieldKind::Int {
            signed: encoding & INT_SIGNED != 0,
        }),
        Kind::Enum {
            size,
            signed,
            values,
        }
        | Kind::Enum64 {
            size,
            signed,
            values,
        } if is_int_size(*size) => {
            let names = values
                .iter()
                .map(|v| (v.value, btf.str_at(v.name_off).to_string()));
            Some(FieldKind::Enum(Enumerators {
                signed: *signed,
                names: names.collect(),
            }))
        }
        Kind::Ptr { .. } => Some(FieldKind::Int { signed: false }),
        Kind::Array { elem, .. } => {
            let elem = btf.skip_mods_and_typedefs(*elem);
            match btf.kind(elem)? {
                Kind::Int {
                    size: 1, encoding, ..
                } if encoding & INT_CHAR != 0 || btf.name(elem) == "char" => Some(FieldKind::Text),
                Kind::Int { size: 1, .. } => Some(FieldKind::Hex),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Appends the fields of a value of type `id` at `offset`, named after `name`, to `fields`;
/// false when a part of it reads as no field.
fn flatten(
    btf: &Btf,
    id: u32,
    name: &str,
    offset: usize,
    depth: u32,
    fields: &mut Vec<Field>,
) -> bool {
    let id = btf.skip_mods_and_typedefs(id);
    if let Some(kind) = field_kind(btf, id) {
        let Ok(size) = btf.resolve_size(id) else {
            return false;
        };
        fields.push(Field {
            name: name.to_string(),
            offset,
            size: size as usize,
            kind,
        });
        return true;
    }
    if depth >= MAX_DEPTH {
        return false;
    }
    match btf.kind(id) {
        Some(Kind::Struct { members, .. }) => {
            let mut complete = true;
            for member in members {
                let (Some(at), false) = (member.byte_offset(), member.is_bitfield(btf)) else {
                    complete = false;
                    continue;
                };
                let member_name = btf.member_name(member);
                let path = match (name, member_name) {
                    (_, "") => name.to_string(),
                    ("", member_name) => member_name.to_string(),
                    (name, member_name) => format!("{name}.{member_name}"),
                };
                let at = offset + at as usize;
                complete &= flatten(btf, member.ty, &path, at, depth + 1, fields);
            }
            complete
        }
        Some(Kind::Array { elem, nelems, .. }) if *nelems <= MAX_ELEMENTS => {
            let Ok(stride) = btf.resolve_size(*elem) else {
                return false;
            };
            (0..*nelems).fold(true, |complete, i| {
                let at = offset + (i * stride) as usize;
                let path = format!("{name}[{i}]");
                flatten(btf, *elem, &path, at, depth + 1, fields) && complete
            })
        }
        _ => false,
    }
}

fn is_int_size(size: u32) -> bool {
    matches!(size, 1 | 2 | 4 | 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(btf: &mut Btf, name: &str, size: u32, signed: bool) -> u32 {
        let encoding = if signed { INT_SIGNED } else { 0 };
        btf.add(name, Kind::int(size, encoding))
    }

    fn member(
        btf: &mut Btf,
        name: &str,
        ty: u32,
        byte_offset: u32,
    ) -> whistler_object::btf::Member {
        whistler_object::btf::Member {
            name_off: btf.add_string(name),
            ty,
            bit_offset: byte_offset * 8,
            bitfield_size: 0,
        }
    }

    #[test]
    fn structs_flatten_into_named_fields_and_keys_with_unreadable_parts_are_hex() {
        let mut btf = Btf::new();
        let u32_ = int(&mut btf, "unsigned int", 4, false);
        let s64 = int(&mut btf, "long long", 8, true);
        let char_ = int(&mut btf, "char", 1, true);
        let comm = btf.add(
            "",
            Kind::Array {
                elem: char_,
                index: u32_,
                nelems: 16,
            },
        );
        let pair = btf.add(
            "",
            Kind::Array {
                elem: u32_,
                index: u32_,
                nelems: 2,
            },
        );
        let members = vec![
            member(&mut btf, "pid", u32_, 0),
            member(&mut btf, "comm", comm, 4),
            member(&mut btf, "cpus", pair, 20),
        ];
        let task = btf.add(
            "task_key",
            Kind::Struct {
                size: 28,
                members,
                bitfield_encoding: false,
            },
        );
        let values = ["RUNNING", "SLEEPING"].iter().enumerate().map(|(i, name)| {
            whistler_object::btf::EnumValue {
                name_off: btf.add_string(name),
                value: i as u64,
            }
        });
        let state = Kind::Enum {
            size: 4,
            signed: false,
            values: values.collect(),
        };
        let state = btf.add("task_state", state);
        let float = btf.add("double", Kind::Float { size: 8 });
        let members = vec![
            member(&mut btf, "calls", s64, 0),
            member(&mut btf, "ratio", float, 8),
        ];
        let stats = btf.add(
            "stats",
            Kind::Struct {
                size: 16,
                members,
                bitfield_encoding: false,
            },
        );

        let field = |name: &str, offset, size, kind| Field {
            name: name.into(),
            offset,
            size,
            kind,
        };
        let unsigned = FieldKind::Int { signed: false };
        assert_eq!(
            key_layout(&btf, task),
            Layout::Struct(vec![
                field("pid", 0, 4, unsigned.clone()),
                field("comm", 4, 16, FieldKind::Text),
                field("cpus[0]", 20, 4, unsigned.clone()),
                field("cpus[1]", 24, 4, unsigned),
            ])
        );
        assert_eq!(key_layout(&btf, comm), Layout::Text);
        let states = key_layout(&btf, state);
        assert_eq!(states.key_label(&1u32.to_le_bytes()), "SLEEPING");
        assert_eq!(states.key_label(&7u32.to_le_bytes()), "7");
        assert_eq!(key_layout(&btf, s64), Layout::Int { signed: true });
        // The float reads as no field: a key shows in hex, a value keeps its integers.
        assert_eq!(key_layout(&btf, stats), Layout::Bytes);
        assert_eq!(
            value_layout(&btf, stats),
            Layout::Struct(vec![field("calls", 0, 8, FieldKind::Int { signed: true })])
        );
    }
}
