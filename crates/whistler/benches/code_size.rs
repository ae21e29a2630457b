//! Code size against clang: the instructions (8-byte slots, so `ld_imm64` counts two) of every
//! program section our compiler emits, next to `clang -O2 -target bpf` at the same `-mcpu` on
//! the same program written in C, with their ratio. The pairs are the examples' `session!` Lisp
//! with `benches/c/*.c`, and `benches/size/NAME.lisp` with `NAME.c`. Also totals our output over
//! the compiler's kernel execution corpus (no C twins: a regression guard for the optimizer).
//! Reported, never asserted; the report is printed and written to its section of
//! `BENCHMARKS.md` at the repository root.
//!
//! `cargo bench -p whistler --bench code_size`

mod common;

use common::{clang_available, clang_once, crate_dir, session_lisp, CPU};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use whistler_syntax::SourceFile;

/// Instruction slots per executable section of an object (programs and `.text`).
fn sections(elf: &[u8]) -> BTreeMap<String, usize> {
    let object = whistler_object::read::parse(elf).expect("a BPF object");
    object
        .code_sections
        .iter()
        .map(|s| (s.name.clone(), s.insns.len()))
        .collect()
}

fn ours(name: &str, lisp: String) -> BTreeMap<String, usize> {
    let file = SourceFile::new(format!("{name}.lisp"), lisp);
    let options = whistler_compiler::Options {
        cpu: CPU.parse().expect("a BPF cpu"),
        ..Default::default()
    };
    let mut host = whistler_compiler::lisp_host::standard_interp();
    match whistler_compiler::compile_in_with(&file, options, &mut host) {
        Ok(compiled) => sections(&compiled.elf),
        Err(errors) => panic!("{name}: does not compile: {errors:?}"),
    }
}

fn clangs(c_file: &Path, out_dir: &Path) -> BTreeMap<String, usize> {
    let out = out_dir
        .join(c_file.file_stem().unwrap())
        .with_extension("o");
    clang_once(c_file, &out);
    sections(&std::fs::read(out).unwrap())
}

/// (name, Lisp text, C file) for every pair.
fn pairs() -> Vec<(String, String, PathBuf)> {
    let mut pairs = Vec::new();
    for entry in std::fs::read_dir(crate_dir().join("benches/c")).unwrap() {
        let c_file = entry.unwrap().path();
        let name = c_file.file_stem().unwrap().to_string_lossy().into_owned();
        pairs.push((name.clone(), session_lisp(&name), c_file));
    }
    for lisp_file in files_with_extension(&crate_dir().join("benches/size"), "lisp") {
        let name = lisp_file
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let lisp = std::fs::read_to_string(&lisp_file).unwrap();
        pairs.push((name, lisp, lisp_file.with_extension("c")));
    }
    pairs.sort();
    pairs
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// Instructions over every program of the compiler's execution corpus.
fn corpus_total() -> (usize, usize) {
    let dir = crate_dir().join("../compiler/tests/corpus");
    let files = files_with_extension(&dir, "lisp");
    let total = files
        .iter()
        .map(|f| {
            let name = f.file_stem().unwrap().to_string_lossy().into_owned();
            ours(&name, std::fs::read_to_string(f).unwrap())
                .values()
                .sum::<usize>()
        })
        .sum();
    (files.len(), total)
}

fn ratio(a: usize, b: usize) -> String {
    format!("{:.2}", a as f64 / b as f64)
}

fn main() {
    if !clang_available() {
        println!("clang is not installed: no comparison");
        return;
    }
    let out_dir = std::env::temp_dir().join(format!("whistler-size-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut report = format!(
        "# Code size: whistler against clang -O2\n\n\
         Written by `cargo bench -p whistler --bench code_size`. Instructions are 8-byte slots \
         (`ld_imm64` counts two), per program section, both compilers at `-mcpu={CPU}`.\n\n\
         | program | section | whistler | clang -O2 | whistler/clang |\n\
         |---|---|---:|---:|---:|\n"
    );
    let (mut all_ours, mut all_clang) = (0, 0);
    for (name, lisp, c_file) in pairs() {
        let (a, b) = (ours(&name, lisp), clangs(&c_file, &out_dir));
        for (section, &n) in &a {
            let c = b.get(section).copied().unwrap_or(0);
            all_ours += n;
            all_clang += c;
            let r = ratio(n, c);
            writeln!(report, "| {name} | `{section}` | {n} | {c} | {r} |").unwrap();
        }
    }
    let r = ratio(all_ours, all_clang);
    writeln!(
        report,
        "| **total** | | **{all_ours}** | **{all_clang}** | **{r}** |"
    )
    .unwrap();
    let (files, corpus) = corpus_total();
    writeln!(
        report,
        "\nThe compiler's execution corpus ({files} files, no C twins): {corpus} instructions."
    )
    .unwrap();
    print!("{report}");
    whistler_testkit::benchmarks::write_section(&report).unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
}
