//! Writing a CO-RE result into its instruction: the immediate of an ALU or `ld_imm64`, the offset
//! of a memory access (and its width when the kernel's field is wider or narrower), or poison.

use whistler_bpf::Insn;

use super::Resolution;

/// `0xbad2310`: the helper id libbpf uses for poisoned CO-RE instructions, so the verifier's
/// message ("invalid func unknown#195896080") is recognisable.
pub const POISON_HELPER: i32 = 0xbad2310;

const CLASS_LDX: u8 = 0x01;
const CLASS_ST: u8 = 0x02;
const CLASS_STX: u8 = 0x03;
const CLASS_ALU: u8 = 0x04;
const CLASS_ALU64: u8 = 0x07;
const SOURCE_REG: u8 = 0x08;
const SIZE_MASK: u8 = 0x18;
const CALL: u8 = 0x85;
const JA: u8 = 0x05;

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
        } => match insn.code & 0x07 {
            CLASS_ALU | CLASS_ALU64 if insn.code & SOURCE_REG == 0 => {
                insns[at].imm = i32::try_from(value as i64)
                    .map_err(|_| format!("value {value} does not fit an ALU immediate"))?;
                Ok(())
            }
            CLASS_LDX | CLASS_ST | CLASS_STX => {
                insns[at].off = i16::try_from(value)
                    .map_err(|_| format!("offset {value} does not fit a memory access"))?;
                if insn.code & 0x07 == CLASS_LDX && local_size != target_size {
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
        1 => 0x10,
        2 => 0x08,
        4 => 0x00,
        8 => 0x18,
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
            *next = Insn::new(JA, 0, 0, 0, 0);
        }
    }
    insns[at] = Insn::new(CALL, 0, 0, 0, POISON_HELPER);
}
