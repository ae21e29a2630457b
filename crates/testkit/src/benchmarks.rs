//! `BENCHMARKS.md` at the repository root: each benchmark owns one section, starting at its
//! `# Title` line and ending before the next `# ` line, and rewrites only that section. Also what
//! the benchmarks share to measure: timing, medians, running commands, libbpf's side.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The repository's `BENCHMARKS.md`.
pub fn benchmarks_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md")
}

/// Replaces the section whose first line is `section`'s first line (a `# Title`) in
/// `BENCHMARKS.md` with `section`, or appends it when there is none yet.
pub fn write_section(section: &str) -> std::io::Result<()> {
    let path = benchmarks_file();
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, replace_section(&old, section))
}

/// `document` with the section titled like `section` replaced by it (or `section` appended).
pub fn replace_section(document: &str, section: &str) -> String {
    let title = section.lines().next().unwrap_or_default();
    let section = section.trim_end();
    let lines: Vec<&str> = document.lines().collect();
    let Some(start) = lines.iter().position(|l| *l == title) else {
        let head = document.trim_end();
        return match head.is_empty() {
            true => format!("{section}\n"),
            false => format!("{head}\n\n{section}\n"),
        };
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("# "))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.push(section);
    if end < lines.len() {
        out.push("");
        out.extend(&lines[end..]);
    }
    out.join("\n") + "\n"
}

/// The middle value (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The fastest of `runs` timings of `f`.
pub fn fastest(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .expect("at least one run")
}

/// Runs `command`, which must succeed, and returns its standard output.
pub fn stdout_of(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Compiles the C program `source` into the executable `out`, linked against the system's libbpf.
pub fn build_with_libbpf(source: &Path, out: &Path) {
    stdout_of(
        Command::new("cc")
            .args(["-O2", "-o"])
            .arg(out)
            .arg(source)
            .arg("-lbpf"),
    );
}

/// The installed libbpf's version, as pkg-config reports it.
pub fn libbpf_version() -> String {
    let output = Command::new("pkg-config")
        .args(["--modversion", "libbpf"])
        .output();
    match output {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => "(Debian libbpf-dev)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_in_place_or_appended() {
        let doc = "# A\n\nold a\n\n# B\n\nold b\n";
        assert_eq!(
            replace_section(doc, "# A\n\nnew a\n"),
            "# A\n\nnew a\n\n# B\n\nold b\n"
        );
        assert_eq!(
            replace_section(doc, "# B\n\nnew b"),
            "# A\n\nold a\n\n# B\n\nnew b\n"
        );
        assert_eq!(
            replace_section(doc, "# C\n\nc\n"),
            "# A\n\nold a\n\n# B\n\nold b\n\n# C\n\nc\n"
        );
        assert_eq!(replace_section("", "# C\nc"), "# C\nc\n");
    }
}
