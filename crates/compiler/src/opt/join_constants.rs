//! A join of constants tested right away (`block(v): br ne v, 0, yes, no` where every
//! predecessor passes a constant) determines `v` on each edge when only one of the incoming
//! constants passes the edge's test: below that edge `v` is that constant. Its uses there are
//! replaced by a fresh constant, so `v` no longer escapes the join and `simplify_cfg` can
//! thread each predecessor's jump straight to the branch target it decides.

use crate::analysis::dominators::DominatorTree;
use crate::ir::{Block, Function, InstKind, Operand, Terminator, Value};

pub fn run(func: &mut Function) {
    let tree = DominatorTree::compute(func);
    let preds = func.predecessors();
    let mut replacements: Vec<(Block, Value, i64)> = Vec::new();
    for &join in &func.layout {
        let data = &func.blocks[join.index()];
        let Some(Terminator::Branch {
            cond,
            lhs,
            rhs: Operand::Imm(k),
            then_dest,
            else_dest,
        }) = &data.term
        else {
            continue;
        };
        let Some(param) = data.params.iter().position(|p| p == lhs) else {
            continue;
        };
        if then_dest == else_dest {
            continue;
        }
        let Some(incoming) = incoming_constants(func, &preds[join.index()], join, param) else {
            continue;
        };
        let edges = [(*then_dest, Some(*cond)), (*else_dest, cond.negate())];
        for (dest, edge_cond) in edges {
            let Some(edge_cond) = edge_cond else { continue };
            if preds[dest.index()] != [join] {
                continue;
            }
            let mut passing = incoming
                .iter()
                .filter(|&&c| edge_cond.eval(c as u64, *k as i64 as u64));
            if let (Some(&c), None) = (passing.next(), passing.next()) {
                replacements.push((dest, *lhs, c));
            }
        }
    }
    for (dest, value, c) in replacements {
        replace_below(func, &tree, dest, value, c);
    }
}

/// The distinct constants every predecessor passes for parameter `param` of `join`.
fn incoming_constants(
    func: &Function,
    preds: &[Block],
    join: Block,
    param: usize,
) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    for &p in preds {
        let Some(Terminator::Jump { dest, args }) = &func.blocks[p.index()].term else {
            return None;
        };
        if *dest != join {
            return None;
        }
        let c = func.const_value(*args.get(param)?)?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Replaces the uses of `value` in the blocks `dest` dominates by a constant defined at the
/// top of `dest` (nothing when there are none).
fn replace_below(func: &mut Function, tree: &DominatorTree, dest: Block, value: Value, c: i64) {
    let below: Vec<Block> = func
        .layout
        .iter()
        .copied()
        .filter(|&b| tree.dominates(dest, b))
        .collect();
    let uses = |func: &Function| {
        below.iter().any(|&b| {
            let data = &func.blocks[b.index()];
            let mut found = false;
            for &i in &data.insts {
                func.inst(i).kind.for_each_use(|v| found |= v == value);
            }
            if let Some(t) = &data.term {
                t.for_each_use(|v| found |= v == value);
            }
            found
        })
    };
    if !uses(func) {
        return;
    }
    let span = func.blocks[dest.index()].term_span;
    let Some(constant) = func.append_inst(dest, InstKind::Iconst(c), span) else {
        return;
    };
    // `append_inst` put it last; it must come before every use.
    func.blocks[dest.index()].insts.rotate_right(1);
    let swap = |v: Value| if v == value { constant } else { v };
    for b in below {
        for &i in &func.blocks[b.index()].insts {
            func.insts[i.index()].kind.map_uses(swap);
        }
        if let Some(t) = &mut func.blocks[b.index()].term {
            t.map_uses(swap);
        }
    }
}
