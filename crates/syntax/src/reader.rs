//! The reader (to be implemented).

use crate::{Diagnostic, Sexp, SourceFile};

/// Everything read from one file: the forms that could be read and every problem found.
#[derive(Clone, Debug, Default)]
pub struct ReadResult {
    pub forms: Vec<Sexp>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads every top-level form of `file`.
pub fn read(file: &SourceFile) -> ReadResult {
    let _ = file;
    ReadResult::default()
}
