//! The `session!` and `with_bpf_session!` proc macros: Lisp written in Rust source is compiled to
//! BPF while `cargo build` runs, embedded as bytes, and wrapped in a typed session struct.
//!
//! The macro is thin: parse the header, rebuild the Lisp text from the tokens (`tokens.rs`),
//! run the compiler, and either emit the session (`expand.rs`) or turn every diagnostic into a
//! `compile_error!` at the exact Lisp atom (`errors.rs`).

mod errors;
mod expand;
mod input;
mod names;
mod tokens;

use proc_macro::TokenStream;

/// Declares a BPF session type from Whistler Lisp forms. See the `whistler` crate for the syntax.
#[proc_macro]
pub fn session(input: TokenStream) -> TokenStream {
    let call_file = call_site_file();
    expand::session(input.into(), call_file).into()
}

/// Loads a session for the duration of a closure-like body, then closes everything:
/// `with_bpf_session!({ lisp forms } |s| { body })` evaluates to `whistler::Result<body's type>`.
#[proc_macro]
pub fn with_bpf_session(input: TokenStream) -> TokenStream {
    let call_file = call_site_file();
    expand::scoped_session(input.into(), call_file).into()
}

/// The source file of the macro call, as rustc names it and as a path on disk.
fn call_site_file() -> input::CallFile {
    let span = proc_macro::Span::call_site();
    input::CallFile {
        display_name: span.file(),
        local_path: span.local_file(),
    }
}
