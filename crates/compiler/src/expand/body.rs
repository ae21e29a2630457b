//! Program bodies: the expander that turns Whistler forms into [`Expr`]s. Literals, symbols
//! and strings are handled here; a list goes to the built-in form of its name (the table in
//! `forms/`), else to a macro of the host, a struct accessor or a kernel helper.

use super::forms::{self, Arity};
use super::{consts, form_name, head_symbol, symbol_name, Env, MacroHost, ProgDef};
use crate::ast::{Callback, Expr, ExprKind, Ty, VarId};
use crate::diag::{error, with_suggestion};
use crate::ops::{BinOp, Cond};
use std::collections::HashMap;
use whistler_bpf::{helpers, ProgramType};
use whistler_syntax::{Diagnostic, Sexp, SexpKind, Span, Symbol};

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
    /// The program's callbacks so far (`map-for-each` bodies), by number.
    pub callbacks: Vec<Callback>,
    /// Variables of the code around the callback body being expanded, which it cannot see.
    pub hidden: Vec<String>,
}

/// Expands a program's body; its last form's value is the program's result.
pub fn expand_program(
    env: &Env,
    def: &ProgDef,
    host: &mut dyn MacroHost,
    diags: &mut Vec<Diagnostic>,
) -> (Expr, u32, Vec<Callback>) {
    let mut x = Expander {
        env,
        host,
        diags,
        scopes: Vec::new(),
        next_var: 0,
        program_type: def.program_type,
        accessors: accessors(env),
        callbacks: Vec::new(),
        hidden: Vec::new(),
    };
    let body = x.body(&def.body, def.span);
    let ret = Expr::new(ExprKind::Return(body.boxed()), def.span);
    (ret, x.next_var, x.callbacks)
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

    /// The error for `name` when it is a variable of the code around the `map-for-each` body
    /// being expanded, which the body cannot see.
    pub fn hidden_variable(&self, name: &str, span: Span) -> Option<Diagnostic> {
        let hidden = self.hidden.iter().any(|h| h == name);
        hidden.then(|| {
            error(
                span,
                format!(
                    "`{name}` belongs to the code around `map-for-each`, which its body cannot see"
                ),
            )
            .with_help(
                "the body runs as a function of its own: pass values through the context pointer",
            )
        })
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
        whistler_lisp::stack::maybe_grow(64 * 1024, 4 * 1024 * 1024, || self.expr_inner(form))
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
        if let Some(d) = self.hidden_variable(name, span) {
            return self.report(d);
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
                super::forms::store(Ty::U64, p(), 8 * i as i64, Expr::int(word, span), span)
            })
            .collect();
        items.push(p());
        let alloc = Expr::new(ExprKind::StackAlloc { size, zero: false }, span);
        let body = Expr::new(ExprKind::Seq(items), span);
        Expr::let_in(ptr, alloc, body, span)
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
        let name = form_name(head).unwrap_or("");
        let args = &items[1..];
        if let Some(builtin) = forms::find(name) {
            return self.builtin(builtin, form, args);
        }
        if self.host.is_macro(head) {
            return self.macro_call(form);
        }
        if let Some(&acc) = self.accessors.get(name) {
            return self.accessor(form, acc, args);
        }
        if let Some(h) = helpers::by_name(name) {
            return self.helper_call(form, h, args);
        }
        self.unknown_form(&items[0], name)
    }

    fn unknown_form(&mut self, head: &Sexp, name: &str) -> Expr {
        let mut candidates: Vec<String> =
            forms::forms().iter().map(|f| f.name.to_string()).collect();
        candidates.extend(self.accessors.keys().cloned());
        candidates.extend(helpers::HELPERS.iter().map(|h| h.lisp_name()));
        candidates.extend(self.host.macro_names());
        let d = with_suggestion(
            error(head.span, format!("unknown form `{name}`")),
            name,
            candidates.iter().map(String::as_str),
        );
        let d = if d.help.is_none() {
            d.with_help("not a built-in form, struct accessor, kernel helper or macro")
        } else {
            d
        };
        self.report(d)
    }

    /// True when `head` names a macro of the host rather than a built-in form.
    pub fn is_macro(&self, head: &Symbol) -> bool {
        forms::find(form_name(head).unwrap_or("")).is_none() && self.host.is_macro(head)
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
            let still_macro = head_symbol(&current).is_some_and(|h| self.is_macro(h));
            if !still_macro {
                return self.expr(&current);
            }
        }
        self.err(form.span, "macro expansion does not terminate")
    }

    /// Checks the argument count; reports and returns false when wrong.
    pub fn arity(&mut self, form: &Sexp, name: &str, args: &[Sexp], arity: Arity) -> bool {
        if arity.accepts(args.len()) {
            return true;
        }
        let plural = if arity == Arity::exactly(1) { "" } else { "s" };
        self.diags.push(error(
            form.span,
            format!(
                "`{name}` takes {arity} argument{plural}, found {}",
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

    pub fn bin(&self, op: BinOp, lhs: Expr, rhs: Expr, span: Span) -> Expr {
        Expr::new(
            ExprKind::Bin {
                op,
                lhs: lhs.boxed(),
                rhs: rhs.boxed(),
            },
            span,
        )
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
