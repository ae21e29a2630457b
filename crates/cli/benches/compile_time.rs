//! Compile time against clang, written to the "Compile time" section of `BENCHMARKS.md`:
//! - whole process: `whistler compile` (this crate's binary, optimized as benches are) on each
//!   program of the C twins (`crates/whistler/benches/size`), and `clang -O2 -g -target bpf
//!   -c` on its C twin, both started as a user would, in the same run;
//! - in process, what `session!` does for each session: the kernel macro host built, the Lisp
//!   compiled (`whistler_kernel_host::macro_host` + `whistler_compiler::compile_in`);
//! - growth with program size: generated programs of 1k to 8k forms, compiled in process.
//!
//! Each time is the fastest of several runs (the machine may be shared). Reported, never
//! asserted.
//!
//! `cargo bench -p whistler-cli --bench compile_time`

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use whistler_syntax::SourceFile;
use whistler_testkit::benchmarks::{fastest, median};

/// The BPF instruction-set version both compilers target.
const CPU: &str = "v3";

/// Runs of each whole-process compile (the fastest counts).
const PROCESS_RUNS: usize = 20;
/// Runs of each clang compile (the fastest counts).
const CLANG_RUNS: usize = 5;
/// Runs of each in-process compile (the fastest counts).
const IN_PROCESS_RUNS: usize = 50;
/// Program sizes of the growth table, in forms.
const SIZES: [usize; 4] = [1000, 2000, 4000, 8000];
/// Runs of each growth size after its first (the fastest counts): every size is then measured
/// the same way, with the process heap already grown to what that size needs.
const GROWTH_RUNS: usize = 5;

fn twins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../whistler/benches/size")
}

/// The C twins: (name, Lisp file, C file), by name.
fn twins() -> Vec<(String, PathBuf, PathBuf)> {
    let mut twins: Vec<(String, PathBuf, PathBuf)> = std::fs::read_dir(twins_dir())
        .expect("the C twins")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "lisp"))
        .map(|lisp| {
            let name = lisp.file_stem().unwrap().to_string_lossy().into_owned();
            let c = lisp.with_extension("c");
            (name, lisp, c)
        })
        .filter(|(_, _, c)| c.exists())
        .collect();
    twins.sort();
    twins
}

fn run(command: &mut Command) {
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the compiler starts");
    assert!(status.success(), "{command:?} failed");
}

/// The process alone: `whistler --version` starts, parses its arguments and exits, compiling
/// nothing.
fn whistler_start() {
    run(Command::new(env!("CARGO_BIN_EXE_whistler")).arg("--version"));
}

fn whistler_compile(lisp: &Path, out: &Path) {
    run(Command::new(env!("CARGO_BIN_EXE_whistler"))
        .arg("compile")
        .arg(lisp)
        .args(["--cpu", CPU, "-o"])
        .arg(out));
}

fn clang_compile(c: &Path, out: &Path) {
    run(Command::new("clang")
        .args(["-O2", "-g", "-target", "bpf", &format!("-mcpu={CPU}")])
        .args(["-I/usr/include/x86_64-linux-gnu", "-c"])
        .arg(c)
        .arg("-o")
        .arg(out));
}

fn clang_available() -> bool {
    Command::new("clang")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What `session!` spends on one session: the kernel macro host, then the compile.
fn session_expansion(file: &SourceFile) {
    let mut host = whistler_kernel_host::macro_host();
    let compiled = whistler_compiler::compile_in(file, &mut host);
    assert!(compiled.is_ok(), "{}: {:?}", file.name, compiled.err());
}

/// A program of `forms` forms in one XDP program: map reads, comparisons and updates.
fn generated_program(forms: usize) -> SourceFile {
    let mut text = String::from(
        "(defmap m :type :array :key-size 4 :value-size 8 :max-entries 64)\n\
         (defprog p (:type :xdp)\n  (let ((a 0))\n",
    );
    for i in 0..forms {
        writeln!(
            text,
            "    (when (> (getmap m {}) {i}) (setf a (+ a {i})))",
            i % 64
        )
        .unwrap();
    }
    text += "    a))\n";
    SourceFile::new(format!("generated-{forms}.lisp"), text)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let out_dir = std::env::temp_dir().join(format!("whistler-ctime-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let clang = clang_available();
    whistler_start(); // warms the page cache
    let start = ms(fastest(PROCESS_RUNS * 5, whistler_start));
    let mut report = format!(
        "# Compile time: whistler against clang -O2\n\n\
         Written by `cargo bench -p whistler-cli --bench compile_time`. Each program of the C \
         twins (`crates/whistler/benches/size`): *whistler*, the whole `whistler compile` \
         process (the optimized binary, started as a user would); *clang*, `clang -O2 -g \
         -target bpf -mcpu={CPU} -c` of its C twin, in the same run; *session!*, what the \
         `session!` macro spends on one session, in process (the kernel macro host built, \
         then the compile): the work itself, without starting a process. Each time is the \
         fastest of several runs, in milliseconds. An existing output file is overwritten (each \
         run writes the same one), as when a user rebuilds.\n\n\
         | program | whistler | clang | clang / whistler | session! |\n\
         |---|---:|---:|---:|---:|\n"
    );
    let (mut ours_all, mut clang_all, mut session_all) = (Vec::new(), Vec::new(), Vec::new());
    for (name, lisp, c) in twins() {
        let ours_out = out_dir.join(format!("{name}.whistler.o"));
        whistler_compile(&lisp, &ours_out); // warms the page cache
        let ours = ms(fastest(PROCESS_RUNS, || whistler_compile(&lisp, &ours_out)));
        let clang_ms = clang.then(|| {
            let out = out_dir.join(format!("{name}.clang.o"));
            clang_compile(&c, &out);
            ms(fastest(CLANG_RUNS, || clang_compile(&c, &out)))
        });
        let text = std::fs::read_to_string(&lisp).unwrap();
        let file = SourceFile::new(format!("{name}.lisp"), text);
        let session = ms(fastest(IN_PROCESS_RUNS, || session_expansion(&file)));
        let (clang_cell, ratio) = match clang_ms {
            Some(c) => (format!("{c:.2}"), format!("{:.0}x", c / ours)),
            None => ("-".into(), "-".into()),
        };
        writeln!(
            report,
            "| {name} | {ours:.2} | {clang_cell} | {ratio} | {session:.2} |"
        )
        .unwrap();
        ours_all.push(ours);
        clang_all.extend(clang_ms);
        session_all.push(session);
    }
    let clang_median = match clang_all.is_empty() {
        true => "- (clang is not installed)".to_string(),
        false => format!("{:.2} ms", median(clang_all)),
    };
    writeln!(
        report,
        "\nMedians over {} programs: whistler {:.2} ms, clang {clang_median}, session! {:.2} ms \
         per session.",
        ours_all.len(),
        median(ours_all),
        median(session_all),
    )
    .unwrap();
    writeln!(
        report,
        "\nProcess start: `whistler --version` (the process started, its arguments parsed, \
         nothing compiled) takes {start:.2} ms, the fastest of {} runs: of the whole-process \
         times above, that much is starting a process (exec, page faults, the C and Rust \
         runtimes' start) and the rest is the compile and writing the object.",
        PROCESS_RUNS * 5
    )
    .unwrap();
    report += "\nGrowth with program size: one XDP program of N forms `(when (> (getmap m K) I) \
               (setf a (+ a I)))`, compiled in process with a fresh macro host, sizes in \
               increasing order. The first compile of a size also grows the process heap (page \
               faults); the fastest of the runs after it is the compiler's own time.\n\n\
               | forms | first compile ms | fastest ms | ms per 1k forms (fastest) |\n\
               |---:|---:|---:|---:|\n";
    for forms in SIZES {
        let file = generated_program(forms);
        let first = ms(fastest(1, || session_expansion(&file)));
        let time = ms(fastest(GROWTH_RUNS, || session_expansion(&file)));
        writeln!(
            report,
            "| {forms} | {first:.1} | {time:.1} | {:.2} |",
            time * 1000.0 / forms as f64
        )
        .unwrap();
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load = load.split_whitespace().next().unwrap_or("?").to_string();
        writeln!(
            report,
            "\nLoad average when the run ended: {load} (on {} CPUs): whole-process times are \
             wall-clock, process start included.",
            std::thread::available_parallelism().map_or(1, usize::from)
        )
        .unwrap();
    }
    print!("{report}");
    whistler_testkit::benchmarks::write_section(&report).unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
}
