//! SSA construction with block parameters (Braun et al., "Simple and Efficient Construction of
//! Static Single Assignment Form"): `def_var`, `use_var`, `seal_block`. Lookups are iterative so
//! long programs cannot overflow the stack. Trivial parameters are left for `opt::copy_propagation`.
//!
//! Discipline required of the caller: a block that may receive parameters (a join point or loop
//! header) is only ever reached by `jump`s; branch targets are fresh blocks with one predecessor,
//! sealed as soon as they are created.

use crate::ir::{Block, FastHashMap, Function, InstKind, Terminator, Value};
use whistler_syntax::Span;

/// A variable of the source program (or a synthetic one the lowering creates).
pub type Var = u32;

const PLACEHOLDER: Value = Value(u32::MAX);

#[derive(Default)]
pub struct SsaBuilder {
    defs: Vec<FastHashMap<Var, Value>>,
    sealed: Vec<bool>,
    incomplete: Vec<Vec<(Var, Value)>>,
    preds: Vec<Vec<Block>>,
}

impl SsaBuilder {
    /// Registers a block created in `func`.
    pub fn declare_block(&mut self, b: Block) {
        let n = b.index() + 1;
        if self.defs.len() < n {
            self.defs.resize_with(n, FastHashMap::default);
            self.sealed.resize(n, false);
            self.incomplete.resize_with(n, Vec::new);
            self.preds.resize_with(n, Vec::new);
        }
    }

    pub fn add_pred(&mut self, block: Block, pred: Block) {
        self.preds[block.index()].push(pred);
    }

    pub fn def_var(&mut self, var: Var, block: Block, value: Value) {
        self.defs[block.index()].insert(var, value);
    }

    pub fn use_var(&mut self, func: &mut Function, var: Var, block: Block) -> Value {
        let mut pending = Vec::new();
        let v = self.lookup(func, var, block, &mut pending);
        self.resolve(func, pending);
        v
    }

    /// Declares that every predecessor of `block` is known.
    pub fn seal_block(&mut self, func: &mut Function, block: Block) {
        if std::mem::replace(&mut self.sealed[block.index()], true) {
            return;
        }
        let pending: Vec<(Var, Block, Value)> = std::mem::take(&mut self.incomplete[block.index()])
            .into_iter()
            .map(|(var, param)| (var, block, param))
            .collect();
        self.resolve(func, pending);
    }

    /// Finds the value of `var` at the end of `block`, creating a parameter where predecessors
    /// must be consulted (recorded in `pending`).
    fn lookup(
        &mut self,
        func: &mut Function,
        var: Var,
        block: Block,
        pending: &mut Vec<(Var, Block, Value)>,
    ) -> Value {
        let mut walked = Vec::new();
        let mut b = block;
        let value = loop {
            if let Some(&v) = self.defs[b.index()].get(&var) {
                break v;
            }
            if !self.sealed[b.index()] {
                let p = func.append_param(b);
                self.incomplete[b.index()].push((var, p));
                break p;
            }
            match self.preds[b.index()][..] {
                [single] => {
                    walked.push(b);
                    b = single;
                }
                [] => {
                    // Not defined on any path (unreachable code): any value will do.
                    break func
                        .append_inst(b, InstKind::Iconst(0), Span::default())
                        .unwrap_or(PLACEHOLDER);
                }
                _ => {
                    let p = func.append_param(b);
                    pending.push((var, b, p));
                    break p;
                }
            }
        };
        self.defs[b.index()].insert(var, value);
        for w in walked {
            self.defs[w.index()].insert(var, value);
        }
        value
    }

    /// Supplies the jump arguments of every parameter in `pending`.
    fn resolve(&mut self, func: &mut Function, mut pending: Vec<(Var, Block, Value)>) {
        while let Some((var, block, param)) = pending.pop() {
            let index = func.blocks[block.index()]
                .params
                .iter()
                .position(|p| *p == param)
                .unwrap_or(0);
            for pred in self.preds[block.index()].clone() {
                let arg = self.lookup(func, var, pred, &mut pending);
                set_jump_arg(func, pred, index, arg);
            }
        }
    }
}

fn set_jump_arg(func: &mut Function, pred: Block, index: usize, arg: Value) {
    if let Some(Terminator::Jump { args, .. }) = &mut func.blocks[pred.index()].term {
        if args.len() <= index {
            args.resize(index + 1, PLACEHOLDER);
        }
        args[index] = arg;
    }
}
