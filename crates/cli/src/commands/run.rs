//! `whistler run IN.bpf.o|IN.lisp [--duration S] [--interval S [--clear]] [--per-cpu]
//! [--target PROG=TARGET]... [--json] [--btf FILE]`: load, attach every program, print ring-buffer records
//! as they arrive and every map at the end (and every interval), then detach and close
//! everything. Text output decodes maps through the object's BTF ([`crate::map_view`]).

use super::test_run::to_hex;
use super::{compile_source, CommandResult};
use crate::input::Input;
use crate::map_view::{self, Entry, Histogram, MapTypes};
use anyhow::{anyhow, Context};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use whistler_loader::attach::AttachTarget;
use whistler_loader::{LoadOptions, Map};
use whistler_object::btf::Btf;
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
    /// Print the maps every SECS seconds as well as at the end.
    #[arg(long, value_name = "SECS")]
    interval: Option<f64>,
    /// With --interval: empty every map after printing it.
    #[arg(long, requires = "interval")]
    clear: bool,
    /// Show each CPU's value of per-CPU maps next to the sum.
    #[arg(long)]
    per_cpu: bool,
    /// The running kernel's BTF, for compiling and for CO-RE relocation, when it has no
    /// /sys/kernel/btf/vmlinux (a btfhub-style file). Also $WHISTLER_BTF when compiling.
    #[arg(long, value_name = "FILE")]
    btf: Option<PathBuf>,
    /// Arguments for a Lisp session file (`*args*`), after the file (or after `--` when one
    /// starts with `-`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<String>,
}

pub fn run(args: Args) -> CommandResult {
    if is_session_file(&args.input) {
        let options = whistler_runner::RunOptions {
            args: args.args.clone(),
            kernel_btf: args.btf.clone(),
        };
        let outcome = whistler_runner::run_file(&args.input, &options)?;
        match outcome.exit_code() {
            0 => return Ok(()),
            code => std::process::exit(code),
        }
    }
    let targets = parse_targets(&args.targets)?;
    let (bytes, structs) = match crate::input::read(&args.input)? {
        Input::Object(bytes) => (bytes, Vec::new()),
        Input::Lisp(file) => {
            let compiled = compile_source(&file, args.btf.as_deref())?;
            (compiled.elf, compiled.structs)
        }
    };
    let parsed = whistler_object::parse(&bytes)?;
    let btf = parsed.btf.as_deref().and_then(|b| Btf::from_bytes(b).ok());
    let map_types = |name: &str| {
        let map = parsed.maps.iter().find(|m| m.name == name);
        MapTypes {
            btf: btf.as_ref(),
            structs: &structs,
            key: map.map_or(0, |m| m.btf_key_type_id),
            value: map.map_or(0, |m| m.btf_value_type_id),
        }
    };
    let options = LoadOptions {
        kernel_btf: args.btf.clone(),
        ..LoadOptions::default()
    };
    let mut session = Session::load(&bytes, &options)?;
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
    let print_maps = |session: &Session| -> anyhow::Result<()> {
        for map in session.maps() {
            if args.json {
                print_map_json(map)?;
            } else {
                print_map_text(map, map_types(map.name()), args.per_cpu)?;
            }
        }
        Ok(())
    };
    if let Some(secs) = args.interval {
        let every = Duration::from_secs_f64(secs.max(0.001));
        while !stop.is_set() && deadline.is_none_or(|d| Instant::now() < d) {
            let tick = Instant::now() + every;
            session.drain_until(&stop, Some(deadline.map_or(tick, |d| d.min(tick))))?;
            if Instant::now() < tick {
                break;
            }
            print_maps(&session)?;
            if args.clear {
                for map in session.maps() {
                    if whistler_session::map_entries(map).is_some() {
                        whistler_session::clear_entries(map)?;
                    }
                }
            }
        }
    } else {
        session.drain_until(&stop, deadline)?;
    }
    session.stop();
    print_maps(&session)?;
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

/// A key or value for `--json`: an unsigned integer when at most 8 bytes, else a hex string.
fn json_value(bytes: &[u8]) -> String {
    match map_view::as_u64(bytes) {
        Some(n) => n.to_string(),
        None => format!("\"{}\"", to_hex(bytes)),
    }
}

fn print_map_json(map: &Map) -> anyhow::Result<()> {
    let Some(entries) = whistler_session::map_entries(map) else {
        return Ok(());
    };
    let items: Vec<String> = entries?
        .iter()
        .map(|(k, v)| {
            format!(
                "{{\"key\": {}, \"value\": {}}}",
                json_value(k),
                json_value(v)
            )
        })
        .collect();
    println!(
        "{{\"map\": {}, \"entries\": [{}]}}",
        json_string(map.name()),
        items.join(", ")
    );
    Ok(())
}

/// `map NAME:` then a histogram's bars or the entries sorted by value.
fn print_map_text(map: &Map, types: MapTypes<'_>, per_cpu: bool) -> anyhow::Result<()> {
    let Some(entries) = whistler_session::map_entries_per_cpu(map) else {
        return Ok(());
    };
    let mut entries: Vec<Entry> = entries?
        .into_iter()
        .map(|(key, value, per_cpu)| Entry {
            key,
            value,
            per_cpu,
        })
        .collect();
    println!("map {}:", map.name());
    let histogram = Histogram::of(map.info().kind(), map.info().value_size, map.name());
    let lines = match histogram {
        Some(kind) => {
            let mut counts = vec![0; entries.len()];
            for entry in &entries {
                let slot = map_view::as_u64(&entry.key).unwrap_or(0) as usize;
                if let Some(count) = counts.get_mut(slot) {
                    *count = map_view::as_u64(&entry.value).unwrap_or(0);
                }
            }
            map_view::histogram_lines(kind, &counts)
        }
        None => {
            map_view::sort_by_value(&mut entries);
            map_view::entry_lines(types, &entries, per_cpu)
        }
    };
    for line in lines {
        println!("{line}");
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
