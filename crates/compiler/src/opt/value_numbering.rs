//! Global value numbering over the dominator tree: an arithmetic instruction (`Binary`,
//! `Unary`) identical to one that dominates it is replaced by that one's result.
//!
//! Loads from the context pointer are numbered too when nothing in the function can change
//! the context (no helper calls, raw instructions or context stores).
//!
//! Does not touch other memory accesses, calls, constants, stack or map addresses (those are cheaper
//! to recompute than to keep live across helper calls; see `rematerialize`).

use crate::analysis::dominators::DominatorTree;
use crate::ir::FastHashMap;
use crate::ir::{Block, Function, InstKind, Value};

pub fn run(func: &mut Function) {
    let tree = DominatorTree::compute(func);
    let ctx_loads_pure = ctx_is_immutable(func);
    let mut table: FastHashMap<InstKind, Value> = FastHashMap::default();
    let mut subst: Vec<Option<Value>> = vec![None; func.values.len()];
    let mut removed = vec![false; func.insts.len()];
    // Iterative preorder walk; `added` holds the keys of the blocks on the path from the entry,
    // and leaving a block (a stack entry with the length of `added` before it) drops its keys.
    let mut stack: Vec<(Block, Option<usize>)> = vec![(func.entry(), None)];
    let mut added: Vec<InstKind> = Vec::new();
    while let Some((b, leaving)) = stack.pop() {
        if let Some(before) = leaving {
            for key in added.drain(before..) {
                table.remove(&key);
            }
            continue;
        }
        let before = added.len();
        for &i in &func.blocks[b.index()].insts {
            let numbered = match &func.insts[i.index()].kind {
                InstKind::Binary { .. } | InstKind::Unary { .. } => true,
                InstKind::Load { ptr, .. } => ctx_loads_pure && super::is_context(func, *ptr),
                _ => false,
            };
            if !numbered {
                continue;
            }
            let mut kind = func.insts[i.index()].kind.clone();
            kind.map_uses(|v| resolve(&subst, v));
            let Some(result) = func.insts[i.index()].result else {
                continue;
            };
            match table.get(&kind) {
                Some(&earlier) => {
                    subst[result.index()] = Some(earlier);
                    removed[i.index()] = true;
                }
                None => {
                    table.insert(kind.clone(), result);
                    added.push(kind);
                }
            }
        }
        stack.push((b, Some(before)));
        for &c in tree.children(b).iter().rev() {
            stack.push((c, None));
        }
    }
    if removed.iter().any(|r| *r) {
        func.substitute(&subst);
        for &b in &func.layout {
            func.blocks[b.index()].insts.retain(|i| !removed[i.index()]);
        }
    }
}

/// The context can only change through helper calls (`bpf_xdp_adjust_head`...), raw
/// instructions or stores through the context pointer; without any, its loads are pure.
fn ctx_is_immutable(func: &Function) -> bool {
    func.layout.iter().all(|&b| {
        func.blocks[b.index()]
            .insts
            .iter()
            .all(|&i| match &func.inst(i).kind {
                InstKind::Call { .. } | InstKind::Asm(_) => false,
                InstKind::Store { ptr, .. } | InstKind::AtomicAdd { ptr, .. } => {
                    !super::is_context(func, *ptr)
                }
                _ => true,
            })
    })
}

fn resolve(subst: &[Option<Value>], mut v: Value) -> Value {
    while let Some(Some(n)) = subst.get(v.index()) {
        v = *n;
    }
    v
}
