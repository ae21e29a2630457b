//! Fuzz target: arbitrary bytes through the reader and the compiler's built-in forms, without
//! the standard macro library, must never panic.
//!
//! What users run is the `compile` target (reader, standard macro library, compiler). This one
//! trades the library for speed: loading it costs about 7 ms per input (release build, measured
//! when the Rust copy of the protocol library was removed), over a hundred times the cost of
//! compiling a small program, and the evaluator cannot be cloned to load it once. Without the
//! library every Rust path this target reaches is one user programs reach too, since the library
//! only expands to built-in forms; inputs using library macros stop at "unknown form", so the
//! library's expansions are fuzzed by `compile` only.
//! Run with `scripts/fuzz.sh compiler compile_core [SECONDS]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whistler_compiler::{compile_with, NoMacros, Options};
use whistler_syntax::SourceFile;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).to_string();
    let file = SourceFile::new("fuzz.lisp", text);
    let read = whistler_syntax::read(&file);
    let _ = compile_with(&file, &read.forms, Options::default(), &mut NoMacros);
});
