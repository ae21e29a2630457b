//! Reassociation of address arithmetic: `r = x + (a + c)` whose every use is a memory access
//! through `r` or `r + d` becomes `r = x + a`, with `c` moved into those uses (their offsets,
//! or `d + c`). The constant then costs nothing: an IPv4 transport header at
//! `data + (ihl * 4 + 14)` is `data + ihl * 4` with 14 in each load's offset and in the bounds
//! check's `+ 8` (`+ 22`), as clang computes it.
//!
//! Only when `a + c` has no other use, and every offset stays within its field.

use crate::ir::{BinOp, Function, InstKind, Lists, Operand, Value};

pub fn run(func: &mut Function) {
    let counts = super::use_counts(func);
    let users = users(func);
    for b in func.layout.clone() {
        for k in 0..func.blocks[b.index()].insts.len() {
            let i = func.blocks[b.index()].insts[k];
            let InstKind::Binary {
                op: BinOp::Add,
                lhs,
                rhs: Operand::Value(rhs),
            } = func.insts[i.index()].kind
            else {
                continue;
            };
            let Some(r) = func.insts[i.index()].result else {
                continue;
            };
            // x + (a + c), either way round.
            let split = |v: Value| match super::def_kind(func, v) {
                Some(InstKind::Binary {
                    op: BinOp::Add,
                    lhs: a,
                    rhs: Operand::Imm(c),
                }) if counts[v.index()] == 1 => Some((*a, *c)),
                _ => None,
            };
            let Some((x, a, c)) = split(rhs)
                .map(|(a, c)| (lhs, a, c))
                .or_else(|| split(lhs).map(|(a, c)| (rhs, a, c)))
            else {
                continue;
            };
            let uses = &users[r.index()];
            if uses.len() as u32 != counts[r.index()]
                || !uses.iter().all(|&u| absorbs(&func.insts[u].kind, r, c))
            {
                continue;
            }
            for &u in uses {
                absorb(&mut func.insts[u].kind, c);
            }
            func.insts[i.index()].kind = InstKind::Binary {
                op: BinOp::Add,
                lhs: x,
                rhs: Operand::Value(a),
            };
        }
    }
}

/// The instructions (by index) reading each value, each once.
fn users(func: &Function) -> Lists<usize> {
    let mut pairs = Vec::new();
    for &b in &func.layout {
        for &i in &func.blocks[b.index()].insts {
            let first = pairs.len();
            func.inst(i).kind.for_each_use(|v| {
                if !pairs[first..].contains(&(v.index(), i.index())) {
                    pairs.push((v.index(), i.index()));
                }
            });
        }
    }
    Lists::build(func.values.len(), pairs)
}

/// True when `kind` reads `r` only as a pointer with room for `c` more in its offset, or as
/// `r + d` with `d + c` fitting an immediate.
fn absorbs(kind: &InstKind, r: Value, c: i32) -> bool {
    let offset_fits = |o: i16| i16::try_from(o as i64 + c as i64).is_ok();
    match kind {
        InstKind::Load { ptr, offset, .. } => *ptr == r && offset_fits(*offset),
        InstKind::Store {
            ptr, offset, value, ..
        } => *ptr == r && *value != Operand::Value(r) && offset_fits(*offset),
        InstKind::AtomicAdd {
            ptr, offset, value, ..
        } => *ptr == r && *value != r && offset_fits(*offset),
        InstKind::Binary {
            op: BinOp::Add,
            lhs,
            rhs: Operand::Imm(d),
        } => *lhs == r && i32::try_from(*d as i64 + c as i64).is_ok(),
        _ => false,
    }
}

fn absorb(kind: &mut InstKind, c: i32) {
    match kind {
        InstKind::Load { offset, .. }
        | InstKind::Store { offset, .. }
        | InstKind::AtomicAdd { offset, .. } => *offset += c as i16,
        InstKind::Binary {
            rhs: Operand::Imm(d),
            ..
        } => *d += c,
        _ => {}
    }
}
