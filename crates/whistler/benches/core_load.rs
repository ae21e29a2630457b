//! The first load of an object in a process, ours against libbpf's, on the same objects: the
//! exec_parents example (CO-RE: `task_struct` read through relocations, so the loader reads the
//! kernel's BTF) as our compiler writes it and as clang writes its C twin
//! (`benches/core_load/exec_parents.c`), and the xdp_count example (no CO-RE) with its twin
//! (`benches/c/xdp_count.c`). Every object is loaded by both loaders.
//!
//! Each measurement is a fresh process, so each load is the first of its process (nothing
//! cached): libbpf's is `benches/core_load/libbpf_load.c` (`bpf_object__open_file` and
//! `bpf_object__load`, built here with `cc -lbpf`), ours is this bench run again as a child
//! (`WHISTLER_FIRST_LOAD=OBJECT`) timing `std::fs::read` and `Object::load`. Both time only the
//! load, on the monotonic clock; the median of [`RUNS`] is reported.
//!
//! Needs root (CAP_BPF), clang and libbpf-dev; writes its section of `BENCHMARKS.md`.
//! `cargo bench -p whistler --bench core_load`

mod common;

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{clang_once, crate_dir, session_lisp, CPU};
use whistler_loader::{LoadOptions, Object};
use whistler_syntax::SourceFile;
use whistler_testkit::benchmarks::{build_with_libbpf, libbpf_version, median, stdout_of};

const RUNS: usize = 21;
const CHILD: &str = "WHISTLER_FIRST_LOAD";
/// Set in the child: load with the kernel's BTF read from the same sysfs file under another
/// path, which the loader reads instead of mapping (what it does on kernels before 6.16).
const READ_BTF: &str = "WHISTLER_FIRST_LOAD_READ_BTF";
const VMLINUX_BY_ANOTHER_PATH: &str = "/proc/self/root/sys/kernel/btf/vmlinux";

fn main() {
    if let Some(object) = std::env::var_os(CHILD) {
        load_once(Path::new(&object));
        return;
    }
    if !whistler_testkit::kernel_available("core_load bench") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("whistler-core-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let libbpf = build_libbpf_loader(&dir);
    let objects = [
        ("exec_parents", "whistler", ours(&dir, "exec_parents", true)),
        (
            "exec_parents",
            "clang",
            clangs(&dir, "core_load/exec_parents"),
        ),
        ("xdp_count", "whistler", ours(&dir, "xdp_count", false)),
        ("xdp_count", "clang", clangs(&dir, "c/xdp_count")),
    ];
    let mut report = format!(
        "# CO-RE first load: whistler's loader against libbpf\n\n\
         Written by `cargo bench -p whistler --bench core_load`. The first load of an object in \
         a fresh process (median of {RUNS} processes each), libbpf {} (`bpf_object__open_file` \
         + `bpf_object__load`) against ours (`std::fs::read` + `Object::load`), both loading \
         the same objects: the exec_parents example (CO-RE: reads `task_struct` through \
         relocations, so the loader reads `/sys/kernel/btf/vmlinux`) as our compiler and as \
         clang write it, and the xdp_count example (no CO-RE) likewise. Our loader maps the \
         kernel's BTF where the kernel allows it (Linux 6.16 and later; before, it reads it as \
         libbpf 1.1 does), indexes where each type starts and decodes only the types the \
         relocations reach; this libbpf reads the whole file and checks every type.\n\n\
         The last two columns load with the BTF read rather than mapped (the same sysfs file \
         named `/proc/self/root/sys/kernel/btf/vmlinux`, which the loader reads), as on older \
         kernels.\n\n\
         | object | written by | CO-RE relocations | libbpf | whistler | whistler/libbpf | whistler, BTF read | whistler, BTF read/libbpf |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
        libbpf_version(),
    );
    for (name, writer, path) in &objects {
        let elf = std::fs::read(path).unwrap();
        let parsed = whistler_object::parse(&elf).unwrap();
        let relocations: usize = parsed
            .code_sections
            .iter()
            .map(|s| s.core_relos.len())
            .sum();
        // One discarded round warms the page cache for both binaries and the object.
        run_libbpf(&libbpf, path);
        run_ours(path, false);
        let (mut theirs, mut ours, mut ours_read) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            theirs.push(run_libbpf(&libbpf, path));
            ours.push(run_ours(path, false));
            ours_read.push(run_ours(path, true));
        }
        let (theirs, ours, ours_read) = (median(theirs), median(ours), median(ours_read));
        writeln!(
            report,
            "| {name} | {writer} | {relocations} | {} | {} | {:.2} | {} | {:.2} |",
            millis(theirs),
            millis(ours),
            ours / theirs,
            millis(ours_read),
            ours_read / theirs,
        )
        .unwrap();
    }
    print!("{report}");
    whistler_testkit::benchmarks::write_section(&report).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child: one load, its nanoseconds on stdout.
fn load_once(path: &Path) {
    let options = match std::env::var_os(READ_BTF) {
        Some(_) => LoadOptions::default().kernel_btf(VMLINUX_BY_ANOTHER_PATH),
        None => LoadOptions::default(),
    };
    let start = Instant::now();
    let elf = std::fs::read(path).unwrap();
    let object = Object::load(&elf, &options);
    let elapsed = start.elapsed();
    if let Err(e) = object {
        panic!("{} does not load: {e}", path.display());
    }
    println!("{}", elapsed.as_nanos());
}

fn millis(nanos: f64) -> String {
    format!("{:.2} ms", nanos / 1e6)
}

fn nanos(text: String) -> f64 {
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number of nanoseconds: {text:?}"))
}

fn run_libbpf(loader: &Path, object: &Path) -> f64 {
    nanos(stdout_of(Command::new(loader).arg(object)))
}

fn run_ours(object: &Path, read_btf: bool) -> f64 {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.env(CHILD, object);
    if read_btf {
        child.env(READ_BTF, "1");
    }
    nanos(stdout_of(&mut child))
}

/// Our object for an example's `session!` Lisp, compiled with the macro host of this machine's
/// kernel when it reads kernel types.
fn ours(dir: &Path, example: &str, kernel: bool) -> PathBuf {
    let file = SourceFile::new(format!("{example}.lisp"), session_lisp(example));
    let options = whistler_compiler::Options {
        cpu: CPU.parse().expect("a BPF cpu"),
        ..Default::default()
    };
    let mut host = if kernel {
        whistler_kernel_host::macro_host()
    } else {
        whistler_compiler::lisp_host::standard_interp()
    };
    let compiled = whistler_compiler::compile_in_with(&file, options, &mut host)
        .unwrap_or_else(|e| panic!("{example}: does not compile: {e:?}"));
    let out = dir.join(format!("{example}.whistler.o"));
    std::fs::write(&out, compiled.elf).unwrap();
    out
}

/// Clang's object for `benches/NAME.c`.
fn clangs(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(format!("{}.clang.o", name.replace('/', "_")));
    clang_once(&crate_dir().join("benches").join(format!("{name}.c")), &out);
    out
}

fn build_libbpf_loader(dir: &Path) -> PathBuf {
    let out = dir.join("libbpf_load");
    build_with_libbpf(&crate_dir().join("benches/core_load/libbpf_load.c"), &out);
    out
}
