//! Raw program loading against the running kernel: load_raw + test_run, verifier refusals with
//! their log, and errors explained.

mod common;

use whistler_bpf::{Insn, ProgramType, Reg};
use whistler_loader::{LoadError, LoadOptions, Program, TestRun};

const XDP_PASS: i32 = 2;

#[test]
fn load_raw_xdp_and_test_run() {
    if !common::kernel("load_raw_xdp_and_test_run") {
        return;
    }
    let insns = [Insn::mov64_imm(Reg::R0, XDP_PASS), Insn::exit()];
    let opts = LoadOptions::default();
    let prog = Program::load_raw("xdp-pass", ProgramType::XDP, None, &insns, "GPL", &opts).unwrap();
    assert_eq!(prog.name(), "xdp-pass");
    assert_eq!(prog.section(), "xdp");
    assert!(prog.id() > 0);
    let packet = [0xabu8; 64];
    let out = prog
        .test_run(TestRun {
            data_in: &packet,
            data_out_capacity: 128,
            repeat: 3,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, XDP_PASS as u32);
    assert_eq!(out.data_out, packet);
}

#[test]
fn verifier_refusal_carries_the_log() {
    if !common::kernel("verifier_refusal_carries_the_log") {
        return;
    }
    // r0 is never set before exit.
    let insns = [Insn::exit()];
    let err = Program::load_raw(
        "no-r0",
        ProgramType::SOCKET_FILTER,
        None,
        &insns,
        "GPL",
        &LoadOptions::default(),
    )
    .unwrap_err();
    match err {
        LoadError::Verifier {
            program,
            log,
            summary,
        } => {
            assert_eq!(program, "no-r0");
            assert!(log.contains("R0 !read_ok"), "{log}");
            assert_eq!(summary, "R0 !read_ok at instruction 0");
        }
        other => panic!("expected a verifier error, got {other}"),
    }
}

#[test]
fn invalid_program_type_is_explained() {
    if !common::kernel("invalid_program_type_is_explained") {
        return;
    }
    // Tracing programs need a BTF id to attach to: EINVAL-like refusals come back in words.
    let insns = [Insn::mov64_imm(Reg::R0, 0), Insn::exit()];
    let err = Program::load_raw(
        "fentry_no_btf",
        ProgramType::TRACING,
        Some(whistler_bpf::AttachType::TRACE_FENTRY),
        &insns,
        "GPL",
        &LoadOptions::default(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            LoadError::InvalidArgument { .. }
                | LoadError::PermissionDenied { .. }
                | LoadError::Verifier { .. }
        ),
        "{text}"
    );
}

#[test]
fn log_level_keeps_the_log_of_a_successful_load() {
    if !common::kernel("log_level_keeps_the_log_of_a_successful_load") {
        return;
    }
    let insns = [Insn::mov64_imm(Reg::R0, 1), Insn::exit()];
    let opts = LoadOptions::new().log_level(2);
    let prog = Program::load_raw("logged", ProgramType::XDP, None, &insns, "GPL", &opts).unwrap();
    let log = prog.verifier_log().expect("a log was asked for");
    assert!(log.contains("processed 2 insns"), "{log}");
    let quiet = Program::load_raw(
        "quiet",
        ProgramType::XDP,
        None,
        &insns,
        "GPL",
        &LoadOptions::default(),
    );
    assert_eq!(quiet.unwrap().verifier_log(), None);
}

#[test]
fn a_small_log_buffer_grows_until_the_log_fits() {
    if !common::kernel("a_small_log_buffer_grows_until_the_log_fits") {
        return;
    }
    // 200 no-ops before the faulty exit make a log longer than 64 bytes at level 2.
    let mut insns = vec![Insn::mov64_imm(Reg::R1, 0); 200];
    insns.push(Insn::exit());
    let opts = LoadOptions::new().log_size(64);
    let err = Program::load_raw("grow", ProgramType::XDP, None, &insns, "GPL", &opts).unwrap_err();
    let LoadError::Verifier { log, summary, .. } = err else {
        panic!("expected a verifier error, got {err}");
    };
    assert!(log.len() > 64, "{log}");
    assert_eq!(summary, "R0 !read_ok at instruction 200");
}
