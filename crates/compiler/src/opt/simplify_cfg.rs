//! CFG simplification and jump threading:
//! - a branch whose two targets are the same block becomes a jump;
//! - a branch to an empty block without parameters that only jumps on is redirected to that
//!   block's destination;
//! - a jump to a block without instructions takes over its terminator (parameters replaced by
//!   the jump's arguments), which threads jumps through forwarding blocks and duplicates
//!   small `return`s and branches;
//! - a block reached by a jump from its only predecessor is merged into it;
//! - unreachable blocks are dropped and the layout becomes reverse postorder.
//!
//! Repeats until nothing changes. Does not reorder instructions or touch block parameters of
//! blocks that keep several predecessors.

use crate::ir::FastHashMap;
use crate::ir::{Block, Function, Operand, Terminator, Value, ValueDef};

pub fn run(func: &mut Function) {
    loop {
        func.layout = func.reverse_postorder();
        let mut changed = share_constant_returns(func);
        let counts = super::use_counts(func);
        for b in func.layout.clone() {
            changed |= thread(func, b, &counts);
        }
        // Unchanged terminators keep the layout in reverse postorder.
        if changed {
            func.layout = func.reverse_postorder();
        }
        changed |= merge_blocks(func);
        if !changed {
            break;
        }
    }
}

/// Where a jump or branch to `b` can go instead, if `b` is an empty forwarding block.
fn forward_target(func: &Function, b: Block) -> Option<Block> {
    let data = &func.blocks[b.index()];
    if !data.insts.is_empty() || !data.params.is_empty() {
        return None;
    }
    match &data.term {
        Some(Terminator::Jump { dest, args }) if args.is_empty() && *dest != b => {
            func.blocks[dest.index()].params.is_empty().then_some(*dest)
        }
        _ => None,
    }
}

fn thread(func: &mut Function, b: Block, counts: &[u32]) -> bool {
    let Some(term) = func.blocks[b.index()].term.clone() else {
        return false;
    };
    let new = match term {
        Terminator::Branch {
            cond,
            lhs,
            rhs,
            then_dest,
            else_dest,
        } => {
            let t = follow(func, then_dest);
            let e = follow(func, else_dest);
            if t == e {
                Terminator::Jump {
                    dest: t,
                    args: Default::default(),
                }
            } else {
                Terminator::Branch {
                    cond,
                    lhs,
                    rhs,
                    then_dest: t,
                    else_dest: e,
                }
            }
        }
        Terminator::Jump { dest, args } => inline_jump(func, b, dest, args, counts),
        other => other,
    };
    let changed = func.blocks[b.index()].term.as_ref() != Some(&new);
    func.blocks[b.index()].term = Some(new);
    changed
}

/// Makes every block that returns the same constant jump to one shared block that does, so
/// branches can go straight to a common exit. Returns whether anything changed.
fn share_constant_returns(func: &mut Function) -> bool {
    let mut canonical: FastHashMap<i32, Block> = FastHashMap::default();
    // How many laid-out blocks return each constant.
    let mut returning: FastHashMap<i32, usize> = FastHashMap::default();
    // Prefer an existing empty block as the shared exit.
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        if let Some(Terminator::Return(Operand::Imm(k))) = &data.term {
            *returning.entry(*k).or_default() += 1;
            if data.insts.is_empty() && data.params.is_empty() {
                canonical.entry(*k).or_insert(b);
            }
        }
    }
    let mut changed = false;
    for b in func.layout.clone() {
        let Some(Terminator::Return(Operand::Imm(k))) = func.blocks[b.index()].term else {
            continue;
        };
        let shared = match canonical.get(&k) {
            Some(&c) if c == b => continue,
            Some(&c) => c,
            None => {
                // The first non-empty block returning k keeps its return until a second appears.
                let c = func.create_block();
                func.blocks[c.index()].term = Some(Terminator::Return(Operand::Imm(k)));
                func.blocks[c.index()].term_span = func.blocks[b.index()].term_span;
                canonical.insert(k, c);
                // No block returning `k` has been redirected yet (that needs a shared one).
                if returning[&k] == 1 {
                    canonical.insert(k, b);
                    continue;
                }
                c
            }
        };
        func.blocks[b.index()].term = Some(Terminator::Jump {
            dest: shared,
            args: Default::default(),
        });
        changed = true;
    }
    changed
}

/// True when a parameter of `b` is used outside `b`'s own terminator (then `b`'s terminator
/// cannot be copied into a predecessor: the other uses would lose their definition).
fn params_escape(func: &Function, b: Block, counts: &[u32]) -> bool {
    let data = &func.blocks[b.index()];
    data.params.iter().any(|&p| {
        let mut local = 0;
        if let Some(t) = &data.term {
            t.for_each_use(|v| local += u32::from(v == p));
        }
        counts.get(p.index()).copied().unwrap_or(0) != local
    })
}

/// Follows forwarding blocks (bounded, so a cycle of empty blocks cannot loop forever).
fn follow(func: &Function, mut b: Block) -> Block {
    for _ in 0..64 {
        match forward_target(func, b) {
            Some(next) => b = next,
            None => break,
        }
    }
    b
}

/// A jump to a block without instructions takes over that block's terminator, with the
/// block's parameters replaced by the jump's arguments (repeated a bounded number of times).
fn inline_jump(
    func: &Function,
    from: Block,
    mut dest: Block,
    mut args: crate::ir::ValueList,
    counts: &[u32],
) -> Terminator {
    for _ in 0..8 {
        let data = &func.blocks[dest.index()];
        if !data.insts.is_empty() || dest == from || params_escape(func, dest, counts) {
            break;
        }
        let Some(mut term) = data.term.clone() else {
            break;
        };
        if matches!(&term, Terminator::Jump { dest: d, .. } if *d == dest) {
            break;
        }
        let params = &data.params;
        term.map_uses(|v| match params.iter().position(|p| *p == v) {
            Some(k) => args.get(k).copied().unwrap_or(v),
            None => v,
        });
        match term {
            Terminator::Jump { dest: d, args: a } => {
                dest = d;
                args = a;
            }
            // Constant returns stay shared (one `goto` is shorter than `r0 = k; exit`).
            Terminator::Return(Operand::Imm(_)) => break,
            other => return other,
        }
    }
    Terminator::Jump { dest, args }
}

/// Merges every block into its predecessor when that predecessor jumps to it and is its only
/// predecessor.
fn merge_blocks(func: &mut Function) -> bool {
    let preds = func.predecessors();
    let mut changed = false;
    let mut merged_into: Vec<Option<Block>> = vec![None; func.blocks.len()];
    // Parameters of merged blocks become their arguments, substituted once at the end (chains
    // resolve there), so merging stays linear in the function's size.
    let mut subst: Vec<Option<Value>> = vec![None; func.values.len()];
    let mut substituted = false;
    for b in func.layout.clone() {
        let [p] = preds[b.index()][..] else { continue };
        if p == b || b == func.entry() {
            continue;
        }
        // The predecessor may itself have been merged into another block.
        let mut host = p;
        while let Some(h) = merged_into[host.index()] {
            host = h;
        }
        let Some(Terminator::Jump { dest, .. }) = &func.blocks[host.index()].term else {
            continue;
        };
        if *dest != b {
            continue;
        }
        // The host's jump goes: `b`'s terminator replaces it below.
        let Some(Terminator::Jump { args, .. }) = func.blocks[host.index()].term.take() else {
            continue;
        };
        let params = std::mem::take(&mut func.blocks[b.index()].params);
        substituted |= !params.is_empty();
        for (param, arg) in params.iter().zip(args) {
            subst[param.index()] = Some(arg);
            func.values[param.index()] = ValueDef::None;
        }
        let insts = std::mem::take(&mut func.blocks[b.index()].insts);
        let term = func.blocks[b.index()].term.take();
        let span = func.blocks[b.index()].term_span;
        let hb = &mut func.blocks[host.index()];
        hb.insts.extend(insts);
        hb.term = term;
        hb.term_span = span;
        // Keep `b` structurally valid (it is now unreachable): a self-loop.
        func.blocks[b.index()].term = Some(Terminator::Jump {
            dest: b,
            args: Default::default(),
        });
        merged_into[b.index()] = Some(host);
        changed = true;
    }
    if substituted {
        func.substitute(&subst);
    }
    changed
}
