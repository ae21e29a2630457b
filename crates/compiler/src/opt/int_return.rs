//! Extensions of an `int` result dropped: in a function whose caller reads only the low 32 bits
//! of the returned value ([`Function::returns_int`], LSM programs), a returned `zext32 x`, or a
//! sign extension `arsh (lsh x, 32), 32` (or its logical-shift twin), returns `x` instead: the
//! extension only rewrites the upper 32 bits nobody reads. `dead_code` then removes the
//! extension when nothing else uses it.
//!
//! Only the operand of `return` changes, never the extended value seen by other uses; results
//! passed to a join first are left alone.

use super::def_kind;
use crate::ir::{BinOp, Function, InstKind, Operand, Terminator, UnOp, Value};

pub fn run(func: &mut Function) {
    if !func.returns_int {
        return;
    }
    for b in func.layout.clone() {
        let Some(Terminator::Return(Operand::Value(v))) = &func.blocks[b.index()].term else {
            continue;
        };
        let mut v = *v;
        while let Some(inner) = extended(func, v) {
            v = inner;
        }
        func.blocks[b.index()].term = Some(Terminator::Return(Operand::Value(v)));
    }
}

/// `x` when `v` is `zext32 x` or `(lsh x, 32)` shifted right by 32.
fn extended(func: &Function, v: Value) -> Option<Value> {
    match *def_kind(func, v)? {
        InstKind::Unary {
            op: UnOp::Zext32,
            arg,
        } => Some(arg),
        InstKind::Binary {
            op: BinOp::Arsh | BinOp::Rsh,
            lhs,
            rhs: Operand::Imm(32),
        } => match *def_kind(func, lhs)? {
            InstKind::Binary {
                op: BinOp::Lsh,
                lhs: x,
                rhs: Operand::Imm(32),
            } => Some(x),
            _ => None,
        },
        _ => None,
    }
}
