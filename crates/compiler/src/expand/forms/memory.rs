//! Memory and raw instructions: `load`, `store`, `ctx-load`, `ctx-store`, `stack-addr`,
//! `struct-alloc`, `atomic-add`, `memset`, `memcpy` and `asm`.

use crate::ast::{Expr, ExprKind, Ty};
use crate::expand::body::{Binding, Expander};
use crate::expand::symbol_name;
use crate::ops::BinOp;
use whistler_bpf::Insn;
use whistler_syntax::{Sexp, Span};

impl Expander<'_> {
    pub(super) fn load_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let Some(ty) = self.ty(&args[0]) else {
            return Expr::int(0, form.span);
        };
        let ptr = self.expr(&args[1]);
        let offset = args
            .get(2)
            .map_or(Expr::int(0, form.span), |o| self.expr(o));
        access(ty, ptr, offset, None, form.span)
    }

    pub(super) fn store_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let Some(ty) = self.ty(&args[0]) else {
            return Expr::int(0, form.span);
        };
        let ptr = self.expr(&args[1]);
        let offset = self.expr(&args[2]);
        let value = self.expr(&args[3]);
        access(ty, ptr, offset, Some(value), form.span)
    }

    /// `(ctx-load TYPE OFFSET)`, or `(ctx-store TYPE OFFSET VALUE)` when `store`.
    pub(super) fn ctx_access(&mut self, form: &Sexp, args: &[Sexp], store: bool) -> Expr {
        let Some(ty) = self.ty(&args[0]) else {
            return Expr::int(0, form.span);
        };
        let offset = self.expr(&args[1]);
        let value = store.then(|| self.expr(&args[2]));
        let ctx = Expr::new(ExprKind::Ctx, form.span);
        access(ty, ctx, offset, value, form.span)
    }

    pub(super) fn stack_addr(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        match self.lookup(symbol_name(&args[0]).unwrap_or("")) {
            Some(Binding::Mem { ptr, .. }) => Expr::new(ExprKind::Var(ptr), form.span),
            _ => self.err(
                args[0].span,
                format!(
                    "`stack-addr` needs a variable bound by `let`, found `{}`",
                    args[0]
                ),
            ),
        }
    }

    pub(super) fn struct_alloc(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let Some(size) = self.constant(&args[0]) else {
            return Expr::int(0, form.span);
        };
        let size = size.clamp(1, 1 << 16) as u32;
        Expr::new(ExprKind::StackAlloc { size, zero: true }, form.span)
    }

    pub(super) fn atomic_add(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let ty = match args.get(3) {
            Some(t) => match self.ty(t) {
                Some(ty) => ty,
                None => return Expr::int(0, span),
            },
            None => Ty::U64,
        };
        if ty.size() < 4 {
            return self.err(span, "`atomic-add` works on u32 and u64 only");
        }
        let ptr = self.expr(&args[0]);
        let offset = self.expr(&args[1]);
        let value = self.expr(&args[2]);
        Expr::new(
            ExprKind::AtomicAdd {
                ty,
                ptr: ptr.boxed(),
                offset: offset.boxed(),
                value: value.boxed(),
            },
            span,
        )
    }

    pub(super) fn memset(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let (Some(offset), Some(n)) = (self.constant(&args[1]), self.constant(&args[3])) else {
            return Expr::int(0, span);
        };
        if !(0..=4096).contains(&n) {
            return self.err(
                args[3].span,
                "`memset` length must be a constant between 0 and 4096",
            );
        }
        let ptr = self.expr(&args[0]);
        let byte = self.const_eval(&args[2]).ok();
        let pvar = self.fresh_var();
        let value_var = self.fresh_var();
        let value = match byte {
            Some(b) => Expr::int(i64::from_le_bytes([b as u8; 8]), span),
            None => {
                // Spread the byte over 64 bits at run time.
                let v = self.expr(&args[2]);
                let b = Expr::new(
                    ExprKind::Bin {
                        op: BinOp::And,
                        lhs: v.boxed(),
                        rhs: Expr::int(0xff, span).boxed(),
                    },
                    span,
                );
                self.bin(BinOp::Mul, b, Expr::int(0x0101_0101_0101_0101, span), span)
            }
        };
        let stores = chunks(offset, n)
            .into_iter()
            .map(|(off, size)| {
                Expr::new(
                    ExprKind::Store {
                        ty: Ty::unsigned_of_size(size),
                        ptr: Expr::new(ExprKind::Var(pvar), span).boxed(),
                        offset: Expr::int(off, span).boxed(),
                        value: Expr::new(ExprKind::Var(value_var), span).boxed(),
                    },
                    span,
                )
            })
            .collect();
        let seq = Expr::new(ExprKind::Seq(stores), span);
        let inner = Expr::let_in(value_var, value, seq, span);
        Expr::let_in(pvar, ptr, inner, span)
    }

    pub(super) fn memcpy(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let (Some(doff), Some(soff), Some(n)) = (
            self.constant(&args[1]),
            self.constant(&args[3]),
            self.constant(&args[4]),
        ) else {
            return Expr::int(0, span);
        };
        if !(0..=4096).contains(&n) {
            return self.err(
                args[4].span,
                "`memcpy` length must be a constant between 0 and 4096",
            );
        }
        let dst = self.expr(&args[0]);
        let src = self.expr(&args[2]);
        let (dvar, svar) = (self.fresh_var(), self.fresh_var());
        let copies = chunks2(doff, soff, n)
            .into_iter()
            .map(|(d, s, size)| {
                let ty = Ty::unsigned_of_size(size);
                let v = self.load(ty, Expr::new(ExprKind::Var(svar), span), s, span);
                Expr::new(
                    ExprKind::Store {
                        ty,
                        ptr: Expr::new(ExprKind::Var(dvar), span).boxed(),
                        offset: Expr::int(d, span).boxed(),
                        value: v.boxed(),
                    },
                    span,
                )
            })
            .collect();
        let seq = Expr::new(ExprKind::Seq(copies), span);
        let inner = Expr::let_in(svar, src, seq, span);
        Expr::let_in(dvar, dst, inner, span)
    }

    /// `(asm OPCODE DST SRC OFF IMM)`: one raw instruction from constant fields.
    pub(super) fn asm(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let vals: Vec<i64> = args.iter().filter_map(|a| self.constant(a)).collect();
        let [code, dst, src, off, imm] = vals[..] else {
            return Expr::int(0, span);
        };
        let ok = (0..=255).contains(&code)
            && (0..=10).contains(&dst)
            && (0..=10).contains(&src)
            && (i16::MIN as i64..=i16::MAX as i64).contains(&off)
            && (i32::MIN as i64..=u32::MAX as i64).contains(&imm);
        if !ok {
            return self.err(span, "`asm` fields out of range: opcode 0-255, registers 0-10, 16-bit offset, 32-bit immediate");
        }
        if code as u8 == (whistler_bpf::opcode::BPF_LD | whistler_bpf::opcode::BPF_DW) {
            return self.err(
                span,
                "`asm` cannot emit a 64-bit immediate load (two instructions)",
            );
        }
        Expr::new(
            ExprKind::Asm(Insn::new(
                code as u8, dst as u8, src as u8, off as i16, imm as i32,
            )),
            span,
        )
    }
}

/// A load of `ty` at `ptr + offset`, or a store of `value` there.
fn access(ty: Ty, ptr: Expr, offset: Expr, value: Option<Expr>, span: Span) -> Expr {
    let (ptr, offset) = (ptr.boxed(), offset.boxed());
    let kind = match value {
        None => ExprKind::Load { ty, ptr, offset },
        Some(value) => ExprKind::Store {
            ty,
            ptr,
            offset,
            value: value.boxed(),
        },
    };
    Expr::new(kind, span)
}

/// Splits `n` bytes at `offset` into naturally aligned accesses of 8, 4, 2 or 1 bytes.
fn chunks(offset: i64, n: i64) -> Vec<(i64, u32)> {
    chunks2(offset, offset, n)
        .into_iter()
        .map(|(d, _, s)| (d, s))
        .collect()
}

/// Like [`chunks`] for a copy: every access is aligned at both ends.
fn chunks2(doff: i64, soff: i64, n: i64) -> Vec<(i64, i64, u32)> {
    let mut out = Vec::new();
    let mut done = 0;
    while done < n {
        let size = [8i64, 4, 2, 1]
            .into_iter()
            .find(|&s| n - done >= s && (doff + done) % s == 0 && (soff + done) % s == 0)
            .unwrap_or(1);
        out.push((doff + done, soff + done, size as u32));
        done += size;
    }
    out
}
