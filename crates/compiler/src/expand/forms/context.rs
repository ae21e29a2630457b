//! The program's context: `ctx` (fields by name from `context.rs`, or by type and offset),
//! `ctx-ptr`, `xdp-data`, `xdp-data-end` and the kprobe registers `pt-regs-parm1`...`pt-regs-ret`.

use crate::ast::{Expr, ExprKind, Ty};
use crate::context;
use crate::diag::{error, with_suggestion};
use crate::expand::body::Expander;
use crate::expand::symbol_name;
use whistler_bpf::ProgramType;
use whistler_syntax::Sexp;

impl Expander<'_> {
    pub(super) fn ctx_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        match self.ctx_place(form, args) {
            Some((ty, offset)) => self.load(ty, self.ctx(form), offset, form.span),
            None => Expr::int(0, form.span),
        }
    }

    /// `xdp-data` (offset 0) or `xdp-data-end` (4), in XDP programs only.
    pub(super) fn xdp_bound(&mut self, form: &Sexp, name: &str, offset: i64) -> Expr {
        if self.program_type != ProgramType::XDP {
            let d = error(
                form.span,
                format!("`{name}` reads `struct xdp_md` and only works in XDP programs"),
            )
            .with_help(format!("use `(ctx {})` for this program type", &name[4..]));
            return self.report(d);
        }
        self.load(Ty::U32, self.ctx(form), offset, form.span)
    }

    /// `(pt-regs-parmN)`, N from 1 to 6.
    pub(super) fn pt_regs_parm(&mut self, form: &Sexp, n: usize) -> Expr {
        let offset = context::PT_REGS_PARMS[n - 1];
        self.load(Ty::U64, self.ctx(form), offset as i64, form.span)
    }

    pub(super) fn pt_regs_ret(&mut self, form: &Sexp, _: &[Sexp]) -> Expr {
        let offset = context::PT_REGS_RET;
        self.load(Ty::U64, self.ctx(form), offset as i64, form.span)
    }

    fn ctx(&self, form: &Sexp) -> Expr {
        Expr::new(ExprKind::Ctx, form.span)
    }

    /// Resolves `(ctx FIELD [INDEX])` or `(ctx TYPE OFFSET)` (argument count checked) to a type
    /// and an offset.
    pub(super) fn ctx_place(&mut self, form: &Sexp, args: &[Sexp]) -> Option<(Ty, i64)> {
        let first = symbol_name(&args[0]).unwrap_or("");
        if let Some(ty) = Ty::from_name(first) {
            let Some(off) = args.get(1).and_then(|a| self.constant(a)) else {
                self.diags.push(error(
                    form.span,
                    "expected `(ctx TYPE OFFSET)` with a constant offset",
                ));
                return None;
            };
            return Some((ty, off));
        }
        let Some(cs) = context::ctx_struct(self.program_type) else {
            self.diags.push(
                error(
                    form.span,
                    format!(
                        "{} programs have no named context fields",
                        self.program_type.lisp_names()[0]
                    ),
                )
                .with_help("use `(ctx TYPE OFFSET)`"),
            );
            return None;
        };
        let Some(field) = cs.field(first) else {
            let names: Vec<String> = cs.fields.iter().map(|f| f.name.replace('_', "-")).collect();
            self.diags.push(with_suggestion(
                error(
                    args[0].span,
                    format!("`struct {}` has no field `{first}`", cs.name),
                ),
                first,
                names.iter().map(String::as_str),
            ));
            return None;
        };
        let index = match args.get(1) {
            Some(i) => self.constant(i)?,
            None => 0,
        };
        if index < 0 || index >= field.count as i64 {
            self.diags.push(error(
                form.span,
                format!(
                    "index {index} is out of range for `{first}`, which has {} element{}",
                    field.count,
                    if field.count == 1 { "" } else { "s" }
                ),
            ));
            return None;
        }
        Some((
            Ty::unsigned_of_size(field.size),
            field.offset as i64 + index * field.size as i64,
        ))
    }
}
