//! Store-to-load forwarding on the stack: a load from a stack slot whose bytes an earlier store
//! of the same width wrote (in the same block, or in a chain of blocks each with a single
//! predecessor) becomes the stored value, zero-extended to the load's width unless the value
//! is known to fit (`store.1 key, v; w = load.1 key` is `v`: a byte variable whose address went
//! to a helper, read back).
//!
//! What a slot holds is forgotten at helper calls and `asm` (they may write through any stack
//! pointer they were given), at atomic adds and stores through pointers that are not a slot's
//! address, and, for the overwritten bytes, at other stores to the slot. Only pointers that are
//! a `stack_addr` themselves (offsets in the instruction) are followed.

use crate::ir::FastHashMap;
use crate::ir::{
    BinOp, Block, Function, Inst, InstKind, Operand, StackSlot, UnOp, Value, ValueDef,
};

/// How many definitions deep a value's upper bound is traced.
const MAX_DEPTH: u32 = 6;

pub fn run(func: &mut Function) {
    walk(func, |func, _, i, contents| {
        let InstKind::Load { size, ptr, offset } = func.insts[i.index()].kind else {
            return;
        };
        let stored = slot_of(func, ptr)
            .filter(|&s| within(func, s, offset, size))
            .and_then(|slot| contents.stored(slot, offset, size));
        if let Some(stored) = stored {
            func.insts[i.index()].kind = forwarded(func, stored, size);
        }
    });
}

/// What the stack slots hold before an instruction: stored bytes, as (slot, offset, size) and
/// what was stored there.
#[derive(Clone, Default)]
pub(super) struct SlotContents(Vec<(StackSlot, i16, u8, Operand)>);

impl SlotContents {
    /// What a store of exactly these bytes left there.
    fn stored(&self, slot: StackSlot, offset: i16, size: u8) -> Option<Operand> {
        (self.0.iter())
            .find(|k| k.0 == slot && k.1 == offset && k.2 == size)
            .map(|k| k.3)
    }

    /// The first `len` bytes of `slot`, when constants stored there cover them all.
    pub(super) fn constant_bytes(
        &self,
        func: &Function,
        slot: StackSlot,
        len: usize,
    ) -> Option<Vec<u8>> {
        let mut bytes = vec![None; len];
        for &(_, offset, size, value) in self.0.iter().filter(|k| k.0 == slot) {
            let constant = match value {
                Operand::Imm(c) => Some(c as i64),
                Operand::Value(v) => func.const_value(v),
            };
            for (n, at) in (offset as usize..offset as usize + size as usize).enumerate() {
                if let Some(byte) = bytes.get_mut(at) {
                    *byte = constant.map(|c| (c >> (8 * n)) as u8);
                }
            }
        }
        bytes.into_iter().collect()
    }

    /// Takes instruction `i` into account.
    fn after(&mut self, func: &Function, i: Inst) {
        match func.insts[i.index()].kind {
            InstKind::Store {
                size,
                ptr,
                offset,
                value,
            } => match slot_of(func, ptr).filter(|&s| within(func, s, offset, size)) {
                Some(slot) => {
                    self.forget_bytes(slot, offset, size);
                    self.0.push((slot, offset, size, value));
                }
                None => self.0.clear(),
            },
            InstKind::AtomicAdd { .. } | InstKind::Call { .. } | InstKind::Asm(_) => self.0.clear(),
            _ => {}
        }
    }

    fn forget_bytes(&mut self, slot: StackSlot, offset: i16, size: u8) {
        let (start, end) = (offset as i32, offset as i32 + size as i32);
        (self.0)
            .retain(|&(s, o, n, _)| s != slot || o as i32 + n as i32 <= start || o as i32 >= end);
    }
}

/// Visits every instruction of the laid-out blocks, in order, with what the slots hold before
/// it: a block starts from what its single predecessor ended with, or from nothing.
pub(super) fn walk(
    func: &mut Function,
    mut visit: impl FnMut(&mut Function, Block, Inst, &SlotContents),
) {
    let preds = func.predecessors();
    let mut at_end: FastHashMap<Block, SlotContents> = FastHashMap::default();
    for b in func.layout.clone() {
        let mut contents = match &preds[b.index()] {
            [p] => at_end.get(p).cloned().unwrap_or_default(),
            _ => SlotContents::default(),
        };
        for k in 0..func.blocks[b.index()].insts.len() {
            let i = func.blocks[b.index()].insts[k];
            visit(func, b, i, &contents);
            contents.after(func, i);
        }
        at_end.insert(b, contents);
    }
}

pub(super) fn slot_of(func: &Function, ptr: Value) -> Option<StackSlot> {
    match super::def_kind(func, ptr)? {
        InstKind::StackAddr(s) => Some(*s),
        _ => None,
    }
}

/// True when the bytes stay inside the slot (a store past its end may hit another slot).
fn within(func: &Function, slot: StackSlot, offset: i16, size: u8) -> bool {
    let len = func.slots[slot.index()].size as i32;
    offset >= 0 && offset as i32 + size as i32 <= len
}

/// What a load of `size` bytes reads back after a store of the same size of `stored`.
fn forwarded(func: &Function, stored: Operand, size: u8) -> InstKind {
    let bits = 8 * size as u32;
    match stored {
        Operand::Imm(c) if size == 8 => InstKind::Iconst(c as i64),
        Operand::Imm(c) => InstKind::Iconst((c as i64) & ((1i64 << bits) - 1)),
        Operand::Value(v) if size == 8 => InstKind::Copy(v),
        Operand::Value(v) if upper_bound(func, v, 0).is_some_and(|m| m >> bits == 0) => {
            InstKind::Copy(v)
        }
        Operand::Value(v) if size == 4 => InstKind::Unary {
            op: UnOp::Zext32,
            arg: v,
        },
        Operand::Value(v) => InstKind::Binary {
            op: BinOp::And,
            lhs: v,
            rhs: Operand::Imm(((1i64 << bits) - 1) as i32),
        },
    }
}

/// The largest value `v` can have as an unsigned 64-bit number, when known.
fn upper_bound(func: &Function, v: Value, depth: u32) -> Option<u64> {
    if depth > MAX_DEPTH {
        return None;
    }
    let ValueDef::Inst(i) = func.values.get(v.index())? else {
        return None;
    };
    let bound = |x: Value| upper_bound(func, x, depth + 1);
    let operand = |o: Operand| match o {
        Operand::Imm(c) => u64::try_from(c).ok(),
        Operand::Value(x) => bound(x),
    };
    // Every value below 2^k, for the smallest such k of `m`.
    let fill = |m: u64| u64::MAX >> m.leading_zeros();
    match &func.insts[i.index()].kind {
        InstKind::Iconst(c) => u64::try_from(*c).ok(),
        InstKind::Load { size, .. } if *size < 8 => Some(u64::MAX >> (64 - 8 * *size as u32)),
        InstKind::Unary {
            op: UnOp::Zext32,
            arg,
        } => Some(bound(*arg).unwrap_or(u64::MAX).min(u32::MAX as u64)),
        InstKind::Unary {
            op: UnOp::Swap16, ..
        } => Some(u16::MAX as u64),
        InstKind::Copy(x) => bound(*x),
        InstKind::Binary { op, lhs, rhs } => {
            let (a, b) = (bound(*lhs), operand(*rhs));
            match op {
                BinOp::And => match (a, b) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (x, y) => x.or(y),
                },
                BinOp::Or | BinOp::Xor => Some(fill(a? | b?)),
                BinOp::Rsh => match rhs {
                    Operand::Imm(k) if (0..64).contains(k) => {
                        Some(a.unwrap_or(u64::MAX) >> *k as u32)
                    }
                    _ => a,
                },
                _ => None,
            }
        }
        _ => None,
    }
}
