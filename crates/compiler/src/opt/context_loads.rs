//! Context loads moved before helper calls: when the context pointer (`arg`) is only ever the
//! pointer of loads (plain or CO-RE relocated `FieldLoad`s of a tracepoint record), a load of a context field that runs after a helper call moves to the entry
//! block, right after `arg`. The context pointer then dies before the first call, so it no
//! longer needs a callee-saved register (and the `r6 = r1` that fills it); the field's value
//! takes that register instead. Every load of a hoisted field, before the calls too, becomes
//! that one load (the field cannot change, see below).
//!
//! Why the value cannot change: no helper receives the context pointer (every use of it is a
//! load), and a helper reaches the context only through its arguments; the program itself
//! never stores to the context. Loading a context field is valid anywhere in a program (the
//! verifier checks the offset and size, not the path), so running the load earlier, and on
//! paths that did not run it, is safe.
//!
//! Does nothing when the context pointer is passed to a helper, stored, or used in arithmetic
//! (helpers such as `xdp_adjust_head` or `skb_store_bytes` change what it points to), when the
//! function has `asm` instructions, or when more than [`MAX_HOISTED`] different fields are read
//! after calls (each hoisted field occupies a callee-saved register across the calls).

use crate::ir::{Block, Function, Inst, InstKind, Value};

/// What a load reads from the context: a field at a fixed size and offset, or the relocated
/// kernel struct member `Function::kernel_values[index]` names.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ContextField {
    Fixed { size: u8, offset: i16 },
    Member(u32),
}

/// The context field `kind` reads when it is a load through `ctx`.
fn read_of(kind: &InstKind, ctx: Value) -> Option<ContextField> {
    match *kind {
        InstKind::Load { size, ptr, offset } if ptr == ctx => {
            Some(ContextField::Fixed { size, offset })
        }
        InstKind::FieldLoad { ptr, field } if ptr == ctx => Some(ContextField::Member(field)),
        _ => None,
    }
}

/// At most this many different fields (offset and size, or member) are hoisted: one field costs the
/// callee-saved register the context pointer held, more would add register pressure.
pub const MAX_HOISTED: usize = 1;

pub fn run(func: &mut Function) {
    let entry = func.entry();
    let Some((arg_index, ctx)) = context_pointer(func, entry) else {
        return;
    };
    if !only_loaded(func, ctx) {
        return;
    }
    let late = loads_after_calls(func, ctx);
    let mut fields: Vec<ContextField> = late.iter().map(|&(_, _, field)| field).collect();
    fields.sort_unstable();
    fields.dedup();
    if late.is_empty() || fields.len() > MAX_HOISTED {
        return;
    }
    // Every load of a hoisted field, before calls too, becomes the one in the entry block.
    let mut subst: Vec<Option<Value>> = vec![None; func.values.len()];
    let mut hoisted: Vec<(ContextField, Value)> = Vec::new();
    let mut moved: Vec<Inst> = Vec::new();
    for (b, i, field) in context_loads(func, ctx) {
        if !fields.contains(&field) {
            continue;
        }
        func.blocks[b.index()].insts.retain(|&mut x| x != i);
        let result = func.insts[i.index()].result.expect("a load has a result");
        match hoisted.iter().find(|(f, _)| *f == field) {
            Some(&(_, first)) => subst[result.index()] = Some(first),
            None => {
                hoisted.push((field, result));
                moved.push(i);
            }
        }
    }
    let arg_index = func.blocks[entry.index()]
        .insts
        .iter()
        .position(|&i| matches!(func.inst(i).kind, InstKind::Arg))
        .unwrap_or(arg_index);
    let insts = &mut func.blocks[entry.index()].insts;
    insts.insert_many(arg_index + 1, moved);
    func.substitute(&subst);
}

/// Every load of `ctx`: block, instruction and the field it reads.
fn context_loads(func: &Function, ctx: Value) -> Vec<(Block, Inst, ContextField)> {
    let mut loads = Vec::new();
    for &b in &func.layout {
        for &i in &func.blocks[b.index()].insts {
            if let Some(field) = read_of(&func.inst(i).kind, ctx) {
                loads.push((b, i, field));
            }
        }
    }
    loads
}

/// The `arg` instruction's position in the entry block and its value.
fn context_pointer(func: &Function, entry: Block) -> Option<(usize, Value)> {
    let insts = &func.blocks[entry.index()].insts;
    insts.iter().enumerate().find_map(|(k, &i)| {
        let data = func.inst(i);
        matches!(data.kind, InstKind::Arg).then_some((k, data.result?))
    })
}

/// True when every use of `ctx` is the pointer of a load and no instruction is `asm`.
fn only_loaded(func: &Function, ctx: Value) -> bool {
    let mut ok = true;
    for &b in &func.layout {
        let data = &func.blocks[b.index()];
        for &i in &data.insts {
            let kind = &func.inst(i).kind;
            match kind {
                InstKind::Asm(_) => return false,
                InstKind::Load { .. } | InstKind::FieldLoad { .. } => {}
                _ => kind.for_each_use(|v| ok &= v != ctx),
            }
        }
        if let Some(t) = &data.term {
            t.for_each_use(|v| ok &= v != ctx);
        }
    }
    ok
}

/// Loads of `ctx` that a helper call may run before: block, instruction and the field.
fn loads_after_calls(func: &Function, ctx: Value) -> Vec<(Block, Inst, ContextField)> {
    let called_before = calls_on_the_way_in(func);
    let mut late = Vec::new();
    for &b in &func.layout {
        let mut called = called_before[b.index()];
        for &i in &func.blocks[b.index()].insts {
            let kind = &func.inst(i).kind;
            match read_of(kind, ctx) {
                Some(field) if called => late.push((b, i, field)),
                _ if kind.is_call() => called = true,
                _ => {}
            }
        }
    }
    late
}

/// For every block: true when some path from the entry to it passes a helper call.
fn calls_on_the_way_in(func: &Function) -> Vec<bool> {
    let has_call: Vec<bool> = (0..func.blocks.len())
        .map(|b| {
            let insts = &func.blocks[b].insts;
            insts.iter().any(|&i| func.inst(i).kind.is_call())
        })
        .collect();
    let mut called_in = vec![false; func.blocks.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for &b in &func.layout {
            let out = called_in[b.index()] || has_call[b.index()];
            if !out {
                continue;
            }
            for s in func.term(b).successors() {
                if !called_in[s.index()] {
                    called_in[s.index()] = true;
                    changed = true;
                }
            }
        }
    }
    called_in
}
