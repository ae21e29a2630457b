//! One eBPF instruction and its 8-byte little-endian encoding.

use crate::opcode::*;

/// A register number, `R0`..=`R10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(pub u8);

impl Reg {
    pub const R0: Reg = Reg(0);
    pub const R1: Reg = Reg(1);
    pub const R2: Reg = Reg(2);
    pub const R3: Reg = Reg(3);
    pub const R4: Reg = Reg(4);
    pub const R5: Reg = Reg(5);
    pub const R6: Reg = Reg(6);
    pub const R7: Reg = Reg(7);
    pub const R8: Reg = Reg(8);
    pub const R9: Reg = Reg(9);
    /// The read-only frame pointer.
    pub const FP: Reg = Reg(10);
}

/// One 8-byte eBPF instruction (`struct bpf_insn`). A 64-bit immediate load takes two of them;
/// the second has `code == 0` and carries the upper 32 bits in `imm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    pub const SIZE: usize = 8;

    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    /// Encodes as the kernel expects on a little-endian machine.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0] = self.code;
        b[1] = (self.dst & 0x0f) | (self.src << 4);
        b[2..4].copy_from_slice(&self.off.to_le_bytes());
        b[4..8].copy_from_slice(&self.imm.to_le_bytes());
        b
    }

    pub fn from_bytes(b: [u8; 8]) -> Insn {
        Insn {
            code: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Decodes a byte slice whose length is a multiple of 8; trailing bytes are ignored.
    pub fn decode_all(bytes: &[u8]) -> Vec<Insn> {
        bytes
            .chunks_exact(8)
            .map(|c| Insn::from_bytes(c.try_into().expect("chunks_exact yields 8 bytes")))
            .collect()
    }

    pub fn encode_all(insns: &[Insn]) -> Vec<u8> {
        insns.iter().flat_map(|i| i.to_bytes()).collect()
    }

    /// True for the first half of a 64-bit immediate load (`ld_imm64`).
    pub fn is_ld_imm64(&self) -> bool {
        self.code == BPF_LD | BPF_DW | BPF_IMM
    }

    /// True for a bpf-to-bpf call (`call` with `src == BPF_PSEUDO_CALL`).
    pub fn is_pseudo_call(&self) -> bool {
        self.code == BPF_JMP | BPF_CALL && self.src == BPF_PSEUDO_CALL
    }

    // Constructors, named after the assembly they stand for.

    pub fn alu64_imm(op: u8, dst: Reg, imm: i32) -> Insn {
        Insn::new(BPF_ALU64 | op | BPF_K, dst.0, 0, 0, imm)
    }
    pub fn alu64_reg(op: u8, dst: Reg, src: Reg) -> Insn {
        Insn::new(BPF_ALU64 | op | BPF_X, dst.0, src.0, 0, 0)
    }
    pub fn alu32_imm(op: u8, dst: Reg, imm: i32) -> Insn {
        Insn::new(BPF_ALU | op | BPF_K, dst.0, 0, 0, imm)
    }
    pub fn alu32_reg(op: u8, dst: Reg, src: Reg) -> Insn {
        Insn::new(BPF_ALU | op | BPF_X, dst.0, src.0, 0, 0)
    }
    pub fn mov64_imm(dst: Reg, imm: i32) -> Insn {
        Insn::alu64_imm(BPF_MOV, dst, imm)
    }
    pub fn mov64_reg(dst: Reg, src: Reg) -> Insn {
        Insn::alu64_reg(BPF_MOV, dst, src)
    }
    /// `ld_imm64`: two instructions.
    pub fn ld_imm64(dst: Reg, src: u8, value: u64) -> [Insn; 2] {
        [
            Insn::new(
                BPF_LD | BPF_DW | BPF_IMM,
                dst.0,
                src,
                0,
                value as u32 as i32,
            ),
            Insn::new(0, 0, 0, 0, (value >> 32) as u32 as i32),
        ]
    }
    /// `dst = *(size *)(src + off)`; `size` is one of `BPF_B`, `BPF_H`, `BPF_W`, `BPF_DW`.
    pub fn load(size: u8, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(BPF_LDX | size | BPF_MEM, dst.0, src.0, off, 0)
    }
    /// Sign-extending load (cpu v4).
    pub fn load_sx(size: u8, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(BPF_LDX | size | BPF_MEMSX, dst.0, src.0, off, 0)
    }
    /// `*(size *)(dst + off) = src`.
    pub fn store_reg(size: u8, dst: Reg, off: i16, src: Reg) -> Insn {
        Insn::new(BPF_STX | size | BPF_MEM, dst.0, src.0, off, 0)
    }
    /// `*(size *)(dst + off) = imm`.
    pub fn store_imm(size: u8, dst: Reg, off: i16, imm: i32) -> Insn {
        Insn::new(BPF_ST | size | BPF_MEM, dst.0, 0, off, imm)
    }
    /// `lock *(size *)(dst + off) += src` (or another atomic op in `op`).
    pub fn atomic(size: u8, op: i32, dst: Reg, off: i16, src: Reg) -> Insn {
        Insn::new(BPF_STX | size | BPF_ATOMIC, dst.0, src.0, off, op)
    }
    pub fn jmp_imm(op: u8, dst: Reg, imm: i32, off: i16) -> Insn {
        Insn::new(BPF_JMP | op | BPF_K, dst.0, 0, off, imm)
    }
    pub fn jmp_reg(op: u8, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(BPF_JMP | op | BPF_X, dst.0, src.0, off, 0)
    }
    pub fn ja(off: i16) -> Insn {
        Insn::new(BPF_JMP | BPF_JA, 0, 0, off, 0)
    }
    pub fn call_helper(id: i32) -> Insn {
        Insn::new(BPF_JMP | BPF_CALL, 0, 0, 0, id)
    }
    pub fn exit() -> Insn {
        Insn::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
    }
    /// Byte swap to big endian (`be16`/`be32`/`be64`): on a little-endian machine this swaps.
    pub fn to_be(dst: Reg, bits: i32) -> Insn {
        Insn::new(BPF_ALU | BPF_END | BPF_TO_BE, dst.0, 0, 0, bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let insns = [
            Insn::mov64_imm(Reg::R0, -1),
            Insn::load(BPF_W, Reg::R2, Reg::R1, 4),
            Insn::store_reg(BPF_DW, Reg::FP, -8, Reg::R6),
            Insn::jmp_imm(BPF_JEQ, Reg::R0, 0, 3),
            Insn::exit(),
        ];
        let bytes = Insn::encode_all(&insns);
        assert_eq!(Insn::decode_all(&bytes), insns);
        assert_eq!(
            bytes[0..8],
            [0xb7, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(bytes[16 + 1], 0x6a, "dst in low nibble, src in high nibble");
    }
}
