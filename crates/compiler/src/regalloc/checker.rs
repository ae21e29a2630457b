//! Re-verifies an allocation by abstract interpretation, independently of how it was computed:
//! every location (R0-R10 and each spill slot) holds a known value or nothing; instructions
//! read their operands from their assigned locations, calls clobber R0-R5, definitions write
//! their location, and block entry states are the intersection of all incoming states. Any use
//! that does not find its value in its location is an error. R5 and R10 are never allocated;
//! R0 only when nothing spills (the code generator's scratch register otherwise).
//!
//! The moves the code generator emits for helper arguments and jump arguments are checked step
//! by step, in the order it performs them (the same sequentialization, temporaries and
//! stack-to-stack scratch; constant helper arguments are written in afterwards): after them
//! every argument register, and every parameter of the destination, must hold its argument.

use super::{Allocation, Loc};
use crate::codegen::moves::{self, sequentialize, Step};
use crate::ir::{Function, InstKind, Terminator, Value};

type State = Vec<Option<Value>>;

fn index(l: Loc) -> usize {
    match l {
        Loc::Reg(r) => r as usize,
        Loc::Stack(s) => 11 + s as usize,
    }
}

/// Performs the parallel move `values[k]: from[k] -> to[k]` as the code generator does, then
/// checks that every destination holds its value.
fn perform_moves(
    state: &mut State,
    pairs: &[(Value, Loc, Loc)],
    temp: Loc,
    what: &str,
) -> Result<(), String> {
    let plan: Vec<(Loc, Loc)> = pairs.iter().map(|&(_, from, to)| (from, to)).collect();
    for Step::Move { from, to } in sequentialize(&plan, temp) {
        let moved = state[index(from)];
        if let (Loc::Stack(_), Loc::Stack(_)) = (from, to) {
            state[moves::STACK_COPY_SCRATCH as usize] = moved;
        }
        state[index(to)] = moved;
    }
    for &(v, _, to) in pairs {
        if state[index(to)] != Some(v) {
            let held = state[index(to)];
            return Err(format!(
                "{what}: {to:?} should hold {v} after the moves, holds {held:?}"
            ));
        }
    }
    Ok(())
}

pub fn check(func: &Function, alloc: &Allocation) -> Result<(), String> {
    let slots = alloc.spill_slots as usize;
    for (v, l) in alloc.locs.iter().enumerate() {
        if let Some(Loc::Reg(r)) = l {
            let r0_reserved = *r == 0 && alloc.spill_slots > 0;
            if r0_reserved || matches!(r, 5 | 10) || *r > 10 {
                return Err(format!("v{v} is allocated to reserved register r{r}"));
            }
        }
    }
    let mut entry_state: Vec<Option<State>> = vec![None; func.blocks.len()];
    entry_state[func.entry().index()] = Some(vec![None; 11 + slots]);
    let mut work = vec![func.entry()];
    let mut visits = 0usize;
    while let Some(b) = work.pop() {
        visits += 1;
        if visits > 64 * func.layout.len() + 64 {
            return Err("checker did not converge".into());
        }
        let Some(mut state) = entry_state[b.index()].clone() else {
            continue;
        };
        let data = &func.blocks[b.index()];
        let loc_of = |v: Value| alloc.loc(v).ok_or_else(|| format!("{v} has no location"));
        let read = |state: &State, v: Value| -> Result<(), String> {
            let l = loc_of(v)?;
            match state[index(l)] {
                Some(x) if x == v => Ok(()),
                other => Err(format!("{b}: {v} expected in {l:?}, which holds {other:?}")),
            }
        };
        for &i in &data.insts {
            let inst = func.inst(i);
            let mut err = Ok(());
            inst.kind.for_each_use(|v| {
                if err.is_ok() {
                    err = read(&state, v);
                }
            });
            err?;
            if let InstKind::Call { args, .. } = &inst.kind {
                let immediate = |a: &Value| moves::immediate_argument(func, *a).is_some();
                let pairs = args
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| !immediate(a))
                    .map(|(k, a)| Ok((*a, loc_of(*a)?, Loc::Reg(k as u8 + 1))))
                    .collect::<Result<Vec<_>, String>>()?;
                perform_moves(&mut state, &pairs, moves::CALL_TEMP, &format!("{b}: call"))?;
                // Constant arguments are written into their registers after the moves.
                for (k, a) in args.iter().enumerate().filter(|(_, a)| immediate(a)) {
                    state[k + 1] = Some(*a);
                }
            }
            if inst.kind.is_call() {
                for r in state.iter_mut().take(6) {
                    *r = None;
                }
            }
            if let Some(r) = inst.result {
                state[index(loc_of(r)?)] = Some(r);
            }
        }
        let Some(term) = &data.term else {
            return Err(format!("{b} has no terminator"));
        };
        let mut err = Ok(());
        term.for_each_use(|v| {
            if err.is_ok() {
                err = read(&state, v);
            }
        });
        err?;
        for s in term.successors() {
            let mut out = state.clone();
            if let Terminator::Jump { args, .. } = term {
                let params = &func.blocks[s.index()].params;
                if params.len() != args.len() {
                    return Err(format!("{b}: jump to {s} passes {} arguments", args.len()));
                }
                let pairs = args
                    .iter()
                    .zip(params)
                    .map(|(a, p)| Ok((*a, loc_of(*a)?, loc_of(*p)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                let what = format!("{b}: jump to {s}");
                perform_moves(&mut out, &pairs, moves::jump_temp(alloc), &what)?;
                for (p, (_, _, to)) in params.iter().zip(&pairs) {
                    out[index(*to)] = Some(*p);
                }
            }
            let merged = match &entry_state[s.index()] {
                None => out,
                Some(old) => old
                    .iter()
                    .zip(&out)
                    .map(|(a, b)| if a == b { *a } else { None })
                    .collect(),
            };
            if entry_state[s.index()].as_ref() != Some(&merged) {
                entry_state[s.index()] = Some(merged);
                work.push(s);
            }
        }
    }
    Ok(())
}
