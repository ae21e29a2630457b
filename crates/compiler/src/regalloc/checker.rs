//! Re-verifies an allocation by abstract interpretation, independently of how it was computed:
//! every location (R0-R10 and each spill slot) holds a known value or nothing; instructions
//! read their operands from their assigned locations, calls clobber R0-R5, definitions write
//! their location, jumps perform their parallel moves into the destination's parameters, and
//! block entry states are the intersection of all incoming states. Any use that does not find
//! its value in its location is an error. R5 and R10 are never allocated; R0 only when nothing
//! spills (the code generator's scratch register otherwise).

use super::{Allocation, Loc};
use crate::ir::{Function, Terminator, Value};

type State = Vec<Option<Value>>;

pub fn check(func: &Function, alloc: &Allocation) -> Result<(), String> {
    let slots = alloc.spill_slots as usize;
    let index = |l: Loc| match l {
        Loc::Reg(r) => r as usize,
        Loc::Stack(s) => 11 + s as usize,
    };
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
                let moved: Vec<(usize, Value)> = params
                    .iter()
                    .map(|p| loc_of(*p).map(|l| (index(l), *p)))
                    .collect::<Result<_, _>>()?;
                let _ = args;
                for (li, p) in moved {
                    out[li] = Some(p);
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
