//! Real-kernel tests of sets of uprobes (`uprobe//bin:func*`, lists): through one uprobe_multi
//! link when the kernel has it (this host's 6.x does), and through one perf event per function
//! when the program was loaded without the multi attach type. kprobe sets, which this host
//! cannot attach at all, are tested in the VM (`vm_kprobe.rs`), where the uprobe sets take the
//! fallback (Debian's 6.1 has no uprobe_multi).

mod attach_util;
mod common;

use attach_util::*;
use whistler_bpf::AttachType;
use whistler_loader::attach::multi::{kernel_has_kprobe_multi, kernel_has_uprobe_multi};
use whistler_loader::attach::AttachTarget;
use whistler_loader::link::LinkKind;
use whistler_loader::{LoadOptions, Object, Program};
use whistler_testkit::kernel_available;

/// The kind a set of uprobes loaded for a set section attaches as on this kernel.
fn set_link_kind() -> LinkKind {
    match kernel_has_uprobe_multi() {
        true => LinkKind::BpfLink,
        false => LinkKind::Group,
    }
}

#[test]
fn a_wildcard_section_attaches_every_matching_function() {
    if !kernel_available("a_wildcard_section_attaches_every_matching_function") {
        return;
    }
    let section = "uprobe//proc/self/exe:whistler_multi_probe_*";
    let (kind, hits) = count_probe_set_hits(section, "");
    eprintln!("uprobe_multi on this kernel: {}", kernel_has_uprobe_multi());
    assert_eq!(kind, set_link_kind());
    assert_eq!(
        hits,
        2 + 3 + 4,
        "every call of a, b and c, none after the drop"
    );
}

#[test]
fn a_return_probe_set_counts_returns() {
    if !kernel_available("a_return_probe_set_counts_returns") {
        return;
    }
    let (kind, hits) = count_probe_set_hits("uretprobe//proc/self/exe:whistler_multi_probe_?", "");
    assert_eq!(kind, set_link_kind());
    assert_eq!(hits, 9);
}

#[test]
fn a_list_given_at_attach_time_uses_one_probe_per_function() {
    if !kernel_available("a_list_given_at_attach_time_uses_one_probe_per_function") {
        return;
    }
    // Loaded for a single uprobe, so no multi link: one perf event each for a and c.
    let target = "/proc/self/exe:whistler_multi_probe_a,whistler_multi_probe_c";
    let (kind, hits) = count_probe_set_hits("uprobe", target);
    assert_eq!(kind, LinkKind::Group);
    assert_eq!(hits, 2 + 4);
}

#[test]
fn a_set_matching_nothing_is_an_error() {
    if !kernel_available("a_set_matching_nothing_is_an_error") {
        return;
    }
    let program = whistler_loader::Program::load_raw_in_section(
        "probe_none",
        "uprobe//proc/self/exe:no_such_function_*",
        &[
            whistler_bpf::Insn::mov64_imm(whistler_bpf::Reg::R0, 0),
            whistler_bpf::Insn::exit(),
        ],
        "GPL",
        &whistler_loader::LoadOptions::default(),
    )
    .unwrap();
    let error = program
        .attach(whistler_loader::attach::AttachTarget::Auto)
        .unwrap_err();
    assert!(error.to_string().contains("no_such_function_*"), "{error}");
}

/// libbpf's `uprobe.multi/` and `uretprobe.multi/` sections of a clang object: loaded with the
/// uprobe_multi attach type and attached through one link each when the kernel has them (this
/// host's does), else as plain uprobes, one per function.
#[test]
fn libbpf_multi_sections_of_a_clang_object_attach_every_function() {
    if !common::kernel("libbpf_multi_sections_of_a_clang_object_attach_every_function") {
        return;
    }
    let object = Object::load(
        &common::compile_c("multi_sections"),
        &LoadOptions::default(),
    )
    .unwrap();
    let multi = kernel_has_uprobe_multi();
    let links: Vec<_> = ["on_entry", "on_return"]
        .into_iter()
        .map(|name| {
            let program = object.program(name).unwrap();
            let loaded_as = program.expected_attach_type();
            assert_eq!(loaded_as == Some(AttachType::TRACE_UPROBE_MULTI), multi);
            let link = program.attach(AttachTarget::Auto).unwrap();
            assert_eq!(link.kind(), set_link_kind(), "{name}");
            link
        })
        .collect();
    call_multi_probe_targets();
    drop(links);
    call_multi_probe_targets();
    let tid = rustix::thread::gettid().as_raw_nonzero().get() as u32;
    for map in ["entries", "returns"] {
        let value = object.map(map).unwrap().lookup(&tid.to_ne_bytes()).unwrap();
        let hits = u64::from_ne_bytes(value.expect("hits counted")[..8].try_into().unwrap());
        assert_eq!(
            hits,
            2 + 3 + 4,
            "{map}: every call of a, b and c, none after the drop"
        );
    }
}

/// A `kprobe.multi/` section loads with the kprobe_multi attach type exactly when the kernel
/// has the link, and as a plain kprobe otherwise (this host cannot attach kprobes: the VM test
/// attaches them).
#[test]
fn a_kprobe_multi_section_loads_for_the_link_only_when_the_kernel_has_it() {
    if !kernel_available("a_kprobe_multi_section_loads_for_the_link_only_when_the_kernel_has_it") {
        return;
    }
    for section in ["kprobe.multi/vfs_read", "kretprobe.multi/vfs_*"] {
        let program = Program::load_raw_in_section(
            "kp_multi",
            section,
            &[
                whistler_bpf::Insn::mov64_imm(whistler_bpf::Reg::R0, 0),
                whistler_bpf::Insn::exit(),
            ],
            "GPL",
            &LoadOptions::default(),
        )
        .unwrap();
        let expected = kernel_has_kprobe_multi().then_some(AttachType::TRACE_KPROBE_MULTI);
        assert_eq!(program.expected_attach_type(), expected, "{section}");
    }
}
