//! Subprograms inside one program's instructions: the targets of its bpf-to-bpf calls.
//!
//! When func_info is given, the kernel wants one record per subprogram, and when line_info is
//! given, a line record at each subprogram's first instruction; the writer supplies both.

use whistler_bpf::Insn;

/// First instruction of every subprogram called from `insns` (sorted, without the main program's
/// instruction 0; targets outside the program are left for the verifier to reject).
pub(super) fn starts(insns: &[Insn]) -> Vec<usize> {
    let mut starts: Vec<usize> = insns
        .iter()
        .enumerate()
        .filter(|(_, insn)| insn.is_pseudo_call())
        .filter_map(|(i, insn)| usize::try_from(i as i64 + insn.imm as i64 + 1).ok())
        .filter(|&t| t > 0 && t < insns.len())
        .collect();
    starts.sort_unstable();
    starts.dedup();
    starts
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
}
