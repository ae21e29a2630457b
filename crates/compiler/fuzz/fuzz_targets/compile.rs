//! Fuzz target: arbitrary bytes through the reader, the standard macro library and the compiler,
//! as users' files go through them, must never panic.
//! Run with `scripts/fuzz.sh compiler compile [SECONDS]` (stable toolchain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use whistler_syntax::SourceFile;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).to_string();
    let file = SourceFile::new("fuzz.lisp", text);
    let _ = whistler_compiler::compile(&file);
});
