//! Small helpers for diagnostics: error construction and "did you mean" help (the suggestion
//! engine is `whistler_syntax::suggest`).

use whistler_syntax::{Diagnostic, Span};

pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(span, message)
}

/// Appends "did you mean `x`?" help when a close candidate exists.
pub fn with_suggestion<'a>(
    d: Diagnostic,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    match whistler_syntax::suggest::closest(name, candidates) {
        Some(c) => d.with_help(format!("did you mean `{c}`?")),
        None => d,
    }
}
