//! Program bodies: Whistler forms to [`Expr`]s. Control flow, variables, arithmetic, memory and
//! context access live here; map forms in `maps.rs`, places (`setf`, `incf`) in `places.rs`.

use super::structs::FieldTy;
use super::{consts, form_name, head_symbol, symbol_name, Env, MacroHost, ProgDef};
use crate::ast::{Expr, ExprKind, Ty, VarId};
use crate::context;
use crate::diag::{error, with_suggestion};
use crate::ir::{BinOp, Cond, UnOp};
use std::collections::HashMap;
use whistler_bpf::{helpers, Insn, ProgramType};
use whistler_syntax::{Diagnostic, Sexp, SexpKind, Span};

/// How a name in scope is stored.
#[derive(Clone, Copy, Debug)]
pub(super) enum Binding {
    /// In a register; `ty` is the declared or inferred type `setf` converts to.
    Reg { var: VarId, ty: Option<Ty> },
    /// In a stack slot whose address is in `ptr` (the variable's address is taken).
    Mem { ptr: VarId, ty: Ty },
}

/// What a struct-derived name stands for.
#[derive(Clone, Copy, Debug)]
pub(super) enum Accessor {
    Make(usize),
    Field(usize, usize),
    FieldPtr(usize, usize),
}

pub(super) struct Expander<'a> {
    pub env: &'a Env,
    pub host: &'a mut dyn MacroHost,
    pub diags: &'a mut Vec<Diagnostic>,
    pub scopes: Vec<(String, Binding)>,
    pub next_var: VarId,
    pub program_type: ProgramType,
    pub accessors: HashMap<String, Accessor>,
}

/// Expands a program's body; its last form's value is the program's result.
pub fn expand_program(
    env: &Env,
    def: &ProgDef,
    host: &mut dyn MacroHost,
    diags: &mut Vec<Diagnostic>,
) -> (Expr, u32) {
    let mut x = Expander {
        env,
        host,
        diags,
        scopes: Vec::new(),
        next_var: 0,
        program_type: def.program_type,
        accessors: accessors(env),
    };
    let body = x.body(&def.body, def.span);
    let ret = Expr::new(ExprKind::Return(body.boxed()), def.span);
    (ret, x.next_var)
}

fn accessors(env: &Env) -> HashMap<String, Accessor> {
    let mut map = HashMap::new();
    for (si, s) in env.structs.iter().enumerate() {
        map.insert(format!("make-{}", s.name), Accessor::Make(si));
        for (fi, f) in s.fields.iter().enumerate() {
            map.insert(format!("{}-{}", s.name, f.name), Accessor::Field(si, fi));
            map.insert(
                format!("{}-{}-ptr", s.name, f.name),
                Accessor::FieldPtr(si, fi),
            );
        }
    }
    map
}

/// Built-in form names (for "did you mean" suggestions).
pub(super) const BUILTIN_FORMS: &[&str] = &[
    "let",
    "let*",
    "setf",
    "setq",
    "incf",
    "decf",
    "if",
    "when",
    "unless",
    "cond",
    "case",
    "when-let",
    "if-let",
    "and",
    "or",
    "not",
    "progn",
    "return",
    "dotimes",
    "+",
    "-",
    "*",
    "/",
    "mod",
    "rem",
    "logand",
    "logior",
    "logxor",
    "lognot",
    "<<",
    ">>",
    ">>>",
    "ash",
    "=",
    "/=",
    ">",
    ">=",
    "<",
    "<=",
    "s<",
    "s<=",
    "s>",
    "s>=",
    "cast",
    "the",
    "ntohs",
    "htons",
    "ntohl",
    "htonl",
    "ntohll",
    "htonll",
    "load",
    "store",
    "ctx-load",
    "ctx-store",
    "ctx",
    "ctx-ptr",
    "stack-addr",
    "atomic-add",
    "memset",
    "memcpy",
    "xdp-data",
    "xdp-data-end",
    "pt-regs-parm1",
    "pt-regs-parm2",
    "pt-regs-parm3",
    "pt-regs-parm4",
    "pt-regs-parm5",
    "pt-regs-parm6",
    "pt-regs-ret",
    "map-lookup",
    "map-update",
    "map-delete",
    "map-lookup-ptr",
    "map-update-ptr",
    "map-delete-ptr",
    "getmap",
    "remmap",
    "tail-call",
    "with-ringbuf",
    "fill-process-info",
    "asm",
    "sizeof",
    "1+",
    "1-",
    "zerop",
];

impl Expander<'_> {
    pub fn err(&mut self, span: Span, msg: impl Into<String>) -> Expr {
        self.diags.push(error(span, msg));
        Expr::int(0, span)
    }

    pub fn report(&mut self, d: Diagnostic) -> Expr {
        let span = d.span;
        self.diags.push(d);
        Expr::int(0, span)
    }

    pub fn fresh_var(&mut self) -> VarId {
        self.next_var += 1;
        self.next_var - 1
    }

    pub fn lookup(&self, name: &str) -> Option<Binding> {
        self.scopes
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, b)| *b)
    }

    /// A sequence of body forms as one expression.
    pub fn body(&mut self, forms: &[Sexp], span: Span) -> Expr {
        let mut items: Vec<Expr> = forms
            .iter()
            .filter(|f| head_symbol(f).and_then(form_name) != Some("declare"))
            .map(|f| self.expr(f))
            .collect();
        match items.len() {
            0 => Expr::int(0, span),
            1 => items.pop().unwrap_or_else(|| Expr::int(0, span)),
            _ => Expr::new(ExprKind::Seq(items), span),
        }
    }

    pub fn expr(&mut self, form: &Sexp) -> Expr {
        // Deeply nested (or macro-generated) forms must not overflow the native stack.
        stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || self.expr_inner(form))
    }

    fn expr_inner(&mut self, form: &Sexp) -> Expr {
        let span = form.span;
        match &form.kind {
            SexpKind::Int(v) => match consts::literal(*v, form) {
                Ok(v) => Expr::int(v, span),
                Err(d) => self.report(d),
            },
            SexpKind::Char(c) => Expr::int(*c as i64, span),
            SexpKind::Str(text) => self.string(text, span),
            SexpKind::Symbol(s) if s.is_keyword() => {
                self.err(span, format!("keyword `:{}` is not a value here", s.name))
            }
            SexpKind::Symbol(_) => self.symbol(form),
            SexpKind::DottedList(..) => self.err(span, "a dotted list is not a form"),
            SexpKind::List(items) if items.is_empty() => Expr::int(0, span),
            SexpKind::List(items) => self.list(form, items),
        }
    }

    fn symbol(&mut self, form: &Sexp) -> Expr {
        let name = symbol_name(form).unwrap_or("");
        let span = form.span;
        match self.lookup(name) {
            Some(Binding::Reg { var, .. }) => return Expr::new(ExprKind::Var(var), span),
            Some(Binding::Mem { ptr, ty }) => {
                return self.load(ty, Expr::new(ExprKind::Var(ptr), span), 0, span)
            }
            None => {}
        }
        if let Some(v) = consts::named(self.env, name) {
            return Expr::int(v, span);
        }
        if let Some(v) = form.as_symbol().and_then(|s| self.host.constant_value(s)) {
            return Expr::int(v, span);
        }
        if name == "ctx" {
            return Expr::new(ExprKind::Ctx, span);
        }
        if let Some(&m) = self.env.map_index.get(name) {
            return Expr::new(ExprKind::MapRef(m as u32), span);
        }
        if let Some(value) = form.as_symbol().and_then(|s| self.host.describe_global(s)) {
            let d = error(
                span,
                format!("`{name}` is {value} while compiling, not an integer the program can use"),
            )
            .with_help("use it inside a macro, which turns it into code");
            return self.report(d);
        }
        let mut candidates: Vec<&str> = self.scopes.iter().map(|(n, _)| n.as_str()).collect();
        candidates.extend(self.env.constants.keys().map(String::as_str));
        candidates.extend(self.env.maps.iter().map(|m| m.spec.name.as_str()));
        let d = with_suggestion(
            error(span, format!("unknown variable or constant `{name}`")),
            name,
            candidates,
        );
        self.report(d)
    }

    /// A string literal: a NUL-terminated copy on the stack, valued as its address (for
    /// `trace-printk` formats and the like).
    fn string(&mut self, text: &str, span: Span) -> Expr {
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        if bytes.len() > 256 {
            return self.err(
                span,
                "string literals in BPF programs are limited to 255 bytes",
            );
        }
        let size = (bytes.len() as u32).next_multiple_of(8);
        bytes.resize(size as usize, 0);
        let ptr = self.fresh_var();
        let p = || Expr::new(ExprKind::Var(ptr), span);
        let mut items: Vec<Expr> = bytes
            .chunks(8)
            .enumerate()
            .map(|(i, c)| {
                let word = i64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
                super::places::store(Ty::U64, p(), 8 * i as i64, Expr::int(word, span), span)
            })
            .collect();
        items.push(p());
        let alloc = Expr::new(ExprKind::StackAlloc { size, zero: false }, span);
        let body = Expr::new(ExprKind::Seq(items), span);
        Expr::new(
            ExprKind::Let {
                var: ptr,
                ty: None,
                init: alloc.boxed(),
                body: body.boxed(),
            },
            span,
        )
    }

    pub fn load(&mut self, ty: Ty, ptr: Expr, offset: i64, span: Span) -> Expr {
        Expr::new(
            ExprKind::Load {
                ty,
                ptr: ptr.boxed(),
                offset: Expr::int(offset, span).boxed(),
            },
            span,
        )
    }

    pub fn list(&mut self, form: &Sexp, items: &[Sexp]) -> Expr {
        let Some(head) = items[0].as_symbol() else {
            return self.err(items[0].span, "expected a form name in the first position");
        };
        let name = form_name(head).unwrap_or("").to_string();
        let args = &items[1..];
        if !BUILTIN_FORMS.contains(&name.as_str()) && self.host.is_macro(head) {
            return self.macro_call(form);
        }
        if let Some(e) = self.control(form, &name, args) {
            return e;
        }
        if let Some(e) = self.arith(form, &name, args) {
            return e;
        }
        if let Some(e) = self.memory(form, &name, args) {
            return e;
        }
        if let Some(e) = self.map_form(form, &name, args) {
            return e;
        }
        if let Some(e) = self.place_form(form, &name, args) {
            return e;
        }
        if let Some(&acc) = self.accessors.get(&name) {
            return self.accessor(form, acc, args);
        }
        if let Some(e) = self.protocol_form(form, &name, args) {
            return e;
        }
        if let Some(h) = helpers::by_name(&name) {
            return self.helper_call(form, h, args);
        }
        let mut candidates: Vec<String> = BUILTIN_FORMS.iter().map(|s| s.to_string()).collect();
        candidates.extend(self.accessors.keys().cloned());
        candidates.extend(helpers::HELPERS.iter().map(|h| h.lisp_name()));
        candidates.extend(super::protocols::names().map(String::from));
        let d = with_suggestion(
            error(items[0].span, format!("unknown form `{name}`")),
            &name,
            candidates.iter().map(String::as_str),
        );
        let d = if d.help.is_none() {
            d.with_help("not a built-in form, struct accessor, kernel helper or macro")
        } else {
            d
        };
        self.report(d)
    }

    fn macro_call(&mut self, form: &Sexp) -> Expr {
        let mut current = form.clone();
        for _ in 0..super::MAX_EXPANSIONS {
            match self.host.macroexpand_1(&current) {
                Ok(Some(next)) => current = next,
                Ok(None) => return self.expr(&current),
                Err(mut e) => {
                    self.diags.append(&mut e);
                    return Expr::int(0, form.span);
                }
            }
            let still_macro = head_symbol(&current).is_some_and(|h| {
                !BUILTIN_FORMS.contains(&form_name(h).unwrap_or("")) && self.host.is_macro(h)
            });
            if !still_macro {
                return self.expr(&current);
            }
        }
        self.err(form.span, "macro expansion does not terminate")
    }

    /// Checks the argument count; reports and returns false when wrong.
    pub fn arity(
        &mut self,
        form: &Sexp,
        name: &str,
        args: &[Sexp],
        min: usize,
        max: usize,
    ) -> bool {
        if (min..=max).contains(&args.len()) {
            return true;
        }
        let expected = match (min, max) {
            (a, b) if a == b => format!("{a}"),
            (a, usize::MAX) => format!("at least {a}"),
            (a, b) => format!("{a} to {b}"),
        };
        self.diags.push(error(
            form.span,
            format!(
                "`{name}` takes {expected} argument{}, found {}",
                if max == 1 && min == 1 { "" } else { "s" },
                args.len()
            ),
        ));
        false
    }

    /// Evaluates a constant expression (see `consts`).
    pub fn const_eval(&mut self, form: &Sexp) -> Result<i64, Diagnostic> {
        consts::eval(self.env, self.host, form)
    }

    /// A compile-time constant argument.
    pub fn constant(&mut self, form: &Sexp) -> Option<i64> {
        match self.const_eval(form) {
            Ok(v) => Some(v),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    pub fn ty(&mut self, form: &Sexp) -> Option<Ty> {
        match super::structs::scalar(form) {
            Ok(t) => Some(t),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    fn bin(&self, op: BinOp, lhs: Expr, rhs: Expr, span: Span) -> Expr {
        Expr::new(
            ExprKind::Bin {
                op,
                lhs: lhs.boxed(),
                rhs: rhs.boxed(),
            },
            span,
        )
    }

    // ---- control flow and variables ----

    fn control(&mut self, form: &Sexp, name: &str, args: &[Sexp]) -> Option<Expr> {
        let span = form.span;
        Some(match name {
            "progn" => self.body(args, span),
            "let" | "let*" => self.let_form(form, name == "let*", args),
            "if" => {
                if !self.arity(form, name, args, 2, 3) {
                    return Some(Expr::int(0, span));
                }
                let cond = self.expr(&args[0]);
                let then = self.expr(&args[1]);
                let otherwise = args.get(2).map_or(Expr::int(0, span), |e| self.expr(e));
                if_expr(cond, then, otherwise, span)
            }
            "when" | "unless" => {
                if !self.arity(form, name, args, 1, usize::MAX) {
                    return Some(Expr::int(0, span));
                }
                let cond = self.expr(&args[0]);
                let body = self.body(&args[1..], span);
                if name == "when" {
                    if_expr(cond, body, Expr::int(0, span), span)
                } else {
                    if_expr(cond, Expr::int(0, span), body, span)
                }
            }
            "cond" => self.cond_form(args, span),
            "case" => self.case_form(form, args),
            "and" | "or" => {
                let items: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
                match (name, items.len()) {
                    ("and", 0) => Expr::int(1, span),
                    ("or", 0) => Expr::int(0, span),
                    (_, 1) => items.into_iter().next().unwrap_or(Expr::int(0, span)),
                    ("and", _) => Expr::new(ExprKind::And(items), span),
                    _ => Expr::new(ExprKind::Or(items), span),
                }
            }
            "not" | "zerop" => {
                if !self.arity(form, name, args, 1, 1) {
                    return Some(Expr::int(0, span));
                }
                Expr::new(ExprKind::Not(self.expr(&args[0]).boxed()), span)
            }
            "return" => {
                if !self.arity(form, name, args, 0, 1) {
                    return Some(Expr::int(0, span));
                }
                let v = args.first().map_or(Expr::int(0, span), |a| self.expr(a));
                Expr::new(ExprKind::Return(v.boxed()), span)
            }
            "dotimes" => self.dotimes(form, args),
            "when-let" => self.when_let(form, args),
            "if-let" => self.if_let(form, args),
            "declare" => Expr::int(0, span),
            _ => return None,
        })
    }

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

    fn let_form(&mut self, form: &Sexp, sequential: bool, args: &[Sexp]) -> Expr {
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
    pub fn bind(
        &mut self,
        binding: Binding,
        ty: Option<Ty>,
        init: Expr,
        body: Expr,
        span: Span,
    ) -> Expr {
        match binding {
            Binding::Reg { var, .. } => Expr::new(
                ExprKind::Let {
                    var,
                    ty,
                    init: init.boxed(),
                    body: body.boxed(),
                },
                span,
            ),
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
                Expr::new(
                    ExprKind::Let {
                        var: ptr,
                        ty: None,
                        init: slot.boxed(),
                        body: seq.boxed(),
                    },
                    span,
                )
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

    fn cond_form(&mut self, clauses: &[Sexp], span: Span) -> Expr {
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

    fn case_form(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        if !self.arity(form, "case", args, 1, usize::MAX) {
            return Expr::int(0, span);
        }
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
        Expr::new(
            ExprKind::Let {
                var,
                ty: None,
                init: key.boxed(),
                body: chain.boxed(),
            },
            span,
        )
    }

    fn dotimes(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
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

    fn when_let(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
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
            body = Expr::new(
                ExprKind::Let {
                    var,
                    ty,
                    init: init.boxed(),
                    body: guarded.boxed(),
                },
                span,
            );
        }
        body
    }

    fn if_let(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        if !self.arity(form, "if-let", args, 2, 3) {
            return Expr::int(0, span);
        }
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
        Expr::new(
            ExprKind::Let {
                var,
                ty,
                init: init.boxed(),
                body: body.boxed(),
            },
            span,
        )
    }

    // ---- arithmetic ----

    fn arith(&mut self, form: &Sexp, name: &str, args: &[Sexp]) -> Option<Expr> {
        let span = form.span;
        let op = match name {
            "+" => Some(BinOp::Add),
            "*" => Some(BinOp::Mul),
            "logand" => Some(BinOp::And),
            "logior" => Some(BinOp::Or),
            "logxor" => Some(BinOp::Xor),
            _ => None,
        };
        if let Some(op) = op {
            let identity = match op {
                BinOp::Mul => 1,
                BinOp::And => -1,
                _ => 0,
            };
            let items: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
            return Some(self.fold(op, items, identity, span));
        }
        let cmp_op = match name {
            "=" => Some(Cond::Eq),
            "/=" => Some(Cond::Ne),
            ">" => Some(Cond::Gt),
            ">=" => Some(Cond::Ge),
            "<" => Some(Cond::Lt),
            "<=" => Some(Cond::Le),
            "s>" => Some(Cond::Sgt),
            "s>=" => Some(Cond::Sge),
            "s<" => Some(Cond::Slt),
            "s<=" => Some(Cond::Sle),
            _ => None,
        };
        if let Some(c) = cmp_op {
            if !self.arity(form, name, args, 2, 2) {
                return Some(Expr::int(0, span));
            }
            let (a, b) = (self.expr(&args[0]), self.expr(&args[1]));
            return Some(cmp(c, a, b, span));
        }
        Some(match name {
            "-" => {
                if !self.arity(form, name, args, 1, usize::MAX) {
                    return Some(Expr::int(0, span));
                }
                let mut items: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
                if items.len() == 1 {
                    let a = items.remove(0);
                    return Some(Expr::new(
                        ExprKind::Unary {
                            op: UnOp::Neg,
                            arg: a.boxed(),
                        },
                        span,
                    ));
                }
                let first = items.remove(0);
                items
                    .into_iter()
                    .fold(first, |acc, x| self.bin(BinOp::Sub, acc, x, span))
            }
            "/" | "mod" | "rem" | "<<" | ">>" | ">>>" => {
                if !self.arity(form, name, args, 2, 2) {
                    return Some(Expr::int(0, span));
                }
                let op = match name {
                    "/" => BinOp::Div,
                    "mod" | "rem" => BinOp::Mod,
                    "<<" => BinOp::Lsh,
                    ">>" => BinOp::Rsh,
                    _ => BinOp::Arsh,
                };
                let rhs_const = self.const_eval(&args[1]).ok();
                if matches!(op, BinOp::Div | BinOp::Mod) && rhs_const == Some(0) {
                    return Some(self.err(args[1].span, "division by the constant zero"));
                }
                if matches!(op, BinOp::Lsh | BinOp::Rsh | BinOp::Arsh)
                    && rhs_const.is_some_and(|c| !(0..64).contains(&c))
                {
                    return Some(self.err(args[1].span, "shift amounts must be between 0 and 63"));
                }
                let (a, b) = (self.expr(&args[0]), self.expr(&args[1]));
                self.bin(op, a, b, span)
            }
            "ash" => {
                if !self.arity(form, name, args, 2, 2) {
                    return Some(Expr::int(0, span));
                }
                let Some(n) = self.constant(&args[1]) else {
                    return Some(Expr::int(0, span));
                };
                if !(-63..=63).contains(&n) {
                    return Some(
                        self.err(args[1].span, "shift amounts must be between -63 and 63"),
                    );
                }
                let a = self.expr(&args[0]);
                let (op, n) = if n >= 0 {
                    (BinOp::Lsh, n)
                } else {
                    (BinOp::Arsh, -n)
                };
                self.bin(op, a, Expr::int(n, span), span)
            }
            "lognot" => {
                if !self.arity(form, name, args, 1, 1) {
                    return Some(Expr::int(0, span));
                }
                let a = self.expr(&args[0]);
                self.bin(BinOp::Xor, a, Expr::int(-1, span), span)
            }
            "1+" | "1-" => {
                if !self.arity(form, name, args, 1, 1) {
                    return Some(Expr::int(0, span));
                }
                let a = self.expr(&args[0]);
                let op = if name == "1+" { BinOp::Add } else { BinOp::Sub };
                self.bin(op, a, Expr::int(1, span), span)
            }
            "cast" | "the" => {
                if !self.arity(form, name, args, 2, 2) {
                    return Some(Expr::int(0, span));
                }
                let Some(ty) = self.ty(&args[0]) else {
                    return Some(Expr::int(0, span));
                };
                let a = self.expr(&args[1]);
                Expr::new(ExprKind::Convert { ty, arg: a.boxed() }, span)
            }
            "ntohs" | "htons" | "ntohl" | "htonl" | "ntohll" | "htonll" => {
                if !self.arity(form, name, args, 1, 1) {
                    return Some(Expr::int(0, span));
                }
                let op = match name {
                    "ntohs" | "htons" => UnOp::Swap16,
                    "ntohl" | "htonl" => UnOp::Swap32,
                    _ => UnOp::Swap64,
                };
                let a = self.expr(&args[0]);
                Expr::new(ExprKind::Unary { op, arg: a.boxed() }, span)
            }
            "sizeof" => match consts::eval(self.env, self.host, form) {
                Ok(v) => Expr::int(v, span),
                Err(d) => self.report(d),
            },
            _ => return None,
        })
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

    // ---- memory, context and raw instructions ----

    fn memory(&mut self, form: &Sexp, name: &str, args: &[Sexp]) -> Option<Expr> {
        let span = form.span;
        Some(match name {
            "load" => {
                if !self.arity(form, name, args, 2, 3) {
                    return Some(Expr::int(0, span));
                }
                let ty = self.ty(&args[0])?;
                let ptr = self.expr(&args[1]);
                let offset = args.get(2).map_or(Expr::int(0, span), |o| self.expr(o));
                Expr::new(
                    ExprKind::Load {
                        ty,
                        ptr: ptr.boxed(),
                        offset: offset.boxed(),
                    },
                    span,
                )
            }
            "store" => {
                if !self.arity(form, name, args, 4, 4) {
                    return Some(Expr::int(0, span));
                }
                let ty = self.ty(&args[0])?;
                let ptr = self.expr(&args[1]);
                let offset = self.expr(&args[2]);
                let value = self.expr(&args[3]);
                Expr::new(
                    ExprKind::Store {
                        ty,
                        ptr: ptr.boxed(),
                        offset: offset.boxed(),
                        value: value.boxed(),
                    },
                    span,
                )
            }
            "ctx-load" => {
                if !self.arity(form, name, args, 2, 2) {
                    return Some(Expr::int(0, span));
                }
                let ty = self.ty(&args[0])?;
                let offset = self.expr(&args[1]);
                Expr::new(
                    ExprKind::Load {
                        ty,
                        ptr: Expr::new(ExprKind::Ctx, span).boxed(),
                        offset: offset.boxed(),
                    },
                    span,
                )
            }
            "ctx-store" => {
                if !self.arity(form, name, args, 3, 3) {
                    return Some(Expr::int(0, span));
                }
                let ty = self.ty(&args[0])?;
                let offset = self.expr(&args[1]);
                let value = self.expr(&args[2]);
                Expr::new(
                    ExprKind::Store {
                        ty,
                        ptr: Expr::new(ExprKind::Ctx, span).boxed(),
                        offset: offset.boxed(),
                        value: value.boxed(),
                    },
                    span,
                )
            }
            "ctx" => match self.ctx_place(form, args) {
                Some((ty, offset)) => self.load(ty, Expr::new(ExprKind::Ctx, span), offset, span),
                None => Expr::int(0, span),
            },
            "ctx-ptr" => Expr::new(ExprKind::Ctx, span),
            "xdp-data" | "xdp-data-end" => {
                if !self.arity(form, name, args, 0, 0) {
                    return Some(Expr::int(0, span));
                }
                if self.program_type != ProgramType::XDP {
                    let d = error(
                        span,
                        format!("`{name}` reads `struct xdp_md` and only works in XDP programs"),
                    )
                    .with_help(format!("use `(ctx {})` for this program type", &name[4..]));
                    return Some(self.report(d));
                }
                let offset = if name == "xdp-data" { 0 } else { 4 };
                self.load(Ty::U32, Expr::new(ExprKind::Ctx, span), offset, span)
            }
            "pt-regs-ret" | "pt-regs-parm1" | "pt-regs-parm2" | "pt-regs-parm3"
            | "pt-regs-parm4" | "pt-regs-parm5" | "pt-regs-parm6" => {
                if !self.arity(form, name, args, 0, 0) {
                    return Some(Expr::int(0, span));
                }
                let offset = match name.strip_prefix("pt-regs-parm") {
                    Some(n) => context::PT_REGS_PARMS[n.parse::<usize>().unwrap_or(1) - 1],
                    None => context::PT_REGS_RET,
                };
                self.load(Ty::U64, Expr::new(ExprKind::Ctx, span), offset as i64, span)
            }
            "stack-addr" => {
                if !self.arity(form, name, args, 1, 1) {
                    return Some(Expr::int(0, span));
                }
                let var = symbol_name(&args[0]).unwrap_or("");
                match self.lookup(var) {
                    Some(Binding::Mem { ptr, .. }) => Expr::new(ExprKind::Var(ptr), span),
                    _ => self.err(
                        args[0].span,
                        format!(
                            "`stack-addr` needs a variable bound by `let`, found `{}`",
                            args[0]
                        ),
                    ),
                }
            }
            "atomic-add" => {
                if !self.arity(form, name, args, 3, 4) {
                    return Some(Expr::int(0, span));
                }
                let ty = match args.get(3) {
                    Some(t) => self.ty(t)?,
                    None => Ty::U64,
                };
                if ty.size() < 4 {
                    return Some(self.err(span, "`atomic-add` works on u32 and u64 only"));
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
            "memset" => self.memset(form, args),
            "memcpy" => self.memcpy(form, args),
            "asm" => self.asm(form, args),
            _ => return None,
        })
    }

    /// Resolves `(ctx FIELD [INDEX])` or `(ctx TYPE OFFSET)` to a type and an offset.
    pub fn ctx_place(&mut self, form: &Sexp, args: &[Sexp]) -> Option<(Ty, i64)> {
        if !self.arity(form, "ctx", args, 1, 2) {
            return None;
        }
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

    fn memset(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        if !self.arity(form, "memset", args, 4, 4) {
            return Expr::int(0, span);
        }
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
        let inner = Expr::new(
            ExprKind::Let {
                var: value_var,
                ty: None,
                init: value.boxed(),
                body: seq.boxed(),
            },
            span,
        );
        Expr::new(
            ExprKind::Let {
                var: pvar,
                ty: None,
                init: ptr.boxed(),
                body: inner.boxed(),
            },
            span,
        )
    }

    fn memcpy(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        if !self.arity(form, "memcpy", args, 5, 5) {
            return Expr::int(0, span);
        }
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
        let inner = Expr::new(
            ExprKind::Let {
                var: svar,
                ty: None,
                init: src.boxed(),
                body: seq.boxed(),
            },
            span,
        );
        Expr::new(
            ExprKind::Let {
                var: dvar,
                ty: None,
                init: dst.boxed(),
                body: inner.boxed(),
            },
            span,
        )
    }

    /// `(asm OPCODE DST SRC OFF IMM)`: one raw instruction from constant fields.
    fn asm(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let span = form.span;
        if !self.arity(form, "asm", args, 5, 5) {
            return Expr::int(0, span);
        }
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

    // ---- struct accessors and helpers ----

    fn accessor(&mut self, form: &Sexp, acc: Accessor, args: &[Sexp]) -> Expr {
        let span = form.span;
        match acc {
            Accessor::Make(si) => {
                if !self.arity(
                    form,
                    &format!("make-{}", self.env.structs[si].name),
                    args,
                    0,
                    0,
                ) {
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
                if !self.arity(form, &name, args, 1, 1) {
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
    pub fn field_place(
        &mut self,
        form: &Sexp,
        si: usize,
        fi: usize,
        args: &[Sexp],
    ) -> Option<super::places::Place> {
        use super::places::Place;
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
        if !self.arity(form, &name, args, 1, max) {
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

    pub fn helper_call(&mut self, form: &Sexp, h: &helpers::Helper, args: &[Sexp]) -> Expr {
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

pub fn if_expr(cond: Expr, then: Expr, otherwise: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::If {
            cond: cond.boxed(),
            then: then.boxed(),
            otherwise: otherwise.boxed(),
        },
        span,
    )
}

pub fn cmp(cond: Cond, lhs: Expr, rhs: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::Cmp {
            cond,
            lhs: lhs.boxed(),
            rhs: rhs.boxed(),
        },
        span,
    )
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
