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
//! - bytes of a slot that nothing may read are never worth storing: loads read their bytes,
//!   helpers described by `whistler_bpf::helpers::read_buffers` the key, value or length they
//!   take (`map_push_elem` reads the map's value size of an 8-byte slot), any other use reads
//!   the whole slot. The zero fill of a `u32` variable's slot, whose first 4 bytes are stored
//!   next, goes;
//! - a helper that fills a buffer (`whistler_bpf::helpers::write_buffers`: `skb_load_bytes`
//!   writes all its bytes, zeroes on failure) overwrites it: the zero fill of a variable whose
//!   address it is given goes.
//!
//! Only stores whose pointer is the slot's address itself (`stack_addr`, with the offset in the
//! store) are considered. Does not look across blocks, nor at helpers that overwrite a buffer.

use super::SlotAddresses;
use crate::ir::FastHashMap;
use crate::ir::{Function, Inst, InstKind, StackSlot, Value};
use whistler_bpf::helpers::{read_buffers, write_buffers, ReadSize};

pub fn run(func: &mut Function) {
    let slot_of = SlotAddresses::new(func);
    let unread = never_read_slots(func, &slot_of);
    let escaped = escaped_slots(func, &slot_of);
    let readable = readable_bytes(func, &slot_of);
    for b in func.layout.clone() {
        let insts = &func.blocks[b.index()].insts;
        let dead = block_dead_stores(func, insts, &slot_of, &unread, &escaped, &readable);
        func.blocks[b.index()].insts.retain(|i| !dead.contains(i));
    }
}

/// Slots whose address is only ever the pointer of a store.
fn never_read_slots(func: &Function, slot_of: &SlotAddresses) -> Vec<bool> {
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
fn escaped_slots(func: &Function, slot_of: &SlotAddresses) -> Vec<bool> {
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
    slot_of: &SlotAddresses,
    unread: &[bool],
    escaped: &[bool],
    readable: &[Vec<bool>],
) -> Vec<Inst> {
    // Per slot, the bytes that a later store of this block overwrites before any read.
    let mut overwritten: FastHashMap<StackSlot, Vec<bool>> = FastHashMap::default();
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
                let read = &readable[slot.index()];
                if range.clone().all(|k| bytes[k] || !read[k]) {
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
            InstKind::Call { helper, args } => {
                overwritten.clear();
                // A buffer the helper fills (and no other argument hands it the slot).
                for (k, a) in args.iter().enumerate() {
                    let (Some(&slot), Some(len)) =
                        (slot_of.get(a), helper_writes(func, *helper, args, k))
                    else {
                        continue;
                    };
                    let shared = (args.iter().enumerate())
                        .any(|(j, b)| j != k && slot_of.get(b) == Some(&slot));
                    let size = func.slots[slot.index()].size as usize;
                    if shared || len as usize > size {
                        continue;
                    }
                    let bytes = overwritten.entry(slot).or_insert_with(|| vec![false; size]);
                    bytes[..len as usize].iter_mut().for_each(|b| *b = true);
                }
            }
            InstKind::Asm(_) | InstKind::AtomicAdd { .. } => overwritten.clear(),
            _ => {}
        }
    }
    dead
}

/// Per slot, the bytes something may read: what loads read, what the helpers of
/// `read_buffers` read, the whole slot for any other use of its address.
fn readable_bytes(func: &Function, slot_of: &SlotAddresses) -> Vec<Vec<bool>> {
    let mut read: Vec<Vec<bool>> = (func.slots.iter())
        .map(|s| vec![false; s.size as usize])
        .collect();
    let mut mark = |v: Value, start: i64, len: Option<i64>| {
        if let Some(s) = slot_of.get(&v) {
            let bytes = &mut read[s.index()];
            let end = len.map_or(bytes.len() as i64, |l| start + l);
            if start < 0 || len.is_none() || end > bytes.len() as i64 {
                bytes.iter_mut().for_each(|b| *b = true);
            } else {
                bytes[start as usize..end as usize]
                    .iter_mut()
                    .for_each(|b| *b = true);
            }
        }
    };
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &i in &data.insts {
            match &func.inst(i).kind {
                InstKind::Load { size, ptr, offset } => {
                    mark(*ptr, *offset as i64, Some(*size as i64))
                }
                InstKind::Store { value, .. } => {
                    if let Some(v) = value.value() {
                        mark(v, 0, None);
                    }
                }
                InstKind::Call { helper, args } => {
                    for (k, &a) in args.iter().enumerate() {
                        if helper_writes(func, *helper, args, k).is_none() {
                            mark(a, 0, helper_reads(func, *helper, args, k));
                        }
                    }
                }
                // Raw instructions may read any stack byte.
                InstKind::Asm(_) => {
                    for v in slot_of.values() {
                        mark(v, 0, None);
                    }
                }
                kind => kind.for_each_use(|v| mark(v, 0, None)),
            }
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| mark(v, 0, None));
        }
    }
    read
}

/// How many bytes helper `helper` reads through its argument `k`, when known.
pub(super) fn helper_reads(func: &Function, helper: u32, args: &[Value], k: usize) -> Option<i64> {
    let (_, size) = read_buffers(helper)
        .iter()
        .find(|(a, _)| *a as usize == k)?;
    let map_sizes = || match super::def_kind(func, *args.first()?)? {
        InstKind::MapFd(m) => func.map_sizes.get(*m as usize).copied(),
        _ => None,
    };
    match size {
        ReadSize::Arg(n) => func
            .const_value(*args.get(*n as usize)?)
            .filter(|&n| n >= 0),
        ReadSize::MapKey => map_sizes().map(|(key, _)| key as i64),
        ReadSize::MapValue => map_sizes().map(|(_, value)| value as i64),
    }
}

/// How many bytes helper `helper` fills through its argument `k` without reading them, when
/// known (a constant length).
fn helper_writes(func: &Function, helper: u32, args: &[Value], k: usize) -> Option<u64> {
    let (_, len) = write_buffers(helper)
        .iter()
        .find(|(a, _)| *a as usize == k)?;
    let len = func.const_value(*args.get(*len as usize)?)?;
    u64::try_from(len).ok()
}
