//! Address folding: a load, store or atomic add through `p = base + constant` uses `base` with
//! the constant added to its offset (`*(u8 *)(r2 + 9)` after `r2 = data + 14` becomes
//! `*(u8 *)(data + 23)`). The verifier needs this for context pointers, which may not be
//! moved before a dereference; for packet pointers the bounds it checks are the same.
//!
//! Does not fold through several additions in one step (repeated runs do), nor when the
//! offset would leave the 16-bit range.

use crate::ir::{BinOp, Function, InstKind, Operand, Value};

pub fn run(func: &mut Function) {
    for b in func.layout.clone() {
        for k in 0..func.blocks[b.index()].insts.len() {
            let i = func.blocks[b.index()].insts[k];
            let folded = match func.insts[i.index()].kind {
                InstKind::Load { size, ptr, offset } => fold(func, ptr, offset)
                    .map(|(ptr, offset)| InstKind::Load { size, ptr, offset }),
                InstKind::Store {
                    size,
                    ptr,
                    offset,
                    value,
                } => fold(func, ptr, offset).map(|(ptr, offset)| InstKind::Store {
                    size,
                    ptr,
                    offset,
                    value,
                }),
                InstKind::AtomicAdd {
                    size,
                    ptr,
                    offset,
                    value,
                } => fold(func, ptr, offset).map(|(ptr, offset)| InstKind::AtomicAdd {
                    size,
                    ptr,
                    offset,
                    value,
                }),
                _ => None,
            };
            if let Some(k) = folded {
                func.insts[i.index()].kind = k;
            }
        }
    }
}

/// `(base, offset + c)` when `ptr` is `base + c` and the sum fits in 16 bits.
fn fold(func: &Function, ptr: Value, offset: i16) -> Option<(Value, i16)> {
    match super::def_kind(func, ptr)? {
        InstKind::Binary {
            op: BinOp::Add,
            lhs,
            rhs: Operand::Imm(c),
        } => {
            let sum = i16::try_from(offset as i64 + *c as i64).ok()?;
            Some((*lhs, sum))
        }
        _ => None,
    }
}
