//! Subprograms inside one program's instructions: the targets of its bpf-to-bpf calls and of
//! its function-address loads (callbacks).
//!
//! When func_info is given, the kernel wants one record per subprogram, and when line_info is
//! given, a line record at each subprogram's first instruction; the writer supplies both.

use whistler_bpf::Insn;

/// `BPF_PSEUDO_FUNC`: an `ld_imm64` of a function's address (callbacks of `bpf_loop` and
/// friends).
pub(super) const BPF_PSEUDO_FUNC: u8 = 4;

/// First instruction of every subprogram called (or whose address is taken) in `insns`
/// (sorted, without the main program's instruction 0).
pub(super) fn starts(insns: &[Insn]) -> Vec<usize> {
    let mut starts: Vec<usize> = (0..insns.len())
        .filter_map(|i| reference_target(insns, i))
        .filter(|&t| t > 0)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// The instruction that the call or function-address load at `i` refers to (both count from
/// the next instruction); `None` for other instructions and targets outside the program, which
/// are left for the verifier to reject.
pub(super) fn reference_target(insns: &[Insn], i: usize) -> Option<usize> {
    let insn = insns[i];
    let refers = insn.is_pseudo_call() || insn.is_ld_imm64() && insn.src == BPF_PSEUDO_FUNC;
    if !refers {
        return None;
    }
    usize::try_from(i as i64 + insn.imm as i64 + 1)
        .ok()
        .filter(|&t| t < insns.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use whistler_bpf::opcode::{BPF_CALL, BPF_JMP, BPF_PSEUDO_CALL};
    use whistler_bpf::Reg;

    fn call(imm: i32) -> Insn {
        Insn::new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, imm)
    }

    #[test]
    fn call_targets_are_subprogram_starts() {
        let insns = [
            call(3),
            call(4),
            Insn::exit(),
            Insn::call_helper(5),
            call(-5),
            Insn::mov64_imm(Reg::R0, 0),
            Insn::exit(),
        ];
        assert_eq!(starts(&insns), [4, 6]);
    }

    #[test]
    fn function_address_loads_are_subprogram_starts() {
        let mut insns = Insn::ld_imm64(Reg::R2, BPF_PSEUDO_FUNC, 0).to_vec();
        insns[0].imm = 1;
        insns.extend([Insn::exit(), Insn::exit()]);
        assert_eq!(starts(&insns), [2]);
    }
}
