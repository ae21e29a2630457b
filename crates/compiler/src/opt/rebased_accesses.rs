//! Rebased accesses: when `p = base + c` is kept (typically the end of a header, compared with
//! `data_end`) and every other use of `base` is a load, store or atomic add, or another
//! `base + c2`, that comes after `p` (dominated by its definition), those uses go through `p`
//! instead, at `offset - c` (`*(u16 *)(data + 12)` after `p = data + 34` becomes
//! `*(u16 *)(p - 22)`). `base` then dies at the addition, so `p` takes its register: the copy
//! in `r2 = data; r2 += 34` disappears. The verifier adds a pointer's constant offset to the
//! access's offset, so it checks the same bytes against the same bounds.
//!
//! Runs once after the main pass list, whose `address_folding` goes the other way (accesses
//! through `p` move onto `base`, which frees `p` when nothing else reads it). Not for what may
//! be the context pointer (also through copies and block parameters), which may not be moved
//! before a dereference, nor for stack addresses, which code generation folds into
//! `r10`-relative accesses. Does not rebase when an offset would leave its range, nor uses that
//! `p` does not dominate (`base` would stay live).

use crate::analysis::dominators::DominatorTree;
use crate::ir::{BinOp, Block, Function, Inst, InstKind, Operand, Terminator, Value};

pub fn run(func: &mut Function) {
    // Each rewrite moves uses of a value onto one defined after it, so this ends; the bound
    // only guards against a mistake in that argument.
    for _ in 0..func.insts.len() {
        if !rebase_one(func) {
            break;
        }
    }
}

/// Finds one addition whose base can die at it and rebases the base's later uses; false when
/// there is none.
fn rebase_one(func: &mut Function) -> bool {
    let dominators = DominatorTree::compute(func);
    let uses = uses(func);
    let context = context_values(func);
    for &b in &func.layout {
        for (k, &add) in func.blocks[b.index()].insts.iter().enumerate() {
            let InstKind::Binary {
                op: BinOp::Add,
                lhs: base,
                rhs: Operand::Imm(c),
            } = func.insts[add.index()].kind
            else {
                continue;
            };
            let Some(p) = func.insts[add.index()].result else {
                continue;
            };
            if context[base.index()] || !may_rebase(func, base) {
                continue;
            }
            let mut rebased = Vec::new();
            let is_pointer = uses[base.index()].iter().any(|u| {
                u.inst
                    .is_some_and(|i| pointer_of(&func.insts[i.index()].kind) == Some(base))
            });
            let after_p = |u: &Use| {
                if u.block == b {
                    u.index > k
                } else {
                    dominators.is_reachable(u.block) && dominators.dominates(b, u.block)
                }
            };
            // The uses after `p` first: finding whether control reaches the others again walks
            // the whole graph, which only a rebase that would happen pays for.
            let later_fit = uses[base.index()]
                .iter()
                .filter(|u| u.inst != Some(add) && after_p(u))
                .all(|u| {
                    u.inst.is_some_and(|i| {
                        moved(func, &uses, i, base, p, c, is_pointer, &mut rebased, 0)
                    })
                });
            if !later_fit || rebased.is_empty() {
                continue;
            }
            let mut earlier = uses[base.index()]
                .iter()
                .filter(|u| u.inst != Some(add) && !after_p(u))
                .peekable();
            if earlier.peek().is_some() {
                // Uses before `p` that control never reaches again once `p` is defined.
                let reachable = reachable_after(func, b);
                if earlier.any(|u| reachable[u.block.index()]) {
                    continue;
                }
            }
            for (u, kind) in rebased {
                func.insts[u.index()].kind = kind;
            }
            return true;
        }
    }
    false
}

/// Blocks control can reach after leaving `b` (`b` itself when it is in a loop).
fn reachable_after(func: &Function, b: Block) -> Vec<bool> {
    let mut seen = vec![false; func.blocks.len()];
    let mut stack: Vec<Block> = func.term(b).successors().into_iter().collect();
    while let Some(s) = stack.pop() {
        if !std::mem::replace(&mut seen[s.index()], true) {
            stack.extend(func.term(s).successors());
        }
    }
    seen
}

/// Not a stack address or a constant.
fn may_rebase(func: &Function, base: Value) -> bool {
    !matches!(
        super::def_kind(func, base),
        Some(InstKind::StackAddr(_) | InstKind::Iconst(_))
    )
}

/// The values that may be the context pointer: `arg`, its copies, and block parameters that
/// receive any of them.
fn context_values(func: &Function) -> Vec<bool> {
    let mut context = vec![false; func.values.len()];
    loop {
        let mut changed = false;
        for &b in &func.layout {
            let data = &func.blocks[b.index()];
            for &i in &data.insts {
                let inst = func.inst(i);
                let is_context = match inst.kind {
                    InstKind::Arg => true,
                    InstKind::Copy(v) => context[v.index()],
                    _ => false,
                };
                if let (true, Some(r)) = (is_context, inst.result) {
                    changed |= !std::mem::replace(&mut context[r.index()], true);
                }
            }
            if let Some(Terminator::Jump { dest, args }) = &data.term {
                for (&p, &a) in func.blocks[dest.index()].params.iter().zip(args) {
                    if context[a.index()] {
                        changed |= !std::mem::replace(&mut context[p.index()], true);
                    }
                }
            }
        }
        if !changed {
            return context;
        }
    }
}

/// How deep sums of a rebased pointer and a variable are followed.
const MAX_DEPTH: u32 = 4;

/// Rewrites instruction `i`, which reads `from`, to read `to = from + c` instead, pushing the
/// new instruction (and those of the values it changes) onto `out`; false when some use cannot
/// be rewritten. Loads, stores and atomic adds through `from` take `offset - c`, and `from + c2`
/// becomes `to + (c2 - c)` (a copy of `to` when that is 0). When `from` is a pointer, `from + x` becomes `to + x`, which is `c`
/// more than before, so its own uses are rewritten the same way (in place, `to` = itself):
/// a header at a variable offset from a checked packet pointer. The pointer must be the one
/// moved: the verifier keeps a pointer's constant offset apart from its variable part and
/// checks an access's constant part alone.
#[allow(clippy::too_many_arguments)]
fn moved(
    func: &Function,
    uses: &[Vec<Use>],
    i: Inst,
    from: Value,
    to: Value,
    c: i32,
    from_is_pointer: bool,
    out: &mut Vec<(Inst, InstKind)>,
    depth: u32,
) -> bool {
    let offset = |o: i16| i16::try_from(o as i64 - c as i64).ok();
    let kind = match func.insts[i.index()].kind {
        InstKind::Load {
            size,
            ptr,
            offset: o,
        } if ptr == from => offset(o).map(|offset| InstKind::Load {
            size,
            ptr: to,
            offset,
        }),
        InstKind::Store {
            size,
            ptr,
            offset: o,
            value,
        } if ptr == from && value != Operand::Value(from) => {
            offset(o).map(|offset| InstKind::Store {
                size,
                ptr: to,
                offset,
                value,
            })
        }
        InstKind::AtomicAdd {
            size,
            ptr,
            offset: o,
            value,
        } if ptr == from && value != from => offset(o).map(|offset| InstKind::AtomicAdd {
            size,
            ptr: to,
            offset,
            value,
        }),
        InstKind::Binary {
            op: BinOp::Add,
            lhs,
            rhs: Operand::Imm(c2),
        } if lhs == from => match i32::try_from(c2 as i64 - c as i64) {
            Ok(0) => Some(InstKind::Copy(to)),
            Ok(c2) => Some(InstKind::Binary {
                op: BinOp::Add,
                lhs: to,
                rhs: Operand::Imm(c2),
            }),
            Err(_) => None,
        },
        InstKind::Binary {
            op: BinOp::Add,
            lhs,
            rhs: Operand::Value(rhs),
        } if from_is_pointer && (lhs == from) != (rhs == from) && depth < MAX_DEPTH => {
            let Some(sum) = func.insts[i.index()].result else {
                return false;
            };
            let all = uses[sum.index()].iter().all(|u| {
                u.inst
                    .is_some_and(|j| moved(func, uses, j, sum, sum, c, true, out, depth + 1))
            });
            let swap = |v: Value| if v == from { to } else { v };
            all.then(|| InstKind::Binary {
                op: BinOp::Add,
                lhs: swap(lhs),
                rhs: Operand::Value(swap(rhs)),
            })
        }
        _ => None,
    };
    kind.map(|kind| out.push((i, kind))).is_some()
}

/// The pointer a load, store or atomic add goes through.
fn pointer_of(kind: &InstKind) -> Option<Value> {
    match kind {
        InstKind::Load { ptr, .. }
        | InstKind::Store { ptr, .. }
        | InstKind::AtomicAdd { ptr, .. } => Some(*ptr),
        _ => None,
    }
}

/// Where a value is read: an instruction (`index` in its block) or a block's terminator
/// (`inst` is `None`, `index` is the block's length).
struct Use {
    block: Block,
    index: usize,
    inst: Option<Inst>,
}

/// Per value, every place of the laid-out blocks that reads it.
fn uses(func: &Function) -> Vec<Vec<Use>> {
    let mut uses: Vec<Vec<Use>> = (0..func.values.len()).map(|_| Vec::new()).collect();
    for &block in &func.layout {
        let data = &func.blocks[block.index()];
        for (index, &i) in data.insts.iter().enumerate() {
            func.inst(i).kind.for_each_use(|v| {
                let list = &mut uses[v.index()];
                if list.last().map(|u| u.inst) != Some(Some(i)) {
                    list.push(Use {
                        block,
                        index,
                        inst: Some(i),
                    });
                }
            });
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| {
                uses[v.index()].push(Use {
                    block,
                    index: data.insts.len(),
                    inst: None,
                })
            });
        }
    }
    uses
}
