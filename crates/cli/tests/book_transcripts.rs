//! The book's ```console transcripts are what the binary prints: each `$ COMMAND` line runs
//! (through `sh`, with this `whistler` first on PATH, stderr merged into stdout) in a fresh
//! directory holding the page's `lisp,file=NAME` blocks, and its output must match the lines the
//! page shows after it (`[..]` matches the rest of a line's text, `...` any lines).
//! Blocks marked `console,kernel` load programs and need CAP_BPF.
//! Regenerate with `UPDATE_EXPECT=1 cargo test -p whistler-cli --test book_transcripts` and
//! review the diff (wildcards that still match are kept).

use std::path::{Path, PathBuf};
use std::process::Command;
use whistler_book_tests::{code_blocks, commands, output_matches, pages, transcript, CodeBlock};

/// A fresh directory for one page, holding the files its blocks name.
fn page_dir(page: &str, blocks: &[CodeBlock]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("book")
        .join(page.replace(['/', '.'], "_"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for block in blocks {
        if let Some(name) = block.file_name() {
            std::fs::write(dir.join(name), &block.text).unwrap();
        }
    }
    dir
}

/// Runs one transcript command the way a reader would type it.
fn run(command: &str, dir: &Path) -> String {
    let binary_dir = Path::new(env!("CARGO_BIN_EXE_whistler")).parent().unwrap();
    let path = format!(
        "{}:{}",
        binary_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} 2>&1"))
        .current_dir(dir)
        .env("PATH", path)
        .env("COLUMNS", "100")
        .output()
        .expect("run sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn console_transcripts_show_what_the_binary_prints() {
    let update = whistler_testkit::update_expect();
    let kernel = whistler_testkit::kernel_available("book console,kernel transcripts");
    let (mut checked, mut failures) = (0, Vec::new());
    for (page, text) in pages() {
        let blocks = code_blocks(&text);
        if !blocks.iter().any(|b| b.language() == "console") {
            continue;
        }
        let dir = page_dir(&page, &blocks);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Bottom-up, so that rewriting a block leaves the line numbers of the ones above.
        for block in blocks.iter().rev() {
            if block.language() != "console" || (block.has("kernel") && !kernel) {
                continue;
            }
            let mut ran = commands(&block.text);
            for command in &mut ran {
                let actual = run(&command.line, &dir);
                checked += 1;
                if output_matches(&command.output, &actual) {
                    continue;
                }
                if !update {
                    failures.push(format!(
                        "{page}:{}: `{}` printed\n{actual}the page shows\n{}",
                        block.line, command.line, command.output
                    ));
                }
                command.output = actual;
            }
            let new_text = transcript(&ran);
            lines.splice(
                block.line..block.end_line() - 2,
                new_text.lines().map(str::to_string),
            );
        }
        if update {
            let path = whistler_book_tests::book_src().join(&page);
            std::fs::write(path, lines.join("\n") + "\n").unwrap();
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 6, "only {checked} transcript commands ran");
}
