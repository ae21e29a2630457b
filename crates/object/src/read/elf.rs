//! A thin view of the ELF file (through the `object` crate): sections by name, symbols as plain
//! data, relocations, license and version, code sections, and libbpf's DATASEC fix-ups.

use object::elf::{EM_BPF, SHF_EXECINSTR, SHT_PROGBITS};
use object::read::elf::{ElfFile64, FileHeader, SectionHeader};
use object::{LittleEndian, Object, ObjectSection, ObjectSymbol, SectionIndex, SymbolKind};

use super::ReadError;
use crate::btf::{Btf, Kind};
use crate::{CodeSection, FunctionSymbol};
use whistler_bpf::Insn;

/// Larger sections (a damaged `.bss` size, typically) are rejected rather than allocated.
const MAX_SECTION_SIZE: usize = 256 << 20;

/// A symbol, copied out of the symbol table.
#[derive(Clone, Debug)]
pub(super) struct Sym {
    pub name: String,
    pub value: u64,
    pub size: u64,
    pub kind: SymbolKind,
    pub global: bool,
    /// The section the symbol is defined in; `None` for undefined (extern) and absolute symbols.
    pub section: Option<usize>,
}

pub(super) struct Elf<'data> {
    file: ElfFile64<'data, LittleEndian>,
    symbols: Vec<Option<Sym>>,
}

impl<'data> Elf<'data> {
    pub(super) fn parse(bytes: &'data [u8]) -> Result<Elf<'data>, ReadError> {
        if bytes.get(5) == Some(&2) {
            return Err(ReadError::BigEndian);
        }
        let file = ElfFile64::<LittleEndian>::parse(bytes)?;
        let machine = file.elf_header().e_machine(LittleEndian);
        if machine != EM_BPF {
            return Err(ReadError::NotBpf(machine));
        }
        let mut symbols = Vec::new();
        for s in file.symbols() {
            let index = s.index().0;
            if symbols.len() <= index {
                symbols.resize(index + 1, None);
            }
            symbols[index] = Some(Sym {
                name: s.name().unwrap_or("").to_string(),
                value: s.address(),
                size: s.size(),
                kind: s.kind(),
                global: s.is_global(),
                section: s.section_index().map(|i| i.0),
            });
        }
        Ok(Elf { file, symbols })
    }

    pub(super) fn symbol(&self, index: usize) -> Option<&Sym> {
        self.symbols.get(index)?.as_ref()
    }

    /// Every defined symbol in section `index` that is not the section symbol itself.
    pub(super) fn symbols_in(&self, index: usize) -> impl Iterator<Item = &Sym> + '_ {
        self.symbols
            .iter()
            .flatten()
            .filter(move |s| s.section == Some(index) && s.kind != SymbolKind::Section)
    }

    pub(super) fn section_index(&self, name: &str) -> Option<usize> {
        self.file.section_by_name(name).map(|s| s.index().0)
    }

    pub(super) fn section_name(&self, index: usize) -> String {
        self.file
            .section_by_index(SectionIndex(index))
            .ok()
            .and_then(|s| s.name().ok().map(str::to_string))
            .unwrap_or_default()
    }

    /// The bytes of section `name`, if there is such a section.
    pub(super) fn section_data(&self, name: &str) -> Result<Option<&'data [u8]>, ReadError> {
        match self.file.section_by_name(name) {
            Some(s) => Ok(Some(
                s.data().map_err(|_| ReadError::BadSection(name.into()))?,
            )),
            None => Ok(None),
        }
    }

    /// Index, name and contents (zeroes for NOBITS) of every section whose name passes `keep`.
    pub(super) fn sections_named(
        &self,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<(usize, String, Vec<u8>)>, ReadError> {
        let mut out = Vec::new();
        for s in self.file.sections() {
            let Ok(name) = s.name() else { continue };
            if !keep(name) {
                continue;
            }
            let mut bytes = s
                .data()
                .map_err(|_| ReadError::BadSection(name.into()))?
                .to_vec();
            let size = usize::try_from(s.size()).map_err(|_| ReadError::BadSection(name.into()))?;
            if size > MAX_SECTION_SIZE {
                return Err(ReadError::BadSection(name.into()));
            }
            bytes.resize(size, 0);
            out.push((s.index().0, name.to_string(), bytes));
        }
        Ok(out)
    }

    /// Relocations of section `index`: (byte offset, symbol index).
    pub(super) fn relocations(&self, index: usize) -> Vec<(u64, usize)> {
        let Ok(section) = self.file.section_by_index(SectionIndex(index)) else {
            return Vec::new();
        };
        section
            .relocations()
            .filter_map(|(offset, r)| match r.target() {
                object::RelocationTarget::Symbol(sym) => Some((offset, sym.0)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn license(&self) -> Result<String, ReadError> {
        let data = self.section_data("license")?.unwrap_or_default();
        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        Ok(String::from_utf8_lossy(&data[..end]).into_owned())
    }

    pub(super) fn kernel_version(&self) -> Result<u32, ReadError> {
        let data = self.section_data("version")?.unwrap_or_default();
        Ok(match data.get(..4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        })
    }

    /// True for an executable PROGBITS section.
    pub(super) fn is_code_section(&self, index: usize) -> bool {
        self.file
            .elf_section_table()
            .section(SectionIndex(index))
            .is_ok_and(is_code)
    }

    /// Every executable PROGBITS section with its instructions and function symbols.
    pub(super) fn code_sections(&self) -> Result<Vec<CodeSection>, ReadError> {
        let mut out = Vec::new();
        for s in self.file.elf_section_table().iter().enumerate() {
            let (index, header) = s;
            if !is_code(header) {
                continue;
            }
            let name = self.section_name(index);
            let data = header
                .data(LittleEndian, self.file.data())
                .map_err(|_| ReadError::BadSection(name.clone()))?;
            let insns = Insn::decode_all(data);
            let functions = self.functions(index, insns.len());
            out.push(CodeSection {
                name,
                index,
                insns,
                functions,
                ..CodeSection::default()
            });
        }
        Ok(out)
    }

    /// FUNC symbols of a code section, by offset; a zero size means "up to the next function".
    fn functions(&self, index: usize, insn_count: usize) -> Vec<FunctionSymbol> {
        let mut syms: Vec<&Sym> = self
            .symbols_in(index)
            .filter(|s| s.kind == SymbolKind::Text)
            .collect();
        syms.sort_by_key(|s| (s.value, s.name.clone()));
        let starts: Vec<usize> = syms.iter().map(|s| (s.value / 8) as usize).collect();
        syms.iter()
            .enumerate()
            .map(|(i, s)| {
                let start = starts[i].min(insn_count);
                let count = if s.size != 0 {
                    (s.size / 8) as usize
                } else {
                    let next = starts
                        .iter()
                        .copied()
                        .find(|&n| n > start)
                        .unwrap_or(insn_count);
                    next.min(insn_count) - start
                };
                FunctionSymbol {
                    name: s.name.clone(),
                    insn_offset: start,
                    insn_count: count.min(insn_count - start),
                    global: s.global,
                }
            })
            .collect()
    }

    /// What libbpf does before loading BTF: a DATASEC's size comes from its ELF section and each
    /// global variable's offset from its symbol (clang leaves both 0).
    pub(super) fn fixup_datasecs(&self, btf: &mut Btf) {
        let ids: Vec<u32> = btf
            .iter()
            .filter(|(_, t)| matches!(t.kind, Kind::Datasec { .. }))
            .map(|(id, _)| id)
            .collect();
        for id in ids {
            let name = btf.name(id).to_string();
            let Some(index) = self.section_index(&name) else {
                continue;
            };
            let section_size = self
                .file
                .section_by_index(SectionIndex(index))
                .map(|s| s.size())
                .unwrap_or(0) as u32;
            let offsets: Vec<Option<u32>> = match btf.kind(id) {
                Some(Kind::Datasec { vars, .. }) => vars
                    .iter()
                    .map(|v| self.variable_offset(index, btf.name(v.ty)))
                    .collect(),
                _ => continue,
            };
            if let Some(Kind::Datasec { size, vars }) = btf.type_by_id_mut(id).map(|t| &mut t.kind)
            {
                if *size == 0 {
                    *size = section_size;
                }
                for (v, off) in vars.iter_mut().zip(offsets) {
                    if let Some(off) = off {
                        v.offset = off;
                    }
                }
            }
        }
    }

    fn variable_offset(&self, section: usize, name: &str) -> Option<u32> {
        self.symbols_in(section)
            .find(|s| s.name == name && s.kind == SymbolKind::Data)
            .map(|s| s.value as u32)
    }
}

fn is_code(header: &object::elf::SectionHeader64<LittleEndian>) -> bool {
    header.sh_type(LittleEndian) == SHT_PROGBITS
        && header.sh_flags(LittleEndian) & SHF_EXECINSTR as u64 != 0
}
