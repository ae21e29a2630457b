//! `whistler run IN.bpf.o|IN.lisp [--duration S] [--target PROG=TARGET]... [--json]`: load,
//! attach every program, print ring-buffer records as they arrive and every map at the end,
//! then detach and close everything.

use super::test_run::to_hex;
use super::{object_bytes, CommandResult};
use anyhow::{anyhow, Context};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use whistler_loader::attach::AttachTarget;
use whistler_loader::{LoadOptions, Map};
use whistler_session::Session;

#[derive(clap::Args)]
pub struct Args {
    /// A BPF ELF object or a Whistler Lisp file.
    input: PathBuf,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    duration: Option<f64>,
    /// Where to attach a program whose section names no target: `PROG=TARGET` (a kernel
    /// function, `category/event`, a cgroup directory, an interface, `/path/bin:symbol`...).
    #[arg(long = "target", value_name = "PROG=TARGET")]
    targets: Vec<String>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// Arguments for a Lisp session file (`*args*`), after the file (or after `--` when one
    /// starts with `-`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<String>,
}

pub fn run(args: Args) -> CommandResult {
    if is_session_file(&args.input) {
        let options = whistler_runner::RunOptions {
            args: args.args.clone(),
        };
        let outcome = whistler_runner::run_file(&args.input, &options)?;
        match outcome.exit_code() {
            0 => return Ok(()),
            code => std::process::exit(code),
        }
    }
    let targets = parse_targets(&args.targets)?;
    let bytes = object_bytes(crate::input::read(&args.input)?)?;
    let mut session = Session::load(&bytes, &LoadOptions::default())?;
    for program in session.programs_mut() {
        let given = targets.get(program.name()).map_or("", String::as_str);
        let target =
            AttachTarget::parse_for_section(program.section(), given).with_context(|| {
                format!(
                    "program `{}`: give its target with --target {}=TARGET",
                    program.name(),
                    program.name()
                )
            })?;
        program
            .attach_to(target)
            .with_context(|| format!("cannot attach program `{}`", program.name()))?;
        if !args.json {
            eprintln!("attached {} ({})", program.name(), program.section());
        }
    }
    let stop = whistler_session::stop_on_ctrl_c().context("cannot install the Ctrl-C handler")?;
    let json = args.json;
    session.consume_rings(move |name, record| print_record(name, record, json))?;
    let deadline = args
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    session.drain_until(&stop, deadline)?;
    session.stop();
    for map in session.maps() {
        print_map(map, args.json)?;
    }
    Ok(())
}

/// A `.lisp` file with user code or `with-bpf-session` runs through the session runner.
fn is_session_file(path: &std::path::Path) -> bool {
    if path.extension().and_then(|e| e.to_str()) != Some("lisp") {
        return false;
    }
    std::fs::read_to_string(path).is_ok_and(|text| {
        whistler_runner::needs_runner(&whistler_syntax::SourceFile::new(
            path.display().to_string(),
            text,
        ))
    })
}

fn parse_targets(specs: &[String]) -> anyhow::Result<HashMap<String, String>> {
    specs
        .iter()
        .map(|spec| {
            let (prog, target) = spec
                .split_once('=')
                .ok_or_else(|| anyhow!("--target {spec}: expected PROG=TARGET"))?;
            Ok((whistler_object::symbol_name(prog), target.to_string()))
        })
        .collect()
}

fn print_record(map: &str, record: &[u8], json: bool) {
    if json {
        println!(
            "{{\"ringbuf\": {}, \"data\": \"{}\"}}",
            json_string(map),
            to_hex(record)
        );
    } else {
        println!("ringbuf {map}: {}", to_hex(record));
    }
}

/// A key or value: an unsigned integer when at most 8 bytes, else hex.
fn render_value(bytes: &[u8], json: bool) -> String {
    if bytes.len() <= 8 && !bytes.is_empty() {
        let mut raw = [0u8; 8];
        raw[..bytes.len()].copy_from_slice(bytes);
        return u64::from_le_bytes(raw).to_string();
    }
    if json {
        format!("\"{}\"", to_hex(bytes))
    } else {
        to_hex(bytes)
    }
}

fn print_map(map: &Map, json: bool) -> anyhow::Result<()> {
    let Some(entries) = whistler_session::map_entries(map) else {
        return Ok(());
    };
    let entries: Vec<(String, String)> = entries?
        .iter()
        .map(|(key, value)| (render_value(key, json), render_value(value, json)))
        .collect();
    if json {
        let items: Vec<String> = entries
            .iter()
            .map(|(k, v)| format!("{{\"key\": {k}, \"value\": {v}}}"))
            .collect();
        println!(
            "{{\"map\": {}, \"entries\": [{}]}}",
            json_string(map.name()),
            items.join(", ")
        );
    } else {
        println!("map {}:", map.name());
        for (k, v) in &entries {
            println!("  {k}: {v}");
        }
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
