//! Real-kernel tests of the tracing attach kinds this machine allows: tracepoint,
//! raw_tracepoint, tp_btf, uprobe, uretprobe and perf_event. Each program counts hits into an
//! array map; the test triggers the hook a known number of times, checks the count, drops the
//! link and checks that the hook no longer counts.

mod attach_util;

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use attach_util::*;
use whistler_bpf::{AttachType, ProgramType};
use whistler_loader::attach::{attach, AttachProgramInfo, AttachTarget, PerfSampling};
use whistler_loader::link::LinkKind;
use whistler_testkit::kernel_available;

fn info(prog_type: ProgramType, expected: u32, section: &str) -> AttachProgramInfo {
    AttachProgramInfo {
        prog_type: prog_type as u32,
        expected_attach_type: expected,
        section: section.to_owned(),
        name: "test_prog".to_owned(),
    }
}

#[test]
fn tracepoint_counts_our_getpid_calls_then_detaches() {
    if !kernel_available("tracepoint_counts_our_getpid_calls_then_detaches") {
        return;
    }
    let map = counters(1);
    let code = count_thread_hits(map.as_fd());
    let prog = load(ProgramType::TRACEPOINT as u32, 0, &code, "tp_getpid");
    let info = info(
        ProgramType::TRACEPOINT,
        0,
        "tracepoint/syscalls/sys_enter_getpid",
    );
    let link = attach(prog.as_fd(), &info, AttachTarget::Auto).expect("attach tracepoint");
    assert_eq!(link.kind(), LinkKind::PerfEvent);
    getpid_times(25);
    assert_eq!(read_u64(map.as_fd(), 0), 25);
    link.detach().expect("detach");
    getpid_times(5);
    assert_eq!(read_u64(map.as_fd(), 0), 25, "still counting after detach");
}

#[test]
fn tracepoint_target_given_as_text() {
    if !kernel_available("tracepoint_target_given_as_text") {
        return;
    }
    let map = counters(1);
    let prog = load(5, 0, &count_thread_hits(map.as_fd()), "tp_text");
    let info = info(ProgramType::TRACEPOINT, 0, "tracepoint");
    // The Lisp spelling, with `-` for `_`, names the same tracepoint.
    let target =
        AttachTarget::parse_for_section("tracepoint", "syscalls/sys-enter-getpid").unwrap();
    let link = attach(prog.as_fd(), &info, target).expect("attach");
    getpid_times(3);
    drop(link);
    getpid_times(3);
    assert_eq!(read_u64(map.as_fd(), 0), 3);
    let missing = AttachTarget::parse_for_section("tracepoint", "nosuch/tracepoint").unwrap();
    let err = attach(prog.as_fd(), &info, missing).unwrap_err();
    assert!(
        err.to_string().contains("nosuch/tracepoint does not exist"),
        "{err}"
    );
}

#[test]
fn raw_tracepoint_sees_getpid_syscalls() {
    if !kernel_available("raw_tracepoint_sees_getpid_syscalls") {
        return;
    }
    let map = counters(1);
    let prog = load(17, 0, &count_thread_getpids(map.as_fd()), "raw_sys_enter");
    let info = info(ProgramType::RAW_TRACEPOINT, 0, "raw_tracepoint/sys_enter");
    let link = attach(prog.as_fd(), &info, AttachTarget::Auto).expect("attach raw_tp");
    assert_eq!(link.kind(), LinkKind::BpfLink);
    assert!(link.bpf_link_fd().is_some());
    getpid_times(17);
    drop(link);
    getpid_times(4);
    assert_eq!(read_u64(map.as_fd(), 0), 17);
}

#[test]
fn tp_btf_sees_getpid_syscalls() {
    if !kernel_available("tp_btf_sees_getpid_syscalls") {
        return;
    }
    let vmlinux = std::fs::read("/sys/kernel/btf/vmlinux").expect("vmlinux BTF");
    let btf = whistler_object::btf::Btf::from_bytes(&vmlinux).expect("parse vmlinux BTF");
    let btf_id = btf
        .find_by_name_kind(
            "btf_trace_sys_enter",
            whistler_object::btf::BtfKind::Typedef,
        )
        .expect("btf_trace_sys_enter in vmlinux BTF");
    let map = counters(1);
    let code = count_thread_getpids(map.as_fd());
    let expected = AttachType::TRACE_RAW_TP as u32;
    let prog = load_with_btf_id(26, expected, btf_id, &code, "tpbtf_enter");
    let info = info(ProgramType::TRACING, expected, "tp_btf/sys_enter");
    let link = attach(prog.as_fd(), &info, AttachTarget::Auto).expect("attach tp_btf");
    getpid_times(11);
    drop(link);
    getpid_times(2);
    assert_eq!(read_u64(map.as_fd(), 0), 11);
}

#[allow(unsafe_code)] // `no_mangle` only: the uprobe needs a symbol name to look up
#[no_mangle]
#[inline(never)]
pub extern "C" fn whistler_test_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(3) + 1)
}

#[allow(unsafe_code)] // `no_mangle` only: the uretprobe needs a symbol name to look up
#[no_mangle]
#[inline(never)]
pub extern "C" fn whistler_test_uretprobe_target(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(5) + 2)
}

fn call_n(f: extern "C" fn(u64) -> u64, n: u64) {
    for i in 0..n {
        std::hint::black_box(f(std::hint::black_box(i)));
    }
}

fn own_binary() -> String {
    std::env::current_exe().unwrap().display().to_string()
}

#[test]
fn uprobe_on_a_function_of_this_binary_counts_every_call() {
    if !kernel_available("uprobe_on_a_function_of_this_binary_counts_every_call") {
        return;
    }
    let map = counters(1);
    let prog = load(2, 0, &count_all_hits(map.as_fd(), 0), "uprobe_count");
    let section = format!("uprobe/{}:whistler_test_uprobe_target", own_binary());
    let info = info(ProgramType::KPROBE, 0, &section);
    let link = attach(prog.as_fd(), &info, AttachTarget::Auto).expect("attach uprobe");
    call_n(whistler_test_uprobe_target, 37);
    assert_eq!(
        read_u64(map.as_fd(), 0),
        37,
        "one event per probe, not per CPU"
    );
    drop(link);
    call_n(whistler_test_uprobe_target, 3);
    assert_eq!(read_u64(map.as_fd(), 0), 37);
}

#[test]
fn uretprobe_for_one_pid_counts_every_return() {
    if !kernel_available("uretprobe_for_one_pid_counts_every_return") {
        return;
    }
    let map = counters(1);
    let prog = load(2, 0, &count_all_hits(map.as_fd(), 0), "uretprobe_cnt");
    let info = info(ProgramType::KPROBE, 0, "uretprobe");
    let target = AttachTarget::Uprobe {
        binary: std::env::current_exe().unwrap(),
        symbol: Some("whistler_test_uretprobe_target".to_owned()),
        offset: 0,
        pid: Some(std::process::id() as i32),
    };
    let link = attach(prog.as_fd(), &info, target).expect("attach uretprobe");
    call_n(whistler_test_uretprobe_target, 29);
    assert_eq!(read_u64(map.as_fd(), 0), 29);
    drop(link);
    call_n(whistler_test_uretprobe_target, 3);
    assert_eq!(read_u64(map.as_fd(), 0), 29);
}

#[test]
fn uprobe_in_a_shared_library_named_without_a_path() {
    if !kernel_available("uprobe_in_a_shared_library_named_without_a_path") {
        return;
    }
    let map = counters(1);
    let prog = load(2, 0, &count_thread_hits(map.as_fd()), "uprobe_libc");
    let info = info(ProgramType::KPROBE, 0, "uprobe");
    // Whistler's argument list: a library found in the usual directories, then the symbol.
    let mut target =
        AttachTarget::parse_for_section_args("uprobe", &["libc.so.6", "getpid"]).expect("target");
    if let AttachTarget::Uprobe { pid, .. } = &mut target {
        *pid = Some(std::process::id() as i32);
    }
    let link = attach(prog.as_fd(), &info, target).expect("attach uprobe on libc");
    getpid_times(13);
    drop(link);
    getpid_times(2);
    assert_eq!(read_u64(map.as_fd(), 0), 13);
}

#[test]
fn uprobe_on_a_missing_symbol_names_it() {
    if !kernel_available("uprobe_on_a_missing_symbol_names_it") {
        return;
    }
    let map = counters(1);
    let prog = load(2, 0, &count_all_hits(map.as_fd(), 0), "uprobe_missing");
    let info = info(ProgramType::KPROBE, 0, "uprobe");
    let target =
        AttachTarget::parse_for_section("uprobe", &format!("{}:no_such_fn_xyz", own_binary()))
            .unwrap();
    let err = attach(prog.as_fd(), &info, target).unwrap_err();
    assert!(err.to_string().contains("no_such_fn_xyz"), "{err}");
}

#[test]
fn kprobe_without_kernel_support_says_so() {
    if !kernel_available("kprobe_without_kernel_support_says_so") {
        return;
    }
    if std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        eprintln!("this kernel has kprobes: the VM test covers them");
        return;
    }
    let map = counters(1);
    let prog = load(2, 0, &count_all_hits(map.as_fd(), 0), "kprobe_none");
    let info = info(ProgramType::KPROBE, 0, "kprobe/__x64_sys_getpid");
    let err = attach(prog.as_fd(), &info, AttachTarget::Auto).unwrap_err();
    assert!(
        err.to_string()
            .contains("this kernel has no kprobe support (CONFIG_KPROBES off)"),
        "{err}"
    );
    assert!(
        !leftover_probe_events(),
        "kprobe_events left a probe behind"
    );
}

fn leftover_probe_events() -> bool {
    ["kprobe_events", "uprobe_events"].iter().any(|f| {
        std::fs::read_to_string(format!("/sys/kernel/tracing/{f}"))
            .is_ok_and(|text| text.contains(&format!("_{}_", std::process::id())))
    })
}

#[test]
fn perf_event_program_samples_cpu_clock_on_every_cpu() {
    if !kernel_available("perf_event_program_samples_cpu_clock_on_every_cpu") {
        return;
    }
    let map = counters(1);
    let prog = load(7, 0, &count_all_hits(map.as_fd(), 0), "perf_sample");
    let info = info(ProgramType::PERF_EVENT, 0, "perf_event");
    let target = AttachTarget::PerfEvent(PerfSampling::Frequency(1000));
    let link = attach(prog.as_fd(), &info, target).expect("attach perf_event");
    assert_eq!(link.kind(), LinkKind::Group);
    let cpus = whistler_loader::perf_buffer::online_cpus().unwrap();
    assert_eq!(link.members().len(), cpus.len());
    busy_for(Duration::from_millis(200));
    let samples = read_u64(map.as_fd(), 0);
    assert!(samples > 0, "no cpu-clock samples in 200 ms");
    drop(link);
    std::thread::sleep(Duration::from_millis(20));
    let after = read_u64(map.as_fd(), 0);
    busy_for(Duration::from_millis(50));
    assert_eq!(
        read_u64(map.as_fd(), 0),
        after,
        "sampling went on after drop"
    );
}

fn busy_for(duration: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < duration {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}
