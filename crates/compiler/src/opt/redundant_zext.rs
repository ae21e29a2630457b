//! Redundant zero extensions: `zext32 x` (the `w = w` of a `cast` to a 32-bit type) becomes a
//! copy of `x` when the extension cannot change what the program computes:
//! - `x`'s upper 32 bits are already known to be zero: a load of at most 4 bytes, another
//!   `zext32`, a 16- or 32-bit byte swap, a logical right shift by 32 or more, an `and` with a
//!   non-negative immediate, a 32-bit constant, a logical right shift of such a value, or a
//!   block parameter whose every incoming argument is such a value;
//! - or nothing reads the upper bits of the result: its only uses are the stored value of
//!   stores of at most 4 bytes, which truncate anyway.
//!
//! Copy propagation and dead code then remove it. Does not reason about arithmetic on small
//! values (`a + b` of two bytes) or parameters of loops whose arguments depend on themselves.

use super::def_kind;
use crate::ir::{
    BinOp, Function, InstKind, Operand, Predecessors, Terminator, UnOp, Value, ValueDef,
};

/// How many definitions deep the upper bits are traced.
const MAX_DEPTH: u32 = 4;

pub fn run(func: &mut Function) {
    let preds = func.predecessors();
    let narrow_only = only_narrow_uses(func);
    for b in func.layout.clone() {
        for k in 0..func.blocks[b.index()].insts.len() {
            let i = func.blocks[b.index()].insts[k];
            let data = &func.insts[i.index()];
            let InstKind::Unary {
                op: UnOp::Zext32,
                arg,
            } = data.kind
            else {
                continue;
            };
            let unread_upper = data.result.is_some_and(|r| narrow_only[r.index()]);
            if unread_upper || upper_bits_zero(func, &preds, arg, 0) {
                func.insts[i.index()].kind = InstKind::Copy(arg);
            }
        }
    }
}

/// For every value: true when it is used, and only as the stored value of stores of at most
/// 4 bytes.
fn only_narrow_uses(func: &Function) -> Vec<bool> {
    let mut narrow = vec![false; func.values.len()];
    let mut wide = vec![false; func.values.len()];
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &i in &data.insts {
            let kind = &func.inst(i).kind;
            if let InstKind::Store {
                size: 1 | 2 | 4,
                ptr,
                value: Operand::Value(v),
                ..
            } = kind
            {
                narrow[v.index()] = true;
                wide[ptr.index()] = true;
            } else {
                kind.for_each_use(|v| wide[v.index()] = true);
            }
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| wide[v.index()] = true);
        }
    }
    narrow.iter().zip(&wide).map(|(&n, &w)| n && !w).collect()
}

fn upper_bits_zero(func: &Function, preds: &Predecessors, v: Value, depth: u32) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if let Some(ValueDef::Param(b, k)) = func.values.get(v.index()) {
        return !preds[b.index()].is_empty()
            && preds[b.index()].iter().all(|p| match func.term(*p) {
                Terminator::Jump { args, .. } => args
                    .get(*k)
                    .is_some_and(|a| upper_bits_zero(func, preds, *a, depth + 1)),
                _ => false,
            });
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
                || upper_bits_zero(func, preds, *lhs, depth + 1)
        }
        Some(InstKind::Binary {
            op: BinOp::And,
            rhs: Operand::Imm(k),
            ..
        }) => *k >= 0,
        Some(InstKind::Copy(x)) => upper_bits_zero(func, preds, *x, depth + 1),
        _ => false,
    }
}
