//! Shared branches: a block that ends in the same two-way branch (condition, operands and
//! targets) as a block without instructions or parameters jumps to that block instead of
//! repeating the test (both sides of a map entry's null check testing the key next, after
//! `simplify_cfg` copied the test into each). The jump is free when the layout puts the
//! shared block next, and costs no more than the repeated branch otherwise.
//!
//! Runs once, after the pass loop: `simplify_cfg` would copy the branch back.

use crate::ir::FastHashMap;
use crate::ir::{Block, Function, Terminator};

pub fn run(func: &mut Function) {
    let mut empty: FastHashMap<Terminator, Block> = FastHashMap::default();
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        if let Some(t @ Terminator::Branch { .. }) = &data.term {
            if data.insts.is_empty() && data.params.is_empty() {
                empty.entry(t.clone()).or_insert(b);
            }
        }
    }
    if empty.is_empty() {
        return;
    }
    let mut changed = false;
    for b in func.layout.clone() {
        let data = &mut func.blocks[b.index()];
        let Some(t @ Terminator::Branch { .. }) = &data.term else {
            continue;
        };
        if data.insts.is_empty() {
            continue;
        }
        if let Some(&shared) = empty.get(t) {
            data.term = Some(Terminator::Jump {
                dest: shared,
                args: Default::default(),
            });
            changed = true;
        }
    }
    if changed {
        func.layout = func.reverse_postorder();
    }
}
