//! Branches decided by a dominating branch: below the edge where `v < 16` was taken, another
//! test of `v` against a constant (or the same test, or its negation) has a known outcome and
//! becomes a jump. Facts come from single-predecessor branch edges and hold in the dominator
//! subtree of their target; unsigned comparisons with immediates are combined as value ranges.
//!
//! An edge into a block that holds nothing but a test its facts decide (the usual shape after
//! `(when (and (= p 6) ...) (return ...))` followed by `(when (= p 6) ...)`) is threaded to
//! the decided target, so the verifier never walks a path the program cannot take.
//!
//! Does not reason about signed comparisons with different constants, `set`, or facts that
//! only hold at join points.

use crate::analysis::dominators::DominatorTree;
use crate::ir::FastHashMap;
use crate::ir::{Block, Cond, Function, Operand, Predecessors, Terminator, Value};

/// `lhs cond rhs` is known to hold.
#[derive(Clone, Copy, Debug)]
struct Fact {
    cond: Cond,
    rhs: Operand,
}

pub fn run(func: &mut Function) {
    let tree = DominatorTree::compute(func);
    let preds = func.predecessors();
    let mut facts: FastHashMap<Value, Vec<Fact>> = FastHashMap::default();
    let mut stack: Vec<(Block, Option<Value>)> = vec![(func.entry(), None)];
    let mut decided: Vec<(Block, Block)> = Vec::new();
    let mut threaded: Vec<(Block, usize, Block)> = Vec::new();
    // The facts along an edge (one buffer for every edge).
    let mut with_edge: Vec<Fact> = Vec::new();
    while let Some((b, leaving)) = stack.pop() {
        if let Some(v) = leaving {
            if let Some(list) = facts.get_mut(&v) {
                list.pop();
            }
            continue;
        }
        let pushed = edge_fact(func, &preds, b);
        if let Some((v, fact)) = pushed {
            facts.entry(v).or_default().push(fact);
        }
        if let Some(Terminator::Branch {
            cond,
            lhs,
            rhs,
            then_dest,
            else_dest,
        }) = &func.blocks[b.index()].term
        {
            if let Some(outcome) =
                implied(facts.get(lhs).map_or(&[][..], Vec::as_slice), *cond, *rhs)
            {
                decided.push((b, if outcome { *then_dest } else { *else_dest }));
            } else {
                // Thread each edge into a lone test of the same value that the edge decides.
                let known = facts.get(lhs).map_or(&[][..], Vec::as_slice);
                let edges = [(*then_dest, Some(*cond)), (*else_dest, cond.negate())];
                for (k, (dest, edge_cond)) in edges.into_iter().enumerate() {
                    let Some(edge_cond) = edge_cond else { continue };
                    with_edge.clear();
                    with_edge.extend_from_slice(known);
                    with_edge.push(Fact {
                        cond: edge_cond,
                        rhs: *rhs,
                    });
                    if let Some(target) = thread_target(func, dest, *lhs, &with_edge) {
                        threaded.push((b, k, target));
                    }
                }
            }
        }
        // Pop this block's fact after its subtree (a marker entry carries the value).
        if let Some((v, _)) = pushed {
            stack.push((b, Some(v)));
        }
        for &c in tree.children(b).iter().rev() {
            stack.push((c, None));
        }
    }
    for (b, k, target) in threaded {
        if let Some(Terminator::Branch {
            then_dest,
            else_dest,
            ..
        }) = &mut func.blocks[b.index()].term
        {
            *(if k == 0 { then_dest } else { else_dest }) = target;
        }
    }
    for (b, dest) in decided {
        func.blocks[b.index()].term = Some(Terminator::Jump {
            dest,
            args: Default::default(),
        });
    }
}

/// Where an edge into `dest` can go instead: `dest` (after forwarding blocks) holds nothing
/// but a branch on `value` whose outcome `facts` decide.
fn thread_target(func: &Function, mut dest: Block, value: Value, facts: &[Fact]) -> Option<Block> {
    for _ in 0..8 {
        let data = &func.blocks[dest.index()];
        if !data.insts.is_empty() || !data.params.is_empty() {
            return None;
        }
        match data.term.as_ref()? {
            Terminator::Jump { dest: next, args } if args.is_empty() => dest = *next,
            Terminator::Branch {
                cond,
                lhs,
                rhs,
                then_dest,
                else_dest,
            } if *lhs == value => {
                let outcome = implied(facts, *cond, *rhs)?;
                return Some(if outcome { *then_dest } else { *else_dest });
            }
            _ => return None,
        }
    }
    None
}

/// The fact a block inherits from its single predecessor's branch.
fn edge_fact(func: &Function, preds: &Predecessors, b: Block) -> Option<(Value, Fact)> {
    let [p] = preds[b.index()][..] else {
        return None;
    };
    let Some(Terminator::Branch {
        cond,
        lhs,
        rhs,
        then_dest,
        else_dest,
    }) = &func.blocks[p.index()].term
    else {
        return None;
    };
    if then_dest == else_dest {
        return None;
    }
    let cond = if b == *then_dest {
        *cond
    } else {
        cond.negate()?
    };
    Some((*lhs, Fact { cond, rhs: *rhs }))
}

/// Whether `lhs cond rhs` is decided by the facts about `lhs`.
fn implied(facts: &[Fact], cond: Cond, rhs: Operand) -> Option<bool> {
    for f in facts {
        if f.rhs == rhs && f.cond == cond {
            return Some(true);
        }
        if f.rhs == rhs && f.cond.negate() == Some(cond) {
            return Some(false);
        }
    }
    let Operand::Imm(k) = rhs else { return None };
    let (lo, hi) = range(facts)?;
    let k = k as i64 as u64;
    use Cond::*;
    match cond {
        Lt if hi < k => Some(true),
        Lt if lo >= k => Some(false),
        Le if hi <= k => Some(true),
        Le if lo > k => Some(false),
        Gt if lo > k => Some(true),
        Gt if hi <= k => Some(false),
        Ge if lo >= k => Some(true),
        Ge if hi < k => Some(false),
        Eq if lo == k && hi == k => Some(true),
        Eq | Ne if k < lo || k > hi => Some(cond == Ne),
        _ => None,
    }
}

/// The unsigned range the facts with immediate right-hand sides allow.
fn range(facts: &[Fact]) -> Option<(u64, u64)> {
    let (mut lo, mut hi) = (0u64, u64::MAX);
    let mut any = false;
    for f in facts {
        let Operand::Imm(k) = f.rhs else { continue };
        let k = k as i64 as u64;
        any = true;
        match f.cond {
            Cond::Lt => hi = hi.min(k.checked_sub(1)?),
            Cond::Le => hi = hi.min(k),
            Cond::Gt => lo = lo.max(k.checked_add(1)?),
            Cond::Ge => lo = lo.max(k),
            Cond::Eq => (lo, hi) = (lo.max(k), hi.min(k)),
            _ => {}
        }
    }
    (any && lo <= hi).then_some((lo, hi))
}
