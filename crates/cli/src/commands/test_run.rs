//! `whistler test-run IN.lisp|IN.bpf.o --prog NAME [--data FILE | --data-hex HEX] [--repeat N]`.

use super::CommandResult;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    input: PathBuf,
    #[arg(long)]
    prog: String,
    #[arg(long, conflicts_with = "data_hex")]
    data: Option<PathBuf>,
    #[arg(long)]
    data_hex: Option<String>,
    #[arg(long, default_value_t = 1)]
    repeat: u32,
}

pub fn run(_args: Args) -> CommandResult {
    Err(anyhow::anyhow!("test-run: waiting for object loading").into())
}
