//! The seed's kprobe session (`examples/lisp/exec-trace.lisp`, unchanged) run in a qemu VM
//! booting Debian's kernel, which has kprobes (this machine's kernel does not).
//!
//! On the host, `kprobe_session_in_a_vm` builds this test binary statically, packs it into a
//! busybox initramfs (the loader's VM tooling) and boots it; inside the VM, `/init` runs the
//! ignored test `vm_guest_checks`, which runs the example with `run_file`, starts a few
//! processes, then sends itself SIGINT. The host checks that every started process was
//! printed as a decoded `exec pid=N ts=T` record and that the run ended by the interrupt.

#[path = "../../loader/tests/vm/mod.rs"]
mod vm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const VM_TIMEOUT: Duration = Duration::from_secs(900);
const EXAMPLE: &str = include_str!("../../../examples/lisp/exec-trace.lisp");

#[test]
fn kprobe_session_in_a_vm() {
    let Some(qemu) = vm::qemu() else {
        if std::env::var("WHISTLER_REQUIRE_KERNEL").as_deref() == Ok("1") {
            panic!("WHISTLER_REQUIRE_KERNEL=1 but qemu-system-x86_64 is not installed");
        }
        eprintln!("skipped: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
        return;
    };
    let cache = vm::cache_dir();
    let kernel = vm::kernel_image(&cache).unwrap_or_else(|e| panic!("kernel: {e}"));
    let guest = build_static_guest().unwrap_or_else(|e| panic!("guest build: {e}"));
    let own = target_root().join("runner-vm");
    std::fs::create_dir_all(&own).unwrap();
    let initrd = vm::initramfs(&own, &guest).unwrap_or_else(|e| panic!("initramfs: {e}"));
    let run = vm::boot(&qemu, &kernel, &initrd, VM_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let console = &run.console;
    assert_eq!(
        run.guest_exit_code(),
        Some(0),
        "guest checks failed (timed out: {})\n--- VM console ---\n{console}",
        run.timed_out
    );
    let spawned: Vec<&str> = console
        .lines()
        // The first one may share a line with libtest's `test vm_guest_checks ... `.
        .filter_map(|l| l.split("spawned pid=").nth(1).map(str::trim))
        .collect();
    assert_eq!(spawned.len(), 3, "{console}");
    for pid in spawned {
        let record = format!("exec pid={pid} ts=");
        assert!(console.contains(&record), "no `{record}` in\n{console}");
    }
}

/// Inside the VM: run the example, exec three processes, interrupt.
#[test]
#[ignore = "runs inside the VM started by kprobe_session_in_a_vm"]
fn vm_guest_checks() {
    assert_eq!(std::env::var("WHISTLER_VM_GUEST").as_deref(), Ok("1"));
    let path = Path::new("/tmp/exec-trace.lisp");
    std::fs::write(path, EXAMPLE).unwrap();
    let me = rustix::process::getpid();
    std::thread::spawn(move || {
        // Compiling under emulation takes a while: give the session time to attach.
        std::thread::sleep(Duration::from_secs(20));
        for _ in 0..3 {
            let child = Command::new("/bin/sh")
                .args(["-c", "exit 0"])
                .spawn()
                .unwrap();
            println!("spawned pid={}", child.id());
            let mut child = child;
            child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_secs(5));
        rustix::process::kill_process(me, rustix::process::Signal::INT).unwrap();
    });
    let outcome = whistler_runner::run_file(path, &whistler_runner::RunOptions::default()).unwrap();
    assert_eq!(outcome, whistler_runner::Outcome::Interrupted);
}

/// The root of the cargo target directory this test binary was built in.
fn target_root() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors().nth(3).expect("target dir").to_owned()
}

/// Builds this test statically (`+crt-static`) for the guest; returns the executable.
fn build_static_guest() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "test",
            "-p",
            "whistler-runner",
            "--no-run",
            "--test",
            "vm_exec_trace",
        ])
        .args(["--target", "x86_64-unknown-linux-gnu"])
        .args(["--message-format", "json-render-diagnostics"])
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env("CARGO_TARGET_DIR", target_root().join("vm-guest"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter(|l| {
            l.contains("\"reason\":\"compiler-artifact\"")
                && l.contains("\"name\":\"vm_exec_trace\"")
        })
        .find_map(|l| {
            let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = l[start..].find('"')?;
            Some(PathBuf::from(&l[start..start + end]))
        })
        .ok_or_else(|| "cargo built no executable for vm_exec_trace".to_owned())
}
