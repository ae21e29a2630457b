//! Constant keys from read-only data: a map helper's key or value argument (the `MapKey` and
//! `MapValue` buffers of `whistler_bpf::helpers::read_buffers`) that points at a stack slot
//! whose bytes are all constants stored before the call (`(getmap counts 0)`) becomes the
//! address of those bytes in the object's `.rodata` (`data_addr`): one `ld_imm64` where the
//! stack takes a store and the two instructions that build the slot's address (`r2 = r10;
//! r2 += -4`). `dead_stack_stores` then drops the stores nothing else reads. Equal bytes share
//! one `Function::data` entry; the object writer places each distinct one once.
//!
//! Only when `Function::read_only_data` allows it (the target's kernels load global data). What
//! a slot holds before the call is `stack_forwarding`'s answer.

use super::dead_stack_stores::helper_reads;
use super::stack_forwarding::{slot_of, walk};
use crate::ir::{Block, Function, Inst, InstData, InstKind, Value, ValueDef};
use whistler_bpf::helpers::{read_buffers, ReadSize};

pub fn run(func: &mut Function) {
    if !func.read_only_data {
        return;
    }
    let mut constant_args: Vec<(Block, Inst, usize, Vec<u8>)> = Vec::new();
    walk(func, |func, b, i, contents| {
        let InstKind::Call { helper, args } = &func.insts[i.index()].kind else {
            return;
        };
        for &(k, size) in read_buffers(*helper) {
            if !matches!(size, ReadSize::MapKey | ReadSize::MapValue) {
                continue;
            }
            let k = k as usize;
            let Some(slot) = args.get(k).and_then(|&a| slot_of(func, a)) else {
                continue;
            };
            let Some(len) = helper_reads(func, *helper, args, k).filter(|&n| n > 0) else {
                continue;
            };
            if let Some(bytes) = contents.constant_bytes(func, slot, len as usize) {
                constant_args.push((b, i, k, bytes));
            }
        }
    });
    for (b, call, k, bytes) in constant_args {
        let address = data_address(func, b, call, bytes);
        if let InstKind::Call { args, .. } = &mut func.insts[call.index()].kind {
            args[k] = address;
        }
    }
}

/// A new `data_addr` of `bytes` right before `call`.
fn data_address(func: &mut Function, b: Block, call: Inst, bytes: Vec<u8>) -> Value {
    let data = match func.data.iter().position(|d| *d == bytes) {
        Some(d) => d,
        None => {
            func.data.push(bytes);
            func.data.len() - 1
        }
    };
    let inst = Inst(func.insts.len() as u32);
    let result = func.new_value(ValueDef::Inst(inst));
    func.insts.push(InstData {
        kind: InstKind::DataAddr(data as u32),
        result: Some(result),
        span: func.insts[call.index()].span,
    });
    let insts = &mut func.blocks[b.index()].insts;
    let at = insts.iter().position(|&i| i == call).unwrap_or(insts.len());
    insts.insert(at, inst);
    result
}
