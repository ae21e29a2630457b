//! Classifying a code section's relocations: maps, addresses in global data, calls and
//! function addresses, externs.

use whistler_bpf::Insn;

use super::elf::{Elf, Sym};
use super::maps::Maps;
use super::ReadError;
use crate::{CodeSection, RelocTarget, Relocation};

pub(super) fn classify(
    elf: &Elf,
    section: &CodeSection,
    maps: &Maps,
) -> Result<Vec<Relocation>, ReadError> {
    let mut relocs = Vec::new();
    for (offset, sym_index) in elf.relocations(section.index) {
        let insn_index = (offset / 8) as usize;
        let fail = |reason: String| ReadError::BadRelocation {
            section: section.name.clone(),
            insn_index,
            reason,
        };
        let insn = *section
            .insns
            .get(insn_index)
            .ok_or_else(|| fail("relocation outside the section".into()))?;
        let sym = elf
            .symbol(sym_index)
            .ok_or_else(|| fail(format!("relocation against missing symbol {sym_index}")))?;
        let target = target(elf, sym, insn, maps).map_err(fail)?;
        relocs.push(Relocation { insn_index, target });
    }
    relocs.sort_by_key(|r| r.insn_index);
    Ok(relocs)
}

fn target(elf: &Elf, sym: &Sym, insn: Insn, maps: &Maps) -> Result<RelocTarget, String> {
    let Some(section) = sym.section else {
        return Ok(RelocTarget::Extern(sym.name.clone()));
    };
    if let Some(map) = maps.global_data(section) {
        if !insn.is_ld_imm64() {
            return Err(format!(
                "global data `{}` used by a non-ld_imm64 instruction",
                sym.name
            ));
        }
        let offset = sym.value as i64 + insn.imm as i64;
        let offset =
            u32::try_from(offset).map_err(|_| format!("offset {offset} into global data"))?;
        return Ok(RelocTarget::MapValue { map, offset });
    }
    if let Some(map) = maps.at(section, sym.value) {
        if !insn.is_ld_imm64() {
            return Err(format!(
                "map `{}` used by a non-ld_imm64 instruction",
                sym.name
            ));
        }
        return Ok(RelocTarget::Map(map));
    }
    if elf.is_code_section(section) {
        return function_target(sym, insn, section);
    }
    Err(format!(
        "symbol `{}` in section `{}` is neither a map, global data nor code",
        sym.name,
        elf.section_name(section)
    ))
}

/// A call's target is `symbol + (imm + 1) * 8`; an address load's is `symbol + imm` bytes.
fn function_target(sym: &Sym, insn: Insn, section: usize) -> Result<RelocTarget, String> {
    let byte = if insn.is_pseudo_call() {
        sym.value as i128 + (insn.imm as i128 + 1) * 8
    } else if insn.is_ld_imm64() {
        sym.value as i128 + insn.imm as i128
    } else {
        return Err(format!(
            "function `{}` used by an instruction that is neither a call nor ld_imm64",
            sym.name
        ));
    };
    match usize::try_from(byte) {
        Ok(byte) if byte.is_multiple_of(8) => Ok(RelocTarget::Function {
            section,
            insn_offset: byte / 8,
        }),
        _ => Err(format!(
            "function target at byte {byte} is not an instruction"
        )),
    }
}
