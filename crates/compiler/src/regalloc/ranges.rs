//! Live ranges with lifetime holes: for every value, the sorted, disjoint list of program-point
//! ranges where it is live, computed from block-level liveness (so a value used in one arm of a
//! diamond is not live in the other, and values live around a loop cover its whole body).
//!
//! Program points number the laid-out blocks: a block's start (where its parameters are
//! defined), then per instruction a use point (even) and a definition point (odd), then the
//! terminator's use point (the block's end, where jump arguments are moved).

use crate::ir::{Function, Value};

/// An inclusive range of program points.
pub type Range = (u32, u32);

pub struct Numbering {
    pub block_start: Vec<u32>,
    pub block_end: Vec<u32>,
    /// Use points of instructions that clobber R0-R5, ascending.
    pub calls: Vec<u32>,
}

/// The live ranges of every value (empty for values that are never defined) and the numbering.
pub fn live_ranges(func: &Function) -> (Vec<Vec<Range>>, Numbering) {
    let numbering = number(func);
    let live_out = live_out(func);
    let mut ranges: Vec<Vec<Range>> = vec![Vec::new(); func.values.len()];
    // Open ranges while walking a block backwards: the end of each live value's current range.
    let mut open: Vec<Option<u32>> = vec![None; func.values.len()];
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        let end = numbering.block_end[b.index()];
        let mut live: Vec<Value> = live_out[b.index()].clone();
        for &v in &live {
            open[v.index()] = Some(end);
        }
        let use_at = |v: Value, pos: u32, open: &mut [Option<u32>], live: &mut Vec<Value>| {
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
                live.retain(|&x| x != r);
            }
            inst.kind
                .for_each_use(|v| use_at(v, pos, &mut open, &mut live));
        }
        let start = numbering.block_start[b.index()];
        for &p in &data.params {
            let until = open[p.index()].take().unwrap_or(start);
            ranges[p.index()].push((start, until));
            live.retain(|&x| x != p);
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
/// are not live out of its predecessors; jump arguments are uses at the jump).
fn live_out(func: &Function) -> Vec<Vec<Value>> {
    let n = func.values.len();
    let nb = func.blocks.len();
    // Per block: values used before any definition in it (upward-exposed) and values it defines.
    let mut exposed: Vec<Vec<Value>> = vec![Vec::new(); nb];
    let mut defined: Vec<Vec<bool>> = vec![Vec::new(); nb];
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        let mut defs = vec![false; n];
        for &p in &data.params {
            defs[p.index()] = true;
        }
        let mut uses = Vec::new();
        let mut note = |v: Value, defs: &[bool]| {
            if !defs[v.index()] && !uses.contains(&v) {
                uses.push(v);
            }
        };
        for &i in &data.insts {
            let inst = func.inst(i);
            inst.kind.for_each_use(|v| note(v, &defs));
            if let Some(r) = inst.result {
                defs[r.index()] = true;
            }
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| note(v, &defs));
        }
        exposed[b.index()] = uses;
        defined[b.index()] = defs;
    }
    let mut live_in: Vec<Vec<bool>> = vec![vec![false; n]; nb];
    let mut live_out: Vec<Vec<bool>> = vec![vec![false; n]; nb];
    let mut changed = true;
    while changed {
        changed = false;
        for &b in func.layout.iter().rev() {
            let Some(t) = &func.blocks[b.index()].term else {
                continue;
            };
            let mut out = vec![false; n];
            for s in t.successors() {
                for (o, &l) in out.iter_mut().zip(&live_in[s.index()]) {
                    *o |= l;
                }
            }
            let mut inn: Vec<bool> = out
                .iter()
                .zip(&defined[b.index()])
                .map(|(&o, &d)| o && !d)
                .collect();
            for &v in &exposed[b.index()] {
                inn[v.index()] = true;
            }
            if inn != live_in[b.index()] || out != live_out[b.index()] {
                (live_in[b.index()], live_out[b.index()]) = (inn, out);
                changed = true;
            }
        }
    }
    live_out
        .iter()
        .map(|o| (0..n).filter(|&v| o[v]).map(|v| Value(v as u32)).collect())
        .collect()
}

/// True when two sorted range lists share a point.
pub fn overlap(a: &[Range], b: &[Range]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let ((s1, e1), (s2, e2)) = (a[i], b[j]);
        if s1 <= e2 && s2 <= e1 {
            return true;
        }
        if e1 < e2 {
            i += 1;
        } else {
            j += 1;
        }
    }
    false
}

/// Merges two sorted range lists.
pub fn union(a: &[Range], b: &[Range]) -> Vec<Range> {
    let mut all: Vec<Range> = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    all
}

/// True when a call lies strictly inside one of the ranges (the value must survive it).
pub fn crosses_call(ranges: &[Range], calls: &[u32]) -> bool {
    ranges.iter().any(|&(start, end)| {
        let i = calls.partition_point(|&c| c <= start);
        calls.get(i).is_some_and(|&c| c < end)
    })
}
