//! The IR verifier. It runs after lowering and after every pass in debug and test builds.
//!
//! Invariants checked:
//! 1. The layout is non-empty, lists no block twice, and the entry block has no parameters.
//! 2. Every laid-out block has a terminator, and every successor is laid out.
//! 3. A jump passes exactly as many arguments as its destination has parameters; branch targets
//!    take no parameters.
//! 4. Every instruction result and block parameter is recorded in the value table as defined
//!    there, and no value is defined twice.
//! 5. Every use refers to a defined value whose definition dominates the use (a parameter
//!    dominates its whole block; an instruction dominates what follows it in its block).
//! 6. `arg` appears only in the entry block.
//! 7. Loads and stores access 1, 2, 4 or 8 bytes; atomic adds 4 or 8 bytes.
//! 8. Helper calls take at most 5 arguments.
//! 9. Stack slots, maps and kernel fields referred to exist.
//! 10. A field load names the byte offset of a member one load reads (an integer, enum or
//!     pointer of 1, 2, 4 or 8 bytes at an offset that fits the instruction), and does not read
//!     through a stack address.

use super::*;
use crate::analysis::dominators::DominatorTree;

/// Checks every invariant; returns the list of violations (empty when the function is valid).
pub fn verify(func: &Function) -> Vec<String> {
    let mut v = Verifier {
        func,
        errors: Vec::new(),
    };
    v.run();
    v.errors
}

struct Verifier<'a> {
    func: &'a Function,
    errors: Vec<String>,
}

impl Verifier<'_> {
    fn run(&mut self) {
        let f = self.func;
        if f.layout.is_empty() {
            self.errors.push("empty layout".into());
            return;
        }
        let mut laid = vec![false; f.blocks.len()];
        for &b in &f.layout {
            if std::mem::replace(&mut laid[b.index()], true) {
                self.errors.push(format!("{b} laid out twice"));
            }
        }
        if !f.blocks[f.entry().index()].params.is_empty() {
            self.errors.push("entry block has parameters".into());
        }
        let mut defined_at = vec![None; f.values.len()];
        for &b in &f.layout {
            self.check_block(b, &laid, &mut defined_at);
        }
        self.check_dominance(&defined_at);
    }

    fn check_block(&mut self, b: Block, laid: &[bool], defined_at: &mut [Option<(Block, usize)>]) {
        let f = self.func;
        let data = &f.blocks[b.index()];
        for (i, &p) in data.params.iter().enumerate() {
            if f.values.get(p.index()) != Some(&ValueDef::Param(b, i)) {
                self.errors
                    .push(format!("{p} is not recorded as parameter {i} of {b}"));
            }
            self.define(defined_at, p, b, 0);
        }
        for (pos, &i) in data.insts.iter().enumerate() {
            let inst = f.inst(i);
            self.check_inst(b, &inst.kind);
            match inst.result {
                Some(r) if inst.kind.has_result() => {
                    if f.values.get(r.index()) != Some(&ValueDef::Inst(i)) {
                        self.errors
                            .push(format!("{r} is not recorded as the result of {i}"));
                    }
                    self.define(defined_at, r, b, pos + 1);
                }
                None if !inst.kind.has_result() => {}
                _ => self
                    .errors
                    .push(format!("{i}: result does not match its kind")),
            }
        }
        let Some(term) = &data.term else {
            self.errors.push(format!("{b} has no terminator"));
            return;
        };
        for s in term.successors() {
            if !laid.get(s.index()).copied().unwrap_or(false) {
                self.errors
                    .push(format!("{b} jumps to {s}, which is not laid out"));
                continue;
            }
            let params = f.blocks[s.index()].params.len();
            match term {
                Terminator::Jump { args, .. } if args.len() != params => self.errors.push(format!(
                    "{b} passes {} arguments to {s}, which has {params} parameters",
                    args.len()
                )),
                Terminator::Branch { .. } if params != 0 => self
                    .errors
                    .push(format!("{b} branches to {s}, which has parameters")),
                _ => {}
            }
        }
    }

    fn define(&mut self, at: &mut [Option<(Block, usize)>], v: Value, b: Block, pos: usize) {
        match at.get_mut(v.index()) {
            Some(slot @ None) => *slot = Some((b, pos)),
            Some(Some(_)) => self.errors.push(format!("{v} defined twice")),
            None => self.errors.push(format!("{v} is not in the value table")),
        }
    }

    fn check_inst(&mut self, b: Block, kind: &InstKind) {
        let f = self.func;
        match kind {
            InstKind::Arg if b != f.entry() => self
                .errors
                .push(format!("`arg` outside the entry block in {b}")),
            InstKind::Load { size, .. } | InstKind::Store { size, .. }
                if ![1, 2, 4, 8].contains(size) =>
            {
                self.errors.push(format!("memory access of {size} bytes"))
            }
            InstKind::AtomicAdd { size, .. } if ![4, 8].contains(size) => {
                self.errors.push(format!("atomic add of {size} bytes"))
            }
            InstKind::Call { args, .. } if args.len() > 5 => self
                .errors
                .push(format!("call with {} arguments", args.len())),
            InstKind::StackAddr(s) if s.index() >= f.slots.len() => {
                self.errors.push(format!("unknown stack slot {s}"))
            }
            InstKind::MapFd(m) if *m as usize >= f.maps.len() => {
                self.errors.push(format!("unknown map {m}"))
            }
            InstKind::DataAddr(d) if *d as usize >= f.data.len() => {
                self.errors.push(format!("unknown constant data {d}"))
            }
            InstKind::KernelValue(k) if *k as usize >= f.kernel_values.len() => {
                self.errors.push(format!("unknown kernel value {k}"))
            }
            InstKind::FieldLoad { field, .. } if f.loaded_member(*field).is_none() => {
                self.errors.push(format!(
                    "field load of kernel value {field}, not a loadable member"
                ))
            }
            InstKind::FieldLoad { ptr, .. } if self.is_stack_address(*ptr) => self
                .errors
                .push(format!("field load through the stack address {ptr}")),
            _ => {}
        }
    }

    fn is_stack_address(&self, v: Value) -> bool {
        let f = self.func;
        matches!(f.values.get(v.index()), Some(ValueDef::Inst(i))
            if matches!(f.inst(*i).kind, InstKind::StackAddr(_)))
    }

    fn check_dominance(&mut self, defined_at: &[Option<(Block, usize)>]) {
        let f = self.func;
        let tree = DominatorTree::compute_uncached(f);
        for &b in &f.layout {
            if !tree.is_reachable(b) {
                continue; // unreachable blocks are removed later; their uses are not checked
            }
            let data = &f.blocks[b.index()];
            let check = |v: Value, pos: usize, errors: &mut Vec<String>| match defined_at
                .get(v.index())
                .copied()
                .flatten()
            {
                None => errors.push(format!("{v} used in {b} but never defined")),
                Some((db, dpos)) => {
                    let ok = if db == b {
                        dpos <= pos
                    } else {
                        tree.dominates(db, b)
                    };
                    if !ok {
                        errors.push(format!(
                            "{v} used in {b} is not dominated by its definition"
                        ));
                    }
                }
            };
            for (pos, &i) in data.insts.iter().enumerate() {
                f.inst(i)
                    .kind
                    .for_each_use(|v| check(v, pos, &mut self.errors));
            }
            if let Some(t) = &data.term {
                t.for_each_use(|v| check(v, data.insts.len(), &mut self.errors));
            }
        }
    }
}
