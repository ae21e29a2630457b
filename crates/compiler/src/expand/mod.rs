//! Expansion: top-level definitions are collected into an [`Env`], user macros are expanded
//! through a [`MacroHost`], and every program body becomes an [`crate::ast::Expr`] with names
//! resolved and convenience forms desugared.
//!
//! Errors are collected, never fatal: a bad top-level form is skipped, a bad body form becomes
//! the constant 0, and expansion goes on so that one run reports every error of a file.

mod body;
mod consts;
mod forms;
mod metrics;
mod structs;
mod toplevel;

pub use forms::{forms, Arity, Form};
pub use structs::{FieldDef, FieldTy, StructDef};
pub use toplevel::{MapDef, ProgDef};

use crate::ast::{Callback, Expr};
use std::collections::HashMap;
use whistler_syntax::{Diagnostic, Sexp, SexpKind, SourceFile, Symbol};

/// The hook through which a Common Lisp evaluator provides user macros. Top-level `defmacro`,
/// `defun`, `defvar`, `defparameter` and `eval-when` forms are handed to
/// [`MacroHost::eval_toplevel`]; any body form whose head [`MacroHost::is_macro`] is expanded
/// with [`MacroHost::macroexpand_1`] before built-in handling.
pub trait MacroHost {
    fn eval_toplevel(&mut self, form: &Sexp) -> Result<(), Vec<Diagnostic>> {
        Err(vec![crate::diag::error(
            form.span,
            "this form needs the Common Lisp evaluator, which this compiler was built without",
        )
        .with_help(
            "use `defconstant` for constants; macros need the `whistler` facade",
        )])
    }
    fn is_macro(&self, name: &Symbol) -> bool {
        let _ = name;
        false
    }
    fn macroexpand_1(&mut self, form: &Sexp) -> Result<Option<Sexp>, Vec<Diagnostic>> {
        let _ = form;
        Ok(None)
    }
    /// The names of the host's macros, for "did you mean" suggestions.
    fn macro_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// The integer value of a global the host knows (`defvar`, `defparameter`, a library
    /// constant), consulted for symbols that are not local variables or file constants.
    fn constant_value(&self, name: &Symbol) -> Option<i64> {
        let _ = name;
        None
    }
    /// The printed value of a global the host knows that is not an integer (a list for macros),
    /// for the error that says why a program cannot use it.
    fn describe_global(&self, name: &Symbol) -> Option<String> {
        let _ = name;
        None
    }
    /// Evaluates a constant expression whose names are the host's (see `consts::resolve`) and
    /// returns its integer as 64 bits (two's complement, as C converts).
    fn eval_integer(&mut self, form: &Sexp) -> Result<i64, Vec<Diagnostic>> {
        Err(vec![crate::diag::error(
            form.span,
            "computing a constant needs the Common Lisp evaluator, which this compiler was built without",
        )
        .with_help("write the value as a literal or a constant's name")])
    }
}

/// A host without an evaluator: no user macros.
pub struct NoMacros;
impl MacroHost for NoMacros {}

/// Every top-level definition of a file.
#[derive(Default)]
pub struct Env {
    pub constants: HashMap<String, i64>,
    pub structs: Vec<StructDef>,
    pub struct_index: HashMap<String, usize>,
    pub maps: Vec<MapDef>,
    pub map_index: HashMap<String, usize>,
    pub programs: Vec<ProgDef>,
    /// The `defmetric` forms, resolved once every map is defined.
    pub metric_forms: Vec<Sexp>,
    /// What they declare.
    pub metrics: Vec<whistler_object::metrics::MetricSpec>,
}

/// One expanded program.
pub struct Program {
    pub def: ProgDef,
    pub body: Expr,
    /// Number of variables the body and its callbacks use (`VarId`s are `0..var_count`).
    pub var_count: u32,
    /// The functions helpers call back, by number (`ExprKind::ForEachMapElem`'s `callback`).
    pub callbacks: Vec<Callback>,
}

/// The result of expansion.
pub struct Expanded {
    pub env: Env,
    pub programs: Vec<Program>,
}

/// Expands a file's top-level forms.
pub fn expand(
    file: &SourceFile,
    forms: &[Sexp],
    host: &mut dyn MacroHost,
) -> (Expanded, Vec<Diagnostic>) {
    let _ = file;
    let mut diags = Vec::new();
    let mut env = Env::default();
    for form in forms {
        define_toplevel(form, &mut env, host, &mut diags, 0);
    }
    env.metrics = metrics::declare(&env, host, &mut diags);
    let mut programs = Vec::new();
    for def in env.programs.clone() {
        let (body, var_count, callbacks) = body::expand_program(&env, &def, host, &mut diags);
        programs.push(Program {
            def,
            body,
            var_count,
            callbacks,
        });
    }
    (Expanded { env, programs }, diags)
}

/// Defines one top-level form after expanding its macros and splicing `progn`s. Forms are
/// defined in file order, so a macro (or a macro-defining macro) is usable by every later form.
fn define_toplevel(
    form: &Sexp,
    env: &mut Env,
    host: &mut dyn MacroHost,
    diags: &mut Vec<Diagnostic>,
    depth: usize,
) {
    if depth > MAX_EXPANSIONS {
        diags.push(crate::diag::error(
            form.span,
            "macro expansion does not terminate",
        ));
        return;
    }
    if let Some(head) = head_symbol(form) {
        if host.is_macro(head) && !is_builtin_toplevel(head) {
            match host.macroexpand_1(form) {
                Ok(Some(expanded)) => {
                    return define_toplevel(&expanded, env, host, diags, depth + 1)
                }
                Ok(None) => {}
                Err(mut e) => {
                    diags.append(&mut e);
                    return;
                }
            }
        }
        if form_name(head) == Some("progn") {
            for f in &form.as_list().unwrap_or_default()[1..] {
                define_toplevel(f, env, host, diags, depth + 1);
            }
            return;
        }
    }
    toplevel::define(env, form, host, diags);
}

fn is_builtin_toplevel(head: &Symbol) -> bool {
    matches!(
        form_name(head),
        Some(
            "defmap"
                | "defprog"
                | "defstruct"
                | "defunion"
                | "defconstant"
                | "defmetric"
                | "in-package"
        )
    )
}

/// Expansion steps allowed for one form before it is reported as non-terminating.
pub const MAX_EXPANSIONS: usize = 1000;

/// The head symbol of a list form.
pub fn head_symbol(form: &Sexp) -> Option<&Symbol> {
    form.as_list()?.first()?.as_symbol()
}

/// The name of a symbol used as a form name: the packages `whistler`, `bpf`, `cl` and
/// `common-lisp` are accepted and ignored (`bpf:map` names `defmap`, `bpf:prog` `defprog`).
/// Other packages and keywords name nothing.
pub fn form_name(sym: &Symbol) -> Option<&str> {
    match sym.package.as_deref() {
        None | Some("whistler" | "cl" | "common-lisp" | "whistler-user") => Some(&sym.name),
        Some("bpf") => Some(match sym.name.as_str() {
            "map" => "defmap",
            "prog" => "defprog",
            "struct" => "defstruct",
            other => other,
        }),
        Some("asdf") if sym.name == "load-system" => Some("load-system"),
        Some(_) => None,
    }
}

/// The name of a symbol used as a value or a definition name (packages other than keyword
/// are ignored).
pub fn symbol_name(form: &Sexp) -> Option<&str> {
    match &form.kind {
        SexpKind::Symbol(s) if !s.is_keyword() => Some(&s.name),
        _ => None,
    }
}

/// A keyword's name without the colon.
pub fn keyword_name(form: &Sexp) -> Option<&str> {
    match &form.kind {
        SexpKind::Symbol(s) if s.is_keyword() => Some(&s.name),
        _ => None,
    }
}
