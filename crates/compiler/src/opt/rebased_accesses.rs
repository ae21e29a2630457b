//! Rebased accesses: when `p = base + c` is kept (typically the end of a header, compared with
//! `data_end`) and every other use of `base` is a load, store or atomic add, or another
//! `base + c2`, that comes after `p` (dominated by its definition), those uses go through `p`
//! instead, at `offset - c` (`*(u16 *)(data + 12)` after `p = data + 34` becomes
//! `*(u16 *)(p - 22)`). `base` then dies at the addition, so `p` takes its register: the copy
//! in `r2 = data; r2 += 34` disappears. The verifier adds a pointer's constant offset to the
//! access's offset, so it checks the same bytes against the same bounds.
//!
//! Runs once after the main pass list, whose `address_folding` goes the other way (accesses
//! through `p` move onto `base`, which frees `p` when nothing else reads it). Not for the
//! context pointer, which may not be moved before a dereference, nor for stack addresses,
//! which code generation folds into `r10`-relative accesses. Does not rebase when an offset
//! would leave its range, nor uses that `p` does not dominate (`base` would stay live).

use crate::analysis::dominators::DominatorTree;
use crate::ir::{BinOp, Block, Function, Inst, InstKind, Operand, Value};

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
            if !may_rebase(func, base) {
                continue;
            }
            let mut reachable: Option<Vec<bool>> = None;
            let mut rebased = Vec::new();
            let all_fit = uses[base.index()].iter().all(|u| {
                if u.inst == Some(add) {
                    return true;
                }
                let after_p = if u.block == b {
                    u.index > k
                } else {
                    dominators.is_reachable(u.block) && dominators.dominates(b, u.block)
                };
                if !after_p {
                    // A use before `p` that control never reaches again once `p` is defined.
                    let reachable = reachable.get_or_insert_with(|| reachable_after(func, b));
                    return !reachable[u.block.index()];
                }
                let kind = u.inst.and_then(|i| rebase(&func.insts[i.index()].kind, base, p, c));
                kind.map(|kind| rebased.push((u.inst, kind))).is_some()
            });
            if !all_fit || rebased.is_empty() {
                continue;
            }
            for (u, kind) in rebased {
                func.insts[u.expect("only instructions are rebased").index()].kind = kind;
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

/// Not the context pointer, a stack address or a constant.
fn may_rebase(func: &Function, base: Value) -> bool {
    !matches!(
        super::def_kind(func, base),
        Some(InstKind::Arg | InstKind::StackAddr(_) | InstKind::Iconst(_))
    )
}

/// `kind` reading `base` only as its pointer (or as the operand of `base + c2`), moved onto
/// `p = base + c`.
fn rebase(kind: &InstKind, base: Value, p: Value, c: i32) -> Option<InstKind> {
    let offset = |o: i16| i16::try_from(o as i64 - c as i64).ok();
    Some(match *kind {
        InstKind::Load { size, ptr, offset: o } if ptr == base => InstKind::Load {
            size,
            ptr: p,
            offset: offset(o)?,
        },
        InstKind::Store {
            size,
            ptr,
            offset: o,
            value,
        } if ptr == base && value != Operand::Value(base) => InstKind::Store {
            size,
            ptr: p,
            offset: offset(o)?,
            value,
        },
        InstKind::AtomicAdd {
            size,
            ptr,
            offset: o,
            value,
        } if ptr == base && value != base => InstKind::AtomicAdd {
            size,
            ptr: p,
            offset: offset(o)?,
            value,
        },
        InstKind::Binary {
            op: BinOp::Add,
            lhs,
            rhs: Operand::Imm(c2),
        } if lhs == base => InstKind::Binary {
            op: BinOp::Add,
            lhs: p,
            rhs: Operand::Imm(i32::try_from(c2 as i64 - c as i64).ok()?),
        },
        _ => return None,
    })
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
