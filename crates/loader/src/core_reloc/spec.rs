//! CO-RE access specs: what a relocation's access string (`0:1:2`) reaches in the object's own
//! BTF, and the same field found by name in the kernel's BTF.

use whistler_object::btf::{Btf, BtfTypes, Kind, Member};

use crate::kernel_btf::KernelBtf;

/// A field reached by an access string, as the values of field relocations need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Bit offset from the start of the root object (including the root array index).
    pub bit_offset: u64,
    /// The field's type.
    pub type_id: u32,
    /// Bitfield width, when the field is a bitfield.
    pub bitfield_bits: Option<u32>,
}

/// One step of an access string after the first: a member (by its name, for matching) or an
/// array element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Member(String),
    Index(u32),
}

/// Parses `0:1:2` into numbers.
pub fn parse_access(access: &str) -> Result<Vec<u32>, String> {
    access
        .split(':')
        .map(|p| {
            p.parse()
                .map_err(|_| format!("bad CO-RE access string `{access}`"))
        })
        .collect()
}

/// Everything after the name of a type's "flavor": `task_struct___old` → `task_struct`.
pub fn essential_name(name: &str) -> &str {
    name.find("___").map_or(name, |i| &name[..i])
}

fn size_of(btf: &impl BtfTypes, id: u32) -> Result<u64, String> {
    btf.resolve_size(id)
        .map(u64::from)
        .map_err(|e| e.to_string())
}

/// Walks `access` through the local BTF from `root`, returning the field and the named steps.
pub fn local_field(btf: &Btf, root: u32, access: &[u32]) -> Result<(FieldSpec, Vec<Step>), String> {
    let (&first, rest) = access.split_first().ok_or("empty CO-RE access string")?;
    let mut spec = FieldSpec {
        bit_offset: u64::from(first) * size_of(btf, root)? * 8,
        type_id: root,
        bitfield_bits: None,
    };
    let mut steps = Vec::new();
    for &idx in rest {
        let id = btf.skip_mods_and_typedefs(spec.type_id);
        match btf.kind(id) {
            Some(Kind::Struct { members, .. } | Kind::Union { members, .. }) => {
                let m = members
                    .get(idx as usize)
                    .ok_or_else(|| format!("member #{idx} of type {id} does not exist"))?;
                enter_member(btf, &mut spec, m);
                let name = btf.member_name(m);
                if !name.is_empty() {
                    steps.push(Step::Member(name.to_string()));
                }
            }
            Some(Kind::Array { elem, .. }) => {
                spec.bit_offset += u64::from(idx) * size_of(btf, *elem)? * 8;
                spec.type_id = *elem;
                spec.bitfield_bits = None;
                steps.push(Step::Index(idx));
            }
            _ => {
                return Err(format!(
                    "access #{idx} into type {id}, which has no members"
                ))
            }
        }
    }
    Ok((spec, steps))
}

fn enter_member(btf: &impl BtfTypes, spec: &mut FieldSpec, m: &Member) {
    spec.bit_offset += u64::from(m.bit_offset);
    spec.type_id = m.ty;
    spec.bitfield_bits = m
        .is_bitfield(btf)
        .then(|| m.bit_size(btf).unwrap_or(m.bitfield_size));
}

/// Follows the named steps through the target BTF from candidate root `root`. `None` when a
/// member is missing or its type is incompatible with the local one.
pub fn target_field(
    local: &Btf,
    local_field: &FieldSpec,
    target: &impl BtfTypes,
    root: u32,
    first: u32,
    steps: &[Step],
) -> Result<Option<FieldSpec>, String> {
    let mut spec = FieldSpec {
        bit_offset: u64::from(first) * size_of(target, root)? * 8,
        type_id: root,
        bitfield_bits: None,
    };
    for step in steps {
        let id = target.skip_mods_and_typedefs(spec.type_id);
        match step {
            Step::Member(name) => {
                if !find_member(target, id, name, &mut spec, 0) {
                    return Ok(None);
                }
            }
            Step::Index(idx) => {
                let Some(Kind::Array { elem, .. }) = target.kind(id) else {
                    return Ok(None);
                };
                spec.bit_offset += u64::from(*idx) * size_of(target, *elem)? * 8;
                spec.type_id = *elem;
                spec.bitfield_bits = None;
            }
        }
    }
    let compatible = fields_compatible(local, local_field.type_id, target, spec.type_id, 0);
    Ok(compatible.then_some(spec))
}

/// Finds member `name` of composite `id`, looking inside anonymous members too.
fn find_member(btf: &impl BtfTypes, id: u32, name: &str, spec: &mut FieldSpec, depth: u32) -> bool {
    let Ok(members) = btf.members(id) else {
        return false;
    };
    if depth > 32 {
        return false;
    }
    for m in members {
        let member_name = btf.member_name(m);
        if member_name == name {
            enter_member(btf, spec, m);
            return true;
        }
        if member_name.is_empty() {
            let mut inner = spec.clone();
            inner.bit_offset += u64::from(m.bit_offset);
            let inner_id = btf.skip_mods_and_typedefs(m.ty);
            if find_member(btf, inner_id, name, &mut inner, depth + 1) {
                *spec = inner;
                return true;
            }
        }
    }
    false
}

/// libbpf's notion of field compatibility: same kind family after modifiers and typedefs,
/// any composites, any integers, any pointers, arrays of compatible elements.
pub fn fields_compatible(
    local: &impl BtfTypes,
    l: u32,
    target: &impl BtfTypes,
    t: u32,
    depth: u32,
) -> bool {
    let (l, t) = (
        local.skip_mods_and_typedefs(l),
        target.skip_mods_and_typedefs(t),
    );
    let (Some(lk), Some(tk)) = (local.kind(l), target.kind(t)) else {
        return l == 0 && t == 0;
    };
    let enum_like = |k: &Kind| {
        matches!(
            k,
            Kind::Enum { .. } | Kind::Enum64 { .. } | Kind::Fwd { .. }
        )
    };
    match (lk, tk) {
        _ if lk.is_composite() && tk.is_composite() => true,
        _ if enum_like(lk) && enum_like(tk) => true,
        (Kind::Int { .. }, Kind::Int { .. })
        | (Kind::Ptr { .. }, Kind::Ptr { .. })
        | (Kind::Float { .. }, Kind::Float { .. }) => true,
        (Kind::Array { elem: le, .. }, Kind::Array { elem: te, .. }) => {
            depth < 16 && fields_compatible(local, *le, target, *te, depth + 1)
        }
        _ => false,
    }
}

/// Kernel types that may stand for local type `id`: same kind, same essential name
/// (`task_struct___mine` stands for `task_struct`).
pub fn candidates(local: &Btf, id: u32, target: &KernelBtf) -> std::sync::Arc<[u32]> {
    let Some(kind) = local.kind(id).map(Kind::btf_kind) else {
        return std::sync::Arc::new([]);
    };
    target.find_all(essential_name(local.name(id)), kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_strings_and_flavors() {
        assert_eq!(parse_access("0:1:12").unwrap(), vec![0, 1, 12]);
        assert!(parse_access("0:x").is_err());
        assert_eq!(essential_name("task_struct___v2"), "task_struct");
        assert_eq!(essential_name("task_struct"), "task_struct");
    }
}
