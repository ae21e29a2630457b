//! A small two-phase ELF64 little-endian relocatable writer: every offset is reserved first,
//! then the file is written in the same order, so the output depends only on the input.

/// `SHT_*` and `SHF_*` values used by the writer.
pub(super) const SHT_PROGBITS: u32 = 1;
pub(super) const SHT_SYMTAB: u32 = 2;
pub(super) const SHT_STRTAB: u32 = 3;
pub(super) const SHT_REL: u32 = 9;
pub(super) const SHF_WRITE: u64 = 1;
pub(super) const SHF_ALLOC: u64 = 2;
pub(super) const SHF_EXECINSTR: u64 = 4;
pub(super) const SHF_INFO_LINK: u64 = 0x40;

const EM_BPF: u16 = 247;
const ET_REL: u16 = 1;
const EHDR_SIZE: u64 = 64;
const SHDR_SIZE: u64 = 64;

/// One section to write (index 0, the null section, is implicit; `.shstrtab` is added last).
pub(super) struct Section {
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub data: Vec<u8>,
    pub link: u32,
    pub info: u32,
    pub align: u64,
    pub entsize: u64,
}

impl Section {
    pub(super) fn progbits(name: &str, flags: u64, data: Vec<u8>, align: u64) -> Section {
        Section {
            name: name.to_string(),
            sh_type: SHT_PROGBITS,
            flags,
            data,
            link: 0,
            info: 0,
            align,
            entsize: 0,
        }
    }
}

/// A string table under construction (`.strtab`, `.shstrtab`): no deduplication needed.
#[derive(Default)]
pub(super) struct ElfStrings {
    bytes: Vec<u8>,
}

impl ElfStrings {
    pub(super) fn new() -> ElfStrings {
        ElfStrings { bytes: vec![0] }
    }

    pub(super) fn add(&mut self, s: &str) -> u32 {
        let off = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        off
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

fn align_up(v: u64, align: u64) -> u64 {
    let a = align.max(1);
    v.div_ceil(a) * a
}

/// Writes the file header, each section's data, then the section header table.
pub(super) fn write(mut sections: Vec<Section>) -> Vec<u8> {
    let mut shstrtab = ElfStrings::new();
    let name_offs: Vec<u32> = sections.iter().map(|s| shstrtab.add(&s.name)).collect();
    let shstrtab_name = shstrtab.add(".shstrtab");
    sections.push(Section {
        name: ".shstrtab".into(),
        sh_type: SHT_STRTAB,
        flags: 0,
        data: shstrtab.into_bytes(),
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
    });
    let names: Vec<u32> = name_offs.into_iter().chain([shstrtab_name]).collect();

    // Reserve.
    let mut offset = EHDR_SIZE;
    let offsets: Vec<u64> = sections
        .iter()
        .map(|s| {
            offset = align_up(offset, s.align);
            let here = offset;
            offset += s.data.len() as u64;
            here
        })
        .collect();
    let shoff = align_up(offset, 8);
    let shnum = sections.len() as u64 + 1;

    // Write in the same order.
    let mut out = Vec::with_capacity((shoff + shnum * SHDR_SIZE) as usize);
    write_header(&mut out, shoff, shnum as u16);
    for (s, &off) in sections.iter().zip(&offsets) {
        out.resize(off as usize, 0);
        out.extend_from_slice(&s.data);
    }
    out.resize(shoff as usize, 0);
    out.extend_from_slice(&[0; SHDR_SIZE as usize]);
    for ((s, &off), &name) in sections.iter().zip(&offsets).zip(&names) {
        write_section_header(&mut out, s, name, off);
    }
    out
}

fn write_header(out: &mut Vec<u8>, shoff: u64, shnum: u16) {
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&ET_REL.to_le_bytes());
    out.extend_from_slice(&EM_BPF.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // e_version
    out.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    out.extend_from_slice(&0u64.to_le_bytes()); // e_phoff
    out.extend_from_slice(&shoff.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&(EHDR_SIZE as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // e_phentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // e_phnum
    out.extend_from_slice(&(SHDR_SIZE as u16).to_le_bytes());
    out.extend_from_slice(&shnum.to_le_bytes());
    out.extend_from_slice(&(shnum - 1).to_le_bytes()); // .shstrtab is last
}

fn write_section_header(out: &mut Vec<u8>, s: &Section, name: u32, offset: u64) {
    out.extend_from_slice(&name.to_le_bytes());
    out.extend_from_slice(&s.sh_type.to_le_bytes());
    out.extend_from_slice(&s.flags.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // sh_addr
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&(s.data.len() as u64).to_le_bytes());
    out.extend_from_slice(&s.link.to_le_bytes());
    out.extend_from_slice(&s.info.to_le_bytes());
    out.extend_from_slice(&s.align.to_le_bytes());
    out.extend_from_slice(&s.entsize.to_le_bytes());
}

/// `Elf64_Sym` fields.
pub(super) struct Symbol {
    pub name: u32,
    pub info: u8,
    pub shndx: u16,
    pub value: u64,
    pub size: u64,
}

pub(super) const STB_LOCAL: u8 = 0;
pub(super) const STB_GLOBAL: u8 = 1;
pub(super) const STT_OBJECT: u8 = 1;
pub(super) const STT_FUNC: u8 = 2;
pub(super) const STT_SECTION: u8 = 3;

pub(super) fn symbol_table(symbols: &[Symbol]) -> Vec<u8> {
    let mut out = vec![0u8; 24];
    for s in symbols {
        out.extend_from_slice(&s.name.to_le_bytes());
        out.push(s.info);
        out.push(0); // st_other: default visibility
        out.extend_from_slice(&s.shndx.to_le_bytes());
        out.extend_from_slice(&s.value.to_le_bytes());
        out.extend_from_slice(&s.size.to_le_bytes());
    }
    out
}

/// `Elf64_Rel` entries: (byte offset, symbol index, relocation type).
pub(super) fn relocation_table(relocs: &[(u64, u32, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(relocs.len() * 16);
    for &(offset, sym, ty) in relocs {
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&((sym as u64) << 32 | ty as u64).to_le_bytes());
    }
    out
}
