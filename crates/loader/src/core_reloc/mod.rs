//! CO-RE: rewriting the constants of instructions that carry a `.BTF.ext` CO-RE relocation so
//! that field offsets, sizes, existence, signedness, bitfield shifts, type ids, type existence
//! and size, and enum values are those of the running kernel's BTF.
//!
//! For each relocation the local access is computed in the object's BTF, the same field, type or
//! enumerator is looked up by name in every kernel type of the same kind and essential name
//! (`foo___flavor` matches `foo`), and all matches must agree. When nothing matches, existence
//! relocations become 0 and the others poison the instruction: a call to an invalid helper that
//! the verifier reports only if the instruction is reachable.

mod patch;
mod spec;

pub use patch::POISON_HELPER;

use whistler_object::btf::{Btf, BtfTypes, EnumValue, Kind};
use whistler_object::{CodeSection, CoreRelocation};

use crate::kernel_btf::KernelBtf;
use spec::{candidates, essential_name, local_field, parse_access, target_field, FieldSpec};

pub use whistler_bpf::CoreKind;

/// A relocation that could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreError {
    /// Index of the relocation in its section.
    pub index: usize,
    /// The instruction it patches.
    pub insn: usize,
    /// Why it does not resolve (no such field in the kernel, incompatible types...).
    pub message: String,
}

/// The new constant for one relocation, with the local field's and target field's sizes for
/// adjusting memory access widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The instruction's new immediate or offset.
    Value {
        /// The kernel's offset, size, existence flag or type id that the relocation asks for.
        value: u64,
        /// The field's size in the object's BTF (field relocations only).
        local_size: Option<u32>,
        /// The field's size in the kernel's BTF, when it differs the load width is adjusted.
        target_size: Option<u32>,
    },
    /// The kernel lacks what the relocation asks for: the instruction becomes a call of an
    /// invalid helper, so the verifier fails only if the program can reach it.
    Poison,
}

/// Applies every CO-RE relocation of `section` in place.
pub fn relocate_section(
    section: &mut CodeSection,
    local: &Btf,
    target: &KernelBtf,
) -> Result<(), CoreError> {
    for (index, relo) in section.core_relos.clone().iter().enumerate() {
        let insn = relo.insn_offset as usize;
        let fail = |message: String| CoreError {
            index,
            insn,
            message,
        };
        let resolution = resolve(relo, local, target).map_err(fail)?;
        patch::apply(&mut section.insns, insn, resolution).map_err(fail)?;
    }
    Ok(())
}

/// Computes what one relocation's instruction must hold.
pub fn resolve(
    relo: &CoreRelocation,
    local: &Btf,
    target: &KernelBtf,
) -> Result<Resolution, String> {
    let kind = CoreKind::from_u32(relo.kind)
        .ok_or_else(|| format!("unknown CO-RE relocation kind {}", relo.kind))?;
    let access = parse_access(local.str_at(relo.access_str_off))?;
    if kind == CoreKind::TYPE_ID_LOCAL {
        return Ok(value(u64::from(relo.type_id)));
    }
    if essential_name(local.name(relo.type_id)).is_empty() {
        return Err(format!(
            "{kind:?} on anonymous type {} cannot be matched by name",
            relo.type_id
        ));
    }
    let cands = candidates(local, relo.type_id, target);
    match kind {
        k if k.is_field() => resolve_field(k, relo.type_id, &access, local, &target.btf, &cands),
        CoreKind::ENUMVAL_EXISTS | CoreKind::ENUMVAL_VALUE => {
            resolve_enum(kind, relo.type_id, &access, local, &target.btf, &cands)
        }
        _ => resolve_type(kind, relo.type_id, local, &target.btf, &cands),
    }
}

fn value(value: u64) -> Resolution {
    Resolution::Value {
        value,
        local_size: None,
        target_size: None,
    }
}

/// The one answer every candidate agrees on; `None` when no candidate matched.
fn agree<T: PartialEq + std::fmt::Debug>(results: Vec<T>) -> Result<Option<T>, String> {
    let mut iter = results.into_iter();
    let Some(first) = iter.next() else {
        return Ok(None);
    };
    for other in iter {
        if other != first {
            return Err(format!(
                "kernel types of the same name disagree: {first:?} vs {other:?}"
            ));
        }
    }
    Ok(Some(first))
}

fn resolve_field(
    kind: CoreKind,
    root: u32,
    access: &[u32],
    local: &Btf,
    target: &impl BtfTypes,
    cands: &[u32],
) -> Result<Resolution, String> {
    let (local_spec, steps) = local_field(local, root, access)?;
    let mut matches = Vec::new();
    for &cand in cands {
        if let Some(spec) = target_field(local, &local_spec, target, cand, access[0], &steps)? {
            matches.push(field_value(kind, target, &spec)?);
        }
    }
    let Some((target_value, target_size)) = agree(matches)? else {
        return Ok(match kind {
            CoreKind::FIELD_EXISTS => value(0),
            _ => Resolution::Poison,
        });
    };
    let (_, local_size) = field_value(kind, local, &local_spec)?;
    Ok(Resolution::Value {
        value: target_value,
        local_size: Some(local_size),
        target_size: Some(target_size),
    })
}

/// The value of a field relocation, and the byte size of the field's load.
fn field_value(
    kind: CoreKind,
    btf: &impl BtfTypes,
    spec: &FieldSpec,
) -> Result<(u64, u32), String> {
    let (byte_off, byte_size) = field_load(btf, spec)?;
    let bit_size = u64::from(spec.bitfield_bits.unwrap_or(byte_size * 8));
    let value = match kind {
        CoreKind::FIELD_BYTE_OFFSET => byte_off,
        CoreKind::FIELD_BYTE_SIZE => u64::from(byte_size),
        CoreKind::FIELD_EXISTS => 1,
        CoreKind::FIELD_SIGNED => u64::from(btf.is_signed(spec.type_id)),
        CoreKind::FIELD_LSHIFT_U64 => 64 - (spec.bit_offset + bit_size - byte_off * 8),
        CoreKind::FIELD_RSHIFT_U64 => 64 - bit_size,
        _ => unreachable!("only field kinds reach here"),
    };
    Ok((value, byte_size))
}

/// Byte offset and size of the smallest aligned load that covers the field (for a bitfield,
/// doubling the load until it holds every bit).
fn field_load(btf: &impl BtfTypes, spec: &FieldSpec) -> Result<(u64, u32), String> {
    let mut size = btf.resolve_size(spec.type_id).map_err(|e| e.to_string())?;
    let Some(bits) = spec.bitfield_bits else {
        if !spec.bit_offset.is_multiple_of(8) {
            return Err("field is not byte-aligned".into());
        }
        return Ok((spec.bit_offset / 8, size));
    };
    let bit_off = spec.bit_offset;
    let start = |size: u32| bit_off / 8 / u64::from(size) * u64::from(size);
    let mut byte_off = start(size.max(1));
    while bit_off + u64::from(bits) - byte_off * 8 > u64::from(size) * 8 {
        if size >= 8 {
            return Err("bitfield does not fit in 8 bytes".into());
        }
        size *= 2;
        byte_off = start(size);
    }
    Ok((byte_off, size))
}

fn resolve_type(
    kind: CoreKind,
    local_id: u32,
    local: &Btf,
    target: &impl BtfTypes,
    cands: &[u32],
) -> Result<Resolution, String> {
    let compatible: Vec<u32> = cands
        .iter()
        .copied()
        .filter(|&c| spec::fields_compatible(local, local_id, target, c, 0))
        .collect();
    let results = compatible
        .iter()
        .map(|&c| type_value(kind, target, c))
        .collect::<Result<Vec<_>, _>>()?;
    // Several same-named types may exist; their ids differ but sizes and existence agree.
    let first = match kind {
        CoreKind::TYPE_ID_TARGET => results.first().copied(),
        _ => agree(results)?,
    };
    Ok(value(first.unwrap_or(0)))
}

fn type_value(kind: CoreKind, target: &impl BtfTypes, id: u32) -> Result<u64, String> {
    Ok(match kind {
        CoreKind::TYPE_ID_TARGET => u64::from(id),
        CoreKind::TYPE_EXISTS | CoreKind::TYPE_MATCHES => 1,
        CoreKind::TYPE_SIZE => u64::from(target.resolve_size(id).map_err(|e| e.to_string())?),
        other => return Err(format!("{other:?} is not a type relocation")),
    })
}

fn resolve_enum(
    kind: CoreKind,
    local_id: u32,
    access: &[u32],
    local: &Btf,
    target: &impl BtfTypes,
    cands: &[u32],
) -> Result<Resolution, String> {
    let local_values = enum_values(local, local_id).ok_or("enum relocation on a non-enum type")?;
    let idx = *access.first().ok_or("empty access string")? as usize;
    let enumerator = local_values
        .get(idx)
        .ok_or_else(|| format!("enumerator #{idx} does not exist"))?;
    let name = essential_name(local.str_at(enumerator.name_off)).to_string();
    let found: Vec<u64> = cands
        .iter()
        .filter_map(|&c| enum_values(target, c))
        .filter_map(|vals| {
            vals.iter()
                .find(|v| essential_name(target.str_at(v.name_off)) == name)
                .map(|v| v.value)
        })
        .collect();
    Ok(match (kind, agree(found)?) {
        (CoreKind::ENUMVAL_EXISTS, found) => value(u64::from(found.is_some())),
        (_, Some(v)) => value(v),
        (_, None) => Resolution::Poison,
    })
}

fn enum_values(btf: &impl BtfTypes, id: u32) -> Option<&[EnumValue]> {
    match btf.kind(id) {
        Some(Kind::Enum { values, .. } | Kind::Enum64 { values, .. }) => Some(values),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
