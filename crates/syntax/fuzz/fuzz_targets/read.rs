//! Fuzz target: any bytes, taken as (lossy) UTF-8, read without panicking; every diagnostic
//! renders, and every form read prints as text that reads back to the same forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whistler_syntax::{read, render, read_str, SourceFile};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let file = SourceFile::new("fuzz.lisp", text);
    let result = read(&file);
    for d in &result.diagnostics {
        let _ = render(&file, d);
    }
    let printed: Vec<String> = result.forms.iter().map(|f| f.to_string()).collect();
    let reread = read_str(&printed.join("\n"));
    assert!(reread.diagnostics.is_empty());
    let again: Vec<String> = reread.forms.iter().map(|f| f.to_string()).collect();
    assert_eq!(printed, again);
});
