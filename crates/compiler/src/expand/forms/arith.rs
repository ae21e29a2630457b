//! Arithmetic, comparisons and conversions: `+ - * / mod rem`, `logand logior logxor lognot`,
//! shifts, `= /= < <= > >=` and their signed `s` twins, `cast`, byte-order swaps, `sizeof`.

use crate::ast::{Expr, ExprKind};
use crate::expand::body::{cmp, Expander};
use crate::expand::consts;
use crate::ops::{BinOp, Cond, UnOp};
use whistler_syntax::{Sexp, Span};

impl Expander<'_> {
    /// An associative operation over any number of arguments; `identity` when there is none.
    pub(super) fn fold_args(
        &mut self,
        form: &Sexp,
        args: &[Sexp],
        op: BinOp,
        identity: i64,
    ) -> Expr {
        let items: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
        self.fold(op, items, identity, form.span)
    }

    pub(super) fn compare(&mut self, form: &Sexp, args: &[Sexp], cond: Cond) -> Expr {
        let (a, b) = (self.expr(&args[0]), self.expr(&args[1]));
        cmp(cond, a, b, form.span)
    }

    /// `(- x)` negates; `(- x y...)` subtracts from left to right.
    pub(super) fn minus(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let mut items: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
        let first = items.remove(0);
        if items.is_empty() {
            return Expr::new(
                ExprKind::Unary {
                    op: UnOp::Neg,
                    arg: first.boxed(),
                },
                span,
            );
        }
        items
            .into_iter()
            .fold(first, |acc, x| self.bin(BinOp::Sub, acc, x, span))
    }

    /// Division, remainder and shifts: a constant right operand must make sense.
    pub(super) fn binary(&mut self, form: &Sexp, args: &[Sexp], op: BinOp) -> Expr {
        let rhs_const = self.const_eval(&args[1]).ok();
        if matches!(op, BinOp::Div | BinOp::Mod) && rhs_const == Some(0) {
            return self.err(args[1].span, "division by the constant zero");
        }
        if matches!(op, BinOp::Lsh | BinOp::Rsh | BinOp::Arsh)
            && rhs_const.is_some_and(|c| !(0..64).contains(&c))
        {
            return self.err(args[1].span, "shift amounts must be between 0 and 63");
        }
        let (a, b) = (self.expr(&args[0]), self.expr(&args[1]));
        self.bin(op, a, b, form.span)
    }

    pub(super) fn ash(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let Some(n) = self.constant(&args[1]) else {
            return Expr::int(0, span);
        };
        if !(-63..=63).contains(&n) {
            return self.err(args[1].span, "shift amounts must be between -63 and 63");
        }
        let a = self.expr(&args[0]);
        let (op, n) = if n >= 0 {
            (BinOp::Lsh, n)
        } else {
            (BinOp::Arsh, -n)
        };
        self.bin(op, a, Expr::int(n, span), span)
    }

    /// `op` applied to the one argument and a constant (`lognot`, `1+`, `1-`).
    pub(super) fn with_constant(&mut self, form: &Sexp, args: &[Sexp], op: BinOp, c: i64) -> Expr {
        let a = self.expr(&args[0]);
        self.bin(op, a, Expr::int(c, form.span), form.span)
    }

    pub(super) fn unary(&mut self, form: &Sexp, args: &[Sexp], op: UnOp) -> Expr {
        let a = self.expr(&args[0]);
        Expr::new(ExprKind::Unary { op, arg: a.boxed() }, form.span)
    }

    pub(super) fn cast(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let Some(ty) = self.ty(&args[0]) else {
            return Expr::int(0, form.span);
        };
        let a = self.expr(&args[1]);
        Expr::new(ExprKind::Convert { ty, arg: a.boxed() }, form.span)
    }

    pub(super) fn sizeof(&mut self, form: &Sexp, _: &[Sexp]) -> Expr {
        match consts::eval(self.env, self.host, form) {
            Ok(v) => Expr::int(v, form.span),
            Err(d) => self.report(d),
        }
    }

    /// Folds an associative operation as a balanced tree (long argument lists stay shallow).
    fn fold(&self, op: BinOp, mut items: Vec<Expr>, identity: i64, span: Span) -> Expr {
        match items.len() {
            0 => Expr::int(identity, span),
            1 => items.pop().unwrap_or_else(|| Expr::int(identity, span)),
            n => {
                let right = items.split_off(n / 2);
                let l = self.fold(op, items, identity, span);
                let r = self.fold(op, right, identity, span);
                self.bin(op, l, r, span)
            }
        }
    }
}
