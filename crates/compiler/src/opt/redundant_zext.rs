//! Redundant zero extensions: `zext32 x` (the `w = w` of a `cast` to a 32-bit type) becomes a
//! copy of `x` when `x`'s upper 32 bits are already known to be zero: a load of at most 4
//! bytes, another `zext32`, a 16- or 32-bit byte swap, a logical right shift by 32 or more, an
//! `and` with a non-negative immediate, a 32-bit constant, or a logical right shift of such a
//! value. Copy propagation and dead code then remove it.

use super::def_kind;
use crate::ir::{BinOp, Function, InstKind, Operand, UnOp, Value};

/// How many definitions deep the upper bits are traced.
const MAX_DEPTH: u32 = 4;

pub fn run(func: &mut Function) {
    for b in func.layout.clone() {
        for i in func.blocks[b.index()].insts.clone() {
            if let InstKind::Unary {
                op: UnOp::Zext32,
                arg,
            } = func.insts[i.index()].kind
            {
                if upper_bits_zero(func, arg, 0) {
                    func.insts[i.index()].kind = InstKind::Copy(arg);
                }
            }
        }
    }
}

fn upper_bits_zero(func: &Function, v: Value, depth: u32) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match def_kind(func, v) {
        Some(InstKind::Load { size, .. }) => *size <= 4,
        Some(InstKind::Iconst(c)) => u32::try_from(*c).is_ok(),
        Some(InstKind::Unary { op, .. }) => {
            matches!(op, UnOp::Zext32 | UnOp::Swap16 | UnOp::Swap32)
        }
        Some(InstKind::Binary {
            op: BinOp::Rsh,
            lhs,
            rhs,
        }) => {
            matches!(rhs, Operand::Imm(k) if (32..64).contains(k))
                || upper_bits_zero(func, *lhs, depth + 1)
        }
        Some(InstKind::Binary {
            op: BinOp::And,
            rhs: Operand::Imm(k),
            ..
        }) => *k >= 0,
        Some(InstKind::Copy(x)) => upper_bits_zero(func, *x, depth + 1),
        _ => false,
    }
}
