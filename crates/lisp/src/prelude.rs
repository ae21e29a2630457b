//! The part of the standard library written in Lisp (`prelude.lisp`): macros that are plain
//! rewrites (`handler-bind`, `restart-case`, `with-open-file`, `define-modify-macro`...) and
//! functions that are short in Lisp. It is loaded into every evaluator, before anything else.

use crate::interp::Interp;
use whistler_syntax::{ReadOptions, SourceFile};

const PRELUDE: &str = include_str!("prelude.lisp");

/// Loads the prelude.
///
/// # Panics
/// When the prelude does not load: a bug that this crate's tests catch.
pub fn load(interp: &mut Interp) {
    let file = SourceFile::new("prelude.lisp", PRELUDE);
    let read = whistler_syntax::read_with(&file, ReadOptions { host_code: true });
    assert!(
        read.diagnostics.is_empty(),
        "prelude.lisp: {:?}",
        read.diagnostics
    );
    for form in &read.forms {
        if let Err(e) = interp.eval_library_form(form) {
            panic!("prelude.lisp does not load: {e}");
        }
    }
}
