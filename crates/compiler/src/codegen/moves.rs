//! Parallel moves between locations (jump arguments into block parameters, helper arguments
//! into R1-R5), sequentialized with a caller-chosen cycle-breaking temporary (R5 is used by
//! the emitter for stack-to-stack copies, which only occur when R0 is the temporary).

use crate::ir::{Function, Value};
use crate::regalloc::{Allocation, Loc};

/// A helper argument that is a 32-bit constant is not moved from where the allocator put it:
/// it is written straight into its argument register after the other moves (`r5 = 2`). The
/// constant's own definition is then usually dead (the peephole pass removes it).
pub fn immediate_argument(func: &Function, v: Value) -> Option<i32> {
    func.const_value(v).and_then(|c| i32::try_from(c).ok())
}

/// The cycle-breaking temporary for helper arguments: call arguments never live in R0.
pub const CALL_TEMP: Loc = Loc::Reg(0);

/// The cycle-breaking temporary for jump arguments: without spills R0 may hold a live value
/// and R5 breaks cycles; with spills R5 is the stack-to-stack scratch and R0 is free.
pub fn jump_temp(alloc: &Allocation) -> Loc {
    if alloc.spill_slots == 0 {
        Loc::Reg(5)
    } else {
        Loc::Reg(0)
    }
}

/// The scratch register of a stack-to-stack move.
pub const STACK_COPY_SCRATCH: u8 = 5;

/// One primitive move the emitter performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Move { from: Loc, to: Loc },
}

/// Orders `moves` (all destinations distinct) so that no source is overwritten before it is
/// read, saving one value in `temp` (which must be neither a source nor a destination) to
/// break each cycle.
pub fn sequentialize(moves: &[(Loc, Loc)], temp: Loc) -> Vec<Step> {
    let mut pending: Vec<(Loc, Loc)> = moves.iter().copied().filter(|(s, d)| s != d).collect();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|&(_, d)| !pending.iter().any(|&(s, _)| s == d));
        match ready {
            Some(k) => {
                let (from, to) = pending.remove(k);
                out.push(Step::Move { from, to });
            }
            None => {
                // Every destination is still needed as a source: save one in the temporary.
                let (_, d) = pending[0];
                out.push(Step::Move { from: d, to: temp });
                for m in pending.iter_mut() {
                    if m.0 == d {
                        m.0 = temp;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(moves: &[(Loc, Loc)]) -> Vec<Option<u32>> {
        // Simulate: each register/slot initially holds its own number.
        let key = |l: Loc| match l {
            Loc::Reg(r) => r as usize,
            Loc::Stack(s) => 20 + s as usize,
        };
        let mut state: Vec<Option<u32>> = (0..40).map(|i| Some(i as u32)).collect();
        state[0] = None;
        for Step::Move { from, to } in sequentialize(moves, Loc::Reg(0)) {
            state[key(to)] = state[key(from)];
        }
        state
    }

    #[test]
    fn swaps_and_cycles() {
        let r = |n| Loc::Reg(n);
        let s = run(&[(r(1), r(2)), (r(2), r(1))]);
        assert_eq!((s[1], s[2]), (Some(2), Some(1)));
        let s = run(&[(r(1), r(2)), (r(2), r(3)), (r(3), r(1)), (r(6), r(4))]);
        assert_eq!(
            (s[1], s[2], s[3], s[4]),
            (Some(3), Some(1), Some(2), Some(6))
        );
        let s = run(&[
            (Loc::Stack(0), Loc::Stack(1)),
            (Loc::Stack(1), Loc::Stack(0)),
        ]);
        assert_eq!((s[20], s[21]), (Some(21), Some(20)));
    }
}
