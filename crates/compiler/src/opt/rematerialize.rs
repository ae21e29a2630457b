//! Constant rematerialization: every use of a constant gets its own `iconst` right before the
//! instruction (or at the end of the block, for terminators) that reads it, so constants never
//! occupy registers across helper calls or long stretches of code. The original definitions
//! become dead (`dead_code` removes them).
//!
//! Uses the constant already folds into an immediate are not touched (there are none left after
//! `const_fold`); constants defined in the same block directly before their use are kept.

use crate::ir::{Function, Inst, InstData, InstKind, Value, ValueDef};

pub fn run(func: &mut Function) {
    for b in func.layout.clone() {
        let old = std::mem::take(&mut func.blocks[b.index()].insts);
        let mut new: Vec<Inst> = Vec::with_capacity(old.len());
        for i in old {
            let mut kind = func.insts[i.index()].kind.clone();
            let span = func.insts[i.index()].span;
            if !matches!(kind, InstKind::Iconst(_)) {
                let last = new.last().copied();
                kind.map_uses(|v| remat(func, v, last, &mut new, span));
                func.insts[i.index()].kind = kind;
            }
            new.push(i);
        }
        if let Some(mut term) = func.blocks[b.index()].term.take() {
            let span = func.blocks[b.index()].term_span;
            let last = new.last().copied();
            term.map_uses(|v| remat(func, v, last, &mut new, span));
            func.blocks[b.index()].term = Some(term);
        }
        func.blocks[b.index()].insts = new;
    }
}

fn remat(
    func: &mut Function,
    v: Value,
    last: Option<Inst>,
    new: &mut Vec<Inst>,
    span: whistler_syntax::Span,
) -> Value {
    let Some(c) = func.const_value(v) else {
        return v;
    };
    if let Some(ValueDef::Inst(d)) = func.values.get(v.index()) {
        if Some(*d) == last {
            return v;
        }
    }
    let inst = Inst(func.insts.len() as u32);
    let r = func.new_value(ValueDef::Inst(inst));
    func.insts.push(InstData {
        kind: InstKind::Iconst(c),
        result: Some(r),
        span,
    });
    new.push(inst);
    r
}
