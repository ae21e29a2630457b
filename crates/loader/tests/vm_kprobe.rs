//! kprobe, kretprobe, kprobe_multi, fentry and lsm attachments, which this machine's kernel
//! refuses (no CONFIG_KPROBES, trampolines blocked), tested inside a qemu VM booting Debian's
//! kernel. Its 6.1 has neither kprobe_multi (no CONFIG_FPROBE) nor uprobe_multi (6.6+), so
//! kprobe and uprobe sets take the one-probe-per-function fallback there; uprobe_multi links
//! are tested on the host (`multi_probes.rs`).
//!
//! On the host, `kprobe_kretprobe_fentry_lsm_in_a_vm` builds this very test binary statically,
//! packs it into a busybox initramfs and boots it (`whistler_testkit::vm`); inside the VM,
//! [`GUEST_SCRIPT`] runs the ignored test `vm_guest_checks` which attaches real programs and
//! counts their hits. Skipped (with the reason printed) when qemu is not installed, unless
//! WHISTLER_REQUIRE_KERNEL=1.

mod attach_util;

use std::os::fd::AsFd;
use std::time::Duration;

use attach_util::*;
use whistler_bpf::{AttachType, ProgramType};
use whistler_loader::attach::multi::{kernel_has_kprobe_multi, kernel_has_uprobe_multi};
use whistler_loader::attach::{attach, attach_kprobe_tracefs, AttachProgramInfo, AttachTarget};
use whistler_loader::link::LinkKind;
use whistler_loader::Program;
use whistler_object::btf::{Btf, BtfKind};
use whistler_testkit::kernel_available;
use whistler_testkit::vm::{self, Artifact, GuestFile};

const VM_TIMEOUT: Duration = Duration::from_secs(600);

/// The guest's part of `/init`: this test binary, copied to `/guest`, runs the guest checks; its
/// exit code is the verdict.
const GUEST_SCRIPT: &str = "\
WHISTLER_VM_GUEST=1 /guest --ignored --exact vm_guest_checks --nocapture --test-threads=1
code=$?";

#[test]
fn kprobe_kretprobe_fentry_lsm_in_a_vm() {
    let Some(qemu) = vm::qemu_or_skip("kprobe_kretprobe_fentry_lsm_in_a_vm") else {
        return;
    };
    let guest = vm::build_static(Artifact::Test {
        package: "whistler-loader",
        name: "vm_kprobe",
    })
    .unwrap_or_else(|e| panic!("guest build: {e}"));
    let files = [GuestFile {
        name: "guest",
        source: &guest,
        executable: true,
    }];
    vm::boot_and_check(&qemu, "vm-kprobe", GUEST_SCRIPT, &files, VM_TIMEOUT);
}

fn info(prog_type: ProgramType, expected: u32, section: &str) -> AttachProgramInfo {
    AttachProgramInfo {
        prog_type: prog_type as u32,
        expected_attach_type: expected,
        section: section.to_owned(),
        name: "vm_test".to_owned(),
    }
}

/// Runs inside the VM only (started by `/init` with WHISTLER_VM_GUEST=1).
#[test]
#[ignore = "runs inside the VM that kprobe_kretprobe_fentry_lsm_in_a_vm boots"]
fn vm_guest_checks() {
    if std::env::var("WHISTLER_VM_GUEST").as_deref() != Ok("1") {
        eprintln!("vm_guest_checks only runs inside the test VM");
        return;
    }
    assert!(kernel_available("vm_guest_checks"));
    kprobe_counts_getpid(false);
    kprobe_counts_getpid(true);
    kprobe_sets_count_getpid();
    uprobe_sets_fall_back_to_one_probe_each();
    tracefs_kprobe_counts_and_is_removed();
    let btf = Btf::from_bytes(&std::fs::read("/sys/kernel/btf/vmlinux").unwrap()).unwrap();
    fentry_counts_opens(&btf);
    lsm_counts_file_opens(&btf);
    eprintln!("all VM checks passed");
}

fn kprobe_counts_getpid(retprobe: bool) {
    let map = counters(1);
    let prog = load(2, 0, &count_thread_hits(map.as_fd()), "vm_kprobe");
    let kind = if retprobe { "kretprobe" } else { "kprobe" };
    let section = format!("{kind}/__x64_sys_getpid");
    let link = attach(
        prog.as_fd(),
        &info(ProgramType::KPROBE, 0, &section),
        AttachTarget::Auto,
    )
    .unwrap_or_else(|e| panic!("attach {section}: {e}"));
    assert_eq!(link.kind(), LinkKind::PerfEvent);
    getpid_times(20);
    assert_eq!(read_u64(map.as_fd(), 0), 20, "{section}");
    drop(link);
    getpid_times(5);
    assert_eq!(
        read_u64(map.as_fd(), 0),
        20,
        "{section} still counting after drop"
    );
    eprintln!("{section}: ok");
}

/// kprobe sets: a wildcard, lists and libbpf's `kprobe.multi/` sections. Debian's 6.1 is built
/// without CONFIG_FPROBE, so it has no kprobe_multi links and every set is one kprobe per
/// function here.
fn kprobe_sets_count_getpid() {
    assert!(!kernel_has_kprobe_multi(), "Debian 6.1: no CONFIG_FPROBE");
    let cases = [
        ("kprobe/__x64_sys_getp*", "", LinkKind::Group),
        (
            "kretprobe/__x64_sys_getpid,__x64_sys_getppid",
            "",
            LinkKind::Group,
        ),
        (
            "kprobe",
            "__x64_sys_getpid,__x64_sys_getppid",
            LinkKind::Group,
        ),
        // libbpf's multi sections load as plain kprobes here: a set is one kprobe per
        // function, a single function one kprobe.
        ("kprobe.multi/__x64_sys_getp*", "", LinkKind::Group),
        ("kretprobe.multi/__x64_sys_getpid", "", LinkKind::PerfEvent),
    ];
    for (section, target, kind) in cases {
        let map = counters(1);
        let code = count_thread_hits(map.as_fd());
        let prog =
            Program::load_raw_in_section("vm_kp_set", section, &code, "GPL", &Default::default())
                .unwrap_or_else(|e| panic!("load {section}: {e}"));
        let target = AttachTarget::parse_for_section(section, target).unwrap();
        let link = prog
            .attach(target)
            .unwrap_or_else(|e| panic!("attach {section}: {e}"));
        assert_eq!(link.kind(), kind, "{section}");
        eprintln!("{section}: {} probes", link.members().len());
        getpid_times(20);
        drop(link);
        getpid_times(5);
        assert_eq!(read_u64(map.as_fd(), 0), 20, "{section}");
        eprintln!("{section} ({kind:?}): ok");
    }
}

/// uprobe_multi came in 6.6: on 6.1 a uprobe set is one uprobe per function.
fn uprobe_sets_fall_back_to_one_probe_each() {
    assert!(!kernel_has_uprobe_multi(), "uprobe_multi is in Linux 6.6+");
    for section in [
        "uprobe//proc/self/exe:whistler_multi_probe_*",
        "uprobe.multi//proc/self/exe:whistler_multi_probe_*",
    ] {
        let (kind, hits) = count_probe_set_hits(section, "");
        assert_eq!(kind, LinkKind::Group, "{section}");
        assert_eq!(hits, 9, "{section}");
        eprintln!("{section} without uprobe_multi (one uprobe each): ok");
    }
}

fn open_times(n: u32) {
    for _ in 0..n {
        drop(std::fs::File::open("/proc/version").unwrap());
    }
}

/// The kprobe_events fallback: the probe line exists while attached and is gone after drop.
fn tracefs_kprobe_counts_and_is_removed() {
    let events = "/sys/kernel/tracing/kprobe_events";
    // A probe left by a killed process (a pid above any pid_max) is cleared by the next attach.
    let stale = "p:whistler/kp_4194305_0 __x64_sys_getpid\n";
    std::fs::OpenOptions::new()
        .append(true)
        .open(events)
        .and_then(|mut f| std::io::Write::write_all(&mut f, stale.as_bytes()))
        .expect("add a stale probe");
    let map = counters(1);
    let prog = load(2, 0, &count_thread_hits(map.as_fd()), "vm_kp_tracefs");
    let link = attach_kprobe_tracefs(prog.as_fd(), "__x64_sys_getpid", true)
        .unwrap_or_else(|e| panic!("kprobe_events: {e}"));
    let listed = std::fs::read_to_string(events).unwrap();
    assert!(
        !listed.contains("kp_4194305_0"),
        "stale probe kept: {listed}"
    );
    assert!(
        listed.contains("whistler/") && listed.contains("__x64_sys_getpid"),
        "{listed}"
    );
    getpid_times(9);
    drop(link);
    getpid_times(2);
    assert_eq!(
        read_u64(map.as_fd(), 0),
        9,
        "kretprobe through kprobe_events"
    );
    let listed = std::fs::read_to_string(events).unwrap();
    assert!(
        !listed.contains("whistler/"),
        "probe left in kprobe_events: {listed}"
    );
    eprintln!("kprobe_events fallback: ok");
}

/// fentry on do_sys_openat2 (syscall wrappers such as __x64_sys_getpid have no BTF func).
fn fentry_counts_opens(btf: &Btf) {
    let id = btf
        .find_by_name_kind("do_sys_openat2", BtfKind::Func)
        .expect("do_sys_openat2 in vmlinux BTF");
    let map = counters(1);
    let expected = AttachType::TRACE_FENTRY as u32;
    let code = count_thread_hits(map.as_fd());
    let prog = load_with_btf_id(26, expected, id, &code, "vm_fentry");
    let section = "fentry/do_sys_openat2";
    let link = attach(
        prog.as_fd(),
        &info(ProgramType::TRACING, expected, section),
        AttachTarget::Auto,
    )
    .unwrap_or_else(|e| panic!("attach fentry: {e}"));
    assert_eq!(link.kind(), LinkKind::BpfLink);
    open_times(12);
    drop(link);
    open_times(3);
    assert_eq!(read_u64(map.as_fd(), 0), 12, "fentry");
    eprintln!("{section}: ok");
}

fn lsm_counts_file_opens(btf: &Btf) {
    let id = btf
        .find_by_name_kind("bpf_lsm_file_open", BtfKind::Func)
        .expect("bpf_lsm_file_open in vmlinux BTF");
    let map = counters(1);
    let expected = AttachType::LSM_MAC as u32;
    let prog = load_with_btf_id(29, expected, id, &count_thread_hits(map.as_fd()), "vm_lsm");
    let section = "lsm/file_open";
    let link = attach(
        prog.as_fd(),
        &info(ProgramType::LSM, expected, section),
        AttachTarget::Auto,
    )
    .unwrap_or_else(|e| panic!("attach lsm: {e}"));
    open_times(15);
    drop(link);
    open_times(2);
    assert_eq!(read_u64(map.as_fd(), 0), 15, "lsm file_open");
    eprintln!("{section}: ok");
}
