//! Code size against clang: the instructions (8-byte slots, so `ld_imm64` counts two) of every
//! program our compiler emits, next to `clang -O2 -target bpf` on the same program written in
//! C, with their ratio. The pairs are the examples' `session!` Lisp with `benches/c/*.c`, and
//! `benches/size/NAME.lisp` with `NAME.c`. Reported, never asserted.
//!
//! `cargo bench -p whistler --bench code_size`

mod common;

use common::{clang_available, clang_once, crate_dir, session_lisp};
use std::path::{Path, PathBuf};
use whistler_syntax::SourceFile;

/// Instruction slots in every executable section of an object (programs and `.text`).
fn instructions(elf: &[u8]) -> usize {
    let object = whistler_object::read::parse(elf).expect("a BPF object");
    object.code_sections.iter().map(|s| s.insns.len()).sum()
}

fn ours(name: &str, lisp: String) -> usize {
    let file = SourceFile::new(format!("{name}.lisp"), lisp);
    match whistler_compiler::compile(&file) {
        Ok(compiled) => instructions(&compiled.elf),
        Err(errors) => panic!("{name}: does not compile: {errors:?}"),
    }
}

fn clangs(c_file: &Path, out_dir: &Path) -> usize {
    let out = out_dir
        .join(c_file.file_stem().unwrap())
        .with_extension("o");
    clang_once(c_file, &out);
    instructions(&std::fs::read(out).unwrap())
}

/// (name, Lisp text, C file) for every pair.
fn pairs() -> Vec<(String, String, PathBuf)> {
    let mut pairs = Vec::new();
    for entry in std::fs::read_dir(crate_dir().join("benches/c")).unwrap() {
        let c_file = entry.unwrap().path();
        let name = c_file.file_stem().unwrap().to_string_lossy().into_owned();
        pairs.push((name.clone(), session_lisp(&name), c_file));
    }
    for entry in std::fs::read_dir(crate_dir().join("benches/size")).unwrap() {
        let lisp_file = entry.unwrap().path();
        if lisp_file.extension().is_some_and(|e| e == "lisp") {
            let name = lisp_file
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let lisp = std::fs::read_to_string(&lisp_file).unwrap();
            pairs.push((name, lisp, lisp_file.with_extension("c")));
        }
    }
    pairs.sort();
    pairs
}

fn main() {
    if !clang_available() {
        println!("clang is not installed: no comparison");
        return;
    }
    let out_dir = std::env::temp_dir().join(format!("whistler-size-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    println!("program            whistler   clang -O2   whistler/clang");
    let (mut all_ours, mut all_clang) = (0, 0);
    for (name, lisp, c_file) in pairs() {
        let (a, b) = (ours(&name, lisp), clangs(&c_file, &out_dir));
        all_ours += a;
        all_clang += b;
        println!("{name:<18} {a:>8} {b:>11} {:>16.2}", a as f64 / b as f64);
    }
    println!(
        "{:<18} {all_ours:>8} {all_clang:>11} {:>16.2}",
        "all",
        all_ours as f64 / all_clang as f64
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}
