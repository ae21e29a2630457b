//! kprobe tools, which this machine's kernel cannot attach, run inside a qemu VM booting
//! Debian's kernel (`whistler_testkit::vm`): the statically built `whistler` runs Debian's
//! `capable.bt` (compiled in the guest, against the guest kernel's BTF), and runs an
//! ahead-of-time file compiled here, whose struct field offsets (CO-RE) the loader fixes for
//! the guest's older kernel, one reading tracepoint fields (`args`) whose record's layout
//! differs there (Debian's 6.1 keeps `sched_process_fork`'s comms as `char[16]`, moving
//! `parent_pid` and `child_pid`), and an fentry/fexit script whose `args` and `retval` come
//! from the function's BTF prototype (struct members through its pointer arguments loaded
//! directly), and perf events (no hardware counters there, page faults counted). The outputs
//! are checked inside the guest. Skipped (with the reason printed) when qemu is not installed,
//! unless WHISTLER_REQUIRE_KERNEL=1.

use std::time::Duration;
use whistler_bpftrace::Settings;
use whistler_syntax::SourceFile;
use whistler_testkit::vm::{self, Artifact, GuestFile};

const VM_TIMEOUT: Duration = Duration::from_secs(600);

/// A kprobe script reading `task_struct` fields through a pointer chain: compiled on this
/// host against this kernel's BTF, run in the guest.
const AHEAD_OF_TIME: &str = r#"kprobe:cap_capable /comm == "busybox"/ {
  $t = (struct task_struct *)curtask;
  printf("cap %d %s %d %d\n", arg2, $t->comm, $t->tgid == pid, $t->real_parent->pid > 0);
  exit();
}"#;

/// A tracepoint script reading `sched_process_fork`'s pids, compiled here: its `args` reads are
/// relocated (this kernel has `parent_pid` at byte 12 and `child_pid` at 20, the guest's at 24
/// and 44), so the fork's parent is the current process and the child's exit is seen.
const AHEAD_OF_TIME_FORK: &str = r#"tracepoint:sched:sched_process_fork /comm == "busybox"/ {
  printf("fork by parent %d\n", args->parent_pid == pid);
  @child[args->child_pid] = 1;
}
tracepoint:sched:sched_process_exit /@child[pid]/ {
  printf("child exited\n");
  exit();
}"#;

/// The guest's part of `/init`: capable.bt while busybox chowns a file (CAP_CHOWN, number 0),
/// the ahead-of-time file, then fentry/fexit on the open of a file by busybox; then perf
/// events: the guest (TCG, whose x86 CPUs have no PMU: its kernel logs "PMU not available due
/// to virtualization") has no hardware counters, which the error must say, and counts a
/// command's page faults.
const GUEST_SCRIPT: &str = r#"
run() { out=$1; shift; /bin/busybox timeout 120 "$@" > "$out" 2>&1; echo "--- $* (exit $?)"; cat "$out"; }
echo x > /tmp/f
run /tmp/capable.out /whistler bpftrace -c "/bin/busybox chown 1 /tmp/f" /capable.bt
run /tmp/aot.out /whistler bpftrace --run-aot /cap.wbt -c "/bin/busybox chown 2 /tmp/f"
printf '/bin/busybox true\n/bin/busybox true\n' > /tmp/forks.sh
run /tmp/fork.out /whistler bpftrace --run-aot /fork.wbt -c "/bin/busybox sh /tmp/forks.sh"
run /tmp/fentry.out /whistler bpftrace -e 'fentry:do_sys_openat2 /comm == "busybox"/ {
  printf("open %s %d\n", str(args.filename), args.dfd); }
  fentry:vfs_open /comm == "busybox"/ {
  printf("vfs_open %s %d\n", str(args.path->dentry->d_name.name), args.path->dentry->d_name.len); }
  fexit:do_sys_openat2 /comm == "busybox"/ { printf("fd %d\n", retval); exit(); }' \
  -c "/bin/busybox cat /tmp/f"
run /tmp/hw.out /whistler bpftrace -e 'hardware:cycles:100000 { @ = count(); }'
run /tmp/sw.out /whistler bpftrace -e 'software:page-faults:1 /comm == "busybox"/ { @faults = count(); }' \
  -c "/bin/busybox true"
code=1
if grep -qx "open /tmp/f -100" /tmp/fentry.out && grep -qx "fd 3" /tmp/fentry.out \
  && grep -qx "vfs_open f 1" /tmp/fentry.out \
  && grep -q "^Tracing cap_capable syscalls... Hit Ctrl-C to end.$" /tmp/capable.out \
  && grep -q "^TIME      UID    PID    COMM             CAP  NAME                 AUDIT$" /tmp/capable.out \
  && grep -q "^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]  0      [0-9]* *busybox          0    CAP_CHOWN            [0-9]*$" /tmp/capable.out \
  && grep -qx "Attaching 1 probe..." /tmp/aot.out \
  && grep -qx "cap 0 busybox 1 1" /tmp/aot.out \
  && grep -qx "fork by parent 1" /tmp/fork.out && grep -qx "child exited" /tmp/fork.out \
  && grep -q '^-e:1:1: error: cannot sample `hardware:cycles:100000`: this machine has no hardware counter for cpu-cycles' /tmp/hw.out \
  && grep -q "^@faults: [1-9][0-9]*$" /tmp/sw.out; then
  code=0
fi"#;

#[test]
fn capable_and_an_ahead_of_time_kprobe_script_in_a_vm() {
    let test = "capable_and_an_ahead_of_time_kprobe_script_in_a_vm";
    let Some(qemu) = vm::qemu_or_skip(test) else {
        return;
    };
    let capable = std::path::Path::new("/usr/sbin/capable.bt");
    if !capable.exists() && !whistler_testkit::skip(test, "needs Debian's bpftrace (its tools)") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("wbt-vm-{}", whistler_testkit::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let ahead_of_time = |name: &str, script: &str| {
        let file = SourceFile::new(format!("{name}.bt"), script);
        let compiled = whistler_bpftrace::compile(&file, &Settings::default(), Default::default())
            .unwrap_or_else(|d| panic!("{d:?}"));
        let path = dir.join(format!("{name}.wbt"));
        std::fs::write(&path, whistler_bpftrace::aot::write(&compiled)).unwrap();
        path
    };
    let aot = ahead_of_time("cap", AHEAD_OF_TIME);
    let fork = ahead_of_time("fork", AHEAD_OF_TIME_FORK);
    let whistler = vm::build_static(Artifact::Bin {
        package: "whistler-cli",
        name: "whistler",
    })
    .unwrap_or_else(|e| panic!("guest build: {e}"));
    let files = [
        GuestFile {
            name: "whistler",
            source: &whistler,
            executable: true,
        },
        GuestFile {
            name: "capable.bt",
            source: capable,
            executable: false,
        },
        GuestFile {
            name: "cap.wbt",
            source: &aot,
            executable: false,
        },
        GuestFile {
            name: "fork.wbt",
            source: &fork,
            executable: false,
        },
    ];
    vm::boot_and_check(&qemu, "vm-bpftrace", GUEST_SCRIPT, &files, VM_TIMEOUT);
}
