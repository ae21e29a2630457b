//! line_info records for one program: the source file, the text of the line and
//! `line << 10 | col`, cleaned up to what the kernel insists on.
//!
//! The kernel requires, per program, strictly increasing instruction offsets, a record at the
//! first instruction of the program and of each subprogram, and no record on the second half of
//! an `ld_imm64`. Records are sorted, the first of several at one instruction is kept, misplaced
//! ones are dropped, and a missing record at a function's start is copied from its neighbour.

use crate::btf::Btf;
use crate::{LineInfo, LineInfoRecord, ProgramSpec};

/// The largest column `line_col` can hold (10 bits).
const MAX_COL: u32 = 0x3ff;

/// The program's records, each with its instruction index in the program; `insn_offset` is
/// left 0 for the caller to place.
pub(super) fn records(
    program: &ProgramSpec,
    file_name: &str,
    source_lines: &[&str],
    btf: &mut Btf,
) -> Vec<(usize, LineInfoRecord)> {
    let lines = cleaned(program);
    if lines.is_empty() {
        return Vec::new();
    }
    let file_name_off = btf.add_string(file_name);
    lines
        .iter()
        .map(|l| {
            let text = (l.line as usize)
                .checked_sub(1)
                .and_then(|i| source_lines.get(i))
                .copied()
                .unwrap_or("");
            let record = LineInfoRecord {
                insn_offset: 0,
                file_name_off,
                line_off: btf.add_string(text),
                line_col: l.line << 10 | l.col.min(MAX_COL),
            };
            (l.insn_index, record)
        })
        .collect()
}

fn cleaned(program: &ProgramSpec) -> Vec<LineInfo> {
    let second_halves = ld_imm64_second_halves(program);
    let mut lines: Vec<LineInfo> = program
        .lines
        .iter()
        .copied()
        .filter(|l| l.insn_index < program.insns.len() && !second_halves[l.insn_index])
        .collect();
    lines.sort_by_key(|l| l.insn_index);
    lines.dedup_by_key(|l| l.insn_index);
    if lines.is_empty() {
        return lines;
    }
    for start in std::iter::once(0).chain(super::subprograms::starts(&program.insns)) {
        let at = lines.partition_point(|l| l.insn_index < start);
        if lines.get(at).is_some_and(|l| l.insn_index == start) {
            continue;
        }
        // The line of the nearest record before, or after when there is none before.
        let model = lines[at.saturating_sub(1).min(lines.len() - 1)];
        lines.insert(
            at,
            LineInfo {
                insn_index: start,
                ..model
            },
        );
    }
    lines
}

fn ld_imm64_second_halves(program: &ProgramSpec) -> Vec<bool> {
    let mut marks = vec![false; program.insns.len()];
    let mut i = 0;
    while i < program.insns.len() {
        if program.insns[i].is_ld_imm64() {
            if let Some(m) = marks.get_mut(i + 1) {
                *m = true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    marks
}
