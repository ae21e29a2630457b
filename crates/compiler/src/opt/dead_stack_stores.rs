//! Dead stack stores, found in two ways:
//! - a stack slot that is never read (every use of its address is the pointer of a store) loses
//!   all its stores (a map key left behind by a removed lookup);
//! - within a block, a store to bytes of a slot that later stores of the same block overwrite
//!   before anything may read them is removed (the zero fill of a struct whose every field is
//!   then set). Walking backwards, the bytes about to be overwritten are tracked per slot; a
//!   load from the slot forgets that slot's bytes, a call, `asm` or atomic add forgets all, and
//!   a load through any other pointer forgets the slots whose address escaped (is used other
//!   than as the pointer of a load or store or as a helper argument), as it may point into them.
//!
//! Only stores whose pointer is the slot's address itself (`stack_addr`, with the offset in the
//! store) are considered. Does not look across blocks, nor at helpers that overwrite a buffer.

use crate::ir::{Function, Inst, InstKind, StackSlot, Value};
use std::collections::HashMap;

pub fn run(func: &mut Function) {
    let slot_of = slot_addresses(func);
    let unread = never_read_slots(func, &slot_of);
    let escaped = escaped_slots(func, &slot_of);
    for b in func.layout.clone() {
        let insts = func.blocks[b.index()].insts.clone();
        let dead = block_dead_stores(func, &insts, &slot_of, &unread, &escaped);
        func.blocks[b.index()].insts.retain(|i| !dead.contains(i));
    }
}

/// The slot each `stack_addr` value is the address of.
fn slot_addresses(func: &Function) -> HashMap<Value, StackSlot> {
    let mut slot_of = HashMap::new();
    for &b in &func.layout {
        for &i in &func.blocks[b.index()].insts {
            if let (InstKind::StackAddr(s), Some(r)) = (&func.inst(i).kind, func.inst(i).result) {
                slot_of.insert(r, *s);
            }
        }
    }
    slot_of
}

/// Slots whose address is only ever the pointer of a store.
fn never_read_slots(func: &Function, slot_of: &HashMap<Value, StackSlot>) -> Vec<bool> {
    let mut read = vec![false; func.slots.len()];
    let mut mark = |v: Value| {
        if let Some(s) = slot_of.get(&v) {
            read[s.index()] = true;
        }
    };
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &i in &data.insts {
            match &func.inst(i).kind {
                InstKind::Store { value, .. } => {
                    if let Some(v) = value.value() {
                        mark(v);
                    }
                }
                kind => kind.for_each_use(&mut mark),
            }
        }
        if let Some(t) = &data.term {
            t.for_each_use(&mut mark);
        }
    }
    read.into_iter().map(|r| !r).collect()
}

/// Slots whose address is used other than as the pointer of a load or store or as a helper
/// argument: a pointer into them may be held by any other value.
fn escaped_slots(func: &Function, slot_of: &HashMap<Value, StackSlot>) -> Vec<bool> {
    let mut escaped = vec![false; func.slots.len()];
    let mut mark = |v: Value| {
        if let Some(s) = slot_of.get(&v) {
            escaped[s.index()] = true;
        }
    };
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &i in &data.insts {
            match &func.inst(i).kind {
                InstKind::Store { value, .. } => {
                    if let Some(v) = value.value() {
                        mark(v);
                    }
                }
                InstKind::Load { .. } | InstKind::Call { .. } => {}
                kind => kind.for_each_use(&mut mark),
            }
        }
        if let Some(t) = &data.term {
            t.for_each_use(&mut mark);
        }
    }
    escaped
}

/// The stores of one block that nothing can read.
fn block_dead_stores(
    func: &Function,
    insts: &[Inst],
    slot_of: &HashMap<Value, StackSlot>,
    unread: &[bool],
    escaped: &[bool],
) -> Vec<Inst> {
    // Per slot, the bytes that a later store of this block overwrites before any read.
    let mut overwritten: HashMap<StackSlot, Vec<bool>> = HashMap::new();
    let mut dead = Vec::new();
    for &i in insts.iter().rev() {
        match &func.inst(i).kind {
            InstKind::Store {
                size, ptr, offset, ..
            } => {
                let Some(&slot) = slot_of.get(ptr) else {
                    continue;
                };
                if unread[slot.index()] {
                    dead.push(i);
                    continue;
                }
                let len = func.slots[slot.index()].size as usize;
                let (start, end) = (*offset as isize, *offset as isize + *size as isize);
                if start < 0 || end > len as isize {
                    continue;
                }
                let bytes = overwritten.entry(slot).or_insert_with(|| vec![false; len]);
                let range = start as usize..end as usize;
                if bytes[range.clone()].iter().all(|&b| b) {
                    dead.push(i);
                } else {
                    bytes[range].iter_mut().for_each(|b| *b = true);
                }
            }
            InstKind::Load { ptr, .. } => match slot_of.get(ptr) {
                Some(slot) => {
                    overwritten.remove(slot);
                }
                None => overwritten.retain(|slot, _| !escaped[slot.index()]),
            },
            InstKind::Call { .. } | InstKind::Asm(_) | InstKind::AtomicAdd { .. } => {
                overwritten.clear()
            }
            _ => {}
        }
    }
    dead
}
