//! `write_object` then `parse`: everything the spec said comes back.

use whistler_bpf::opcode::*;
use whistler_bpf::{Insn, MapType, Reg};
use whistler_object::btf::{Btf, BtfKind, Kind};
use whistler_object::*;

fn spec() -> ObjectSpec {
    let mut lookup = vec![Insn::store_imm(BPF_W, Reg::FP, -4, 0)];
    lookup.extend(Insn::ld_imm64(Reg::R1, BPF_PSEUDO_MAP_FD, 0));
    lookup.extend([
        Insn::mov64_reg(Reg::R2, Reg::FP),
        Insn::alu64_imm(BPF_ADD, Reg::R2, -4),
        Insn::call_helper(1),
        Insn::mov64_imm(Reg::R0, 2),
        Insn::exit(),
    ]);
    let mut second = Insn::ld_imm64(Reg::R1, BPF_PSEUDO_MAP_FD, 0).to_vec();
    second.extend([Insn::mov64_imm(Reg::R0, 1), Insn::exit()]);
    let line = |insn_index, line, col| LineInfo {
        insn_index,
        line,
        col,
    };
    ObjectSpec {
        source_name: "trip.lisp".into(),
        source_text:
            "(defmap counts ...)\n(defprog first ...)\n  (lookup counts 0)\n(defprog second ...)\n"
                .into(),
        license: "Dual MIT/GPL".into(),
        maps: vec![
            MapSpec {
                name: "pkt-counts".into(),
                map_type: MapType::HASH as u32,
                key_size: 4,
                value_size: 16,
                max_entries: 1024,
                map_flags: 1,
                key_type: None,
                value_type: Some(BtfTypeRef::Struct("pair".into())),
            },
            MapSpec {
                name: "events".into(),
                map_type: MapType::RINGBUF as u32,
                key_size: 0,
                value_size: 0,
                max_entries: 8192,
                map_flags: 0,
                key_type: None,
                value_type: None,
            },
        ],
        programs: vec![
            ProgramSpec {
                name: "first".into(),
                section: "xdp".into(),
                insns: lookup,
                map_relocs: vec![MapReloc {
                    insn_index: 1,
                    map_name: "pkt-counts".into(),
                }],
                lines: vec![line(0, 2, 1), line(1, 3, 3), line(2, 3, 3), line(5, 3, 4)],
            },
            ProgramSpec {
                name: "second".into(),
                section: "xdp".into(),
                insns: second.clone(),
                map_relocs: vec![MapReloc {
                    insn_index: 0,
                    map_name: "events".into(),
                }],
                lines: vec![line(2, 4, 1)],
            },
            ProgramSpec {
                name: "third".into(),
                section: "socket".into(),
                insns: vec![Insn::mov64_imm(Reg::R0, 0), Insn::exit()],
                map_relocs: vec![],
                lines: vec![],
            },
        ],
        structs: vec![StructSpec {
            name: "pair".into(),
            size: 16,
            fields: vec![
                FieldSpec {
                    name: "a".into(),
                    offset: 0,
                    ty: BtfTypeRef::Int {
                        size: 8,
                        signed: true,
                    },
                },
                FieldSpec {
                    name: "b".into(),
                    offset: 8,
                    ty: BtfTypeRef::Int {
                        size: 8,
                        signed: false,
                    },
                },
            ],
        }],
    }
}

#[test]
fn written_objects_parse_back() {
    let spec = spec();
    let bytes = write_object(&spec).unwrap();
    assert_eq!(bytes, write_object(&spec).unwrap());
    let object = parse(&bytes).unwrap();
    assert_eq!(object.license, "Dual MIT/GPL");

    let maps: Vec<_> = object
        .maps
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.map_type,
                m.key_size,
                m.value_size,
                m.max_entries,
                m.map_flags,
            )
        })
        .collect();
    assert_eq!(
        maps,
        [
            ("pkt_counts", 1, 4, 16, 1024, 1),
            ("events", 27, 0, 0, 8192, 0)
        ]
    );
    let btf = Btf::from_bytes(object.btf.as_ref().unwrap()).unwrap();
    assert_eq!(btf.name(object.maps[0].btf_value_type_id), "pair");
    assert_eq!(btf.resolve_size(object.maps[0].btf_key_type_id), Ok(4));

    let progs: Vec<_> = object
        .programs
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.section.as_str(),
                p.insn_offset,
                p.insn_count,
            )
        })
        .collect();
    assert_eq!(
        progs,
        [
            ("first", "xdp", 0, 8),
            ("second", "xdp", 8, 4),
            ("third", "socket", 0, 2)
        ]
    );

    let xdp = &object.code_sections[object.programs[0].code_section];
    assert_eq!(xdp.insns[..8], spec.programs[0].insns[..]);
    assert_eq!(xdp.insns[8..], spec.programs[1].insns[..]);
    let relocs: Vec<_> = xdp
        .relocs
        .iter()
        .map(|r| (r.insn_index, r.target.clone()))
        .collect();
    assert_eq!(relocs, [(1, RelocTarget::Map(0)), (8, RelocTarget::Map(1))]);

    let funcs: Vec<_> = xdp
        .func_info
        .iter()
        .map(|f| (f.insn_offset, btf.name(f.type_id)))
        .collect();
    assert_eq!(funcs, [(0, "first"), (8, "second")]);
    assert!(matches!(
        btf.kind(xdp.func_info[0].type_id),
        Some(Kind::Func { linkage: 1, .. })
    ));

    // The record on the second half of ld_imm64 is dropped; "second" gets one at its start.
    let lines: Vec<_> = xdp
        .line_info
        .iter()
        .map(|l| {
            (
                l.insn_offset,
                btf.str_at(l.file_name_off),
                btf.str_at(l.line_off),
                l.line_col >> 10,
                l.line_col & 0x3ff,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (0, "trip.lisp", "(defprog first ...)", 2, 1),
            (1, "trip.lisp", "  (lookup counts 0)", 3, 3),
            (5, "trip.lisp", "  (lookup counts 0)", 3, 4),
            (8, "trip.lisp", "(defprog second ...)", 4, 1),
            (10, "trip.lisp", "(defprog second ...)", 4, 1),
        ]
    );
    let socket = object
        .code_sections
        .iter()
        .find(|s| s.name == "socket")
        .unwrap();
    assert!(socket.line_info.is_empty() && socket.func_info.len() == 1);

    assert!(btf.find_by_name_kind("pkt_counts", BtfKind::Var).is_some());
    let maps_sec = btf.find_by_name_kind(".maps", BtfKind::Datasec).unwrap();
    let Some(Kind::Datasec { size, vars }) = btf.kind(maps_sec) else {
        panic!()
    };
    assert_eq!(*size, vars.iter().map(|v| v.size).sum::<u32>());
    assert_eq!(vars[0].size, 5 * 8); // type, key, value, max_entries, map_flags
    assert_eq!(vars[1].size, 2 * 8); // type, max_entries
}

#[test]
fn damaged_written_objects_give_errors_not_panics() {
    let bytes = write_object(&spec()).unwrap();
    let mut state = 0x9e37_79b9u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for _ in 0..20_000 {
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 6 {
            let i = next() as usize % b.len();
            b[i] = next() as u8;
        }
        let _ = parse(&b);
    }
}

#[test]
fn unreadable_btf_is_dropped_unless_maps_need_it() {
    let mut spec = spec();
    spec.maps.clear();
    for p in &mut spec.programs {
        p.map_relocs.clear();
    }
    let mut bytes = write_object(&spec).unwrap();
    // Break the BTF magic: the object still parses, without BTF and line info.
    let at = bytes
        .windows(4)
        .position(|w| w == [0x9f, 0xeb, 1, 0])
        .unwrap();
    bytes[at] = 0;
    let object = parse(&bytes).unwrap();
    assert!(object.btf.is_none() && object.btf_error.is_some());
    assert!(object.code_sections.iter().all(|s| s.line_info.is_empty()));
    assert_eq!(object.programs.len(), 3);

    let mut with_maps = write_object(&self::spec()).unwrap();
    let at = with_maps
        .windows(4)
        .position(|w| w == [0x9f, 0xeb, 1, 0])
        .unwrap();
    with_maps[at] = 0;
    assert!(matches!(parse(&with_maps), Err(ReadError::Btf(_))));
}
