//! Evaluates a Lisp file form by form, printing uncaught errors rendered against the source:
//! `cargo run -p whistler-lisp --example eval -- FILE.lisp`.

use whistler_syntax::{read_with, render, ReadOptions, SourceFile};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: eval FILE.lisp");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let file = SourceFile::new(path, text);
    let result = read_with(&file, ReadOptions { host_code: true });
    let mut failed = !result.diagnostics.is_empty();
    for d in &result.diagnostics {
        eprint!("{}", render(&file, d));
    }
    let mut interp = whistler_lisp::Interp::new();
    for form in &result.forms {
        let started = std::time::Instant::now();
        if let Err(e) = interp.eval_toplevel(form) {
            failed = true;
            for d in e.to_diagnostics() {
                eprint!("{}", render(&file, &d));
            }
        }
        if std::env::var_os("WHISTLER_LISP_TIMES").is_some() {
            eprintln!(
                "[{:?}] {}",
                started.elapsed(),
                file.line_col(form.span.start).line
            );
        }
    }
    std::process::exit(i32::from(failed));
}
