//! Optimization passes, one per file, each `pub fn run(func: &mut Function)`. The pass list
//! lives in `crate::pipeline`.

pub mod address_folding;
pub mod const_fold;
pub mod context_loads;
pub mod copy_propagation;
pub mod dead_code;
pub mod dead_stack_stores;
pub mod int_return;
pub mod join_constants;
pub mod known_branches;
pub mod merged_copies;
pub mod read_only_keys;
pub mod reassociate;
pub mod rebased_accesses;
pub mod redundant_zext;
pub mod rematerialize;
pub mod shared_branches;
pub mod shared_key_slots;
pub mod sign_select;
pub mod simplify_cfg;
pub mod stack_forwarding;
pub mod unused_helper_calls;
pub mod value_numbering;
pub mod widened_stores;
pub mod zeroed_buffer_checks;

use crate::ir::{Function, InstKind, StackSlot, Value, ValueDef};

/// Number of uses of every value (instructions and terminators of laid-out blocks).
pub fn use_counts(func: &Function) -> Vec<u32> {
    let mut counts = vec![0u32; func.values.len()];
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &i in &data.insts {
            func.inst(i).kind.for_each_use(|v| {
                if let Some(c) = counts.get_mut(v.index()) {
                    *c += 1;
                }
            });
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| {
                if let Some(c) = counts.get_mut(v.index()) {
                    *c += 1;
                }
            });
        }
    }
    counts
}

/// The instruction defining a value, if it is an instruction result.
pub fn def_kind(func: &Function, v: Value) -> Option<&InstKind> {
    match func.values.get(v.index())? {
        ValueDef::Inst(i) => Some(&func.inst(*i).kind),
        _ => None,
    }
}

/// True when `v` is the context pointer the program received (`arg`).
pub fn is_context(func: &Function, v: Value) -> bool {
    matches!(def_kind(func, v), Some(InstKind::Arg))
}

/// The slot each `stack_addr` result of the laid-out blocks is the address of, indexed by value
/// (a table, not a hash map: passes look up every pointer they meet).
pub struct SlotAddresses(Vec<Option<StackSlot>>);

impl SlotAddresses {
    pub fn new(func: &Function) -> SlotAddresses {
        let mut slot_of = vec![None; func.values.len()];
        for &b in &func.layout {
            for &i in &func.blocks[b.index()].insts {
                if let (InstKind::StackAddr(s), Some(r)) = (&func.inst(i).kind, func.inst(i).result)
                {
                    slot_of[r.index()] = Some(*s);
                }
            }
        }
        SlotAddresses(slot_of)
    }

    /// The slot `v` is the address of.
    pub fn get(&self, v: &Value) -> Option<&StackSlot> {
        self.0.get(v.index())?.as_ref()
    }

    /// Every value that is a slot's address.
    pub fn values(&self) -> impl Iterator<Item = Value> + '_ {
        (self.0.iter().enumerate()).filter_map(|(v, s)| s.map(|_| Value(v as u32)))
    }
}
