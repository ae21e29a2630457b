//! Control flow: `if`, `when`, `unless`, `cond`, `case`, `and`, `or`, `not`, `return` and
//! `dotimes` (`progn` is [`Expander::body`]).

use crate::ast::{Expr, ExprKind, Ty};
use crate::diag::error;
use crate::expand::body::{cmp, if_expr, Binding, Expander};
use crate::expand::symbol_name;
use crate::ops::Cond;
use whistler_syntax::{Sexp, Span};

impl Expander<'_> {
    pub(super) fn if_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let cond = self.expr(&args[0]);
        let then = self.expr(&args[1]);
        let otherwise = args
            .get(2)
            .map_or(Expr::int(0, form.span), |e| self.expr(e));
        if_expr(cond, then, otherwise, form.span)
    }

    /// `when` (`if_true`) or `unless`.
    pub(super) fn when_form(&mut self, form: &Sexp, args: &[Sexp], if_true: bool) -> Expr {
        let span = form.span;
        let cond = self.expr(&args[0]);
        let body = self.body(&args[1..], span);
        if if_true {
            if_expr(cond, body, Expr::int(0, span), span)
        } else {
            if_expr(cond, Expr::int(0, span), body, span)
        }
    }

    /// `and` (`all`) or `or`.
    pub(super) fn and_or(&mut self, form: &Sexp, args: &[Sexp], all: bool) -> Expr {
        let span = form.span;
        let mut items: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
        match (all, items.len()) {
            (true, 0) => Expr::int(1, span),
            (false, 0) => Expr::int(0, span),
            (_, 1) => items.pop().unwrap_or(Expr::int(0, span)),
            (true, _) => Expr::new(ExprKind::And(items), span),
            (false, _) => Expr::new(ExprKind::Or(items), span),
        }
    }

    pub(super) fn not_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        Expr::new(ExprKind::Not(self.expr(&args[0]).boxed()), form.span)
    }

    pub(super) fn return_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let v = args
            .first()
            .map_or(Expr::int(0, form.span), |a| self.expr(a));
        Expr::new(ExprKind::Return(v.boxed()), form.span)
    }

    pub(super) fn cond_form(&mut self, clauses: &[Sexp], span: Span) -> Expr {
        let Some((first, rest)) = clauses.split_first() else {
            return Expr::int(0, span);
        };
        let Some(parts) = first.as_list().filter(|p| !p.is_empty()) else {
            return self.err(first.span, "expected a clause `(TEST BODY...)`");
        };
        let is_default = parts[0].is_symbol_named("t") || parts[0].is_symbol_named("otherwise");
        if is_default {
            return self.body(&parts[1..], first.span);
        }
        let test = self.expr(&parts[0]);
        let otherwise = self.cond_form(rest, span);
        if parts.len() == 1 {
            return Expr::new(ExprKind::Or(vec![test, otherwise]), first.span);
        }
        let then = self.body(&parts[1..], first.span);
        if_expr(test, then, otherwise, first.span)
    }

    pub(super) fn case_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let key = self.expr(&args[0]);
        let var = self.fresh_var();
        let mut chain = Expr::int(0, span);
        for clause in args[1..].iter().rev() {
            let Some(parts) = clause.as_list().filter(|p| !p.is_empty()) else {
                self.diags
                    .push(error(clause.span, "expected a clause `(KEYS BODY...)`"));
                continue;
            };
            let body = self.body(&parts[1..], clause.span);
            if parts[0].is_symbol_named("t") || parts[0].is_symbol_named("otherwise") {
                chain = body;
                continue;
            }
            let keys: Vec<&Sexp> = match parts[0].as_list() {
                Some(l) => l.iter().collect(),
                None => vec![&parts[0]],
            };
            let tests: Vec<Expr> = keys
                .into_iter()
                .filter_map(|k| self.constant(k).map(|c| (c, k.span)))
                .map(|(c, ks)| {
                    cmp(
                        Cond::Eq,
                        Expr::new(ExprKind::Var(var), ks),
                        Expr::int(c, ks),
                        ks,
                    )
                })
                .collect();
            let test = match tests.len() {
                0 => Expr::int(0, clause.span),
                1 => tests.into_iter().next().unwrap_or(Expr::int(0, span)),
                _ => Expr::new(ExprKind::Or(tests), clause.span),
            };
            chain = if_expr(test, body, chain, clause.span);
        }
        Expr::let_in(var, key, chain, span)
    }

    pub(super) fn dotimes(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let spec = args.first().and_then(|s| s.as_list()).unwrap_or_default();
        let Some(name) = spec.first().and_then(symbol_name) else {
            return self.err(span, "expected `(dotimes (VAR COUNT) BODY...)`");
        };
        let Some(count_form) = spec.get(1) else {
            return self.err(span, "expected `(dotimes (VAR COUNT) BODY...)`");
        };
        let count = match self.const_eval(count_form) {
            Ok(c) if (0..=1 << 20).contains(&c) => c as u32,
            Ok(_) => {
                return self.err(
                    count_form.span,
                    "`dotimes` count must be between 0 and 1048576",
                )
            }
            Err(_) => {
                let d = error(count_form.span, "`dotimes` needs a constant count").with_help(
                    "the verifier must see a bounded loop: use an integer or a `defconstant`",
                );
                return self.report(d);
            }
        };
        let var = self.fresh_var();
        self.scopes.push((
            name.to_string(),
            Binding::Reg {
                var,
                ty: Some(Ty::U32),
            },
        ));
        let body = self.body(&args[1..], span);
        self.scopes.pop();
        Expr::new(
            ExprKind::Dotimes {
                var,
                count,
                body: body.boxed(),
            },
            span,
        )
    }
}
