//! Sign tests that choose between two returned constants one apart become arithmetic on the
//! sign bit: `if (x < 0) return K - 1; else return K;` returns `K + (x s>> 63)`, and
//! `if (x < 0) return K + 1; else return K;` returns `K + (x >> 63)`. Two `r0 = K; exit`
//! tails and the branch (5 instructions) become `r0 s>>= 63; r0 += K; exit` (3).
//!
//! A sign test is a signed compare of `x` with 0 (`x < 0`, `x >= 0`, `x <= -1`, `x > -1`),
//! or `x == 0` / `x != 0` when `x` is the result of a helper that returns 0 or a negative
//! error number (`whistler_bpf::helpers::returns_zero_or_errno`): for such an `x`, being 0
//! and being non-negative are the same.
//!
//! Only when both returning blocks are empty, reached from the test alone, and no other block
//! returns either constant (`r0 = K; exit` tails are shared in code generation, so a constant
//! returned elsewhere costs nothing more): otherwise the arithmetic would not be shorter.

use super::def_kind;
use crate::ir::{BinOp, Block, Function, InstKind, Operand, Predecessors, Terminator, Value};
use crate::ops::Cond;
use whistler_bpf::helpers::returns_zero_or_errno;
use whistler_syntax::Span;

pub fn run(func: &mut Function) {
    let preds = func.predecessors();
    for b in func.layout.clone() {
        let Some(Terminator::Branch {
            cond,
            lhs: x,
            rhs: Operand::Imm(k),
            then_dest,
            else_dest,
        }) = func.blocks[b.index()].term.clone()
        else {
            continue;
        };
        let Some(negative_first) = sign_test(func, cond, x, k) else {
            continue;
        };
        let (negative, non_negative) = if negative_first {
            (then_dest, else_dest)
        } else {
            (else_dest, then_dest)
        };
        let (Some(n), Some(p)) = (
            lone_return(func, &preds, negative, b),
            lone_return(func, &preds, non_negative, b),
        ) else {
            continue;
        };
        let shift = match i64::from(n) - i64::from(p) {
            -1 => BinOp::Arsh,
            1 => BinOp::Rsh,
            _ => continue,
        };
        if returned_elsewhere(func, [negative, non_negative], [n, p]) {
            continue;
        }
        let span = func.blocks[b.index()].term_span;
        let sign = binary(func, b, shift, x, 63, span);
        let result = if p == 0 {
            sign
        } else {
            binary(func, b, BinOp::Add, sign, p, span)
        };
        func.blocks[b.index()].term = Some(Terminator::Return(Operand::Value(result)));
    }
}

/// Whether the branch on `x cond k` is a sign test: `Some(true)` when its `then` side is taken
/// for negative `x`, `Some(false)` when its `else` side is.
fn sign_test(func: &Function, cond: Cond, x: Value, k: i32) -> Option<bool> {
    let zero_or_errno = || matches!(def_kind(func, x), Some(InstKind::Call { helper, .. }) if returns_zero_or_errno(*helper));
    match (cond, k) {
        (Cond::Slt, 0) | (Cond::Sle, -1) => Some(true),
        (Cond::Sge, 0) | (Cond::Sgt, -1) => Some(false),
        (Cond::Ne, 0) if zero_or_errno() => Some(true),
        (Cond::Eq, 0) if zero_or_errno() => Some(false),
        _ => None,
    }
}

/// The constant `block` returns when it does nothing else and `from` is its only predecessor.
fn lone_return(func: &Function, preds: &Predecessors, block: Block, from: Block) -> Option<i32> {
    let data = &func.blocks[block.index()];
    if !data.insts.is_empty() || !data.params.is_empty() || preds[block.index()] != [from] {
        return None;
    }
    match data.term {
        Some(Terminator::Return(Operand::Imm(k))) => Some(k),
        _ => None,
    }
}

/// True when a block other than `except` returns one of `constants`.
fn returned_elsewhere(func: &Function, except: [Block; 2], constants: [i32; 2]) -> bool {
    func.layout.iter().any(|b| {
        !except.contains(b)
            && matches!(func.blocks[b.index()].term, Some(Terminator::Return(Operand::Imm(k))) if constants.contains(&k))
    })
}

fn binary(func: &mut Function, block: Block, op: BinOp, lhs: Value, rhs: i32, span: Span) -> Value {
    let kind = InstKind::Binary {
        op,
        lhs,
        rhs: Operand::Imm(rhs),
    };
    (func.append_inst(block, kind, span)).expect("a binary instruction has a result")
}
