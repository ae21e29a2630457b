//! Machine-level clean-up of the emitted instructions, before encoding. Repeated until nothing
//! changes:
//! - memory accesses through a register known to hold `r10 + k` (within a basic block) address
//!   `r10` directly (`r2 = r10; r2 += -8; *(u32 *)(r2 +0) = r1` stores to `r10 -8`);
//! - a register known to hold a constant, stored to the stack, becomes a store-immediate
//!   (`BPF_ST`, only to `r10`: older verifiers reject it into the context);
//! - `w1 = w1` goes when the upper half is already zero or nothing reads it before it is
//!   redefined (only 32-bit operations and stores of at most 4 bytes follow);
//! - equal-register moves (`r1 = r1`), moves of a value the register already holds (`r6 = r1
//!   ... r1 = r6` with R1 untouched) and definitions of registers nothing reads go (ALU
//!   operations, loads, `ld_imm64` with its relocation);
//! - jumps to an unconditional jump go to its target; jumps to the next instruction go;
//! - identical tails ending in `exit` or in a jump to the same place are shared: the later one
//!   becomes a jump into the earlier one;
//! - code right before a `goto L` that repeats the code falling into `L` jumps into that
//!   code instead; `if c goto A; goto B; A:` becomes `if !c goto B; A:`;
//! - every `exit` is alike: jumps to one go to one shared `exit`, and a conditional jump over
//!   an `exit` becomes the opposite jump to the shared one;
//! - a constant move starting one side of a conditional jump moves in front of the jump when
//!   its register is dead on the other side, where that removes a `goto` or an `exit` (a
//!   speculated return value or join constant, as clang does), and a constant return that
//!   several jumps share moves in front of the first of them;
//! - instructions no path reaches go (the verifier rejects them);
//! - last, once the rest is done: a constant moved into a register only for the next
//!   instruction to read, at two places or more, lives in a callee-saved register (R6-R9) the
//!   function leaves unused instead, set once at the entry (`r1 = 1; lock *(r0 +0) += r1`
//!   twice, around a call, becomes `r8 = 1` and two `lock *(r0 +0) += r8`).
//!
//! Calls are assumed to read R1-R5 and clobber R0-R5; unknown instructions (`asm`, legacy
//! packet loads) read every register. Line-info and relocation indices follow the instructions;
//! relocated instructions (maps, constant data, CO-RE) never merge, and no constant is learnt from them.

use super::{Code, Cpu};
use std::collections::HashMap;
use whistler_bpf::opcode::*;
use whistler_bpf::{Insn, Reg};

const MAX_ROUNDS: usize = 8;
/// Every register but R10.
const ALL: u16 = 0x3ff;
const CALL_ARGS: u16 = 0b11_1110;
const CALL_CLOBBERS: u16 = 0b11_1111;

/// One instruction with its jump target as an index, not an offset.
#[derive(Clone, Copy, Debug)]
struct Node {
    insn: Insn,
    /// The second slot of an `ld_imm64`.
    high: Option<Insn>,
    target: Option<usize>,
    deleted: bool,
    /// An instruction moved in front of this one (by [`speculate_constants`]); jumps to the
    /// node land on it. Only ever set in the last step of a round, before encoding.
    before: Option<Insn>,
}

pub fn run(code: &mut Code, cpu: Cpu) {
    if !code.insns.iter().all(supported) {
        return;
    }
    for _ in 0..MAX_ROUNDS {
        let mut nodes = decode(&code.insns);
        let mut changed = fold_frame_addresses(&mut nodes, code);
        changed |= remove_repeated_moves(&mut nodes);
        changed |= remove_dead(&mut nodes);
        changed |= thread_jumps(&mut nodes);
        changed |= merge_tails(&mut nodes, code);
        changed |= merge_tails_before_jumps(&mut nodes, code);
        changed |= branch_over_jumps(&mut nodes, cpu);
        changed |= share_exits(&mut nodes, cpu);
        changed |= remove_unreachable(&mut nodes);
        // Last: it moves instructions in front of others, which the other steps do not model.
        changed |= speculate_constants(&mut nodes) || hoist_constant_tails(&mut nodes);
        if !changed {
            break;
        }
        encode(&nodes, code);
    }
    let mut nodes = decode(&code.insns);
    if constants_in_spare_registers(&mut nodes, code) {
        encode(&nodes, code);
    }
}

/// Instructions whose control flow this pass does not model: `gotol` (its offset is in the
/// immediate) and calls of BPF functions.
fn supported(i: &Insn) -> bool {
    i.code != BPF_JMP32 | BPF_JA && !(i.code == BPF_JMP | BPF_CALL && i.src != 0)
}

fn is_jump(i: &Insn) -> bool {
    matches!(class(i.code), BPF_JMP | BPF_JMP32) && !matches!(i.code & 0xf0, BPF_CALL | BPF_EXIT)
}

fn is_ja(i: &Insn) -> bool {
    i.code == BPF_JMP | BPF_JA
}

fn decode(insns: &[Insn]) -> Vec<Node> {
    let mut nodes = Vec::with_capacity(insns.len());
    let mut k = 0;
    while k < insns.len() {
        let insn = insns[k];
        let high = insn
            .is_ld_imm64()
            .then(|| insns.get(k + 1).copied())
            .flatten();
        let width = if high.is_some() { 2 } else { 1 };
        let target = is_jump(&insn).then(|| (k as i64 + 1 + insn.off as i64) as usize);
        nodes.push(Node {
            insn,
            high,
            target,
            deleted: false,
            before: None,
        });
        // The second slot gets a deleted placeholder so that slot indices stay node indices.
        if let Some(h) = high {
            nodes.push(Node {
                insn: h,
                high: None,
                target: None,
                deleted: true,
                before: None,
            });
        }
        k += width;
    }
    nodes
}

/// Writes the surviving nodes back, with offsets, line info and relocations renumbered.
fn encode(nodes: &[Node], code: &mut Code) {
    // new_index[k]: where slot k (or the next surviving instruction) ends up.
    let mut new_index = vec![0usize; nodes.len() + 1];
    let mut next = 0;
    for (k, n) in nodes.iter().enumerate() {
        new_index[k] = next;
        if !n.deleted {
            next += usize::from(n.before.is_some()) + if n.high.is_some() { 2 } else { 1 };
        }
    }
    new_index[nodes.len()] = next;
    // A deleted slot maps to the next surviving instruction.
    for k in (0..nodes.len()).rev() {
        if nodes[k].deleted {
            new_index[k] = new_index[k + 1];
        }
    }
    let mut insns = Vec::with_capacity(next);
    for n in nodes.iter().filter(|n| !n.deleted) {
        insns.extend(n.before);
        let mut insn = n.insn;
        if let Some(t) = n.target {
            insn.off = (new_index[t] as i64 - insns.len() as i64 - 1) as i16;
        }
        insns.push(insn);
        insns.extend(n.high);
    }
    code.insns = insns;
    // A relocated instruction comes after the instruction moved in front of it, if any.
    let own_index = |k: usize| new_index[k] + usize::from(nodes[k].before.is_some());
    code.map_relocs.retain(|r| !nodes[r.insn_index].deleted);
    for r in &mut code.map_relocs {
        r.insn_index = own_index(r.insn_index);
    }
    code.data_relocs.retain(|r| !nodes[r.insn_index].deleted);
    for r in &mut code.data_relocs {
        r.insn_index = own_index(r.insn_index);
    }
    code.core_relocs.retain(|r| !nodes[r.insn_index].deleted);
    for r in &mut code.core_relocs {
        r.insn_index = own_index(r.insn_index);
    }
    let mut lines: Vec<whistler_object::LineInfo> = Vec::with_capacity(code.lines.len());
    for l in &code.lines {
        let at = new_index[l.insn_index];
        if at >= next {
            continue;
        }
        match lines.last_mut() {
            Some(last) if last.insn_index == at => {
                *last = whistler_object::LineInfo {
                    insn_index: at,
                    ..*l
                }
            }
            _ => lines.push(whistler_object::LineInfo {
                insn_index: at,
                ..*l
            }),
        }
    }
    code.lines = lines;
}

fn bit(r: u8) -> u16 {
    if r < 10 {
        1 << r
    } else {
        0
    }
}

/// Registers an instruction reads and writes.
fn effects(i: &Insn) -> (u16, u16) {
    let (dst, src) = (bit(i.dst), bit(i.src));
    let uses_src = i.code & BPF_X != 0;
    match class(i.code) {
        BPF_ALU | BPF_ALU64 => match i.code & 0xf0 {
            BPF_MOV => (if uses_src { src } else { 0 }, dst),
            BPF_NEG | BPF_END => (dst, dst),
            _ => (dst | if uses_src { src } else { 0 }, dst),
        },
        BPF_LDX => (src, dst),
        BPF_ST => (dst, 0),
        BPF_STX if i.code & 0xe0 == BPF_ATOMIC => {
            if i.imm == BPF_CMPXCHG {
                (dst | src | 1, 1)
            } else if i.imm & BPF_FETCH != 0 {
                (dst | src, src)
            } else {
                (dst | src, 0)
            }
        }
        BPF_STX => (dst | src, 0),
        BPF_LD if i.is_ld_imm64() => (0, dst),
        BPF_JMP | BPF_JMP32 => match i.code & 0xf0 {
            BPF_CALL => (CALL_ARGS, CALL_CLOBBERS),
            BPF_EXIT => (1, 0),
            BPF_JA => (0, 0),
            _ => (dst | if uses_src { src } else { 0 }, 0),
        },
        // Legacy packet loads and anything unknown: read everything, clobber like a call.
        _ => (ALL, CALL_CLOBBERS),
    }
}

/// Instructions without effects besides writing their destination register.
fn is_pure_def(i: &Insn) -> bool {
    match class(i.code) {
        BPF_ALU | BPF_ALU64 => true,
        BPF_LDX => i.code & 0xe0 == BPF_MEM || i.code & 0xe0 == BPF_MEMSX,
        BPF_LD => i.is_ld_imm64(),
        _ => false,
    }
}

fn successors(nodes: &[Node], k: usize) -> impl Iterator<Item = usize> + '_ {
    let n = &nodes[k];
    let falls = !(is_ja(&n.insn) || n.insn.code == BPF_JMP | BPF_EXIT);
    let next = (k + 1..nodes.len()).find(|&j| !nodes[j].deleted);
    n.target.into_iter().chain(next.filter(|_| falls))
}

/// Registers live after each node.
fn live_out(nodes: &[Node]) -> Vec<u16> {
    liveness(nodes).0
}

/// Registers live after and before each node.
fn liveness(nodes: &[Node]) -> (Vec<u16>, Vec<u16>) {
    let mut live_in = vec![0u16; nodes.len()];
    let mut out = vec![0u16; nodes.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for k in (0..nodes.len()).rev() {
            if nodes[k].deleted {
                continue;
            }
            let o = successors(nodes, k).fold(0, |acc, s| acc | live_in[s]);
            let (reads, writes) = effects(&nodes[k].insn);
            let i = reads | (o & !writes);
            if o != out[k] || i != live_in[k] {
                (out[k], live_in[k]) = (o, i);
                changed = true;
            }
        }
        // A deleted slot is live as its next instruction.
        for k in (0..nodes.len()).rev() {
            let next = live_in.get(k + 1).copied().unwrap_or(0);
            if nodes[k].deleted && live_in[k] != next {
                live_in[k] = next;
                changed = true;
            }
        }
    }
    (out, live_in)
}

/// Nodes where a new basic block starts (jump targets and what follows a jump or exit).
fn block_starts(nodes: &[Node]) -> Vec<bool> {
    let mut start = vec![false; nodes.len() + 1];
    for (k, n) in nodes.iter().enumerate() {
        if let Some(t) = n.target {
            start[t] = true;
        }
        if is_jump(&n.insn) || n.insn.code == BPF_JMP | BPF_EXIT {
            start[k + 1] = true;
        }
    }
    start
}

/// What is known about each register at a point of a basic block.
#[derive(Clone, Copy, Default)]
struct Known {
    frame_offset: Option<i64>,
    constant: Option<i64>,
    upper_zero: bool,
}

/// R10-relative addressing, store-immediates and needless `w = w`, by a forward walk through
/// each basic block. A CO-RE-relocated constant is not known: the loader rewrites it.
fn fold_frame_addresses(nodes: &mut [Node], code: &Code) -> bool {
    let starts = block_starts(nodes);
    let relocated = relocated(nodes, code);
    let mut regs = [Known::default(); 10];
    let mut changed = false;
    for k in 0..nodes.len() {
        if starts[k] {
            regs = [Known::default(); 10];
        }
        if nodes[k].deleted {
            continue;
        }
        let insn = &mut nodes[k].insn;
        changed |= rebase_on_frame(insn, &regs);
        changed |= store_immediate(insn, &regs);
        if insn.code == BPF_ALU | BPF_MOV | BPF_X
            && insn.dst == insn.src
            && regs.get(insn.dst as usize).is_some_and(|r| r.upper_zero)
        {
            nodes[k].deleted = true;
            changed = true;
            continue;
        }
        learn(&nodes[k].insn, &mut regs);
        if relocated[k] {
            regs[nodes[k].insn.dst as usize % 10] = Known::default();
        }
    }
    changed
}

fn rebase_on_frame(insn: &mut Insn, regs: &[Known; 10]) -> bool {
    let base = match class(insn.code) {
        BPF_LDX => &mut insn.src,
        BPF_ST | BPF_STX => &mut insn.dst,
        _ => return false,
    };
    let Some(k) = regs.get(*base as usize).and_then(|r| r.frame_offset) else {
        return false;
    };
    let Ok(off) = i16::try_from(insn.off as i64 + k) else {
        return false;
    };
    *base = Reg::FP.0;
    insn.off = off;
    true
}

fn store_immediate(insn: &mut Insn, regs: &[Known; 10]) -> bool {
    if class(insn.code) != BPF_STX || insn.code & 0xe0 != BPF_MEM || insn.dst != Reg::FP.0 {
        return false;
    }
    let Some(c) = regs.get(insn.src as usize).and_then(|r| r.constant) else {
        return false;
    };
    let size = insn.code & 0x18;
    // A doubleword store-immediate sign-extends its 32-bit immediate.
    let imm = if size == BPF_DW {
        i32::try_from(c).ok()
    } else {
        Some(c as i32)
    };
    let Some(imm) = imm else {
        return false;
    };
    *insn = Insn::store_imm(size, Reg::FP, insn.off, imm);
    true
}

/// Updates what is known after `insn`.
fn learn(insn: &Insn, regs: &mut [Known; 10]) {
    let (_, writes) = effects(insn);
    let d = insn.dst as usize;
    let before = regs.get(d).copied().unwrap_or_default();
    let src = regs.get(insn.src as usize).copied().unwrap_or_default();
    for (r, known) in regs.iter_mut().enumerate() {
        if writes & (1 << r) != 0 {
            *known = Known::default();
        }
    }
    if d >= 10 || writes & bit(insn.dst) == 0 {
        return;
    }
    let code = insn.code;
    let k = &mut regs[d];
    match (class(code), code & 0xf0, code & BPF_X != 0) {
        (BPF_ALU64, BPF_MOV, true) if insn.src == Reg::FP.0 => k.frame_offset = Some(0),
        (BPF_ALU64, BPF_MOV, true) => *k = src,
        (BPF_ALU64, BPF_MOV, false) => {
            k.constant = Some(insn.imm as i64);
            k.upper_zero = insn.imm >= 0;
        }
        (BPF_ALU64, BPF_ADD, false) => {
            k.frame_offset = before.frame_offset.map(|f| f + insn.imm as i64);
        }
        (BPF_ALU64, BPF_RSH, false) => k.upper_zero = insn.imm >= 32,
        (BPF_ALU64, BPF_AND, false) => k.upper_zero = insn.imm >= 0,
        (BPF_ALU, BPF_MOV, false) => {
            k.constant = Some(insn.imm as u32 as i64);
            k.upper_zero = true;
        }
        (BPF_ALU, BPF_END, _) => k.upper_zero = insn.imm <= 32,
        (BPF_ALU, _, _) => k.upper_zero = true,
        (BPF_LDX, _, _) => k.upper_zero = code & 0xe0 == BPF_MEM && code & 0x18 != BPF_DW,
        _ => {}
    }
}

/// `rA = rB` where `rA` already holds `rB`'s value (an earlier `rA = rB` or `rB = rA` of the
/// same basic block, neither register written since) goes: a helper argument left in place
/// (`r6 = r1 ... r1 = r6` with R1 untouched in between).
fn remove_repeated_moves(nodes: &mut [Node]) -> bool {
    let starts = block_starts(nodes);
    // equal[r]: the other registers known to hold the value of r.
    let mut equal = [0u16; 10];
    let mut changed = false;
    for k in 0..nodes.len() {
        if starts[k] {
            equal = [0; 10];
        }
        if nodes[k].deleted {
            continue;
        }
        let i = nodes[k].insn;
        let (_, writes) = effects(&i);
        let copy = i.code == BPF_ALU64 | BPF_MOV | BPF_X && i.dst < 10 && i.src < 10;
        if copy && (i.dst == i.src || equal[i.dst as usize] & bit(i.src) != 0) {
            nodes[k].deleted = true;
            changed = true;
            continue;
        }
        for r in 0..10u8 {
            if writes & bit(r) != 0 {
                forget(&mut equal, r);
            }
        }
        if copy {
            let (a, b) = (i.dst, i.src);
            equal[a as usize] = equal[b as usize] | bit(b);
            for r in 0..10u8 {
                if equal[a as usize] & bit(r) != 0 {
                    equal[r as usize] |= bit(a);
                }
            }
        }
    }
    changed
}

/// Drops register `r` from every equality.
fn forget(equal: &mut [u16; 10], r: u8) {
    for e in equal.iter_mut() {
        *e &= !bit(r);
    }
    equal[r as usize] = 0;
}

fn is_exit(i: &Insn) -> bool {
    i.code == BPF_JMP | BPF_EXIT
}

/// The `exit` every jump to an `exit` goes to: the last one that straight-line code falls
/// into, else the last one a conditional jump falls into, else the last one.
fn canonical_exit(nodes: &[Node]) -> Option<usize> {
    let exits = (0..nodes.len())
        .rev()
        .filter(|&k| !nodes[k].deleted && is_exit(&nodes[k].insn));
    let after = |k: &usize, conditional: bool| {
        prev_alive(nodes, *k).is_some_and(|p| {
            let i = &nodes[p].insn;
            falls_through(i) || (conditional && is_jump(i) && !is_ja(i))
        })
    };
    (exits.clone().find(|k| after(k, false)))
        .or_else(|| exits.clone().find(|k| after(k, true)))
        .or_else(|| exits.clone().next())
}

/// True when an `exit` other than `u` follows straight-line code other than `moved`: the
/// canonical exit, once `moved` went in front of a jump.
fn other_plain_exit(nodes: &[Node], u: usize, moved: usize) -> bool {
    (0..nodes.len()).any(|e| {
        e != u
            && !nodes[e].deleted
            && is_exit(&nodes[e].insn)
            && prev_alive(nodes, e).is_some_and(|p| p != moved && falls_through(&nodes[p].insn))
    })
}

/// Every `exit` does the same (returns R0), so jumps to one go to one [`canonical_exit`], and
/// `if c goto A; exit; A:` becomes `if !c goto <that exit>; A:`; the `exit`s left without a
/// way in go.
fn share_exits(nodes: &mut [Node], cpu: Cpu) -> bool {
    resolve_targets(nodes);
    let Some(last) = canonical_exit(nodes) else {
        return false;
    };
    let mut changed = false;
    for k in 0..nodes.len() {
        let Some(t) = nodes[k].target.filter(|_| !nodes[k].deleted) else {
            continue;
        };
        if t != last && t < nodes.len() && is_exit(&nodes[t].insn) {
            nodes[k].target = Some(last);
            changed = true;
        }
    }
    for k in 0..nodes.len() {
        let n = nodes[k];
        if n.deleted || !is_jump(&n.insn) || is_ja(&n.insn) {
            continue;
        }
        let Some(j) = (k + 1..nodes.len()).find(|&j| !nodes[j].deleted) else {
            continue;
        };
        if j == last || !is_exit(&nodes[j].insn) {
            continue;
        }
        let after = (j + 1..nodes.len()).find(|&a| !nodes[a].deleted);
        let Some(negated) = negate(n.insn.code).filter(|&c| cpu >= Cpu::V2 || !is_less_than(c))
        else {
            continue;
        };
        if n.target != after {
            continue;
        }
        // Nothing jumps to the `exit` at `j` any more: the loop above sent those to `last`.
        nodes[k].insn.code = negated;
        nodes[k].target = Some(last);
        nodes[j].deleted = true;
        changed = true;
    }
    changed
}

/// A constant tail `rX = K; exit` that several conditional jumps reach (and no code falls
/// into) gets its move once, in front of the first of those jumps, when nothing from there to
/// the last of them reads or writes `rX`, no jump enters that stretch from outside, and `rX`
/// is dead where the move goes: the jumps then go to the `exit` (clang's `w0 = XDP_PASS` at
/// the top of a parser).
fn hoist_constant_tails(nodes: &mut [Node]) -> bool {
    resolve_targets(nodes);
    let (_, live_in) = liveness(nodes);
    let next_alive = |nodes: &[Node], k: usize| (k + 1..nodes.len()).find(|&j| !nodes[j].deleted);
    for t in 0..nodes.len() {
        let n = nodes[t];
        let is_const_move =
            n.insn.code == BPF_ALU64 | BPF_MOV | BPF_K || n.insn.code == BPF_ALU | BPF_MOV | BPF_K;
        if n.deleted || n.before.is_some() || !is_const_move || n.insn.dst >= 10 {
            continue;
        }
        let Some(u) = next_alive(nodes, t).filter(|&u| is_exit(&nodes[u].insn)) else {
            continue;
        };
        let fallen_into =
            prev_alive(nodes, t).is_none_or(|p| !is_ja(&nodes[p].insn) && !is_exit(&nodes[p].insn));
        let jumps: Vec<usize> = (0..nodes.len())
            .filter(|&k| !nodes[k].deleted && nodes[k].target == Some(t))
            .collect();
        let (Some(&first), Some(&last)) = (jumps.first(), jumps.last()) else {
            continue;
        };
        let conditional = |k: usize| is_jump(&nodes[k].insn) && !is_ja(&nodes[k].insn);
        if fallen_into || jumps.len() < 2 || last > t || !jumps.iter().all(|&k| conditional(k)) {
            continue;
        }
        let r = bit(n.insn.dst);
        let untouched = (first..=last).filter(|&k| !nodes[k].deleted).all(|k| {
            let (reads, writes) = effects(&nodes[k].insn);
            (reads | writes) & r == 0 && nodes[k].before.is_none()
        });
        let entered_from_outside = (0..nodes.len()).any(|k| {
            !nodes[k].deleted
                && (k < first || k > last)
                && nodes[k].target.is_some_and(|x| x > first && x <= last)
        });
        if !untouched || entered_from_outside || live_in[first] & r != 0 {
            continue;
        }
        nodes[first].before = Some(n.insn);
        for &k in &jumps {
            nodes[k].target = Some(u);
        }
        nodes[t].deleted = true;
        return true;
    }
    false
}

/// A constant move that starts one side of a conditional jump, reached only from that jump,
/// moves in front of the jump when its register is dead on the other side (and the jump does
/// not read it): clang's speculated return value or join constant (`r0 = 2; if r3 > r2 goto
/// exit`). Done only where it lets an instruction go: the move was followed by an `exit`
/// (which then joins another), or came right after a `goto` to what follows it (which then
/// jumps to the next instruction), or it was on the fall-through side and is followed by a
/// `goto` or an `exit` (which the jump then branches over).
fn speculate_constants(nodes: &mut [Node]) -> bool {
    resolve_targets(nodes);
    let (_, live_in) = liveness(nodes);
    let mut jumps_to = vec![0u32; nodes.len() + 1];
    for n in nodes.iter().filter(|n| !n.deleted) {
        if let Some(t) = n.target {
            jumps_to[t] += 1;
        }
    }
    let next_alive = |nodes: &[Node], k: usize| (k + 1..nodes.len()).find(|&j| !nodes[j].deleted);
    // An `exit` goes once nothing falls into it and jumps to it go to another one.
    let other_exit = |nodes: &[Node], u: usize, moved: usize| {
        is_exit(&nodes[u].insn) && other_plain_exit(nodes, u, moved)
    };
    let mut changed = false;
    for k in 0..nodes.len() {
        let n = nodes[k];
        if n.deleted || n.before.is_some() || !is_jump(&n.insn) || is_ja(&n.insn) {
            continue;
        }
        let (Some(t), Some(f)) = (n.target, next_alive(nodes, k)) else {
            continue;
        };
        if t == f || t >= nodes.len() {
            continue;
        }
        let (reads, _) = effects(&n.insn);
        let movable = |m: &Node| {
            m.before.is_none()
                && matches!(m.insn.code, c if c == BPF_ALU64 | BPF_MOV | BPF_K || c == BPF_ALU | BPF_MOV | BPF_K)
                && m.insn.dst < 10
                && reads & bit(m.insn.dst) == 0
        };
        // The jump's target side.
        let prev_t = prev_alive(nodes, t);
        let no_fall_in = prev_t.is_none_or(|p| is_ja(&nodes[p].insn) || is_exit(&nodes[p].insn));
        if jumps_to[t] == 1
            && no_fall_in
            && movable(&nodes[t])
            && live_in[f] & bit(nodes[t].insn.dst) == 0
        {
            if let Some(u) = next_alive(nodes, t) {
                let goto_over =
                    prev_t.is_some_and(|p| is_ja(&nodes[p].insn) && nodes[p].target == Some(u));
                if other_exit(nodes, u, t) || goto_over {
                    nodes[k].before = Some(nodes[t].insn);
                    nodes[k].target = Some(u);
                    nodes[t].deleted = true;
                    changed = true;
                    continue;
                }
            }
        }
        // The fall-through side.
        // Not when other jumps share the target: the verifier walks the paths that meet there
        // again once one of them falls into it (measured: +10 on a SYN limiter).
        if jumps_to[f] == 0
            && jumps_to[t] == 1
            && movable(&nodes[f])
            && live_in[t] & bit(nodes[f].insn.dst) == 0
        {
            if let Some(u) = next_alive(nodes, f) {
                let ends = is_ja(&nodes[u].insn) || other_exit(nodes, u, f);
                if ends && jumps_to[u] == 0 {
                    nodes[k].before = Some(nodes[f].insn);
                    nodes[f].deleted = true;
                    changed = true;
                }
            }
        }
    }
    changed
}

/// Removes equal-register moves, `w = w` whose upper half nothing reads, and definitions of
/// dead registers.
fn remove_dead(nodes: &mut [Node]) -> bool {
    let live = live_out(nodes);
    let starts = block_starts(nodes);
    let mut changed = false;
    for k in 0..nodes.len() {
        let n = &nodes[k];
        if n.deleted {
            continue;
        }
        let i = n.insn;
        let same_reg_move = i.code == BPF_ALU64 | BPF_MOV | BPF_X && i.dst == i.src;
        let zext_unread = i.code == BPF_ALU | BPF_MOV | BPF_X
            && i.dst == i.src
            && upper_half_unread(nodes, &starts, &live, k);
        let dead = is_pure_def(&i) && i.dst < 10 && live[k] & bit(i.dst) == 0;
        if same_reg_move || zext_unread || dead {
            nodes[k].deleted = true;
            changed = true;
        }
    }
    changed
}

/// True when, after the `w = w` at `k`, only 32-bit operations and narrow stores read the
/// register before the end of its value (a redefinition, or the block's end with the
/// register dead).
fn upper_half_unread(nodes: &[Node], starts: &[bool], live: &[u16], k: usize) -> bool {
    let r = nodes[k].insn.dst;
    let mut last = k;
    for j in k + 1..nodes.len() {
        if starts[j] {
            break;
        }
        let n = &nodes[j];
        if n.deleted {
            continue;
        }
        last = j;
        let (reads, writes) = effects(&n.insn);
        if reads & bit(r) != 0 && !reads_low_half_only(&n.insn, r) {
            return false;
        }
        if writes & bit(r) != 0 {
            return true;
        }
        if is_jump(&n.insn) || n.insn.code & 0xf0 == BPF_EXIT {
            break;
        }
    }
    live[last] & bit(r) == 0
}

fn reads_low_half_only(i: &Insn, r: u8) -> bool {
    match class(i.code) {
        BPF_STX => i.code & 0xe0 == BPF_MEM && i.code & 0x18 != BPF_DW && i.dst != r,
        BPF_ALU => i.code & 0xf0 != BPF_END,
        BPF_JMP32 => true,
        _ => false,
    }
}

/// Jumps to unconditional jumps go to their targets; jumps to the next instruction go.
fn thread_jumps(nodes: &mut [Node]) -> bool {
    let mut changed = false;
    for k in 0..nodes.len() {
        if nodes[k].deleted {
            continue;
        }
        let Some(mut t) = nodes[k].target else {
            continue;
        };
        for _ in 0..16 {
            let skip_deleted = (t..nodes.len()).find(|&j| !nodes[j].deleted);
            match skip_deleted {
                Some(j) if j != k && is_ja(&nodes[j].insn) && nodes[j].target != Some(j) => {
                    t = nodes[j].target.unwrap_or(j);
                }
                Some(j) => {
                    t = j;
                    break;
                }
                None => break,
            }
        }
        if nodes[k].target != Some(t) {
            nodes[k].target = Some(t);
            changed = true;
        }
        let next = (k + 1..nodes.len()).find(|&j| !nodes[j].deleted);
        if next == Some(t) {
            nodes[k].deleted = true;
            changed = true;
        }
    }
    changed
}

/// The later of two identical tails (ending in `exit` or a jump to the same place) becomes a
/// jump into the earlier one.
fn merge_tails(nodes: &mut [Node], code: &Code) -> bool {
    resolve_targets(nodes);
    let relocated = relocated(nodes, code);
    let mut groups: HashMap<(Insn, Option<usize>), Vec<usize>> = HashMap::new();
    for (k, n) in nodes.iter().enumerate() {
        if !n.deleted && (n.insn.code == BPF_JMP | BPF_EXIT || is_ja(&n.insn)) {
            groups.entry((n.insn, n.target)).or_default().push(k);
        }
    }
    let mut changed = false;
    for ends in groups.values() {
        for (a, &second) in ends.iter().enumerate().skip(1) {
            for &first in &ends[..a] {
                if nodes[first].deleted || nodes[second].deleted {
                    continue;
                }
                // Replacing `len` instructions by one jump pays from two on.
                let len = common_tail(nodes, &relocated, first, second);
                if len >= 2 {
                    let kept = tail(nodes, first, len);
                    let replaced = tail(nodes, second, len);
                    redirect_into(nodes, &kept, &replaced);
                    changed = true;
                    break;
                }
            }
        }
    }
    changed
}

fn remove_unreachable(nodes: &mut [Node]) -> bool {
    resolve_targets(nodes);
    let mut reached = vec![false; nodes.len()];
    let mut work: Vec<usize> = (0..nodes.len())
        .find(|&k| !nodes[k].deleted)
        .into_iter()
        .collect();
    while let Some(k) = work.pop() {
        if k >= nodes.len() || reached[k] {
            continue;
        }
        reached[k] = true;
        work.extend(successors(nodes, k));
    }
    let mut changed = false;
    for (n, reached) in nodes.iter_mut().zip(reached) {
        if !n.deleted && !reached {
            n.deleted = true;
            changed = true;
        }
    }
    changed
}

fn prev_alive(nodes: &[Node], k: usize) -> Option<usize> {
    (0..k).rev().find(|&j| !nodes[j].deleted)
}

/// True for the instructions a map, data or CO-RE relocation patches: they never merge with
/// another.
fn relocated(nodes: &[Node], code: &Code) -> Vec<bool> {
    let mut relocated = vec![false; nodes.len()];
    let map = code.map_relocs.iter().map(|r| r.insn_index);
    let data = code.data_relocs.iter().map(|r| r.insn_index);
    for k in map
        .chain(data)
        .chain(code.core_relocs.iter().map(|r| r.insn_index))
    {
        relocated[k] = true;
    }
    relocated
}

fn falls_through(i: &Insn) -> bool {
    !is_jump(i) && i.code != BPF_JMP | BPF_EXIT
}

/// `X; goto L` where the code falling into `L` also ends in `X`: the first `X` and its `goto`
/// become a jump to the second `X`.
fn merge_tails_before_jumps(nodes: &mut [Node], code: &Code) -> bool {
    resolve_targets(nodes);
    let relocated = relocated(nodes, code);
    let mut changed = false;
    for j in 0..nodes.len() {
        if nodes[j].deleted || !is_ja(&nodes[j].insn) {
            continue;
        }
        let Some(t) = nodes[j].target else { continue };
        let (Some(p), Some(q)) = (prev_alive(nodes, t), prev_alive(nodes, j)) else {
            continue;
        };
        let (mut kept, mut replaced) = (Vec::new(), Vec::new());
        let (mut a, mut b) = (Some(p), Some(q));
        while let (Some(x), Some(y)) = (a, b) {
            let (nx, ny) = (&nodes[x], &nodes[y]);
            let overlaps = kept.contains(&y) || replaced.contains(&x) || x == y || x == j || y == j;
            if overlaps
                || !falls_through(&nx.insn)
                || relocated[x]
                || relocated[y]
                || nx.insn != ny.insn
                || nx.high != ny.high
            {
                break;
            }
            kept.push(x);
            replaced.push(y);
            (a, b) = (prev_alive(nodes, x), prev_alive(nodes, y));
        }
        if replaced.is_empty() {
            continue;
        }
        kept.reverse();
        replaced.reverse();
        // The `goto` itself goes too: jumps to it go to `L`, which follows the kept code.
        for n in nodes.iter_mut() {
            if n.target == Some(j) {
                n.target = Some(t);
            }
        }
        nodes[j].deleted = true;
        redirect_into(nodes, &kept, &replaced);
        changed = true;
    }
    changed
}

/// `if c goto A; goto B; A:` becomes `if !c goto B; A:` when nothing else jumps to the
/// `goto`.
fn branch_over_jumps(nodes: &mut [Node], cpu: Cpu) -> bool {
    resolve_targets(nodes);
    let mut targeted = vec![false; nodes.len() + 1];
    for n in nodes.iter().filter(|n| !n.deleted) {
        if let Some(t) = n.target {
            targeted[t] = true;
        }
    }
    let mut changed = false;
    for k in 0..nodes.len() {
        let n = nodes[k];
        if n.deleted || !is_jump(&n.insn) || is_ja(&n.insn) {
            continue;
        }
        let Some(j) = (k + 1..nodes.len()).find(|&j| !nodes[j].deleted) else {
            continue;
        };
        let after = (j + 1..nodes.len()).find(|&a| !nodes[a].deleted);
        let Some(negated) = negate(n.insn.code).filter(|&c| cpu >= Cpu::V2 || !is_less_than(c))
        else {
            continue;
        };
        if !is_ja(&nodes[j].insn) || targeted[j] || n.target != after || nodes[j].target == Some(j)
        {
            continue;
        }
        nodes[k].insn.code = negated;
        nodes[k].target = nodes[j].target;
        nodes[j].deleted = true;
        changed = true;
    }
    changed
}

/// The `<`/`<=` jumps v1 lacks.
fn is_less_than(code: u8) -> bool {
    matches!(code & 0xf0, BPF_JLT | BPF_JLE | BPF_JSLT | BPF_JSLE)
}

/// The opcode of the opposite conditional jump (none for `jset`).
fn negate(code: u8) -> Option<u8> {
    let op = match code & 0xf0 {
        BPF_JEQ => BPF_JNE,
        BPF_JNE => BPF_JEQ,
        BPF_JGT => BPF_JLE,
        BPF_JLE => BPF_JGT,
        BPF_JGE => BPF_JLT,
        BPF_JLT => BPF_JGE,
        BPF_JSGT => BPF_JSLE,
        BPF_JSLE => BPF_JSGT,
        BPF_JSGE => BPF_JSLT,
        BPF_JSLT => BPF_JSGE,
        _ => return None,
    };
    Some(code & 0x0f | op)
}

/// Makes every jump target a surviving node (a deleted one stands for the next survivor).
fn resolve_targets(nodes: &mut [Node]) {
    let mut next_alive = vec![nodes.len(); nodes.len() + 1];
    for k in (0..nodes.len()).rev() {
        next_alive[k] = if nodes[k].deleted {
            next_alive[k + 1]
        } else {
            k
        };
    }
    for n in nodes.iter_mut() {
        if let Some(t) = n.target {
            n.target = Some(next_alive[t]);
        }
    }
}

/// The `len` surviving nodes ending at `end`, in order.
fn tail(nodes: &[Node], end: usize, len: usize) -> Vec<usize> {
    let mut t: Vec<usize> = (0..=end)
        .rev()
        .filter(|&k| !nodes[k].deleted)
        .take(len)
        .collect();
    t.reverse();
    t
}

/// How many instructions (up to the end markers) the tails ending at `a` and `b` share.
fn common_tail(nodes: &[Node], relocated: &[bool], a: usize, b: usize) -> usize {
    let same = |x: &Node, y: &Node| x.insn == y.insn && x.high == y.high && x.target == y.target;
    if !same(&nodes[a], &nodes[b]) {
        return 0;
    }
    let (mut i, mut j, mut len) = (a, b, 1);
    loop {
        let prev = |mut k: usize| {
            while k > 0 {
                k -= 1;
                if !nodes[k].deleted {
                    return Some(k);
                }
            }
            None
        };
        let (Some(pi), Some(pj)) = (prev(i), prev(j)) else {
            return len;
        };
        // The earlier tail must not run into the later one, and tails stop at control flow.
        let ni = &nodes[pi];
        if pj <= a
            || pi == pj
            || relocated[pi]
            || relocated[pj]
            || is_jump(&ni.insn)
            || ni.insn.code == BPF_JMP | BPF_EXIT
            || !same(ni, &nodes[pj])
        {
            return len;
        }
        (i, j, len) = (pi, pj, len + 1);
    }
}

/// Replaces the `replaced` tail by a jump to the `kept` one; jumps into the middle of the
/// replaced tail go to the matching point of the kept one.
fn redirect_into(nodes: &mut [Node], kept: &[usize], replaced: &[usize]) {
    for n in nodes.iter_mut() {
        if let Some(t) = n.target {
            if let Some(m) = replaced[1..].iter().position(|&r| r == t) {
                n.target = Some(kept[m + 1]);
            }
        }
    }
    for &k in &replaced[1..] {
        nodes[k].deleted = true;
    }
    nodes[replaced[0]] = Node {
        insn: Insn::ja(0),
        high: None,
        target: Some(kept[0]),
        deleted: false,
        before: None,
    };
}

/// The callee-saved registers, which calls keep.
const CALLEE_SAVED: std::ops::RangeInclusive<u8> = 6..=9;

/// Puts a constant that several `mov rX, k` set only for the instruction right after to read
/// (as its source register, `rX` dead after it) in a callee-saved register nothing in the
/// function uses, set once at the entry: each such pair loses its `mov`, the entry gains one.
/// The constant met most often, when it is met at least twice; one per function.
fn constants_in_spare_registers(nodes: &mut [Node], code: &Code) -> bool {
    let used = (nodes.iter().filter(|n| !n.deleted)).fold(0, |acc, n| {
        let (reads, writes) = effects(&n.insn);
        acc | reads | writes
    });
    let Some(register) = CALLEE_SAVED.into_iter().find(|&r| used & bit(r) == 0) else {
        return false;
    };
    let mut by_value: HashMap<i32, Vec<(usize, usize)>> = HashMap::new();
    for (k, j) in constant_operands(nodes, code) {
        by_value.entry(nodes[k].insn.imm).or_default().push((k, j));
    }
    let best = by_value
        .into_iter()
        .max_by_key(|(imm, uses)| (uses.len(), -i64::from(*imm)));
    let Some((imm, uses)) = best.filter(|(_, uses)| uses.len() >= 2) else {
        return false;
    };
    for (k, j) in uses {
        nodes[k].deleted = true;
        nodes[j].insn.src = register;
    }
    // Jumps back to the entry run the `mov` again, which sets what the register holds anyway.
    if let Some(entry) = nodes.iter_mut().find(|n| !n.deleted) {
        entry.before = Some(Insn::mov64_imm(Reg(register), imm));
    }
    true
}

/// The pairs (`mov rX, k` at `k`, its one reader at `j`) [`constants_in_spare_registers`]
/// can fold: `k` is a 64-bit move of an immediate, `j` follows it in the same block, reads
/// `rX` as its source register, neither writes it nor uses it otherwise, and nothing reads
/// `rX` after `j`.
fn constant_operands(nodes: &[Node], code: &Code) -> Vec<(usize, usize)> {
    let live = live_out(nodes);
    let starts = block_starts(nodes);
    let relocated = relocated(nodes, code);
    let mut pairs = Vec::new();
    for k in 0..nodes.len() {
        let n = &nodes[k];
        if n.deleted || relocated[k] || n.insn.code != BPF_ALU64 | BPF_MOV | BPF_K {
            continue;
        }
        let Some(j) = (k + 1..nodes.len()).find(|&j| !nodes[j].deleted) else {
            continue;
        };
        let (r, reader) = (n.insn.dst, &nodes[j].insn);
        let (_, writes) = effects(reader);
        let only_source = reads_source_register(reader) && reader.src == r && reader.dst != r;
        if !starts[j] && only_source && writes & bit(r) == 0 && live[j] & bit(r) == 0 {
            pairs.push((k, j));
        }
    }
    pairs
}

/// True when `i` reads its source register (an ALU or jump operation on two registers, a
/// store of a register).
fn reads_source_register(i: &Insn) -> bool {
    let op = i.code & 0xf0;
    match class(i.code) {
        BPF_ALU | BPF_ALU64 => i.code & BPF_X != 0 && op != BPF_NEG && op != BPF_END,
        BPF_JMP | BPF_JMP32 => i.code & BPF_X != 0 && !matches!(op, BPF_CALL | BPF_EXIT | BPF_JA),
        BPF_STX => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whistler_bpf::Reg as R;

    fn optimized(insns: Vec<Insn>) -> Vec<String> {
        let mut code = Code {
            insns,
            map_relocs: Vec::new(),
            data_relocs: Vec::new(),
            core_relocs: Vec::new(),
            lines: Vec::new(),
            stack_size: 0,
        };
        run(&mut code, Cpu::V3);
        whistler_bpf::disasm::disassemble(&code.insns)
            .into_iter()
            .map(|(_, text)| text)
            .collect()
    }

    #[test]
    fn stack_stores_address_r10_and_take_immediates() {
        let out = optimized(vec![
            Insn::mov64_reg(R::R2, R::FP),
            Insn::alu64_imm(BPF_ADD, R::R2, -8),
            Insn::mov64_imm(R::R1, 5),
            Insn::store_reg(BPF_W, R::R2, 0, R::R1),
            Insn::mov64_imm(R::R0, 0),
            Insn::exit(),
        ]);
        assert_eq!(out, ["*(u32 *)(r10 -8) = 5", "r0 = 0", "exit"]);
    }

    #[test]
    fn zero_extension_before_a_narrow_store_goes() {
        let out = optimized(vec![
            Insn::alu32_reg(BPF_MOV, R::R1, R::R1),
            Insn::store_reg(BPF_W, R::FP, -8, R::R1),
            Insn::mov64_reg(R::R0, R::R1),
            Insn::exit(),
        ]);
        assert_eq!(out[0], "w1 = w1", "r1 is returned whole: {out:?}");
        let out = optimized(vec![
            Insn::alu32_reg(BPF_MOV, R::R1, R::R1),
            Insn::store_reg(BPF_W, R::FP, -8, R::R1),
            Insn::mov64_imm(R::R0, 0),
            Insn::exit(),
        ]);
        assert_eq!(out, ["*(u32 *)(r10 -8) = r1", "r0 = 0", "exit"]);
    }

    #[test]
    fn identical_tails_are_shared_and_jumps_to_the_next_insn_go() {
        let out = optimized(vec![
            Insn::jmp_imm(BPF_JEQ, R::R1, 0, 3),
            Insn::mov64_reg(R::R0, R::R1),
            Insn::alu64_imm(BPF_ADD, R::R0, 5),
            Insn::exit(),
            Insn::mov64_reg(R::R0, R::R1),
            Insn::alu64_imm(BPF_ADD, R::R0, 5),
            Insn::exit(),
        ]);
        assert_eq!(out, ["r0 = r1", "r0 += 5", "exit"]);
    }

    #[test]
    fn a_helper_argument_left_in_place_is_not_moved_back() {
        let out = optimized(vec![
            Insn::mov64_reg(R::R6, R::R1),
            Insn::mov64_imm(R::R2, 9),
            Insn::mov64_reg(R::R1, R::R6),
            Insn::call_helper(26),
            Insn::mov64_reg(R::R1, R::R6),
            Insn::call_helper(26),
            Insn::exit(),
        ]);
        assert_eq!(
            out,
            [
                "r6 = r1",
                "r2 = 9",
                "call bpf_skb_load_bytes#26",
                "r1 = r6",
                "call bpf_skb_load_bytes#26",
                "exit"
            ],
            "the call clobbers r1: {out:?}"
        );
    }

    /// Two maps' counters bumped by 1 around calls: `r1 = 1` before each `lock +=`.
    fn two_increments(saved: &[R]) -> Vec<Insn> {
        let mut insns: Vec<Insn> = saved.iter().map(|&r| Insn::mov64_reg(r, R::R1)).collect();
        for _ in 0..2 {
            insns.extend([
                Insn::mov64_reg(R::R1, saved[0]),
                Insn::call_helper(7),
                Insn::mov64_imm(R::R1, 1),
                Insn::atomic(BPF_DW, i32::from(BPF_ADD), R::R0, 0, R::R1),
            ]);
        }
        insns.push(Insn::mov64_reg(R::R0, saved[0]));
        insns.extend(
            saved[1..]
                .iter()
                .map(|&r| Insn::alu64_reg(BPF_ADD, R::R0, r)),
        );
        insns.push(Insn::exit());
        insns
    }

    #[test]
    fn a_constant_used_twice_lives_in_a_spare_callee_saved_register() {
        let out = optimized(two_increments(&[R::R6]));
        let lock = "lock *(u64 *)(r0 +0) += r7";
        let call = "call bpf_get_prandom_u32#7";
        assert_eq!(
            out,
            ["r7 = 1", "r6 = r1", call, lock, "r1 = r6", call, lock, "r0 = r6", "exit"],
            "{out:?}"
        );
        let all = [R::R6, R::R7, R::R8, R::R9];
        let out = optimized(two_increments(&all));
        assert_eq!(
            out.iter().filter(|i| *i == "r1 = 1").count(),
            2,
            "none spare: {out:?}"
        );
    }

    #[test]
    fn a_constant_return_is_speculated_and_the_exits_shared() {
        let out = optimized(vec![
            Insn::jmp_reg(BPF_JLE, R::R1, R::R2, 2),
            Insn::mov64_imm(R::R0, 2),
            Insn::exit(),
            Insn::mov64_imm(R::R0, 3),
            Insn::exit(),
        ]);
        assert_eq!(
            out,
            ["r0 = 3", "if r1 <= r2 goto pc+1", "r0 = 2", "exit"],
            "{out:?}"
        );
    }

    #[test]
    fn a_join_constant_goes_before_the_branch_and_its_goto_goes() {
        let out = optimized(vec![
            Insn::jmp_imm(BPF_JLT, R::R1, 5, 3),
            Insn::alu64_imm(BPF_RSH, R::R1, 1),
            Insn::mov64_imm(R::R3, 32),
            Insn::ja(1),
            Insn::mov64_imm(R::R3, 0),
            Insn::mov64_reg(R::R0, R::R3),
            Insn::alu64_reg(BPF_ADD, R::R0, R::R1),
            Insn::exit(),
        ]);
        assert_eq!(
            out,
            [
                "r3 = 0",
                "if r1 < 0x5 goto pc+2",
                "r1 >>= 1",
                "r3 = 32",
                "r0 = r3",
                "r0 += r1",
                "exit"
            ],
            "{out:?}"
        );
    }

    #[test]
    fn a_constant_read_by_the_branch_or_live_on_the_other_side_stays() {
        let input = vec![
            Insn::jmp_imm(BPF_JEQ, R::R0, 0, 2),
            Insn::mov64_imm(R::R0, 2),
            Insn::exit(),
            Insn::mov64_imm(R::R0, 3),
            Insn::exit(),
        ];
        assert_eq!(optimized(input).len(), 5);
        let input = vec![
            Insn::jmp_imm(BPF_JEQ, R::R1, 0, 1),
            Insn::exit(),
            Insn::mov64_imm(R::R0, 3),
            Insn::exit(),
        ];
        // r0 is returned on the other side: only the exits are shared.
        assert_eq!(
            optimized(input),
            ["if r1 != 0x0 goto pc+1", "r0 = 3", "exit"]
        );
    }

    #[test]
    fn a_constant_return_several_jumps_share_is_set_once_before_them() {
        let out = optimized(vec![
            Insn::jmp_reg(BPF_JGT, R::R3, R::R1, 4),
            Insn::load(BPF_H, R::R3, R::R2, 12),
            Insn::jmp_imm(BPF_JNE, R::R3, 8, 2),
            Insn::mov64_imm(R::R0, 1),
            Insn::exit(),
            Insn::mov64_imm(R::R0, 2),
            Insn::exit(),
        ]);
        assert_eq!(
            out,
            [
                "r0 = 2",
                "if r3 > r1 goto pc+3",
                "r3 = *(u16 *)(r2 +12)",
                "if r3 != 0x8 goto pc+1",
                "r0 = 1",
                "exit"
            ],
            "{out:?}"
        );
    }

    #[test]
    fn a_loop_keeps_what_its_next_iteration_reads() {
        // r1 counts down to zero; the add is read by the loop test, not dead.
        let out = optimized(vec![
            Insn::mov64_imm(R::R1, 3),
            Insn::alu64_imm(BPF_ADD, R::R1, -1),
            Insn::jmp_imm(BPF_JNE, R::R1, 0, -2),
            Insn::mov64_imm(R::R0, 0),
            Insn::exit(),
        ]);
        assert_eq!(out.len(), 5, "{out:?}");
    }
}
