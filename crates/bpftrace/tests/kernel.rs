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
    let file = SourceFile::new("test.bt", script);
    let compiled = whistler_bpftrace::compile(&file, &Settings::default(), Default::default())
        .unwrap_or_else(|d| {
            panic!(
                "{}",
                d.iter()
                    .map(|d| whistler_syntax::render(&file, d))
                    .collect::<String>()
            )
        });
    let stop = whistler_session::stop_on_ctrl_c().unwrap();
    let mut out = Vec::new();
    whistler_bpftrace::run(&compiled, &options, &stop, &mut out).unwrap();
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
    if let Some(theirs) = theirs("kernel_struct_fields_through_btf", script, &command) {
        assert_eq!(out, theirs);
    }
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
    if let Some(theirs) = theirs(
        "kernel_stacks_symbolized_as_bpftrace_prints_them",
        &script,
        &opener,
    ) {
        assert_eq!(out, theirs);
    }
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
    if let Some(theirs) = theirs("join_prints_execve_arguments", script, &command) {
        assert_eq!(out, theirs);
    }
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
    if let Some(theirs) = theirs("buf_prints_bytes_with_r", &script, &opener) {
        assert_eq!(out, theirs);
    }
}

#[test]
fn strftime_prints_wall_clock_time() {
    if !whistler_testkit::kernel_available("strftime_prints_wall_clock_time") {
        return;
    }
    let script = r#"BEGIN { printf("%s|\n", strftime("%Y-%m-%d %H", nsecs)); @t[strftime("%Y", nsecs)] = count(); exit(); }"#;
    let date = |format: &str| {
        let out = Command::new("date").arg("-u").arg(format).output().unwrap();
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
        if std::env::var("TZ").is_err() && date("+%z") == "+0000" {
            assert!(
                theirs == expected(&before) || theirs == expected(&after),
                "{theirs}"
            );
        }
    }
}
