//! Register allocation by linear scan over the laid-out blocks, knowing BPF's conventions:
//! R1-R5 are clobbered by helper calls (values live across a call get R6-R9 or a stack slot),
//! R0 and R5 are kept as scratch registers for the code generator (call results, spilled
//! operands, move cycles), R10 is the read-only frame pointer.
//!
//! R0 is allocatable too, for values that are neither block parameters nor jump or call
//! arguments and live across no call (typically a helper's result that is null-checked and
//! dereferenced), but only when nothing spills: with spills the allocation is redone without
//! R0, which the code generator then uses as scratch.
//!
//! Input: a function whose layout is final. Output: an [`Allocation`] (a location for every
//! value), which [`checker::check`] re-verifies independently.
//!
//! Live intervals are single ranges over a linear numbering (no holes): for an acyclic CFG in
//! reverse postorder, every path from a definition to a use stays between them; around loops the
//! interval of a value live at the header is extended to the end of the loop.

pub mod checker;

use crate::ir::{Block, Function, InstKind, Operand, Terminator, Value};

/// Where a value lives for its whole lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    Reg(u8),
    /// An 8-byte spill slot, by index.
    Stack(u32),
}

#[derive(Clone, Debug, Default)]
pub struct Allocation {
    /// Indexed by value; `None` for values without a live definition.
    pub locs: Vec<Option<Loc>>,
    pub spill_slots: u32,
}

impl Allocation {
    pub fn loc(&self, v: Value) -> Option<Loc> {
        self.locs.get(v.index()).copied().flatten()
    }
}

const CALLER_SAVED: [u8; 4] = [1, 2, 3, 4];
const CALLEE_SAVED: [u8; 4] = [6, 7, 8, 9];

#[derive(Clone, Copy, Debug)]
struct Interval {
    value: Value,
    start: u32,
    end: u32,
    hint: Option<Value>,
    hint_reg: Option<u8>,
    /// May live in R0: not a block parameter, jump argument or call argument.
    r0_ok: bool,
}

/// Program points: block starts, instruction uses (even) and definitions (odd).
pub struct Numbering {
    pub block_start: Vec<u32>,
    pub block_end: Vec<u32>,
    pub calls: Vec<u32>,
}

pub fn allocate(func: &Function) -> Allocation {
    let (mut intervals, numbering) = build_intervals(func);
    extend_over_loops(func, &numbering, &mut intervals);
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by_key(|&i| (intervals[i].start, intervals[i].value));
    let first = Scan::new(func.values.len(), true).run(&intervals, &order, &numbering.calls);
    if first.spill_slots == 0 {
        return first;
    }
    Scan::new(func.values.len(), false).run(&intervals, &order, &numbering.calls)
}

fn build_intervals(func: &Function) -> (Vec<Interval>, Numbering) {
    let n = func.values.len();
    let mut start = vec![u32::MAX; n];
    let mut end = vec![0u32; n];
    let mut hint_reg: Vec<Option<u8>> = vec![None; n];
    let mut hint: Vec<Option<Value>> = vec![None; n];
    let mut r0_ok = vec![true; n];
    let mut numbering = Numbering {
        block_start: vec![0; func.blocks.len()],
        block_end: vec![0; func.blocks.len()],
        calls: Vec::new(),
    };
    let use_at = |v: Value, pos: u32, end: &mut Vec<u32>| {
        if let Some(e) = end.get_mut(v.index()) {
            *e = (*e).max(pos);
        }
    };
    let mut pos = 0u32;
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        numbering.block_start[b.index()] = pos;
        for &p in &data.params {
            r0_ok[p.index()] = false;
            start[p.index()] = pos;
            end[p.index()] = end[p.index()].max(pos);
        }
        pos += 2;
        for &i in &data.insts {
            let inst = func.inst(i);
            inst.kind.for_each_use(|v| use_at(v, pos, &mut end));
            if let InstKind::Call { args, .. } = &inst.kind {
                for (k, a) in args.iter().enumerate() {
                    r0_ok[a.index()] = false;
                    if k < 4 {
                        hint_reg[a.index()] = Some(k as u8 + 1);
                    }
                }
            }
            if inst.kind.is_call() {
                numbering.calls.push(pos);
            }
            if let Some(r) = inst.result {
                start[r.index()] = pos + 1;
                end[r.index()] = end[r.index()].max(pos + 1);
                if inst.kind.is_call() {
                    hint_reg[r.index()].get_or_insert(0);
                }
                if let InstKind::Binary { lhs, .. } | InstKind::Unary { arg: lhs, .. } = &inst.kind
                {
                    hint[r.index()] = Some(*lhs);
                }
            }
            pos += 2;
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| use_at(v, pos, &mut end));
            match t {
                Terminator::Jump { dest, args } => {
                    for (p, a) in func.blocks[dest.index()].params.iter().zip(args) {
                        r0_ok[a.index()] = false;
                        hint[p.index()].get_or_insert(*a);
                    }
                }
                Terminator::Return(Operand::Value(v)) => {
                    hint_reg[v.index()].get_or_insert(0);
                }
                _ => {}
            }
        }
        numbering.block_end[b.index()] = pos;
        pos += 2;
    }
    // A value computed into R0 for `exit` pulls the operand it is computed from there too, so
    // that a chain ending in the return value needs no final move.
    for &b in func.layout.iter().rev() {
        for &i in func.blocks[b.index()].insts.iter().rev() {
            let inst = func.inst(i);
            let (Some(r), InstKind::Binary { lhs, .. } | InstKind::Unary { arg: lhs, .. }) =
                (inst.result, &inst.kind)
            else {
                continue;
            };
            if hint_reg[r.index()] == Some(0) && r0_ok[lhs.index()] {
                hint_reg[lhs.index()].get_or_insert(0);
            }
        }
    }
    let intervals = (0..n)
        .filter(|&v| start[v] != u32::MAX)
        .map(|v| Interval {
            value: Value(v as u32),
            start: start[v],
            end: end[v].max(start[v]),
            hint: hint[v],
            hint_reg: hint_reg[v],
            r0_ok: r0_ok[v],
        })
        .collect();
    (intervals, numbering)
}

/// Extends intervals live at a loop header to the end of the loop (its latest back edge).
fn extend_over_loops(func: &Function, num: &Numbering, intervals: &mut [Interval]) {
    let mut loops: Vec<(u32, u32)> = Vec::new();
    for &b in &func.layout {
        if let Some(t) = &func.blocks[b.index()].term {
            for s in t.successors() {
                let (hs, be) = (num.block_start[s.index()], num.block_end[b.index()]);
                if hs <= num.block_start[b.index()] {
                    loops.push((hs, be));
                }
            }
        }
    }
    if loops.is_empty() {
        return;
    }
    let mut changed = true;
    while changed {
        changed = false;
        for iv in intervals.iter_mut() {
            for &(header, last) in &loops {
                if iv.start < header && iv.end >= header && iv.end < last {
                    iv.end = last;
                    changed = true;
                }
            }
        }
    }
}

struct Scan {
    locs: Vec<Option<Loc>>,
    /// Active register intervals: (end, value, reg).
    active: Vec<(u32, Value, u8)>,
    /// Active spilled intervals: (end, slot).
    active_slots: Vec<(u32, u32)>,
    free_slots: Vec<u32>,
    spill_slots: u32,
    use_r0: bool,
}

impl Scan {
    fn new(n: usize, use_r0: bool) -> Scan {
        Scan {
            locs: vec![None; n],
            active: Vec::new(),
            active_slots: Vec::new(),
            free_slots: Vec::new(),
            spill_slots: 0,
            use_r0,
        }
    }

    fn run(mut self, intervals: &[Interval], order: &[usize], calls: &[u32]) -> Allocation {
        for &i in order {
            let iv = intervals[i];
            self.expire(iv.start);
            let crosses = crosses_call(calls, iv.start, iv.end);
            let allowed: &[u8] = if crosses {
                &CALLEE_SAVED
            } else if self.use_r0 && iv.r0_ok {
                &[1, 2, 3, 4, 6, 7, 8, 9, 0]
            } else {
                &[1, 2, 3, 4, 6, 7, 8, 9]
            };
            // R0 for the return value (or a call's result) comes first: it saves a move.
            let from_operand = iv.hint.and_then(|h| match self.locs[h.index()] {
                Some(Loc::Reg(r)) => Some(r),
                _ => None,
            });
            let hinted = match iv.hint_reg {
                Some(0) => Some(0),
                reg => from_operand.or(reg),
            };
            match self.pick(allowed, hinted, crosses) {
                Some(r) => self.assign(iv, r),
                None => self.spill_one(iv, allowed),
            }
        }
        Allocation {
            locs: self.locs,
            spill_slots: self.spill_slots,
        }
    }

    fn expire(&mut self, pos: u32) {
        // An interval ending at `pos` (a use) may share its register with one starting after.
        self.active.retain(|&(end, _, _)| end >= pos);
        let mut freed = Vec::new();
        self.active_slots.retain(|&(end, slot)| {
            let keep = end >= pos;
            if !keep {
                freed.push(slot);
            }
            keep
        });
        self.free_slots.extend(freed);
    }

    fn pick(&self, allowed: &[u8], hint: Option<u8>, crosses: bool) -> Option<u8> {
        let free = |r: u8| allowed.contains(&r) && !self.active.iter().any(|&(_, _, ar)| ar == r);
        if let Some(h) = hint.filter(|&h| free(h)) {
            return Some(h);
        }
        let prefer: &[u8] = if crosses {
            &CALLEE_SAVED
        } else {
            &CALLER_SAVED
        };
        prefer
            .iter()
            .chain(allowed.iter())
            .copied()
            .find(|&r| free(r))
    }

    fn assign(&mut self, iv: Interval, r: u8) {
        self.locs[iv.value.index()] = Some(Loc::Reg(r));
        self.active.push((iv.end, iv.value, r));
    }

    /// No register is free: spill whichever of `iv` and the compatible active intervals ends
    /// last.
    fn spill_one(&mut self, iv: Interval, allowed: &[u8]) {
        let victim = self
            .active
            .iter()
            .enumerate()
            .filter(|(_, &(_, _, r))| allowed.contains(&r))
            .max_by_key(|(_, &(end, _, _))| end)
            .map(|(k, &a)| (k, a));
        match victim {
            Some((k, (end, value, r))) if end > iv.end => {
                self.active.remove(k);
                self.spill_to_stack(value, end);
                self.assign(iv, r);
            }
            _ => self.spill_to_stack(iv.value, iv.end),
        }
    }

    fn spill_to_stack(&mut self, v: Value, end: u32) {
        let slot = self.free_slots.pop().unwrap_or_else(|| {
            self.spill_slots += 1;
            self.spill_slots - 1
        });
        self.locs[v.index()] = Some(Loc::Stack(slot));
        self.active_slots.push((end, slot));
    }
}

/// True when a call lies strictly inside `(start, end)`.
fn crosses_call(calls: &[u32], start: u32, end: u32) -> bool {
    let i = calls.partition_point(|&c| c <= start);
    calls.get(i).is_some_and(|&c| c < end)
}

/// The block order the allocation was computed for.
pub fn order(func: &Function) -> &[Block] {
    &func.layout
}
