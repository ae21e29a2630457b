//! Dominators: block `a` dominates block `b` when every path from the entry to `b` passes
//! through `a`. Immediate dominators come from the Cooper-Harvey-Kennedy iteration over reverse
//! postorder; the tree is numbered in DFS pre/post order so that dominance is an O(1) query.
//! Unreachable blocks have no dominator and dominate nothing.

use crate::ir::{Block, Function, Lists, Predecessors};

/// The dominator tree of a function.
#[derive(Debug, PartialEq, Eq)]
pub struct DominatorTree {
    /// Indexed by block; `None` for unreachable blocks, the entry maps to itself.
    idom: Vec<Option<Block>>,
    /// Indexed by block: the blocks it immediately dominates, in layout order.
    children: Lists<Block>,
    pre: Vec<u32>,
    post: Vec<u32>,
}

impl DominatorTree {
    /// The dominator tree of `f`, computed once per control flow (see
    /// [`super::cfg_cache`]).
    pub fn compute(f: &Function) -> std::sync::Arc<DominatorTree> {
        super::cfg_cache::dominators(f)
    }

    /// Computes the dominator tree of `f` without the cache (for the verifier, which checks
    /// what the passes were given rather than trusting it).
    pub fn compute_uncached(f: &Function) -> DominatorTree {
        DominatorTree::build(f, &f.compute_reverse_postorder(), &f.compute_predecessors())
    }

    /// Computes the dominator tree of `f`, whose reverse postorder and predecessors are given.
    pub(super) fn build(f: &Function, rpo: &[Block], preds: &Predecessors) -> DominatorTree {
        let idom = immediate_dominators(f, rpo, preds);
        let children = Lists::build(
            f.blocks.len(),
            (f.layout.iter()).filter_map(|&b| match idom[b.index()] {
                Some(d) if d != b => Some((d.index(), b)),
                _ => None,
            }),
        );
        let (pre, post) = number(f.entry(), &children, f.blocks.len());
        DominatorTree {
            idom,
            children,
            pre,
            post,
        }
    }

    /// The immediate dominator of `b` (the entry's is itself), `None` when `b` is unreachable.
    pub fn idom(&self, b: Block) -> Option<Block> {
        self.idom[b.index()]
    }

    pub fn is_reachable(&self, b: Block) -> bool {
        self.idom[b.index()].is_some()
    }

    /// The blocks `b` immediately dominates, in layout order.
    pub fn children(&self, b: Block) -> &[Block] {
        &self.children[b.index()]
    }

    /// True when `a` dominates `b` (both reachable; a block dominates itself).
    pub fn dominates(&self, a: Block, b: Block) -> bool {
        self.pre[a.index()] <= self.pre[b.index()] && self.post[b.index()] <= self.post[a.index()]
    }
}

fn immediate_dominators(f: &Function, rpo: &[Block], preds: &Predecessors) -> Vec<Option<Block>> {
    let mut order = vec![u32::MAX; f.blocks.len()];
    for (i, b) in rpo.iter().enumerate() {
        order[b.index()] = i as u32;
    }
    let mut idom: Vec<Option<Block>> = vec![None; f.blocks.len()];
    idom[f.entry().index()] = Some(f.entry());
    let mut changed = true;
    while changed {
        changed = false;
        for &b in rpo.iter().skip(1) {
            let mut new: Option<Block> = None;
            for &p in &preds[b.index()] {
                if idom[p.index()].is_none() {
                    continue;
                }
                new = Some(match new {
                    None => p,
                    Some(n) => intersect(&idom, &order, p, n),
                });
            }
            if new.is_some() && idom[b.index()] != new {
                idom[b.index()] = new;
                changed = true;
            }
        }
    }
    idom
}

fn intersect(idom: &[Option<Block>], order: &[u32], mut a: Block, mut b: Block) -> Block {
    while a != b {
        while order[a.index()] > order[b.index()] {
            a = idom[a.index()].unwrap_or(a);
        }
        while order[b.index()] > order[a.index()] {
            b = idom[b.index()].unwrap_or(b);
        }
    }
    a
}

/// DFS pre- and post-order numbers of the tree below `entry` (`u32::MAX` before unreachable
/// blocks, which then dominate nothing).
fn number(entry: Block, children: &Lists<Block>, n: usize) -> (Vec<u32>, Vec<u32>) {
    let (mut pre, mut post) = (vec![u32::MAX; n], vec![0; n]);
    let mut counter = 0;
    let mut stack = vec![(entry, 0usize)];
    pre[entry.index()] = 0;
    while let Some((b, next)) = stack.pop() {
        if let Some(&c) = children[b.index()].get(next) {
            stack.push((b, next + 1));
            counter += 1;
            pre[c.index()] = counter;
            stack.push((c, 0));
        } else {
            counter += 1;
            post[b.index()] = counter;
        }
    }
    (pre, post)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diamond_and_an_unreachable_block() {
        let f = crate::ir::parse::parse(
            "function f\nblock0:\n  v0 = arg\n  br eq v0, 0, block1, block2\nblock1:\n  jump block3\n\
             block2:\n  jump block3\nblock3:\n  return 0\nblock4:\n  return 1\n",
        )
        .expect("parses");
        let tree = DominatorTree::compute(&f);
        let b = |i| Block(i);
        assert_eq!(tree.idom(b(3)), Some(b(0)));
        assert_eq!(tree.children(b(0)), [b(1), b(2), b(3)]);
        assert!(tree.dominates(b(0), b(3)) && tree.dominates(b(3), b(3)));
        assert!(!tree.dominates(b(1), b(3)) && !tree.dominates(b(1), b(2)));
        assert!(!tree.is_reachable(b(4)));
    }
}
