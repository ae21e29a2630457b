//! Making a verifier log short: the error line, the last instruction the verifier looked at, and
//! that instruction's source file, line and text when the program carries line info.

/// A line_info record resolved to text: the program instruction it starts at and its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLine {
    /// The first instruction of the line, as the verifier numbers them.
    pub insn: u32,
    /// The source file's name.
    pub file: String,
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1 (0 when the compiler did not record one).
    pub col: u32,
    /// The source line's text.
    pub text: String,
}

/// Lines the verifier prints after the error, which are not the error.
fn is_trailer(line: &str) -> bool {
    const TRAILERS: &[&str] = &[
        "processed ",
        "verification time",
        "stack depth",
        "-- END PROG LOAD LOG --",
        "mark_precise",
    ];
    TRAILERS.iter().any(|t| line.starts_with(t))
}

/// The error line: the last line that is not statistics.
fn error_line(log: &str) -> Option<&str> {
    log.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !is_trailer(l))
}

/// The instruction index of a line like `12: (85) call bpf_map_lookup_elem#1` or
/// `12: R0_w=...`, if it is one.
fn insn_index(line: &str) -> Option<u32> {
    let (digits, rest) = line.trim_start().split_once(':')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim_start();
    let looks_like_insn = rest.starts_with('(') || rest.starts_with('R');
    looks_like_insn.then(|| digits.parse().ok()).flatten()
}

/// The last instruction the log names.
pub fn last_insn(log: &str) -> Option<u32> {
    log.lines().rev().find_map(insn_index)
}

/// The source line covering instruction `insn`: the line_info record with the greatest start
/// at or before it.
pub fn source_for(insn: u32, lines: &[SourceLine]) -> Option<&SourceLine> {
    lines
        .iter()
        .filter(|l| l.insn <= insn)
        .max_by_key(|l| l.insn)
}

/// `"<error> at instruction N (file:line:col: `text`)"`.
pub fn summarize(log: &str, lines: &[SourceLine]) -> String {
    let error = error_line(log).unwrap_or("no verifier log (the kernel gave no reason)");
    let Some(insn) = last_insn(log) else {
        return error.to_string();
    };
    let mut summary = format!("{error} at instruction {insn}");
    if let Some(src) = source_for(insn, lines) {
        summary.push_str(&format!(" ({}:{}:{}", src.file, src.line, src.col));
        let text = src.text.trim();
        if !text.is_empty() {
            summary.push_str(&format!(": `{text}`"));
        }
        summary.push(')');
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "func#0 @0
0: R1=ctx() R10=fp0
; int x = *(int *)0; @ bad.c:7
0: (b7) r1 = 0                        ; R1_w=0
1: (61) r0 = *(u32 *)(r1 +0)
R1 invalid mem access 'scalar'
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
";

    #[test]
    fn names_error_instruction_and_line() {
        let lines = vec![
            SourceLine {
                insn: 0,
                file: "bad.c".into(),
                line: 6,
                col: 5,
                text: "int y;".into(),
            },
            SourceLine {
                insn: 1,
                file: "bad.c".into(),
                line: 7,
                col: 9,
                text: "int x = *(int *)0;".into(),
            },
        ];
        assert_eq!(
            summarize(LOG, &lines),
            "R1 invalid mem access 'scalar' at instruction 1 (bad.c:7:9: `int x = *(int *)0;`)"
        );
        assert_eq!(
            summarize(LOG, &[]),
            "R1 invalid mem access 'scalar' at instruction 1"
        );
    }

    #[test]
    fn empty_log() {
        assert_eq!(
            summarize("", &[]),
            "no verifier log (the kernel gave no reason)"
        );
    }
}
