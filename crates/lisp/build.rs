//! Splits the prelude into its top-level lists at build time (`whistler_syntax::library_table`),
//! so that an evaluator's start does not skim its text.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/prelude.lisp");
    let text = std::fs::read_to_string("src/prelude.lisp").expect("src/prelude.lisp");
    let table = whistler_syntax::library_table(&text)
        .expect("prelude.lisp splits into top-level lists without being read");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("prelude_lists.rs"), table).expect("writing prelude_lists.rs");
}
