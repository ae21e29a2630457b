//! Callbacks placed after their program's body: each gets an entry that adapts the helper's
//! calling convention (`for_each_map_elem` calls `cb(map, key, value, record)`) to the one of
//! our functions (one argument, in R1: the record, `ast::callback_record`), and every
//! `ld_imm64` taking a callback's address (`BPF_PSEUDO_FUNC`, whose immediate holds the
//! callback's number until here) gets the distance to it. The object writer then moves the
//! callbacks into `.text` as subprograms.
//!
//! Does not check what the verifier checks: that a callback returns 0 or 1.

use super::Code;
use crate::ast::callback_record;
use whistler_bpf::opcode::{BPF_DW, BPF_PSEUDO_FUNC};
use whistler_bpf::{Insn, Reg};

/// Stores the key and value pointers into the record, then passes the record in R1.
fn entry() -> [Insn; 3] {
    [
        Insn::store_reg(BPF_DW, Reg::R4, callback_record::KEY, Reg::R2),
        Insn::store_reg(BPF_DW, Reg::R4, callback_record::VALUE, Reg::R3),
        Insn::mov64_reg(Reg::R1, Reg::R4),
    ]
}

/// Appends the callbacks (by number) to the program's code and points its and their
/// callback addresses at them.
pub fn link(mut code: Code, callbacks: Vec<Code>) -> Result<Code, String> {
    let mut starts = Vec::with_capacity(callbacks.len());
    for callback in callbacks {
        let start = code.insns.len();
        starts.push(start);
        code.insns.extend(entry());
        let base = code.insns.len();
        code.insns.extend(callback.insns);
        code.map_relocs
            .extend(callback.map_relocs.into_iter().map(|mut r| {
                r.insn_index += base;
                r
            }));
        code.data_relocs
            .extend(callback.data_relocs.into_iter().map(|mut r| {
                r.insn_index += base;
                r
            }));
        code.core_relocs
            .extend(callback.core_relocs.into_iter().map(|mut r| {
                r.insn_index += base;
                r
            }));
        code.lines.extend(callback.lines.into_iter().map(|mut l| {
            l.insn_index += base;
            l
        }));
    }
    for (i, insn) in code.insns.iter_mut().enumerate() {
        if !(insn.is_ld_imm64() && insn.src == BPF_PSEUDO_FUNC) {
            continue;
        }
        let start = usize::try_from(insn.imm)
            .ok()
            .and_then(|n| starts.get(n))
            .ok_or_else(|| format!("callback {} does not exist", insn.imm))?;
        insn.imm = (*start as i64 - (i as i64 + 1)) as i32;
    }
    Ok(code)
}
