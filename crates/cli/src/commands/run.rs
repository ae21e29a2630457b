//! `whistler run IN.bpf.o|IN.lisp [--duration S] [--target PROG=TARGET]... [--json]`: load,
//! attach every program, print ring-buffer records as they arrive and every map at the end,
//! then detach and close everything.

use super::test_run::to_hex;
use super::{object_bytes, CommandResult};
use anyhow::{anyhow, Context};
use std::collections::HashMap;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use whistler_bpf::MapType;
use whistler_loader::attach::AttachTarget;
use whistler_loader::object::Object;
use whistler_loader::ringbuf::RingBufferSet;
use whistler_loader::{LoadOptions, Map};

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
    let object = Object::load(&bytes, &LoadOptions::default())?;
    let mut links = Vec::new();
    for program in object.programs() {
        let given = targets.get(program.name()).map_or("", String::as_str);
        let target =
            AttachTarget::parse_for_section(program.section(), given).with_context(|| {
                format!(
                    "program `{}`: give its target with --target {}=TARGET",
                    program.name(),
                    program.name()
                )
            })?;
        links.push(
            program
                .attach(target)
                .with_context(|| format!("cannot attach program `{}`", program.name()))?,
        );
        if !args.json {
            eprintln!("attached {} ({})", program.name(), program.section());
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let setter = stop.clone();
    ctrlc::set_handler(move || setter.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;
    consume_until_stopped(&object, &args, &stop)?;
    drop(links);
    for map in object.maps() {
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

/// Prints ring-buffer records until the duration ends or Ctrl-C.
fn consume_until_stopped(object: &Object, args: &Args, stop: &AtomicBool) -> anyhow::Result<()> {
    let deadline = args
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut rings = RingBufferSet::new()?;
    for map in object
        .maps()
        .filter(|m| m.info().kind() == Some(MapType::RINGBUF))
    {
        let name = map.name().to_string();
        let json = args.json;
        rings.add(
            map.as_fd(),
            map.info().max_entries,
            move |record: &[u8]| {
                if json {
                    println!(
                        "{{\"ringbuf\": {}, \"data\": \"{}\"}}",
                        json_string(&name),
                        to_hex(record)
                    );
                } else {
                    println!("ringbuf {name}: {}", to_hex(record));
                }
            },
        )?;
    }
    while !stop.load(Ordering::SeqCst) {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            break;
        }
        let wait = left
            .unwrap_or(Duration::MAX)
            .min(Duration::from_millis(100));
        if rings.is_empty() {
            std::thread::sleep(wait);
        } else {
            rings.poll(Some(wait))?;
        }
    }
    rings.consume();
    Ok(())
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

/// Per-CPU values are summed as unsigned integers when at most 8 bytes; else the first CPU's.
fn sum_per_cpu(values: &[Vec<u8>]) -> Vec<u8> {
    match values.first() {
        Some(first) if first.len() <= 8 => {
            let total = values.iter().fold(0u64, |acc, v| {
                let mut raw = [0u8; 8];
                raw[..v.len()].copy_from_slice(v);
                acc.wrapping_add(u64::from_le_bytes(raw))
            });
            total.to_le_bytes()[..first.len()].to_vec()
        }
        Some(first) => first.clone(),
        None => Vec::new(),
    }
}

fn print_map(map: &Map, json: bool) -> anyhow::Result<()> {
    let kind = map.info().kind();
    let dumpable = !matches!(
        kind,
        Some(
            MapType::RINGBUF
                | MapType::PERF_EVENT_ARRAY
                | MapType::PROG_ARRAY
                | MapType::QUEUE
                | MapType::STACK
                | MapType::STACK_TRACE
        ) | None
    );
    if !dumpable {
        return Ok(());
    }
    let mut entries = Vec::new();
    for key in map.keys() {
        let key = key?;
        let value = if map.is_per_cpu() {
            map.lookup_per_cpu(&key)?.map(|v| sum_per_cpu(&v))
        } else {
            map.lookup(&key)?
        };
        if let Some(value) = value {
            entries.push((render_value(&key, json), render_value(&value, json)));
        }
    }
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
