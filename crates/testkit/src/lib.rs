//! Test support shared by the workspace's test suites (a dev-dependency only): the rule for
//! skipping kernel tests, bpffs mounting, unique names, [`vm`], a qemu harness for the
//! attach kinds this machine's kernel refuses, and [`benchmarks`], each benchmark's section of
//! `BENCHMARKS.md`.
//!
//! A test that needs something missing is skipped with a note on stderr, unless
//! `WHISTLER_REQUIRE_KERNEL=1` (set where the kernel tests must run), which turns the skip into
//! a failure. This crate depends on nothing else in the workspace.

pub mod benchmarks;
pub mod vm;

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The capability bit of CAP_BPF in `/proc/self/status`'s `CapEff`.
const CAP_BPF: u32 = 39;

/// True when the process may load BPF (CAP_BPF is effective). Otherwise prints
/// `skipped TEST: needs CAP_BPF` and returns false, or panics under WHISTLER_REQUIRE_KERNEL=1.
pub fn kernel_available(test: &str) -> bool {
    has_cap_bpf() || skip(test, "needs CAP_BPF")
}

fn has_cap_bpf() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_BPF) != 0)
}

/// Skips `test` because it `needs` something: prints `skipped TEST: NEEDS` and returns false,
/// or panics when WHISTLER_REQUIRE_KERNEL=1 forbids skipping.
pub fn skip(test: &str, needs: &str) -> bool {
    assert!(
        std::env::var("WHISTLER_REQUIRE_KERNEL").as_deref() != Ok("1"),
        "{test} {needs}, and WHISTLER_REQUIRE_KERNEL=1 forbids skipping it"
    );
    eprintln!("skipped {test}: {needs}");
    false
}

/// True under `UPDATE_EXPECT=1`, which asks golden tests to rewrite their expected output
/// instead of comparing with it.
pub fn update_expect() -> bool {
    std::env::var("UPDATE_EXPECT").as_deref() == Ok("1")
}

/// Mounts the bpffs at /sys/fs/bpf unless it is mounted there already; panics when it cannot.
pub fn mount_bpffs() {
    let run_ok = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !run_ok("mountpoint", &["-q", "/sys/fs/bpf"]) {
        assert!(
            run_ok("mount", &["-t", "bpf", "bpf", "/sys/fs/bpf"]),
            "cannot mount the bpffs at /sys/fs/bpf"
        );
    }
}

/// A name unique on the machine while this test process runs: its pid and a counter.
pub fn unique() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
