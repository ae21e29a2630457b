//! Register allocation knowing BPF's conventions: R1-R5 are clobbered by helper calls (values
//! live across a call get R6-R9 or a stack slot), R0 and R5 are kept as scratch registers for
//! the code generator (call results, spilled operands, move cycles), R10 is the read-only frame
//! pointer.
//!
//! Values are first grouped into bundles that share one location (coalescing): a block
//! parameter with each of its jump arguments, then an operation's result with the operand it is
//! computed from, whenever their live ranges (with lifetime holes, [`ranges`]) do not overlap.
//! Bundles are then assigned in order of their first point to the first register free over all
//! their ranges: a returned value's R0, a helper argument's R1-R4, the register of a value it
//! could not be merged with, else a caller-saved register (callee-saved when it lives across a
//! call) that no later overlapping bundle is hinted to, and for a block parameter receiving
//! constants, preferably not a register the branch deciding them reads (so the peephole can
//! set the constant before that branch, as a speculated join constant). When none is free, the bundle (or a
//! single longer-living one holding a register it may use) goes to a stack slot.
//! When coalescing made values spill, the allocation is redone with those values kept apart
//! and the cheaper of the two (loads and stores of stack values) is kept. All this is done
//! twice: once keeping an operation's result apart from its operand when only one of them
//! lives across a call, once merging them too (a packet pointer loaded into R6 that its end,
//! checked and kept across a helper call, then replaces); the allocation with the fewer
//! moves, loads and stores is kept.
//!
//! R0 is allocatable too, for values that are neither block parameters nor jump or call
//! arguments and live across no call (typically a helper's result that is null-checked and
//! dereferenced), but only when nothing spills: with spills the allocation is redone without
//! R0, which the code generator then uses as scratch.
//!
//! Input: a function whose layout is final. Output: an [`Allocation`] (a location for every
//! value), which [`checker::check`] re-verifies independently.

pub mod checker;
mod ranges;

use crate::ir::{Block, Function, InstKind, Operand, Terminator, Value};
use ranges::RangeList;

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

/// Values that share one location: a block parameter with its jump arguments, an operation's
/// result with the operand it is computed from, when their live ranges do not overlap.
#[derive(Clone, Debug)]
struct Bundle {
    ranges: RangeList,
    /// The register a member wants (R0 for a returned value, Rk for the k-th helper argument).
    hint_reg: Option<u8>,
    /// Values related by a move that could not be merged: their register is the next hint.
    related: Vec<Value>,
    /// Values whose registers this bundle rather does not take: the operands of the branch
    /// that decides which constant a block parameter receives, so that the code generator's
    /// peephole can set the constant before that branch.
    avoid: Vec<Value>,
    /// May live in R0: no member is a block parameter, jump argument or call argument.
    r0_ok: bool,
    crosses: bool,
}

impl Bundle {
    fn end(&self) -> u32 {
        self.ranges.last().map_or(0, |r| r.1)
    }
}

pub fn allocate(func: &Function) -> Allocation {
    let (ranges, numbering) = ranges::live_ranges(func);
    let uses = crate::opt::use_counts(func);
    let kept = allocate_coalescing(func, &ranges, &numbering, false, &uses);
    let across = allocate_coalescing(func, &ranges, &numbering, true, &uses);
    if cost(func, &across, &uses) < cost(func, &kept, &uses) {
        across
    } else {
        kept
    }
}

/// Loads and stores of stack values (a spilled value costs a load at every use and a store),
/// plus one move for every operation computed in place whose result is not where its operand
/// is and for every jump argument not where its block parameter is.
fn cost(func: &Function, a: &Allocation, uses: &[u32]) -> u32 {
    let spills: u32 = spill_cost(a, uses);
    let apart = |x: Value, y: Value| u32::from(a.loc(x) != a.loc(y));
    let mut moves = 0;
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &i in &data.insts {
            let inst = func.inst(i);
            if let (Some(r), Some(lhs)) = (inst.result, computed_from(&inst.kind)) {
                moves += apart(r, lhs);
            }
        }
        if let Some(Terminator::Jump { dest, args }) = &data.term {
            for (&p, &arg) in func.blocks[dest.index()].params.iter().zip(args) {
                moves += apart(p, arg);
            }
        }
    }
    spills + moves
}

fn spill_cost(a: &Allocation, uses: &[u32]) -> u32 {
    (a.locs.iter().zip(uses))
        .filter(|(l, _)| matches!(l, Some(Loc::Stack(_))))
        .map(|(_, u)| u + 1)
        .sum()
}

/// Coalesced allocation (merging results with operands on different sides of calls when
/// `across_calls`); when it spills, also the allocation with the spilled values kept apart, and
/// whichever spills less.
fn allocate_coalescing(
    func: &Function,
    ranges: &[RangeList],
    numbering: &ranges::Numbering,
    across_calls: bool,
    uses: &[u32],
) -> Allocation {
    let coalesced = allocate_bundles(func, ranges, numbering, &[], across_calls);
    if coalesced.spill_slots == 0 {
        return coalesced;
    }
    // A spilled bundle costs a load at every use of each member: try again with the spilled
    // values kept apart, and keep whichever allocation spills less.
    let apart: Vec<bool> = coalesced
        .locs
        .iter()
        .map(|l| matches!(l, Some(Loc::Stack(_))))
        .collect();
    let split = allocate_bundles(func, ranges, numbering, &apart, across_calls);
    if spill_cost(&split, uses) < spill_cost(&coalesced, uses) {
        split
    } else {
        coalesced
    }
}

/// Coalesces (never the values marked in `apart`) and assigns locations, with R0 when
/// nothing spills.
fn allocate_bundles(
    func: &Function,
    ranges: &[RangeList],
    numbering: &ranges::Numbering,
    apart: &[bool],
    across_calls: bool,
) -> Allocation {
    let (bundles, of) = build_bundles(func, ranges.to_vec(), numbering, apart, across_calls);
    let first = Scan::new(&bundles, &of, true).run();
    if first.spill_slots == 0 {
        return first;
    }
    Scan::new(&bundles, &of, false).run()
}

/// Per value: the R0/argument hints and whether it may live in R0.
fn value_hints(func: &Function) -> (Vec<Option<u8>>, Vec<bool>) {
    let n = func.values.len();
    let mut hint_reg: Vec<Option<u8>> = vec![None; n];
    let mut r0_ok = vec![true; n];
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &p in &data.params {
            r0_ok[p.index()] = false;
        }
        for &i in &data.insts {
            let inst = func.inst(i);
            if let InstKind::Call { args, .. } = &inst.kind {
                for (k, a) in args.iter().enumerate() {
                    r0_ok[a.index()] = false;
                    if k < 4 {
                        hint_reg[a.index()] = Some(k as u8 + 1);
                    }
                }
            }
            if let (Some(r), true) = (inst.result, inst.kind.is_call()) {
                hint_reg[r.index()].get_or_insert(0);
            }
        }
        match &data.term {
            Some(Terminator::Jump { args, .. }) => {
                for a in args {
                    r0_ok[a.index()] = false;
                }
            }
            Some(Terminator::Return(Operand::Value(v))) => {
                hint_reg[v.index()].get_or_insert(0);
            }
            _ => {}
        }
    }
    // A value computed into R0 for `exit` pulls the operand it is computed from there too, so
    // that a chain ending in the return value needs no final move.
    for &b in func.layout.iter().rev() {
        for &i in func.blocks[b.index()].insts.iter().rev() {
            let inst = func.inst(i);
            if let (Some(r), Some(lhs)) = (inst.result, computed_from(&inst.kind)) {
                if hint_reg[r.index()] == Some(0) && r0_ok[lhs.index()] {
                    hint_reg[lhs.index()].get_or_insert(0);
                }
            }
        }
    }
    (hint_reg, r0_ok)
}

/// The operand an instruction's result is computed in place from (two-address form).
fn computed_from(kind: &InstKind) -> Option<Value> {
    match kind {
        InstKind::Binary { lhs, .. } | InstKind::Unary { arg: lhs, .. } | InstKind::Copy(lhs) => {
            Some(*lhs)
        }
        _ => None,
    }
}

/// Per block parameter: the operands of the branch that decides a constant argument it
/// receives (the jump passing the constant comes from a block whose only predecessor ends in
/// that branch).
fn deciding_branch_operands(func: &Function) -> Vec<Vec<Value>> {
    let mut avoid = vec![Vec::new(); func.values.len()];
    let preds = func.predecessors();
    for &a in &func.layout {
        let Some(Terminator::Jump { dest, args }) = &func.blocks[a.index()].term else {
            continue;
        };
        let [p] = &preds[a.index()] else {
            continue;
        };
        let Some(Terminator::Branch { lhs, rhs, .. }) = &func.blocks[p.index()].term else {
            continue;
        };
        let params = &func.blocks[dest.index()].params;
        for (&param, &arg) in params.iter().zip(args) {
            if func.const_value(arg).is_some() {
                avoid[param.index()].push(*lhs);
                if let Operand::Value(r) = rhs {
                    avoid[param.index()].push(*r);
                }
            }
        }
    }
    avoid
}

/// Groups values into bundles (returned with each value's bundle index): first every block
/// parameter with each of its jump arguments, then results with the operand they are computed
/// from, whenever the live ranges do not overlap.
fn build_bundles(
    func: &Function,
    ranges: Vec<RangeList>,
    numbering: &ranges::Numbering,
    apart: &[bool],
    across_calls: bool,
) -> (Vec<Bundle>, Vec<Option<usize>>) {
    let (hint_reg, r0_ok) = value_hints(func);
    let mut avoid = deciding_branch_operands(func);
    let n = func.values.len();
    let mut leader: Vec<usize> = (0..n).collect();
    let mut bundles: Vec<Option<Bundle>> = ranges
        .into_iter()
        .enumerate()
        .map(|(v, ranges)| {
            (!ranges.is_empty()).then(|| Bundle {
                crosses: ranges::crosses_call(&ranges, &numbering.calls),
                ranges,
                hint_reg: hint_reg[v],
                related: Vec::new(),
                avoid: std::mem::take(&mut avoid[v]),
                r0_ok: r0_ok[v],
            })
        })
        .collect();
    fn find(leader: &mut [usize], v: usize) -> usize {
        let mut r = v;
        while leader[r] != r {
            r = leader[r];
        }
        // Every value on the way now points at the leader, so chains stay short.
        let mut x = v;
        while leader[x] != r {
            let next = leader[x];
            leader[x] = r;
            x = next;
        }
        r
    }
    let mut pairs: Vec<(Value, Value, bool)> = Vec::new();
    for &b in &func.layout {
        if let Some(Terminator::Jump { dest, args }) = &func.blocks[b.index()].term {
            for (&p, &a) in func.blocks[dest.index()].params.iter().zip(args) {
                pairs.push((p, a, true));
            }
        }
    }
    for &b in &func.layout {
        for &i in &func.blocks[b.index()].insts {
            let inst = func.inst(i);
            if let (Some(r), Some(lhs)) = (inst.result, computed_from(&inst.kind)) {
                pairs.push((r, lhs, false));
            }
        }
    }
    for (x, y, is_jump) in pairs {
        let (bx, by) = (find(&mut leader, x.index()), find(&mut leader, y.index()));
        let kept_apart = |v: Value| apart.get(v.index()).copied().unwrap_or(false);
        if bx == by || kept_apart(x) || kept_apart(y) {
            continue;
        }
        let (Some(a), Some(b)) = (&bundles[bx], &bundles[by]) else {
            continue;
        };
        // An operation whose operand lives across a call but whose result does not (or the
        // reverse) is often better computed with one move than kept in R6-R9 longer: merged
        // only when `across_calls`. Nor is a value bound for R0 (returned) merged with one
        // that cannot live there (a bundle living across a call cannot).
        let may_be_r0 = |x: &Bundle| x.r0_ok && !x.crosses;
        let loses_r0 =
            (a.hint_reg == Some(0) || b.hint_reg == Some(0)) && !(may_be_r0(a) && may_be_r0(b));
        let same_side = a.crosses == b.crosses || across_calls;
        let mergeable =
            !ranges::overlap(&a.ranges, &b.ranges) && (is_jump || (same_side && !loses_r0));
        if !mergeable {
            bundles[bx].as_mut().unwrap().related.push(y);
            bundles[by].as_mut().unwrap().related.push(x);
            continue;
        }
        let b = bundles[by].take().unwrap();
        let a = bundles[bx].as_mut().unwrap();
        // The longer list takes the shorter one in (the result is the same sorted list), so a
        // bundle growing over many joins is not copied at each.
        let mut added = b.ranges;
        if added.len() > a.ranges.len() {
            std::mem::swap(&mut a.ranges, &mut added);
        }
        ranges::merge_into(&mut a.ranges, &added);
        a.crosses |= b.crosses;
        a.r0_ok &= b.r0_ok;
        a.hint_reg = match (a.hint_reg, b.hint_reg) {
            (Some(0), _) | (_, Some(0)) => Some(0),
            (h, other) => h.or(other),
        };
        a.related.extend(b.related);
        a.avoid.extend(b.avoid);
        leader[by] = bx;
    }
    let mut index = vec![usize::MAX; n];
    let mut out = Vec::new();
    for (k, b) in bundles.into_iter().enumerate() {
        if let Some(b) = b {
            index[k] = out.len();
            out.push(b);
        }
    }
    let of = (0..n)
        .map(|v| {
            let i = index[find(&mut leader, v)];
            (i != usize::MAX).then_some(i)
        })
        .collect();
    (out, of)
}

struct Scan<'a> {
    bundles: &'a [Bundle],
    /// The bundle of every value.
    of: &'a [Option<usize>],
    loc: Vec<Option<Loc>>,
    /// Bundles assigned to each register.
    in_reg: [Vec<usize>; 11],
    use_r0: bool,
}

impl<'a> Scan<'a> {
    fn new(bundles: &'a [Bundle], of: &'a [Option<usize>], use_r0: bool) -> Scan<'a> {
        Scan {
            bundles,
            of,
            loc: vec![None; bundles.len()],
            in_reg: Default::default(),
            use_r0,
        }
    }

    fn run(mut self) -> Allocation {
        let mut order: Vec<usize> = (0..self.bundles.len()).collect();
        order.sort_by_key(|&b| self.bundles[b].ranges[0].0);
        let mut spilled = Vec::new();
        for (k, &b) in order.iter().enumerate() {
            let bundle = &self.bundles[b];
            // Bundles are taken in order of their start: one that ended before this one starts
            // overlaps no bundle still to come, so the registers stop listing it.
            let start = bundle.ranges[0].0;
            for holders in &mut self.in_reg {
                holders.retain(|&o| self.bundles[o].end() >= start);
            }
            let allowed: &[u8] = if bundle.crosses {
                &CALLEE_SAVED
            } else if self.use_r0 && bundle.r0_ok {
                &[1, 2, 3, 4, 6, 7, 8, 9, 0]
            } else {
                &[1, 2, 3, 4, 6, 7, 8, 9]
            };
            match self.pick(b, allowed, &order[k + 1..]) {
                Some(r) => self.assign(b, r),
                None => {
                    if let Some(victim) = self.evict_for(b, allowed) {
                        spilled.push(victim);
                    } else {
                        spilled.push(b);
                    }
                }
            }
        }
        let spill_slots = self.assign_slots(spilled);
        let locs = self
            .of
            .iter()
            .map(|b| b.and_then(|b| self.loc[b]))
            .collect();
        Allocation { locs, spill_slots }
    }

    fn free(&self, b: usize, r: u8) -> bool {
        let ranges = &self.bundles[b].ranges;
        self.in_reg[r as usize]
            .iter()
            .all(|&o| !ranges::overlap(ranges, &self.bundles[o].ranges))
    }

    /// The register for bundle `b`: its hint, a related value's register, else the first free
    /// one that no later overlapping bundle wants.
    fn pick(&self, b: usize, allowed: &[u8], later: &[usize]) -> Option<u8> {
        let bundle = &self.bundles[b];
        let ok = |r: u8| allowed.contains(&r) && self.free(b, r);
        let related = bundle
            .related
            .iter()
            .filter_map(|v| match self.of[v.index()] {
                Some(o) => match self.loc[o] {
                    Some(Loc::Reg(r)) => Some(r),
                    _ => None,
                },
                None => None,
            });
        let r0_first = (bundle.hint_reg == Some(0)).then_some(0);
        let mut hinted = r0_first.into_iter().chain(related).chain(bundle.hint_reg);
        if let Some(h) = hinted.find(|&h| ok(h)) {
            return Some(h);
        }
        let prefer: &[u8] = if bundle.crosses {
            &CALLEE_SAVED
        } else {
            &CALLER_SAVED
        };
        let wanted_later = |r: u8| {
            // `later` is in order of start: none after one starting past this bundle's end
            // overlaps it.
            let end = bundle.end();
            later
                .iter()
                .take_while(|&&o| self.bundles[o].ranges[0].0 <= end)
                .any(|&o| {
                    self.bundles[o].hint_reg == Some(r)
                        && ranges::overlap(&bundle.ranges, &self.bundles[o].ranges)
                })
        };
        // Within the preferred class, then among the others: a register no one wants first.
        let rest: Vec<u8> = allowed
            .iter()
            .copied()
            .filter(|r| !prefer.contains(r))
            .collect();
        let avoided = |r: u8| {
            bundle
                .avoid
                .iter()
                .any(|v| self.of[v.index()].is_some_and(|o| self.loc[o] == Some(Loc::Reg(r))))
        };
        let choose = |class: &[u8]| {
            let free = class.iter().copied().filter(|&r| ok(r));
            let first = free.clone().next();
            (free.clone().find(|&r| !wanted_later(r) && !avoided(r)))
                .or_else(|| free.clone().find(|&r| !wanted_later(r)))
                .or(first)
        };
        choose(prefer).or_else(|| choose(&rest))
    }

    fn assign(&mut self, b: usize, r: u8) {
        self.loc[b] = Some(Loc::Reg(r));
        self.in_reg[r as usize].push(b);
    }

    /// No register is free for `b`: when a single overlapping bundle holds one of the allowed
    /// registers and lives longer, it goes to the stack and `b` takes its register.
    fn evict_for(&mut self, b: usize, allowed: &[u8]) -> Option<usize> {
        let ranges = &self.bundles[b].ranges;
        let end = self.bundles[b].end();
        let (r, victim) = allowed
            .iter()
            .filter_map(|&r| {
                let mut conflicts = self.in_reg[r as usize]
                    .iter()
                    .filter(|&&o| ranges::overlap(ranges, &self.bundles[o].ranges));
                match (conflicts.next(), conflicts.next()) {
                    (Some(&o), None) if self.bundles[o].end() > end => Some((r, o)),
                    _ => None,
                }
            })
            .max_by_key(|&(_, o)| self.bundles[o].end())?;
        self.in_reg[r as usize].retain(|&o| o != victim);
        self.assign(b, r);
        Some(victim)
    }

    /// Gives every spilled bundle a stack slot no overlapping bundle uses; returns the count.
    fn assign_slots(&mut self, mut spilled: Vec<usize>) -> u32 {
        spilled.sort_by_key(|&b| self.bundles[b].ranges[0].0);
        let mut in_slot: Vec<Vec<usize>> = Vec::new();
        for b in spilled {
            let ranges = &self.bundles[b].ranges;
            let slot = in_slot.iter().position(|users| {
                users
                    .iter()
                    .all(|&o| !ranges::overlap(ranges, &self.bundles[o].ranges))
            });
            let slot = slot.unwrap_or_else(|| {
                in_slot.push(Vec::new());
                in_slot.len() - 1
            });
            in_slot[slot].push(b);
            self.loc[b] = Some(Loc::Stack(slot as u32));
        }
        in_slot.len() as u32
    }
}

/// The block order the allocation was computed for.
pub fn order(func: &Function) -> &[Block] {
    &func.layout
}
