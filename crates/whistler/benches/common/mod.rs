//! What the benches (and the twins test) share: the Lisp of the examples' `session!` blocks,
//! running clang on their C twins, the C-twin pairs, and writing a section of `BENCHMARKS.md`.

#![allow(dead_code)] // each bench or test uses a different part

pub mod twins;

use std::path::Path;
use std::process::Command;

pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Lisp inside the first `session! { pub struct Name; ... }` of an example, with the
/// `//` comments rustc would have dropped removed (strings are left alone).
pub fn session_lisp(example: &str) -> String {
    let path = crate_dir().join("examples").join(format!("{example}.rs"));
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("session! {").expect("a session! block") + "session! {".len();
    let header_end = start + text[start..].find(';').expect("`struct Name;`") + 1;
    let mut depth = 1;
    let mut end = header_end;
    for (i, c) in text[header_end..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            end = header_end + i;
            break;
        }
    }
    text[header_end..end]
        .lines()
        .map(strip_comment)
        .collect::<Vec<_>>()
        .join("\n")
}

fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let bytes = line.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

pub fn clang_available() -> bool {
    Command::new("clang")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The BPF instruction-set version clang targets (`-mcpu`), the same as our compiler's default.
pub const CPU: &str = "v3";

pub fn clang_once(c_file: &Path, out: &Path) {
    let status = Command::new("clang")
        .args([
            "-O2",
            "-g",
            "-target",
            "bpf",
            &format!("-mcpu={CPU}"),
            "-I/usr/include/x86_64-linux-gnu",
            "-c",
        ])
        .arg(c_file)
        .arg("-o")
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "clang failed on {}", c_file.display());
}
