//! kprobe tools, which this machine's kernel cannot attach, run inside a qemu VM booting
//! Debian's kernel (`whistler_testkit::vm`): the statically built `whistler` runs Debian's
//! `capable.bt` (compiled in the guest, against the guest kernel's BTF), and runs an
//! ahead-of-time file compiled here, whose struct field offsets (CO-RE) the loader fixes for
//! the guest's older kernel, and an fentry/fexit script whose `args` and `retval` come from the
//! function's BTF prototype, and perf events (no hardware counters there, page faults
//! counted). The outputs are checked inside the guest. Skipped (with the
//! reason printed) when qemu is not installed, unless WHISTLER_REQUIRE_KERNEL=1.

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
run /tmp/fentry.out /whistler bpftrace -e 'fentry:do_sys_openat2 /comm == "busybox"/ {
  printf("open %s %d\n", str(args.filename), args.dfd); }
  fexit:do_sys_openat2 /comm == "busybox"/ { printf("fd %d\n", retval); exit(); }' \
  -c "/bin/busybox cat /tmp/f"
run /tmp/hw.out /whistler bpftrace -e 'hardware:cycles:100000 { @ = count(); }'
run /tmp/sw.out /whistler bpftrace -e 'software:page-faults:1 /comm == "busybox"/ { @faults = count(); }' \
  -c "/bin/busybox true"
code=1
if grep -qx "open /tmp/f -100" /tmp/fentry.out && grep -qx "fd 3" /tmp/fentry.out \
  && grep -q "^Tracing cap_capable syscalls... Hit Ctrl-C to end.$" /tmp/capable.out \
  && grep -q "^TIME      UID    PID    COMM             CAP  NAME                 AUDIT$" /tmp/capable.out \
  && grep -q "^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]  0      [0-9]* *busybox          0    CAP_CHOWN            [0-9]*$" /tmp/capable.out \
  && grep -qx "Attaching 1 probe..." /tmp/aot.out \
  && grep -qx "cap 0 busybox 1 1" /tmp/aot.out \
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
    let file = SourceFile::new("cap.bt", AHEAD_OF_TIME);
    let compiled = whistler_bpftrace::compile(&file, &Settings::default(), Default::default())
        .unwrap_or_else(|d| panic!("{d:?}"));
    let dir = std::env::temp_dir().join(format!("wbt-vm-{}", whistler_testkit::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let aot = dir.join("cap.wbt");
    std::fs::write(&aot, whistler_bpftrace::aot::write(&compiled)).unwrap();
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
    ];
    vm::boot_and_check(&qemu, "vm-bpftrace", GUEST_SCRIPT, &files, VM_TIMEOUT);
}
