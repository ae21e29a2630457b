//! Golden tests over `test_data/`: expected outputs sit beside each input and are regenerated
//! with `UPDATE_EXPECT=1 cargo test -p whistler-compiler --test golden`. Inputs compile as users'
//! files do: with the standard macro library.
//! - `errors/*.lisp`: every rendered diagnostic (`.txt`); compilation must fail.
//! - `codegen/*.lisp`: per program the expansion, the optimized IR and the disassembly (`.txt`);
//!   compilation must succeed, and the IR text must parse back to the same text.

use std::path::{Path, PathBuf};
use whistler_compiler::{compile_with, ir, lisp_host, Options};
use whistler_syntax::{read, render, SourceFile};

fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lisp"))
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the `.txt` beside `input`, or rewrites it under `UPDATE_EXPECT=1`.
fn expect(input: &Path, actual: &str, failures: &mut Vec<String>) {
    let path = input.with_extension("txt");
    if whistler_testkit::update_expect() {
        std::fs::write(&path, actual).expect("write expectation");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{} differs (UPDATE_EXPECT=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ));
    }
}

fn source(path: &Path) -> SourceFile {
    let bytes = std::fs::read(path).expect("read input");
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    SourceFile::new(name, String::from_utf8_lossy(&bytes).to_string())
}

fn compile_file(file: &SourceFile, dump: bool) -> Result<whistler_compiler::Compiled, String> {
    let r = read(file);
    let mut host = lisp_host::standard_interp();
    let result = compile_with(
        file,
        &r.forms,
        Options {
            dump,
            ..Options::default()
        },
        &mut host,
    );
    let mut diags = r.diagnostics;
    match result {
        Ok(c) if diags.is_empty() => return Ok(c),
        Ok(_) => {}
        Err(mut e) => diags.append(&mut e),
    }
    Err(diags
        .iter()
        .map(|d| render(file, d))
        .collect::<Vec<_>>()
        .join("\n"))
}

#[test]
fn errors() {
    let files = inputs("errors");
    assert!(
        files.len() >= 30,
        "at least 30 bad inputs, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in files {
        let file = source(&f);
        match compile_file(&file, false) {
            Ok(_) => failures.push(format!("{} compiled but should fail", f.display())),
            Err(text) => expect(&f, &text, &mut failures),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn codegen() {
    let mut failures = Vec::new();
    for f in inputs("codegen") {
        let file = source(&f);
        let compiled = match compile_file(&file, true) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        let mut out = String::new();
        for d in &compiled.dumps {
            let reparsed = ir::parse::parse(&d.optimized_ir).map(|func| ir::print::to_text(&func));
            if reparsed.as_deref() != Ok(d.optimized_ir.as_str()) {
                failures.push(format!(
                    "{}: IR does not round-trip: {reparsed:?}",
                    f.display()
                ));
            }
            out += &format!(
                ";; ---- {} ----\n;; expanded:\n{}\n;; optimized IR:\n{};; disassembly:\n{}",
                d.name, d.expanded, d.optimized_ir, d.asm
            );
        }
        expect(&f, &out, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
