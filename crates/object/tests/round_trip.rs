//! `write_object` then `parse`: everything the spec said comes back.

use whistler_bpf::opcode::*;
use whistler_bpf::{CoreKind, Insn, MapType, Reg};
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
                data_relocs: Vec::new(),
                lines: vec![line(0, 2, 1), line(1, 3, 3), line(2, 3, 3), line(5, 3, 4)],
                core_relocs: vec![],
            },
            ProgramSpec {
                name: "second".into(),
                section: "xdp".into(),
                insns: second.clone(),
                map_relocs: vec![MapReloc {
                    insn_index: 0,
                    map_name: "events".into(),
                }],
                data_relocs: Vec::new(),
                lines: vec![line(2, 4, 1)],
                core_relocs: vec![],
            },
            ProgramSpec {
                name: "third".into(),
                section: "socket".into(),
                insns: vec![Insn::mov64_imm(Reg::R0, 0), Insn::exit()],
                map_relocs: vec![],
                data_relocs: Vec::new(),
                lines: vec![],
                core_relocs: vec![],
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
        metrics: vec![],
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

fn kernel_field(structure: &str, name: &str, offset: u32, ty: KernelType) -> KernelFieldRef {
    KernelFieldRef {
        structure: KernelStructRef {
            name: structure.into(),
            union: false,
            size: 4096,
        },
        member: KernelMember {
            name: name.into(),
            offset,
            ty,
        },
    }
}

#[test]
fn core_relocations_name_kernel_members_by_index_in_local_btf() {
    let real_parent = kernel_field("task_struct", "real_parent", 1216, KernelType::Ptr);
    let tgid = KernelType::Int {
        size: 4,
        signed: true,
    };
    let tgid = kernel_field("task_struct", "tgid", 1200, tgid);
    let insns = vec![
        Insn::mov64_imm(Reg::R1, 1216),
        Insn::mov64_imm(Reg::R2, 1200),
        Insn::mov64_imm(Reg::R3, 1216),
        Insn::mov64_imm(Reg::R0, 0),
        Insn::exit(),
    ];
    let reloc = |insn_index, field: &KernelFieldRef| CoreReloc {
        insn_index,
        value: KernelValue::field_offset(field.clone()),
    };
    let spec = ObjectSpec {
        license: "GPL".into(),
        programs: vec![ProgramSpec {
            name: "parents".into(),
            section: "tracepoint/sched/sched_process_exec".into(),
            insns,
            map_relocs: vec![],
            data_relocs: Vec::new(),
            lines: vec![],
            core_relocs: vec![
                reloc(0, &real_parent),
                reloc(1, &tgid),
                reloc(2, &real_parent),
            ],
        }],
        ..ObjectSpec::default()
    };
    let object = parse(&write_object(&spec).unwrap()).unwrap();
    let btf = Btf::from_bytes(object.btf.as_ref().unwrap()).unwrap();
    let section = &object.code_sections[0];
    let records: Vec<_> = section
        .core_relos
        .iter()
        .map(|r| {
            let members = btf.members(r.type_id).unwrap();
            let access = btf.str_at(r.access_str_off);
            let index: usize = access.strip_prefix("0:").unwrap().parse().unwrap();
            let member = &members[index];
            (
                r.insn_offset,
                btf.name(r.type_id),
                access,
                btf.member_name(member),
                member.bit_offset / 8,
                r.kind,
            )
        })
        .collect();
    assert_eq!(
        records,
        [
            (0, "task_struct", "0:1", "real_parent", 1216, 0),
            (1, "task_struct", "0:0", "tgid", 1200, 0),
            (2, "task_struct", "0:1", "real_parent", 1216, 0),
        ]
    );
    let struct_id = section.core_relos[0].type_id;
    let real_parent_ty = btf.members(struct_id).unwrap()[1].ty;
    assert!(matches!(btf.kind(real_parent_ty), Some(Kind::Ptr { .. })));
    let structs: Vec<u32> = btf
        .find_all_by_name_kind("task_struct", BtfKind::Struct)
        .collect();
    assert_eq!(structs, [struct_id]);
}

#[test]
fn type_and_enumerator_relocations_describe_their_types_once() {
    let state = kernel_field(
        "task_struct",
        "__state",
        24,
        KernelType::Int {
            size: 4,
            signed: false,
        },
    );
    let task = KernelType::Composite(state.structure.clone());
    let enumerator = |name: &str, value| {
        KernelSubject::Enumerator(KernelEnumerator {
            enumeration: "pid_type".into(),
            size: 4,
            signed: false,
            name: name.into(),
            value,
        })
    };
    let relocs = [
        (CoreKind::FIELD_EXISTS, KernelSubject::Field(state)),
        (CoreKind::TYPE_SIZE, KernelSubject::Type(task)),
        (CoreKind::ENUMVAL_VALUE, enumerator("PIDTYPE_TGID", 1)),
        (CoreKind::ENUMVAL_EXISTS, enumerator("PIDTYPE_MAX", 4)),
    ];
    let core_relocs: Vec<CoreReloc> = relocs
        .into_iter()
        .enumerate()
        .map(|(insn_index, (kind, of))| CoreReloc {
            insn_index,
            value: KernelValue { kind, of },
        })
        .collect();
    let locals: Vec<i64> = core_relocs
        .iter()
        .map(|r| r.value.local_value().unwrap())
        .collect();
    assert_eq!(locals, [1, 4096, 1, 1]);
    let mut insns: Vec<Insn> = locals
        .iter()
        .map(|&v| Insn::mov64_imm(Reg::R1, v as i32))
        .collect();
    insns.extend([Insn::mov64_imm(Reg::R0, 0), Insn::exit()]);
    let spec = ObjectSpec {
        license: "GPL".into(),
        programs: vec![ProgramSpec {
            name: "p".into(),
            section: "raw_tp/sys_enter".into(),
            insns,
            map_relocs: vec![],
            data_relocs: Vec::new(),
            lines: vec![],
            core_relocs,
        }],
        ..ObjectSpec::default()
    };
    let object = parse(&write_object(&spec).unwrap()).unwrap();
    let btf = Btf::from_bytes(object.btf.as_ref().unwrap()).unwrap();
    let records: Vec<_> = object.code_sections[0]
        .core_relos
        .iter()
        .map(|r| (btf.name(r.type_id), btf.str_at(r.access_str_off), r.kind))
        .collect();
    assert_eq!(
        records,
        [
            ("task_struct", "0:0", CoreKind::FIELD_EXISTS as u32),
            ("task_struct", "0", CoreKind::TYPE_SIZE as u32),
            ("pid_type", "1", CoreKind::ENUMVAL_VALUE as u32),
            ("pid_type", "0", CoreKind::ENUMVAL_EXISTS as u32),
        ]
    );
    let pid_type = object.code_sections[0].core_relos[2].type_id;
    let Some(Kind::Enum { values, .. }) = btf.kind(pid_type) else {
        panic!("pid_type is not an enum")
    };
    let names: Vec<(&str, u64)> = values
        .iter()
        .map(|v| (btf.str_at(v.name_off), v.value))
        .collect();
    assert_eq!(names, [("PIDTYPE_MAX", 4), ("PIDTYPE_TGID", 1)]);
}
