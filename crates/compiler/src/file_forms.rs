//! The top-level forms of a file that mixes BPF definitions with Lisp code to run (a session
//! file): which are setup to skip, which only the compiler reads, which both the compiler and
//! the running code need, and which are code to run. The compiler decides, because it is the
//! one that knows its definitions and types; the session runner reads the answer.

use crate::ast::Ty;
use crate::expand::{head_symbol, MacroHost, MAX_EXPANSIONS};
use whistler_syntax::{Sexp, SexpKind};

/// What one top-level form is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormRole {
    /// `(asdf:load-system ...)`, `(ql:quickload ...)`, `(in-package ...)`...: nothing to do.
    Setup,
    /// A BPF-side definition only the compiler reads (`whistler:defstruct` or a `defstruct`
    /// with BPF field types, `defunion`, top-level `defmap`/`defprog`/`defmetric`).
    Bpf,
    /// Read by the compiler (macros and functions BPF code may use) and evaluated again, in
    /// order, with the code that runs (`defmacro`, `defun`, `defconstant`, constant `defvar`s).
    Shared,
    /// Code that runs, in order; the compiler does not see it.
    Run,
}

/// The role of every form, in order (a `defstruct` whose fields use a BPF struct defined
/// earlier is a BPF one).
pub fn roles(forms: &[Sexp]) -> Vec<FormRole> {
    let mut bpf_names = Vec::new();
    let roles = forms.iter().map(|form| {
        let role = role(form, &bpf_names);
        if role == FormRole::Bpf {
            bpf_names.extend(defined_name(form).map(str::to_string));
        }
        role
    });
    roles.collect()
}

/// The role of one form; `bpf_structs` are the BPF struct names defined before it.
pub fn role(form: &Sexp, bpf_structs: &[String]) -> FormRole {
    let Some(sym) = head_symbol(form) else {
        return FormRole::Run;
    };
    let package = sym.package.as_deref();
    match sym.name.as_str() {
        "load-system" | "quickload" | "in-package" | "require" | "provide" | "defpackage"
        | "use-package" | "declaim" | "load"
            if package != Some("bpf") =>
        {
            FormRole::Setup
        }
        "defstruct" | "struct" if package == Some("whistler") || package == Some("bpf") => {
            FormRole::Bpf
        }
        "defstruct" if has_bpf_fields(form, bpf_structs) => FormRole::Bpf,
        "defunion" | "defmap" | "defprog" | "defmetric" => FormRole::Bpf,
        "defmacro" | "defun" | "defconstant" | "defconst" | "eval-when" | "defsetf" => {
            FormRole::Shared
        }
        "defvar" | "defparameter" if has_constant_value(form) => FormRole::Shared,
        _ => FormRole::Run,
    }
}

/// The name a definition form defines.
fn defined_name(form: &Sexp) -> Option<&str> {
    Some(&form.as_list()?.get(1)?.as_symbol()?.name)
}

/// `(defstruct NAME (FIELD TYPE)...)` with every TYPE a BPF type: Whistler's struct, not
/// Common Lisp's.
fn has_bpf_fields(form: &Sexp, bpf_structs: &[String]) -> bool {
    let fields = form.as_list().and_then(|l| l.get(2..)).unwrap_or_default();
    !fields.is_empty()
        && fields.iter().all(|f| {
            let Some([_, ty]) = f.as_list() else {
                return false;
            };
            match &ty.kind {
                SexpKind::Symbol(s) => {
                    Ty::from_name(&s.name).is_some() || bpf_structs.contains(&s.name)
                }
                SexpKind::List(l) => l.first().is_some_and(|h| h.is_symbol_named("array")),
                _ => false,
            }
        })
}

/// `(defvar NAME)` or `(defvar NAME LITERAL ...)`: safe to evaluate before the code runs.
fn has_constant_value(form: &Sexp) -> bool {
    match form.as_list().and_then(|l| l.get(2)) {
        None => true,
        Some(v) => match &v.kind {
            SexpKind::List(l) => l.first().is_some_and(|h| h.is_symbol_named("quote")),
            SexpKind::Symbol(s) => s.is_keyword() || s.name == "nil" || s.name == "t",
            _ => true,
        },
    }
}

/// The top-level forms with each user macro call that expands to definitions (a
/// `whistler:defstruct`, what a `deftracepoint` makes...) replaced by its expansion, `progn`s
/// spliced, so that the compiler sees those definitions. Calls that expand to code to run stay
/// as written. `Shared` forms are evaluated on the way, so a macro defined by an earlier form
/// expands later ones; their errors are reported when the compiler evaluates them again.
/// `keep` tells forms the runner handles itself (its session forms), which are never expanded.
pub fn expand_definitions(
    forms: &[Sexp],
    host: &mut dyn MacroHost,
    keep: impl Fn(&Sexp) -> bool,
) -> Vec<Sexp> {
    let mut out = Vec::new();
    for form in forms {
        expand_definition(form, host, &keep, &mut out, 0);
    }
    out
}

fn expand_definition(
    form: &Sexp,
    host: &mut dyn MacroHost,
    keep: &dyn Fn(&Sexp) -> bool,
    out: &mut Vec<Sexp>,
    depth: usize,
) {
    match role(form, &[]) {
        FormRole::Shared => {
            let _ = host.eval_toplevel(form);
        }
        FormRole::Run if depth < MAX_EXPANSIONS && !keep(form) => {
            let expansion = head_symbol(form)
                .filter(|h| host.is_macro(h))
                .and_then(|_| host.macroexpand_1(form).ok().flatten());
            if let Some(expansion) = expansion {
                let pieces = match expansion.as_list() {
                    Some([h, rest @ ..]) if h.is_symbol_named("progn") => rest.to_vec(),
                    _ => vec![expansion],
                };
                let mut expanded = Vec::new();
                for piece in &pieces {
                    expand_definition(piece, host, keep, &mut expanded, depth + 1);
                }
                if expanded.iter().any(|f| role(f, &[]) != FormRole::Run) {
                    out.extend(expanded);
                    return;
                }
            }
        }
        _ => {}
    }
    out.push(form.clone());
}
