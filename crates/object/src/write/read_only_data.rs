//! `.rodata`: the constant bytes programs load the address of (`DataReloc`s), each distinct
//! byte string placed once, 8-byte aligned, in order of first use.

use crate::ProgramSpec;

/// Where each program's data relocations point, and the section's bytes.
pub(super) struct ReadOnlyData {
    pub bytes: Vec<u8>,
    /// Per program, per data relocation: the byte offset of its bytes in `bytes`.
    pub offsets: Vec<Vec<u32>>,
}

impl ReadOnlyData {
    pub(super) fn place(programs: &[ProgramSpec]) -> ReadOnlyData {
        let mut bytes: Vec<u8> = Vec::new();
        let mut placed: Vec<(&[u8], u32)> = Vec::new();
        let offsets = programs
            .iter()
            .map(|p| {
                (p.data_relocs.iter())
                    .map(|r| match placed.iter().find(|(b, _)| *b == r.bytes) {
                        Some(&(_, at)) => at,
                        None => {
                            bytes.resize(bytes.len().next_multiple_of(8), 0);
                            let at = bytes.len() as u32;
                            bytes.extend_from_slice(&r.bytes);
                            placed.push((&r.bytes, at));
                            at
                        }
                    })
                    .collect()
            })
            .collect();
        ReadOnlyData { bytes, offsets }
    }

    /// Writes each data relocation's offset into its `ld_imm64`, where loaders read it.
    pub(super) fn point_loads(&self, programs: &mut [ProgramSpec]) {
        for (p, offsets) in programs.iter_mut().zip(&self.offsets) {
            for (r, &at) in p.data_relocs.iter().zip(offsets) {
                p.insns[r.insn_index].imm = at as i32;
            }
        }
    }
}
