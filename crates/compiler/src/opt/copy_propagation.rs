//! Copy propagation: uses of `copy v` become uses of `v`, and trivial block parameters (every
//! incoming argument is the same value, or the parameter itself) are replaced by that value and
//! removed together with their jump arguments. Repeats until nothing changes.
//!
//! Does not remove the dead `copy` instructions themselves (that is `dead_code`).

use crate::ir::{Function, InstKind, Terminator, Value, ValueDef};

pub fn run(func: &mut Function) {
    loop {
        let mut subst: Vec<Option<Value>> = vec![None; func.values.len()];
        let mut changed = false;
        for &b in &func.layout {
            for &i in &func.blocks[b.index()].insts {
                let inst = func.inst(i);
                if let (InstKind::Copy(src), Some(r)) = (&inst.kind, inst.result) {
                    subst[r.index()] = Some(*src);
                    changed = true;
                }
            }
        }
        changed |= remove_trivial_params(func, &mut subst);
        if !changed {
            return;
        }
        func.substitute(&subst);
        remove_copies(func);
    }
}

/// Deletes copy instructions (their uses were all rewritten).
fn remove_copies(func: &mut Function) {
    for &b in &func.layout {
        let insts = &func.insts;
        func.blocks[b.index()]
            .insts
            .retain(|&mut i| !matches!(insts[i.index()].kind, InstKind::Copy(_)));
    }
}

/// The single value every incoming edge passes for parameter `k` of `b`, if there is one.
fn trivial_value(
    func: &Function,
    preds: &crate::ir::Predecessors,
    b: crate::ir::Block,
    k: usize,
) -> Option<Value> {
    let param = func.blocks[b.index()].params[k];
    let mut only = None;
    for &p in &preds[b.index()] {
        let Some(Terminator::Jump { args, .. }) = &func.blocks[p.index()].term else {
            return None;
        };
        let a = *args.get(k)?;
        if a == param || Some(a) == only {
            continue;
        }
        if only.is_some() {
            return None;
        }
        only = Some(a);
    }
    only
}

fn remove_trivial_params(func: &mut Function, subst: &mut [Option<Value>]) -> bool {
    let preds = func.predecessors();
    let mut changed = false;
    for &b in &func.layout.clone() {
        let mut k = 0;
        while k < func.blocks[b.index()].params.len() {
            let Some(v) = trivial_value(func, &preds, b, k) else {
                k += 1;
                continue;
            };
            let param = func.blocks[b.index()].params.remove(k);
            subst[param.index()] = Some(v);
            func.values[param.index()] = ValueDef::None;
            for &p in &preds[b.index()] {
                if let Some(Terminator::Jump { args, .. }) = &mut func.blocks[p.index()].term {
                    if k < args.len() {
                        args.remove(k);
                    }
                }
            }
            renumber_params(func, b);
            changed = true;
        }
    }
    changed
}

fn renumber_params(func: &mut Function, b: crate::ir::Block) {
    for (i, p) in func.blocks[b.index()].params.iter().enumerate() {
        func.values[p.index()] = ValueDef::Param(b, i);
    }
}
