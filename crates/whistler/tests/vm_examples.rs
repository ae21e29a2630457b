//! The kprobe examples on a kernel that has kprobes: Debian's 6.1 booted under qemu (this
//! machine's kernel has no CONFIG_KPROBES, so there the examples fall back or fail), and the
//! CO-RE example built here run there, on a kernel whose `task_struct` is laid out differently.
//!
//! Each test builds one binary statically, packs it into a busybox initramfs
//! (`whistler_testkit::vm`) with a shell script (`tests/vm/*.sh`) that runs it while exec'ing a
//! few commands, checks what it printed and sets the verdict. Skipped (with the reason printed)
//! when qemu is not installed, unless WHISTLER_REQUIRE_KERNEL=1.

use std::path::Path;
use std::time::Duration;

use whistler_testkit::vm::{self, Artifact, GuestFile};

/// qemu is killed after this long (a run takes 10-20 s under software emulation on an idle
/// machine, over a minute on a loaded one).
const VM_TIMEOUT: Duration = Duration::from_secs(180);

/// The lines between `--- NAME output` and `--- end of NAME output ---` in the console.
fn section<'a>(console: &'a str, name: &str) -> Vec<&'a str> {
    let start = format!("--- {name} output");
    let end = format!("--- end of {name} output ---");
    console
        .lines()
        .map(str::trim_end)
        .skip_while(|l| !l.starts_with(&start))
        .skip(1)
        .take_while(|l| *l != end)
        .collect()
}

fn exec_records(lines: &[&str]) -> usize {
    lines.iter().filter(|l| l.starts_with("exec pid=")).count()
}

#[test]
fn exec_trace_example_traces_with_its_kprobe_in_a_vm() {
    let Some(qemu) = vm::qemu_or_skip("exec_trace_example_traces_with_its_kprobe_in_a_vm") else {
        return;
    };
    let binary = vm::build_static(Artifact::Example {
        package: "whistler",
        name: "exec_trace",
    })
    .unwrap_or_else(|e| panic!("static build of exec_trace: {e}"));
    let files = [GuestFile {
        name: "exec_trace",
        source: &binary,
        executable: true,
    }];
    let script = include_str!("vm/exec-trace.sh");
    let console = vm::boot_and_check(&qemu, "vm-exec-trace", script, &files, VM_TIMEOUT);
    let output = section(&console, "exec_trace");
    assert!(
        output
            .iter()
            .any(|l| l.starts_with("tracing execve with kprobe/__x64_sys_execve")),
        "{output:#?}"
    );
    assert!(
        !output.iter().any(|l| l.contains("has no kprobes")),
        "{output:#?}"
    );
    assert!(exec_records(&output) >= 5, "{output:#?}");
}

#[test]
fn lisp_exec_trace_runs_and_cleans_up_on_ctrl_c_in_a_vm() {
    let Some(qemu) = vm::qemu_or_skip("lisp_exec_trace_runs_and_cleans_up_on_ctrl_c_in_a_vm")
    else {
        return;
    };
    let binary = vm::build_static(Artifact::Bin {
        package: "whistler-cli",
        name: "whistler",
    })
    .unwrap_or_else(|e| panic!("static build of the whistler CLI: {e}"));
    let session = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lisp/exec-trace.lisp");
    let files = [
        GuestFile {
            name: "whistler",
            source: &binary,
            executable: true,
        },
        GuestFile {
            name: "exec-trace.lisp",
            source: &session,
            executable: false,
        },
    ];
    let script = include_str!("vm/lisp-exec-trace.sh");
    let console = vm::boot_and_check(&qemu, "vm-lisp-exec-trace", script, &files, VM_TIMEOUT);
    let output = section(&console, "whistler run");
    assert!(exec_records(&output) >= 5, "{output:#?}");
}

/// Compile once, run on another kernel: the `session!` binary built here (its object compiled
/// against this machine's `task_struct`) reports the right pid, parent pid and command name on
/// Debian's 6.1 kernel.
#[test]
fn exec_parents_session_built_here_reads_task_struct_right_in_a_vm() {
    let name = "exec_parents_session_built_here_reads_task_struct_right_in_a_vm";
    let Some(qemu) = vm::qemu_or_skip(name) else {
        return;
    };
    let binary = vm::build_static(Artifact::Example {
        package: "whistler",
        name: "exec_parents",
    })
    .unwrap_or_else(|e| panic!("static build of exec_parents: {e}"));
    let files = [GuestFile {
        name: "exec_parents",
        source: &binary,
        executable: true,
    }];
    let script = include_str!("vm/exec-parents.sh");
    let console = vm::boot_and_check(&qemu, "vm-exec-parents", script, &files, VM_TIMEOUT);
    let output = section(&console, "exec_parents");
    let expected = output
        .iter()
        .find_map(|l| l.strip_prefix("expected: "))
        .unwrap_or_else(|| panic!("{output:#?}"));
    assert!(output.contains(&expected), "{output:#?}");
}
