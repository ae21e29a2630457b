//! Lowering: the expanded AST of one program to an SSA [`Function`].
//!
//! Conditions lower to branches directly (`(if (> a b) ...)` is one conditional jump); values
//! of `if`, `and`, `or` and comparisons meet at join blocks through synthetic variables, so the
//! SSA builder creates the block parameters. Small `dotimes` loops are unrolled; larger ones
//! become a counted loop the verifier can bound.

mod ssa;

use crate::ast::{callback_record, Callback, Expr, ExprKind, Ty, VarId};
use crate::ir::{
    BinOp, Block, Cond, Function, InstKind, Operand, StackSlot, Terminator, UnOp, Value,
};
use ssa::SsaBuilder;
use whistler_syntax::Span;

/// `dotimes` loops with at most this many iterations are unrolled.
pub const UNROLL_LIMIT: u32 = 8;

/// Lowers one program body. `var_count` is the number of source variables; `maps` names the
/// maps `MapRef` indexes refer to.
pub fn lower(name: &str, body: &Expr, var_count: u32, maps: Vec<String>) -> Function {
    let mut l = Lowerer::start(name, body.span, var_count, maps);
    l.ctx = l.emit(InstKind::Arg);
    let v = l.expr(body);
    l.finish(v)
}

/// Lowers a callback of a program (see [`callback_record`]): its one argument is the record
/// the caller passed, from which it reads its parameters and the program's context.
pub fn lower_callback(
    name: &str,
    callback: &Callback,
    var_count: u32,
    maps: Vec<String>,
) -> Function {
    let mut l = Lowerer::start(name, callback.body.span, var_count, maps);
    let record = l.emit(InstKind::Arg);
    let field = |l: &mut Lowerer, offset| {
        l.emit(InstKind::Load {
            size: 8,
            ptr: record,
            offset,
        })
    };
    l.ctx = field(&mut l, callback_record::PROGRAM_CTX);
    for (var, offset) in [
        (callback.key, callback_record::KEY),
        (callback.value, callback_record::VALUE),
        (callback.context, callback_record::CONTEXT),
    ] {
        let v = field(&mut l, offset);
        l.def(var, v);
    }
    let v = l.expr(&callback.body);
    l.finish(v)
}

impl Lowerer {
    /// A lowerer positioned in the sealed entry block of a fresh function.
    fn start(name: &str, span: Span, var_count: u32, maps: Vec<String>) -> Lowerer {
        let mut func = Function::new(name);
        func.maps = maps;
        let mut l = Lowerer {
            func,
            ssa: SsaBuilder::default(),
            cur: Block(0),
            ctx: Value(0),
            next_var: var_count,
            temps: Vec::new(),
            temps_in_use: 0,
            site_slots: crate::ir::FastHashMap::default(),
            span,
        };
        let entry = l.new_block();
        l.func.layout.push(entry);
        l.ssa.seal_block(&mut l.func, entry);
        l.cur = entry;
        l
    }

    /// Returns `v` and hands over the function, its blocks in reverse postorder.
    fn finish(mut self, v: Value) -> Function {
        self.terminate(Terminator::Return(Operand::Value(v)));
        let mut func = self.func;
        func.layout = func.reverse_postorder();
        func
    }
}

struct Lowerer {
    func: Function,
    ssa: SsaBuilder,
    cur: Block,
    ctx: Value,
    next_var: u32,
    /// Stack temporaries for helper arguments, reused from one call to the next.
    temps: Vec<StackSlot>,
    temps_in_use: usize,
    /// Stack slots by allocation site (the address of its `StackAlloc` node).
    site_slots: crate::ir::FastHashMap<usize, StackSlot>,
    span: Span,
}

impl Lowerer {
    fn new_block(&mut self) -> Block {
        let b = self.func.create_block();
        self.ssa.declare_block(b);
        b
    }

    fn fresh_var(&mut self) -> u32 {
        self.next_var += 1;
        self.next_var - 1
    }

    fn emit(&mut self, kind: InstKind) -> Value {
        self.func
            .append_inst(self.cur, kind, self.span)
            .unwrap_or(Value(u32::MAX))
    }

    fn emit_effect(&mut self, kind: InstKind) {
        self.func.append_inst(self.cur, kind, self.span);
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.emit(InstKind::Iconst(v))
    }

    /// Ends the current block. Lowering continues in a fresh block without predecessors
    /// (unreachable code is removed by `opt::simplify_cfg`).
    fn terminate(&mut self, term: Terminator) {
        for s in term.successors() {
            self.ssa.add_pred(s, self.cur);
        }
        let b = &mut self.func.blocks[self.cur.index()];
        b.term = Some(term);
        b.term_span = self.span;
    }

    fn jump(&mut self, dest: Block) {
        self.terminate(Terminator::Jump {
            dest,
            args: Default::default(),
        });
    }

    fn switch_to(&mut self, b: Block) {
        self.cur = b;
    }

    fn dead_block(&mut self) {
        let b = self.new_block();
        self.ssa.seal_block(&mut self.func, b);
        self.cur = b;
    }

    fn def(&mut self, var: VarId, v: Value) {
        self.ssa.def_var(var, self.cur, v);
    }

    fn use_var(&mut self, var: VarId) -> Value {
        self.ssa.use_var(&mut self.func, var, self.cur)
    }

    fn expr(&mut self, e: &Expr) -> Value {
        let saved = std::mem::replace(&mut self.span, e.span);
        let v = whistler_lisp::stack::maybe_grow(64 * 1024, 4 * 1024 * 1024, || self.expr_kind(e));
        self.span = saved;
        v
    }

    fn expr_kind(&mut self, e: &Expr) -> Value {
        match &e.kind {
            ExprKind::Int(c) => self.iconst(*c),
            ExprKind::Var(v) => self.use_var(*v),
            ExprKind::Ctx => self.ctx,
            ExprKind::Let {
                var,
                ty,
                init,
                body,
            } => {
                let v = self.expr(init);
                let v = self.convert(*ty, v);
                self.def(*var, v);
                self.expr(body)
            }
            ExprKind::Set { var, ty, value } => {
                let v = self.expr(value);
                let v = self.convert(*ty, v);
                self.def(*var, v);
                v
            }
            ExprKind::Seq(items) => {
                let mut last = None;
                for i in items {
                    last = Some(self.expr(i));
                }
                last.unwrap_or_else(|| self.iconst(0))
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => self.if_value(cond, then, otherwise),
            ExprKind::And(items) => self.and_value(items),
            ExprKind::Or(items) => self.or_value(items),
            ExprKind::Not(_) | ExprKind::Cmp { .. } => self.bool_value(e),
            ExprKind::Bin { op, lhs, rhs } => {
                let a = self.expr(lhs);
                let b = self.expr(rhs);
                self.emit(InstKind::Binary {
                    op: *op,
                    lhs: a,
                    rhs: Operand::Value(b),
                })
            }
            ExprKind::Unary { op, arg } => {
                let a = self.expr(arg);
                self.emit(InstKind::Unary { op: *op, arg: a })
            }
            ExprKind::Convert { ty, arg } => {
                let a = self.expr(arg);
                self.convert(Some(*ty), a)
            }
            ExprKind::Load { ty, ptr, offset } => {
                let (p, off) = self.address(ptr, offset);
                let v = self.emit(InstKind::Load {
                    size: ty.size() as u8,
                    ptr: p,
                    offset: off,
                });
                if ty.signed() {
                    self.sign_extend(*ty, v)
                } else {
                    v
                }
            }
            ExprKind::Store {
                ty,
                ptr,
                offset,
                value,
            } => {
                let (p, off) = self.address(ptr, offset);
                let v = self.expr(value);
                self.emit_effect(InstKind::Store {
                    size: ty.size() as u8,
                    ptr: p,
                    offset: off,
                    value: Operand::Value(v),
                });
                self.iconst(0)
            }
            ExprKind::AtomicAdd {
                ty,
                ptr,
                offset,
                value,
            } => {
                let (p, off) = self.address(ptr, offset);
                let v = self.expr(value);
                self.emit_effect(InstKind::AtomicAdd {
                    size: ty.size() as u8,
                    ptr: p,
                    offset: off,
                    value: v,
                });
                self.iconst(0)
            }
            ExprKind::Call { helper, args } => self.call(*helper, args),
            ExprKind::MapRef(m) => self.emit(InstKind::MapFd(*m)),
            ExprKind::KernelValue(value) => {
                let index = self.kernel_value(value);
                self.emit(InstKind::KernelValue(index))
            }
            ExprKind::FieldLoad { ptr, field } => {
                let p = self.expr(ptr);
                let offset = whistler_object::KernelValue::field_offset((**field).clone());
                let field = self.kernel_value(&offset);
                self.emit(InstKind::FieldLoad { ptr: p, field })
            }
            ExprKind::StackAlloc { size, zero } => self.stack_alloc(e, *size, *zero),
            ExprKind::Spill { size, value } => self.spill(*size, value),
            ExprKind::Return(v) => {
                let v = self.expr(v);
                self.terminate(Terminator::Return(Operand::Value(v)));
                self.dead_block();
                self.iconst(0)
            }
            ExprKind::ForEachMapElem {
                map,
                callback,
                context,
            } => self.for_each_map_elem(e, *map, *callback, context),
            ExprKind::Dotimes { var, count, body } => self.dotimes(*var, *count, body),
            ExprKind::Asm(insn) => self.emit(InstKind::Asm(*insn)),
        }
    }

    /// The index of `value` in the function's kernel values, added when new.
    fn kernel_value(&mut self, value: &whistler_object::KernelValue) -> u32 {
        let values = &mut self.func.kernel_values;
        let index = values.iter().position(|v| v == value).unwrap_or_else(|| {
            values.push(value.clone());
            values.len() - 1
        });
        index as u32
    }

    /// Splits a pointer expression plus offset into a base value and a 16-bit constant offset.
    fn address(&mut self, ptr: &Expr, offset: &Expr) -> (Value, i16) {
        let p = self.expr(ptr);
        match offset.kind {
            ExprKind::Int(c) if i16::try_from(c).is_ok() => (p, c as i16),
            _ => {
                let o = self.expr(offset);
                let sum = self.emit(InstKind::Binary {
                    op: BinOp::Add,
                    lhs: p,
                    rhs: Operand::Value(o),
                });
                (sum, 0)
            }
        }
    }

    fn convert(&mut self, ty: Option<Ty>, v: Value) -> Value {
        let Some(ty) = ty else { return v };
        match ty {
            Ty::U64 | Ty::I64 => v,
            Ty::U32 => self.emit(InstKind::Unary {
                op: UnOp::Zext32,
                arg: v,
            }),
            Ty::U16 | Ty::U8 => {
                let mask = if ty == Ty::U16 { 0xffff } else { 0xff };
                self.emit(InstKind::Binary {
                    op: BinOp::And,
                    lhs: v,
                    rhs: Operand::Imm(mask),
                })
            }
            Ty::I8 | Ty::I16 | Ty::I32 => self.sign_extend(ty, v),
        }
    }

    fn sign_extend(&mut self, ty: Ty, v: Value) -> Value {
        let shift = 64 - 8 * ty.size() as i32;
        let up = self.emit(InstKind::Binary {
            op: BinOp::Lsh,
            lhs: v,
            rhs: Operand::Imm(shift),
        });
        self.emit(InstKind::Binary {
            op: BinOp::Arsh,
            lhs: up,
            rhs: Operand::Imm(shift),
        })
    }

    fn call(&mut self, helper: u32, args: &[Expr]) -> Value {
        let base = self.temps_in_use;
        let values = args.iter().map(|a| self.expr(a)).collect();
        self.temps_in_use = base;
        self.emit(InstKind::Call {
            helper,
            args: values,
        })
    }

    /// `for_each_map_elem(map, &callback, &record, 0)`, the record holding the callback's
    /// context and the program's (see [`callback_record`]).
    fn for_each_map_elem(&mut self, site: &Expr, map: u32, callback: u32, context: &Expr) -> Value {
        let context = self.expr(context);
        let record = self.stack_alloc(site, callback_record::SIZE, false);
        for (offset, value) in [
            (callback_record::CONTEXT, context),
            (callback_record::PROGRAM_CTX, self.ctx),
        ] {
            self.emit_effect(InstKind::Store {
                size: 8,
                ptr: record,
                offset,
                value: Operand::Value(value),
            });
        }
        let args = [
            self.emit(InstKind::MapFd(map)),
            self.emit(InstKind::FuncAddr(callback)),
            record,
            self.iconst(0),
        ]
        .into();
        self.emit(InstKind::Call {
            helper: whistler_bpf::helpers::ids::FOR_EACH_MAP_ELEM,
            args,
        })
    }

    /// A stack region for an allocation site. The same site lowered again (an unrolled loop
    /// body) reuses its slot: each iteration's value is dead by the next.
    fn stack_alloc(&mut self, site: &Expr, size: u32, zero: bool) -> Value {
        let size = size.next_multiple_of(8);
        let key = site as *const Expr as usize;
        let slot = match self.site_slots.get(&key) {
            Some(&s) => s,
            None => {
                let s = self.func.create_slot(size, 8);
                self.site_slots.insert(key, s);
                s
            }
        };
        let addr = self.emit(InstKind::StackAddr(slot));
        if zero {
            for off in (0..size).step_by(8) {
                self.emit_effect(InstKind::Store {
                    size: 8,
                    ptr: addr,
                    offset: off as i16,
                    value: Operand::Imm(0),
                });
            }
        }
        addr
    }

    fn spill(&mut self, size: u32, value: &Expr) -> Value {
        let v = self.expr(value);
        if self.temps.len() <= self.temps_in_use {
            let slot = self.func.create_slot(8, 8);
            self.temps.push(slot);
        }
        let slot = self.temps[self.temps_in_use];
        self.temps_in_use += 1;
        let addr = self.emit(InstKind::StackAddr(slot));
        let width = match size {
            1 | 2 | 4 | 8 => size,
            3 => 4,
            _ => 8,
        };
        if width != size {
            self.emit_effect(InstKind::Store {
                size: 8,
                ptr: addr,
                offset: 0,
                value: Operand::Imm(0),
            });
        }
        self.emit_effect(InstKind::Store {
            size: width as u8,
            ptr: addr,
            offset: 0,
            value: Operand::Value(v),
        });
        addr
    }

    // ---- control flow ----

    /// A block that only `jump`s reach (it may get parameters).
    fn join_block(&mut self) -> Block {
        self.new_block()
    }

    /// Branches on `cond` to the join-like blocks `t` and `f`, through fresh single-predecessor
    /// blocks so that `t` and `f` are only reached by jumps.
    fn cond(&mut self, e: &Expr, t: Block, f: Block) {
        whistler_lisp::stack::maybe_grow(64 * 1024, 4 * 1024 * 1024, || self.cond_inner(e, t, f))
    }

    fn cond_inner(&mut self, e: &Expr, t: Block, f: Block) {
        let saved = std::mem::replace(&mut self.span, e.span);
        match &e.kind {
            ExprKind::Int(c) => self.jump(if *c != 0 { t } else { f }),
            ExprKind::Not(x) => self.cond(x, f, t),
            ExprKind::And(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i + 1 == items.len() {
                        self.cond(item, t, f);
                    } else {
                        let next = self.join_block();
                        self.cond(item, next, f);
                        self.ssa.seal_block(&mut self.func, next);
                        self.switch_to(next);
                    }
                }
            }
            ExprKind::Or(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i + 1 == items.len() {
                        self.cond(item, t, f);
                    } else {
                        let next = self.join_block();
                        self.cond(item, t, next);
                        self.ssa.seal_block(&mut self.func, next);
                        self.switch_to(next);
                    }
                }
            }
            ExprKind::Cmp { cond, lhs, rhs } => {
                let a = self.expr(lhs);
                let b = self.expr(rhs);
                self.branch(*cond, a, Operand::Value(b), t, f);
            }
            _ => {
                let v = self.expr(e);
                self.branch(Cond::Ne, v, Operand::Imm(0), t, f);
            }
        }
        self.span = saved;
    }

    fn branch(&mut self, cond: Cond, lhs: Value, rhs: Operand, t: Block, f: Block) {
        let (bt, bf) = (self.new_block(), self.new_block());
        self.terminate(Terminator::Branch {
            cond,
            lhs,
            rhs,
            then_dest: bt,
            else_dest: bf,
        });
        for (b, dest) in [(bt, t), (bf, f)] {
            self.ssa.seal_block(&mut self.func, b);
            self.switch_to(b);
            self.jump(dest);
        }
    }

    fn if_value(&mut self, cond: &Expr, then: &Expr, otherwise: &Expr) -> Value {
        let (t, f, join) = (self.join_block(), self.join_block(), self.join_block());
        let result = self.fresh_var();
        self.cond(cond, t, f);
        for (b, e) in [(t, then), (f, otherwise)] {
            self.ssa.seal_block(&mut self.func, b);
            self.switch_to(b);
            let v = self.expr(e);
            self.def(result, v);
            self.jump(join);
        }
        self.ssa.seal_block(&mut self.func, join);
        self.switch_to(join);
        self.use_var(result)
    }

    fn bool_value(&mut self, e: &Expr) -> Value {
        let (t, f, join) = (self.join_block(), self.join_block(), self.join_block());
        let result = self.fresh_var();
        self.cond(e, t, f);
        for (b, c) in [(t, 1), (f, 0)] {
            self.ssa.seal_block(&mut self.func, b);
            self.switch_to(b);
            let v = self.iconst(c);
            self.def(result, v);
            self.jump(join);
        }
        self.ssa.seal_block(&mut self.func, join);
        self.switch_to(join);
        self.use_var(result)
    }

    /// `and` as a value: 0 at the first zero operand, else the last operand's value.
    fn and_value(&mut self, items: &[Expr]) -> Value {
        self.short_circuit(items, true)
    }

    /// `or` as a value: the first non-zero operand's value, else 0.
    fn or_value(&mut self, items: &[Expr]) -> Value {
        self.short_circuit(items, false)
    }

    fn short_circuit(&mut self, items: &[Expr], is_and: bool) -> Value {
        let join = self.join_block();
        let result = self.fresh_var();
        for (i, item) in items.iter().enumerate() {
            let v = self.expr(item);
            self.def(result, v);
            if i + 1 == items.len() {
                self.jump(join);
                break;
            }
            let (go_on, done) = (self.new_block(), self.new_block());
            let (nonzero, zero) = if is_and { (go_on, done) } else { (done, go_on) };
            self.terminate(Terminator::Branch {
                cond: Cond::Ne,
                lhs: v,
                rhs: Operand::Imm(0),
                then_dest: nonzero,
                else_dest: zero,
            });
            self.ssa.seal_block(&mut self.func, done);
            self.switch_to(done);
            self.jump(join);
            self.ssa.seal_block(&mut self.func, go_on);
            self.switch_to(go_on);
        }
        self.ssa.seal_block(&mut self.func, join);
        self.switch_to(join);
        self.use_var(result)
    }

    fn dotimes(&mut self, var: VarId, count: u32, body: &Expr) -> Value {
        if count <= UNROLL_LIMIT {
            for k in 0..count {
                let v = self.iconst(k as i64);
                self.def(var, v);
                self.expr(body);
            }
            return self.iconst(0);
        }
        let counter = self.fresh_var();
        let zero = self.iconst(0);
        self.def(counter, zero);
        let header = self.join_block();
        self.jump(header);
        self.switch_to(header);
        let i = self.use_var(counter);
        let (body_blk, exit) = (self.new_block(), self.new_block());
        self.terminate(Terminator::Branch {
            cond: Cond::Lt,
            lhs: i,
            rhs: Operand::Imm(count as i32),
            then_dest: body_blk,
            else_dest: exit,
        });
        self.ssa.seal_block(&mut self.func, body_blk);
        self.ssa.seal_block(&mut self.func, exit);
        self.switch_to(body_blk);
        self.def(var, i);
        self.expr(body);
        let i_now = self.use_var(counter);
        let next = self.emit(InstKind::Binary {
            op: BinOp::Add,
            lhs: i_now,
            rhs: Operand::Imm(1),
        });
        self.def(counter, next);
        self.jump(header);
        self.ssa.seal_block(&mut self.func, header);
        self.switch_to(exit);
        self.iconst(0)
    }
}
