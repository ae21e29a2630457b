//! `whistler serve IN.lisp|IN.bpf.o [--listen ADDR] [--btf FILE]`: load, attach every program, and serve
//! at `/metrics` for Prometheus, until Ctrl-C or SIGTERM, the metrics the object declares
//! (`defmetric`, read back from its `.whistler.metrics` section, so an object serves the same
//! without its source) and every other keyed map as default series; then close everything as
//! every session does (links, programs, then maps).

use super::{compile_source, CommandResult};
use crate::input::Input;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use whistler_compiler::{Compiled, StructLayout};
use whistler_loader::LoadOptions;
use whistler_metrics::{Exporter, Field, FieldKind, Layout, MapCollector, ServedMap};
use whistler_object::BtfTypeRef;
use whistler_session::Session;

#[derive(clap::Args)]
pub struct Args {
    /// A BPF ELF object or a Whistler Lisp file.
    input: PathBuf,
    /// Where to serve `/metrics`.
    #[arg(long, default_value = "127.0.0.1:9435")]
    listen: SocketAddr,
    /// The running kernel's BTF, for compiling and for CO-RE relocation, when it has no
    /// /sys/kernel/btf/vmlinux (a btfhub-style file). Also $WHISTLER_BTF when compiling.
    #[arg(long, value_name = "FILE")]
    btf: Option<PathBuf>,
}

pub fn run(args: Args) -> CommandResult {
    let (elf, compiled) = match crate::input::read(&args.input)? {
        Input::Object(bytes) => (bytes, None),
        Input::Lisp(file) => {
            let compiled = compile_source(&file, args.btf.as_deref())?;
            (compiled.elf.clone(), Some(compiled))
        }
    };
    let options = LoadOptions {
        kernel_btf: args.btf.clone(),
        ..LoadOptions::default()
    };
    let mut session = Session::load(&elf, &options)?;
    for program in session.programs_mut() {
        program
            .attach_auto()
            .with_context(|| format!("cannot attach program `{}`", program.name()))?;
        eprintln!("attached {} ({})", program.name(), program.section());
    }
    let declared =
        whistler_object::read_metrics(&elf).context("cannot read the object's metrics")?;
    let served = take_served_maps(&mut session, compiled.as_ref(), &elf);
    let registry = MapCollector::with_metrics(served, declared)?.into_registry();
    let exporter = Exporter::bind(args.listen, registry)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let stop = whistler_session::stop_on_ctrl_c().context("cannot install the Ctrl-C handler")?;
    let address = exporter.local_addr().unwrap_or(args.listen);
    eprintln!("serving http://{address}/metrics (Ctrl-C to stop)");
    exporter.serve_until(&stop)?;
    // Links and programs first, then the maps the exporter holds.
    drop(session);
    drop(exporter);
    Ok(())
}

/// Takes every keyed map out of the session, named and laid out as the source says when there
/// is one, else by its object name and the types the object's BTF gives it (else its sizes).
fn take_served_maps(
    session: &mut Session,
    compiled: Option<&Compiled>,
    elf: &[u8],
) -> Vec<ServedMap> {
    let mut object_layouts = whistler_metrics::object_layouts(elf);
    let names: Vec<String> = session
        .maps()
        .iter()
        .filter(|m| whistler_session::holds_entries(m))
        .map(|m| m.name().to_string())
        .collect();
    let take = |symbol: &String| {
        let map = session.take_map(symbol)?;
        let (key_size, value_size) = (map.info().key_size, map.info().value_size);
        let facts = compiled.and_then(|c| {
            let facts = c.maps.iter().find(|m| &m.symbol == symbol)?;
            let spec = c.spec.maps.iter().find(|m| m.name == facts.lisp_name)?;
            Some((facts.lisp_name.clone(), spec, &c.structs))
        });
        let (name, key, value) = match facts {
            Some((lisp_name, spec, structs)) => (
                lisp_name,
                layout_of(spec.key_type.as_ref(), spec.key_size, structs, true),
                layout_of(spec.value_type.as_ref(), spec.value_size, structs, false),
            ),
            None => match object_layouts.remove(symbol) {
                Some((key, value)) => (symbol.clone(), key, value),
                None => (
                    symbol.clone(),
                    Layout::from_size(key_size as usize),
                    Layout::from_size(value_size as usize),
                ),
            },
        };
        Some(ServedMap {
            name,
            map,
            key,
            value,
        })
    };
    names.iter().filter_map(take).collect()
}

/// A key's or value's layout from the compiler's description of it: integers, byte arrays (in
/// hex), structs by their fields, nested structs and arrays flattened (`outer.inner`,
/// `name[i]`), Lisp names throughout. A key with a part none of these describe shows as hex,
/// so that distinct keys keep distinct labels.
fn layout_of(ty: Option<&BtfTypeRef>, size: u32, structs: &[StructLayout], key: bool) -> Layout {
    match ty {
        Some(BtfTypeRef::Int { signed, .. }) => Layout::Int { signed: *signed },
        Some(ty @ BtfTypeRef::Struct(_)) => {
            let mut fields = Vec::new();
            let complete = flatten(ty, "", 0, structs, &mut fields);
            if complete || !key {
                Layout::Struct(fields)
            } else {
                Layout::Bytes
            }
        }
        _ => Layout::from_size(size as usize),
    }
}

/// Appends the fields of a `ty` at `offset`, named after `name`, to `fields`; false when a part
/// of it is not described.
fn flatten(
    ty: &BtfTypeRef,
    name: &str,
    offset: u32,
    structs: &[StructLayout],
    fields: &mut Vec<Field>,
) -> bool {
    let field = |size: u32, kind| Field {
        name: name.to_string(),
        offset: offset as usize,
        size: size as usize,
        kind,
    };
    match ty {
        BtfTypeRef::Int { size, signed } => {
            fields.push(field(*size, FieldKind::Int { signed: *signed }));
            true
        }
        BtfTypeRef::Array { elem, count } => match elem.as_ref() {
            BtfTypeRef::Int { size: 1, .. } => {
                fields.push(field(*count, FieldKind::Hex));
                true
            }
            BtfTypeRef::Int { size, .. } => (0..*count).fold(true, |complete, i| {
                let path = format!("{name}[{i}]");
                flatten(elem, &path, offset + i * size, structs, fields) && complete
            }),
            _ => false,
        },
        BtfTypeRef::Struct(symbol) => {
            let Some(layout) = structs.iter().find(|s| &s.symbol == symbol) else {
                return false;
            };
            layout.fields.iter().fold(true, |complete, f| {
                let path = match name {
                    "" => f.lisp_name.clone(),
                    name => format!("{name}.{}", f.lisp_name),
                };
                flatten(&f.ty, &path, offset + f.offset, structs, fields) && complete
            })
        }
    }
}
