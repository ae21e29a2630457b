//! Golden tests: every `test_data/{ok,err}/*.lisp` is read and the result compared with the
//! `.txt` file beside it. Run with `UPDATE_EXPECT=1` to rewrite the expected files.
//!
//! `ok` files must read without diagnostics; each top-level form prints as `start..end form`.
//! `err` files must produce at least one diagnostic; the rendered diagnostics come first, then the
//! forms that could still be read.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use whistler_syntax::{read, render, SourceFile};

fn cases(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "lisp"))
        .collect();
    files.sort();
    files
}

fn actual_output(path: &Path) -> (String, usize) {
    let text = std::fs::read_to_string(path).expect("test file is UTF-8");
    let name = format!("{}", path.file_name().unwrap().to_string_lossy());
    let file = SourceFile::new(name, text);
    let result = read(&file);
    let mut out = String::new();
    for d in &result.diagnostics {
        out.push_str(&render(&file, d));
    }
    if !result.diagnostics.is_empty() && !result.forms.is_empty() {
        out.push_str("-- forms read --\n");
    }
    for form in &result.forms {
        let _ = writeln!(out, "{}..{} {form}", form.span.start, form.span.end);
    }
    (out, result.diagnostics.len())
}

/// Compares (or with `UPDATE_EXPECT=1` rewrites) each case; returns the names that differ.
fn check(dir: &str, want_errors: bool) -> Vec<String> {
    let update = std::env::var("UPDATE_EXPECT").as_deref() == Ok("1");
    let mut failures = Vec::new();
    let files = cases(dir);
    assert!(!files.is_empty(), "no golden cases in {dir}");
    for path in files {
        let (actual, errors) = actual_output(&path);
        let name = path.display().to_string();
        if want_errors && errors == 0 {
            failures.push(format!("{name}: expected diagnostics, got none"));
        }
        if !want_errors && errors > 0 {
            failures.push(format!("{name}: unexpected diagnostics:\n{actual}"));
        }
        let expected_path = path.with_extension("txt");
        if update {
            std::fs::write(&expected_path, &actual).expect("write expected output");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{name}: output differs (rerun with UPDATE_EXPECT=1 to accept)\n--- expected\n{expected}--- actual\n{actual}"
            ));
        }
    }
    failures
}

#[test]
fn ok_cases() {
    let failures = check("ok", false);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn err_cases() {
    let failures = check("err", true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
