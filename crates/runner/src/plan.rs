//! Reading a session file's shape beyond what the compiler says of its forms
//! (`whistler_compiler::file_forms`): where the `with-bpf-session` forms are, each with its
//! `bpf:map`/`bpf:prog` declarations, and whether a file needs the runner at all.

use whistler_compiler::expand::head_symbol;
use whistler_compiler::file_forms::{roles, FormRole};
use whistler_syntax::{Sexp, Span};

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
        let inside =
            |span: Span| self.start <= span.start as usize && span.end as usize <= self.end;
        let declared = defined
            .iter()
            .map(facts)
            .filter(|(_, _, span)| inside(*span));
        declared
            .map(|(name, symbol, _)| (name.clone(), symbol.clone()))
            .collect()
    }
}

fn head_is(form: &Sexp, package: Option<&str>, name: &str) -> bool {
    head_symbol(form)
        .is_some_and(|s| s.name == name && (package.is_none() || s.package.as_deref() == package))
}

/// True for `bpf:map` (or `bpf:prog`) heads.
pub fn is_bpf_form(form: &Sexp, name: &str) -> bool {
    head_is(form, Some("bpf"), name)
}

pub fn is_session_form(form: &Sexp) -> bool {
    head_symbol(form).is_some_and(|s| s.name == "with-bpf-session")
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

/// True when a file needs the session runner: a `with-bpf-session` anywhere, or any top-level
/// form that is neither a definition nor setup (user code to run).
pub fn needs_runner(forms: &[Sexp]) -> bool {
    forms.iter().zip(roles(forms)).any(|(form, role)| {
        let definition = head_is(form, None, "defvar") || head_is(form, None, "defparameter");
        (role == FormRole::Run && !definition) || !sessions(std::slice::from_ref(form)).is_empty()
    })
}
