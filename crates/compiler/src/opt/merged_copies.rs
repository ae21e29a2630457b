//! Adjacent copies merged into one wider copy: two loads of `size` bytes from neighbouring
//! offsets of one pointer, each stored (and used nowhere else) at the same neighbouring
//! offsets of another pointer, become one load and one store of twice the size
//! (`r2 = *(u32 *)(r6 +26); *(u32 *)(r1 +0) = r2; r2 = *(u32 *)(r6 +30); *(u32 *)(r1 +4) = r2`
//! becomes `r2 = *(u64 *)(r6 +26); *(u64 *)(r1 +0) = r2`). The same bytes land in the same
//! places whatever the byte order; repeated, four 2-byte copies become one 8-byte copy.
//!
//! The wide load takes the place of the first load and the wide store that of the last store,
//! so nothing else that touches memory (a load, store, atomic add, call or `asm`) may sit
//! between them, and a store that ran before a load must write bytes that load does not read:
//! either both go through the same pointer at offsets that do not overlap, or the pointers
//! reach different kinds of memory (see [`Region`]).
//!
//! Only pointers whose kind of memory is known take part, because the verifier checks the
//! width of other accesses: a context field must be read at its own size, and a kernel struct
//! reached through BTF one member at a time. Of the known kinds, the stack is the one where
//! the verifier insists on alignment, so a stack copy is merged only when the wide offset is a
//! multiple of the wide size (slots are 8-byte aligned). Packet, map value and ring-buffer
//! memory accept unaligned accesses on the machines BPF runs on (those with efficient
//! unaligned access; programs loaded with `BPF_F_STRICT_ALIGNMENT` are not).

use super::{def_kind, is_context, use_counts};
use crate::ir::FastHashMap;
use crate::ir::{BinOp, Function, Inst, InstKind, Operand, StackSlot, Value};
use whistler_bpf::helpers::ids;

/// How many definitions (copies, additions) are followed back to a pointer's origin.
const MAX_DEPTH: u32 = 16;

/// The kind of memory a pointer reaches. Different kinds never overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Region {
    /// A stack slot.
    Stack(StackSlot),
    /// The packet: derived from a context field that points into it (`Function::packet_fields`).
    Packet,
    /// Memory a helper returned: a map value (`map_lookup_elem`) or a ring-buffer record
    /// (`ringbuf_reserve`). Two such pointers may reach the same bytes.
    HelperMemory,
}

/// Where a pointer comes from: its region, and the value it was derived from with the constant
/// added to it (`None` when a non-constant amount was added).
#[derive(Clone, Copy, Debug)]
struct Origin {
    region: Region,
    base: Value,
    offset: Option<i64>,
}

pub fn run(func: &mut Function) {
    while merge_one(func) {}
}

/// One copy: `load` reads `size` bytes at `src + src_off`; `store` writes them at
/// `dst + dst_off`.
#[derive(Clone, Copy, Debug)]
struct Copy {
    load: usize,
    store: usize,
    size: u8,
    src: Value,
    src_off: i16,
    dst: Value,
    dst_off: i16,
}

/// Merges the first mergeable pair found; returns whether it did.
fn merge_one(func: &mut Function) -> bool {
    let uses = use_counts(func);
    for b in func.layout.clone() {
        let insts = &func.blocks[b.index()].insts;
        let copies = copies(func, insts, &uses);
        for (n, first) in copies.iter().enumerate() {
            for second in &copies[n + 1..] {
                if mergeable(func, insts, first, second) {
                    let insts = insts.clone();
                    merge(func, b, &insts, first, second);
                    return true;
                }
            }
        }
    }
    false
}

/// The copies of a block, in the order of their stores: a narrow load in this block whose only
/// use is a store of the same size.
fn copies(func: &Function, insts: &[Inst], uses: &[u32]) -> Vec<Copy> {
    let mut out = Vec::new();
    // The position of each load seen so far, by its result (not a search back per store).
    let mut loads: FastHashMap<Value, usize> = FastHashMap::default();
    for (store, &i) in insts.iter().enumerate() {
        if let (InstKind::Load { .. }, Some(r)) = (&func.inst(i).kind, func.inst(i).result) {
            loads.insert(r, store);
        }
        let InstKind::Store {
            size,
            ptr: dst,
            offset: dst_off,
            value: Operand::Value(v),
        } = func.inst(i).kind
        else {
            continue;
        };
        let Some(&load) = loads.get(&v) else {
            continue;
        };
        if let InstKind::Load {
            size: load_size,
            ptr: src,
            offset: src_off,
        } = func.inst(insts[load]).kind
        {
            if load_size == size && size < 8 && uses[v.index()] == 1 {
                out.push(Copy {
                    load,
                    store,
                    size,
                    src,
                    src_off,
                    dst,
                    dst_off,
                });
            }
        }
    }
    out
}

fn mergeable(func: &Function, insts: &[Inst], a: &Copy, b: &Copy) -> bool {
    let s = a.size as i32;
    let src_step = b.src_off as i32 - a.src_off as i32;
    let dst_step = b.dst_off as i32 - a.dst_off as i32;
    if b.size != a.size
        || b.src != a.src
        || b.dst != a.dst
        || src_step != dst_step
        || src_step.abs() != s
    {
        return false;
    }
    let (Some(src), Some(dst)) = (origin(func, a.src, 0), origin(func, a.dst, 0)) else {
        return false;
    };
    let wide = 2 * s;
    let aligned = |o: &Origin, off: i16| match o.region {
        Region::Stack(_) => o
            .offset
            .is_some_and(|k| (k + off as i64).rem_euclid(wide as i64) == 0),
        Region::Packet | Region::HelperMemory => true,
    };
    if !aligned(&src, a.src_off.min(b.src_off)) || !aligned(&dst, a.dst_off.min(b.dst_off)) {
        return false;
    }
    let start = a.load.min(b.load);
    let end = b.store;
    let ours = [a.load, a.store, b.load, b.store];
    let touches_memory = (start..=end).filter(|k| !ours.contains(k)).any(|k| {
        let kind = &func.inst(insts[k]).kind;
        kind.has_side_effects() || matches!(kind, InstKind::Load { .. })
    });
    if touches_memory {
        return false;
    }
    // The loads now run before both stores: each store that ran before a load must not
    // write what that load reads.
    for st in [a, b] {
        for ld in [a, b] {
            if st.store < ld.load && !disjoint((src, ld.src_off), (dst, st.dst_off), a, s) {
                return false;
            }
        }
    }
    true
}

/// True when the `size` bytes a load of `copy`'s source pointer reads at `load_off` and those a
/// store through its destination pointer writes at `store_off` are surely different bytes.
fn disjoint(
    (load, load_off): (Origin, i16),
    (store, store_off): (Origin, i16),
    copy: &Copy,
    size: i32,
) -> bool {
    let apart = |x: i64, y: i64| x + size as i64 <= y || y + size as i64 <= x;
    if copy.src == copy.dst {
        return apart(load_off as i64, store_off as i64);
    }
    match (load.region, store.region) {
        (Region::HelperMemory, Region::HelperMemory) | (Region::Packet, Region::Packet) => {
            load.base == store.base
                && match (load.offset, store.offset) {
                    (Some(x), Some(y)) => apart(x + load_off as i64, y + store_off as i64),
                    _ => false,
                }
        }
        (Region::Stack(x), Region::Stack(y)) if x == y => match (load.offset, store.offset) {
            (Some(x), Some(y)) => apart(x + load_off as i64, y + store_off as i64),
            _ => false,
        },
        _ => true,
    }
}

/// Follows copies and additions back to where a pointer comes from; `None` when the memory
/// it reaches is not one of the known [`Region`]s.
fn origin(func: &Function, v: Value, depth: u32) -> Option<Origin> {
    if depth > MAX_DEPTH {
        return None;
    }
    let at = |region| {
        Some(Origin {
            region,
            base: v,
            offset: Some(0),
        })
    };
    let shifted = |o: Origin, k: Option<i64>| Origin {
        offset: o.offset.zip(k).map(|(a, b)| a + b),
        ..o
    };
    match def_kind(func, v)? {
        InstKind::Copy(x) => origin(func, *x, depth + 1),
        InstKind::Binary {
            op: BinOp::Add,
            lhs,
            rhs,
        } => {
            let o = origin(func, *lhs, depth + 1)?;
            Some(shifted(o, rhs_constant(*rhs)))
        }
        InstKind::Binary {
            op: BinOp::Sub,
            lhs,
            rhs: Operand::Imm(k),
        } => Some(shifted(origin(func, *lhs, depth + 1)?, Some(-(*k as i64)))),
        InstKind::StackAddr(slot) => at(Region::Stack(*slot)),
        InstKind::Call { helper, .. }
            if *helper == ids::MAP_LOOKUP_ELEM || *helper == ids::RINGBUF_RESERVE =>
        {
            at(Region::HelperMemory)
        }
        InstKind::Load { ptr, offset, .. }
            if is_context(func, *ptr) && func.packet_fields.contains(offset) =>
        {
            at(Region::Packet)
        }
        _ => None,
    }
}

fn rhs_constant(rhs: Operand) -> Option<i64> {
    match rhs {
        Operand::Imm(k) => Some(k as i64),
        Operand::Value(_) => None,
    }
}

/// Rewrites the pair: the earlier load reads both halves, the later store writes them, and the
/// other load and store go.
fn merge(func: &mut Function, b: crate::ir::Block, insts: &[Inst], a: &Copy, c: &Copy) {
    let low = if a.src_off < c.src_off { a } else { c };
    let first_load = insts[a.load.min(c.load)];
    let other_load = insts[a.load.max(c.load)];
    let wide = func.inst(first_load).result.expect("a load has a result");
    func.insts[first_load.index()].kind = InstKind::Load {
        size: 2 * low.size,
        ptr: low.src,
        offset: low.src_off,
    };
    let last_store = insts[c.store];
    func.insts[last_store.index()].kind = InstKind::Store {
        size: 2 * low.size,
        ptr: low.dst,
        offset: low.dst_off,
        value: Operand::Value(wide),
    };
    let first_store = insts[a.store];
    func.blocks[b.index()]
        .insts
        .retain(|&mut i| i != other_load && i != first_store);
}
