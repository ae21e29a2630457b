//! The part of the standard library written in Lisp (`prelude.lisp`): macros that are plain
//! rewrites (`handler-bind`, `restart-case`, `with-open-file`, `define-modify-macro`...) and
//! functions that are short in Lisp. It is loaded into every evaluator, before anything else;
//! its `defun`s and `defmacro`s are evaluated on first use (`library.rs`).

use crate::interp::Interp;
use whistler_syntax::ReadOptions;

const PRELUDE: &str = include_str!("prelude.lisp");

/// Loads the prelude.
///
/// # Panics
/// When the prelude does not load: a bug that this crate's tests catch.
pub fn load(interp: &mut Interp) {
    let errors = interp.load_library("prelude.lisp", PRELUDE, ReadOptions { host_code: true });
    assert!(errors.is_empty(), "prelude.lisp does not load: {errors:?}");
}

#[cfg(test)]
mod tests {
    /// The prelude splits into its top-level lists without being read, so only the definitions
    /// a program uses are ever read.
    #[test]
    fn the_prelude_splits_without_reading() {
        assert!(whistler_syntax::top_level_lists(super::PRELUDE).is_some());
    }
}
