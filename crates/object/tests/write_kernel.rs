//! Objects written from hand-made ObjectSpecs, checked by llvm-objdump, readelf and bpftool, and
//! loaded by bpftool (libbpf strict mode) into the running kernel, then run with
//! BPF_PROG_TEST_RUN.

mod common;

use common::*;
use whistler_bpf::opcode::*;
use whistler_bpf::{Insn, MapType, Reg};
use whistler_object::*;

const XDP_PASS: i32 = 2;
const SOURCE: &str = "(defmap counts)\n(defprog xdp-pass (:type xdp)\n  (return 2))\n";

fn program(name: &str, section: &str, insns: Vec<Insn>) -> ProgramSpec {
    let lines = (0..insns.len())
        .map(|i| LineInfo {
            insn_index: i,
            line: 2 + (i as u32 % 2),
            col: 3,
        })
        .collect();
    ProgramSpec {
        name: name.into(),
        section: section.into(),
        insns,
        map_relocs: vec![],
        data_relocs: Vec::new(),
        lines,
        core_relocs: vec![],
    }
}

fn return_value(v: i32) -> Vec<Insn> {
    vec![Insn::mov64_imm(Reg::R0, v), Insn::exit()]
}

fn object(maps: Vec<MapSpec>, programs: Vec<ProgramSpec>) -> ObjectSpec {
    ObjectSpec {
        source_name: "test.lisp".into(),
        source_text: SOURCE.into(),
        license: "GPL".into(),
        maps,
        programs,
        structs: vec![],
        metrics: vec![],
    }
}

fn map(name: &str, map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> MapSpec {
    MapSpec {
        name: name.into(),
        map_type: map_type as u32,
        key_size,
        value_size,
        max_entries,
        map_flags: 0,
        key_type: None,
        value_type: None,
    }
}

/// `r1 = map; *(u32 *)(fp - 4) = 0; r2 = fp - 4; r0 = lookup(r1, r2); return r0 ? *r0 : 99`.
fn lookup_first_u32(map_name: &str) -> ProgramSpec {
    let mut insns = vec![Insn::store_imm(BPF_W, Reg::FP, -4, 0)];
    insns.extend(Insn::ld_imm64(Reg::R1, BPF_PSEUDO_MAP_FD, 0));
    insns.extend([
        Insn::mov64_reg(Reg::R2, Reg::FP),
        Insn::alu64_imm(BPF_ADD, Reg::R2, -4),
        Insn::call_helper(1),
        Insn::jmp_imm(BPF_JEQ, Reg::R0, 0, 2),
        Insn::load(BPF_W, Reg::R0, Reg::R0, 0),
        Insn::exit(),
        Insn::mov64_imm(Reg::R0, 99),
        Insn::exit(),
    ]);
    let mut p = program("lookup", "xdp", insns);
    p.map_relocs = vec![MapReloc {
        insn_index: 1,
        map_name: map_name.into(),
    }];
    p
}

/// Writes the object, checks it with the LLVM and binutils tools, returns its path.
fn write_and_inspect(spec: &ObjectSpec, dir: &std::path::Path) -> std::path::PathBuf {
    let bytes = write_object(spec).unwrap();
    assert_eq!(
        bytes,
        write_object(spec).unwrap(),
        "output must be deterministic"
    );
    let path = dir.join("test.bpf.o");
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_string_lossy();
    if tool_exists("llvm-objdump") {
        run("llvm-objdump", &["-d", "-r", &p]);
    }
    if tool_exists("readelf") {
        let out = std::process::Command::new("readelf")
            .args(["-a", "-W", &p])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.trim().is_empty(),
            "readelf: {err}"
        );
    }
    if tool_exists("bpftool") {
        run("bpftool", &["btf", "dump", "file", &p]);
    }
    path
}

/// Sets slot 0 of the pinned u32 array `map` to `value`, with bpftool.
fn set_slot_0(pins: &PinDir, map: &str, value: u8) {
    let map = pins.join(&format!("maps/{map}"));
    let value = value.to_string();
    run(
        "bpftool",
        &[
            "map", "update", "pinned", &map, "key", "0", "0", "0", "0", "value", &value, "0", "0",
            "0",
        ],
    );
}

/// The pinned program as the kernel translated it, each instruction under its source line.
fn xlated_with_lines(pins: &PinDir, prog: &str) -> String {
    run(
        "bpftool",
        &[
            "prog",
            "dump",
            "xlated",
            "pinned",
            &pins.join(prog),
            "linum",
        ],
    )
}

/// The section's relocations as (instruction index, target) pairs.
fn relocs_by_insn(section: &CodeSection) -> Vec<(usize, RelocTarget)> {
    section
        .relocs
        .iter()
        .map(|r| (r.insn_index, r.target.clone()))
        .collect()
}

#[test]
fn xdp_program_returning_pass() {
    let spec = object(
        vec![],
        vec![program("xdp_pass", "xdp", return_value(XDP_PASS))],
    );
    let dir = scratch_dir("xdp");
    let path = write_and_inspect(&spec, &dir);
    let Some(pins) = load_pinned("xdp_program_returning_pass", &path) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "xdp_pass", &[0; 64], &dir), 2);
    let xlated = xlated_with_lines(&pins, "xdp_pass");
    assert!(xlated.contains("test.lisp"), "{xlated}");
    assert!(
        xlated.contains("(return 2)) [file:test.lisp line_num:3 line_col:3]"),
        "{xlated}"
    );
}

#[test]
fn array_map_lookup_through_a_relocation() {
    let spec = object(
        vec![map("values", MapType::ARRAY, 4, 4, 4)],
        vec![lookup_first_u32("values")],
    );
    let dir = scratch_dir("array");
    let path = write_and_inspect(&spec, &dir);
    let Some(pins) = load_pinned("array_map_lookup_through_a_relocation", &path) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "lookup", &[0; 64], &dir), 0);
    set_slot_0(&pins, "values", 42);
    assert_eq!(bpftool_run(&pins, "lookup", &[0; 64], &dir), 42);
}

#[test]
fn two_programs_share_one_section() {
    let spec = object(
        vec![],
        vec![
            program("first", "xdp", return_value(1)),
            program(
                "second",
                "xdp",
                vec![
                    Insn::mov64_imm(Reg::R0, 1),
                    Insn::alu64_imm(BPF_ADD, Reg::R0, 2),
                    Insn::exit(),
                ],
            ),
        ],
    );
    let dir = scratch_dir("shared");
    let path = write_and_inspect(&spec, &dir);
    let Some(pins) = load_pinned("two_programs_share_one_section", &path) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "first", &[0; 64], &dir), 1);
    assert_eq!(bpftool_run(&pins, "second", &[0; 64], &dir), 3);
}

#[test]
fn struct_valued_hash_map() {
    let mut spec = object(vec![], vec![]);
    spec.structs = vec![StructSpec {
        name: "pkt-stats".into(),
        size: 16,
        fields: vec![
            FieldSpec {
                name: "last-len".into(),
                offset: 8,
                ty: BtfTypeRef::Int {
                    size: 4,
                    signed: false,
                },
            },
            FieldSpec {
                name: "packets".into(),
                offset: 0,
                ty: BtfTypeRef::Int {
                    size: 8,
                    signed: false,
                },
            },
            FieldSpec {
                name: "tag".into(),
                offset: 12,
                ty: BtfTypeRef::Array {
                    elem: Box::new(BtfTypeRef::Int {
                        size: 1,
                        signed: false,
                    }),
                    count: 4,
                },
            },
        ],
    }];
    let mut m = map("stats_by_key", MapType::HASH, 4, 16, 128);
    m.value_type = Some(BtfTypeRef::Struct("pkt-stats".into()));
    spec.maps = vec![m];
    spec.programs = vec![lookup_first_u32("stats_by_key")];
    let dir = scratch_dir("struct");
    let path = write_and_inspect(&spec, &dir);
    let dump = run("bpftool", &["btf", "dump", "file", &path.to_string_lossy()]);
    // Lisp names become C identifiers; members are in offset order.
    assert!(
        dump.contains("STRUCT 'pkt_stats' size=16 vlen=3\n\t'packets'"),
        "{dump}"
    );
    assert!(dump.contains("'last_len'"), "{dump}");
    let Some(pins) = load_pinned("struct_valued_hash_map", &path) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "lookup", &[0; 64], &dir), 99);
    let m = pins.join("maps/stats_by_key");
    let mut args = vec![
        "map",
        "update",
        "pinned",
        m.as_str(),
        "key",
        "0",
        "0",
        "0",
        "0",
        "value",
    ];
    let value = [
        "7", "0", "0", "0", "0", "0", "0", "0", "1", "0", "0", "0", "0", "0", "0", "0",
    ];
    args.extend(value);
    run("bpftool", &args);
    assert_eq!(bpftool_run(&pins, "lookup", &[0; 64], &dir), 7);
    let shown = run("bpftool", &["map", "dump", "pinned", &m]);
    assert!(shown.contains("\"packets\": 7"), "{shown}");
}

/// Loads a map's address into r1 for each map, then returns XDP_PASS.
fn reference_every_map(maps: &[MapSpec]) -> ProgramSpec {
    let mut insns = Vec::new();
    let mut relocs = Vec::new();
    for m in maps {
        relocs.push(MapReloc {
            insn_index: insns.len(),
            map_name: m.name.clone(),
        });
        insns.extend(Insn::ld_imm64(Reg::R1, BPF_PSEUDO_MAP_FD, 0));
    }
    insns.extend(return_value(XDP_PASS));
    let mut p = program("use_maps", "xdp", insns);
    p.map_relocs = relocs;
    p
}

fn every_defmap_type() -> Vec<MapSpec> {
    let mut lpm = map("lpm", MapType::LPM_TRIE, 8, 4, 16);
    lpm.map_flags = 1; // BPF_F_NO_PREALLOC
    let mut mmapable = map("mmapable", MapType::ARRAY, 4, 8, 16);
    mmapable.map_flags = 0x400; // BPF_F_MMAPABLE
    let mut flagged_hash = map("no_prealloc", MapType::HASH, 4, 8, 16);
    flagged_hash.map_flags = 1;
    vec![
        map("hash", MapType::HASH, 4, 8, 16),
        map("array", MapType::ARRAY, 4, 8, 16),
        map("percpu_hash", MapType::PERCPU_HASH, 8, 8, 16),
        map("percpu_array", MapType::PERCPU_ARRAY, 4, 24, 4),
        map("lru_hash", MapType::LRU_HASH, 16, 8, 16),
        map("lru_percpu_hash", MapType::LRU_PERCPU_HASH, 4, 8, 16),
        lpm,
        flagged_hash,
        map("ringbuf", MapType::RINGBUF, 0, 0, 4096),
        map("prog_array", MapType::PROG_ARRAY, 4, 4, 4),
        map("stack_trace", MapType::STACK_TRACE, 4, 8 * 127, 16),
        map("queue", MapType::QUEUE, 0, 4, 16),
        map("stack", MapType::STACK, 0, 8, 16),
        map("perf_events", MapType::PERF_EVENT_ARRAY, 4, 4, 0),
        map("bloom", MapType::BLOOM_FILTER, 0, 8, 64),
        mmapable,
    ]
}

#[test]
fn every_defmap_type_loads() {
    let maps = every_defmap_type();
    let spec = object(maps.clone(), vec![reference_every_map(&maps)]);
    let dir = scratch_dir("maps");
    let path = write_and_inspect(&spec, &dir);
    let Some(pins) = load_pinned("every_defmap_type_loads", &path) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "use_maps", &[0; 64], &dir), 2);
    for m in &maps {
        let info = run(
            "bpftool",
            &[
                "map",
                "show",
                "pinned",
                &pins.join(&format!("maps/{}", m.name)),
            ],
        );
        assert!(info.contains(&format!("name {}", m.name)), "{info}");
        if m.map_flags != 0 {
            assert!(
                info.contains(&format!("flags 0x{:x}", m.map_flags)),
                "{info}"
            );
        }
    }
}

#[test]
fn ringbuf_output_from_a_program() {
    let rb = map("events", MapType::RINGBUF, 0, 0, 4096);
    let mut insns = vec![Insn::store_imm(BPF_DW, Reg::FP, -8, 5)];
    insns.extend(Insn::ld_imm64(Reg::R1, BPF_PSEUDO_MAP_FD, 0));
    insns.extend([
        Insn::mov64_reg(Reg::R2, Reg::FP),
        Insn::alu64_imm(BPF_ADD, Reg::R2, -8),
        Insn::mov64_imm(Reg::R3, 8),
        Insn::mov64_imm(Reg::R4, 0),
        Insn::call_helper(130), // bpf_ringbuf_output
        Insn::mov64_imm(Reg::R0, XDP_PASS),
        Insn::exit(),
    ]);
    let mut p = program("emit", "xdp", insns);
    p.map_relocs = vec![MapReloc {
        insn_index: 1,
        map_name: "events".into(),
    }];
    let spec = object(vec![rb], vec![p]);
    let dir = scratch_dir("ringbuf");
    let path = write_and_inspect(&spec, &dir);
    let Some(pins) = load_pinned("ringbuf_output_from_a_program", &path) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "emit", &[0; 64], &dir), 2);
}

#[test]
fn program_with_a_subprogram() {
    // r1 = 20; call sub; r0 += 1; exit; sub: r0 = r1; r0 += 1; exit  => 22
    let insns = vec![
        Insn::mov64_imm(Reg::R1, 20),
        Insn::new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 2),
        Insn::alu64_imm(BPF_ADD, Reg::R0, 1),
        Insn::exit(),
        Insn::mov64_reg(Reg::R0, Reg::R1),
        Insn::alu64_imm(BPF_ADD, Reg::R0, 1),
        Insn::exit(),
    ];
    let mut p = program("caller", "xdp", insns);
    // No line record at the subprogram's start: the writer adds one.
    p.lines.retain(|l| l.insn_index != 4);
    let spec = object(vec![], vec![p]);
    let dir = scratch_dir("subprog");
    let path = write_and_inspect(&spec, &dir);
    let object = parse(&std::fs::read(&path).unwrap()).unwrap();
    // The subprogram moved to .text (libbpf follows calls only there), called through a relocation.
    let xdp = code_section(&object, "xdp");
    let text = code_section(&object, ".text");
    assert_eq!(xdp.insns.len(), 4);
    assert_eq!(text.functions[0].name, "caller__sub4");
    assert!(!text.functions[0].global);
    let target = RelocTarget::Function {
        section: text.index,
        insn_offset: 0,
    };
    assert_eq!(relocs_by_insn(xdp), [(1, target)]);
    assert_eq!(text.func_info.len(), 1);
    assert_eq!(text.line_info[0].insn_offset, 0);
    assert_eq!(object.programs.len(), 1);
    let Some(pins) = load_pinned("program_with_a_subprogram", &path) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "caller", &[0; 64], &dir), 22);
    let xlated = xlated_with_lines(&pins, "caller");
    assert!(xlated.contains("caller__sub4"), "{xlated}");
}

#[test]
fn subprograms_of_two_programs_with_a_map_lookup_inside() {
    // first: r0 = sub(); exit; sub: r0 = lookup(values, 0) ? *r0 : 99
    let mut first = vec![
        Insn::new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 1),
        Insn::exit(),
    ];
    let sub_start = first.len();
    first.extend(lookup_first_u32("values").insns);
    let mut first = program("first", "xdp", first);
    first.map_relocs = vec![MapReloc {
        insn_index: sub_start + 1,
        map_name: "values".into(),
    }];
    // second: r1 = 5; r0 = double(r1) + 1
    let second = program(
        "second",
        "xdp",
        vec![
            Insn::mov64_imm(Reg::R1, 5),
            Insn::new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 2),
            Insn::alu64_imm(BPF_ADD, Reg::R0, 1),
            Insn::exit(),
            Insn::mov64_reg(Reg::R0, Reg::R1),
            Insn::alu64_reg(BPF_ADD, Reg::R0, Reg::R1),
            Insn::exit(),
        ],
    );
    let spec = object(
        vec![map("values", MapType::ARRAY, 4, 4, 1)],
        vec![first, second],
    );
    let dir = scratch_dir("subprogs");
    let path = write_and_inspect(&spec, &dir);
    let Some(pins) = load_pinned(
        "subprograms_of_two_programs_with_a_map_lookup_inside",
        &path,
    ) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "first", &[0; 64], &dir), 0);
    set_slot_0(&pins, "values", 7);
    assert_eq!(bpftool_run(&pins, "first", &[0; 64], &dir), 7);
    assert_eq!(bpftool_run(&pins, "second", &[0; 64], &dir), 11);
}

#[test]
fn bpf_loop_callback_by_address() {
    const BPF_PSEUDO_FUNC: u8 = 4;
    // r1 = 3; r2 = &callback; r3 = 0; r4 = 0; r0 = bpf_loop(...); exit; callback: r0 = 0; exit
    let mut insns = vec![Insn::mov64_imm(Reg::R1, 3)];
    let mut load = Insn::ld_imm64(Reg::R2, BPF_PSEUDO_FUNC, 0);
    load[0].imm = 5; // from instruction 1: 1 + 5 + 1 = 7
    insns.extend(load);
    insns.extend([
        Insn::mov64_imm(Reg::R3, 0),
        Insn::mov64_imm(Reg::R4, 0),
        Insn::call_helper(181), // bpf_loop
        Insn::exit(),
        Insn::mov64_imm(Reg::R0, 0),
        Insn::exit(),
    ]);
    let spec = object(vec![], vec![program("looper", "xdp", insns)]);
    let dir = scratch_dir("loop");
    let path = write_and_inspect(&spec, &dir);
    let object = parse(&std::fs::read(&path).unwrap()).unwrap();
    let text = code_section(&object, ".text");
    let xdp = code_section(&object, "xdp");
    let target = RelocTarget::Function {
        section: text.index,
        insn_offset: 0,
    };
    assert_eq!(relocs_by_insn(xdp), [(1, target)]);
    let Some(pins) = load_pinned("bpf_loop_callback_by_address", &path) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "looper", &[0; 64], &dir), 3);
}

#[test]
fn libbpf_loads_an_object_carrying_metrics_and_we_read_them_back() {
    let counts = whistler_object::metrics::MetricSpec {
        name: "lookups".into(),
        help: "Lookups by slot.".into(),
        map: "values".into(),
        kind: whistler_object::metrics::MetricKind::Counter,
        labels: vec![],
        value: whistler_object::metrics::FieldRef {
            offset: 0,
            size: 4,
            signed: false,
        },
        per_cpu: whistler_object::metrics::PerCpu::Sum,
        max_series: 100,
        unit: Default::default(),
    };
    let mut spec = object(
        vec![map("values", MapType::ARRAY, 4, 4, 4)],
        vec![lookup_first_u32("values")],
    );
    spec.metrics = vec![counts];
    let dir = scratch_dir("metrics");
    let path = write_and_inspect(&spec, &dir);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(read_metrics(&bytes).unwrap(), spec.metrics);
    assert_eq!(parse(&bytes).unwrap().maps.len(), 1);
    let Some(pins) = load_pinned(
        "libbpf_loads_an_object_carrying_metrics_and_we_read_them_back",
        &path,
    ) else {
        return;
    };
    assert_eq!(bpftool_run(&pins, "lookup", &[0; 64], &dir), 0);
}
