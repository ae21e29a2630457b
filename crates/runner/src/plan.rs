//! Reading a session file's shape: which top-level forms are setup to skip, which define the
//! BPF side (structs, constants, macros), which are user code, and where the
//! `with-bpf-session` forms are, each with its `bpf:map`/`bpf:prog` declarations.

use whistler_lisp::Interp;
use whistler_syntax::{Sexp, SexpKind, Span, Symbol};

/// What one top-level form is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopKind {
    /// `(asdf:load-system ...)`, `(ql:quickload ...)`, `(in-package ...)`...: nothing to do.
    Setup,
    /// A BPF-side definition only the compiler reads (`whistler:defstruct` with typed fields,
    /// `defunion`, top-level `defmap`/`defprog`).
    BpfOnly,
    /// Read by the compiler (macros and functions BPF code may use) and evaluated again, in
    /// order, with the user code (`defmacro`, `defun`, `defconstant`, constant `defvar`s).
    Shared,
    /// Runs only as user code, in order.
    User,
}

/// One `with-bpf-session` form: its position in the file and its BPF declarations.
#[derive(Clone, Debug)]
pub struct SessionForm {
    /// Byte offset of the form in the file: how the running form finds its compiled object.
    pub start: usize,
    /// Byte offset of the form's end.
    pub end: usize,
    /// The `bpf:map` forms, in order.
    pub maps: Vec<Sexp>,
    /// The `bpf:prog` forms, in order.
    pub progs: Vec<Sexp>,
}

impl SessionForm {
    /// (Lisp name, object name) of what the compiler says the form defines, among `defined`
    /// (the compiled maps or programs, `facts` giving their names and defining spans).
    pub fn declared<T>(
        &self,
        defined: &[T],
        facts: impl Fn(&T) -> (&String, &String, Span),
    ) -> Vec<(String, String)> {
        let inside = |span: Span| self.start <= span.start as usize && span.end as usize <= self.end;
        let declared = defined.iter().map(facts).filter(|(_, _, span)| inside(*span));
        declared
            .map(|(name, symbol, _)| (name.clone(), symbol.clone()))
            .collect()
    }
}

/// The name a `bpf:map`/`bpf:prog`/`defstruct` form declares.
pub fn declared_name(form: &Sexp) -> Option<String> {
    let items = form.as_list()?;
    let name = items.get(1)?.as_symbol()?;
    Some(name.name.clone())
}

/// The head symbol of a list form.
pub fn head(form: &Sexp) -> Option<&Symbol> {
    form.as_list()?.first()?.as_symbol()
}

fn head_is(form: &Sexp, package: Option<&str>, name: &str) -> bool {
    head(form)
        .is_some_and(|s| s.name == name && (package.is_none() || s.package.as_deref() == package))
}

/// True for `bpf:map` (or `bpf:prog`) heads.
pub fn is_bpf_form(form: &Sexp, name: &str) -> bool {
    head_is(form, Some("bpf"), name)
}

pub fn is_session_form(form: &Sexp) -> bool {
    head(form).is_some_and(|s| s.name == "with-bpf-session")
}

/// Scalar type names a `whistler:defstruct` field may have.
const FIELD_TYPES: &[&str] = &[
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "s8", "s16", "s32", "s64",
];

/// Classifies a top-level form. `bpf_structs` holds the BPF struct names seen so far (a field
/// of such a type makes a `defstruct` a BPF one).
pub fn classify(form: &Sexp, bpf_structs: &[String]) -> TopKind {
    let Some(sym) = head(form) else {
        return TopKind::User;
    };
    let package = sym.package.as_deref();
    match sym.name.as_str() {
        "load-system" | "quickload" | "in-package" | "require" | "provide" | "defpackage"
        | "use-package" | "declaim" | "load"
            if package != Some("bpf") =>
        {
            TopKind::Setup
        }
        "defstruct" | "struct" if package == Some("whistler") || package == Some("bpf") => {
            TopKind::BpfOnly
        }
        "defstruct" if is_typed_struct(form, bpf_structs) => TopKind::BpfOnly,
        "defunion" | "defmap" | "defprog" => TopKind::BpfOnly,
        "defmacro" | "defun" | "defconstant" | "defconst" | "eval-when" | "defsetf" => {
            TopKind::Shared
        }
        "defvar" | "defparameter" if has_constant_value(form) => TopKind::Shared,
        _ => TopKind::User,
    }
}

/// `(defstruct NAME (FIELD TYPE)...)` with every TYPE a BPF type: Whistler's struct.
fn is_typed_struct(form: &Sexp, bpf_structs: &[String]) -> bool {
    let Some(items) = form.as_list() else {
        return false;
    };
    let fields = items.get(2..).unwrap_or_default();
    !fields.is_empty()
        && fields.iter().all(|f| {
            let Some([_, ty]) = f.as_list() else {
                return false;
            };
            match &ty.kind {
                SexpKind::Symbol(s) => {
                    FIELD_TYPES.contains(&s.name.as_str()) || bpf_structs.contains(&s.name)
                }
                SexpKind::List(l) => l.first().is_some_and(|h| h.is_symbol_named("array")),
                _ => false,
            }
        })
}

/// `(defvar NAME)` or `(defvar NAME LITERAL ...)`: safe to evaluate before user code runs.
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

/// True when a top-level form is a `defmap` or `defprog`: what `compile-to-elf` writes.
pub fn defines_programs(forms: &[Sexp]) -> bool {
    forms
        .iter()
        .any(|f| head_is(f, None, "defmap") || head_is(f, None, "defprog"))
}

/// Every `with-bpf-session` form anywhere in `forms` (also inside `defun`s), outermost first.
pub fn sessions(forms: &[Sexp]) -> Vec<SessionForm> {
    let mut out = Vec::new();
    for form in forms {
        collect_sessions(form, &mut out, 0);
    }
    out
}

fn collect_sessions(form: &Sexp, out: &mut Vec<SessionForm>, depth: usize) {
    let Some(items) = form.as_list() else {
        return;
    };
    if depth > whistler_syntax::MAX_DEPTH {
        return;
    }
    if is_session_form(form) {
        let body = items.get(2..).unwrap_or_default();
        out.push(SessionForm {
            start: form.span.start as usize,
            end: form.span.end as usize,
            maps: body
                .iter()
                .filter(|f| is_bpf_form(f, "map"))
                .cloned()
                .collect(),
            progs: body
                .iter()
                .filter(|f| is_bpf_form(f, "prog"))
                .cloned()
                .collect(),
        });
    }
    for item in items {
        collect_sessions(item, out, depth + 1);
    }
}

/// The top-level forms with each user macro call that expands to definitions (a
/// `whistler:defstruct`, a `defmacro` such as `deftracepoint` makes...) replaced by its
/// expansion, `progn`s spliced, so that the compiler sees those definitions. Calls that expand
/// to user code stay as written and run in order. Definitions (`Shared` forms) are evaluated on
/// the way, so a macro defined by an earlier form expands later ones; their errors are reported
/// when the compiler evaluates them again.
pub fn expand_definitions(forms: &[Sexp], interp: &mut Interp) -> Vec<Sexp> {
    let mut out = Vec::new();
    for form in forms {
        expand_definition(form, interp, &mut out, 0);
    }
    out
}

fn expand_definition(form: &Sexp, interp: &mut Interp, out: &mut Vec<Sexp>, depth: usize) {
    match classify(form, &[]) {
        TopKind::Shared => {
            let _ = interp.eval_toplevel(form);
        }
        TopKind::User if depth < MAX_EXPANSIONS && !is_session_form(form) => {
            let expansion = head(form)
                .filter(|h| interp.is_macro(h))
                .and_then(|_| interp.macroexpand_1(form).ok().flatten());
            if let Some(expansion) = expansion {
                let pieces = match expansion.as_list() {
                    Some([h, rest @ ..]) if h.is_symbol_named("progn") => rest.to_vec(),
                    _ => vec![expansion],
                };
                let mut expanded = Vec::new();
                for piece in &pieces {
                    expand_definition(piece, interp, &mut expanded, depth + 1);
                }
                if expanded.iter().any(|f| classify(f, &[]) != TopKind::User) {
                    out.extend(expanded);
                    return;
                }
            }
        }
        _ => {}
    }
    out.push(form.clone());
}

/// How many macro expansions deep a top-level form is followed looking for definitions.
const MAX_EXPANSIONS: usize = 100;

/// True when a file needs the session runner: a `with-bpf-session` anywhere, or any top-level
/// form that is neither a definition nor setup (user code to run).
pub fn needs_runner(forms: &[Sexp]) -> bool {
    let mut structs = Vec::new();
    forms.iter().any(|form| {
        let kind = classify(form, &structs);
        if kind == TopKind::BpfOnly && head_is(form, None, "defstruct") {
            structs.extend(declared_name(form));
        }
        let definition = head_is(form, None, "defvar") || head_is(form, None, "defparameter");
        (kind == TopKind::User && !definition) || !sessions(std::slice::from_ref(form)).is_empty()
    })
}
