//! Fuzz target: arbitrary bytes through the reader and the compiler's own forms (no macro
//! library, so each input is fast and the fuzzer reaches deeper into lowering, the passes,
//! register allocation and code generation) must never panic.
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
