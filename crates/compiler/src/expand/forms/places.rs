//! Places: what `setf`, `incf` and `decf` can assign (variables, struct fields, `load`
//! locations, context fields and `getmap` entries).

use crate::ast::{Expr, ExprKind, Ty};
use crate::diag::{error, with_suggestion};
use crate::expand::body::{cmp, if_expr, Accessor, Binding, Expander};
use crate::expand::{form_name, head_symbol, symbol_name};
use crate::ops::{BinOp, Cond, UnOp};
use whistler_syntax::{Sexp, Span};

pub enum Place {
    Var(Binding),
    /// `ty` at `ptr + offset`, or at `ptr + offset + index * size` after a bounds check against
    /// `count` elements.
    Mem {
        ty: Ty,
        ptr: Expr,
        offset: i64,
        index: Option<(Box<Expr>, u32)>,
    },
    /// An entry of a map.
    Map {
        map: usize,
        key: Expr,
    },
}

impl Expander<'_> {
    /// `setf` or `setq` (`name`): place/value pairs.
    pub(super) fn setf(&mut self, form: &Sexp, name: &str, args: &[Sexp]) -> Expr {
        let span = form.span;
        if !args.len().is_multiple_of(2) {
            return self.err(
                span,
                format!("`{name}` takes place/value pairs, found an odd number of arguments"),
            );
        }
        let mut items: Vec<Expr> = args
            .chunks(2)
            .map(|pair| {
                let value = self.expr(&pair[1]);
                match self.place(&pair[0]) {
                    Some(p @ Place::Var(_)) => self.write_place(p, value, pair[0].span),
                    Some(p) => self.write_returning_value(p, value, pair[0].span),
                    None => Expr::int(0, pair[0].span),
                }
            })
            .collect();
        match items.len() {
            1 => items.pop().unwrap_or(Expr::int(0, span)),
            _ => Expr::new(ExprKind::Seq(items), span),
        }
    }

    /// `incf`, or `decf` (`negate`).
    pub(super) fn incf(&mut self, form: &Sexp, args: &[Sexp], negate: bool) -> Expr {
        let span = form.span;
        let mut delta = args.get(1).map_or(Expr::int(1, span), |d| self.expr(d));
        if negate {
            delta = Expr::new(
                ExprKind::Unary {
                    op: UnOp::Neg,
                    arg: delta.boxed(),
                },
                span,
            );
        }
        match self.place(&args[0]) {
            Some(p) => self.incf_place(p, delta, span),
            None => Expr::int(0, span),
        }
    }

    /// Resolves a form used as a place.
    fn place(&mut self, form: &Sexp) -> Option<Place> {
        if let Some(name) = symbol_name(form) {
            return match self.lookup(name) {
                Some(b) => Some(Place::Var(b)),
                None => {
                    if let Some(d) = self.hidden_variable(name, form.span) {
                        self.diags.push(d);
                        return None;
                    }
                    let names: Vec<String> = self.scopes.iter().map(|(n, _)| n.clone()).collect();
                    self.diags.push(with_suggestion(
                        error(form.span, format!("unknown variable `{name}`")),
                        name,
                        names.iter().map(String::as_str),
                    ));
                    None
                }
            };
        }
        let items = form.as_list().filter(|l| !l.is_empty());
        let Some(head) = items.and_then(|_| head_symbol(form)) else {
            self.diags.push(error(form.span, "expected a place: a variable, a struct field, `(load ...)`, `(ctx ...)` or `(getmap ...)`"));
            return None;
        };
        let items = items.unwrap_or_default();
        let name = form_name(head).unwrap_or("").to_string();
        let args = &items[1..];
        match name.as_str() {
            "getmap" => {
                if !self.builtin_arity(form, "getmap", args) {
                    return None;
                }
                let map = self.map_arg(&args[0])?;
                let key = self.expr(&args[1]);
                Some(Place::Map { map, key })
            }
            "ctx" => {
                if !self.builtin_arity(form, "ctx", args) {
                    return None;
                }
                let (ty, offset) = self.ctx_place(form, args)?;
                Some(Place::Mem {
                    ty,
                    ptr: Expr::new(ExprKind::Ctx, form.span),
                    offset,
                    index: None,
                })
            }
            "load" => {
                if !self.builtin_arity(form, "load", args) {
                    return None;
                }
                let ty = self.ty(&args[0])?;
                let ptr = self.expr(&args[1]);
                let off = args
                    .get(2)
                    .map_or(Expr::int(0, form.span), |o| self.expr(o));
                let ptr = Expr::new(
                    ExprKind::Bin {
                        op: BinOp::Add,
                        lhs: ptr.boxed(),
                        rhs: off.boxed(),
                    },
                    form.span,
                );
                Some(Place::Mem {
                    ty,
                    ptr,
                    offset: 0,
                    index: None,
                })
            }
            _ => match self.accessors.get(&name).copied() {
                Some(Accessor::Field(si, fi)) => self.field_place(form, si, fi, args),
                _ if self.is_macro(head) => match self.host.macroexpand_1(form) {
                    Ok(Some(expanded)) => self.place(&expanded),
                    Ok(None) => None,
                    Err(mut e) => {
                        self.diags.append(&mut e);
                        None
                    }
                },
                _ => {
                    self.diags.push(error(
                        form.span,
                        format!("`{name}` is not a place that `setf` can assign"),
                    ));
                    None
                }
            },
        }
    }

    pub(super) fn read_place(&mut self, place: Place, span: Span) -> Expr {
        match place {
            Place::Var(Binding::Reg { var, .. }) => Expr::new(ExprKind::Var(var), span),
            Place::Var(Binding::Mem { ptr, ty }) => {
                self.load(ty, Expr::new(ExprKind::Var(ptr), span), 0, span)
            }
            Place::Mem {
                ty,
                ptr,
                offset,
                index: None,
            } => self.load(ty, ptr, offset, span),
            Place::Mem {
                ty,
                ptr,
                offset,
                index: Some((index, count)),
            } => self.indexed(ty, ptr, *index, count, span, |x, addr| {
                x.load(ty, addr, offset, span)
            }),
            Place::Map { map, key } => self.getmap(map, key, span),
        }
    }

    fn write_place(&mut self, place: Place, value: Expr, span: Span) -> Expr {
        match place {
            Place::Var(Binding::Reg { var, ty }) => Expr::new(
                ExprKind::Set {
                    var,
                    ty,
                    value: value.boxed(),
                },
                span,
            ),
            Place::Var(Binding::Mem { ptr, ty }) => {
                store(ty, Expr::new(ExprKind::Var(ptr), span), 0, value, span)
            }
            Place::Mem {
                ty,
                ptr,
                offset,
                index: None,
            } => store(ty, ptr, offset, value, span),
            Place::Mem {
                ty,
                ptr,
                offset,
                index: Some((index, count)),
            } => {
                let vvar = self.fresh_var();
                let v = Expr::new(ExprKind::Var(vvar), span);
                let body = self.indexed(ty, ptr, *index, count, span, |_, addr| {
                    store(ty, addr, offset, v, span)
                });
                Expr::let_in(vvar, value, body, span)
            }
            Place::Map { map, key } => self.setmap(map, key, value, span),
        }
    }

    /// A write whose value is the value written, as `setf`'s is in Common Lisp (a map update or
    /// a store alone has none).
    fn write_returning_value(&mut self, place: Place, value: Expr, span: Span) -> Expr {
        let var = self.fresh_var();
        let v = || Expr::new(ExprKind::Var(var), span);
        let write = self.write_place(place, v(), span);
        Expr::let_in(
            var,
            value,
            Expr::new(ExprKind::Seq(vec![write, v()]), span),
            span,
        )
    }

    fn incf_place(&mut self, place: Place, delta: Expr, span: Span) -> Expr {
        match place {
            Place::Map { map, key } => self.incf_map(map, key, delta, span),
            Place::Var(b) => {
                let current = self.read_place(Place::Var(b), span);
                let sum = Expr::new(
                    ExprKind::Bin {
                        op: BinOp::Add,
                        lhs: current.boxed(),
                        rhs: delta.boxed(),
                    },
                    span,
                );
                self.write_place(Place::Var(b), sum, span)
            }
            Place::Mem {
                ty,
                ptr,
                offset,
                index,
            } => {
                // Evaluate the pointer (and index) once, then read, add and write back.
                let pvar = self.fresh_var();
                let p = || Expr::new(ExprKind::Var(pvar), span);
                let body = match index {
                    None => self.add_at(ty, p, offset, delta, span),
                    Some((index, count)) => {
                        self.indexed(ty, p(), *index, count, span, |x, addr| {
                            let avar = x.fresh_var();
                            let a = || Expr::new(ExprKind::Var(avar), span);
                            let st = x.add_at(ty, a, offset, delta, span);
                            Expr::let_in(avar, addr, st, span)
                        })
                    }
                };
                Expr::let_in(pvar, ptr, body, span)
            }
        }
    }

    /// Adds `delta` to the `ty` at `ptr() + offset` (`ptr` makes the pointer, read twice).
    fn add_at(
        &mut self,
        ty: Ty,
        ptr: impl Fn() -> Expr,
        offset: i64,
        delta: Expr,
        span: Span,
    ) -> Expr {
        let cur = self.load(ty, ptr(), offset, span);
        let sum = Expr::new(
            ExprKind::Bin {
                op: BinOp::Add,
                lhs: cur.boxed(),
                rhs: delta.boxed(),
            },
            span,
        );
        store(ty, ptr(), offset, sum, span)
    }

    /// An access at a run-time index, made verifier-safe: the index is checked against the
    /// element count first (out-of-range reads give 0, out-of-range writes do nothing).
    fn indexed(
        &mut self,
        ty: Ty,
        ptr: Expr,
        index: Expr,
        count: u32,
        span: Span,
        access: impl FnOnce(&mut Self, Expr) -> Expr,
    ) -> Expr {
        let (pvar, ivar) = (self.fresh_var(), self.fresh_var());
        let i = || Expr::new(ExprKind::Var(ivar), span);
        let scaled = Expr::new(
            ExprKind::Bin {
                op: BinOp::Mul,
                lhs: i().boxed(),
                rhs: Expr::int(ty.size() as i64, span).boxed(),
            },
            span,
        );
        let addr = Expr::new(
            ExprKind::Bin {
                op: BinOp::Add,
                lhs: Expr::new(ExprKind::Var(pvar), span).boxed(),
                rhs: scaled.boxed(),
            },
            span,
        );
        let guarded = if_expr(
            cmp(Cond::Lt, i(), Expr::int(count as i64, span), span),
            access(self, addr),
            Expr::int(0, span),
            span,
        );
        let inner = Expr::let_in(ivar, index, guarded, span);
        Expr::let_in(pvar, ptr, inner, span)
    }
}

pub fn store(ty: Ty, ptr: Expr, offset: i64, value: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::Store {
            ty,
            ptr: ptr.boxed(),
            offset: Expr::int(offset, span).boxed(),
            value: value.boxed(),
        },
        span,
    )
}
