//! Dead code elimination: removes instructions without side effects whose results are unused,
//! repeatedly (a worklist over use counts), so whole unused expression trees disappear.
//!
//! Unused block parameters are removed too, with their jump arguments (which may make more
//! instructions dead, so both repeat until nothing changes). Unreachable blocks are
//! `simplify_cfg`'s job.

use crate::ir::{Function, Inst, Terminator, ValueDef};

pub fn run(func: &mut Function) {
    loop {
        let counts = remove_dead_insts(func);
        if !remove_dead_params(func, &counts) {
            return;
        }
    }
}

/// Removes parameters nothing reads (`counts`: the use count of every value); returns whether
/// any was removed.
fn remove_dead_params(func: &mut Function, counts: &[u32]) -> bool {
    let preds = func.predecessors();
    let mut changed = false;
    for b in func.layout.clone() {
        // Backwards, so parameter `k` is still at its place when it is looked at.
        for k in (0..func.blocks[b.index()].params.len()).rev() {
            let param = func.blocks[b.index()].params[k];
            if counts[param.index()] != 0 {
                continue;
            }
            func.blocks[b.index()].params.remove(k);
            func.values[param.index()] = ValueDef::None;
            for &p in &preds[b.index()] {
                if let Some(Terminator::Jump { args, .. }) = &mut func.blocks[p.index()].term {
                    if k < args.len() {
                        args.remove(k);
                    }
                }
            }
            changed = true;
        }
        for (i, p) in func.blocks[b.index()].params.iter().enumerate() {
            func.values[p.index()] = ValueDef::Param(b, i);
        }
    }
    changed
}

/// Removes unused instructions; returns the use count of every value in what remains.
fn remove_dead_insts(func: &mut Function) -> Vec<u32> {
    let mut counts = super::use_counts(func);
    let mut dead = vec![false; func.insts.len()];
    let mut work: Vec<Inst> = Vec::new();
    for &b in &func.layout {
        for &i in &func.blocks[b.index()].insts {
            work.push(i);
        }
    }
    while let Some(i) = work.pop() {
        let data = &func.insts[i.index()];
        if dead[i.index()] || data.kind.has_side_effects() {
            continue;
        }
        let unused = data.result.is_none_or(|r| counts[r.index()] == 0);
        if !unused {
            continue;
        }
        dead[i.index()] = true;
        data.kind.for_each_use(|v| {
            if let Some(c) = counts.get_mut(v.index()) {
                *c = c.saturating_sub(1);
                if *c == 0 {
                    if let Some(ValueDef::Inst(d)) = func.values.get(v.index()) {
                        work.push(*d);
                    }
                }
            }
        });
    }
    for &b in &func.layout {
        func.blocks[b.index()].insts.retain(|i| !dead[i.index()]);
    }
    counts
}
