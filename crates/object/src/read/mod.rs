//! Reading a BPF ELF object (ours, or clang's with libbpf conventions) into a [`ParsedObject`]:
//! code sections with their function symbols, relocations and `.BTF.ext` records; maps from
//! BTF-defined `.maps`, legacy `maps` and global data sections; license, kernel version, BTF.
//!
//! Nothing is loaded or patched here: relocations are classified ([`crate::RelocTarget`]) for the loader.

mod elf;
mod maps;
mod relocations;

use crate::btf::ext::BtfExt;
use crate::btf::{Btf, BtfError};
use crate::{CodeSection, ParsedObject, ParsedProgram};
use elf::Elf;

/// Why an object could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("not a valid ELF file: {0}")]
    Elf(String),
    #[error("not a BPF object (ELF machine {0}, expected 247 EM_BPF)")]
    NotBpf(u16),
    #[error("big-endian objects are not supported")]
    BigEndian,
    #[error("bad BTF: {0}")]
    Btf(#[from] BtfError),
    #[error("the object has a `.maps` section but no usable `.BTF`")]
    MapsWithoutBtf,
    #[error("map `{map}`: {reason}")]
    BadMap { map: String, reason: String },
    #[error("legacy `maps` section: {0}")]
    BadLegacyMaps(String),
    #[error("section `{section}`, instruction {insn_index}: {reason}")]
    BadRelocation {
        section: String,
        insn_index: usize,
        reason: String,
    },
    #[error("section `{0}` is malformed")]
    BadSection(String),
}

impl From<object::Error> for ReadError {
    fn from(e: object::Error) -> ReadError {
        ReadError::Elf(e.to_string())
    }
}

/// Parses an ELF BPF object.
///
/// The returned `btf` has libbpf's fix-ups applied (DATASEC sizes and variable offsets taken
/// from the ELF sections and symbols, as clang leaves them 0), so the loader can sanitize and
/// load it directly.
pub fn parse(bytes: &[u8]) -> Result<ParsedObject, ReadError> {
    let elf = Elf::parse(bytes)?;
    let mut btf = match elf.section_data(".BTF")? {
        Some(data) => Some(Btf::from_bytes(data)?),
        None => None,
    };
    if let Some(btf) = btf.as_mut() {
        elf.fixup_datasecs(btf);
    }
    let maps = maps::parse_all(&elf, btf.as_ref())?;
    let mut code_sections = elf.code_sections()?;
    for section in &mut code_sections {
        section.relocs = relocations::classify(&elf, section, &maps)?;
    }
    if let (Some(btf), Some(data)) = (btf.as_ref(), elf.section_data(".BTF.ext")?) {
        distribute_ext(&BtfExt::from_bytes(data)?, btf, &mut code_sections);
    }
    Ok(ParsedObject {
        license: elf.license()?,
        kernel_version: elf.kernel_version()?,
        maps: maps.maps,
        programs: programs(&code_sections),
        code_sections,
        btf: btf.map(|b| b.to_bytes()),
    })
}

/// Programs: global functions in code sections other than `.text`, in section then offset order.
fn programs(code_sections: &[CodeSection]) -> Vec<ParsedProgram> {
    let mut programs = Vec::new();
    for (i, s) in code_sections.iter().enumerate() {
        if s.name == ".text" {
            continue;
        }
        for f in s.functions.iter().filter(|f| f.global) {
            programs.push(ParsedProgram {
                name: f.name.clone(),
                section: s.name.clone(),
                code_section: i,
                insn_offset: f.insn_offset,
                insn_count: f.insn_count,
            });
        }
    }
    programs
}

/// Hands each section its func_info, line_info and CO-RE records, offsets in instructions.
fn distribute_ext(ext: &BtfExt, btf: &Btf, sections: &mut [CodeSection]) {
    let index_of = |sections: &[CodeSection], name_off: u32| {
        let name = btf.str_at(name_off);
        sections.iter().position(|s| s.name == name)
    };
    for part in &ext.func_info {
        if let Some(i) = index_of(sections, part.sec_name_off) {
            let recs = part.records.iter().map(|r| crate::FuncInfoRecord {
                insn_offset: r.insn_offset / 8,
                ..*r
            });
            sections[i].func_info.extend(recs);
        }
    }
    for part in &ext.line_info {
        if let Some(i) = index_of(sections, part.sec_name_off) {
            let recs = part.records.iter().map(|r| crate::LineInfoRecord {
                insn_offset: r.insn_offset / 8,
                ..*r
            });
            sections[i].line_info.extend(recs);
        }
    }
    for part in &ext.core_relos {
        if let Some(i) = index_of(sections, part.sec_name_off) {
            let recs = part.records.iter().map(|r| crate::CoreRelocation {
                insn_offset: r.insn_offset / 8,
                ..*r
            });
            sections[i].core_relos.extend(recs);
        }
    }
}
