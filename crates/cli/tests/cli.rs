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

/// The object replaces whatever the output file held, longer or shorter (it is overwritten in
/// place, then cut to length), and goes to a pipe as well as to a file.
#[test]
fn compile_replaces_an_existing_output_and_writes_to_a_pipe() {
    let dir = scratch("replace");
    let input = write(&dir, "counter.lisp", COUNTER);
    let fresh = dir.join("fresh.o");
    assert!(
        whistler(&["compile", &input, "-o", fresh.to_str().unwrap()])
            .status
            .success()
    );
    let object = std::fs::read(&fresh).unwrap();
    let old = dir.join("old.o");
    std::fs::write(&old, vec![0xa5u8; object.len() * 3]).unwrap();
    assert!(whistler(&["compile", &input, "-o", old.to_str().unwrap()])
        .status
        .success());
    assert_eq!(std::fs::read(&old).unwrap(), object, "no old bytes remain");
    let piped = whistler(&["compile", &input, "-o", "/dev/stdout"]);
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(piped.stdout, object);
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

/// `deftracepoint` reads the running kernel's tracefs format and its BTF's record struct: the
/// field accessors compile into loads at the kernel's offsets, which carry CO-RE relocations
/// against `struct trace_event_raw_sched_process_exec`, and a wrong field name is a located error
/// listing the fields.
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
    let object = dir.join("tp.bpf.o");
    let out = whistler(&["disasm", &object.to_string_lossy()]);
    let listing = text(&out.stdout);
    assert!(
        (listing.lines())
            .any(|l| l.contains(" = *(u32 *)(r") && l.ends_with(&format!(" +{pid_offset})"))),
        "reads the pid with one load from the context at offset {pid_offset}: {listing}"
    );
    let parsed = whistler_object::parse(&std::fs::read(&object).unwrap()).unwrap();
    let btf = whistler_object::btf::Btf::from_bytes(parsed.btf.as_ref().unwrap()).unwrap();
    let record = "trace_event_raw_sched_process_exec";
    let record = btf.find_by_name_kind(record, whistler_object::btf::BtfKind::Struct);
    let relos = &parsed.code_sections[0].core_relos;
    assert!(
        record.is_some() && relos.iter().any(|r| Some(r.type_id) == record),
        "relocated against the record's struct: {relos:?}"
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

/// How the binary was linked (`build.rs`): fixed-address, and without the dynamic loader when
/// the static C libraries were found. It still starts and compiles.
#[test]
fn the_binary_is_linked_for_a_fast_start() {
    let elf = std::fs::read(env!("CARGO_BIN_EXE_whistler")).unwrap();
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    const ET_EXEC: u16 = 2;
    const PT_INTERP: u32 = 3;
    let (header_table, header_size, headers) = (u64_at(32) as usize, u16_at(54), u16_at(56));
    let has_interpreter =
        (0..headers as usize).any(|i| u32_at(header_table + i * header_size as usize) == PT_INTERP);
    let fixed_address = u16_at(16) == ET_EXEC;
    match env!("WHISTLER_BINARY_LINK") {
        "static" => assert!(fixed_address && !has_interpreter),
        "dynamic" => assert!(fixed_address && has_interpreter),
        "static-pie" => assert!(!fixed_address && !has_interpreter),
        _ => {}
    }
    let version = whistler(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        text(&version.stdout),
        format!("whistler {}\n", env!("CARGO_PKG_VERSION"))
    );
    let dir = scratch("fast-start");
    let input = write(&dir, "counter.lisp", COUNTER);
    let out = whistler(&["compile", &input]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "wrote {} (1 program, 1 map)\n",
            dir.join("counter.bpf.o").display()
        )
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

/// Serializes the tests that count `getresgid` calls: each one's program sees them all.
static GETRESGID: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `whistler run` on `program` with `flags`, calls `os.getresgid()` (a syscall nothing
/// else on the machine makes) `calls` times after `wait_ms`, and returns stdout.
fn run_with_getresgid_calls(
    name: &str,
    program: &str,
    flags: &[&str],
    wait_ms: u64,
    calls: u32,
) -> String {
    let _alone = GETRESGID
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = scratch(name);
    let input = write(&dir, "prog.lisp", program);
    let child = Command::new(env!("CARGO_BIN_EXE_whistler"))
        .arg("run")
        .arg(&input)
        .args(flags)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(wait_ms));
    let script = format!("import os\nfor _ in range({calls}): os.getresgid()");
    assert!(Command::new("python3")
        .args(["-c", &script])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    text(&out.stdout)
}

const READABLE: &str = "\
(defstruct point (x u32) (dy i16) (tag (array u8 4)))
(defmap counts :type :hash :key-type u32 :value-type u64 :max-entries 16)
(defmap points :type :array :key-type u32 :value-type point :max-entries 2)
(defmap lat-hist :type :array :key-size 4 :value-size 8 :max-entries 8)
(defmap calls :type :percpu-array :key-size 4 :value-size 8 :max-entries 1)
(defprog on-getresgid (:type :tracepoint :section \"tracepoint/syscalls/sys_enter_getresgid\")
  (setf (getmap counts 1) 10 (getmap counts 2) 30 (getmap counts 3) 20)
  (setf (getmap lat-hist 1) 2 (getmap lat-hist 2) 4 (getmap lat-hist 4) 1)
  (let ((p (map-lookup points 1)))
    (when p
      (setf (point-x p) 7 (point-dy p) -3)))
  (incf (getmap calls 0))
  0)
";

/// Text output: entries sorted by value, struct values decoded through BTF by field name,
/// a `hist` array drawn as log2 bars, per-CPU values summed.
#[test]
fn run_prints_maps_sorted_decoded_and_as_histograms() {
    if !kernel_available("run_prints_maps_sorted_decoded_and_as_histograms") {
        return;
    }
    let stdout = run_with_getresgid_calls("run-text", READABLE, &["--duration", "2"], 1000, 5);
    let bar = |n: usize| format!("|{}{}|", "@".repeat(n), " ".repeat(52 - n));
    let expected = [
        "map counts:".to_string(),
        "  2: 30".to_string(),
        "  3: 20".to_string(),
        "  1: 10".to_string(),
        "map points:".to_string(),
        "  1: {x: 7, dy: -3, tag: [0, 0, 0, 0]}".to_string(),
        "  0: {x: 0, dy: 0, tag: [0, 0, 0, 0]}".to_string(),
        "map lat_hist:".to_string(),
        format!("[2, 4)                 2 {}", bar(26)),
        format!("[4, 8)                 4 {}", bar(52)),
        format!("[8, 16)                0 {}", bar(0)),
        format!("[16, 32)               1 {}", bar(13)),
        "map calls:".to_string(),
        "  0: 5".to_string(),
        String::new(),
    ];
    assert_eq!(stdout, expected.join("\n"));
}

/// `--per-cpu` shows each CPU's value after the sum.
#[test]
fn run_per_cpu_shows_each_cpus_value() {
    if !kernel_available("run_per_cpu_shows_each_cpus_value") {
        return;
    }
    let stdout = run_with_getresgid_calls(
        "run-per-cpu",
        READABLE,
        &["--duration", "2", "--per-cpu"],
        1000,
        4,
    );
    let line = stdout
        .lines()
        .skip_while(|l| *l != "map calls:")
        .nth(1)
        .expect("calls printed");
    let cpus = line
        .strip_prefix("  0: 4  [")
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{line}"));
    let per_cpu: Vec<u64> = cpus
        .split(", ")
        .enumerate()
        .map(|(cpu, item)| {
            let value = item.strip_prefix(&format!("cpu{cpu} ")).expect(line);
            value.parse().expect(line)
        })
        .collect();
    assert_eq!(per_cpu.iter().sum::<u64>(), 4, "{line}");
}

/// `--interval` prints every interval and at the end; `--clear` empties the maps after each
/// print, so the 3 calls show up in exactly one print.
#[test]
fn run_interval_clear_prints_periodically_and_empties_maps() {
    if !kernel_available("run_interval_clear_prints_periodically_and_empties_maps") {
        return;
    }
    let program = "\
(defmap calls :type :hash :key-size 4 :value-size 8 :max-entries 4)
(defprog on-getresgid (:type :tracepoint :section \"tracepoint/syscalls/sys_enter_getresgid\")
  (incf (getmap calls 0))
  0)
";
    let flags = ["--duration", "2.6", "--interval", "0.5", "--clear"];
    let stdout = run_with_getresgid_calls("run-interval", program, &flags, 1000, 3);
    assert!(stdout.matches("map calls:\n").count() >= 5, "{stdout}");
    assert_eq!(stdout.matches("  0: 3\n").count(), 1, "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("  ")).count(),
        1,
        "{stdout}"
    );
}

/// `whistler doctor` probes by loading: on this project's hosts xdp loads and fentry is refused
/// with EPERM (trampolines are blocked); kprobes load but cannot attach where the kernel has no
/// kprobe PMU, and neither do kprobe sets. Elsewhere (the VM) fentry may load; the line is then
/// `loads`.
#[test]
fn doctor_reports_what_loads_here() {
    if !kernel_available("doctor_reports_what_loads_here") {
        return;
    }
    let out = whistler(&["doctor"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = |start: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("{start} in {stdout}"))
            .to_string()
    };
    assert!(line("kernel ").len() > "kernel ".len() + 8);
    assert!(line("  xdp ").ends_with(" loads"), "{stdout}");
    assert!(line("  ringbuf ").ends_with(" creates"), "{stdout}");
    let fentry = line("  fentry/do_nanosleep ");
    let restricted_host = !Path::new("/sys/bus/event_source/devices/kprobe").exists();
    // Attach kinds: uprobes and (from 6.6) uprobe_multi links are everywhere we test.
    assert!(line("  uprobe ").contains(" yes "), "{stdout}");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut version = release
        .split(['.', '-'])
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (version.next().unwrap(), version.next().unwrap());
    let uprobe_multi = line("  uprobe_multi ");
    match (major, minor) >= (6, 6) {
        true => assert!(uprobe_multi.ends_with(" yes"), "{uprobe_multi}"),
        false => assert!(
            uprobe_multi.contains("one uprobe per function"),
            "{uprobe_multi}"
        ),
    }
    if restricted_host {
        assert!(fentry.contains("does not load (EPERM)"), "{fentry}");
        assert!(
            line("  kprobe/").contains("loads, cannot attach"),
            "{stdout}"
        );
        assert!(line("  kprobe ").contains(" no "), "{stdout}");
        assert!(line("  kprobe_multi ").contains(" no "), "{stdout}");
    } else {
        assert!(
            fentry.ends_with(" loads") || fentry.contains("does not load"),
            "{fentry}"
        );
    }
}

/// `--btf FILE` replaces /sys/kernel/btf/vmlinux: `compile` reads layouts from it (a made-up
/// `task_struct` whose `tgid` is at byte 8), and `run` relocates with it (a file that is not
/// there fails the load naming it; a copy of this kernel's works).
#[test]
fn btf_files_replace_the_kernels_btf() {
    use whistler_object::btf::{Btf, Kind, Member, INT_SIGNED};
    let dir = scratch("btf");
    let mut btf = Btf::new();
    let int = btf.add("int", Kind::int(4, INT_SIGNED));
    let tgid = Member {
        name_off: btf.add_string("tgid"),
        ty: int,
        bit_offset: 64,
        bitfield_size: 0,
    };
    let task = Kind::Struct {
        size: 16,
        members: vec![tgid],
        bitfield_encoding: false,
    };
    btf.add("task_struct", task);
    let made_up = dir.join("made-up.btf");
    std::fs::write(&made_up, btf.to_bytes()).unwrap();
    let input = write(
        &dir,
        "tgid.lisp",
        "(import-kernel-struct task-struct tgid)
(defmap out :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog tgid (:type :raw-tracepoint :section \"raw_tp/sys_enter\" :license \"GPL\")
  (setf (getmap out 0) (task-struct-tgid (get-current-task)))
  0)
",
    );
    let object = dir.join("tgid.bpf.o");
    let compiled = whistler(&["compile", &input, "--btf", made_up.to_str().unwrap()]);
    assert!(compiled.status.success(), "{}", text(&compiled.stderr));
    let parsed = whistler_object::parse(&std::fs::read(&object).unwrap()).unwrap();
    let section = &parsed.code_sections[0];
    let offsets: Vec<i32> = section
        .core_relos
        .iter()
        .filter(|r| r.kind == whistler_bpf::CoreKind::FIELD_BYTE_OFFSET as u32)
        .map(|r| section.insns[r.insn_offset as usize].imm)
        .collect();
    assert_eq!(offsets, [8], "tgid's offset in the made-up BTF");

    let missing = dir.join("no-such.btf");
    let failed = whistler(&["compile", &input, "--btf", missing.to_str().unwrap()]);
    assert!(!failed.status.success());
    assert!(
        text(&failed.stderr).contains("no-such.btf"),
        "{}",
        text(&failed.stderr)
    );

    if !kernel_available("btf_files_replace_the_kernels_btf") {
        return;
    }
    let object = object.to_str().unwrap();
    let run = |btf: &Path| {
        whistler(&[
            "run",
            object,
            "--duration",
            "0.1",
            "--btf",
            btf.to_str().unwrap(),
        ])
    };
    let failed = run(&missing);
    assert!(!failed.status.success());
    assert!(
        text(&failed.stderr).contains("no-such.btf"),
        "{}",
        text(&failed.stderr)
    );
    let copy = dir.join("vmlinux.btf");
    std::fs::copy("/sys/kernel/btf/vmlinux", &copy).unwrap();
    let ran = run(&copy);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
}

/// The README's histogram: `examples/lisp/read-sizes.lisp` under `whistler run` while this test
/// makes 300 reads of 4096 bytes, which its `[4K, 8K)` slot counts (with any other process's
/// reads of that size).
#[test]
fn run_draws_the_readme_read_sizes_histogram() {
    use std::io::{BufRead, Read};
    if !kernel_available("run_draws_the_readme_read_sizes_histogram") {
        return;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lisp/read-sizes.lisp");
    let mut child = Command::new(env!("CARGO_BIN_EXE_whistler"))
        .arg("run")
        .arg(&example)
        .args(["--duration", "3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("attached") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no attach line");
    }
    let mut zero = std::fs::File::open("/dev/zero").unwrap();
    let mut page = [0u8; 4096];
    for _ in 0..300 {
        zero.read_exact(&mut page).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let count: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("[4K, 8K)"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no [4K, 8K) slot:\n{stdout}"));
    assert!(count >= 300, "{stdout}");
    assert!(stdout.starts_with("map read_bytes_hist:\n"), "{stdout}");
}

#[test]
fn bpftrace_ahead_of_time_file_runs_with_run_aot() {
    if !kernel_available("bpftrace_ahead_of_time_file_runs_with_run_aot") {
        return;
    }
    let dir = scratch("bpftrace-aot");
    let out = dir.join("hello.wbt");
    let out = out.to_str().unwrap();
    let script = r#"BEGIN { printf("hi %d\n", 41 + 1); @x["k", 2] = count(); exit(); }"#;
    let compiled = whistler(&["bpftrace", "--aot", out, "-e", script]);
    assert!(compiled.status.success(), "{}", text(&compiled.stderr));
    assert!(compiled.stdout.is_empty());
    let ran = whistler(&["bpftrace", "--run-aot", out]);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        "Attaching 1 probe...\nhi 42\n\n\n@x[k, 2]: 1\n"
    );
    let broken = write(&dir, "broken.wbt", "not an aot file");
    let refused = whistler(&["bpftrace", "--run-aot", &broken]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("not a whistler bpftrace ahead-of-time file"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn bpftrace_options_may_follow_the_script_file() {
    if !kernel_available("bpftrace_options_may_follow_the_script_file") {
        return;
    }
    let dir = scratch("bpftrace-options-after");
    let script = write(
        &dir,
        "args.bt",
        "BEGIN { printf(\"args %d %d\\n\", $1, $2); }\n\
         END { printf(\"cpid set %d\\n\", cpid > 0); }\n",
    );
    // getopt permutes: -q and -c after the file and between its parameters are options.
    let ran = whistler(&["bpftrace", &script, "3", "-q", "-4", "-c", "true"]);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    assert_eq!(text(&ran.stdout), "args 3 -4\ncpid set 1\n\n\n");
    // After `--` nothing is an option.
    let ran = whistler(&["bpftrace", "-q", &script, "-c", "true", "--", "-q", "5"]);
    assert!(!ran.status.success(), "`-q` after `--` is a parameter");
    let ran = whistler(&["bpftrace", "-c", "true", &script, "--", "-7", "5"]);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        "Attaching 2 probes...\nargs -7 5\ncpid set 1\n\n\n"
    );
}

/// `whistler bpftrace` (or Debian's bpftrace) with `TZ` set to `zone`.
fn in_zone(program: &str, zone: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("TZ", zone)
        .output()
        .expect("the program runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn bpftrace_strftime_and_time_print_local_time() {
    if !kernel_available("bpftrace_strftime_and_time_print_local_time") {
        return;
    }
    let script = r#"BEGIN { printf("%s|\n", strftime("%Y-%m-%d %H:%M %z %Z", nsecs)); time("%H:%M\n"); exit(); }"#;
    let ours = env!("CARGO_BIN_EXE_whistler");
    for zone in ["Asia/Kolkata", "America/New_York"] {
        let date = || in_zone("date", zone, &["+%Y-%m-%d %H:%M %z %Z|%H:%M"]);
        let expected = |date: String| {
            let (stamp, time) = date.trim().split_once('|').unwrap();
            format!("Attaching 1 probe...\n{stamp}|\n{time}\n\n\n")
        };
        let before = expected(date());
        let out = in_zone(ours, zone, &["bpftrace", "-e", script]);
        let after = expected(date());
        assert!(out == before || out == after, "{zone}: {out} ({after})");
        let bpftrace = "/usr/bin/bpftrace";
        if Path::new(bpftrace).exists() {
            let theirs = in_zone(bpftrace, zone, &["-e", script]);
            let ours = in_zone(ours, zone, &["bpftrace", "-e", script]);
            let after = expected(date());
            // The same minute, unless one passed between the two runs.
            assert!(theirs == ours || ours == after, "{zone}: {theirs} {ours}");
        }
    }
}
