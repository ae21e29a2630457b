//! Shared by the kernel tests: the CAP_BPF skip rule with a raised memlock limit, bpffs mounting,
//! unique names.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::PathBuf;

use whistler_testkit::unique;

/// True when `test` may use the kernel ([`whistler_testkit::kernel_available`]), with the
/// memlock limit raised for it.
pub fn kernel(test: &str) -> bool {
    let available = whistler_testkit::kernel_available(test);
    if available {
        whistler_loader::sys::bpf::bump_memlock_rlimit();
    }
    available
}

/// Mounts the bpffs at /sys/fs/bpf if it is not there, and returns a fresh directory in it.
pub fn bpffs_dir(tag: &str) -> PathBuf {
    whistler_testkit::mount_bpffs();
    let dir = PathBuf::from("/sys/fs/bpf").join(format!("whistler_test_{}_{}", tag, unique()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
