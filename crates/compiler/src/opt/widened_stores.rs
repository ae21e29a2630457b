//! Widened stores into zeroed stack bytes: a variable whose address is taken gets an 8-byte
//! slot that is zero-filled and then written with its (narrower) initial value
//! (`*(u64 *)(r10 -8) = 0; *(u8 *)(r10 -8) = r1`). When the stored value is known to fit in
//! the store's width and the rest of its 8-byte word is known to be zero at that point, the
//! store becomes an 8-byte store of the same value, which writes the very same bytes; the zero
//! fill it now covers is then removed by `dead_stack_stores`.
//!
//! Walks each block forwards, tracking per slot which bytes are known to be zero: a zero store
//! through the slot's address sets them, any other store to the slot clears its bytes, and a
//! call, `asm`, atomic add or store through any other pointer (which may point into a slot
//! whose address escaped) forgets everything.

use super::{def_kind, SlotAddresses};
use crate::ir::FastHashMap;
use crate::ir::{BinOp, Function, InstKind, Operand, StackSlot, UnOp};

/// How many definitions deep a value's width is traced.
const MAX_DEPTH: u32 = 4;

pub fn run(func: &mut Function) {
    let slot_of = SlotAddresses::new(func);
    for b in func.layout.clone() {
        let mut zero: FastHashMap<StackSlot, Vec<bool>> = FastHashMap::default();
        for k in 0..func.blocks[b.index()].insts.len() {
            let i = func.blocks[b.index()].insts[k];
            let widen = match &func.inst(i).kind {
                InstKind::Store {
                    size,
                    ptr,
                    offset,
                    value,
                } => {
                    let Some(&slot) = slot_of.get(ptr) else {
                        zero.clear();
                        continue;
                    };
                    let len = func.slots[slot.index()].size as usize;
                    let (start, end) = (*offset as isize, *offset as isize + *size as isize);
                    if start < 0 || end > len as isize {
                        zero.remove(&slot);
                        continue;
                    }
                    let (start, end) = (start as usize, end as usize);
                    let bytes = zero.entry(slot).or_insert_with(|| vec![false; len]);
                    let is_zero = matches!(value, Operand::Imm(0));
                    let word_end = start + 8;
                    let widen = *size < 8
                        && start.is_multiple_of(8)
                        && word_end <= len
                        && bytes[end..word_end].iter().all(|&z| z)
                        && fits(func, *value, *size, 0);
                    bytes[start..end].iter_mut().for_each(|z| *z = is_zero);
                    widen
                }
                InstKind::Call { .. } | InstKind::Asm(_) | InstKind::AtomicAdd { .. } => {
                    zero.clear();
                    false
                }
                _ => false,
            };
            if widen {
                if let InstKind::Store { size, .. } = &mut func.insts[i.index()].kind {
                    *size = 8;
                }
            }
        }
    }
}

/// True when `value` is known to be below 2^(8 * size): its bytes past `size` are zero.
fn fits(func: &Function, value: Operand, size: u8, depth: u32) -> bool {
    let bits = 8 * size as u32;
    let v = match value {
        Operand::Imm(k) => return k >= 0 && (k as u64) >> bits == 0,
        Operand::Value(v) => v,
    };
    if depth >= MAX_DEPTH {
        return false;
    }
    match def_kind(func, v) {
        Some(InstKind::Iconst(k)) => *k >= 0 && (*k as u64) >> bits == 0,
        Some(InstKind::Load { size: loaded, .. }) => *loaded <= size,
        Some(InstKind::Copy(x)) => fits(func, Operand::Value(*x), size, depth + 1),
        Some(InstKind::Unary {
            op: UnOp::Zext32, ..
        }) => size >= 4,
        Some(InstKind::Unary {
            op: UnOp::Swap16, ..
        }) => size >= 2,
        Some(InstKind::Unary {
            op: UnOp::Swap32, ..
        }) => size >= 4,
        Some(InstKind::Binary {
            op: BinOp::And,
            lhs,
            rhs,
        }) => {
            fits(func, *rhs, size, depth + 1) || fits(func, Operand::Value(*lhs), size, depth + 1)
        }
        Some(InstKind::Binary {
            op: BinOp::Rsh,
            rhs: Operand::Imm(n),
            ..
        }) => *n as u32 >= 64 - bits,
        _ => false,
    }
}
