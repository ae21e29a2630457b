//! `whistler bpftrace -e 'PROGRAM' | FILE.bt | - [ARGS]... [-l [PATTERN]] [-f json] [-q]
//! [-c CMD] [-p PID] [--dump] [--unsafe] [--aot OUT]`: bpftrace scripts compiled by our compiler
//! and run on our loader (`whistler-bpftrace`), printed as bpftrace prints. `--aot OUT` writes
//! the compiled script (object and plan) instead of running it; `--run-aot FILE` runs such a
//! file without compiling anything.

use super::{CommandResult, Failure};
use anyhow::{bail, Context};
use std::io::Read;
use whistler_bpftrace::{Format, RunOptions, Settings};
use whistler_syntax::{render, SourceFile};

#[derive(clap::Args)]
pub struct Args {
    /// The program text.
    #[arg(short = 'e', value_name = "PROGRAM")]
    program: Option<String>,
    /// List the probes matching PATTERN (all when none) instead of running.
    #[arg(short = 'l', value_name = "PATTERN", num_args = 0..=1, default_missing_value = "")]
    list: Option<String>,
    /// Output format: text or json (one JSON object per line).
    #[arg(short = 'f', value_name = "FORMAT", default_value = "text")]
    format: String,
    /// Quiet: no "Attaching N probes..." line.
    #[arg(short = 'q')]
    quiet: bool,
    /// Run COMMAND once attached and stop when it exits (its pid is `cpid`).
    #[arg(short = 'c', value_name = "COMMAND")]
    command: Option<String>,
    /// Stop when process PID exits.
    #[arg(short = 'p', value_name = "PID")]
    pid: Option<u32>,
    /// Print the compiler's IR and assembly of every probe instead of running.
    #[arg(long)]
    dump: bool,
    /// Allow system().
    #[arg(long = "unsafe")]
    allow_unsafe: bool,
    /// Compile ahead of time: write the object and its plan to OUT instead of running.
    #[arg(long = "aot", value_name = "OUT")]
    aot: Option<std::path::PathBuf>,
    /// Run a file written by --aot (nothing is compiled).
    #[arg(long = "run-aot", value_name = "FILE", conflicts_with_all = ["program", "aot", "dump"])]
    run_aot: Option<std::path::PathBuf>,
    /// A script file (`-` for standard input) unless -e is given, then its positional
    /// parameters ($1, $2...). Options may come before, between or after them, as bpftrace's
    /// getopt permutes; after `--` everything is a parameter.
    #[arg(allow_negative_numbers = true, num_args = 0..)]
    args: Vec<String>,
}

pub fn run(args: Args) -> CommandResult {
    if let Some(pattern) = &args.list {
        let pattern = (!pattern.is_empty()).then_some(pattern.as_str());
        for name in whistler_bpftrace::probes::list(pattern) {
            println!("{name}");
        }
        return Ok(());
    }
    if let Some(path) = &args.run_aot {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let program = whistler_bpftrace::aot::read(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let options = run_options(&args)?;
        let stop = whistler_session::stop_on_ctrl_c()?;
        let stdout = std::io::stdout();
        whistler_bpftrace::run_object(
            &program.elf,
            &program.plan,
            &options,
            &stop,
            &mut stdout.lock(),
        )?;
        return Ok(());
    }
    let (file, positional) = source(&args)?;
    let settings = Settings {
        positional,
        unsafe_allowed: args.allow_unsafe,
    };
    let options = whistler_compiler::Options {
        dump: args.dump,
        ..Default::default()
    };
    let compiled =
        whistler_bpftrace::compile(&file, &settings, options).map_err(|diagnostics| {
            for d in &diagnostics {
                eprint!("{}", render(&file, d));
            }
            Failure::Reported
        })?;
    if args.dump {
        for dump in &compiled.object.dumps {
            println!(
                "; {}\n{}\n; optimized IR\n{}\n; assembly\n{}",
                dump.name, dump.expanded, dump.optimized_ir, dump.asm
            );
        }
        return Ok(());
    }
    if let Some(out) = &args.aot {
        std::fs::write(out, whistler_bpftrace::aot::write(&compiled))
            .with_context(|| format!("cannot write {}", out.display()))?;
        return Ok(());
    }
    let options = run_options(&args)?;
    let stop = whistler_session::stop_on_ctrl_c()?;
    let stdout = std::io::stdout();
    whistler_bpftrace::run(&compiled, &options, &stop, &mut stdout.lock())?;
    Ok(())
}

fn run_options(args: &Args) -> anyhow::Result<RunOptions> {
    let format = match args.format.as_str() {
        "text" => Format::Text,
        "json" => Format::Json,
        other => bail!("unknown output format `{other}` (text or json)"),
    };
    Ok(RunOptions {
        format,
        quiet: args.quiet,
        command: args.command.clone(),
        pid: args.pid,
        duration: None,
    })
}

/// The script and its positional parameters.
fn source(args: &Args) -> anyhow::Result<(SourceFile, Vec<String>)> {
    if let Some(program) = &args.program {
        return Ok((SourceFile::new("-e", program.clone()), args.args.clone()));
    }
    let Some((path, rest)) = args.args.split_first() else {
        bail!("give a program with -e 'PROGRAM' or a script file (- for standard input)");
    };
    let text = if path == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?
    };
    Ok((SourceFile::new(path.clone(), text), rest.to_vec()))
}
