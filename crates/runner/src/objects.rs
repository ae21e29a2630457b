//! Whistler's object-level loader API for session files: `compile-to-elf`, `open-bpf-object`,
//! `load-bpf-object`, `close-bpf-object` (and the `with-bpf-object` macro of the prelude),
//! `bpf-object-map`/`bpf-object-prog`, `prog-info-fd`/`-name`, `map-info-fd`/`-name`, the
//! `attach-*` functions taking a program (or its fd), the `attach-obj-*` ones taking an object
//! and a program name, `detach`, and the `+bpf-cgroup-*+` attach type constants.
//!
//! A loaded object is a session of the runtime: whatever is still open when the file ends,
//! fails or is interrupted is closed like a `with-bpf-session`'s.

use crate::api::{arg, def, link_value, map_arg, prog_arg, t, text, Shared};
use crate::records::error;
use crate::session::{LinkHandle, ProgHandle};
use std::cell::Cell;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::rc::Rc;
use whistler_bpf::section::{AttachKind, SECTIONS};
use whistler_lisp::{keyword_arg, EvalError, Interp, Value};
use whistler_loader::attach::AttachTarget;
use whistler_syntax::Span;

type Result<T> = std::result::Result<T, EvalError>;

/// What `open-bpf-object` returns: the object file's bytes, then the session it was loaded as.
pub struct ObjectHandle {
    path: String,
    elf: Vec<u8>,
    session: Cell<Option<u64>>,
}

/// Registers the functions (the prelude defines `with-bpf-object` and the constants).
pub fn install(interp: &mut Interp, rt: &Shared) {
    def(interp, rt, "compile-to-elf", |_, rt, args, span| {
        let path = text(arg(args, 0, "compile-to-elf", span)?);
        let rt = rt.borrow();
        let elf = rt.toplevel_elf.as_ref().ok_or_else(|| {
            error(
                "compile-to-elf: this file has no top-level defmap or defprog",
                span,
            )
        })?;
        std::fs::write(&path, elf)
            .map_err(|e| error(format!("compile-to-elf: cannot write {path}: {e}"), span))?;
        Ok(Value::string(path.as_str()))
    });
    def(interp, rt, "open-bpf-object", |_, _, args, span| {
        let path = text(arg(args, 0, "open-bpf-object", span)?);
        let elf = std::fs::read(&path)
            .map_err(|e| error(format!("open-bpf-object: cannot read {path}: {e}"), span))?;
        Ok(Value::foreign(ObjectHandle {
            path,
            elf,
            session: Cell::new(None),
        }))
    });
    def(interp, rt, "load-bpf-object", |_, rt, args, span| {
        let object = object_arg(arg(args, 0, "load-bpf-object", span)?, span)?;
        if object.session.get().is_none() {
            let id = rt
                .borrow_mut()
                .open_object(&object.elf)
                .map_err(|e| error(format!("load-bpf-object: {}: {e}", object.path), span))?;
            object.session.set(Some(id));
        }
        Ok(args[0].clone())
    });
    def(interp, rt, "close-bpf-object", |_, rt, args, span| {
        let object = object_arg(arg(args, 0, "close-bpf-object", span)?, span)?;
        if let Some(id) = object.session.take() {
            rt.borrow_mut().close(id);
        }
        Ok(Value::Nil)
    });
    def(interp, rt, "bpf-object-map", |_, rt, args, span| {
        let (object, name) = object_and_name(args, "bpf-object-map", span)?;
        let id = loaded(&object, span)?;
        let map = rt.borrow().session(id).and_then(|s| s.map(&name));
        Ok(map.map_or(Value::Nil, |m| Value::Foreign(m)))
    });
    def(interp, rt, "bpf-object-prog", |_, rt, args, span| {
        let (object, name) = object_and_name(args, "bpf-object-prog", span)?;
        let id = loaded(&object, span)?;
        let prog = rt.borrow().session(id).and_then(|s| s.program(&name));
        Ok(prog.map_or(Value::Nil, |p| Value::Foreign(p)))
    });
    def(interp, rt, "prog-info-fd", |_, rt, args, span| {
        let prog = prog_arg(rt, arg(args, 0, "prog-info-fd", span)?, span)?;
        let fd = rt
            .borrow_mut()
            .with_program(&prog, |p| p.loaded().as_fd().as_raw_fd())
            .map_err(|e| error(e, span))?;
        Ok(Value::int(i64::from(fd)))
    });
    def(interp, rt, "prog-info-name", |_, rt, args, span| {
        let prog = prog_arg(rt, arg(args, 0, "prog-info-name", span)?, span)?;
        Ok(Value::string(prog.name.as_str()))
    });
    def(interp, rt, "map-info-fd", |_, rt, args, span| {
        let map = map_arg(rt, arg(args, 0, "map-info-fd", span)?, span)?;
        let fd = rt
            .borrow()
            .with_map(&map, |m| m.as_fd().as_raw_fd())
            .map_err(|e| error(e, span))?;
        Ok(Value::int(i64::from(fd)))
    });
    def(interp, rt, "map-info-name", |_, rt, args, span| {
        let map = map_arg(rt, arg(args, 0, "map-info-name", span)?, span)?;
        Ok(Value::string(map.name.as_str()))
    });
    def(interp, rt, "detach", |interp, rt, args, span| {
        let link = arg(args, 0, "detach", span)?
            .downcast::<LinkHandle>()
            .ok_or_else(|| error("detach: expected an attachment", span))?;
        let detached = rt.borrow_mut().detach(&link);
        Ok(if detached { t(interp) } else { Value::Nil })
    });
    for &(name, obj_name, attach) in ATTACH_FUNCTIONS {
        def(interp, rt, name, move |_, rt, args, span| {
            let prog = program(rt, arg(args, 0, name, span)?, span)?;
            attach_as(rt, &prog, &args[1..], name, attach, span)
        });
        def(interp, rt, obj_name, move |_, rt, args, span| {
            let (object, prog_name) = object_and_name(args, obj_name, span)?;
            let id = loaded(&object, span)?;
            let found = rt.borrow().session(id).and_then(|s| s.program(&prog_name));
            let prog = found.ok_or_else(|| {
                error(
                    format!("{obj_name}: {} has no program `{prog_name}`", object.path),
                    span,
                )
            })?;
            attach_as(rt, &prog, &args[2..], obj_name, attach, span)
        });
    }
}

/// How an `attach-*` function turns its arguments (after the program) into the section the
/// attachment acts as and its target.
type AttachPlan = fn(&str, &[Value], Span) -> Result<(String, AttachTarget)>;

/// Each `attach-KIND` (taking a program) with its `attach-obj-KIND` (an object and a name).
const ATTACH_FUNCTIONS: &[(&str, &str, AttachPlan)] = &[
    ("attach-kprobe", "attach-obj-kprobe", plan_kprobe),
    ("attach-uprobe", "attach-obj-uprobe", plan_uprobe),
    (
        "attach-tracepoint",
        "attach-obj-tracepoint",
        plan_tracepoint,
    ),
    ("attach-xdp", "attach-obj-xdp", plan_xdp),
    ("attach-tc", "attach-obj-tc", plan_tc),
    ("attach-cgroup", "attach-obj-cgroup", plan_cgroup),
    ("attach-lsm", "attach-obj-lsm", plan_auto),
    ("attach-fentry", "attach-obj-fentry", plan_auto),
    ("attach-sk-lookup", "attach-obj-sk-lookup", plan_sk_lookup),
];

/// `(attach-kprobe PROG FUNCTION &key retprobe)`.
fn plan_kprobe(_: &str, args: &[Value], span: Span) -> Result<(String, AttachTarget)> {
    let function = text(arg(args, 0, "attach-kprobe", span)?);
    let retprobe = flag(args, 1, "retprobe");
    Ok((
        section_of(AttachKind::Kprobe { retprobe }),
        AttachTarget::KernelFunction(function),
    ))
}

/// `(attach-uprobe PROG BINARY SYMBOL &key retprobe)`.
fn plan_uprobe(_: &str, args: &[Value], span: Span) -> Result<(String, AttachTarget)> {
    let binary = text(arg(args, 0, "attach-uprobe", span)?);
    let symbol = text(arg(args, 1, "attach-uprobe", span)?);
    let retprobe = flag(args, 2, "retprobe");
    let target = AttachTarget::Uprobe {
        binary: PathBuf::from(binary),
        symbol: Some(symbol),
        offset: 0,
        pid: None,
    };
    Ok((section_of(AttachKind::Uprobe { retprobe }), target))
}

/// `(attach-tracepoint PROG "[tracepoint/]CATEGORY/NAME")`, hyphens standing for underscores.
fn plan_tracepoint(_: &str, args: &[Value], span: Span) -> Result<(String, AttachTarget)> {
    let written = text(arg(args, 0, "attach-tracepoint", span)?);
    let path = written
        .strip_prefix("tracepoint/")
        .unwrap_or(&written)
        .replace('-', "_");
    let Some((category, name)) = path.split_once('/') else {
        return Err(error(
            format!("attach-tracepoint: expected CATEGORY/NAME, not `{written}`"),
            span,
        ));
    };
    let target = AttachTarget::Tracepoint {
        category: category.to_string(),
        name: name.to_string(),
    };
    Ok((section_of(AttachKind::Tracepoint), target))
}

/// The section libbpf's table gives programs of `kind` (the first such entry): what an
/// attachment of another kind than the program's own section acts as.
fn section_of(kind: AttachKind) -> String {
    let def = SECTIONS.iter().find(|d| d.attach_kind == kind);
    def.map_or_else(String::new, |d| d.name.to_string())
}

/// `(attach-xdp PROG INTERFACE &key mode)`, mode "xdp", "xdpdrv", "xdpgeneric".
fn plan_xdp(_: &str, args: &[Value], span: Span) -> Result<(String, AttachTarget)> {
    let interface = text(arg(args, 0, "attach-xdp", span)?);
    let mode = keyword_arg(args.get(1..).unwrap_or_default(), "mode").map(text);
    interface_target("xdp", &interface, mode, span)
}

/// `(attach-tc PROG INTERFACE &key direction)`, direction "ingress" (default) or "egress".
fn plan_tc(section: &str, args: &[Value], span: Span) -> Result<(String, AttachTarget)> {
    let interface = text(arg(args, 0, "attach-tc", span)?);
    let direction = keyword_arg(args.get(1..).unwrap_or_default(), "direction")
        .map_or_else(|| "ingress".to_string(), text);
    interface_target(section, &interface, Some(direction), span)
}

fn interface_target(
    section: &str,
    interface: &str,
    extra: Option<String>,
    span: Span,
) -> Result<(String, AttachTarget)> {
    let mut words = vec![interface];
    words.extend(extra.as_deref());
    let target = AttachTarget::parse_for_section_args(section, &words)
        .map_err(|e| error(e.to_string(), span))?;
    Ok((section.to_string(), target))
}

/// `(attach-cgroup PROG CGROUP-DIRECTORY ATTACH-TYPE &key flags)`: the attach type picks the
/// hook (`+bpf-cgroup-inet-egress+`...).
fn plan_cgroup(_: &str, args: &[Value], span: Span) -> Result<(String, AttachTarget)> {
    let path = text(arg(args, 0, "attach-cgroup", span)?);
    let attach_type = arg(args, 1, "attach-cgroup", span)?.as_i64().unwrap_or(-1);
    let section = SECTIONS
        .iter()
        .find(|d| {
            d.attach_kind == AttachKind::Cgroup
                && d.expected_attach_type
                    .is_some_and(|t| t as i64 == attach_type)
        })
        .ok_or_else(|| {
            error(
                format!("attach-cgroup: {attach_type} is not a cgroup attach type"),
                span,
            )
            .with_help("use a constant such as +bpf-cgroup-inet-egress+")
        })?;
    Ok((
        section.name.to_string(),
        AttachTarget::Cgroup(PathBuf::from(path)),
    ))
}

/// `(attach-sk-lookup PROG &key netns-path)`.
fn plan_sk_lookup(section: &str, args: &[Value], _: Span) -> Result<(String, AttachTarget)> {
    let netns =
        keyword_arg(args, "netns-path").map_or_else(|| "/proc/self/ns/net".to_string(), text);
    Ok((
        section.to_string(),
        AttachTarget::NetNs(PathBuf::from(netns)),
    ))
}

/// LSM and fentry programs attach where their load-time BTF id says.
fn plan_auto(section: &str, _: &[Value], _: Span) -> Result<(String, AttachTarget)> {
    Ok((section.to_string(), AttachTarget::Auto))
}

/// Attaches `prog` as if its section were the planned one (a `kprobe/` program attached with
/// `:retprobe t` acts as a kretprobe) and keeps the link with the program's session.
fn attach_as(
    rt: &Shared,
    prog: &ProgHandle,
    args: &[Value],
    name: &str,
    plan: AttachPlan,
    span: Span,
) -> Result<Value> {
    let id = rt
        .borrow_mut()
        .with_program(prog, |p| {
            let (section, target) = plan(p.section(), args, span)?;
            p.attach_as(&section, target)
                .map_err(|e| error(format!("{name}: cannot attach `{}`: {e}", prog.name), span))
        })
        .map_err(|e| error(e, span))??;
    Ok(link_value(prog, id))
}

/// A program argument: a program object (or name), or the fd `prog-info-fd` gave.
fn program(rt: &Shared, value: &Value, span: Span) -> Result<Rc<ProgHandle>> {
    match value.as_i64() {
        Some(fd) => i32::try_from(fd)
            .ok()
            .and_then(|fd| rt.borrow().program_by_fd(fd))
            .ok_or_else(|| error(format!("{fd} is not the fd of a loaded program"), span)),
        None => prog_arg(rt, value, span),
    }
}

fn object_arg(value: &Value, span: Span) -> Result<Rc<ObjectHandle>> {
    value.downcast::<ObjectHandle>().ok_or_else(|| {
        error(
            format!("expected a BPF object, not {}", whistler_lisp::prin1(value)),
            span,
        )
        .with_help("open one with open-bpf-object or with-bpf-object")
    })
}

/// The object (argument 0) and an ELF name (argument 1; Lisp spellings are converted).
fn object_and_name(args: &[Value], name: &str, span: Span) -> Result<(Rc<ObjectHandle>, String)> {
    let object = object_arg(arg(args, 0, name, span)?, span)?;
    let member = whistler_object::symbol_name(&text(arg(args, 1, name, span)?));
    Ok((object, member))
}

fn loaded(object: &ObjectHandle, span: Span) -> Result<u64> {
    object.session.get().ok_or_else(|| {
        error(format!("{} is not loaded", object.path), span)
            .with_help("call load-bpf-object first (with-bpf-object does)")
    })
}

/// A `:KEY` argument at or after `from` that is present and not nil.
fn flag(args: &[Value], from: usize, key: &str) -> bool {
    keyword_arg(args.get(from..).unwrap_or_default(), key).is_some_and(|v| !v.is_nil())
}
