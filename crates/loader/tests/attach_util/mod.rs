//! Shared helpers of the attach, ring buffer and perf buffer tests: raw program loading, array
//! maps, and small instruction sequences.
#![allow(dead_code)] // each test binary uses a different subset of these helpers

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use whistler_bpf::opcode::*;
use whistler_bpf::{Insn, Reg};
use whistler_loader::sys::bpf;

pub const MAP_LOOKUP_ELEM: i32 = 1;
pub const GET_CURRENT_PID_TGID: i32 = 14;
pub const PERF_EVENT_OUTPUT: i32 = 25;
pub const RINGBUF_OUTPUT: i32 = 130;
pub const RINGBUF_RESERVE: i32 = 131;
pub const RINGBUF_SUBMIT: i32 = 132;
pub const RINGBUF_DISCARD: i32 = 133;
/// `BPF_F_CURRENT_CPU` for bpf_perf_event_output.
pub const BPF_F_CURRENT_CPU: u64 = 0xffff_ffff;

/// Loads raw instructions; panics with the verifier log on rejection.
pub fn load(prog_type: u32, expected_attach_type: u32, insns: &[Insn], name: &str) -> OwnedFd {
    load_with_btf_id(prog_type, expected_attach_type, 0, insns, name)
}

pub fn load_with_btf_id(
    prog_type: u32,
    expected_attach_type: u32,
    attach_btf_id: u32,
    insns: &[Insn],
    name: &str,
) -> OwnedFd {
    bpf::bump_memlock_rlimit();
    let code = Insn::encode_all(insns);
    let license = CString::new("GPL").unwrap();
    let mut log = vec![0u8; 1 << 20];
    let result = bpf::prog_load(bpf::ProgLoad {
        prog_type,
        insns: &code,
        license: &license,
        log_level: 1,
        log: Some(&mut log),
        name,
        expected_attach_type,
        attach_btf_id,
        ..Default::default()
    });
    match result {
        Ok(fd) => fd,
        Err(e) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            panic!(
                "loading {name} failed: {e}\n{}",
                String::from_utf8_lossy(&log[..end])
            )
        }
    }
}

pub fn create_map(map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> OwnedFd {
    bpf::bump_memlock_rlimit();
    bpf::map_create(&bpf::MapCreate {
        map_type,
        key_size,
        value_size,
        max_entries,
        name: "test_map",
        ..Default::default()
    })
    .expect("map create")
}

/// An array of `n` u64 counters.
pub fn counters(n: u32) -> OwnedFd {
    create_map(2, 4, 8, n)
}

pub fn read_u64(map: BorrowedFd<'_>, key: u32) -> u64 {
    let mut value = [0u8; 8];
    let found = bpf::map_lookup_elem(map, &key.to_ne_bytes(), &mut value, 0).expect("lookup");
    assert!(found, "key {key} missing");
    u64::from_ne_bytes(value)
}

/// `ld_imm64 dst, map` with src = BPF_PSEUDO_MAP_FD.
pub fn ld_map(dst: Reg, map: BorrowedFd<'_>) -> [Insn; 2] {
    Insn::ld_imm64(dst, BPF_PSEUDO_MAP_FD, map.as_raw_fd() as u64)
}

/// `if (current tgid != tgid) goto exit` where `exit_offset` jumps to the final `r0 = 0; exit`.
pub fn tgid_filter(tgid: u32, exit_offset: i16) -> Vec<Insn> {
    vec![
        Insn::call_helper(GET_CURRENT_PID_TGID),
        Insn::alu64_imm(BPF_RSH, Reg::R0, 32),
        Insn::jmp_imm(BPF_JNE, Reg::R0, tgid as i32, exit_offset),
    ]
}

/// `r0 = &map[key]` (the u32 key stored at fp-4); when there is no such entry, jumps over the
/// `skip` instructions that follow. Clobbers r0-r5.
pub fn lookup_or_skip(map: BorrowedFd<'_>, key: u32, skip: i16) -> Vec<Insn> {
    let mut code = vec![
        Insn::store_imm(BPF_W, Reg::FP, -4, key as i32),
        Insn::mov64_reg(Reg::R2, Reg::FP),
        Insn::alu64_imm(BPF_ADD, Reg::R2, -4),
    ];
    code.extend(ld_map(Reg::R1, map));
    code.extend([
        Insn::call_helper(MAP_LOOKUP_ELEM),
        Insn::jmp_imm(BPF_JEQ, Reg::R0, 0, skip),
    ]);
    code
}

/// `counters[key] += 1` (atomically); clobbers r0-r5.
pub fn increment(map: BorrowedFd<'_>, key: u32) -> Vec<Insn> {
    let mut code = lookup_or_skip(map, key, 2);
    code.extend([
        Insn::mov64_imm(Reg::R1, 1),
        Insn::atomic(BPF_DW, BPF_ADD as i32, Reg::R0, 0, Reg::R1),
    ]);
    code
}

/// `r7 = counters[0]++` (atomic fetch-add); jumps to the end (`exit_offset`) if the lookup fails.
pub fn next_seq(counter: BorrowedFd<'_>, exit_offset: i16) -> Vec<Insn> {
    let mut code = lookup_or_skip(counter, 0, exit_offset + 2);
    code.extend([
        Insn::mov64_imm(Reg::R7, 1),
        Insn::atomic(BPF_DW, BPF_ADD as i32 | BPF_FETCH, Reg::R0, 0, Reg::R7),
    ]);
    code
}

/// Runs an XDP program `times` times on a dummy packet; it must return XDP_PASS.
pub fn run_times(prog: BorrowedFd<'_>, times: u32) {
    const XDP_PASS: u32 = 2;
    let packet = [0u8; 64];
    let result = bpf::prog_test_run(
        prog,
        bpf::TestRun {
            data_in: &packet,
            repeat: times,
            ..Default::default()
        },
    )
    .expect("test run");
    assert_eq!(result.retval, XDP_PASS);
}

/// A program that does `counters[0] += 1` whenever the current process is ours, then returns
/// `ret`.
pub fn count_own_hits(map: BorrowedFd<'_>, ret: i32) -> Vec<Insn> {
    let body = increment(map, 0);
    let mut code = tgid_filter(std::process::id(), body.len() as i16);
    code.extend(body);
    code.extend([Insn::mov64_imm(Reg::R0, ret), Insn::exit()]);
    code
}

/// A program that does `counters[0] += 1` on every run, then returns `ret`.
pub fn count_all_hits(map: BorrowedFd<'_>, ret: i32) -> Vec<Insn> {
    let mut code = increment(map, 0);
    code.extend([Insn::mov64_imm(Reg::R0, ret), Insn::exit()]);
    code
}

pub fn borrowed(fd: &OwnedFd) -> BorrowedFd<'_> {
    fd.as_fd()
}

/// Runs a command, panicking with its output when it fails.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A name unique to this process and call, for namespaces, interfaces and cgroups.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}{}",
        std::process::id() % 100_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The calling thread's id, from /proc/thread-self.
pub fn thread_id() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    link.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

/// `if (current thread != tid) goto exit`.
pub fn thread_filter(tid: u32, exit_offset: i16) -> Vec<Insn> {
    vec![
        Insn::call_helper(GET_CURRENT_PID_TGID),
        Insn::alu32_reg(BPF_MOV, Reg::R0, Reg::R0),
        Insn::jmp_imm(BPF_JNE, Reg::R0, tid as i32, exit_offset),
    ]
}

/// Counts hits from this thread only.
pub fn count_thread_hits(map: BorrowedFd<'_>) -> Vec<Insn> {
    let body = increment(map, 0);
    let mut code = thread_filter(thread_id(), body.len() as i16);
    code.extend(body);
    code.extend([Insn::mov64_imm(Reg::R0, 0), Insn::exit()]);
    code
}

const SYS_GETPID: i32 = 39;

/// Counts this thread's getpid calls seen by a raw `sys_enter` hook (`ctx[1]` is the syscall
/// number; `ctx` is saved in r6 across the helper call).
pub fn count_thread_getpids(map: BorrowedFd<'_>) -> Vec<Insn> {
    let body = increment(map, 0);
    let mut code = vec![Insn::mov64_reg(Reg::R6, Reg::R1)];
    code.extend(thread_filter(thread_id(), body.len() as i16 + 2));
    code.extend([
        Insn::load(BPF_DW, Reg::R1, Reg::R6, 8),
        Insn::jmp_imm(BPF_JNE, Reg::R1, SYS_GETPID, body.len() as i16),
    ]);
    code.extend(body);
    code.extend([Insn::mov64_imm(Reg::R0, 0), Insn::exit()]);
    code
}

pub fn getpid_times(n: u32) {
    for _ in 0..n {
        std::hint::black_box(std::process::id());
    }
}

// Three functions with plain names for the uprobe set tests (`whistler_multi_probe_*`).
#[allow(unsafe_code)] // `no_mangle` only: uprobes need symbol names to look up
#[no_mangle]
#[inline(never)]
pub extern "C" fn whistler_multi_probe_a() -> u32 {
    std::hint::black_box(1)
}

#[allow(unsafe_code)] // as above
#[no_mangle]
#[inline(never)]
pub extern "C" fn whistler_multi_probe_b() -> u32 {
    std::hint::black_box(2)
}

#[allow(unsafe_code)] // as above
#[no_mangle]
#[inline(never)]
pub extern "C" fn whistler_multi_probe_c() -> u32 {
    std::hint::black_box(3)
}

/// Calls `whistler_multi_probe_a` twice, `_b` three times and `_c` four times.
pub fn call_multi_probe_targets() {
    let calls: [(fn() -> u32, u32); 3] = [
        (|| whistler_multi_probe_a(), 2),
        (|| whistler_multi_probe_b(), 3),
        (|| whistler_multi_probe_c(), 4),
    ];
    for (function, times) in calls {
        for _ in 0..times {
            std::hint::black_box(function());
        }
    }
}

/// Loads a program counting this thread's hits for `section`, attaches it at `target` (empty:
/// the section's own), calls [`call_multi_probe_targets`], drops the link, calls them again,
/// and returns the link's kind with the hits counted.
pub fn count_probe_set_hits(section: &str, target: &str) -> (whistler_loader::link::LinkKind, u64) {
    use whistler_loader::attach::AttachTarget;
    let map = counters(1);
    let program = whistler_loader::Program::load_raw_in_section(
        "probe_set",
        section,
        &count_thread_hits(map.as_fd()),
        "GPL",
        &whistler_loader::LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("load for {section}: {e}"));
    let target = AttachTarget::parse_for_section(section, target).unwrap();
    let link = program
        .attach(target)
        .unwrap_or_else(|e| panic!("attach {section}: {e}"));
    let kind = link.kind();
    call_multi_probe_targets();
    drop(link);
    call_multi_probe_targets();
    (kind, read_u64(map.as_fd(), 0))
}
