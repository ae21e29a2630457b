//! Writing an [`ObjectSpec`] as an ELF64 relocatable EM_BPF object that libbpf (strict mode) and
//! our loader accept.
//!
//! Layout: one section per distinct program section name (programs sharing a name are placed one
//! after another, each with its own FUNC symbol), `.text` with the programs' subprograms if they
//! have any (see [`layout`]), `license`, `.rodata` (when programs load the address of constant
//! data, see [`read_only_data`]), `.maps` (when there are maps), `.whistler.metrics` (when
//! metrics are declared), `.BTF`, `.BTF.ext` (with CO-RE records, see `core_relocs.rs`), one
//! `.rel<section>` per code section with relocations, `.symtab`, `.strtab`, `.shstrtab`.
//! Nothing depends on hash-map iteration order or the clock, so identical input gives identical
//! bytes.

mod btf_types;
mod core_relocs;
mod elf;
mod layout;
mod line_info;
mod read_only_data;
mod subprograms;

use crate::btf::ext::{BtfExt, ExtSection};
use crate::{
    symbol_name, BtfTypeRef, CoreRelocation, FuncInfoRecord, LineInfoRecord, ObjectSpec,
    ProgramSpec,
};
use elf::{Section, Symbol};
use layout::{Layout, PieceKind};
use read_only_data::ReadOnlyData;

/// `R_BPF_64_64`: a 64-bit immediate load of a symbol's address (a map, a callback).
const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_32`: a bpf-to-bpf call (here, into `.text`).
const R_BPF_64_32: u32 = 10;

/// Why an [`ObjectSpec`] cannot be written: each is a bug in whatever produced the spec.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("program `{program}` relocates instruction {insn_index} against unknown map `{map}`")]
    UnknownMap {
        program: String,
        map: String,
        insn_index: usize,
    },
    #[error("program `{program}`: relocation at instruction {insn_index} is not on an ld_imm64")]
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
    #[error("program section `{0}` is a name the object format reserves")]
    ReservedSection(String),
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

/// Writes `spec` as an ELF object, or says why the spec is inconsistent (a bug in whatever
/// built it, never a user mistake).
pub fn write_object(spec: &ObjectSpec) -> Result<Vec<u8>, WriteError> {
    let mut spec = with_symbol_names(spec);
    validate(&spec)?;
    let rodata = ReadOnlyData::place(&spec.programs);
    rodata.point_loads(&mut spec.programs);
    let spec = &spec;
    let layout = Layout::new(&spec.programs);
    let index = SectionIndex::new(&layout, &rodata);
    let mut object_btf = btf_types::build(spec)?;
    let ext = build_ext(spec, &layout, &mut object_btf);
    let symbols = build_symbols(spec, &layout, &index, &object_btf.map_slot_sizes);
    Ok(elf::write(sections(
        spec,
        &layout,
        &rodata,
        &object_btf,
        &ext,
        &symbols,
    )))
}

/// A copy of `spec` whose names (programs, maps, structs, fields) are symbol names.
fn with_symbol_names(spec: &ObjectSpec) -> ObjectSpec {
    let mut spec = spec.clone();
    for p in &mut spec.programs {
        p.name = symbol_name(&p.name);
        for r in &mut p.map_relocs {
            r.map_name = symbol_name(&r.map_name);
        }
    }
    for m in &mut spec.maps {
        m.name = symbol_name(&m.name);
        for ty in [&mut m.key_type, &mut m.value_type].into_iter().flatten() {
            with_symbol_name(ty);
        }
    }
    for s in &mut spec.structs {
        s.name = symbol_name(&s.name);
        for f in &mut s.fields {
            f.name = symbol_name(&f.name);
            with_symbol_name(&mut f.ty);
        }
    }
    spec
}

fn with_symbol_name(ty: &mut BtfTypeRef) {
    match ty {
        BtfTypeRef::Int { .. } => {}
        BtfTypeRef::Array { elem, .. } => with_symbol_name(elem),
        BtfTypeRef::Struct(name) => *name = symbol_name(name),
    }
}

/// Section names the writer uses itself.
fn is_reserved_section(name: &str) -> bool {
    let reserved = [
        ".text",
        "license",
        ".rodata",
        ".maps",
        ".BTF",
        ".BTF.ext",
        ".symtab",
        ".strtab",
        crate::metrics::METRICS_SECTION,
    ];
    reserved.contains(&name) || name == ".shstrtab" || name.starts_with(".rel")
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
        if is_reserved_section(&p.section) {
            return Err(WriteError::ReservedSection(p.section.clone()));
        }
        if !prog_names.insert(p.name.as_str()) {
            return Err(WriteError::DuplicateProgram(p.name.clone()));
        }
        if p.insns.is_empty() {
            return Err(WriteError::EmptyProgram(p.name.clone()));
        }
        for r in &p.map_relocs {
            if !map_names.contains(r.map_name.as_str()) {
                return Err(WriteError::UnknownMap {
                    program: p.name.clone(),
                    map: r.map_name.clone(),
                    insn_index: r.insn_index,
                });
            }
        }
        let relocated = (p.map_relocs.iter().map(|r| r.insn_index))
            .chain(p.data_relocs.iter().map(|r| r.insn_index));
        for insn_index in relocated {
            validate_ld_imm64(p, insn_index)?;
        }
    }
    Ok(())
}

fn validate_ld_imm64(p: &ProgramSpec, insn_index: usize) -> Result<(), WriteError> {
    let is_ld_imm64 = p.insns.get(insn_index).is_some_and(|i| i.is_ld_imm64());
    if !is_ld_imm64 || insn_index + 1 >= p.insns.len() {
        return Err(WriteError::RelocNotLdImm64 {
            program: p.name.clone(),
            insn_index,
        });
    }
    Ok(())
}

/// func_info (one record per program and per subprogram), line_info and CO-RE relocations, per
/// code section; adds the strings they name to the BTF.
fn build_ext(spec: &ObjectSpec, layout: &Layout, ob: &mut btf_types::ObjectBtf) -> BtfExt {
    let source_lines: Vec<&str> = spec.source_text.lines().collect();
    let mut lines: Vec<Vec<LineInfoRecord>> = vec![Vec::new(); layout.sections.len()];
    for (i, p) in spec.programs.iter().enumerate() {
        let records = line_info::records(p, &spec.source_name, &source_lines, &mut ob.btf);
        for (insn, record) in records {
            if let Some((s, at)) = layout.locate(i, insn) {
                lines[s].push(LineInfoRecord {
                    insn_offset: (at * 8) as u32,
                    ..record
                });
            }
        }
    }
    let mut core: Vec<Vec<CoreRelocation>> = vec![Vec::new(); layout.sections.len()];
    for (i, p) in spec.programs.iter().enumerate() {
        for (r, &(type_id, access_str_off)) in p.core_relocs.iter().zip(&ob.core_records[i]) {
            if let Some((s, at)) = layout.locate(i, r.insn_index) {
                core[s].push(CoreRelocation {
                    insn_offset: (at * 8) as u32,
                    type_id,
                    access_str_off,
                    kind: r.value.kind as u32,
                });
            }
        }
    }
    let mut ext = BtfExt::default();
    for ((section, mut lines), mut core) in layout.sections.iter().zip(lines).zip(core) {
        let sec_name_off = ob.btf.add_string(section.name);
        let records = section
            .pieces
            .iter()
            .map(|piece| FuncInfoRecord {
                insn_offset: (piece.offset * 8) as u32,
                type_id: func_type(ob, piece),
            })
            .collect();
        ext.func_info.push(ExtSection {
            sec_name_off,
            records,
            record_offsets: Vec::new(),
        });
        if !lines.is_empty() {
            lines.sort_by_key(|l| l.insn_offset);
            ext.line_info.push(ExtSection {
                sec_name_off,
                records: lines,
                record_offsets: Vec::new(),
            });
        }
        if !core.is_empty() {
            core.sort_by_key(|r| r.insn_offset);
            ext.core_relos.push(ExtSection {
                sec_name_off,
                records: core,
                record_offsets: Vec::new(),
            });
        }
    }
    ext
}

fn func_type(ob: &btf_types::ObjectBtf, piece: &layout::Piece) -> u32 {
    match piece.kind {
        PieceKind::Main => ob.func_type_ids[piece.program],
        PieceKind::Subprogram => ob.subprogram_func_ids[piece.program]
            .iter()
            .find(|(start, _)| *start == piece.range.start)
            .map_or(0, |(_, id)| *id),
    }
}

/// The symbol name of a subprogram: its program's name and its first instruction.
fn subprogram_name(program: &ProgramSpec, start: usize) -> String {
    format!("{}__sub{start}", program.name)
}

/// Symbols and their string table; locals (section symbols, subprograms) first.
struct Symbols {
    table: Vec<Symbol>,
    strtab: Vec<u8>,
    first_global: u32,
    /// Symbol index of each map, in `spec.maps` order.
    map_symbols: Vec<u32>,
    /// The section symbol of `.rodata`, when there is one.
    rodata_symbol: Option<u32>,
}

impl Symbols {
    /// The section symbol of code section `s` (they come first, in section order).
    fn section_symbol(s: usize) -> u32 {
        s as u32 + 1
    }
}

/// ELF section indexes of the sections symbols point into: the code sections come first
/// (1..), then `license`, `.rodata` when programs load constant data, `.maps`.
struct SectionIndex {
    license: u16,
    rodata: Option<u16>,
    maps: u16,
}

impl SectionIndex {
    fn new(layout: &Layout, rodata: &ReadOnlyData) -> SectionIndex {
        let license = layout.sections.len() as u16 + 1;
        let rodata = (!rodata.bytes.is_empty()).then_some(license + 1);
        SectionIndex {
            license,
            rodata,
            maps: rodata.unwrap_or(license) + 1,
        }
    }
}

fn build_symbols(
    spec: &ObjectSpec,
    layout: &Layout,
    index: &SectionIndex,
    slot_sizes: &[u32],
) -> Symbols {
    let mut strtab = elf::ElfStrings::new();
    let section_symbol = |shndx: u16| Symbol {
        name: 0,
        info: elf::STB_LOCAL << 4 | elf::STT_SECTION,
        shndx,
        value: 0,
        size: 0,
    };
    let mut table: Vec<Symbol> = (0..layout.sections.len())
        .map(|i| section_symbol(i as u16 + 1))
        .collect();
    let rodata_symbol = index.rodata.map(|shndx| {
        table.push(section_symbol(shndx));
        table.len() as u32
    });
    let function = |strtab: &mut elf::ElfStrings, s: usize, piece: &layout::Piece, bind: u8| {
        let p = &spec.programs[piece.program];
        let name = match piece.kind {
            PieceKind::Main => p.name.clone(),
            PieceKind::Subprogram => subprogram_name(p, piece.range.start),
        };
        Symbol {
            name: strtab.add(&name),
            info: bind << 4 | elf::STT_FUNC,
            shndx: s as u16 + 1,
            value: piece.offset as u64 * 8,
            size: piece.range.len() as u64 * 8,
        }
    };
    for (s, piece) in layout.pieces() {
        if piece.kind == PieceKind::Subprogram {
            table.push(function(&mut strtab, s, piece, elf::STB_LOCAL));
        }
    }
    let first_global = table.len() as u32 + 1;
    for (s, piece) in layout.pieces() {
        if piece.kind == PieceKind::Main {
            table.push(function(&mut strtab, s, piece, elf::STB_GLOBAL));
        }
    }
    let mut map_symbols = Vec::new();
    let mut offset = 0u64;
    for (m, &size) in spec.maps.iter().zip(slot_sizes) {
        map_symbols.push(table.len() as u32 + 1);
        table.push(Symbol {
            name: strtab.add(&m.name),
            info: elf::STB_GLOBAL << 4 | elf::STT_OBJECT,
            shndx: index.maps,
            value: offset,
            size: size as u64,
        });
        offset += size as u64;
    }
    table.push(Symbol {
        name: strtab.add("_license"),
        info: elf::STB_GLOBAL << 4 | elf::STT_OBJECT,
        shndx: index.license,
        value: 0,
        size: spec.license.len() as u64 + 1,
    });
    Symbols {
        table,
        strtab: strtab.into_bytes(),
        first_global,
        map_symbols,
        rodata_symbol,
    }
}

fn sections(
    spec: &ObjectSpec,
    layout: &Layout,
    rodata: &ReadOnlyData,
    ob: &btf_types::ObjectBtf,
    ext: &BtfExt,
    symbols: &Symbols,
) -> Vec<Section> {
    let alloc_exec = elf::SHF_ALLOC | elf::SHF_EXECINSTR;
    let mut out: Vec<Section> = (0..layout.sections.len())
        .map(|s| {
            let insns = layout.section_insns(s, &spec.programs);
            let bytes = whistler_bpf::Insn::encode_all(&insns);
            Section::progbits(layout.sections[s].name, alloc_exec, bytes, 8)
        })
        .collect();
    let mut license = spec.license.as_bytes().to_vec();
    license.push(0);
    let alloc_write = elf::SHF_ALLOC | elf::SHF_WRITE;
    out.push(Section::progbits("license", alloc_write, license, 1));
    if !rodata.bytes.is_empty() {
        let bytes = rodata.bytes.clone();
        out.push(Section::progbits(".rodata", elf::SHF_ALLOC, bytes, 8));
    }
    if !spec.maps.is_empty() {
        let size: u32 = ob.map_slot_sizes.iter().sum();
        out.push(Section::progbits(
            ".maps",
            alloc_write,
            vec![0; size as usize],
            8,
        ));
    }
    if !spec.metrics.is_empty() {
        let bytes = crate::metrics::encode(&spec.metrics);
        out.push(Section::progbits(
            crate::metrics::METRICS_SECTION,
            0,
            bytes,
            4,
        ));
    }
    out.push(Section::progbits(".BTF", 0, ob.btf.to_bytes(), 4));
    out.push(Section::progbits(".BTF.ext", 0, ext.to_bytes(), 4));
    let relocations: Vec<_> = (0..layout.sections.len())
        .map(|s| code_relocations(spec, layout, s, symbols))
        .collect();
    let rel_count = relocations.iter().filter(|r| !r.is_empty()).count() as u32;
    let symtab_index = out.len() as u32 + 1 + rel_count;
    for (s, relocs) in relocations.iter().enumerate() {
        if relocs.is_empty() {
            continue;
        }
        out.push(Section {
            name: format!(".rel{}", layout.sections[s].name),
            sh_type: elf::SHT_REL,
            flags: elf::SHF_INFO_LINK,
            data: elf::relocation_table(relocs),
            link: symtab_index,
            info: s as u32 + 1,
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

/// (byte offset, symbol index, type) for the map and data relocations and the references into
/// `.text` of code section `s`, in offset order.
fn code_relocations(
    spec: &ObjectSpec,
    layout: &Layout,
    s: usize,
    symbols: &Symbols,
) -> Vec<(u64, u32, u32)> {
    let mut relocs = Vec::new();
    for (prog, p) in spec.programs.iter().enumerate() {
        for r in &p.map_relocs {
            // validate() checked that the map exists.
            let Some(map) = spec.maps.iter().position(|m| m.name == r.map_name) else {
                continue;
            };
            if let Some((section, at)) = layout.locate(prog, r.insn_index) {
                if section == s {
                    relocs.push((at as u64 * 8, symbols.map_symbols[map], R_BPF_64_64));
                }
            }
        }
        for r in &p.data_relocs {
            // place() gave `.rodata` bytes, so its symbol, for every data relocation.
            let Some(rodata) = symbols.rodata_symbol else {
                continue;
            };
            if let Some((section, at)) = layout.locate(prog, r.insn_index) {
                if section == s {
                    relocs.push((at as u64 * 8, rodata, R_BPF_64_64));
                }
            }
        }
    }
    let text = layout.sections.len() - 1;
    for r in layout.cross_references(s, &spec.programs) {
        let ty = if r.is_call { R_BPF_64_32 } else { R_BPF_64_64 };
        relocs.push((r.at as u64 * 8, Symbols::section_symbol(text), ty));
    }
    relocs.sort_unstable();
    relocs
}

#[cfg(test)]
mod tests;
