//! Unused helper calls: a call of a helper that only reads kernel state
//! ([`whistler_bpf::helpers::side_effect_free`]: `map_lookup_elem`, `ktime_get_ns`,
//! `get_current_pid_tgid`...) whose result nothing reads is removed; `dead_code` then removes
//! the arguments that only fed it, and `dead_stack_stores` a key stored only for it.
//!
//! A removed lookup in an LRU map no longer marks its element as recently used; the kernel's
//! LRU order is approximate and not part of any program's result. Helpers that write memory,
//! maps, packets or output buffers are never removed.

use crate::ir::{Function, InstKind};
use whistler_bpf::helpers::side_effect_free;

pub fn run(func: &mut Function) {
    let counts = super::use_counts(func);
    for b in func.layout.clone() {
        func.blocks[b.index()].insts.retain(|&mut i| {
            let data = &func.insts[i.index()];
            let unused = data.result.is_none_or(|r| counts[r.index()] == 0);
            !(unused
                && matches!(data.kind, InstKind::Call { helper, .. } if side_effect_free(helper)))
        });
    }
}
