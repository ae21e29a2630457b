//! Shared by the kernel tests: the CAP_BPF skip rule, bpffs mounting, unique names.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

const CAP_BPF: u32 = 39;

fn has_cap_bpf() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    caps & (1 << CAP_BPF) != 0
}

/// True when the test may use the kernel. Without CAP_BPF it prints why and returns false,
/// unless WHISTLER_REQUIRE_KERNEL=1, where it panics instead.
pub fn kernel() -> bool {
    if has_cap_bpf() {
        whistler_loader::sys::bpf::bump_memlock_rlimit();
        return true;
    }
    if std::env::var("WHISTLER_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("WHISTLER_REQUIRE_KERNEL=1 but the process lacks CAP_BPF");
    }
    eprintln!("skipped: needs CAP_BPF");
    false
}

/// Mounts the bpffs at /sys/fs/bpf if it is not there, and returns a fresh directory in it.
pub fn bpffs_dir(tag: &str) -> PathBuf {
    let root = PathBuf::from("/sys/fs/bpf");
    let is_bpffs = std::process::Command::new("mountpoint")
        .args(["-q", "/sys/fs/bpf"])
        .status()
        .is_ok_and(|s| s.success());
    if !is_bpffs {
        let ok = std::process::Command::new("mount")
            .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot mount the bpffs at /sys/fs/bpf");
    }
    let dir = root.join(format!("whistler_test_{}_{}", tag, unique()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A number unique within the test process, combined with its pid.
pub fn unique() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Compiles `tests/c/<name>.c` with `clang -O2 -g -target bpf` and returns the object's bytes.
/// Without clang the test fails: scripts/test.sh installs it.
pub fn compile_c(name: &str) -> Vec<u8> {
    compile_c_with(name, &[])
}

/// Writes `vmlinux.h` for the running kernel (bpftool) into a fresh directory and returns it.
pub fn vmlinux_h_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("whistler-loader-vmlinux-{}", unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "c",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run bpftool (scripts/test.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("vmlinux.h"), out.stdout).unwrap();
    dir
}

/// [`compile_c`] with extra clang arguments.
pub fn compile_c_with(name: &str, extra: &[&str]) -> Vec<u8> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.c"));
    let dir = std::env::temp_dir().join(format!("whistler-loader-c-{}", unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}.o"));
    let multiarch = format!("-I/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let result = std::process::Command::new("clang")
        .args(["-O2", "-g", "-target", "bpf", &multiarch])
        .args(extra)
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run clang (scripts/test.sh installs it): {e}"));
    assert!(
        result.status.success(),
        "clang failed on {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}
