//! Golden tests: each `test_data/*.lisp` file is evaluated form by form and everything it prints
//! (plus each uncaught error, rendered with its source line) is compared with the `.txt` file
//! beside it. `UPDATE_EXPECT=1` rewrites the expected files.
//!
//! A first line `;; limits: steps=N depth=M` sets the interpreter's limits. The host function
//! `(test:set-interrupt)` sets the interrupt flag as a Ctrl-C handler would. Files are read
//! as host code (floating-point literals allowed).

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use whistler_lisp::{Interp, Limits, Value};
use whistler_syntax::{read_with, render, ReadOptions, SourceFile};

#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Error output (`*error-output*`, warnings) into the same buffer, each line marked `stderr| `.
struct ErrorCapture {
    out: Capture,
    at_line_start: bool,
}

impl Write for ErrorCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut out = self.out.0.borrow_mut();
        for &b in buf {
            if self.at_line_start {
                out.extend_from_slice(b"stderr| ");
            }
            out.push(b);
            self.at_line_start = b == b'\n';
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn limits_from(text: &str) -> Limits {
    let mut limits = Limits::default();
    if let Some(line) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(";; limits:"))
    {
        for part in line.split_whitespace() {
            match part.split_once('=') {
                Some(("steps", n)) => limits.max_steps = n.parse().expect("steps"),
                Some(("depth", n)) => limits.max_depth = n.parse().expect("depth"),
                _ => panic!("bad limits line: {line}"),
            }
        }
    }
    limits
}

/// Runs a file and returns what it printed, with rendered errors interleaved.
pub fn run_file(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read test file");
    let file = SourceFile::new(path.file_name().unwrap().to_string_lossy(), text.clone());
    let read = read_with(&file, ReadOptions { host_code: true });
    let capture = Capture::default();
    let mut interp = Interp::new();
    interp.set_output(Box::new(capture.clone()));
    interp.set_error_output(Box::new(ErrorCapture {
        out: capture.clone(),
        at_line_start: true,
    }));
    interp.set_limits(limits_from(&text));
    let flag = interp.interrupt_flag();
    interp.define_builtin(
        "test:set-interrupt",
        Box::new(move |_, _, _| {
            flag.store(true, Ordering::Relaxed);
            Ok(Value::Nil)
        }),
    );
    for d in &read.diagnostics {
        capture.0.borrow_mut().extend(render(&file, d).bytes());
    }
    for form in &read.forms {
        if let Err(e) = interp.eval_toplevel(form) {
            let mut out = capture.0.borrow_mut();
            if !out.is_empty() && !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            for d in e.to_diagnostics() {
                out.extend(render(&file, &d).bytes());
            }
        }
    }
    drop(interp);
    let bytes = capture.0.borrow().clone();
    String::from_utf8(bytes).expect("output is UTF-8")
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("test_data exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "lisp"))
        .collect();
    files.sort();
    files
}

#[test]
fn golden_files() {
    let update = std::env::var("UPDATE_EXPECT").as_deref() == Ok("1");
    let mut failures = Vec::new();
    let files = cases();
    assert!(
        files.len() >= 10,
        "expected the golden corpus, found {} files",
        files.len()
    );
    for path in files {
        let actual = run_file(&path);
        let expected_path = path.with_extension("txt");
        if update {
            std::fs::write(&expected_path, &actual).expect("write expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}: output differs (UPDATE_EXPECT=1 to accept)\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
