//! One module per subcommand, and the shared compile step.

pub mod bpftrace;
pub mod compile;
pub mod disasm;
pub mod doctor;
pub mod run;
pub mod serve;
pub mod test_run;

use std::path::Path;
use whistler_syntax::{render, SourceFile};

/// Why a command failed: either its diagnostics were already printed, or another error.
pub enum Failure {
    Reported,
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::Other(e.into())
    }
}

pub type CommandResult = Result<(), Failure>;

/// Compiles a source file against the kernel BTF `btf` (default: this machine's), printing
/// every diagnostic on failure.
pub fn compile_source(
    file: &SourceFile,
    btf: Option<&Path>,
) -> Result<whistler_compiler::Compiled, Failure> {
    compile_source_for(file, whistler_compiler::Cpu::default(), btf)
}

/// Compiles for a given BPF instruction-set version.
pub fn compile_source_for(
    file: &SourceFile,
    cpu: whistler_compiler::Cpu,
    btf: Option<&Path>,
) -> Result<whistler_compiler::Compiled, Failure> {
    let mut interp = whistler_kernel_host::macro_host_with_btf(btf);
    // Code run while compiling (an `eval-when` with `probe-file`) may read files.
    interp.set_host(Box::new(whistler_runner::os_host::OsHost::read_only()));
    let options = whistler_compiler::Options {
        cpu,
        ..Default::default()
    };
    let compiled = whistler_compiler::compile_in_with(file, options, &mut interp);
    // The evaluator is not needed again, and freeing its many small allocations one by one
    // costs a fair part of a small program's compile; the operating system takes them back at
    // exit in one go.
    std::mem::forget(interp);
    compiled.map_err(|diagnostics| {
        for d in &diagnostics {
            eprint!("{}", render(file, d));
        }
        let n = diagnostics
            .iter()
            .filter(|d| d.severity == whistler_syntax::Severity::Error)
            .count();
        eprintln!(
            "{}: {n} error{} found, nothing written",
            file.name,
            if n == 1 { "" } else { "s" }
        );
        Failure::Reported
    })
}

/// Compiles a Lisp input or passes an object through, returning ELF bytes.
pub fn object_bytes(input: crate::input::Input) -> Result<Vec<u8>, Failure> {
    match input {
        crate::input::Input::Object(bytes) => Ok(bytes),
        crate::input::Input::Lisp(file) => Ok(compile_source(&file, None)?.elf),
    }
}
