//! Programs loaded against a kernel BTF id found from their section: tp_btf loads here; fentry
//! is refused by this host kernel with EPERM, which must come back explained (the VM tests of
//! the attach code load it for real).

mod common;

use whistler_bpf::{AttachType, Insn, ProgramType, Reg};
use whistler_loader::kernel_btf::kernel_btf;
use whistler_loader::{LoadError, LoadOptions, Object, Program};
use whistler_object::btf::BtfKind;

#[test]
fn tp_btf_object_gets_the_tracepoint_btf_id() {
    if !common::kernel("tp_btf_object_gets_the_tracepoint_btf_id") {
        return;
    }
    let object = Object::load(&common::compile_c("tp_btf"), &LoadOptions::default()).unwrap();
    let program = object.program("on_switch").unwrap();
    assert_eq!(program.program_type(), ProgramType::TRACING);
    assert_eq!(
        program.expected_attach_type(),
        Some(AttachType::TRACE_RAW_TP)
    );
    let kernel = kernel_btf(None).unwrap();
    let expected = kernel.find("btf_trace_sched_switch", BtfKind::Typedef);
    assert_eq!(program.attach_btf_id(), expected);
    assert!(expected.is_some());
}

#[test]
fn raw_instructions_in_a_tp_btf_section() {
    if !common::kernel("raw_instructions_in_a_tp_btf_section") {
        return;
    }
    let insns = [Insn::mov64_imm(Reg::R0, 0), Insn::exit()];
    let options = LoadOptions::default();
    let program =
        Program::load_raw_in_section("raw_switch", "tp_btf/sched_switch", &insns, "GPL", &options)
            .unwrap();
    assert!(program.attach_btf_id().is_some());
    let missing = Program::load_raw_in_section(
        "nowhere",
        "tp_btf/no_such_tracepoint_here",
        &insns,
        "GPL",
        &options,
    );
    assert!(matches!(missing, Err(LoadError::Relocation { .. })));
}

#[test]
fn fentry_loads_or_is_refused_in_words() {
    if !common::kernel("fentry_loads_or_is_refused_in_words") {
        return;
    }
    match Object::load(&common::compile_c("fentry"), &LoadOptions::default()) {
        Ok(object) => assert!(object
            .program("on_unlink")
            .unwrap()
            .attach_btf_id()
            .is_some()),
        Err(err @ LoadError::PermissionDenied { .. }) => {
            assert!(err.to_string().contains("CAP_BPF"), "{err}");
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}
