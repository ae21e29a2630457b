//! Disassembly in the kernel verifier's notation (`r0 = *(u32 *)(r1 +4)`, `if r1 > 0x5 goto pc+3`).

use crate::helpers;
use crate::insn::Insn;
use crate::opcode::*;

/// Disassembles a whole program: one line per instruction slot, `ld_imm64` taking two slots
/// (the second slot yields no line). Returns (instruction index, text) pairs.
pub fn disassemble(insns: &[Insn]) -> Vec<(usize, String)> {
    let mut out = Vec::with_capacity(insns.len());
    let mut i = 0;
    while i < insns.len() {
        let insn = insns[i];
        if insn.is_ld_imm64() {
            let high = insns.get(i + 1).map_or(0, |n| n.imm as u32 as u64);
            out.push((i, format_ld_imm64(&insn, high)));
            i += 2;
        } else {
            out.push((i, format_insn(&insn)));
            i += 1;
        }
    }
    out
}

fn format_ld_imm64(insn: &Insn, high: u64) -> String {
    let value = (high << 32) | insn.imm as u32 as u64;
    match insn.src {
        BPF_PSEUDO_MAP_FD => format!("r{} = map[fd:{}] ll", insn.dst, insn.imm),
        BPF_PSEUDO_MAP_VALUE => format!("r{} = map[fd:{}][0]+{} ll", insn.dst, insn.imm, high),
        BPF_PSEUDO_BTF_ID => format!("r{} = btf[{}] ll", insn.dst, insn.imm),
        _ => format!("r{} = {:#x} ll", insn.dst, value),
    }
}

fn size_name(code: u8) -> &'static str {
    match code & 0x18 {
        BPF_B => "u8",
        BPF_H => "u16",
        BPF_W => "u32",
        _ => "u64",
    }
}

fn signed_size_name(code: u8) -> &'static str {
    match code & 0x18 {
        BPF_B => "s8",
        BPF_H => "s16",
        BPF_W => "s32",
        _ => "s64",
    }
}

fn offset(off: i16) -> String {
    if off < 0 {
        format!("{off}")
    } else {
        format!("+{off}")
    }
}

/// Formats one instruction (not the second half of an `ld_imm64`).
pub fn format_insn(insn: &Insn) -> String {
    let code = insn.code;
    match class(code) {
        BPF_ALU | BPF_ALU64 => format_alu(insn),
        BPF_JMP | BPF_JMP32 => format_jump(insn),
        BPF_LDX if code & 0xe0 == BPF_MEMSX => format!(
            "r{} = *({} *)(r{} {})",
            insn.dst,
            signed_size_name(code),
            insn.src,
            offset(insn.off)
        ),
        BPF_LDX => format!(
            "r{} = *({} *)(r{} {})",
            insn.dst,
            size_name(code),
            insn.src,
            offset(insn.off)
        ),
        BPF_ST => format!(
            "*({} *)(r{} {}) = {}",
            size_name(code),
            insn.dst,
            offset(insn.off),
            insn.imm
        ),
        BPF_STX if code & 0xe0 == BPF_ATOMIC => format_atomic(insn),
        BPF_STX => format!(
            "*({} *)(r{} {}) = r{}",
            size_name(code),
            insn.dst,
            offset(insn.off),
            insn.src
        ),
        BPF_LD if code & 0xe0 == BPF_ABS => {
            format!("r0 = *({} *)skb[{}]", size_name(code), insn.imm)
        }
        BPF_LD if code & 0xe0 == BPF_IND => {
            format!(
                "r0 = *({} *)skb[r{} + {}]",
                size_name(code),
                insn.src,
                insn.imm
            )
        }
        _ => format!("invalid {:#04x}", code),
    }
}

fn format_alu(insn: &Insn) -> String {
    let code = insn.code;
    let wide = class(code) == BPF_ALU64;
    let reg = if wide { 'r' } else { 'w' };
    let op = code & 0xf0;
    let operand = if code & BPF_X != 0 {
        format!("{reg}{}", insn.src)
    } else {
        format!("{}", insn.imm)
    };
    let dst = format!("{reg}{}", insn.dst);
    let sym = match op {
        BPF_ADD => "+=",
        BPF_SUB => "-=",
        BPF_MUL => "*=",
        BPF_DIV if insn.off == 1 => "s/=",
        BPF_DIV => "/=",
        BPF_OR => "|=",
        BPF_AND => "&=",
        BPF_LSH => "<<=",
        BPF_RSH => ">>=",
        BPF_MOD if insn.off == 1 => "s%=",
        BPF_MOD => "%=",
        BPF_XOR => "^=",
        BPF_ARSH => "s>>=",
        BPF_NEG => return format!("{dst} = -{dst}"),
        BPF_MOV if insn.off != 0 && code & BPF_X != 0 => {
            return format!("{dst} = (s{}){reg}{}", insn.off, insn.src)
        }
        BPF_MOV => return format!("{dst} = {operand}"),
        BPF_END => {
            let dir = if wide {
                "bswap"
            } else if code & BPF_TO_BE != 0 {
                "be"
            } else {
                "le"
            };
            return format!("r{} = {dir}{} r{}", insn.dst, insn.imm, insn.dst);
        }
        _ => return format!("invalid alu {:#04x}", code),
    };
    format!("{dst} {sym} {operand}")
}

fn format_jump(insn: &Insn) -> String {
    let code = insn.code;
    let reg = if class(code) == BPF_JMP32 { 'w' } else { 'r' };
    let op = code & 0xf0;
    match op {
        BPF_JA if class(code) == BPF_JMP32 => return format!("gotol pc{}", offset_i32(insn.imm)),
        BPF_JA => return format!("goto pc{}", offset(insn.off)),
        BPF_EXIT => return "exit".to_string(),
        BPF_CALL => return format_call(insn),
        _ => {}
    }
    let cmp = match op {
        BPF_JEQ => "==",
        BPF_JGT => ">",
        BPF_JGE => ">=",
        BPF_JSET => "&",
        BPF_JNE => "!=",
        BPF_JSGT => "s>",
        BPF_JSGE => "s>=",
        BPF_JLT => "<",
        BPF_JLE => "<=",
        BPF_JSLT => "s<",
        BPF_JSLE => "s<=",
        _ => return format!("invalid jump {:#04x}", code),
    };
    let operand = if code & BPF_X != 0 {
        format!("{reg}{}", insn.src)
    } else {
        format!("{:#x}", insn.imm)
    };
    format!(
        "if {reg}{} {cmp} {operand} goto pc{}",
        insn.dst,
        offset(insn.off)
    )
}

fn offset_i32(off: i32) -> String {
    if off < 0 {
        format!("{off}")
    } else {
        format!("+{off}")
    }
}

fn format_call(insn: &Insn) -> String {
    match insn.src {
        BPF_PSEUDO_CALL => format!("call pc{}", offset_i32(insn.imm)),
        BPF_PSEUDO_KFUNC_CALL => format!("call kfunc#{}", insn.imm),
        _ => match helpers::by_id(insn.imm as u32) {
            Some(h) => format!("call bpf_{}#{}", h.kernel_name, insn.imm),
            None => format!("call #{}", insn.imm),
        },
    }
}

fn format_atomic(insn: &Insn) -> String {
    let size = size_name(insn.code);
    let (dst, off, src) = (insn.dst, offset(insn.off), insn.src);
    let fetch = insn.imm & BPF_FETCH != 0;
    let op = match insn.imm & !BPF_FETCH {
        0x00 => "+=",
        0x40 => "|=",
        0x50 => "&=",
        0xa0 => "^=",
        _ if insn.imm == BPF_XCHG => {
            return format!("r{src} = atomic_xchg(({size} *)(r{dst} {off}), r{src})")
        }
        _ if insn.imm == BPF_CMPXCHG => {
            return format!("r0 = atomic_cmpxchg(({size} *)(r{dst} {off}), r0, r{src})")
        }
        _ => return format!("invalid atomic {:#x}", insn.imm),
    };
    if fetch {
        format!("r{src} = atomic_fetch({size} *)(r{dst} {off}) {op} r{src}")
    } else {
        format!("lock *({size} *)(r{dst} {off}) {op} r{src}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::Reg;

    #[test]
    fn kernel_notation() {
        let mut prog = vec![
            Insn::mov64_imm(Reg::R0, 2),
            Insn::load(BPF_W, Reg::R2, Reg::R1, 4),
            Insn::jmp_imm(BPF_JGT, Reg::R2, 5, 3),
            Insn::store_reg(BPF_DW, Reg::FP, -8, Reg::R1),
            Insn::atomic(BPF_DW, BPF_ADD as i32, Reg::R0, 0, Reg::R1),
            Insn::call_helper(1),
            Insn::to_be(Reg::R3, 16),
        ];
        prog.extend(Insn::ld_imm64(Reg::R1, BPF_PSEUDO_MAP_FD, 0));
        prog.push(Insn::exit());
        let text: Vec<String> = disassemble(&prog).into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            text,
            [
                "r0 = 2",
                "r2 = *(u32 *)(r1 +4)",
                "if r2 > 0x5 goto pc+3",
                "*(u64 *)(r10 -8) = r1",
                "lock *(u64 *)(r0 +0) += r1",
                "call bpf_map_lookup_elem#1",
                "r3 = be16 r3",
                "r1 = map[fd:0] ll",
                "exit",
            ]
        );
    }
}
