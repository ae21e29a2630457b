//! Map, ring buffer and tail-call forms. Scalar keys and values reach helpers through stack
//! temporaries ([`ExprKind::Spill`]); keys and values larger than 8 bytes are pointers already.

use crate::ast::{Callback, Expr, ExprKind, Ty};
use crate::diag::{error, with_suggestion};
use crate::expand::body::{if_expr, Binding, Expander};
use crate::expand::{keyword_name, symbol_name};
use whistler_bpf::MapType;
use whistler_syntax::{Sexp, SexpKind, Span, Symbol};

pub(super) use whistler_bpf::helpers::ids::{
    MAP_DELETE_ELEM as MAP_DELETE, MAP_LOOKUP_ELEM as MAP_LOOKUP,
};
use whistler_bpf::helpers::ids::{
    MAP_UPDATE_ELEM as MAP_UPDATE, RINGBUF_RESERVE, RINGBUF_SUBMIT, TAIL_CALL,
};
/// `BPF_NOEXIST`, the update flag `incf` inserts with.
const BPF_NOEXIST: i64 = whistler_bpf::consts::BPF_NOEXIST as i64;

impl Expander<'_> {
    /// `(map-for-each (KEY VALUE MAP [CONTEXT-VAR CONTEXT]) BODY...)`: the body becomes one of
    /// the program's callbacks, expanded where only its parameters are in scope.
    pub(super) fn map_for_each(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        const SYNTAX: &str =
            "expected `(map-for-each (KEY VALUE MAP [CONTEXT-VAR CONTEXT]) BODY...)`";
        let span = form.span;
        let spec = args[0].as_list().unwrap_or_default();
        if spec.len() != 3 && spec.len() != 5 {
            return self.err(args[0].span, SYNTAX);
        }
        let names: Option<Vec<&str>> = [0, 1, 3]
            .iter()
            .map(|&i| spec.get(i).map_or(Some(""), symbol_name))
            .collect();
        let Some(names) = names else {
            return self.err(args[0].span, SYNTAX);
        };
        let Some(map) = self.map_arg(&spec[2]) else {
            return Expr::int(0, span);
        };
        let context = match spec.get(4) {
            Some(c) => self.expr(c),
            None => Expr::int(0, span),
        };
        let (key, value, context_var) = (self.fresh_var(), self.fresh_var(), self.fresh_var());
        let outer = std::mem::take(&mut self.scopes);
        let hidden_before = self.hidden.len();
        self.hidden.extend(outer.iter().map(|(n, _)| n.clone()));
        for (name, var) in names.iter().zip([key, value, context_var]) {
            if !name.is_empty() {
                let ty = Some(Ty::U64);
                self.scopes
                    .push((name.to_string(), Binding::Reg { var, ty }));
            }
        }
        let body = self.body(&args[1..], span);
        self.scopes = outer;
        self.hidden.truncate(hidden_before);
        self.callbacks.push(Callback {
            body: Expr::new(ExprKind::Seq(vec![body, Expr::int(0, span)]), span),
            key,
            value,
            context: context_var,
        });
        Expr::new(
            ExprKind::ForEachMapElem {
                map: map as u32,
                callback: self.callbacks.len() as u32 - 1,
                context: context.boxed(),
            },
            span,
        )
    }

    /// The map and the expanded key of a map form's first two arguments.
    fn map_and_key(&mut self, args: &[Sexp]) -> Option<(usize, Expr)> {
        let map = self.map_arg(&args[0])?;
        Some((map, self.expr(&args[1])))
    }

    /// A helper call on a map and a key: `map-lookup` or `map-delete` (`helper`).
    pub(super) fn map_key_call(
        &mut self,
        form: &Sexp,
        args: &[Sexp],
        helper: u32,
        by_pointer: bool,
    ) -> Expr {
        let span = form.span;
        let Some((map, key)) = self.map_and_key(args) else {
            return Expr::int(0, span);
        };
        let key = self.key_arg(map, key, by_pointer, span);
        self.call(helper, vec![self.map_ref(map, span), key], span)
    }

    pub(super) fn map_update(&mut self, form: &Sexp, args: &[Sexp], by_pointer: bool) -> Expr {
        let span = form.span;
        let Some((map, key)) = self.map_and_key(args) else {
            return Expr::int(0, span);
        };
        let key = self.key_arg(map, key, by_pointer, span);
        let value = self.expr(&args[2]);
        let value = self.value_arg(map, value, by_pointer, span);
        let flags = args.get(3).map_or(Expr::int(0, span), |f| self.expr(f));
        self.call(
            MAP_UPDATE,
            vec![self.map_ref(map, span), key, value, flags],
            span,
        )
    }

    pub(super) fn getmap_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        match self.map_and_key(args) {
            Some((map, key)) => self.getmap(map, key, form.span),
            None => Expr::int(0, form.span),
        }
    }

    pub(super) fn tail_call(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let Some((map, index)) = self.map_and_key(args) else {
            return Expr::int(0, span);
        };
        if self.env.maps[map].map_type != MapType::PROG_ARRAY {
            let d = error(
                args[0].span,
                format!(
                    "`tail-call` needs a `:prog-array` map, and `{}` is not one",
                    self.env.maps[map].spec.name
                ),
            );
            return self.report(d);
        }
        let ctx = Expr::new(ExprKind::Ctx, span);
        self.call(TAIL_CALL, vec![ctx, self.map_ref(map, span), index], span)
    }

    /// Resolves a map name argument.
    pub(super) fn map_arg(&mut self, form: &Sexp) -> Option<usize> {
        let name = symbol_name(form).unwrap_or("");
        if let Some(&m) = self.env.map_index.get(name) {
            return Some(m);
        }
        let d = with_suggestion(
            error(form.span, format!("unknown map `{name}`")),
            name,
            self.env.maps.iter().map(|m| m.spec.name.as_str()),
        );
        self.diags.push(d);
        None
    }

    fn map_ref(&self, map: usize, span: Span) -> Expr {
        Expr::new(ExprKind::MapRef(map as u32), span)
    }

    fn call(&self, helper: u32, args: Vec<Expr>, span: Span) -> Expr {
        Expr::new(ExprKind::Call { helper, args }, span)
    }

    /// A key for a map helper: scalars (key size up to 8 bytes) go through a stack temporary,
    /// larger keys are already pointers.
    fn key_arg(&self, map: usize, key: Expr, by_pointer: bool, span: Span) -> Expr {
        let size = self.env.maps[map].spec.key_size;
        if by_pointer || size > 8 {
            return key;
        }
        Expr::new(
            ExprKind::Spill {
                size: size.max(1),
                value: key.boxed(),
            },
            span,
        )
    }

    fn value_arg(&self, map: usize, value: Expr, by_pointer: bool, span: Span) -> Expr {
        let size = self.env.maps[map].spec.value_size;
        if by_pointer || size > 8 {
            return value;
        }
        Expr::new(
            ExprKind::Spill {
                size: size.max(1),
                value: value.boxed(),
            },
            span,
        )
    }

    /// `(getmap m k)`: the value (0 when absent) for values up to 8 bytes, else the pointer.
    pub(super) fn getmap(&mut self, map: usize, key: Expr, span: Span) -> Expr {
        let key = self.key_arg(map, key, false, span);
        let lookup = self.call(MAP_LOOKUP, vec![self.map_ref(map, span), key], span);
        let size = self.env.maps[map].spec.value_size;
        if size > 8 {
            return lookup;
        }
        let p = self.fresh_var();
        let pv = || Expr::new(ExprKind::Var(p), span);
        let load = self.load(scalar_of(size), pv(), 0, span);
        let body = if_expr(pv(), load, Expr::int(0, span), span);
        Expr::let_in(p, lookup, body, span)
    }

    /// `(setf (getmap m k) v)`: update with BPF_ANY.
    pub(super) fn setmap(&mut self, map: usize, key: Expr, value: Expr, span: Span) -> Expr {
        let key = self.key_arg(map, key, false, span);
        let value = self.value_arg(map, value, false, span);
        self.call(
            MAP_UPDATE,
            vec![self.map_ref(map, span), key, value, Expr::int(0, span)],
            span,
        )
    }

    /// `(incf (getmap m k) d)`: atomic add when the entry exists; for hash maps, insert `d`
    /// with BPF_NOEXIST when it does not.
    pub(super) fn incf_map(&mut self, map: usize, key: Expr, delta: Expr, span: Span) -> Expr {
        let (kv, dv, pv) = (self.fresh_var(), self.fresh_var(), self.fresh_var());
        let var = |v| Expr::new(ExprKind::Var(v), span);
        let spec = &self.env.maps[map].spec;
        let (size, map_type) = (spec.value_size, self.env.maps[map].map_type);
        // `kv` is the key's address, its stack copy written once for all three helper calls.
        let lookup = self.call(MAP_LOOKUP, vec![self.map_ref(map, span), var(kv)], span);
        let add = self.add_to_entry(size, pv, dv, span);
        let insert = if inserts_on_update(map_type) {
            // Insert; if another CPU inserted first (the update fails), add to its entry.
            let v = self.value_arg(map, var(dv), false, span);
            let flags = Expr::int(BPF_NOEXIST, span);
            let update = self.call(
                MAP_UPDATE,
                vec![self.map_ref(map, span), var(kv), v, flags],
                span,
            );
            let relookup = self.call(MAP_LOOKUP, vec![self.map_ref(map, span), var(kv)], span);
            let p2 = self.fresh_var();
            let add2 = self.add_to_entry(size, p2, dv, span);
            let retry = if_expr(var(p2), add2, Expr::int(0, span), span);
            let retry = Expr::let_in(p2, relookup, retry, span);
            if_expr(update, retry, Expr::int(0, span), span)
        } else {
            Expr::int(0, span)
        };
        let body = if_expr(var(pv), add, insert, span);
        let with_p = Expr::let_in(pv, lookup, body, span);
        let with_d = Expr::let_in(dv, delta, with_p, span);
        let key = self.key_arg(map, key, false, span);
        Expr::let_in(kv, key, with_d, span)
    }

    /// Adds the variable `delta` to the map value `ptr` points to: atomically for 4- and
    /// 8-byte values.
    fn add_to_entry(
        &mut self,
        size: u32,
        ptr: crate::ast::VarId,
        delta: crate::ast::VarId,
        span: Span,
    ) -> Expr {
        let var = |v| Expr::new(ExprKind::Var(v), span);
        if size == 8 || size == 4 {
            let ty = if size == 8 { Ty::U64 } else { Ty::U32 };
            return Expr::new(
                ExprKind::AtomicAdd {
                    ty,
                    ptr: var(ptr).boxed(),
                    offset: Expr::int(0, span).boxed(),
                    value: var(delta).boxed(),
                },
                span,
            );
        }
        let ty = scalar_of(size);
        let cur = self.load(ty, var(ptr), 0, span);
        let sum = Expr::new(
            ExprKind::Bin {
                op: crate::ops::BinOp::Add,
                lhs: cur.boxed(),
                rhs: var(delta).boxed(),
            },
            span,
        );
        super::store(ty, var(ptr), 0, sum, span)
    }

    /// `(with-ringbuf (VAR MAP SIZE [FLAGS | :flags FLAGS]) BODY...)`.
    pub(super) fn with_ringbuf(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let spec = args.first().and_then(|s| s.as_list()).unwrap_or_default();
        let (Some(name), Some(map_form), Some(size_form)) =
            (spec.first().and_then(symbol_name), spec.get(1), spec.get(2))
        else {
            return self.err(
                span,
                "expected `(with-ringbuf (VAR MAP SIZE [FLAGS]) BODY...)`",
            );
        };
        let Some(map) = self.map_arg(map_form) else {
            return Expr::int(0, span);
        };
        if self.env.maps[map].map_type != MapType::RINGBUF {
            let d = error(
                map_form.span,
                format!(
                    "`with-ringbuf` needs a `:ringbuf` map, and `{}` is not one",
                    self.env.maps[map].spec.name
                ),
            );
            return self.report(d);
        }
        let flags = match &spec[3..] {
            [] => Expr::int(0, span),
            [f] => self.expr(f),
            [k, f] if keyword_name(k) == Some("flags") => self.expr(f),
            _ => return self.err(span, "expected `[FLAGS]` or `:flags FLAGS` after the size"),
        };
        let size = self.expr(size_form);
        let reserve = self.call(
            RINGBUF_RESERVE,
            vec![self.map_ref(map, span), size, flags],
            span,
        );
        let var = self.fresh_var();
        self.scopes
            .push((name.to_string(), Binding::Reg { var, ty: None }));
        let mut body = vec![self.body(&args[1..], span)];
        self.scopes.pop();
        let v = Expr::new(ExprKind::Var(var), span);
        body.push(self.call(RINGBUF_SUBMIT, vec![v.clone(), Expr::int(0, span)], span));
        body.push(Expr::int(0, span));
        let guarded = if_expr(
            v,
            Expr::new(ExprKind::Seq(body), span),
            Expr::int(0, span),
            span,
        );
        Expr::let_in(var, reserve, guarded, span)
    }

    /// `(fill-process-info EVENT :pid-field ACC :uid-field ACC :timestamp-field ACC
    /// :comm-field ACC-PTR :comm-size N)`.
    pub(super) fn fill_process_info(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        let Some(event) = args.first() else {
            return self.err(
                span,
                "expected `(fill-process-info EVENT :pid-field ACCESSOR ...)`",
            );
        };
        let sym = |name: &str| Sexp {
            kind: SexpKind::Symbol(Symbol::new(name)),
            span,
        };
        let list = |items: Vec<Sexp>| Sexp {
            kind: SexpKind::List(items),
            span,
        };
        let ev = "%fill-process-info-event";
        let mut forms = Vec::new();
        let mut comm_size = Sexp {
            kind: SexpKind::Int(16),
            span,
        };
        let mut comm = None;
        for pair in args[1..].chunks(2) {
            let (Some(key), Some(value)) = (keyword_name(&pair[0]), pair.get(1)) else {
                return self.err(pair[0].span, "expected `:KEY VALUE` pairs after the event");
            };
            let field = |acc: &Sexp| list(vec![acc.clone(), sym(ev)]);
            let setf = |acc: &Sexp, v: Sexp| list(vec![sym("setf"), field(acc), v]);
            let shifted = |h: &str| {
                list(vec![
                    sym("cast"),
                    sym("u32"),
                    list(vec![
                        sym(">>"),
                        list(vec![sym(h)]),
                        Sexp {
                            kind: SexpKind::Int(32),
                            span,
                        },
                    ]),
                ])
            };
            let low = |h: &str| list(vec![sym("cast"), sym("u32"), list(vec![sym(h)])]);
            match key {
                "pid-field" => forms.push(setf(value, shifted("get-current-pid-tgid"))),
                "tid-field" => forms.push(setf(value, low("get-current-pid-tgid"))),
                "uid-field" => forms.push(setf(value, low("get-current-uid-gid"))),
                "gid-field" => forms.push(setf(value, shifted("get-current-uid-gid"))),
                "timestamp-field" => forms.push(setf(value, list(vec![sym("ktime-get-ns")]))),
                "comm-field" => comm = Some(value.clone()),
                "comm-size" => comm_size = value.clone(),
                other => {
                    return self.err(
                        pair[0].span,
                        format!("unknown `fill-process-info` option `:{other}`"),
                    )
                }
            }
        }
        if let Some(acc) = comm {
            forms.push(list(vec![
                sym("get-current-comm"),
                list(vec![acc, sym(ev)]),
                comm_size,
            ]));
        }
        let init = self.expr(event);
        let var = self.fresh_var();
        self.scopes
            .push((ev.to_string(), Binding::Reg { var, ty: None }));
        let body = self.body(&forms, span);
        self.scopes.pop();
        Expr::let_in(var, init, body, span)
    }
}

/// Map types whose update inserts missing keys.
fn inserts_on_update(t: MapType) -> bool {
    matches!(
        t,
        MapType::HASH | MapType::LRU_HASH | MapType::PERCPU_HASH | MapType::LRU_PERCPU_HASH
    )
}

/// The widest scalar that fits in `size` bytes.
fn scalar_of(size: u32) -> Ty {
    match size {
        8.. => Ty::U64,
        4..=7 => Ty::U32,
        2..=3 => Ty::U16,
        _ => Ty::U8,
    }
}
