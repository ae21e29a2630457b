//! Calls of names not in the table of forms: struct accessors (`make-S`, `S-FIELD`,
//! `S-FIELD-ptr`, from `defstruct`s) and kernel helpers (by their Lisp names).

use super::places::Place;
use super::Arity;
use crate::ast::{Expr, ExprKind};
use crate::diag::error;
use crate::expand::body::{Accessor, Expander};
use crate::expand::structs::FieldTy;
use crate::ops::BinOp;
use whistler_bpf::helpers;
use whistler_syntax::Sexp;

impl Expander<'_> {
    pub(in crate::expand) fn accessor(
        &mut self,
        form: &Sexp,
        acc: Accessor,
        args: &[Sexp],
    ) -> Expr {
        let span = form.span;
        match acc {
            Accessor::Make(si) => {
                let name = format!("make-{}", self.env.structs[si].name);
                if !self.arity(form, &name, args, Arity::exactly(0)) {
                    return Expr::int(0, span);
                }
                let size = self.env.structs[si].size.max(1);
                Expr::new(ExprKind::StackAlloc { size, zero: true }, span)
            }
            Accessor::FieldPtr(si, fi) => {
                let name = format!(
                    "{}-{}-ptr",
                    self.env.structs[si].name, self.env.structs[si].fields[fi].name
                );
                if !self.arity(form, &name, args, Arity::exactly(1)) {
                    return Expr::int(0, span);
                }
                let ptr = self.expr(&args[0]);
                let off = self.env.structs[si].fields[fi].offset as i64;
                self.bin(BinOp::Add, ptr, Expr::int(off, span), span)
            }
            Accessor::Field(si, fi) => match self.field_place(form, si, fi, args) {
                Some(place) => self.read_place(place, span),
                None => Expr::int(0, span),
            },
        }
    }

    /// Resolves `(STRUCT-FIELD PTR [INDEX])` to a memory place.
    pub(super) fn field_place(
        &mut self,
        form: &Sexp,
        si: usize,
        fi: usize,
        args: &[Sexp],
    ) -> Option<Place> {
        let s = &self.env.structs[si];
        let f = &s.fields[fi];
        let name = format!("{}-{}", s.name, f.name);
        let (ty, count) = match f.ty {
            FieldTy::Scalar(t) => (t, None),
            FieldTy::Array(t, n) => (t, Some(n)),
            FieldTy::Struct(_) => {
                self.diags.push(error(
                    form.span,
                    format!("`{name}` is a struct; use `{name}-ptr` for its address"),
                ));
                return None;
            }
        };
        let offset = f.offset as i64;
        let max = if count.is_some() { 2 } else { 1 };
        if !self.arity(form, &name, args, Arity::between(1, max)) {
            return None;
        }
        let ptr = self.expr(&args[0]);
        let Some(index_form) = args.get(1) else {
            return Some(Place::Mem {
                ty,
                ptr,
                offset,
                index: None,
            });
        };
        let count = count.unwrap_or(1);
        if let Ok(i) = self.const_eval(index_form) {
            if i < 0 || i >= count as i64 {
                self.diags.push(error(
                    index_form.span,
                    format!("index {i} is out of range for `{name}`, which has {count} elements"),
                ));
                return None;
            }
            return Some(Place::Mem {
                ty,
                ptr,
                offset: offset + i * ty.size() as i64,
                index: None,
            });
        }
        let index = self.expr(index_form);
        Some(Place::Mem {
            ty,
            ptr,
            offset,
            index: Some((index.boxed(), count)),
        })
    }

    pub(in crate::expand) fn helper_call(
        &mut self,
        form: &Sexp,
        h: &helpers::Helper,
        args: &[Sexp],
    ) -> Expr {
        let span = form.span;
        let name = h.lisp_name();
        if args.len() > 5 {
            let d = error(
                span,
                format!(
                    "`{name}` is called with {} arguments, but BPF helpers take at most 5",
                    args.len()
                ),
            );
            return self.report(d);
        }
        // Trailing `flags` arguments may be omitted (they default to 0), as Whistler's examples do.
        let optional = optional_flags(h.kernel_name);
        let min = h.arg_count as usize - optional;
        if !(min..=h.arg_count as usize).contains(&args.len()) {
            let d = error(
                span,
                format!(
                    "`{name}` takes {} argument{}, found {}",
                    h.arg_count,
                    if h.arg_count == 1 { "" } else { "s" },
                    args.len()
                ),
            );
            return self.report(d);
        }
        let mut args: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
        while args.len() < h.arg_count as usize {
            args.push(Expr::int(0, span));
        }
        Expr::new(ExprKind::Call { helper: h.id, args }, span)
    }
}

/// How many trailing `flags` arguments of a helper may be left out.
fn optional_flags(kernel_name: &str) -> usize {
    match kernel_name {
        "ringbuf_reserve" | "ringbuf_submit" | "ringbuf_discard" | "ringbuf_output" => 1,
        _ => 0,
    }
}
