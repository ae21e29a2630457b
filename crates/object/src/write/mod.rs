//! Writing an [`ObjectSpec`] as an ELF64 relocatable EM_BPF object that libbpf (strict mode) and
//! our loader accept.
//!
//! Layout: one section per distinct program section name (programs sharing a name are placed one
//! after another, each with its own FUNC symbol), `license`, `.maps` (when there are maps),
//! `.BTF`, `.BTF.ext`, one `.rel<section>` per code section with map relocations, `.symtab`,
//! `.strtab`, `.shstrtab`. Nothing depends on hash-map iteration order or the clock, so identical
//! input gives identical bytes.

mod btf_types;
mod elf;
mod line_info;

use crate::btf::ext::{BtfExt, ExtSection};
use crate::{FuncInfoRecord, ObjectSpec, ProgramSpec};
use elf::{Section, Symbol};

/// `R_BPF_64_64`: a 64-bit immediate load of a symbol's address (a map).
const R_BPF_64_64: u32 = 1;

/// Why an [`ObjectSpec`] cannot be written: each is a bug in whatever produced the spec.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("program `{program}` relocates instruction {insn_index} against unknown map `{map}`")]
    UnknownMap {
        program: String,
        map: String,
        insn_index: usize,
    },
    #[error(
        "program `{program}`: map relocation at instruction {insn_index} is not on an ld_imm64"
    )]
    RelocNotLdImm64 { program: String, insn_index: usize },
    #[error("unknown struct `{0}`")]
    UnknownStruct(String),
    #[error("struct `{0}` is defined twice")]
    DuplicateStruct(String),
    #[error("map `{0}` is defined twice")]
    DuplicateMap(String),
    #[error("program `{0}` is defined twice")]
    DuplicateProgram(String),
    #[error("program `{0}` has no instructions")]
    EmptyProgram(String),
    #[error("program `{0}` has an empty name or section name")]
    EmptyName(String),
    #[error("an integer of {0} bytes cannot be described (1, 2, 4 or 8)")]
    BadIntSize(u32),
    #[error("field `{field}` of struct `{structure}` extends past the struct's end")]
    FieldOutOfBounds { structure: String, field: String },
    #[error("map `{map}`: {what} size is {size} but its type is {type_size} bytes")]
    SizeMismatch {
        map: String,
        what: &'static str,
        size: u32,
        type_size: u32,
    },
}

/// Writes `spec` as an ELF object.
///
/// # Panics
/// When the spec is inconsistent (see [`WriteError`]): that is a bug in the compiler that built
/// it, never a user mistake. Use [`try_write_object`] to get the error instead.
pub fn write_object(spec: &ObjectSpec) -> Vec<u8> {
    try_write_object(spec).unwrap_or_else(|e| panic!("invalid ObjectSpec (compiler bug): {e}"))
}

/// Writes `spec` as an ELF object, or says why the spec is inconsistent.
pub fn try_write_object(spec: &ObjectSpec) -> Result<Vec<u8>, WriteError> {
    validate(spec)?;
    let code = group_sections(&spec.programs);
    let mut object_btf = btf_types::build(spec)?;
    let ext = build_ext(spec, &code, &mut object_btf);
    let symbols = build_symbols(spec, &code, &object_btf.map_slot_sizes);
    Ok(elf::write(sections(
        spec,
        &code,
        &object_btf,
        &ext,
        &symbols,
    )))
}

/// One code section: its name and the programs placed in it with their first instruction.
struct CodeSection<'a> {
    name: &'a str,
    programs: Vec<(usize, usize)>,
    len: usize,
}

fn group_sections(programs: &[ProgramSpec]) -> Vec<CodeSection<'_>> {
    let mut sections: Vec<CodeSection> = Vec::new();
    for (i, p) in programs.iter().enumerate() {
        let pos = match sections.iter().position(|s| s.name == p.section) {
            Some(pos) => pos,
            None => {
                sections.push(CodeSection {
                    name: &p.section,
                    programs: Vec::new(),
                    len: 0,
                });
                sections.len() - 1
            }
        };
        let s = &mut sections[pos];
        s.programs.push((i, s.len));
        s.len += p.insns.len();
    }
    sections
}

fn validate(spec: &ObjectSpec) -> Result<(), WriteError> {
    let mut map_names = std::collections::HashSet::new();
    for m in &spec.maps {
        if !map_names.insert(m.name.as_str()) {
            return Err(WriteError::DuplicateMap(m.name.clone()));
        }
    }
    let mut prog_names = std::collections::HashSet::new();
    for p in &spec.programs {
        if p.name.is_empty() || p.section.is_empty() {
            return Err(WriteError::EmptyName(p.name.clone()));
        }
        if !prog_names.insert(p.name.as_str()) {
            return Err(WriteError::DuplicateProgram(p.name.clone()));
        }
        if p.insns.is_empty() {
            return Err(WriteError::EmptyProgram(p.name.clone()));
        }
        for r in &p.map_relocs {
            validate_reloc(p, r, &map_names)?;
        }
    }
    Ok(())
}

fn validate_reloc(
    p: &ProgramSpec,
    r: &crate::MapReloc,
    maps: &std::collections::HashSet<&str>,
) -> Result<(), WriteError> {
    if !maps.contains(r.map_name.as_str()) {
        return Err(WriteError::UnknownMap {
            program: p.name.clone(),
            map: r.map_name.clone(),
            insn_index: r.insn_index,
        });
    }
    let is_ld_imm64 = p.insns.get(r.insn_index).is_some_and(|i| i.is_ld_imm64());
    if !is_ld_imm64 || r.insn_index + 1 >= p.insns.len() {
        return Err(WriteError::RelocNotLdImm64 {
            program: p.name.clone(),
            insn_index: r.insn_index,
        });
    }
    Ok(())
}

/// func_info (one record per program) and line_info, per code section; adds the strings they
/// name to the BTF.
fn build_ext(spec: &ObjectSpec, code: &[CodeSection], ob: &mut btf_types::ObjectBtf) -> BtfExt {
    let source_lines: Vec<&str> = spec.source_text.lines().collect();
    let mut ext = BtfExt::default();
    for s in code {
        let sec_name_off = ob.btf.add_string(s.name);
        let mut funcs = Vec::new();
        let mut lines = Vec::new();
        for &(prog, start) in &s.programs {
            funcs.push(FuncInfoRecord {
                insn_offset: (start * 8) as u32,
                type_id: ob.func_type_ids[prog],
            });
            let p = &spec.programs[prog];
            lines.extend(line_info::records(
                p,
                start,
                &spec.source_name,
                &source_lines,
                &mut ob.btf,
            ));
        }
        ext.func_info.push(ExtSection {
            sec_name_off,
            records: funcs,
        });
        if !lines.is_empty() {
            ext.line_info.push(ExtSection {
                sec_name_off,
                records: lines,
            });
        }
    }
    ext
}

/// Symbols and their string table; locals (section symbols) first.
struct Symbols {
    table: Vec<Symbol>,
    strtab: Vec<u8>,
    first_global: u32,
    /// Symbol index of each map, in `spec.maps` order.
    map_symbols: Vec<u32>,
}

/// Section indexes: code sections are 1..=n, then `license`, then `.maps` if there are maps.
fn license_index(code: &[CodeSection]) -> u16 {
    code.len() as u16 + 1
}

fn build_symbols(spec: &ObjectSpec, code: &[CodeSection], slot_sizes: &[u32]) -> Symbols {
    let mut strtab = elf::ElfStrings::new();
    let mut table: Vec<Symbol> = (0..code.len())
        .map(|i| Symbol {
            name: 0,
            info: elf::STB_LOCAL << 4 | elf::STT_SECTION,
            shndx: i as u16 + 1,
            value: 0,
            size: 0,
        })
        .collect();
    let first_global = table.len() as u32 + 1;
    for (i, s) in code.iter().enumerate() {
        for &(prog, start) in &s.programs {
            let p = &spec.programs[prog];
            table.push(Symbol {
                name: strtab.add(&p.name),
                info: elf::STB_GLOBAL << 4 | elf::STT_FUNC,
                shndx: i as u16 + 1,
                value: start as u64 * 8,
                size: p.insns.len() as u64 * 8,
            });
        }
    }
    let maps_index = license_index(code) + 1;
    let mut map_symbols = Vec::new();
    let mut offset = 0u64;
    for (m, &size) in spec.maps.iter().zip(slot_sizes) {
        map_symbols.push(table.len() as u32 + 1);
        table.push(Symbol {
            name: strtab.add(&m.name),
            info: elf::STB_GLOBAL << 4 | elf::STT_OBJECT,
            shndx: maps_index,
            value: offset,
            size: size as u64,
        });
        offset += size as u64;
    }
    table.push(Symbol {
        name: strtab.add("_license"),
        info: elf::STB_GLOBAL << 4 | elf::STT_OBJECT,
        shndx: license_index(code),
        value: 0,
        size: spec.license.len() as u64 + 1,
    });
    Symbols {
        table,
        strtab: strtab.into_bytes(),
        first_global,
        map_symbols,
    }
}

fn sections(
    spec: &ObjectSpec,
    code: &[CodeSection],
    ob: &btf_types::ObjectBtf,
    ext: &BtfExt,
    symbols: &Symbols,
) -> Vec<Section> {
    let alloc_exec = elf::SHF_ALLOC | elf::SHF_EXECINSTR;
    let mut out: Vec<Section> = code
        .iter()
        .map(|s| {
            let insns: Vec<u8> = s
                .programs
                .iter()
                .flat_map(|&(p, _)| whistler_bpf::Insn::encode_all(&spec.programs[p].insns))
                .collect();
            Section::progbits(s.name, alloc_exec, insns, 8)
        })
        .collect();
    let mut license = spec.license.as_bytes().to_vec();
    license.push(0);
    let alloc_write = elf::SHF_ALLOC | elf::SHF_WRITE;
    out.push(Section::progbits("license", alloc_write, license, 1));
    if !spec.maps.is_empty() {
        let size: u32 = ob.map_slot_sizes.iter().sum();
        out.push(Section::progbits(
            ".maps",
            alloc_write,
            vec![0; size as usize],
            8,
        ));
    }
    out.push(Section::progbits(".BTF", 0, ob.btf.to_bytes(), 4));
    out.push(Section::progbits(".BTF.ext", 0, ext.to_bytes(), 4));
    let symtab_index = out.len() as u32 + 1 + rel_sections_count(spec, code);
    for (i, s) in code.iter().enumerate() {
        let relocs = code_relocations(spec, s, symbols);
        if relocs.is_empty() {
            continue;
        }
        out.push(Section {
            name: format!(".rel{}", s.name),
            sh_type: elf::SHT_REL,
            flags: elf::SHF_INFO_LINK,
            data: elf::relocation_table(&relocs),
            link: symtab_index,
            info: i as u32 + 1,
            align: 8,
            entsize: 16,
        });
    }
    out.push(Section {
        name: ".symtab".into(),
        sh_type: elf::SHT_SYMTAB,
        flags: 0,
        data: elf::symbol_table(&symbols.table),
        link: symtab_index + 1,
        info: symbols.first_global,
        align: 8,
        entsize: 24,
    });
    out.push(Section {
        name: ".strtab".into(),
        sh_type: elf::SHT_STRTAB,
        flags: 0,
        data: symbols.strtab.clone(),
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
    });
    out
}

fn rel_sections_count(spec: &ObjectSpec, code: &[CodeSection]) -> u32 {
    code.iter()
        .filter(|s| {
            s.programs
                .iter()
                .any(|&(p, _)| !spec.programs[p].map_relocs.is_empty())
        })
        .count() as u32
}

/// (byte offset in the section, symbol index, type) for every map relocation of a section.
fn code_relocations(spec: &ObjectSpec, s: &CodeSection, symbols: &Symbols) -> Vec<(u64, u32, u32)> {
    let mut relocs = Vec::new();
    for &(prog, start) in &s.programs {
        for r in &spec.programs[prog].map_relocs {
            // validate() checked that the map exists.
            let Some(map) = spec.maps.iter().position(|m| m.name == r.map_name) else {
                continue;
            };
            let offset = (start + r.insn_index) as u64 * 8;
            relocs.push((offset, symbols.map_symbols[map], R_BPF_64_64));
        }
    }
    relocs
}

#[cfg(test)]
mod tests;
