//! Writes the standard macro library's table (`lisp_host::STANDARD_LIBRARY`): each file of
//! `lib/`, in load order, with its text and its top-level lists split here, at build time
//! (`whistler_syntax::library_table`), so that a compile does not skim the library's text.

use std::fmt::Write;
use std::path::PathBuf;

/// The standard macro library's files, in load order.
const FILES: &[&str] = &[
    "lib/core.lisp",
    "lib/headers.lisp",
    "lib/standard-headers.expanded.lisp",
    "lib/packets.lisp",
    "lib/user-memory.lisp",
    "lib/tracepoints.lisp",
    "lib/kernel-structs.lisp",
];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let mut table = String::from("&[\n");
    for file in FILES {
        println!("cargo:rerun-if-changed={file}");
        let path = manifest.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let lists = whistler_syntax::library_table(&text)
            .unwrap_or_else(|| panic!("{file} does not split into top-level lists"));
        writeln!(
            table,
            "({file:?}, include_str!({:?}), {lists}),",
            path.display().to_string()
        )
        .expect("writing to a string");
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("standard_library.rs"), table).expect("writing standard_library.rs");
}
