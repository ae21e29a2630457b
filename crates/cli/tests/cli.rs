//! The `whistler` binary end to end: compile, disasm, test-run and run, errors and exit codes.

use whistler_testkit::kernel_available;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn whistler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_whistler"))
        .args(args)
        .output()
        .expect("the whistler binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory under the target dir, removed and recreated per test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

const COUNTER: &str = "\
(defmap pkt-count :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog count (:type :xdp :license \"GPL\")
  (incf (getmap pkt-count 0))
  XDP_PASS)
";

#[test]
fn compile_writes_the_object_next_to_the_input() {
    let dir = scratch("compile");
    let input = write(&dir, "counter.lisp", COUNTER);
    let out = whistler(&["compile", &input]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let object = std::fs::read(dir.join("counter.bpf.o")).unwrap();
    assert_eq!(&object[..4], b"\x7fELF");
    assert_eq!(object[18], 247, "e_machine is EM_BPF");
    let explicit = dir.join("other.o");
    assert!(
        whistler(&["compile", &input, "-o", explicit.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read(explicit).unwrap(),
        object,
        "identical input gives identical bytes"
    );
}

#[test]
fn compile_errors_are_located_and_fail() {
    let dir = scratch("errors");
    let input = write(&dir, "bad.lisp", "(defmap counts :type :hash :key-size 4 :value-size 8 :max-entries 8)\n(defprog p (:type :xdp)\n  (incf (getmap cuonts 0))\n  (frobnicate 1)\n  XDP_PASS)\n");
    let out = whistler(&["compile", &input]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.lisp:3:17: error:"), "{err}");
    assert!(err.contains("counts"), "suggests the right map: {err}");
    assert!(
        err.contains("bad.lisp:4:4"),
        "every error of the file is reported: {err}"
    );
    assert!(!dir.join("bad.bpf.o").exists());
}

/// `deftracepoint` reads the running kernel's tracefs format: the field accessors compile into
/// loads at the kernel's offsets, and a wrong field name is a located error listing the fields.
#[test]
fn compile_reads_tracepoint_formats_from_tracefs() {
    if !kernel_available("compile_reads_tracepoint_formats_from_tracefs") {
        return;
    }
    let format =
        std::fs::read_to_string("/sys/kernel/tracing/events/sched/sched_process_exec/format")
            .expect("tracefs is mounted (scripts/test.sh mounts it)");
    let pid_offset = format
        .lines()
        .find(|l| l.contains(" pid;"))
        .and_then(|l| l.split("offset:").nth(1))
        .and_then(|rest| rest.split(';').next())
        .expect("a pid field")
        .to_string();
    let dir = scratch("tracepoint");
    let good = write(
        &dir,
        "tp.lisp",
        "(deftracepoint sched/sched-process-exec pid)
         (defprog on-exec (:type :tracepoint :section \"tracepoint/sched/sched_process_exec\" :license \"GPL\")
           (tp-pid))
",
    );
    let out = whistler(&["compile", &good]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = whistler(&["disasm", &dir.join("tp.bpf.o").to_string_lossy()]);
    let listing = text(&out.stdout);
    assert!(
        listing.contains(&format!("+{pid_offset})")),
        "loads the pid at offset {pid_offset}: {listing}"
    );
    let bad = write(
        &dir,
        "bad.lisp",
        "(deftracepoint sched/sched-process-exec pdi)
(defprog p (:type :tracepoint) 0)
",
    );
    let out = whistler(&["compile", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.lisp:1:1"), "{err}");
    assert!(
        err.contains("no field pdi") && err.contains("old-pid"),
        "{err}"
    );
}

#[test]
fn non_text_input_is_refused() {
    let dir = scratch("binary");
    let path = dir.join("junk.lisp");
    std::fs::write(&path, [0xff, 0xfe, 0, 1, 2]).unwrap();
    let out = whistler(&["compile", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a text file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_everywhere() {
    for sub in [
        &["--help"][..],
        &["compile", "--help"],
        &["disasm", "--help"],
        &["test-run", "--help"],
        &["run", "--help"],
    ] {
        let out = whistler(sub);
        assert!(out.status.success(), "{sub:?}");
        assert!(text(&out.stdout).contains("Usage"), "{sub:?}");
    }
    assert!(!whistler(&["no-such-command"]).status.success());
}

#[test]
fn disasm_interleaves_lisp_lines_from_source_and_from_objects() {
    let dir = scratch("disasm");
    let input = write(&dir, "counter.lisp", COUNTER);
    let out = whistler(&["disasm", &input]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(
        listing.contains("counter.lisp:3: (incf (getmap pkt-count 0))"),
        "{listing}"
    );
    assert!(listing.contains("call bpf_map_lookup_elem#1"), "{listing}");
    assert!(whistler(&["compile", &input]).status.success());
    let out = whistler(&["disasm", dir.join("counter.bpf.o").to_str().unwrap()]);
    let listing = text(&out.stdout);
    assert!(
        listing.contains(":3: (incf (getmap pkt-count 0))"),
        "line info read back from .BTF.ext: {listing}"
    );
}

#[test]
fn test_run_prints_the_return_value() {
    if !kernel_available("test_run_prints_the_return_value") {
        return;
    }
    let dir = scratch("test-run");
    let input = write(&dir, "counter.lisp", COUNTER);
    let out = whistler(&[
        "test-run",
        &input,
        "--prog",
        "count",
        "--data-hex",
        "00112233445566778899aabbccddeeff",
        "--repeat",
        "3",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("return value: 2"), "{stdout}");
    assert!(
        stdout.contains("data out: 00112233445566778899aabbccddeeff"),
        "{stdout}"
    );
    let out = whistler(&["test-run", &input, "--prog", "nope"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("programs: count"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_prints_ring_records_and_maps_as_json() {
    if !kernel_available("run_prints_ring_records_and_maps_as_json") {
        return;
    }
    let dir = scratch("run");
    let input = write(
        &dir,
        "getpid.lisp",
        "(defmap counts :type :hash :key-size 4 :value-size 8 :max-entries 1024)
(defmap events :type :ringbuf :max-entries 4096)
(defprog on-getpid (:type :tracepoint :section \"tracepoint/syscalls/sys_enter_getpid\")
  (let ((tgid (cast u32 (ash (get-current-pid-tgid) -32))))
    (incf (getmap counts tgid))
    (ringbuf-output events (stack-addr tgid) 4 0))
  0)
",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_whistler"))
        .args(["run", &input, "--duration", "2", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let caller = Command::new("python3")
        .args([
            "-c",
            "import os\nfor _ in range(5): os.getpid()\nprint(os.getpid())",
        ])
        .output()
        .unwrap();
    let pid: u64 = text(&caller.stdout).trim().parse().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let record = format!(
        "{{\"ringbuf\": \"events\", \"data\": \"{}\"}}",
        (pid as u32)
            .to_le_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert!(stdout.contains(&record), "{record} in {stdout}");
    let map_line = stdout
        .lines()
        .find(|l| l.starts_with("{\"map\": \"counts\""))
        .expect("counts printed");
    assert!(
        map_line.contains(&format!("{{\"key\": {pid}, \"value\": ")),
        "{map_line}"
    );
}
