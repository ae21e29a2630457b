//! Shared key slots: a helper argument that points at a slot just filled with a value that
//! another slot already holds (a key stored again for a second lookup with the same key) points
//! at that other slot instead, and the second store goes when nothing reads it afterwards: the
//! `store` and the two instructions building the address (`r2 = r10; r2 += -16`) become one
//! move or nothing.
//!
//! The other slot must hold the value for good: stored once, at offset 0, by a store that
//! dominates the call, and its address used only for loads and as arguments helpers only read
//! (`whistler_bpf::helpers::read_buffers`). The filling store must be in the call's block, with
//! nothing between that may write the slot, and both stores must cover the bytes the helper
//! reads (both are the low bytes of the same value).

use super::dead_stack_stores::helper_reads;
use super::SlotAddresses;
use crate::analysis::dominators::DominatorTree;
use crate::ir::{Block, Function, Inst, InstKind, Operand, StackSlot, Value};
use whistler_bpf::helpers::read_buffers;

pub fn run(func: &mut Function) {
    let slot_of = SlotAddresses::new(func);
    let mut held = held_values(func, &slot_of);
    if held.iter().all(Option::is_none) {
        return;
    }
    let dominators = DominatorTree::compute(func);
    for b in func.layout.clone() {
        let mut k = 0;
        while k < func.blocks[b.index()].insts.len() {
            let call = func.blocks[b.index()].insts[k];
            let InstKind::Call { helper, args } = func.insts[call.index()].kind.clone() else {
                k += 1;
                continue;
            };
            for (arg, &a) in args.iter().enumerate() {
                let Some(&slot) = slot_of.get(&a) else {
                    continue;
                };
                if !read_buffers(helper).iter().any(|(i, _)| *i as usize == arg) {
                    continue;
                }
                let Some(len) = helper_reads(func, helper, &args, arg) else {
                    continue;
                };
                let Some((store, value)) = filling_store(func, b, k, slot, &slot_of)
                    .filter(|&(_, _, size)| size as i64 >= len)
                    .map(|(store, value, _)| (store, value))
                else {
                    continue;
                };
                let holder = held.iter().enumerate().find_map(|(s, h)| {
                    let h = h.as_ref()?;
                    let dominates = match h.place {
                        (pb, pk) if pb == b => pk < k,
                        (pb, _) => dominators.is_reachable(b) && dominators.dominates(pb, b),
                    };
                    let fits = h.value == value && h.size as i64 >= len;
                    (s != slot.index() && fits && dominates).then_some(h.address)
                });
                let Some(address) = holder else {
                    continue;
                };
                if let InstKind::Call { args, .. } = &mut func.insts[call.index()].kind {
                    args[arg] = address;
                }
                if !read_after(func, b, store, slot, &slot_of) {
                    func.blocks[b.index()].insts.retain(|i| *i != store);
                    held[slot.index()] = None;
                    k -= 1;
                }
            }
            k += 1;
        }
    }
}

/// What a slot holds for good.
#[derive(Clone, Copy)]
struct Held {
    /// Where its only store is: the block and the index there.
    place: (Block, usize),
    value: Operand,
    /// The store's width.
    size: u8,
    /// The address the store goes through (a `stack_addr` of the slot, defined before it).
    address: Value,
}

/// Per slot, when it holds one value for good, what it holds.
fn held_values(func: &Function, slot_of: &SlotAddresses) -> Vec<Option<Held>> {
    // Per slot, every store through its address, with the store's offset.
    let mut stores: Vec<Vec<(Held, i16)>> = vec![Vec::new(); func.slots.len()];
    // Raw instructions may write any stack byte.
    let has_asm = (func.layout.iter())
        .flat_map(|b| &func.blocks[b.index()].insts)
        .any(|&i| matches!(func.inst(i).kind, InstKind::Asm(_)));
    let mut other_use = vec![has_asm; func.slots.len()];
    let mark = |v, other_use: &mut Vec<bool>| {
        if let Some(s) = slot_of.get(&v) {
            other_use[s.index()] = true;
        }
    };
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for (k, &i) in data.insts.iter().enumerate() {
            match &func.inst(i).kind {
                InstKind::Store {
                    size,
                    ptr,
                    offset,
                    value,
                } => {
                    if let Some(s) = slot_of.get(ptr) {
                        let held = Held {
                            place: (b, k),
                            value: *value,
                            size: *size,
                            address: *ptr,
                        };
                        stores[s.index()].push((held, *offset));
                    }
                    if let Some(v) = value.value() {
                        mark(v, &mut other_use);
                    }
                }
                InstKind::Load { .. } => {}
                InstKind::Call { helper, args } => {
                    for (arg, &a) in args.iter().enumerate() {
                        if !read_buffers(*helper)
                            .iter()
                            .any(|(i, _)| *i as usize == arg)
                        {
                            mark(a, &mut other_use);
                        }
                    }
                }
                kind => kind.for_each_use(|v| mark(v, &mut other_use)),
            }
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| mark(v, &mut other_use));
        }
    }
    (stores.into_iter().zip(other_use))
        .map(|(stores, other)| match stores.as_slice() {
            [(held, 0)] if !other => Some(*held),
            _ => None,
        })
        .collect()
}

/// The store that last filled `slot` before instruction `k` of block `b`, at offset 0, with
/// nothing between that may write the slot: the store, its value and its width.
fn filling_store(
    func: &Function,
    b: Block,
    k: usize,
    slot: StackSlot,
    slot_of: &SlotAddresses,
) -> Option<(Inst, Operand, u8)> {
    for &i in func.blocks[b.index()].insts[..k].iter().rev() {
        match &func.inst(i).kind {
            InstKind::Store {
                size,
                ptr,
                offset,
                value,
            } => match slot_of.get(ptr) {
                Some(&s) if s == slot => return (*offset == 0).then_some((i, *value, *size)),
                Some(_) => {}
                None => return None,
            },
            InstKind::Call { .. } | InstKind::Asm(_) | InstKind::AtomicAdd { .. } => return None,
            _ => {}
        }
    }
    None
}

/// True when anything may read `slot` after `store` (in block `b`): a use of its address other
/// than as a store's pointer, later in `b` or in a block reachable from it.
fn read_after(
    func: &Function,
    b: Block,
    store: Inst,
    slot: StackSlot,
    slot_of: &SlotAddresses,
) -> bool {
    let reads = |i: Inst| {
        let mut read = false;
        match &func.inst(i).kind {
            InstKind::Store { value, .. } => {
                if let Some(v) = value.value() {
                    read |= slot_of.get(&v) == Some(&slot);
                }
            }
            kind => kind.for_each_use(|v| read |= slot_of.get(&v) == Some(&slot)),
        }
        read
    };
    let term_reads = |blk: Block| {
        let mut read = false;
        if let Some(t) = &func.blocks[blk.index()].term {
            t.for_each_use(|v| read |= slot_of.get(&v) == Some(&slot));
        }
        read
    };
    let insts = &func.blocks[b.index()].insts;
    let after = insts.iter().position(|&i| i == store).map_or(0, |p| p + 1);
    if insts[after..].iter().any(|&i| reads(i)) || term_reads(b) {
        return true;
    }
    let mut seen = vec![false; func.blocks.len()];
    let mut stack: Vec<Block> = func.term(b).successors().into_iter().collect();
    while let Some(s) = stack.pop() {
        if std::mem::replace(&mut seen[s.index()], true) {
            continue;
        }
        if func.blocks[s.index()].insts.iter().any(|&i| reads(i)) || term_reads(s) {
            return true;
        }
        stack.extend(func.term(s).successors());
    }
    false
}
