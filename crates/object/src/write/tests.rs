//! Writer tests that need no kernel: spec validation errors, BTF names, determinism, ELF header.

use super::*;
use crate::btf::{Btf, BtfKind};
use crate::{
    BtfTypeRef, DataReloc, FieldSpec, LineInfo, MapReloc, MapSpec, RelocTarget, StructSpec,
};
use whistler_bpf::{Insn, Reg};

fn program(name: &str, insns: Vec<Insn>) -> ProgramSpec {
    ProgramSpec {
        name: name.into(),
        section: "xdp".into(),
        insns,
        map_relocs: vec![],
        data_relocs: Vec::new(),
        lines: vec![],
        core_relocs: vec![],
    }
}

fn ret() -> Vec<Insn> {
    vec![Insn::mov64_imm(Reg::R0, 2), Insn::exit()]
}

fn hash_map(name: &str) -> MapSpec {
    MapSpec {
        name: name.into(),
        map_type: 1,
        key_size: 4,
        value_size: 8,
        max_entries: 16,
        map_flags: 0,
        key_type: None,
        value_type: None,
    }
}

fn spec(maps: Vec<MapSpec>, programs: Vec<ProgramSpec>) -> ObjectSpec {
    ObjectSpec {
        source_name: "t.lisp".into(),
        source_text: "a\nb\n".into(),
        license: "GPL".into(),
        maps,
        programs,
        structs: vec![],
        metrics: vec![],
    }
}

fn written_btf(spec: &ObjectSpec) -> Btf {
    let object = crate::read::parse(&write_object(spec).unwrap()).unwrap();
    Btf::from_bytes(&object.btf.unwrap()).unwrap()
}

#[test]
fn header_is_elf64_little_endian_relocatable_bpf() {
    let bytes = write_object(&spec(vec![], vec![program("p", ret())])).unwrap();
    assert_eq!(&bytes[..8], &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    assert_eq!(u16::from_le_bytes([bytes[16], bytes[17]]), 1); // ET_REL
    assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 247); // EM_BPF
}

#[test]
fn relocation_against_unknown_map_is_an_error() {
    let mut p = program("p", Insn::ld_imm64(Reg::R1, 1, 0).to_vec());
    p.insns.extend(ret());
    p.map_relocs = vec![MapReloc {
        insn_index: 0,
        map_name: "nope".into(),
    }];
    let err = write_object(&spec(vec![hash_map("m")], vec![p])).unwrap_err();
    assert!(matches!(err, WriteError::UnknownMap { .. }), "{err}");
}

/// A program loading the address of each of `constants`, then returning.
fn loading_constants(name: &str, constants: &[&[u8]]) -> ProgramSpec {
    let mut p = program(name, vec![]);
    for bytes in constants {
        p.data_relocs.push(DataReloc {
            insn_index: p.insns.len(),
            bytes: bytes.to_vec(),
        });
        p.insns.extend(Insn::ld_imm64(Reg::R2, 0, 0));
    }
    p.insns.extend(ret());
    p
}

#[test]
fn constants_are_placed_once_each_in_rodata() {
    let programs = vec![
        loading_constants("a", &[&[1, 0, 0, 0], &[7; 10]]),
        loading_constants("b", &[&[7; 10], &[1, 0, 0, 0], &[2]]),
    ];
    let object = crate::read::parse(&write_object(&spec(vec![], programs)).unwrap()).unwrap();
    let rodata = object
        .maps
        .iter()
        .position(|m| m.name == ".rodata")
        .unwrap();
    let data = object.maps[rodata].data.as_ref().unwrap();
    assert!(data.read_only);
    let mut expected = vec![1, 0, 0, 0, 0, 0, 0, 0];
    expected.extend([7; 10]);
    expected.extend([0; 6]);
    expected.push(2);
    assert_eq!(
        data.bytes, expected,
        "each distinct constant once, 8-byte aligned"
    );
    let offsets: Vec<Vec<u32>> = (object.code_sections.iter())
        .map(|s| {
            (s.relocs.iter())
                .map(|r| match r.target {
                    RelocTarget::MapValue { map, offset } if map == rodata => offset,
                    ref other => panic!("unexpected relocation {other:?}"),
                })
                .collect()
        })
        .collect();
    assert_eq!(
        offsets,
        [vec![0, 8, 8, 0, 24]],
        "both programs share the `xdp` section"
    );
}

#[test]
fn without_constants_there_is_no_rodata() {
    let bytes = write_object(&spec(vec![hash_map("m")], vec![program("p", ret())])).unwrap();
    let object = crate::read::parse(&bytes).unwrap();
    assert!(object.maps.iter().all(|m| m.data.is_none()));
}

#[test]
fn relocation_must_sit_on_ld_imm64() {
    let mut p = program("p", ret());
    p.map_relocs = vec![MapReloc {
        insn_index: 0,
        map_name: "m".into(),
    }];
    let err = write_object(&spec(vec![hash_map("m")], vec![p])).unwrap_err();
    assert_eq!(
        err,
        WriteError::RelocNotLdImm64 {
            program: "p".into(),
            insn_index: 0
        }
    );
}

#[test]
fn duplicates_and_empty_programs_are_errors() {
    let two = spec(
        vec![hash_map("m"), hash_map("m")],
        vec![program("p", ret())],
    );
    assert_eq!(
        write_object(&two),
        Err(WriteError::DuplicateMap("m".into()))
    );
    let two = spec(vec![], vec![program("p", ret()), program("p", ret())]);
    assert_eq!(
        write_object(&two),
        Err(WriteError::DuplicateProgram("p".into()))
    );
    // Names are compared as the object carries them.
    let two = spec(
        vec![hash_map("a-b"), hash_map("a_b")],
        vec![program("p", ret())],
    );
    assert_eq!(
        write_object(&two),
        Err(WriteError::DuplicateMap("a_b".into()))
    );
    let mut two = spec(vec![], vec![program("p", ret())]);
    two.structs = ["s-1", "s_1"]
        .map(|name| StructSpec {
            name: name.into(),
            size: 0,
            fields: vec![],
        })
        .to_vec();
    assert_eq!(
        write_object(&two),
        Err(WriteError::DuplicateStruct("s_1".into()))
    );
    let empty = spec(vec![], vec![program("p", vec![])]);
    assert_eq!(
        write_object(&empty),
        Err(WriteError::EmptyProgram("p".into()))
    );
}

#[test]
fn struct_errors_are_reported() {
    let mut m = hash_map("m");
    m.value_type = Some(BtfTypeRef::Struct("missing".into()));
    let s = spec(vec![m.clone()], vec![program("p", ret())]);
    assert_eq!(
        write_object(&s),
        Err(WriteError::UnknownStruct("missing".into()))
    );

    let mut s = s;
    s.structs = vec![StructSpec {
        name: "missing".into(),
        size: 4,
        fields: vec![FieldSpec {
            name: "x".into(),
            offset: 2,
            ty: BtfTypeRef::Int {
                size: 4,
                signed: false,
            },
        }],
    }];
    assert!(matches!(
        write_object(&s),
        Err(WriteError::FieldOutOfBounds { .. })
    ));
    s.structs[0].fields[0].offset = 0;
    // A 4-byte struct cannot be the value of a map whose values are 8 bytes.
    assert!(matches!(
        write_object(&s),
        Err(WriteError::SizeMismatch { what: "value", .. })
    ));
}

#[test]
fn func_names_are_valid_btf_identifiers() {
    let btf = written_btf(&spec(vec![], vec![program("count-packets", ret())]));
    assert!(btf
        .find_by_name_kind("count_packets", BtfKind::Func)
        .is_some());
}

#[test]
fn fd_maps_get_sizes_not_types() {
    let mut prog_array = hash_map("jumps");
    prog_array.map_type = 3;
    prog_array.value_size = 4;
    let btf = written_btf(&spec(vec![prog_array], vec![program("p", ret())]));
    let var = btf.find_by_name_kind("jumps", BtfKind::Var).unwrap();
    let Some(crate::btf::Kind::Var { ty, .. }) = btf.kind(var) else {
        panic!()
    };
    let names: Vec<_> = btf
        .members(*ty)
        .unwrap()
        .iter()
        .map(|m| btf.member_name(m))
        .collect();
    assert_eq!(names, ["type", "key_size", "value_size", "max_entries"]);
}

#[test]
fn line_info_is_cleaned_for_the_kernel() {
    let mut insns = Insn::ld_imm64(Reg::R1, 0, 7).to_vec();
    insns.extend(ret());
    let mut p = program("p", insns);
    let at = |insn_index, line| LineInfo {
        insn_index,
        line,
        col: 5000,
    };
    p.lines = vec![at(3, 2), at(1, 1), at(2, 2), at(2, 1), at(9, 1)];
    let object = crate::read::parse(&write_object(&spec(vec![], vec![p])).unwrap()).unwrap();
    let lines: Vec<_> = object.code_sections[0]
        .line_info
        .iter()
        .map(|l| (l.insn_offset, l.line_col >> 10, l.line_col & 0x3ff))
        .collect();
    // Sorted, one per instruction, none on the ld_imm64's second half, one at 0, column clamped.
    assert_eq!(lines, [(0, 2, 1023), (2, 2, 1023), (3, 2, 1023)]);
}
