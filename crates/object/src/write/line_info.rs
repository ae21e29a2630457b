//! line_info records for one program: the source file, the text of the line and
//! `line << 10 | col`, cleaned up to what the kernel insists on.
//!
//! The kernel requires, per program, strictly increasing instruction offsets, a record at the
//! program's first instruction, and no record on the second half of an `ld_imm64`. Records are
//! sorted, the first of several at one instruction is kept, misplaced ones are dropped, and
//! when the first record is not at instruction 0 a copy of it is placed there.

use crate::btf::Btf;
use crate::{LineInfo, LineInfoRecord, ProgramSpec};

/// The largest column `line_col` can hold (10 bits).
const MAX_COL: u32 = 0x3ff;

pub(super) fn records(
    program: &ProgramSpec,
    start: usize,
    file_name: &str,
    source_lines: &[&str],
    btf: &mut Btf,
) -> Vec<LineInfoRecord> {
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
            LineInfoRecord {
                insn_offset: ((start + l.insn_index) * 8) as u32,
                file_name_off,
                line_off: btf.add_string(text),
                line_col: l.line << 10 | l.col.min(MAX_COL),
            }
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
    if let Some(&first) = lines.first() {
        if first.insn_index != 0 {
            lines.insert(
                0,
                LineInfo {
                    insn_index: 0,
                    ..first
                },
            );
        }
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
