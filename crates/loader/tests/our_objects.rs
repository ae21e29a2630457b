//! Objects written by our own object writer (what the compiler emits): BTF-defined maps with map
//! relocations, a subprogram moved to `.text`, line info pointing at Lisp source, and a verifier
//! refusal reported at the Lisp line.

mod common;

use std::os::fd::AsFd;
use whistler_bpf::opcode::{BPF_ADD, BPF_DW, BPF_JEQ, BPF_W};
use whistler_bpf::{Insn, MapType, Reg};

use whistler_loader::sys::bpf;
use whistler_loader::{LoadError, LoadOptions, Object, TestRun, TypedMap};
use whistler_object::{LineInfo, MapReloc, MapSpec, ObjectSpec, ProgramSpec};

const SOURCE: &str = "(defmap pkt-count :type :array :key u32 :value u64 :max-entries 1)
(defprog count-packets (:type :xdp)
  (incf (getmap pkt-count 0))
  (pass))
(defprog bad-read (:type :xdp)
  (load u64 0 0))
";

fn line(insn_index: usize, line: u32) -> LineInfo {
    LineInfo {
        insn_index,
        line,
        col: 3,
    }
}

fn counter() -> ProgramSpec {
    let [ld0, ld1] = Insn::ld_imm64(Reg::R1, 0, 0);
    let insns = vec![
        Insn::store_imm(BPF_W, Reg::FP, -4, 0),
        Insn::mov64_reg(Reg::R2, Reg::FP),
        Insn::alu64_imm(BPF_ADD, Reg::R2, -4),
        ld0,
        ld1,
        Insn::call_helper(1),
        Insn::jmp_imm(BPF_JEQ, Reg::R0, 0, 2),
        Insn::mov64_imm(Reg::R1, 1),
        Insn::atomic(BPF_DW, 0, Reg::R0, 0, Reg::R1),
        // call the subprogram at 11 (pseudo call: src = 1, relative offset)
        Insn::new(0x85, 0, 1, 0, 1),
        Insn::exit(),
        Insn::mov64_imm(Reg::R0, 2),
        Insn::exit(),
    ];
    ProgramSpec {
        name: "count-packets".into(),
        section: "xdp".into(),
        insns,
        map_relocs: vec![MapReloc {
            insn_index: 3,
            map_name: "pkt-count".into(),
        }],
        data_relocs: Vec::new(),
        lines: vec![line(0, 3), line(9, 4), line(11, 4)],
        core_relocs: vec![],
    }
}

fn bad_read() -> ProgramSpec {
    ProgramSpec {
        name: "bad-read".into(),
        section: "xdp".into(),
        insns: vec![
            Insn::mov64_imm(Reg::R0, 0),
            Insn::load(BPF_DW, Reg::R0, Reg::R0, 0),
            Insn::exit(),
        ],
        map_relocs: Vec::new(),
        data_relocs: Vec::new(),
        lines: vec![line(0, 6), line(1, 6)],
        core_relocs: vec![],
    }
}

fn spec(programs: Vec<ProgramSpec>) -> ObjectSpec {
    ObjectSpec {
        source_name: "counter.lisp".into(),
        source_text: SOURCE.into(),
        license: "GPL".into(),
        maps: vec![MapSpec {
            name: "pkt-count".into(),
            map_type: MapType::ARRAY as u32,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
            map_flags: 0,
            key_type: None,
            value_type: None,
        }],
        programs,
        structs: Vec::new(),
        metrics: Vec::new(),
    }
}

#[test]
fn counter_with_a_subprogram_counts() {
    if !common::kernel("counter_with_a_subprogram_counts") {
        return;
    }
    let bytes = whistler_object::write_object(&spec(vec![counter()])).unwrap();
    let object = Object::load(&bytes, &LoadOptions::default()).unwrap();
    let program = object.program("count-packets").unwrap();
    let info = bpf::prog_info(program.as_fd()).unwrap();
    assert_eq!(
        &info.name[..14],
        b"count_packets\0",
        "the kernel got a sanitized name"
    );
    let packet = [0u8; 64];
    for _ in 0..3 {
        let run = TestRun {
            data_in: &packet,
            ..Default::default()
        };
        assert_eq!(program.test_run(run).unwrap().retval, 2);
    }
    let counts = TypedMap::<u32, u64, _>::new(object.map("pkt-count").unwrap()).unwrap();
    assert_eq!(counts.get(&0).unwrap(), Some(3));
}

#[test]
fn refusal_points_at_the_lisp_line() {
    if !common::kernel("refusal_points_at_the_lisp_line") {
        return;
    }
    let bytes = whistler_object::write_object(&spec(vec![counter(), bad_read()])).unwrap();
    let err = Object::load(&bytes, &LoadOptions::default()).unwrap_err();
    let LoadError::Verifier {
        program, summary, ..
    } = err
    else {
        panic!("expected a verifier error, got {err}");
    };
    assert_eq!(program.replace('_', "-"), "bad-read");
    assert!(summary.contains("invalid mem access"), "{summary}");
    assert!(summary.contains("at instruction 1"), "{summary}");
    assert!(
        summary.contains("counter.lisp:6:3: `(load u64 0 0))`"),
        "{summary}"
    );
}

/// A second `xdp` program that returns `verdict`.
fn constant_program(name: &str, verdict: i32) -> ProgramSpec {
    ProgramSpec {
        name: name.into(),
        section: "xdp".into(),
        insns: vec![Insn::mov64_imm(Reg::R0, verdict), Insn::exit()],
        map_relocs: Vec::new(),
        data_relocs: Vec::new(),
        core_relocs: Vec::new(),
        lines: vec![line(0, 4)],
    }
}

#[test]
fn programs_sharing_a_section_name_each_run() {
    if !common::kernel("programs_sharing_a_section_name_each_run") {
        return;
    }
    let programs = vec![counter(), constant_program("drop-all", 1)];
    let bytes = whistler_object::write_object(&spec(programs)).unwrap();
    let object = Object::load(&bytes, &LoadOptions::default()).unwrap();
    let packet = [0u8; 64];
    let run = |name: &str| {
        let run = TestRun {
            data_in: &packet,
            ..Default::default()
        };
        object.program(name).unwrap().test_run(run).unwrap().retval
    };
    assert_eq!(run("count-packets"), 2);
    assert_eq!(run("drop-all"), 1);
    for name in ["count-packets", "drop-all"] {
        let info = bpf::prog_info(object.program(name).unwrap().as_fd()).unwrap();
        assert!(info.nr_func_info >= 1, "{name} has its func_info");
    }
}
