//! `whistler compile IN.lisp [-o OUT.bpf.o] [--cpu v1|v2|v3|v4]`.

use super::{compile_source_for, CommandResult};
use anyhow::{anyhow, Context};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The Whistler Lisp source.
    input: PathBuf,
    /// Where to write the object (default: the input with `.bpf.o`).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The BPF instruction-set version to emit for, like clang's -mcpu: v1, v2, v3 or v4.
    #[arg(long, default_value = "v3")]
    cpu: whistler_compiler::Cpu,
}

pub fn run(args: Args) -> CommandResult {
    let crate::input::Input::Lisp(file) = crate::input::read(&args.input)? else {
        return Err(anyhow!(
            "{} is already a BPF object; `whistler compile` takes Lisp source",
            args.input.display()
        )
        .into());
    };
    let compiled = compile_source_for(&file, args.cpu)?;
    let output = args
        .output
        .unwrap_or_else(|| args.input.with_extension("bpf.o"));
    std::fs::write(&output, &compiled.elf)
        .with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!(
        "wrote {} ({} program{}, {} map{})",
        output.display(),
        compiled.spec.programs.len(),
        if compiled.spec.programs.len() == 1 {
            ""
        } else {
            "s"
        },
        compiled.spec.maps.len(),
        if compiled.spec.maps.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    Ok(())
}
