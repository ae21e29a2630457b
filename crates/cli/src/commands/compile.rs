//! `whistler compile IN.lisp [-o OUT.bpf.o] [--cpu v1|v2|v3|v4] [--gen c|go|rust|python|lisp|all]
//! [--btf FILE]`.

use super::{compile_source_for, CommandResult};
use crate::generate::{generate, Definitions, Language};
use anyhow::anyhow;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The Whistler Lisp source.
    input: PathBuf,
    /// Where to write the object (default: the input with `.bpf.o`).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The BPF instruction-set version to emit for, like clang's -mcpu: v1, v2, v3 or v4. From
    /// v3 on, constant map keys and values are read from the object's .rodata (Linux 5.2).
    #[arg(long, default_value = "v3")]
    cpu: whistler_compiler::Cpu,
    /// Also write user-space type definitions of every defstruct and defconstant next to the
    /// input: IN.h, IN_types.go, IN_types.rs, IN_types.py or IN_types.lisp (all: every one).
    #[arg(long = "gen", value_name = "LANG")]
    generate: Option<Language>,
    /// Read kernel struct layouts from this BTF file instead of /sys/kernel/btf/vmlinux (a
    /// kernel built without it, or another machine's: btfhub-style files). Also $WHISTLER_BTF.
    #[arg(long, value_name = "FILE")]
    btf: Option<PathBuf>,
}

pub fn run(args: Args) -> CommandResult {
    let crate::input::Input::Lisp(file) = crate::input::read(&args.input)? else {
        return Err(anyhow!(
            "{} is already a BPF object; `whistler compile` takes Lisp source",
            args.input.display()
        )
        .into());
    };
    let compiled = compile_source_for(&file, args.cpu, args.btf.as_deref())?;
    if let Some(language) = args.generate {
        let stem = args
            .input
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("out");
        let defs = Definitions {
            structs: &compiled.structs,
            constants: &compiled.constants,
        };
        for (suffix, text) in generate(language, stem, &defs) {
            let path = args.input.with_file_name(format!("{stem}{suffix}"));
            crate::output::write(&path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
    }
    let output = args
        .output
        .unwrap_or_else(|| args.input.with_extension("bpf.o"));
    crate::output::write(&output, &compiled.elf)?;
    let programs = compiled.spec.programs.len();
    let maps = compiled.spec.maps.len();
    // One line, one write: standard error is unbuffered, and `eprintln!` with arguments writes
    // each piece with its own system call.
    let line = format!(
        "wrote {} ({programs} program{}, {maps} map{})\n",
        output.display(),
        if programs == 1 { "" } else { "s" },
        if maps == 1 { "" } else { "s" },
    );
    eprint!("{line}");
    Ok(())
}
