//! A bpftrace front end on Whistler: bpftrace scripts compiled by our compiler (no LLVM, no
//! clang) and run on our loader and session core.
//!
//! The pipeline: [`parser`] (text to [`ast`], diagnostics with spans) → [`translate`] (types
//! checked; the compiler's input forms, built directly as spanned s-expressions, plus the
//! runtime's [`plan::Plan`]) → `whistler_compiler::compile_with` (ELF) → [`runtime`] (load,
//! attach, events, maps printed by [`output`], symbols by [`symbols`]).

pub mod aot;
pub mod ast;
mod forms;
pub mod kernel_types;
pub mod output;
pub mod parser;
pub mod plan;
pub mod printf;
pub mod probes;
pub mod runtime;
pub mod script_types;
pub mod symbols;
mod time;
pub mod translate;
pub mod types;

pub use output::Format;
pub use runtime::{run, run_object, RunError, RunOptions};
pub use translate::Settings;

use whistler_syntax::{Diagnostic, SourceFile};

/// Bytes of `str()` buffers and string fields read from `__data_loc` (bpftrace's default).
pub const STRING_SIZE: usize = 64;

/// A compiled script: the object and what the runtime needs to run it.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub object: whistler_compiler::Compiled,
    pub plan: plan::Plan,
}

/// Parses, checks and compiles a script; every mistake is a diagnostic on `file`.
pub fn compile(
    file: &SourceFile,
    settings: &Settings,
    options: whistler_compiler::Options,
) -> Result<Compiled, Vec<Diagnostic>> {
    let (script, diags) = parser::parse(file);
    if !diags.is_empty() {
        return Err(diags);
    }
    if script.probes.is_empty() {
        return Err(vec![Diagnostic::error(
            whistler_syntax::Span::default(),
            "the script has no probes",
        )]);
    }
    let (forms, plan, diags) = translate::translate(&script, settings);
    if !diags.is_empty() {
        return Err(diags);
    }
    let object =
        whistler_compiler::compile_with(file, &forms, options, &mut whistler_compiler::NoMacros)?;
    Ok(Compiled { object, plan })
}
