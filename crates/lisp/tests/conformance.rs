//! The evaluator against the standard, function by function: each `test_data/conformance/*.lisp`
//! file (sequences, strings, time, printing, `format`...) is a list of `(check FORM VALUE...)`
//! with the values the CLHS documents, run here through `harness.lisp`. The files are portable
//! Common Lisp, so the same checks run in SBCL when it is installed: an expectation SBCL does
//! not meet is a mistake in the expectation, not a difference to keep.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};
use whistler_lisp::host::{Host, HostError};
use whistler_lisp::{Interp, Value};
use whistler_syntax::{read_with, render, ReadOptions, SourceFile};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/conformance")
}

/// The checks files, in name order (everything but the harness).
fn check_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(conformance_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lisp"))
        .filter(|p| p.file_name().is_some_and(|n| n != "harness.lisp"))
        .collect();
    files.sort();
    files
}

/// The clocks, as a session's host gives them (time checks need them; files are not needed).
struct Clocks {
    started: Instant,
}

impl Host for Clocks {
    fn wall_clock(&mut self) -> Result<Duration, HostError> {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|e| HostError::file("clock", e))
    }
    fn monotonic_clock(&mut self) -> Result<Duration, HostError> {
        Ok(self.started.elapsed())
    }
    fn run_time(&mut self) -> Result<Duration, HostError> {
        Ok(self.started.elapsed())
    }
}

/// Evaluates a file's forms; a form that fails outside `check` (a reader or harness error) is
/// reported with its position.
fn eval_file(interp: &mut Interp, path: &Path, problems: &mut Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let file = SourceFile::new(path.file_name().unwrap().to_string_lossy(), text);
    let read = read_with(&file, ReadOptions { host_code: true });
    for d in &read.diagnostics {
        problems.push(render(&file, d));
    }
    for form in &read.forms {
        if let Err(e) = interp.eval_toplevel(form) {
            for d in e.to_diagnostics() {
                problems.push(render(&file, &d));
            }
        }
    }
}

fn strings(list: Value) -> Vec<String> {
    list.iter()
        .map(|v| match v {
            Value::Str(s, _) => s.to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn the_evaluator_meets_the_documented_behaviour() {
    let files = check_files();
    let mut report = Vec::new();
    let mut total = 0;
    for path in &files {
        let mut interp = Interp::new();
        interp.set_output(Box::new(std::io::sink()));
        interp.set_host(Box::new(Clocks {
            started: Instant::now(),
        }));
        let mut problems = Vec::new();
        eval_file(
            &mut interp,
            &conformance_dir().join("harness.lisp"),
            &mut problems,
        );
        eval_file(&mut interp, path, &mut problems);
        let checks = interp
            .global("*conformance-checks*")
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        total += checks;
        let mut failures = interp
            .global("*conformance-failures*")
            .map(strings)
            .unwrap_or_default();
        failures.reverse();
        problems.extend(failures);
        if checks < 20 {
            problems.push(format!("only {checks} checks ran"));
        }
        if !problems.is_empty() {
            report.push(format!(
                "{}: {} of {checks} checks failed\n{}",
                path.display(),
                problems.len(),
                problems.join("\n")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
    assert!(
        files.len() >= 5,
        "expected the checks files, found {files:?}"
    );
    assert!(total >= 500, "only {total} checks");
}

/// The expectations themselves hold in SBCL (skipped, saying so, where SBCL is not installed).
#[test]
fn the_expectations_hold_in_sbcl() {
    if Command::new("sbcl").arg("--version").output().is_err() {
        eprintln!("the_expectations_hold_in_sbcl: skipped, sbcl is not installed");
        return;
    }
    let report = "(progn (format t \"~d~%\" *conformance-checks*) \
                  (dolist (f (reverse *conformance-failures*)) (format t \"~a~%\" f)))";
    let mut wrong = Vec::new();
    for path in check_files() {
        let out = Command::new("sbcl")
            .args([
                "--noinform",
                "--non-interactive",
                "--no-sysinit",
                "--no-userinit",
            ])
            .arg("--load")
            .arg(conformance_dir().join("harness.lisp"))
            .arg("--load")
            .arg(&path)
            .args(["--eval", report])
            .output()
            .expect("sbcl runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut lines = stdout.lines();
        let checks: usize = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0);
        let rest: Vec<&str> = lines.collect();
        if !out.status.success() || checks < 20 || !rest.is_empty() {
            wrong.push(format!(
                "{} in SBCL ({checks} checks):\n{}\n{}",
                path.display(),
                rest.join("\n"),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
