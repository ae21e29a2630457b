//! [`CfgCache`]: the control-flow analyses of a function (predecessors, reverse postorder,
//! dominator tree), kept until its control flow changes. A round of passes asks for them
//! dozens of times, and most passes change instructions only: rebuilding them each time was a
//! sixth of a compile.
//!
//! The cache does not trust anyone to invalidate it (passes edit `Function`'s tables directly):
//! each lookup first compares the function's control flow, that is the layout, the number of
//! blocks and the successors of every laid-out or reachable block, with what it was when the
//! analyses were computed, and starts over when anything differs. The analyses depend on
//! nothing else, so a hit returns exactly what recomputing would.

use super::dominators::DominatorTree;
use crate::ir::{Block, Function, Predecessors, Successors};
use std::sync::{Arc, Mutex, PoisonError};

/// Held by [`Function`]; a clone starts empty.
#[derive(Default)]
pub struct CfgCache(Mutex<Option<Cached>>);

/// The control flow the analyses were computed for, and the analyses computed so far.
struct Cached {
    layout: Vec<Block>,
    block_count: usize,
    /// The successors of each block of `layout`, in the same order, then of the reachable
    /// blocks not laid out.
    successors: Vec<(Block, Option<Successors>)>,
    predecessors: Option<Arc<Predecessors>>,
    reverse_postorder: Option<Arc<Vec<Block>>>,
    dominators: Option<Arc<DominatorTree>>,
}

impl Clone for CfgCache {
    fn clone(&self) -> CfgCache {
        CfgCache::default()
    }
}

impl std::fmt::Debug for CfgCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CfgCache")
    }
}

fn successors_of(func: &Function, b: Block) -> Option<Successors> {
    func.blocks[b.index()].term.as_ref().map(|t| t.successors())
}

impl Cached {
    /// The control flow of `func` now, with no analysis computed yet.
    fn of(func: &Function) -> Cached {
        let successors = (func.layout.iter())
            .map(|&b| (b, successors_of(func, b)))
            .collect();
        Cached {
            layout: func.layout.clone(),
            block_count: func.blocks.len(),
            successors,
            predecessors: None,
            reverse_postorder: None,
            dominators: None,
        }
    }

    /// True when `func`'s control flow is still the one the analyses were computed for.
    fn matches(&self, func: &Function) -> bool {
        self.block_count == func.blocks.len()
            && self.layout == func.layout
            && (self.successors.iter()).all(|&(b, s)| successors_of(func, b) == s)
    }

    /// Records the successors of the reachable blocks that are not laid out: the reverse
    /// postorder (and so the dominator tree) depends on them too.
    fn note_reachable(&mut self, func: &Function, rpo: &[Block]) {
        if rpo.len() <= self.layout.len() && rpo.iter().zip(&self.layout).all(|(a, b)| a == b) {
            return;
        }
        let mut known = vec![false; self.block_count];
        for &(b, _) in &self.successors {
            known[b.index()] = true;
        }
        for &b in rpo {
            if !known[b.index()] {
                known[b.index()] = true;
                self.successors.push((b, successors_of(func, b)));
            }
        }
    }
}

impl CfgCache {
    /// Runs `f` on the cache entry for `func`'s current control flow.
    fn with<T>(&self, func: &Function, f: impl FnOnce(&mut Cached) -> T) -> T {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match guard.as_mut() {
            Some(c) if c.matches(func) => {
                if cfg!(debug_assertions) {
                    c.assert_current(func);
                }
                f(c)
            }
            _ => f(guard.insert(Cached::of(func))),
        }
    }
}

impl Cached {
    /// Debug and test builds: what a hit returns is what recomputing gives.
    fn assert_current(&self, func: &Function) {
        if let Some(preds) = &self.predecessors {
            assert_eq!(**preds, func.compute_predecessors(), "stale predecessors");
        }
        if let Some(rpo) = &self.reverse_postorder {
            assert_eq!(
                **rpo,
                func.compute_reverse_postorder(),
                "stale reverse postorder"
            );
        }
        if let Some(tree) = &self.dominators {
            assert_eq!(
                **tree,
                DominatorTree::compute_uncached(func),
                "stale dominators"
            );
        }
    }
}

impl Cached {
    fn predecessors(&mut self, func: &Function) -> Arc<Predecessors> {
        (self
            .predecessors
            .get_or_insert_with(|| Arc::new(func.compute_predecessors())))
        .clone()
    }

    fn reverse_postorder(&mut self, func: &Function) -> Arc<Vec<Block>> {
        if let Some(rpo) = &self.reverse_postorder {
            return rpo.clone();
        }
        let rpo = Arc::new(func.compute_reverse_postorder());
        self.note_reachable(func, &rpo);
        self.reverse_postorder = Some(rpo.clone());
        rpo
    }

    fn dominators(&mut self, func: &Function) -> Arc<DominatorTree> {
        if let Some(tree) = &self.dominators {
            return tree.clone();
        }
        let (rpo, preds) = (self.reverse_postorder(func), self.predecessors(func));
        let tree = Arc::new(DominatorTree::build(func, &rpo, &preds));
        self.dominators = Some(tree.clone());
        tree
    }
}

/// The predecessors of every block, from the cache when the control flow is unchanged.
pub fn predecessors(func: &Function) -> Arc<Predecessors> {
    func.cfg_cache.with(func, |c| c.predecessors(func))
}

/// The reachable blocks in reverse postorder, from the cache when the control flow is
/// unchanged.
pub fn reverse_postorder(func: &Function) -> Arc<Vec<Block>> {
    func.cfg_cache.with(func, |c| c.reverse_postorder(func))
}

/// The dominator tree, from the cache when the control flow is unchanged.
pub fn dominators(func: &Function) -> Arc<DominatorTree> {
    func.cfg_cache.with(func, |c| c.dominators(func))
}

#[cfg(test)]
mod tests {
    use crate::ir::{parse::parse, Block, Terminator};

    #[test]
    fn a_changed_terminator_or_layout_recomputes() {
        let mut f = parse(
            "function f\nblock0:\n  v0 = arg\n  br eq v0, 0, block1, block2\nblock1:\n  jump block3\n\
             block2:\n  jump block3\nblock3:\n  return 0\n",
        )
        .unwrap();
        let before = f.predecessors();
        assert_eq!(&before[3], &[Block(1), Block(2)]);
        assert!(std::sync::Arc::ptr_eq(&before, &f.predecessors()), "a hit");
        f.blocks[0].term = Some(Terminator::Jump {
            dest: Block(1),
            args: Default::default(),
        });
        assert_eq!(
            &f.predecessors()[3],
            &[Block(1), Block(2)],
            "block2 still laid out"
        );
        assert!(f.predecessors()[2].is_empty());
        assert_eq!(f.reverse_postorder(), [Block(0), Block(1), Block(3)]);
        f.layout = f.reverse_postorder();
        assert_eq!(&f.predecessors()[3], &[Block(1)]);
        assert!(!crate::analysis::dominators::DominatorTree::compute(&f).is_reachable(Block(2)));
    }
}
