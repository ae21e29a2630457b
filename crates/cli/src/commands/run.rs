//! `whistler run IN.bpf.o|IN.lisp [--duration S] [--target PROG=TARGET]... [--json]`.

use super::CommandResult;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    input: PathBuf,
}

pub fn run(_args: Args) -> CommandResult {
    Err(anyhow::anyhow!("run: waiting for object loading").into())
}
