//! The `whistler` command line tool: compile, disassemble, test-run and run BPF programs.
//! This is the only crate that prints.

mod commands;
mod generate;
mod input;
mod map_view;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "whistler",
    version,
    about = "Whistler Lisp to eBPF: compile, inspect, load and run"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Each subcommand's arguments are defined only when it is the one invoked (or for help): a
/// short compile does not build every other subcommand's definitions first.
#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Compile a .lisp file to a BPF ELF object.
    Compile(commands::compile::Args),
    /// Print readable assembly of a .lisp file or a BPF object, with source lines interleaved.
    Disasm(commands::disasm::Args),
    /// Run one program once (or N times) with BPF_PROG_TEST_RUN and print its result.
    TestRun(commands::test_run::Args),
    /// Load, attach and run an object or a Lisp file until Ctrl-C or --duration, printing
    /// ring-buffer records as they arrive and every map at the end.
    Run(commands::run::Args),
    /// Report what this machine allows: kernel, BTF, filesystems, capabilities, lockdown, and
    /// which program and map kinds load (probed), each with what to do when missing.
    Doctor(commands::doctor::Args),
    /// Load, attach every program and serve every map at /metrics for Prometheus until Ctrl-C.
    Serve(commands::serve::Args),
    /// Run a bpftrace script (-e 'PROGRAM', FILE.bt or - for standard input) compiled by
    /// Whistler's compiler, printing as bpftrace does; -l lists probes.
    Bpftrace(commands::bpftrace::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile(args) => commands::compile::run(args),
        Command::Disasm(args) => commands::disasm::run(args),
        Command::TestRun(args) => commands::test_run::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Doctor(args) => commands::doctor::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Bpftrace(args) => commands::bpftrace::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(commands::Failure::Reported) => ExitCode::FAILURE,
        Err(commands::Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
