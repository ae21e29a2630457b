//! `whistler test-run IN.lisp|IN.bpf.o --prog NAME [--data FILE | --data-hex HEX] [--repeat N]`:
//! one BPF_PROG_TEST_RUN, printing the return value, the duration and the output packet.

use super::{object_bytes, CommandResult};
use anyhow::{anyhow, Context};
use std::path::PathBuf;
use whistler_bpf::ProgramType;
use whistler_loader::object::Object;
use whistler_loader::{LoadOptions, TestRun};

#[derive(clap::Args)]
pub struct Args {
    /// A Whistler Lisp source or a BPF ELF object.
    input: PathBuf,
    /// The program to run (its Lisp or symbol name).
    #[arg(long)]
    prog: String,
    /// A file holding the input packet.
    #[arg(long, conflicts_with = "data_hex")]
    data: Option<PathBuf>,
    /// The input packet as hex digits (spaces allowed).
    #[arg(long)]
    data_hex: Option<String>,
    /// Run this many times; the duration printed is the average.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
}

/// Programs that take a packet; they get 64 zero bytes when no data is given.
fn takes_packet(t: ProgramType) -> bool {
    use ProgramType as P;
    matches!(
        t,
        P::XDP
            | P::SCHED_CLS
            | P::SCHED_ACT
            | P::SOCKET_FILTER
            | P::CGROUP_SKB
            | P::LWT_IN
            | P::LWT_OUT
            | P::LWT_XMIT
            | P::SK_SKB
            | P::FLOW_DISSECTOR
    )
}

pub fn run(args: Args) -> CommandResult {
    let bytes = object_bytes(crate::input::read(&args.input)?)?;
    let object = Object::load(&bytes, &LoadOptions::default())?;
    let name = whistler_object::symbol_name(&args.prog);
    let program = object.program(&name).ok_or_else(|| {
        let known: Vec<&str> = object.programs().map(|p| p.name()).collect();
        anyhow!(
            "no program `{}` in {}; programs: {}",
            args.prog,
            args.input.display(),
            known.join(", ")
        )
    })?;
    let data = match (&args.data, &args.data_hex) {
        (Some(path), _) => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        (None, Some(hex)) => parse_hex(hex)?,
        (None, None) if takes_packet(program.program_type()) => vec![0u8; 64],
        (None, None) => Vec::new(),
    };
    let wants_packet = takes_packet(program.program_type());
    let output = program.test_run(TestRun {
        data_in: &data,
        data_out_capacity: if wants_packet { data.len() + 256 } else { 0 },
        repeat: args.repeat,
        ..TestRun::default()
    })?;
    println!(
        "return value: {} ({:#x})",
        output.retval as i32, output.retval
    );
    println!("duration: {} ns", output.duration_ns);
    if wants_packet {
        println!("data out: {}", to_hex(&output.data_out));
    }
    Ok(())
}

pub fn parse_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    if !digits.len().is_multiple_of(2) {
        return Err(anyhow!(
            "--data-hex needs an even number of hex digits, got {}",
            digits.len()
        ));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| anyhow!("--data-hex: `{}` is not a hex byte", &digits[i..i + 2]))
        })
        .collect()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
