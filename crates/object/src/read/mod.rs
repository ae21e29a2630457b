//! Reading a BPF ELF object (ours, or clang's with libbpf conventions) into a [`ParsedObject`]:
//! code sections with their function symbols, relocations and `.BTF.ext` records; maps from
//! BTF-defined `.maps`, legacy `maps` and global data sections; license, kernel version, BTF.
//!
//! Nothing is loaded or patched here: relocations are classified ([`crate::RelocTarget`]) for the loader.

mod elf;
mod maps;
mod relocations;

use crate::btf::ext::{BtfExt, ExtSection};
use crate::btf::{Btf, BtfError};
use crate::metrics::{MetricSpec, MetricsError, METRICS_SECTION};
use crate::{
    CodeSection, CoreRelocation, FuncInfoRecord, LineInfoRecord, ParsedObject, ParsedProgram,
};
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
    #[error(transparent)]
    Metrics(#[from] MetricsError),
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
    with_aligned(bytes, parse_aligned)
}

/// The metrics an object declares in `.whistler.metrics` (none when it has no such section).
pub fn read_metrics(bytes: &[u8]) -> Result<Vec<MetricSpec>, ReadError> {
    with_aligned(bytes, |bytes| {
        match Elf::parse(bytes)?.section_data(METRICS_SECTION)? {
            Some(data) => Ok(crate::metrics::decode(data)?),
            None => Ok(Vec::new()),
        }
    })
}

/// Calls `read` with `bytes` at an 8-byte aligned address. ELF headers are read in place and
/// need that alignment; objects embedded with `include_bytes!` or byte-string literals have
/// none, so such input is copied first.
fn with_aligned<T>(bytes: &[u8], read: impl FnOnce(&[u8]) -> T) -> T {
    if bytes.as_ptr().align_offset(8) != 0 {
        let mut aligned = vec![0u64; bytes.len().div_ceil(8)];
        let copy = &mut bytemuck::cast_slice_mut::<u64, u8>(&mut aligned)[..bytes.len()];
        copy.copy_from_slice(bytes);
        return read(copy);
    }
    read(bytes)
}

fn parse_aligned(bytes: &[u8]) -> Result<ParsedObject, ReadError> {
    let elf = Elf::parse(bytes)?;
    let needs_btf = elf.section_index(".maps").is_some();
    // Like libbpf, BTF that cannot be read is dropped (with its .BTF.ext) unless maps need it.
    let (mut btf, mut btf_error) = match elf.section_data(".BTF")?.map(Btf::from_bytes) {
        Some(Ok(btf)) => (Some(btf), None),
        Some(Err(e)) if needs_btf => return Err(e.into()),
        Some(Err(e)) => (None, Some(e.to_string())),
        None => (None, None),
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
        match BtfExt::from_bytes(data) {
            Ok(ext) => distribute_ext(&ext, btf, &record_owners(&elf), &mut code_sections),
            Err(e) => btf_error = Some(format!(".BTF.ext ignored: {e}")),
        }
    }
    Ok(ParsedObject {
        license: elf.license()?,
        kernel_version: elf.kernel_version()?,
        maps: maps.maps,
        programs: programs(&code_sections),
        code_sections,
        btf: btf.map(|b| b.to_bytes()),
        btf_error,
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
fn distribute_ext(ext: &BtfExt, btf: &Btf, owners: &RecordOwners, sections: &mut [CodeSection]) {
    for_each_record(&ext.func_info, btf, owners, sections, |s, r| {
        s.func_info.push(FuncInfoRecord {
            insn_offset: r.insn_offset / 8,
            ..r
        })
    });
    for_each_record(&ext.line_info, btf, owners, sections, |s, r| {
        s.line_info.push(LineInfoRecord {
            insn_offset: r.insn_offset / 8,
            ..r
        })
    });
    for_each_record(&ext.core_relos, btf, owners, sections, |s, r| {
        s.core_relos.push(CoreRelocation {
            insn_offset: r.insn_offset / 8,
            ..r
        })
    });
}

/// The ELF section each `.BTF.ext` record belongs to, by the record's byte offset, from the
/// relocations clang writes for `.BTF.ext` (each record's instruction offset is relocated
/// against a symbol in its section).
type RecordOwners = std::collections::HashMap<u32, usize>;

fn record_owners(elf: &Elf) -> RecordOwners {
    let Some(ext) = elf.section_index(".BTF.ext") else {
        return RecordOwners::new();
    };
    elf.relocations(ext)
        .into_iter()
        .filter_map(|(offset, sym)| Some((u32::try_from(offset).ok()?, elf.symbol(sym)?.section?)))
        .collect()
}

/// Calls `add` with the code section each record belongs to (records of no code section are
/// skipped). Several sections may share a name (two programs each in its own `xdp` section):
/// clang puts the records of all of them in one part and relocates each record against its
/// own section, which decides; without relocations (Whistler writes one part per section, in
/// section order) the n-th part naming a section goes to the n-th section of that name.
fn for_each_record<R: Copy>(
    parts: &[ExtSection<R>],
    btf: &Btf,
    owners: &RecordOwners,
    sections: &mut [CodeSection],
    mut add: impl FnMut(&mut CodeSection, R),
) {
    let mut parts_seen: Vec<&str> = Vec::new();
    for part in parts {
        let name = btf.str_at(part.sec_name_off);
        let nth = parts_seen.iter().filter(|seen| **seen == name).count();
        parts_seen.push(name);
        let by_order = (0..sections.len())
            .filter(|&i| sections[i].name == name)
            .nth(nth);
        for (i, &r) in part.records.iter().enumerate() {
            let owner = part.record_offsets.get(i).and_then(|o| owners.get(o));
            let target = match owner {
                Some(&elf_index) => sections.iter().position(|s| s.index == elf_index),
                None => by_order,
            };
            if let Some(t) = target {
                add(&mut sections[t], r);
            }
        }
    }
}
