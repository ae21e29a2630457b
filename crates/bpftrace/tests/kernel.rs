//! bpftrace scripts compiled and run in the running kernel, with exact output checks: a child
//! process with a known name opens known files (`-c`), the script filters on that name, and
//! the printed output is compared in full; where Debian's bpftrace can run the same script on
//! this host, its output is compared with ours byte for byte.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use whistler_bpftrace::{Format, RunOptions, Settings};
use whistler_syntax::SourceFile;

/// The command name of the opener scripts (at most 15 characters, as `comm` keeps).
const OPENER: &str = "wbt-opener";

/// Held while a test's traced command runs: every such command is named `wbt-opener`, so two
/// at once would be counted by each other's scripts.
type Alone = MutexGuard<'static, ()>;

fn one_traced_command_at_a_time() -> Alone {
    static TRACED_COMMAND: Mutex<()> = Mutex::new(());
    TRACED_COMMAND
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A directory with files `a` and `b`, a copy of the shell named `wbt-opener` (so its `comm`
/// is that) and a script it runs that opens `a` once and `b` twice. Returns the command, and
/// the guard that keeps other traced commands from running until it is dropped.
fn opener() -> (PathBuf, String, Alone) {
    let alone = one_traced_command_at_a_time();
    let dir = std::env::temp_dir().join(format!("wbt-{}", whistler_testkit::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["a", "b"] {
        std::fs::write(dir.join(name), "x\n").unwrap();
    }
    let d = dir.display();
    std::fs::write(
        dir.join("opens.sh"),
        format!(": < {d}/a\n: < {d}/b\n: < {d}/b\n"),
    )
    .unwrap();
    std::fs::copy("/bin/sh", dir.join(OPENER)).unwrap();
    let command = format!("{d}/{OPENER} {d}/opens.sh");
    (dir, command, alone)
}

fn ours(script: &str, options: RunOptions) -> String {
    run(&compiled(script), options)
}

fn compiled(script: &str) -> whistler_bpftrace::Compiled {
    let file = SourceFile::new("test.bt", script);
    whistler_bpftrace::compile(&file, &Settings::default(), Default::default()).unwrap_or_else(
        |d| {
            panic!(
                "{}",
                d.iter()
                    .map(|d| whistler_syntax::render(&file, d))
                    .collect::<String>()
            )
        },
    )
}

fn run(compiled: &whistler_bpftrace::Compiled, options: RunOptions) -> String {
    let stop = whistler_session::stop_on_ctrl_c().unwrap();
    let mut out = Vec::new();
    whistler_bpftrace::run(compiled, &options, &stop, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn with_command(command: &str) -> RunOptions {
    RunOptions {
        command: Some(command.to_string()),
        ..Default::default()
    }
}

/// A script exercising every aggregation, keyed and scalar maps, a predicate on `comm`,
/// string comparisons through a scratch variable, if/else, ?: and printf: opens of `a` go one
/// way, opens matching `other_test` (and named `other_key`) the other.
fn aggregations_script(dir: &Path, other_test: &str, other_key: &str) -> String {
    let d = dir.display();
    format!(
        r#"tracepoint:syscalls:sys_enter_openat /comm == "{OPENER}"/ {{
  $f = str(args->filename);
  if ($f == "{d}/a") {{
    @opens["a"] = count();
    @h = hist(7);
    printf("open a by %s, %5d|%-4s|%x\n", comm, 42, "ab", 255);
  }} else {other_test}{{
    @opens["{other_key}"] = count();
    @l = lhist(12, 0, 100, 10);
    @l = lhist(37, 0, 100, 10);
    @s = sum(5);
    @mx = max(9);
    @mn = min(3);
    @st = stats(10);
    @av = avg(4);
    @t[1, "one"] = 2;
    $n = 3;
    @tern = $n > 2 ? 100 : 200;
  }}
}}
"#
    )
}

/// Two string comparisons: `b`'s opens only on the other side.
fn exact_script(dir: &Path) -> String {
    let test = format!("if ($f == \"{}/b\") ", dir.display());
    aggregations_script(dir, &test, "b")
}

/// The script compared with Debian's bpftrace 0.17, which fails to load programs with two
/// string comparisons on this kernel: one comparison, the other opens (the shell's own, from
/// the same binary for both) counted apart.
fn comparison_script(dir: &Path) -> String {
    aggregations_script(dir, "", "other")
}

#[test]
fn aggregations_print_exactly_as_bpftrace() {
    if !whistler_testkit::kernel_available("aggregations_print_exactly_as_bpftrace") {
        return;
    }
    let (dir, opener, _alone) = opener();
    let script = exact_script(&dir);
    let out = ours(&script, with_command(&opener));
    let bar = "@".repeat(52);
    let none = " ".repeat(52);
    let expected = format!(
        "Attaching 1 probe...\n\
         open a by {OPENER},    42|ab  |ff\n\
         \n\n\
         @av: 4\n\n\
         @h: \n\
         [4, 8)                 1 |{bar}|\n\n\
         @l: \n\
         [10, 20)               2 |{bar}|\n\
         [20, 30)               0 |{none}|\n\
         [30, 40)               2 |{bar}|\n\n\
         @mn: 3\n\
         @mx: 9\n\
         @opens[a]: 1\n\
         @opens[b]: 2\n\
         @s: 10\n\
         @st: count 2, average 10, total 20\n\n\
         @t[1, one]: 2\n\
         @tern: 100\n"
    );
    assert_eq!(out, expected);
}

#[test]
fn same_output_as_debians_bpftrace() {
    if !whistler_testkit::kernel_available("same_output_as_debians_bpftrace") {
        return;
    }
    let bpftrace = Path::new("/usr/bin/bpftrace");
    if !bpftrace.exists()
        && !whistler_testkit::skip("same_output_as_debians_bpftrace", "needs Debian's bpftrace")
    {
        return;
    }
    let (dir, opener, _alone) = opener();
    let script = comparison_script(&dir);
    let theirs = Command::new(bpftrace)
        .arg("-c")
        .arg(&opener)
        .arg("-e")
        .arg(&script)
        .output()
        .unwrap();
    assert!(theirs.status.success(), "{theirs:?}");
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    assert!(theirs.contains("@opens[a]: 1\n"), "{theirs}");
    assert_eq!(ours(&script, with_command(&opener)), theirs);
}

#[test]
fn begin_interval_end_and_exit() {
    if !whistler_testkit::kernel_available("begin_interval_end_and_exit") {
        return;
    }
    let script = r#"
        BEGIN { @start = 1; printf("begin %d\n", elapsed < 1000000000); }
        interval:ms:50 { @ticks = count(); if (@ticks == 3) { exit(); } }
        END { printf("end after %d ticks\n", @ticks); clear(@start); }
    "#;
    let out = ours(script, RunOptions::default());
    assert_eq!(
        out,
        "Attaching 3 probes...\nbegin 1\nend after 3 ticks\n\n\n\n@ticks: 3\n"
    );
}

#[test]
fn json_lines() {
    if !whistler_testkit::kernel_available("json_lines") {
        return;
    }
    let script = r#"BEGIN { @c["x"] = count(); @h = hist(1); @st = stats(4); printf("a \"q\"\n"); exit(); }"#;
    let out = ours(
        script,
        RunOptions {
            format: Format::Json,
            ..Default::default()
        },
    );
    assert_eq!(
        out,
        "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}\n\
         {\"type\": \"printf\", \"data\": \"a \\\"q\\\"\\n\"}\n\
         \n\n\
         {\"type\": \"map\", \"data\": {\"@c\": {\"x\": 1}}}\n\
         {\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 1, \"max\": 1, \"count\": 1}]}}\n\
         {\"type\": \"stats\", \"data\": {\"@st\": {\"count\": 1, \"average\": 4, \"total\": 4}}}\n"
    );
}

#[test]
fn builtins_of_this_process() {
    if !whistler_testkit::kernel_available("builtins_of_this_process") {
        return;
    }
    // BEGIN runs in this process, so pid, uid and gid are ours.
    let script = r#"BEGIN { printf("%d %d %d %d %s\n", pid, tid > 0, uid, gid, probe); @k[pid, "p"] = sum(2); delete(@k[pid, "p"]); @z[1] = 5; zero(@z); exit(); }"#;
    let out = ours(
        script,
        RunOptions {
            quiet: true,
            ..Default::default()
        },
    );
    let pid = std::process::id();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let id = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .unwrap()
            .to_string()
    };
    assert_eq!(
        out,
        format!(
            "{pid} 1 {} {} BEGIN\n\n\n\n@z[1]: 0\n",
            id("Uid:"),
            id("Gid:")
        )
    );
}

/// Debian's bpftrace's output for `script` run with `-c command`, when it is installed.
fn theirs(test: &str, script: &str, command: &str) -> Option<String> {
    theirs_with(test, &["-c", command, "-e", script])
}

/// Checks that Debian's bpftrace, when it is installed, prints `out` too for `script` run with
/// `-c command`.
#[track_caller]
fn assert_same_as_theirs(out: &str, test: &str, script: &str, command: &str) {
    if let Some(theirs) = theirs(test, script, command) {
        assert_eq!(out, theirs);
    }
}

/// Debian's bpftrace's output with these arguments, when it is installed.
fn theirs_with(test: &str, args: &[&str]) -> Option<String> {
    let bpftrace = Path::new("/usr/bin/bpftrace");
    if !bpftrace.exists() && !whistler_testkit::skip(test, "needs Debian's bpftrace") {
        return None;
    }
    let out = Command::new(bpftrace).args(args).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    Some(String::from_utf8(out.stdout).unwrap())
}

/// A shell named `wbt-opener` (see [`opener`]) that runs `sleep` with each duration.
fn sleeper(durations: &[&str]) -> (String, Alone) {
    let (dir, _, alone) = opener();
    let script: String = durations.iter().map(|d| format!("sleep {d}\n")).collect();
    std::fs::write(dir.join("sleeps.sh"), script).unwrap();
    (format!("{0}/{OPENER} {0}/sleeps.sh", dir.display()), alone)
}

#[test]
fn kernel_struct_fields_through_btf() {
    if !whistler_testkit::kernel_available("kernel_struct_fields_through_btf") {
        return;
    }
    // Casts, pointer chains (`->`), embedded char arrays read as strings, a tracepoint field
    // that points to a struct (`args->rqtp`), scratch variables holding struct pointers.
    let script = r#"
tracepoint:syscalls:sys_enter_clock_nanosleep
/((struct task_struct *)curtask)->real_parent->comm == "wbt-opener"/
{
  $t = (struct task_struct *)curtask;
  $ts = args->rqtp;
  printf("%s child of %s: %d.%03d s, own pid %d, group leader %d\n", $t->comm,
    $t->real_parent->comm, $ts->tv_sec, args->rqtp->tv_nsec / 1000000,
    $t->pid == tid, $t->group_leader->pid == pid);
  @sleeps[$t->comm] = count();
}
"#;
    let (command, _alone) = sleeper(&["0.25", "1.125"]);
    let out = ours(script, with_command(&command));
    assert_eq!(
        out,
        "Attaching 1 probe...\n\
         sleep child of wbt-opener: 0.250 s, own pid 1, group leader 1\n\
         sleep child of wbt-opener: 1.125 s, own pid 1, group leader 1\n\
         \n\n\
         @sleeps[sleep]: 2\n"
    );
    assert_same_as_theirs(&out, "kernel_struct_fields_through_btf", script, &command);
}

/// Tracepoint fields (`args.NAME`) of events whose record the kernel's BTF describes (`struct
/// trace_event_raw_EVENT`) are read at the running kernel's offsets: each read carries a CO-RE
/// field offset relocation against the record, as `deftracepoint`'s reads do. A `__data_loc`
/// string (`filename`), integers (`pid`, `prev_pid`) and a char array (`prev_comm`); the
/// syscall events, whose records have no struct of their own, keep the format file's offsets.
#[test]
fn tracepoint_args_read_through_btf_with_core_relocations() {
    if !whistler_testkit::kernel_available("tracepoint_args_read_through_btf_with_core_relocations")
    {
        return;
    }
    let script = format!(
        r#"tracepoint:sched:sched_process_exec /comm == "{OPENER}"/ {{
  printf("exec %s, pid %d, old pid %d\n", str(args->filename), args->pid == tid, args->old_pid == tid);
}}
tracepoint:sched:sched_switch /args->prev_comm == "{OPENER}"/ {{
  @switched[args->prev_comm, args->prev_pid == tid] = 1;
}}
"#
    );
    let object = compiled(&script);
    let relocated = relocated_members(&object.object.elf);
    for (record, member) in [
        ("trace_event_raw_sched_process_exec", "__data_loc_filename"),
        ("trace_event_raw_sched_process_exec", "pid"),
        ("trace_event_raw_sched_process_exec", "old_pid"),
        ("trace_event_raw_sched_switch", "prev_comm"),
        ("trace_event_raw_sched_switch", "prev_pid"),
    ] {
        let wanted = (record.to_string(), member.to_string());
        assert!(relocated.contains(&wanted), "{wanted:?} in {relocated:?}");
    }
    let syscall = compiled("tracepoint:syscalls:sys_enter_openat { @[args.dfd] = count(); }");
    assert_eq!(relocated_members(&syscall.object.elf), []);
    let (command, _alone) = sleeper(&["0.1", "0.1"]);
    let out = run(&object, with_command(&command));
    let program = command.split(' ').next().unwrap();
    assert_eq!(
        out,
        format!(
            "Attaching 2 probes...\n\
             exec {program}, pid 1, old pid 1\n\
             \n\n\
             @switched[{OPENER}, 1]: 1\n"
        )
    );
    assert_same_as_theirs(
        &out,
        "tracepoint_args_read_through_btf_with_core_relocations",
        &script,
        &command,
    );
}

/// Members of structs that fentry arguments point to (pointers the verifier knows by their BTF
/// type) are loaded directly, each with one load whose offset the loader relocates, and no
/// `probe_read_kernel`; pointers read that way stay such pointers (`path->dentry->d_name`).
/// This kernel cannot attach fentry programs: `vm_tools.rs` runs one in a VM.
#[test]
fn fentry_argument_members_are_loaded_directly() {
    use whistler_bpf::opcode::{class, BPF_CALL, BPF_JMP, BPF_LDX};
    if !whistler_testkit::kernel_available("fentry_argument_members_are_loaded_directly") {
        return;
    }
    let script = r#"fentry:vfs_open { printf("%s %d %d\n", str(args.path->dentry->d_name.name),
  args.path->dentry->d_name.len, args.file->f_flags); }"#;
    let object = compiled(script);
    let program = &object.object.spec.programs[0];
    let calls: Vec<i32> = (program.insns.iter())
        .filter(|i| i.code == BPF_JMP | BPF_CALL)
        .map(|i| i.imm)
        .collect();
    let probe_read_kernel = whistler_bpf::helpers::by_name("probe_read_kernel")
        .unwrap()
        .id as i32;
    assert!(!calls.contains(&probe_read_kernel), "{calls:?}");
    let loads: Vec<String> = (program.core_relocs.iter())
        .filter(|r| class(program.insns[r.insn_index].code) == BPF_LDX)
        .map(|r| r.value.subject_name())
        .collect();
    for member in ["path.dentry", "qstr.name", "qstr.len", "file.f_flags"] {
        assert!(loads.iter().any(|l| l == member), "{member} in {loads:?}");
    }
}

/// The (struct, member) of every CO-RE field offset relocation in the object `elf`.
fn relocated_members(elf: &[u8]) -> Vec<(String, String)> {
    use whistler_object::btf::Btf;
    let object = whistler_object::parse(elf).unwrap();
    let Some(btf) = object.btf.as_ref() else {
        return Vec::new();
    };
    let btf = Btf::from_bytes(btf).unwrap();
    let relocations = object.code_sections.iter().flat_map(|s| &s.core_relos);
    relocations
        .filter(|r| {
            whistler_bpf::CoreKind::from_u32(r.kind)
                == Some(whistler_bpf::CoreKind::FIELD_BYTE_OFFSET)
        })
        .map(|r| {
            let access = btf.str_at(r.access_str_off);
            let Some(("0", index)) = access.split_once(':') else {
                panic!("a member of the struct itself: {access}");
            };
            let member = &btf.members(r.type_id).unwrap()[index.parse::<usize>().unwrap()];
            (
                btf.name(r.type_id).to_string(),
                btf.member_name(member).to_string(),
            )
        })
        .collect()
}

#[test]
fn profile_and_software_cpu_clock_sample_every_cpu() {
    if !whistler_testkit::kernel_available("profile_and_software_cpu_clock_sample_every_cpu") {
        return;
    }
    // A busy child keeps a CPU sampled; each probe records that it fired, under its name.
    let script = r#"
profile:hz:997 { @[probe] = 1; @cpus = lhist(cpu, 0, 1024, 1024); }
software:cpu-clock:1000000 { @[probe] = 1; }
interval:ms:300 { exit(); }
"#;
    let mut busy = Command::new("/bin/sh")
        .arg("-c")
        .arg("while :; do :; done")
        .spawn()
        .unwrap();
    let out = ours(script, RunOptions::default());
    let _ = busy.kill();
    let _ = busy.wait();
    let bar = "@".repeat(52);
    let expected_head = "Attaching 3 probes...\n\n\n\
         @[profile:hz:997]: 1\n\
         @[software:cpu-clock:1000000]: 1\n\
         @cpus: \n";
    assert!(out.starts_with(expected_head), "{out}");
    let histogram = &out[expected_head.len()..];
    let count: &str = histogram
        .strip_prefix("[0, 1K)")
        .and_then(|rest| rest.trim_start().split(' ').next())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(count.parse::<u64>().unwrap() > 0, "{out}");
    assert!(histogram.ends_with(&format!("|{bar}|\n\n")), "{out}");
}

#[test]
fn ntop_and_bswap() {
    if !whistler_testkit::kernel_available("ntop_and_bswap") {
        return;
    }
    let script = r#"BEGIN {
  printf("%s %s %s\n", ntop(0x0100007f), ntop(2, 0x0101a8c0), ntop(0));
  @[ntop(0x0a0a0a0a)] = count();
  printf("%x %x\n", bswap((uint16)0x1234), bswap((uint32)0x12345678));
  exit();
}"#;
    let out = ours(script, RunOptions::default());
    assert_eq!(
        out,
        "Attaching 1 probe...\n127.0.0.1 192.168.1.1 0.0.0.0\n3412 78563412\n\n\n@[10.10.10.10]: 1\n"
    );
    if let Some(theirs) = theirs_with("ntop_and_bswap", &["-e", script]) {
        assert_eq!(out, theirs);
    }
}

#[test]
fn kernel_stacks_symbolized_as_bpftrace_prints_them() {
    if !whistler_testkit::kernel_available("kernel_stacks_symbolized_as_bpftrace_prints_them") {
        return;
    }
    let (_dir, opener, _alone) = opener();
    let script = format!(
        r#"tracepoint:syscalls:sys_enter_openat /comm == "{OPENER}"/ {{
  @[kstack] = count();
  @top[kstack(2)] = count();
  if (@seen == 0) {{ @seen = 1; printf("first:%s|\n", kstack(2)); }}
}}"#
    );
    let out = ours(&script, with_command(&opener));
    // One path into the syscall: every open has the same stack.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Attaching 1 probe...", "{out}");
    assert_eq!(lines[1], "first:", "{out}");
    let frame = |line: &str, indent: usize| {
        line.len() > indent
            && line[..indent].trim().is_empty()
            && !line[indent..].starts_with(' ')
            && line.contains('+')
    };
    assert!(frame(lines[2], 8) && frame(lines[3], 8), "{out}");
    assert_eq!(lines[4], "|", "{out}");
    let top = out.find("@top[\n").unwrap_or_else(|| panic!("{out}"));
    let top: Vec<&str> = out[top..].lines().collect();
    assert!(frame(top[1], 4) && frame(top[2], 4), "{out}");
    assert!(top[3].starts_with("]: "), "{out}");
    assert_eq!(top[1].trim(), lines[2].trim());
    assert!(out.contains("\n    do_syscall_64+"), "{out}");
    assert_same_as_theirs(
        &out,
        "kernel_stacks_symbolized_as_bpftrace_prints_them",
        &script,
        &opener,
    );
}

#[test]
fn join_prints_execve_arguments() {
    if !whistler_testkit::kernel_available("join_prints_execve_arguments") {
        return;
    }
    let script = r#"tracepoint:syscalls:sys_enter_execve /comm == "wbt-opener"/ {
  join(args->argv);
  join(args->argv, ",");
}"#;
    let (command, _alone) = sleeper(&["0.01", "0.02"]);
    let out = ours(script, with_command(&command));
    assert_eq!(
        out,
        "Attaching 1 probe...\nsleep 0.01\nsleep,0.01\nsleep 0.02\nsleep,0.02\n\n\n"
    );
    assert_same_as_theirs(&out, "join_prints_execve_arguments", script, &command);
}

#[test]
fn ahead_of_time_file_runs_without_compiling() {
    if !whistler_testkit::kernel_available("ahead_of_time_file_runs_without_compiling") {
        return;
    }
    let (dir, opener, _alone) = opener();
    let script = exact_script(&dir);
    let file = SourceFile::new("test.bt", script.as_str());
    let compiled =
        whistler_bpftrace::compile(&file, &Settings::default(), Default::default()).unwrap();
    let path = dir.join("script.wbt");
    std::fs::write(&path, whistler_bpftrace::aot::write(&compiled)).unwrap();
    drop(compiled);
    // What runs is only the file's object and plan.
    let program = whistler_bpftrace::aot::read(&std::fs::read(&path).unwrap()).unwrap();
    let stop = whistler_session::stop_on_ctrl_c().unwrap();
    let mut out = Vec::new();
    whistler_bpftrace::run_object(
        &program.elf,
        &program.plan,
        &with_command(&opener),
        &stop,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        ours(&script, with_command(&opener))
    );
}

#[test]
fn buf_prints_bytes_with_r() {
    if !whistler_testkit::kernel_available("buf_prints_bytes_with_r") {
        return;
    }
    let (dir, opener, _alone) = opener();
    let script = format!(
        r#"tracepoint:syscalls:sys_enter_openat /comm == "{OPENER}"/ {{
  printf("%r|%r|%s\n", buf(args->filename, 5), buf(args->filename, 0), str(args->filename, 3));
}}"#
    );
    let out = ours(&script, with_command(&opener));
    let d = dir.display().to_string();
    let first = format!("{}|", &d[..5]);
    assert!(out.starts_with("Attaching 1 probe...\n"), "{out}");
    assert!(out.contains(&format!("\n{first}|{}\n", &d[..3])), "{out}");
    assert_same_as_theirs(&out, "buf_prints_bytes_with_r", &script, &opener);
}

#[test]
fn strftime_prints_wall_clock_time() {
    if !whistler_testkit::kernel_available("strftime_prints_wall_clock_time") {
        return;
    }
    let script = r#"BEGIN { printf("%s|\n", strftime("%Y-%m-%d %H", nsecs)); @t[strftime("%Y", nsecs)] = count(); exit(); }"#;
    let date = |format: &str| {
        let out = Command::new("date").arg(format).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let before = date("+%Y-%m-%d %H");
    let out = ours(script, RunOptions::default());
    let after = date("+%Y-%m-%d %H");
    let year = &after[..4];
    let expected =
        |hour: &str| format!("Attaching 1 probe...\n{hour}|\n\n\n@t[{}]: 1\n", &hour[..4]);
    assert!(
        out == expected(&before) || out == expected(&after),
        "{out} (it is {after}, year {year})"
    );
    if let Some(theirs) = theirs_with("strftime_prints_wall_clock_time", &["-e", script]) {
        let later = date("+%Y-%m-%d %H");
        assert!(
            theirs == expected(&before) || theirs == expected(&later),
            "{theirs}"
        );
    }
}

#[test]
fn for_walks_a_map_entry_by_entry() {
    if !whistler_testkit::kernel_available("for_walks_a_map_entry_by_entry") {
        return;
    }
    // One entry where the order of a hash map's walk would show; sums where several are.
    let script = r#"BEGIN {
  @n["one", 1] = 10;
  @c[7] = count(); @c[7] = count(); @c[8] = count();
  @name["k"] = "value";
  $total = 5; $visits = 0;
  for ($kv : @n) { printf("%s %d -> %d\n", $kv.0.0, $kv.0.1, $kv.1); }
  for ($kv : @c) { $total += $kv.0 * $kv.1; $visits++; $inner = 1; }
  for ($kv : @name) { printf("%s=%s in %s\n", $kv.0, $kv.1, probe); }
  printf("total %d visits %d\n", $total, $visits);
  $n = 0; $skipped = 0; $walks = 0;
  for ($kv : @c) { $n++; if ($kv.0 == 7) { $skipped++; continue; } $n += 10; }
  for ($kv : @c) { $walks++; break; }
  printf("n %d skipped %d walks %d\n", $n, $skipped, $walks);
  exit();
}"#;
    let out = ours(script, RunOptions::default());
    assert_eq!(
        out,
        "Attaching 1 probe...\n\
         one 1 -> 10\n\
         k=value in BEGIN\n\
         total 27 visits 2\n\
         n 12 skipped 1 walks 1\n\
         \n\n\
         @c[8]: 1\n\
         @c[7]: 2\n\
         @n[one, 1]: 10\n\
         @name[k]: value\n"
    );
}

#[test]
fn bswap_of_a_literal_and_printf_lengths_as_bpftrace() {
    if !whistler_testkit::kernel_available("bswap_of_a_literal_and_printf_lengths_as_bpftrace") {
        return;
    }
    // A literal is an int64: bswap swaps 8 bytes, and `%x` prints the low 32 bits of it.
    let script = r#"BEGIN {
  printf("%x %x %lx %llx\n", bswap(0x1234), bswap(0x123456789), bswap(0x1234), bswap((uint32)0x1234));
  printf("%d %u %ld %hd %hhx %5d|\n", 0x100000005, -1, 0x100000005, 0x12345, 0x1234, 0x1fffffffe);
  exit();
}"#;
    let out = ours(script, RunOptions::default());
    assert_eq!(
        out,
        "Attaching 1 probe...\n\
         0 1000000 3412000000000000 34120000\n\
         5 4294967295 4294967301 9029 34    -2|\n\n\n"
    );
    if let Some(theirs) = theirs_with(
        "bswap_of_a_literal_and_printf_lengths_as_bpftrace",
        &["-e", script],
    ) {
        assert_eq!(out, theirs);
    }
}

/// A C program with symbols and frame pointers whose `main` calls `middle`, which calls
/// `leaf`, then stays alive a moment so that its maps can be read; None without a C compiler.
fn program_with_symbols(test: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("wbt-ustack-{}", whistler_testkit::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("frames.c");
    std::fs::write(
        &source,
        "#include <unistd.h>\n\
         __attribute__((noinline)) int leaf(int x) { return x * 3 + 1; }\n\
         __attribute__((noinline)) int middle(int x) { return leaf(x) + 2; }\n\
         int main(void) { int r = middle(4); usleep(300000); return r == 15 ? 0 : 1; }\n",
    )
    .unwrap();
    let binary = dir.join("frames");
    let built = Command::new("cc")
        .args(["-O0", "-g", "-fno-omit-frame-pointer", "-o"])
        .arg(&binary)
        .arg(&source)
        .status();
    match built {
        Ok(status) if status.success() => Some(binary),
        _ => {
            whistler_testkit::skip(test, "needs a C compiler (cc)");
            None
        }
    }
}

#[test]
fn software_events_count_the_traced_commands_faults_and_switches() {
    if !whistler_testkit::kernel_available(
        "software_events_count_the_traced_commands_faults_and_switches",
    ) {
        return;
    }
    // The shell faults its pages in as it starts and waits for each external command (a
    // context switch). Every page fault the kernel reports as an event ends as a minor or a
    // major one; sampled every 1 event, the counts must agree exactly. (Plain sums: the
    // traced task faults on one CPU at a time, and bpftrace compares no count() maps.)
    let (dir, _, _alone) = opener();
    std::fs::write(dir.join("runs.sh"), "/bin/true\n/bin/true\n").unwrap();
    let command = format!("{0}/{OPENER} {0}/runs.sh", dir.display());
    let script = format!(
        r#"
software:page-faults:1 /comm == "{OPENER}"/ {{ @pf = @pf + 1; }}
software:minor-faults:1 /comm == "{OPENER}"/ {{ @minor = @minor + 1; }}
software:major-faults:1 /comm == "{OPENER}"/ {{ @major = @major + 1; }}
software:context-switches:1 /comm == "{OPENER}"/ {{ @cs = @cs + 1; }}
END {{
  printf("faults %d, each minor or major %d, switches while waiting %d\n",
         @pf > 10, @pf == @minor + @major, @cs >= 2);
  clear(@pf); clear(@minor); clear(@major); clear(@cs);
}}
"#
    );
    let out = ours(&script, with_command(&command));
    assert_eq!(
        out,
        "Attaching 5 probes...\n\
         faults 1, each minor or major 1, switches while waiting 1\n\n\n\n\n\n\n"
    );
    assert_same_as_theirs(
        &out,
        "software_events_count_the_traced_commands_faults_and_switches",
        &script,
        &command,
    );
}

#[test]
fn hardware_events_sample_or_say_the_machine_has_no_counters() {
    if !whistler_testkit::kernel_available(
        "hardware_events_sample_or_say_the_machine_has_no_counters",
    ) {
        return;
    }
    // A core PMU shows in sysfs as `cpu` (x86), `cpu_core`/`cpu_atom` (hybrid x86) or
    // `armv8_pmuv3*`; without one, perf_event_open has no PERF_TYPE_HARDWARE event to give.
    let has_pmu = std::fs::read_dir("/sys/bus/event_source/devices")
        .unwrap()
        .flatten()
        .any(|d| {
            let name = d.file_name().to_string_lossy().into_owned();
            name == "cpu" || name.starts_with("cpu_") || name.starts_with("armv8_pmuv3")
        });
    let script = "hardware:cycles:100000 { @[probe] = 1; }\ninterval:ms:300 { exit(); }\n";
    let file = SourceFile::new("test.bt", script);
    match whistler_bpftrace::compile(&file, &Settings::default(), Default::default()) {
        Ok(compiled) => {
            assert!(
                has_pmu,
                "hardware:cycles compiled on a machine without a PMU"
            );
            let mut busy = Command::new("/bin/sh")
                .arg("-c")
                .arg("while :; do :; done")
                .spawn()
                .unwrap();
            let stop = whistler_session::stop_on_ctrl_c().unwrap();
            let mut out = Vec::new();
            let result = whistler_bpftrace::run(&compiled, &RunOptions::default(), &stop, &mut out);
            let _ = busy.kill();
            let _ = busy.wait();
            result.unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "Attaching 2 probes...\n\n\n@[hardware:cycles:100000]: 1\n"
            );
        }
        Err(diags) => {
            assert!(!has_pmu, "{diags:?}");
            let rendered: Vec<String> = diags
                .iter()
                .map(|d| whistler_syntax::render(&file, d))
                .collect();
            assert_eq!(rendered.len(), 1, "{rendered:?}");
            assert!(
                rendered[0].starts_with(
                    "test.bt:1:1: error: cannot sample `hardware:cycles:100000`: this machine \
                     has no hardware counter for cpu-cycles (perf_event_open of a \
                     PERF_TYPE_HARDWARE event failed: "
                ),
                "{}",
                rendered[0]
            );
        }
    }
}

/// Stack addresses (which differ from run to run) as `ADDR`.
fn without_addresses(text: &str) -> String {
    let words = text
        .split('\n')
        .map(|line| match line.trim().strip_prefix("0x") {
            Some(hex) if hex.chars().all(|c| c.is_ascii_hexdigit()) => "    ADDR".to_string(),
            _ => line.to_string(),
        });
    words.collect::<Vec<_>>().join("\n")
}

#[test]
fn ustack_symbolized_as_debians_bpftrace() {
    const TEST: &str = "ustack_symbolized_as_debians_bpftrace";
    if !whistler_testkit::kernel_available(TEST) {
        return;
    }
    let Some(binary) = program_with_symbols(TEST) else {
        return;
    };
    let bin = binary.display();
    let script =
        format!(r#"uprobe:{bin}:leaf {{ printf("%s|\n", ustack(3)); @[ustack(3)] = count(); }}"#);
    let out = ours(&script, with_command(&bin.to_string()));
    // Printed while the process runs: symbols; the map at exit, when it is gone: addresses.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        ["Attaching 1 probe...", "", "        leaf+0"],
        "{out}"
    );
    assert!(lines[3].starts_with("        middle+"), "{out}");
    assert!(lines[4].starts_with("        main+"), "{out}");
    assert_eq!(
        without_addresses(&lines[5..].join("\n")),
        "|\n\n\n@[\n    ADDR\n    ADDR\n    ADDR\n]: 1",
        "{out}"
    );
    if let Some(theirs) = theirs(TEST, &script, &bin.to_string()) {
        assert_eq!(without_addresses(&out), without_addresses(&theirs));
    }
}

/// The byte offset of member `path` (`se.vruntime`: through embedded structs) of struct
/// `name`, read from `bpftool btf dump`'s listing of the kernel's BTF (not our BTF reader).
fn bpftool_offset(listing: &str, name: &str, path: &[&str]) -> u64 {
    let mut owner = format!("STRUCT '{name}' size=");
    let mut offset = 0;
    for member in path {
        let start = listing.find(&owner).unwrap_or_else(|| panic!("no {owner}"));
        let fields = listing[start..].lines().skip(1);
        let line = fields
            .take_while(|l| l.starts_with('\t'))
            .find(|l| l.trim_start().starts_with(&format!("'{member}' ")))
            .unwrap_or_else(|| panic!("{name} has no member {member}"));
        let number = |key: &str| -> u64 {
            let rest = &line[line.find(key).unwrap() + key.len()..];
            rest.split_whitespace().next().unwrap().parse().unwrap()
        };
        offset += number("bits_offset=") / 8;
        // The member's type, to find the next member in: `[ID] STRUCT 'name'`.
        let id = number("type_id=");
        let type_line = listing
            .lines()
            .find(|l| l.starts_with(&format!("[{id}] ")))
            .unwrap();
        owner = match type_line.split('\'').nth(1) {
            Some(n) => format!("STRUCT '{n}' size="),
            None => String::new(),
        };
    }
    offset
}

#[test]
fn offsetof_kernel_structs_from_btf() {
    if !whistler_testkit::kernel_available("offsetof_kernel_structs_from_btf") {
        return;
    }
    let Ok(dump) = Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "raw",
        ])
        .output()
    else {
        eprintln!("skipped: no bpftool");
        return;
    };
    let listing = String::from_utf8(dump.stdout).unwrap();
    let script = r#"BEGIN {
  printf("%d %d %d %d\n", offsetof(struct task_struct, real_parent),
    offsetof(task_struct, pid), offsetof(struct task_struct, se.vruntime),
    offsetof(struct task_struct, comm) + sizeof(uint32));
  exit();
}"#;
    let out = ours(script, RunOptions::default());
    let expected = format!(
        "Attaching 1 probe...\n{} {} {} {}\n\n\n",
        bpftool_offset(&listing, "task_struct", &["real_parent"]),
        bpftool_offset(&listing, "task_struct", &["pid"]),
        bpftool_offset(&listing, "task_struct", &["se", "vruntime"]),
        bpftool_offset(&listing, "task_struct", &["comm"]) + 4,
    );
    assert_eq!(out, expected);
}

/// Structs declared in a script, laid out as C lays them out: checked against the C compiler.
const DECLARED_STRUCTS: &str = "struct inner { char c; int i; };
struct outer { char tag; struct inner in; char name[5]; long *p, n; unsigned short s; };
union either { char c[3]; long l; };
";

#[test]
fn offsetof_structs_declared_in_the_script_as_c_lays_them_out() {
    if !whistler_testkit::kernel_available("offsetof_structs_declared_in_the_script") {
        return;
    }
    let script = format!(
        r#"{DECLARED_STRUCTS}
BEGIN {{
  printf("%d %d %d %d %d %d\n", offsetof(struct outer, in), offsetof(struct outer, in.i),
    offsetof(outer, name), offsetof(struct outer, n), offsetof(struct outer, s),
    offsetof(union either, l));
  exit();
}}"#
    );
    let out = ours(&script, RunOptions::default());
    let dir = std::env::temp_dir().join(format!("wbt-c-{}", whistler_testkit::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let program = format!(
        "#include <stdio.h>\n#include <stddef.h>\n{DECLARED_STRUCTS}
int main(void) {{
  printf(\"%zu %zu %zu %zu %zu %zu\\n\", offsetof(struct outer, in),
    offsetof(struct outer, in.i), offsetof(struct outer, name), offsetof(struct outer, n),
    offsetof(struct outer, s), offsetof(union either, l));
  return 0;
}}"
    );
    std::fs::write(dir.join("layout.c"), program).unwrap();
    let compiled = Command::new("cc")
        .arg("-o")
        .arg(dir.join("layout"))
        .arg(dir.join("layout.c"))
        .status();
    if !compiled.is_ok_and(|s| s.success()) {
        eprintln!("skipped the comparison: no C compiler");
        return;
    }
    let c = Command::new(dir.join("layout")).output().unwrap();
    let c = String::from_utf8(c.stdout).unwrap();
    assert_eq!(out, format!("Attaching 1 probe...\n{c}\n\n"));
}

#[test]
fn user_functions_inlined_with_their_own_variables() {
    if !whistler_testkit::kernel_available("user_functions_inlined_with_their_own_variables") {
        return;
    }
    // Arguments bound to the function's own `$a` (the probe's `$a` keeps its value), an early
    // `return` in a loop, a function calling another, a void function, narrowing parameters.
    let script = r#"
fn add($a : int64, $b : int64) : int64 { return $a + $b; }
fn clamp($x : int64, $hi : int64) : int64 {
  if ($x > $hi) { return $hi; }
  return $x;
}
fn twice($x : int64) : int64 { $y = add($x, $x); return $y; }
fn hello($n : uint8) : void { printf("hello %d\n", $n); return; printf("never\n"); }
BEGIN {
  $a = 5;
  $sum = 0;
  $i = 0;
  while ($i < 3) { $sum = $sum + clamp($i * 5, 7); $i++; }
  printf("%d %d %d %d %d %d\n", add(2, 3), clamp(10, 7), clamp(3, 7), twice(21), $a, $sum);
  hello(257);
  exit();
}
"#;
    let out = ours(script, RunOptions::default());
    assert_eq!(out, "Attaching 1 probe...\n5 7 3 42 5 12\nhello 1\n\n\n");
}

#[test]
fn user_functions_in_a_tracepoints_predicate_and_map_key() {
    if !whistler_testkit::kernel_available("user_functions_in_a_tracepoints_predicate_and_map_key")
    {
        return;
    }
    let (dir, command, _alone) = opener();
    let d = dir.display();
    let script = format!(
        r#"
fn slot($n : int64) : int64 {{ return $n * 10 + 1; }}
fn from_cwd($dfd : int32) : int64 {{ return $dfd == -100; }}
tracepoint:syscalls:sys_enter_openat /comm == "{OPENER}" && from_cwd(args->dfd)/ {{
  $f = str(args->filename);
  if ($f == "{d}/b") {{ @[slot(2)] = count(); }}
  else if ($f == "{d}/a") {{ @[slot(1)] = count(); }}
}}
"#
    );
    let out = ours(&script, with_command(&command));
    assert_eq!(out, "Attaching 1 probe...\n\n\n@[11]: 1\n@[21]: 2\n");
}
