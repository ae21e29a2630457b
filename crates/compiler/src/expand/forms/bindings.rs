//! Variables: `let`, `let*`, `when-let`, `if-let`, with `declare`d and inferred types; a
//! variable whose address `stack-addr` takes lives in a stack slot.

use crate::ast::{Expr, ExprKind, Ty};
use crate::context;
use crate::diag::error;
use crate::expand::body::{if_expr, Binding, Expander};
use crate::expand::{form_name, head_symbol, symbol_name};
use std::collections::HashMap;
use whistler_syntax::{Sexp, Span};

impl Expander<'_> {
    /// Parses one binding: `name`, `(name)`, `(name init)`, `(name type init)`, `(name type)`.
    fn binding<'s>(&mut self, b: &'s Sexp) -> Option<(&'s str, Option<Ty>, Option<&'s Sexp>)> {
        if let Some(n) = symbol_name(b) {
            return Some((n, None, None));
        }
        let parts = b.as_list().unwrap_or_default();
        let Some(name) = parts.first().and_then(symbol_name) else {
            self.diags.push(error(
                b.span,
                "expected a binding `(NAME INIT)` or `(NAME TYPE INIT)`",
            ));
            return None;
        };
        match parts.len() {
            1 => Some((name, None, None)),
            2 => {
                let as_type = symbol_name(&parts[1])
                    .and_then(Ty::from_name)
                    .filter(|_| self.lookup(symbol_name(&parts[1]).unwrap_or("")).is_none());
                match as_type {
                    Some(t) => Some((name, Some(t), None)),
                    None => Some((name, None, Some(&parts[1]))),
                }
            }
            3 => {
                // A bad type is reported; the variable is still bound so later uses resolve.
                let t = self.ty(&parts[1]);
                Some((name, t, Some(&parts[2])))
            }
            _ => {
                self.diags.push(error(
                    b.span,
                    "a binding has at most a name, a type and an initial value",
                ));
                None
            }
        }
    }

    pub(super) fn let_form(&mut self, form: &Sexp, sequential: bool, args: &[Sexp]) -> Expr {
        let span = form.span;
        let Some(bindings) = args.first().and_then(|b| {
            b.as_list()
                .or_else(|| b.is_symbol_named("nil").then_some(&[][..]))
        }) else {
            return self.err(span, "expected `(let ((NAME INIT)...) BODY...)`");
        };
        let body_forms = &args[1..];
        let declared = self.declarations(body_forms);
        let mark = self.scopes.len();
        let mut pending: Vec<(String, Binding, Option<Ty>, Expr)> = Vec::new();
        for b in bindings {
            let Some((name, ty, init)) = self.binding(b) else {
                continue;
            };
            let init_expr = init.map_or(Expr::int(0, b.span), |i| self.expr(i));
            let explicit = ty.or_else(|| declared.get(name).copied());
            let inferred = explicit.or_else(|| init.and_then(|i| self.infer_ty(i)));
            let binding = if body_forms.iter().any(|f| takes_address(f, name)) {
                Binding::Mem {
                    ptr: self.fresh_var(),
                    ty: inferred.unwrap_or(Ty::U64),
                }
            } else {
                Binding::Reg {
                    var: self.fresh_var(),
                    ty: inferred,
                }
            };
            if sequential {
                self.scopes.push((name.to_string(), binding));
            }
            pending.push((name.to_string(), binding, explicit, init_expr));
        }
        if !sequential {
            for (name, b, _, _) in &pending {
                self.scopes.push((name.clone(), *b));
            }
        }
        let mut body = self.body(body_forms, span);
        self.scopes.truncate(mark);
        for (_, binding, explicit, init) in pending.into_iter().rev() {
            body = self.bind(binding, explicit, init, body, span);
        }
        body
    }

    /// Wraps `body` in the binding of one variable.
    fn bind(
        &mut self,
        binding: Binding,
        ty: Option<Ty>,
        init: Expr,
        body: Expr,
        span: Span,
    ) -> Expr {
        match binding {
            Binding::Reg { var, .. } => Expr::typed_let(var, ty, init, body, span),
            Binding::Mem { ptr, ty } => {
                let slot = Expr::new(
                    ExprKind::StackAlloc {
                        size: 8,
                        zero: true,
                    },
                    span,
                );
                let store = Expr::new(
                    ExprKind::Store {
                        ty,
                        ptr: Expr::new(ExprKind::Var(ptr), span).boxed(),
                        offset: Expr::int(0, span).boxed(),
                        value: init.boxed(),
                    },
                    span,
                );
                let seq = Expr::new(ExprKind::Seq(vec![store, body]), span);
                Expr::let_in(ptr, slot, seq, span)
            }
        }
    }

    /// `(declare (type TYPE NAME...))` at the start of a body.
    fn declarations(&mut self, body: &[Sexp]) -> HashMap<String, Ty> {
        let mut out = HashMap::new();
        for form in body {
            if head_symbol(form).and_then(form_name) != Some("declare") {
                break;
            }
            for decl in &form.as_list().unwrap_or_default()[1..] {
                let parts = decl.as_list().unwrap_or_default();
                let (ty_form, names) = match parts.first().and_then(symbol_name) {
                    Some("type") if parts.len() >= 2 => (&parts[1], &parts[2..]),
                    Some(n) if Ty::from_name(n).is_some() => (&parts[0], &parts[1..]),
                    _ => continue,
                };
                if let Some(t) = self.ty(ty_form) {
                    for n in names.iter().filter_map(symbol_name) {
                        out.insert(n.to_string(), t);
                    }
                }
            }
        }
        out
    }

    /// The type an initializer implies (`(load u32 ...)` is u32, `(ntohs ...)` u16...).
    fn infer_ty(&self, init: &Sexp) -> Option<Ty> {
        let items = init.as_list()?;
        let head = form_name(items.first()?.as_symbol()?)?;
        let first_ty = || items.get(1).and_then(symbol_name).and_then(Ty::from_name);
        match head {
            "load" | "ctx-load" | "cast" | "the" => first_ty(),
            "ctx" => first_ty().or_else(|| {
                let field = context::ctx_struct(self.program_type)?
                    .field(items.get(1).and_then(symbol_name)?)?;
                Some(Ty::unsigned_of_size(field.size))
            }),
            "ntohs" | "htons" => Some(Ty::U16),
            "ntohl" | "htonl" | "get-prandom-u32" | "get-smp-processor-id" => Some(Ty::U32),
            _ => None,
        }
    }

    pub(super) fn when_let(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let Some(bindings) = args.first().and_then(|b| b.as_list()) else {
            return self.err(span, "expected `(when-let ((VAR INIT)...) BODY...)`");
        };
        // A single binding may be written without the outer list: (when-let (p init) ...).
        let single =
            bindings.first().is_some_and(|b| symbol_name(b).is_some()) && bindings.len() >= 2;
        let list: Vec<&Sexp> = if single {
            vec![&args[0]]
        } else {
            bindings.iter().collect()
        };
        let mark = self.scopes.len();
        let mut vars = Vec::new();
        for b in list {
            let Some((name, ty, init)) = self.binding(b) else {
                continue;
            };
            let init = init.map_or(Expr::int(0, b.span), |i| self.expr(i));
            let var = self.fresh_var();
            self.scopes
                .push((name.to_string(), Binding::Reg { var, ty }));
            vars.push((var, ty, init, b.span));
        }
        let mut body = self.body(&args[1..], span);
        self.scopes.truncate(mark);
        for (var, ty, init, bspan) in vars.into_iter().rev() {
            let test = Expr::new(ExprKind::Var(var), bspan);
            let guarded = if_expr(test, body, Expr::int(0, span), span);
            body = Expr::typed_let(var, ty, init, guarded, span);
        }
        body
    }

    pub(super) fn if_let(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let spec = &args[0];
        // Accept (var init), (var type init) and ((var init)).
        let b = match spec.as_list() {
            Some([inner]) if inner.as_list().is_some() => inner,
            _ => spec,
        };
        let Some((name, ty, init)) = self.binding(b) else {
            return Expr::int(0, span);
        };
        let init = init.map_or(Expr::int(0, span), |i| self.expr(i));
        let var = self.fresh_var();
        self.scopes
            .push((name.to_string(), Binding::Reg { var, ty }));
        let then = self.expr(&args[1]);
        self.scopes.pop();
        let otherwise = args.get(2).map_or(Expr::int(0, span), |e| self.expr(e));
        let test = Expr::new(ExprKind::Var(var), span);
        let body = if_expr(test, then, otherwise, span);
        Expr::typed_let(var, ty, init, body, span)
    }
}

/// True when `form` contains `(stack-addr NAME)`.
fn takes_address(form: &Sexp, name: &str) -> bool {
    let Some(items) = form.as_list() else {
        return false;
    };
    if items.len() == 2
        && head_symbol(form).and_then(form_name) == Some("stack-addr")
        && symbol_name(&items[1]) == Some(name)
    {
        return true;
    }
    items.iter().any(|i| takes_address(i, name))
}
