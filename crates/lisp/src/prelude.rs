//! The part of the standard library written in Lisp (`prelude.lisp`): macros that are plain
//! rewrites (`handler-bind`, `restart-case`, `with-open-file`, `define-modify-macro`...) and
//! functions that are short in Lisp. It is loaded into every evaluator, before anything else;
//! its `defun`s and `defmacro`s are evaluated on first use (`library.rs`).

use crate::interp::Interp;
use whistler_syntax::ReadOptions;

const PRELUDE: &str = include_str!("prelude.lisp");

/// The prelude's top-level lists, split by the build script.
const PRELUDE_LISTS: &[whistler_syntax::LibraryList<'static>] =
    include!(concat!(env!("OUT_DIR"), "/prelude_lists.rs"));

/// Loads the prelude.
///
/// # Panics
/// When the prelude does not load: a bug that this crate's tests catch.
pub fn load(interp: &mut Interp) {
    let options = ReadOptions { host_code: true };
    let errors = interp.load_split_library(PRELUDE, PRELUDE_LISTS, options);
    assert!(errors.is_empty(), "prelude.lisp does not load: {errors:?}");
}

#[cfg(test)]
mod tests {
    /// The prelude splits into its top-level lists without being read, so only the definitions
    /// a program uses are ever read; the build script's table is that split.
    #[test]
    fn the_prelude_splits_without_reading() {
        let lists = whistler_syntax::library_lists(super::PRELUDE);
        assert_eq!(lists.as_deref(), Some(super::PRELUDE_LISTS));
    }
}
