//! Constant folding: operations on constants become constants (with the kernel's semantics:
//! `x / 0 == 0`, `x % 0 == x`), constant operands that fit in 32 bits become immediates
//! (commutative operations and comparisons are swapped to put the constant second), identities
//! (`x + 0`, `x * 1`, `x | 0`, shifts by 0) become copies, and branches on two constants become
//! jumps.
//!
//! A byte-swapped load compared for (in)equality with a constant compares the raw load with
//! the swapped constant instead.
//!
//! Does not propagate through memory or block parameters, and never folds an operation whose
//! first operand is not constant into something else (pointer arithmetic keeps its shape so the
//! verifier sees the same pointer registers).

use crate::ir::{BinOp, Cond, Function, InstKind, Operand, Terminator, UnOp, Value};

pub fn run(func: &mut Function) {
    for b in func.layout.clone() {
        for k in 0..func.blocks[b.index()].insts.len() {
            let i = func.blocks[b.index()].insts[k];
            if let Some(new) = fold(func, &func.insts[i.index()].kind) {
                func.insts[i.index()].kind = new;
            }
        }
        if let Some(t) = func.blocks[b.index()].term.take() {
            func.blocks[b.index()].term = Some(fold_term(func, t));
        }
    }
}

fn imm(func: &Function, v: Value) -> Option<i32> {
    func.const_value(v).and_then(|c| i32::try_from(c).ok())
}

fn operand_const(func: &Function, o: Operand) -> Option<i64> {
    match o {
        Operand::Imm(i) => Some(i as i64),
        Operand::Value(v) => func.const_value(v),
    }
}

fn commutative(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor
    )
}

pub fn eval_binary(op: BinOp, a: i64, b: i64) -> i64 {
    let (ua, ub) = (a as u64, b as u64);
    (match op {
        BinOp::Add => ua.wrapping_add(ub),
        BinOp::Sub => ua.wrapping_sub(ub),
        BinOp::Mul => ua.wrapping_mul(ub),
        BinOp::Div => ua.checked_div(ub).unwrap_or(0),
        BinOp::Mod => ua.checked_rem(ub).unwrap_or(ua),
        BinOp::And => ua & ub,
        BinOp::Or => ua | ub,
        BinOp::Xor => ua ^ ub,
        BinOp::Lsh => ua.wrapping_shl((ub & 63) as u32),
        BinOp::Rsh => ua.wrapping_shr((ub & 63) as u32),
        BinOp::Arsh => (a.wrapping_shr((ub & 63) as u32)) as u64,
    }) as i64
}

pub fn eval_unary(op: UnOp, a: i64) -> i64 {
    let u = a as u64;
    (match op {
        UnOp::Neg => u.wrapping_neg(),
        UnOp::Swap16 => (u as u16).swap_bytes() as u64,
        UnOp::Swap32 => (u as u32).swap_bytes() as u64,
        UnOp::Swap64 => u.swap_bytes(),
        UnOp::Zext32 => u as u32 as u64,
    }) as i64
}

fn fold(func: &Function, kind: &InstKind) -> Option<InstKind> {
    match kind {
        InstKind::Binary { op, lhs, rhs } => fold_binary(func, *op, *lhs, *rhs),
        InstKind::Unary { op, arg } => func
            .const_value(*arg)
            .map(|c| InstKind::Iconst(eval_unary(*op, c))),
        InstKind::Store {
            size,
            ptr,
            offset,
            value: Operand::Value(v),
        } => {
            let c = func.const_value(*v)?;
            // A store of a constant takes its low `size` bytes; the immediate is sign-extended.
            let truncated = match size {
                8 => i32::try_from(c).ok()?,
                4 => c as i32,
                2 => c as i16 as i32,
                _ => c as i8 as i32,
            };
            Some(InstKind::Store {
                size: *size,
                ptr: *ptr,
                offset: *offset,
                value: Operand::Imm(truncated),
            })
        }
        _ => None,
    }
}

fn fold_binary(func: &Function, op: BinOp, lhs: Value, rhs: Operand) -> Option<InstKind> {
    let (a, b) = (func.const_value(lhs), operand_const(func, rhs));
    if let (Some(a), Some(b)) = (a, b) {
        return Some(InstKind::Iconst(eval_binary(op, a, b)));
    }
    if let (Some(_), Operand::Value(r)) = (a, rhs) {
        if commutative(op) {
            return Some(InstKind::Binary {
                op,
                lhs: r,
                rhs: Operand::Value(lhs),
            })
            .map(|k| fold(func, &k).unwrap_or(k));
        }
        return None;
    }
    let b = b?;
    let identity = match op {
        BinOp::Add
        | BinOp::Sub
        | BinOp::Or
        | BinOp::Xor
        | BinOp::Lsh
        | BinOp::Rsh
        | BinOp::Arsh => b == 0,
        BinOp::Mul | BinOp::Div => b == 1,
        BinOp::And => b == -1,
        BinOp::Mod => false,
    };
    if identity {
        return Some(InstKind::Copy(lhs));
    }
    match rhs {
        Operand::Value(r) => imm(func, r).map(|i| InstKind::Binary {
            op,
            lhs,
            rhs: Operand::Imm(i),
        }),
        Operand::Imm(_) => None,
    }
}

fn swapped(c: Cond) -> Cond {
    use Cond::*;
    match c {
        Gt => Lt,
        Lt => Gt,
        Ge => Le,
        Le => Ge,
        Sgt => Slt,
        Slt => Sgt,
        Sge => Sle,
        Sle => Sge,
        other => other,
    }
}

/// `swap(x) == k` tests `x == swap(k)` when `x` is a load of exactly the swapped width (its
/// upper bits are zero) and the swapped constant is still an immediate.
fn unswap(func: &Function, cond: Cond, lhs: Value, rhs: Operand) -> Option<(Value, Operand)> {
    let (Cond::Eq | Cond::Ne, Operand::Imm(k)) = (cond, rhs) else {
        return None;
    };
    let InstKind::Unary { op, arg } = super::def_kind(func, lhs)? else {
        return None;
    };
    let width: u8 = match op {
        UnOp::Swap16 => 2,
        UnOp::Swap32 => 4,
        _ => return None,
    };
    match super::def_kind(func, *arg)? {
        InstKind::Load { size, .. } if *size == width => {}
        _ => return None,
    }
    let imm = i32::try_from(eval_unary(*op, k as i64)).ok()?;
    Some((*arg, Operand::Imm(imm)))
}

fn fold_term(func: &Function, t: Terminator) -> Terminator {
    match fold_term_operands(func, t) {
        Terminator::Branch {
            cond,
            lhs,
            rhs,
            then_dest,
            else_dest,
        } => {
            let (lhs, rhs) = unswap(func, cond, lhs, rhs).unwrap_or((lhs, rhs));
            Terminator::Branch {
                cond,
                lhs,
                rhs,
                then_dest,
                else_dest,
            }
        }
        other => other,
    }
}

fn fold_term_operands(func: &Function, t: Terminator) -> Terminator {
    match t {
        Terminator::Branch {
            cond,
            lhs,
            rhs,
            then_dest,
            else_dest,
        } => {
            let (a, b) = (func.const_value(lhs), operand_const(func, rhs));
            if let (Some(a), Some(b)) = (a, b) {
                let dest = if cond.eval(a as u64, b as u64) {
                    then_dest
                } else {
                    else_dest
                };
                return Terminator::Jump {
                    dest,
                    args: Default::default(),
                };
            }
            match (a, rhs) {
                (Some(_), Operand::Value(r)) => Terminator::Branch {
                    cond: swapped(cond),
                    lhs: r,
                    rhs: imm(func, lhs).map_or(Operand::Value(lhs), Operand::Imm),
                    then_dest,
                    else_dest,
                },
                (_, Operand::Value(r)) => Terminator::Branch {
                    cond,
                    lhs,
                    rhs: imm(func, r).map_or(rhs, Operand::Imm),
                    then_dest,
                    else_dest,
                },
                _ => Terminator::Branch {
                    cond,
                    lhs,
                    rhs,
                    then_dest,
                    else_dest,
                },
            }
        }
        Terminator::Return(Operand::Value(v)) => {
            Terminator::Return(imm(func, v).map_or(Operand::Value(v), Operand::Imm))
        }
        other => other,
    }
}
