//! BPF ELF objects and BTF: writing what the compiler produced, reading what any toolchain
//! (our compiler, clang with libbpf conventions) produced. No syscalls.
//!
//! - [`write_object`] takes an [`ObjectSpec`] (the compiler's output as plain data) and returns
//!   the bytes of an ELF64 relocatable EM_BPF object: one section per program section name
//!   (subprograms, the targets of bpf-to-bpf calls, go to `.text` as libbpf requires),
//!   `.maps` with BTF-defined maps in libbpf's format, `license`, `.BTF`, `.BTF.ext` (func_info,
//!   line_info, CO-RE relocations), `.symtab` and `.rel<section>`. Identical input gives byte-identical output.
//! - [`parse`] reads an object (ours or clang's) into a [`ParsedObject`] for the loader.
//! - [`btf`] is the BTF model both use, also fit for decoding `/sys/kernel/btf/vmlinux`.
//! - [`metrics`]: `defmetric` declarations, written to and read back from the
//!   `.whistler.metrics` section ([`read_metrics`]), which libbpf ignores.

pub mod btf;
pub mod metrics;
mod names;
pub mod read;
pub mod write;

pub use names::symbol_name;
pub use read::{parse, read_metrics, ReadError};
pub use write::{write_object, WriteError};

use whistler_bpf::Insn;

/// Everything needed to write one object file.
#[derive(Clone, Debug, Default)]
pub struct ObjectSpec {
    /// The source file's name as line_info should show it (e.g. `counter.lisp`).
    pub source_name: String,
    /// The source text; line_info points at the text of each line.
    pub source_text: String,
    pub license: String,
    pub maps: Vec<MapSpec>,
    pub programs: Vec<ProgramSpec>,
    /// Struct types to describe in BTF (defstructs), referenced by [`BtfTypeRef::Struct`].
    pub structs: Vec<StructSpec>,
    /// Declared metrics, written to `.whistler.metrics` when there are any.
    pub metrics: Vec<metrics::MetricSpec>,
}

/// A BTF-defined map in `.maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapSpec {
    pub name: String,
    /// `BPF_MAP_TYPE_*` number.
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// The key's type for BTF; `None` describes it as an integer or byte array of `key_size`.
    pub key_type: Option<BtfTypeRef>,
    pub value_type: Option<BtfTypeRef>,
}

/// One program: its own section, instructions and relocations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramSpec {
    /// The Lisp name; the writer emits it as [`symbol_name`] (`pkt-count` becomes `pkt_count`), which is what
    /// libbpf passes to the kernel and what loaders look programs up by.
    pub name: String,
    /// ELF section name, e.g. `xdp`, `kprobe/__x64_sys_execve`. Several programs may share one.
    pub section: String,
    pub insns: Vec<Insn>,
    /// `ld_imm64` instructions that must receive a map's fd (R_BPF_64_64 against the map symbol).
    pub map_relocs: Vec<MapReloc>,
    /// `ld_imm64` instructions that must receive the address of constant bytes in the object's
    /// read-only data (`.rodata`, R_BPF_64_64 against its section symbol).
    pub data_relocs: Vec<DataReloc>,
    /// Source line of instructions, in ascending `insn_index` order.
    pub lines: Vec<LineInfo>,
    /// Instructions whose immediate is a number about the kernel's types (a field's offset or
    /// size, whether a type exists...), for the loader to rewrite for the running kernel (CO-RE).
    pub core_relocs: Vec<CoreReloc>,
}

/// A CO-RE relocation on instruction `insn_index` (a `mov` or `add` whose immediate is
/// `value.local_value()`, the number on the kernel the program was built against). The writer
/// describes the kernel types these name in `.BTF`, with just the members and enumerators
/// relocations use, under their kernel names: loaders match them to the running kernel's
/// types by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreReloc {
    pub insn_index: usize,
    pub value: KernelValue,
}

/// A number about the kernel's types that a loader computes for the running kernel: `kind`
/// says which (`FIELD_BYTE_OFFSET`, `TYPE_EXISTS`, `ENUMVAL_VALUE`...), `of` what about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelValue {
    pub kind: whistler_bpf::CoreKind,
    pub of: KernelSubject,
}

/// What a [`KernelValue`] is about; the kind must fit it (field kinds a field, and so on).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KernelSubject {
    Field(KernelFieldRef),
    /// A named struct, union or enum.
    Type(KernelType),
    Enumerator(KernelEnumerator),
}

/// One named value of a kernel enum, as the build machine's BTF has it (value 0 when the build
/// machine lacks it: the program asks whether the running kernel has it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelEnumerator {
    pub enumeration: String,
    /// The enum's size in bytes and sign.
    pub size: u32,
    pub signed: bool,
    pub name: String,
    pub value: i64,
}

impl KernelValue {
    /// The byte offset of `field`, the value `import-kernel-struct`'s accessors use.
    pub fn field_offset(field: KernelFieldRef) -> KernelValue {
        KernelValue {
            kind: whistler_bpf::CoreKind::FIELD_BYTE_OFFSET,
            of: KernelSubject::Field(field),
        }
    }

    /// The value on the build machine, which the instruction holds until a loader relocates it;
    /// `None` when the kind does not fit the subject.
    pub fn local_value(&self) -> Option<i64> {
        use whistler_bpf::CoreKind as K;
        let value = match (&self.of, self.kind) {
            (KernelSubject::Field(f), K::FIELD_BYTE_OFFSET) => i64::from(f.member.offset),
            (KernelSubject::Field(f), K::FIELD_BYTE_SIZE) => i64::from(f.member.ty.size()),
            (KernelSubject::Field(f), K::FIELD_SIGNED) => i64::from(f.member.ty.is_signed()),
            (KernelSubject::Field(f), K::FIELD_LSHIFT_U64 | K::FIELD_RSHIFT_U64) => {
                64 - 8 * i64::from(f.member.ty.size())
            }
            (KernelSubject::Field(_), K::FIELD_EXISTS)
            | (KernelSubject::Type(_), K::TYPE_EXISTS)
            | (KernelSubject::Enumerator(_), K::ENUMVAL_EXISTS) => 1,
            (KernelSubject::Type(t), K::TYPE_SIZE) => i64::from(t.size()),
            (KernelSubject::Enumerator(e), K::ENUMVAL_VALUE) => e.value,
            _ => return None,
        };
        Some(value)
    }

    /// `task_struct.pid`, `task_struct`, `pid_type::PIDTYPE_TGID`.
    pub fn subject_name(&self) -> String {
        match &self.of {
            KernelSubject::Field(f) => format!("{}.{}", f.structure.name, f.member.name),
            KernelSubject::Type(t) => t.name().to_string(),
            KernelSubject::Enumerator(e) => format!("{}::{}", e.enumeration, e.name),
        }
    }
}

/// One member of a kernel struct or union, as the build machine's BTF describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelFieldRef {
    pub structure: KernelStructRef,
    pub member: KernelMember,
}

/// A kernel struct or union by name, with its size on the build machine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelStructRef {
    pub name: String,
    pub union: bool,
    pub size: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelMember {
    /// The C name (members of anonymous structs and unions are named as their parent's).
    pub name: String,
    /// Byte offset from the start of the struct.
    pub offset: u32,
    pub ty: KernelType,
}

/// A kernel member's type, as much of it as CO-RE compares (kinds, names of enums and
/// composites, array element types); typedefs and qualifiers are left out.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KernelType {
    Int {
        size: u32,
        signed: bool,
    },
    /// Any pointer: CO-RE does not compare what pointers point to.
    Ptr,
    Enum {
        name: String,
        size: u32,
        signed: bool,
    },
    /// A struct or union, described without members.
    Composite(KernelStructRef),
    Array {
        elem: Box<KernelType>,
        count: u32,
    },
    Float {
        size: u32,
    },
}

impl KernelType {
    /// Size in bytes (8 for pointers).
    pub fn size(&self) -> u32 {
        match self {
            KernelType::Int { size, .. }
            | KernelType::Enum { size, .. }
            | KernelType::Float { size } => *size,
            KernelType::Ptr => 8,
            KernelType::Composite(s) => s.size,
            KernelType::Array { elem, count } => elem.size().saturating_mul(*count),
        }
    }

    pub fn is_signed(&self) -> bool {
        matches!(
            self,
            KernelType::Int { signed: true, .. } | KernelType::Enum { signed: true, .. }
        )
    }

    /// The name of a struct, union or enum; empty for the others.
    pub fn name(&self) -> &str {
        match self {
            KernelType::Enum { name, .. } => name,
            KernelType::Composite(s) => &s.name,
            _ => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapReloc {
    pub insn_index: usize,
    pub map_name: String,
}

/// An `ld_imm64` of the address of `bytes`, which the writer places in `.rodata` (once, however
/// many instructions load them); a loader turns it into a pointer into a frozen, read-only map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataReloc {
    pub insn_index: usize,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo {
    pub insn_index: usize,
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub col: u32,
}

/// A C-layout struct to describe in BTF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructSpec {
    pub name: String,
    pub size: u32,
    pub fields: Vec<FieldSpec>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    /// Byte offset in the struct.
    pub offset: u32,
    pub ty: BtfTypeRef,
}

/// A type as the writer should describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BtfTypeRef {
    /// An integer of 1, 2, 4 or 8 bytes.
    Int { size: u32, signed: bool },
    /// `elem[count]`.
    Array { elem: Box<BtfTypeRef>, count: u32 },
    /// A struct from [`ObjectSpec::structs`], by name.
    Struct(String),
}

/// An ELF BPF object as read from bytes, before anything is loaded: code sections with their
/// relocations, map definitions (BTF-defined `.maps`, legacy `maps`, and global data sections
/// `.data`/`.rodata*`/`.bss` presented as single-entry array maps), BTF and `.BTF.ext` records.
/// Produced by `read::parse`; consumed by the loader, which links, relocates and loads.
#[derive(Clone, Debug, Default)]
pub struct ParsedObject {
    pub license: String,
    pub kernel_version: u32,
    pub maps: Vec<ParsedMap>,
    /// Every executable section (program sections and `.text`), in section order.
    pub code_sections: Vec<CodeSection>,
    /// Programs: global function symbols in executable sections other than `.text`.
    pub programs: Vec<ParsedProgram>,
    /// The `.BTF` bytes, if present, with libbpf's fix-ups applied: DATASEC sizes and variable
    /// offsets filled in from the ELF sections and symbols (clang leaves them 0).
    pub btf: Option<Vec<u8>>,
    /// Why `.BTF` or `.BTF.ext` was malformed and ignored (as libbpf does, when no BTF-defined
    /// map needs it); `None` when they were read or absent.
    pub btf_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedMap {
    pub name: String,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// `LIBBPF_PIN_BY_NAME` and friends (`pinning` in BTF-defined maps).
    pub pinning: u32,
    /// BTF type ids of key and value, when the object's BTF describes them (0 otherwise).
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    /// For global data maps: which section and its initial contents (zeroes for `.bss`).
    pub data: Option<GlobalData>,
    /// For prog-array maps declared with `values = { [0] = &prog }`: (index, program name).
    pub initial_programs: Vec<(u32, String)>,
    /// For map-in-map types (`BPF_MAP_TYPE_ARRAY_OF_MAPS`, `HASH_OF_MAPS`) declared with
    /// `__array(values, struct inner_def)`: the inner map's definition, which the kernel needs
    /// as a template (`inner_map_fd`) when the outer map is created.
    pub inner_map: Option<Box<ParsedMap>>,
    /// For map-in-map types declared with `values = { [0] = &other_map }`: (index, map name).
    pub initial_maps: Vec<(u32, String)>,
    /// `map_extra` of BTF-defined maps (the bloom filter's number of hash functions, ...).
    pub map_extra: u64,
    /// `numa_node` of BTF-defined maps, meaningful when `map_flags` has `BPF_F_NUMA_NODE`.
    pub numa_node: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalData {
    pub section: String,
    pub bytes: Vec<u8>,
    /// `.rodata*` maps are frozen after their contents are written.
    pub read_only: bool,
}

/// One executable section's instructions and everything that points into or out of them.
#[derive(Clone, Debug, Default)]
pub struct CodeSection {
    pub name: String,
    /// ELF section index, as symbols and `.BTF.ext` refer to it.
    pub index: usize,
    pub insns: Vec<whistler_bpf::Insn>,
    /// Function symbols in this section: (name, first instruction, instruction count, global).
    pub functions: Vec<FunctionSymbol>,
    pub relocs: Vec<Relocation>,
    pub func_info: Vec<FuncInfoRecord>,
    pub line_info: Vec<LineInfoRecord>,
    pub core_relos: Vec<CoreRelocation>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSymbol {
    pub name: String,
    pub insn_offset: usize,
    pub insn_count: usize,
    pub global: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// Index of the instruction in its section.
    pub insn_index: usize,
    pub target: RelocTarget,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelocTarget {
    /// `ld_imm64` of a map: index into [`ParsedObject::maps`].
    Map(usize),
    /// `ld_imm64` of an address inside a global data map (the offset is the symbol's value plus
    /// the addend already in the instruction's imm).
    MapValue { map: usize, offset: u32 },
    /// A `call` or `ld_imm64` of a function in a code section: section index and instruction.
    Function { section: usize, insn_offset: usize },
    /// A symbol the object does not define (kfuncs, kconfig externs): by name.
    Extern(String),
}

/// `.BTF.ext` func_info, with `insn_offset` in instructions within its section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfoRecord {
    pub insn_offset: u32,
    pub type_id: u32,
}

/// `.BTF.ext` line_info, with `insn_offset` in instructions within its section; the name and
/// line offsets index the object's BTF string table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfoRecord {
    pub insn_offset: u32,
    pub file_name_off: u32,
    pub line_off: u32,
    /// `line << 10 | col`, as the kernel stores it.
    pub line_col: u32,
}

/// `.BTF.ext` CO-RE relocation (`struct bpf_core_relo`), `insn_offset` in instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreRelocation {
    pub insn_offset: u32,
    pub type_id: u32,
    pub access_str_off: u32,
    pub kind: u32,
}

/// A parsed program: a global function symbol in a program section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedProgram {
    pub name: String,
    pub section: String,
    /// Index into [`ParsedObject::code_sections`].
    pub code_section: usize,
    pub insn_offset: usize,
    pub insn_count: usize,
}
