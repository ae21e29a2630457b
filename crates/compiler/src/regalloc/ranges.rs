//! Live ranges with lifetime holes: for every value, the sorted, disjoint list of program-point
//! ranges where it is live, computed from block-level liveness (so a value used in one arm of a
//! diamond is not live in the other, and values live around a loop cover its whole body).
//!
//! Program points number the laid-out blocks: a block's start (where its parameters are
//! defined), then per instruction a use point (even) and a definition point (odd), then the
//! terminator's use point (the block's end, where jump arguments are moved).

use crate::ir::{Block, Function, Value, ValueList};

/// An inclusive range of program points.
pub type Range = (u32, u32);

/// A value's (or bundle's) sorted ranges. Most values live in one or two ranges, kept inline
/// (no heap allocation per value, which scattered the lists over the heap).
pub type RangeList = smallvec::SmallVec<[Range; 2]>;

pub struct Numbering {
    pub block_start: Vec<u32>,
    pub block_end: Vec<u32>,
    /// Use points of instructions that clobber R0-R5, ascending.
    pub calls: Vec<u32>,
}

/// The live ranges of every value (empty for values that are never defined) and the numbering.
pub fn live_ranges(func: &Function) -> (Vec<RangeList>, Numbering) {
    let numbering = number(func);
    let mut live_out = live_out(func);
    let mut ranges: Vec<RangeList> = vec![RangeList::new(); func.values.len()];
    // Open ranges while walking a block backwards: the end of each live value's current range.
    let mut open: Vec<Option<u32>> = vec![None; func.values.len()];
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        let end = numbering.block_end[b.index()];
        let mut live: ValueList = std::mem::take(&mut live_out[b.index()]);
        for &v in &live {
            open[v.index()] = Some(end);
        }
        let use_at = |v: Value, pos: u32, open: &mut [Option<u32>], live: &mut ValueList| {
            if open[v.index()].is_none() {
                open[v.index()] = Some(pos);
                live.push(v);
            }
        };
        if let Some(t) = &data.term {
            t.for_each_use(|v| use_at(v, end, &mut open, &mut live));
        }
        let mut pos = end;
        for &i in data.insts.iter().rev() {
            pos -= 2;
            let inst = func.inst(i);
            if let Some(r) = inst.result {
                let until = open[r.index()].take().unwrap_or(pos + 1);
                ranges[r.index()].push((pos + 1, until));
                live.retain(|&mut x| x != r);
            }
            inst.kind
                .for_each_use(|v| use_at(v, pos, &mut open, &mut live));
        }
        let start = numbering.block_start[b.index()];
        for &p in &data.params {
            let until = open[p.index()].take().unwrap_or(start);
            ranges[p.index()].push((start, until));
            live.retain(|&mut x| x != p);
        }
        for v in live {
            if let Some(until) = open[v.index()].take() {
                ranges[v.index()].push((start, until));
            }
        }
    }
    for r in &mut ranges {
        r.sort_unstable();
    }
    (ranges, numbering)
}

fn number(func: &Function) -> Numbering {
    let mut numbering = Numbering {
        block_start: vec![0; func.blocks.len()],
        block_end: vec![0; func.blocks.len()],
        calls: Vec::new(),
    };
    let mut pos = 0u32;
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        numbering.block_start[b.index()] = pos;
        pos += 2;
        for &i in &data.insts {
            if func.inst(i).kind.is_call() {
                numbering.calls.push(pos);
            }
            pos += 2;
        }
        numbering.block_end[b.index()] = pos;
        pos += 2;
    }
    numbering
}

/// The values live at the end of every block (block parameters belong to their block: they
/// are not live out of its predecessors; jump arguments are uses at the jump), in value order.
///
/// SSA liveness by walking up from each use: a value used in a block other than the one that
/// defines it is live into that block, hence out of each predecessor and, unless the predecessor
/// defines it, into that predecessor too. The work and the memory are the size of the live sets,
/// not blocks times values, so time grows with the program, not with its square.
fn live_out(func: &Function) -> Vec<ValueList> {
    let nb = func.blocks.len();
    let mut defined_in: Vec<Option<Block>> = vec![None; func.values.len()];
    // (value, block): a use of the value in a block that does not define it.
    let mut live_in_uses: Vec<(Value, Block)> = Vec::new();
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &p in &data.params {
            defined_in[p.index()] = Some(b);
        }
        for &i in &data.insts {
            if let Some(r) = func.inst(i).result {
                defined_in[r.index()] = Some(b);
            }
        }
    }
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        let Some(t) = &data.term else { continue };
        let mut note = |v: Value| {
            if defined_in[v.index()] != Some(b) {
                live_in_uses.push((v, b));
            }
        };
        for &i in &data.insts {
            func.inst(i).kind.for_each_use(&mut note);
        }
        t.for_each_use(&mut note);
    }
    live_in_uses.sort_unstable_by_key(|&(v, b)| (v.index(), b.index()));
    let preds = func.predecessors();
    let mut live_out: Vec<ValueList> = vec![ValueList::new(); nb];
    // The last value marked live in / live out of each block (values are walked in order).
    let mut marked_in: Vec<Option<Value>> = vec![None; nb];
    let mut marked_out: Vec<Option<Value>> = vec![None; nb];
    let mut work: Vec<Block> = Vec::new();
    for &(v, b) in &live_in_uses {
        work.push(b);
        while let Some(b) = work.pop() {
            if marked_in[b.index()] == Some(v) {
                continue;
            }
            marked_in[b.index()] = Some(v);
            for &p in &preds[b.index()] {
                if marked_out[p.index()] != Some(v) {
                    marked_out[p.index()] = Some(v);
                    live_out[p.index()].push(v);
                }
                if defined_in[v.index()] != Some(p) {
                    work.push(p);
                }
            }
        }
    }
    live_out
}

/// True when two sorted, disjoint range lists share a point: each range of the shorter list is
/// looked up in the longer one, so a short list against a long one costs its length times a
/// logarithm, not the long list's length.
pub fn overlap(a: &[Range], b: &[Range]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.iter().any(|&(start, end)| {
        // The first range of `long` that ends at or after `start` (ends ascend: disjoint).
        let i = long.partition_point(|&(_, e)| e < start);
        long.get(i).is_some_and(|&(s, _)| s <= end)
    })
}

/// Merges the sorted range list `b` into the sorted list `a`. Only the part of `a` from `b`'s
/// first range on moves, so a bundle that grows at its end (the usual case: values are merged
/// in block order) costs the size of what is added.
pub fn merge_into(a: &mut RangeList, b: &[Range]) {
    let Some(&first) = b.first() else { return };
    let tail: RangeList = a.drain(a.partition_point(|&r| r < first)..).collect();
    a.reserve(tail.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < tail.len() && j < b.len() {
        if b[j] < tail[i] {
            a.push(b[j]);
            j += 1;
        } else {
            a.push(tail[i]);
            i += 1;
        }
    }
    a.extend_from_slice(&tail[i..]);
    a.extend_from_slice(&b[j..]);
}

/// True when a call lies strictly inside one of the ranges (the value must survive it).
pub fn crosses_call(ranges: &[Range], calls: &[u32]) -> bool {
    ranges.iter().any(|&(start, end)| {
        let i = calls.partition_point(|&c| c <= start);
        calls.get(i).is_some_and(|&c| c < end)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sorted, disjoint ranges from a seed: `count` ranges with gaps.
    fn ranges(seed: u32, count: u32) -> RangeList {
        let mut at = seed % 7;
        (0..count)
            .map(|k| {
                let start = at + (seed.wrapping_mul(k + 3) % 5);
                let end = start + (seed.wrapping_add(k) % 4);
                at = end + 1 + (k % 3);
                (start, end)
            })
            .collect()
    }

    #[test]
    fn overlap_and_merge_agree_with_point_sets() {
        let points = |rs: &[Range]| -> Vec<u32> { rs.iter().flat_map(|&(s, e)| s..=e).collect() };
        for seed in 1..60 {
            for (m, n) in [(0, 5), (1, 40), (7, 9), (30, 2), (12, 12)] {
                let (a, b) = (ranges(seed, m), ranges(seed * 31 + 5, n));
                let (pa, pb) = (points(&a), points(&b));
                let shared = pa.iter().any(|p| pb.contains(p));
                assert_eq!(overlap(&a, &b), shared, "{a:?} {b:?}");
                assert_eq!(overlap(&b, &a), shared, "{a:?} {b:?}");
                let mut merged = a.clone();
                merge_into(&mut merged, &b);
                let mut expected: Vec<Range> = a.iter().chain(&b).copied().collect();
                expected.sort_unstable();
                assert_eq!(merged[..], expected[..]);
            }
        }
    }
}
