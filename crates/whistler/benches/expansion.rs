//! What `session!` costs at build time: the compiler run on each example's Lisp, which is the
//! bulk of the macro's expansion (the token rebuild before it is linear and small). For
//! comparison, the same run prints how long `clang -O2 -target bpf -c` takes on equivalent C
//! programs (`benches/c/`), as a ratio. Reported, never asserted.
//!
//! `cargo bench -p whistler --bench expansion`

mod common;

use common::{clang_available, clang_once, crate_dir, session_lisp};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use whistler_syntax::SourceFile;

const EXAMPLES: [&str; 4] = ["cgroup_count", "exec_trace", "uprobe_count", "xdp_count"];

fn sources() -> &'static Vec<(&'static str, SourceFile)> {
    static SOURCES: OnceLock<Vec<(&'static str, SourceFile)>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        EXAMPLES
            .iter()
            .map(|&name| {
                let file = SourceFile::new(format!("{name}.rs"), session_lisp(name));
                if let Err(errors) = whistler_compiler::compile(&file) {
                    panic!("{name}: the example's Lisp does not compile: {errors:?}");
                }
                (name, file)
            })
            .collect()
    })
}

fn source(name: &str) -> &'static SourceFile {
    &sources().iter().find(|(n, _)| *n == name).unwrap().1
}

#[divan::bench(args = EXAMPLES)]
fn compile_example(bencher: divan::Bencher, example: &str) {
    let file = source(example);
    bencher.bench(|| whistler_compiler::compile(divan::black_box(file)).is_ok());
}

/// A program of `forms` `when`/`getmap` forms: compile time should grow linearly with it.
fn long_program(forms: usize) -> SourceFile {
    let mut text = String::from(
        "(defmap m :type :array :key-size 4 :value-size 8 :max-entries 64)\n(defprog p (:type :xdp)\n (let ((a 0))\n",
    );
    for i in 0..forms {
        text += &format!(
            "  (when (> (getmap m {}) {i}) (setf a (+ a {i})))\n",
            i % 64
        );
    }
    text += "  a))\n";
    SourceFile::new("long.lisp", text)
}

#[divan::bench(args = [1000, 2000, 4000])]
fn compile_long_program(bencher: divan::Bencher, forms: usize) {
    let file = long_program(forms);
    bencher.bench(|| whistler_compiler::compile(divan::black_box(&file)).is_ok());
}

/// The evaluator with the standard macro library loaded: the fixed cost of every expansion.
#[divan::bench]
fn load_standard_macro_library() -> whistler_lisp::Interp {
    whistler_compiler::lisp_host::standard_interp()
}

/// Mean time of `run` over `rounds` calls.
fn mean(rounds: u32, mut run: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..rounds {
        run();
    }
    start.elapsed() / rounds
}

/// Prints, per example with a C twin, the compiler's in-process time, clang's whole-process
/// time, and their ratio.
fn compare_with_clang() {
    if !clang_available() {
        println!("clang is not installed: no comparison");
        return;
    }
    let out_dir: PathBuf =
        std::env::temp_dir().join(format!("whistler-bench-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    println!();
    println!("example        whistler (in the macro)   clang -O2 -target bpf (process)   ratio");
    for name in EXAMPLES {
        let c_file = crate_dir().join("benches/c").join(format!("{name}.c"));
        if !c_file.exists() {
            continue;
        }
        let file = source(name);
        let ours = mean(200, || {
            divan::black_box(whistler_compiler::compile(file).is_ok());
        });
        let out = out_dir.join(format!("{name}.o"));
        clang_once(&c_file, &out); // warms the page cache
        let clang = mean(10, || clang_once(&c_file, &out));
        println!(
            "{name:<14} {:>14.3} ms {:>24.3} ms {:>16.1}x",
            ours.as_secs_f64() * 1e3,
            clang.as_secs_f64() * 1e3,
            clang.as_secs_f64() / ours.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

fn main() {
    divan::main();
    compare_with_clang();
}
