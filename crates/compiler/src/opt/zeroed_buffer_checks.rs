//! Status checks a zeroed buffer makes redundant: a helper that fills a stack buffer writes
//! every byte of it and zeroes it on failure (`whistler_bpf::helpers::write_buffers`, the
//! kernel's contract for uninitialized-memory arguments), and returns 0 or a negative error
//! (`returns_zero_or_errno`). When the branch on its status goes, on success, to code that
//! only reads the buffer and computes, and that code, run on a zeroed buffer, ends up where
//! failure goes, the status test is dropped: `(and (= (skb-load-bytes ctx 9 buf 1) 0)
//! (= protocol 6))` tests only the protocol byte, which is 0, not 6, after a failure.
//!
//! The success side is followed through blocks that are pure (constants, stack addresses,
//! copies, arithmetic, and loads inside the filled bytes of the buffer) and end in a branch
//! whose outcome the zeroed buffer decides, at most [`MAX_BLOCKS`] of them. Only buffers that
//! are a stack slot's address with a constant length are considered; blocks with parameters
//! are never the failure target.

use crate::ir::{
    Block, Cond, FastHashMap, Function, InstKind, Operand, StackSlot, Terminator, Value, ValueList,
};
use crate::opt::const_fold::{eval_binary, eval_unary};
use whistler_bpf::helpers::{returns_zero_or_errno, write_buffers};

/// How many pure blocks the success side is followed through.
const MAX_BLOCKS: usize = 8;

pub fn run(func: &mut Function) {
    for b in func.layout.clone() {
        let Some((success, failure, buffer)) = status_branch(func, b) else {
            continue;
        };
        if !func.blocks[failure.index()].params.is_empty() {
            continue;
        }
        if reaches_on_zeroed_buffer(func, success, failure, buffer) {
            func.blocks[b.index()].term = Some(Terminator::Jump {
                dest: success,
                args: ValueList::new(),
            });
        }
    }
}

/// The bytes a helper filled: `(slot, length)`.
type Buffer = (StackSlot, i64);

/// For a block ending in a test of a buffer-filling helper's status: the successor taken on
/// success, the one taken on failure, and the buffer.
fn status_branch(func: &Function, b: Block) -> Option<(Block, Block, Buffer)> {
    let Some(Terminator::Branch {
        cond,
        lhs,
        rhs: Operand::Imm(0),
        then_dest,
        else_dest,
    }) = &func.blocks[b.index()].term
    else {
        return None;
    };
    let InstKind::Call { helper, args } = super::def_kind(func, *lhs)? else {
        return None;
    };
    if !returns_zero_or_errno(*helper) {
        return None;
    }
    // `status == 0` and `status >= 0` hold on success only, their negations on failure only.
    let (success, failure) = match cond {
        Cond::Eq | Cond::Sge => (*then_dest, *else_dest),
        Cond::Ne | Cond::Slt => (*else_dest, *then_dest),
        _ => return None,
    };
    let &[(buf, len)] = write_buffers(*helper) else {
        return None;
    };
    let slot = match super::def_kind(func, *args.get(buf as usize)?)? {
        InstKind::StackAddr(s) => *s,
        _ => return None,
    };
    let len = func.const_value(*args.get(len as usize)?)?;
    (success != failure).then_some((success, failure, (slot, len)))
}

/// True when running from `block` with the buffer zeroed reaches `failure` through pure
/// blocks only.
fn reaches_on_zeroed_buffer(
    func: &Function,
    mut block: Block,
    failure: Block,
    buffer: Buffer,
) -> bool {
    let mut known: FastHashMap<Value, i64> = FastHashMap::default();
    for _ in 0..MAX_BLOCKS {
        let data = &func.blocks[block.index()];
        if !data.params.is_empty() {
            return false;
        }
        for &i in &data.insts {
            let inst = func.inst(i);
            let Some(value) = eval(func, &inst.kind, &known, buffer) else {
                return false;
            };
            if let (Some(r), Some(value)) = (inst.result, value) {
                known.insert(r, value);
            }
        }
        let operand = |o: Operand| match o {
            Operand::Imm(c) => Some(c as i64),
            Operand::Value(v) => known.get(&v).copied(),
        };
        let Some(Terminator::Branch {
            cond,
            lhs,
            rhs,
            then_dest,
            else_dest,
        }) = &data.term
        else {
            return false;
        };
        let (Some(a), Some(c)) = (operand(Operand::Value(*lhs)), operand(*rhs)) else {
            return false;
        };
        block = if cond.eval(a as u64, c as u64) {
            *then_dest
        } else {
            *else_dest
        };
        if block == failure {
            return true;
        }
    }
    false
}

/// What a pure instruction computes when the buffer is zeroed: `Some(Some(value))` when
/// known, `Some(None)` for a pure result not known (a stack address); `None` for an
/// instruction that is not pure or reads what is not known.
fn eval(
    func: &Function,
    kind: &InstKind,
    known: &FastHashMap<Value, i64>,
    (slot, len): Buffer,
) -> Option<Option<i64>> {
    let value = |v: &Value| known.get(v).copied();
    Some(match kind {
        InstKind::Iconst(c) => Some(*c),
        InstKind::StackAddr(_) => None,
        InstKind::Copy(v) => Some(value(v)?),
        InstKind::Unary { op, arg } => Some(eval_unary(*op, value(arg)?)),
        InstKind::Binary { op, lhs, rhs } => {
            let rhs = match rhs {
                Operand::Imm(c) => *c as i64,
                Operand::Value(v) => value(v)?,
            };
            Some(eval_binary(*op, value(lhs)?, rhs))
        }
        InstKind::Load { size, ptr, offset } => {
            let InstKind::StackAddr(s) = super::def_kind(func, *ptr)? else {
                return None;
            };
            let inside = *offset >= 0 && *offset as i64 + *size as i64 <= len;
            (*s == slot && inside).then_some(Some(0))?
        }
        _ => return None,
    })
}
