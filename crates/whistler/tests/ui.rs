//! Compile-fail tests of `session!` and `with_bpf_session!`: each `tests/ui/*.rs` holds one
//! mistake, and the `.stderr` beside it records rustc's message with the exact line:col of the
//! offending Lisp atom. Regenerate with `TRYBUILD=overwrite cargo test -p whistler --test ui`,
//! then read every changed `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
