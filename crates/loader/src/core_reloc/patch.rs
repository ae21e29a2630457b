//! Writing a CO-RE result into its instruction: the immediate of an ALU or `ld_imm64`, the offset
//! of a memory access (and its width when the kernel's field is wider or narrower), or poison.

use whistler_bpf::opcode::{
    class, BPF_ALU, BPF_ALU64, BPF_B, BPF_CALL, BPF_DW, BPF_H, BPF_JA, BPF_JMP, BPF_LDX, BPF_ST,
    BPF_STX, BPF_W, BPF_X,
};
use whistler_bpf::Insn;

use super::Resolution;

/// `0xbad2310`: the helper id libbpf uses for poisoned CO-RE instructions, so the verifier's
/// message ("invalid func unknown#195896080") is recognisable.
pub const POISON_HELPER: i32 = 0xbad2310;

/// The size bits of a load or store opcode.
const SIZE_MASK: u8 = 0x18;

pub fn apply(insns: &mut [Insn], at: usize, resolution: Resolution) -> Result<(), String> {
    let insn = *insns
        .get(at)
        .ok_or_else(|| format!("instruction {at} is outside the section"))?;
    match resolution {
        Resolution::Poison => {
            poison(insns, at);
            Ok(())
        }
        Resolution::Value { value, .. } if insn.is_ld_imm64() => {
            let next = insns.get_mut(at + 1).ok_or("ld_imm64 is cut short")?;
            next.imm = (value >> 32) as i32;
            insns[at].imm = value as u32 as i32;
            Ok(())
        }
        Resolution::Value {
            value,
            local_size,
            target_size,
        } => match class(insn.code) {
            BPF_ALU | BPF_ALU64 if insn.code & BPF_X == 0 => {
                insns[at].imm = i32::try_from(value as i64)
                    .map_err(|_| format!("value {value} does not fit an ALU immediate"))?;
                Ok(())
            }
            BPF_LDX | BPF_ST | BPF_STX => {
                insns[at].off = i16::try_from(value)
                    .map_err(|_| format!("offset {value} does not fit a memory access"))?;
                if class(insn.code) == BPF_LDX && local_size != target_size {
                    insns[at].code = resize(insn.code, target_size.unwrap_or(0))?;
                }
                Ok(())
            }
            _ => Err(format!(
                "instruction {at} (opcode {:#04x}) cannot take a CO-RE value",
                insn.code
            )),
        },
    }
}

/// Changes a load's width to `size` bytes.
fn resize(code: u8, size: u32) -> Result<u8, String> {
    let bits = match size {
        1 => BPF_B,
        2 => BPF_H,
        4 => BPF_W,
        8 => BPF_DW,
        _ => {
            return Err(format!(
                "the kernel's field is {size} bytes, which no load reads"
            ))
        }
    };
    Ok((code & !SIZE_MASK) | bits)
}

/// Turns the instruction into a call of an invalid helper (and a second `ld_imm64` half into a
/// no-op jump), so that the verifier fails only if it is reached.
fn poison(insns: &mut [Insn], at: usize) {
    if insns[at].is_ld_imm64() {
        if let Some(next) = insns.get_mut(at + 1) {
            *next = Insn::new(BPF_JMP | BPF_JA, 0, 0, 0, 0);
        }
    }
    insns[at] = Insn::new(BPF_JMP | BPF_CALL, 0, 0, 0, POISON_HELPER);
}
