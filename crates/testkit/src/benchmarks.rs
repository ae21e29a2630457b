//! `BENCHMARKS.md` at the workspace root: one section per benchmark, each a `# TITLE` heading
//! and what follows up to the next one. A benchmark rewrites its own section and keeps the
//! others.

use std::path::Path;

/// Replaces the section of `BENCHMARKS.md` whose first line is `heading` with `section` (which
/// starts with that heading), or appends it.
pub fn write_section(heading: &str, section: &str) -> std::io::Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, with_section(&old, heading, section))
}

fn with_section(old: &str, heading: &str, section: &str) -> String {
    let mut sections: Vec<String> = Vec::new();
    for line in old.lines() {
        if line.starts_with("# ") || sections.is_empty() {
            sections.push(String::new());
        }
        let last = sections.last_mut().expect("pushed above");
        last.push_str(line);
        last.push('\n');
    }
    let section = format!("{}\n", section.trim_end());
    match sections
        .iter_mut()
        .find(|s| s.lines().next() == Some(heading))
    {
        Some(own) => *own = section,
        None => sections.push(section),
    }
    let trimmed: Vec<&str> = sections
        .iter()
        .map(|s| s.trim_end())
        .filter(|s| !s.is_empty())
        .collect();
    trimmed.join("\n\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::with_section;

    #[test]
    fn a_section_is_replaced_in_place_or_appended_and_the_others_are_kept() {
        let old = "# A\n\none\n\n# B\n\ntwo\n";
        assert_eq!(
            with_section(old, "# A", "# A\n\nuno\n"),
            "# A\n\nuno\n\n# B\n\ntwo\n"
        );
        assert_eq!(
            with_section(old, "# C", "# C\n\nthree"),
            "# A\n\none\n\n# B\n\ntwo\n\n# C\n\nthree\n"
        );
        assert_eq!(with_section("", "# A", "# A\n\nx\n"), "# A\n\nx\n");
    }
}
