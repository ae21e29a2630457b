//! Rematerialization of constants and stack addresses: every use of a constant, and of a
//! stack slot's address used only as the pointer of loads and stores and as the argument of at
//! most one helper call, gets its own
//! `iconst` or `stack_addr` right before the instruction (or at the end of the block, for
//! terminators) that reads it, so these never occupy registers across helper calls or long
//! stretches of code. A stack address built at its load or store folds into `r10`-relative
//! addressing, and at its call it is built in the argument register (two instructions, where
//! keeping it in R6-R9 costs those two plus a move per call). The original definitions become
//! dead (`dead_code` removes them).
//!
//! Uses the constant already folds into an immediate are not touched (there are none left after
//! `const_fold`); values defined in the same block directly before their use are kept.

use crate::ir::{Function, Inst, InstData, InstKind, InstList, Value, ValueDef};

pub fn run(func: &mut Function) {
    let rematerializable = rematerializable_addresses(func);
    for b in func.layout.clone() {
        let old = std::mem::take(&mut func.blocks[b.index()].insts);
        let mut new = InstList::with_capacity(old.len());
        for i in old {
            let mut kind = func.insts[i.index()].kind.clone();
            let span = func.insts[i.index()].span;
            if !matches!(kind, InstKind::Iconst(_)) {
                let last = new.last().copied();
                kind.map_uses(|v| remat(func, v, last, &mut new, span, &rematerializable));
                func.insts[i.index()].kind = kind;
            }
            new.push(i);
        }
        if let Some(mut term) = func.blocks[b.index()].term.take() {
            let span = func.blocks[b.index()].term_span;
            let last = new.last().copied();
            term.map_uses(|v| remat(func, v, last, &mut new, span, &rematerializable));
            func.blocks[b.index()].term = Some(term);
        }
        func.blocks[b.index()].insts = new;
    }
}

fn remat(
    func: &mut Function,
    v: Value,
    last: Option<Inst>,
    new: &mut InstList,
    span: whistler_syntax::Span,
    rematerializable: &[bool],
) -> Value {
    let kind = match super::def_kind(func, v) {
        Some(InstKind::Iconst(c)) => InstKind::Iconst(*c),
        Some(InstKind::StackAddr(s)) if rematerializable[v.index()] => InstKind::StackAddr(*s),
        _ => return v,
    };
    if let Some(ValueDef::Inst(d)) = func.values.get(v.index()) {
        if Some(*d) == last {
            return v;
        }
    }
    let inst = Inst(func.insts.len() as u32);
    let r = func.new_value(ValueDef::Inst(inst));
    func.insts.push(InstData {
        kind,
        result: Some(r),
        span,
    });
    new.push(inst);
    r
}

/// Per value: used only as the pointer of loads, stores and atomic adds and as the argument
/// of at most one helper call (stack addresses worth rebuilding at each use).
fn rematerializable_addresses(func: &Function) -> Vec<bool> {
    let mut calls = vec![0u32; func.values.len()];
    let mut other = vec![false; func.values.len()];
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &i in &data.insts {
            match &func.inst(i).kind {
                InstKind::Call { args, .. } => args.iter().for_each(|a| calls[a.index()] += 1),
                InstKind::Load { .. } => {}
                InstKind::Store { value, .. } => {
                    if let Some(v) = value.value() {
                        other[v.index()] = true;
                    }
                }
                InstKind::AtomicAdd { value, .. } => other[value.index()] = true,
                kind => kind.for_each_use(|v| other[v.index()] = true),
            }
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| other[v.index()] = true);
        }
    }
    calls
        .iter()
        .zip(other)
        .map(|(&c, o)| c <= 1 && !o)
        .collect()
}
