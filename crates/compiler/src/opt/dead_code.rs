//! Dead code elimination: removes instructions without side effects whose results are unused,
//! repeatedly (a worklist over use counts), so whole unused expression trees disappear.
//!
//! Does not remove unused block parameters or unreachable blocks (see `simplify_cfg`).

use crate::ir::{Function, Inst, ValueDef};

pub fn run(func: &mut Function) {
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
}
