//! The Lisp functions session files call: sessions (`%bpf-session-open`, `bpf-session-map`,
//! `bpf:attach`, `bpf:map-ref`), the loader's map functions under Whistler's names
//! (`map-lookup`, `map-update-int`, `map-get-next-key`, ...) and the ring consumers.

use crate::bytes;
use crate::records::{call, error};
use crate::ring::{PollStop, RingConsumer};
use crate::session::{LinkHandle, MapHandle, ProgHandle, Runtime, SessionToken};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use whistler_lisp::{ErrorKind, EvalError, Interp, Value};
use whistler_loader::attach::AttachTarget;
use whistler_loader::{Map, UpdateFlags};
use whistler_session::LinkId;
use whistler_syntax::Span;

pub(crate) type Shared = Rc<RefCell<Runtime>>;
type Result<T> = std::result::Result<T, EvalError>;

/// Registers every function on `interp`.
pub fn install(interp: &mut Interp, rt: &Shared) {
    install_sessions(interp, rt);
    install_maps(interp, rt);
    install_struct_maps(interp, rt);
    install_rings(interp, rt);
    crate::objects::install(interp, rt);
}

/// Registers `name` as a host function with access to the runtime.
pub(crate) fn def(
    interp: &mut Interp,
    rt: &Shared,
    name: &'static str,
    f: impl Fn(&mut Interp, &Shared, &[Value], Span) -> Result<Value> + 'static,
) {
    let rt = rt.clone();
    interp.define_builtin(
        name,
        Box::new(move |interp, args, span| f(interp, &rt, args, span)),
    );
}

pub(crate) fn arg<'a>(args: &'a [Value], i: usize, name: &str, span: Span) -> Result<&'a Value> {
    args.get(i)
        .ok_or_else(|| error(format!("{name}: missing argument {}", i + 1), span))
}

pub(crate) fn t(interp: &mut Interp) -> Value {
    Value::sym(&interp.symbol("t"))
}

/// A string argument (strings, symbols, numbers as written).
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::Str(s, _) => s.to_string(),
        other => whistler_lisp::princ(other),
    }
}

fn install_sessions(interp: &mut Interp, rt: &Shared) {
    def(interp, rt, "%bpf-session-open", |_, rt, args, span| {
        let start = arg(args, 0, "%bpf-session-open", span)?
            .as_i64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| error("%bpf-session-open: expected a form offset", span))?;
        let id = rt.borrow_mut().open(start).map_err(|e| error(e, span))?;
        Ok(Value::foreign(SessionToken(id)))
    });
    def(interp, rt, "%bpf-session-close", |_, rt, args, _| {
        if let Some(token) = args.first().and_then(|v| v.downcast::<SessionToken>()) {
            rt.borrow_mut().close(token.0);
        }
        Ok(Value::Nil)
    });
    def(interp, rt, "bpf-session-map", |_, rt, args, span| {
        let name = object_name(arg(args, 0, "bpf-session-map", span)?);
        let found = rt.borrow().find_map(&name);
        found
            .map(|h| Value::Foreign(h))
            .ok_or_else(|| missing(rt, "map", &name, span))
    });
    def(interp, rt, "bpf-session-prog", |_, rt, args, span| {
        let name = object_name(arg(args, 0, "bpf-session-prog", span)?);
        let found = rt.borrow().find_program(&name);
        found
            .map(|h| Value::Foreign(h))
            .ok_or_else(|| missing(rt, "program", &name, span))
    });
    def(interp, rt, "bpf-session-maps", |_, rt, args, span| {
        session_members(rt, args, span, "bpf-session-maps", |s| {
            s.maps
                .iter()
                .map(|m| (m.name.clone(), Value::Foreign(m.clone())))
                .collect()
        })
    });
    def(interp, rt, "bpf-session-progs", |_, rt, args, span| {
        session_members(rt, args, span, "bpf-session-progs", |s| {
            s.programs
                .iter()
                .map(|p| (p.name.clone(), Value::Foreign(p.clone())))
                .collect()
        })
    });
    def(interp, rt, "bpf:attach", attach);
    def(interp, rt, "bpf:map-ref", map_ref);
}

/// `(bpf-session-maps [SESSION])` and `-progs`: an alist of (C-NAME . OBJECT) of SESSION (a
/// `*bpf-session*` value), the innermost open session by default.
fn session_members(
    rt: &Shared,
    args: &[Value],
    span: Span,
    name: &str,
    members: impl Fn(&crate::session::Session) -> Vec<(String, Value)>,
) -> Result<Value> {
    let rt = rt.borrow();
    let session = match args.first() {
        None | Some(Value::Nil) => rt.current(),
        Some(v) => {
            let token = v.downcast::<SessionToken>().ok_or_else(|| {
                error(
                    format!("{name}: expected a session (the value of *bpf-session*)"),
                    span,
                )
            })?;
            rt.session(token.0)
        }
    }
    .ok_or_else(|| {
        error(format!("{name}: no BPF session is open"), span)
            .with_help("call this inside the body of `with-bpf-session`")
    })?;
    let entries = members(session).into_iter().map(|(lisp_name, object)| {
        Value::cons(
            Value::string(whistler_object::symbol_name(&lisp_name)),
            object,
        )
    });
    Ok(Value::list(entries.collect::<Vec<_>>()))
}

/// The Lisp name a symbol or string argument gives.
fn object_name(value: &Value) -> String {
    match value {
        Value::Sym(s, _) => s.name.clone(),
        other => text(other),
    }
}

fn missing(rt: &Shared, what: &str, name: &str, span: Span) -> EvalError {
    if rt.borrow().current().is_none() {
        return error(
            format!("no BPF session is open: there is no {what} `{name}` here"),
            span,
        )
        .with_help("call this inside the body of `with-bpf-session`");
    }
    error(format!("the session has no {what} named `{name}`"), span)
}

/// A map argument: a map handle, or a map's name.
pub(crate) fn map_arg(rt: &Shared, value: &Value, span: Span) -> Result<Rc<MapHandle>> {
    handle_arg(rt, value, span, "map", Runtime::find_map)
}

/// A program argument: a program handle, or a program's name.
pub(crate) fn prog_arg(rt: &Shared, value: &Value, span: Span) -> Result<Rc<ProgHandle>> {
    handle_arg(rt, value, span, "program", Runtime::find_program)
}

/// The handle `value` is, or the one the session finds (`find`) by the name `value` gives;
/// `what` names the kind of handle in errors.
fn handle_arg<H: 'static>(
    rt: &Shared,
    value: &Value,
    span: Span,
    what: &str,
    find: fn(&Runtime, &str) -> Option<Rc<H>>,
) -> Result<Rc<H>> {
    if let Some(h) = value.downcast::<H>() {
        return Ok(h);
    }
    match value {
        Value::Sym(_, _) | Value::Str(_, _) => {
            let name = object_name(value);
            let found = find(&rt.borrow(), &name);
            found.ok_or_else(|| missing(rt, what, &name, span))
        }
        other => Err(error(
            format!("expected a BPF {what}, not {}", whistler_lisp::prin1(other)),
            span,
        )),
    }
}

/// `(bpf:attach PROG TARGET...)`: the kind of attachment comes from the program's section.
fn attach(_: &mut Interp, rt: &Shared, args: &[Value], span: Span) -> Result<Value> {
    let prog = prog_arg(rt, arg(args, 0, "bpf:attach", span)?, span)?;
    let targets: Vec<String> = args[1..].iter().map(text).collect();
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let id = rt
        .borrow_mut()
        .with_program(&prog, |p| {
            let target = AttachTarget::parse_for_section_args(p.section(), &targets)?;
            p.attach_to(target)
        })
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(|e| error(format!("cannot attach program `{}`: {e}", prog.name), span))?;
    Ok(link_value(&prog, id))
}

/// The handle of an attachment of `prog`.
pub(crate) fn link_value(prog: &ProgHandle, id: LinkId) -> Value {
    Value::foreign(LinkHandle {
        id,
        session: prog.session,
    })
}

/// `(bpf:map-ref MAP KEY)`: the value as an unsigned integer (octets when wider than 8
/// bytes), or nil; `(bpf:map-ref MAP)`: the map itself.
fn map_ref(_: &mut Interp, rt: &Shared, args: &[Value], span: Span) -> Result<Value> {
    let map = map_arg(rt, arg(args, 0, "bpf:map-ref", span)?, span)?;
    let Some(key) = args.get(1) else {
        return Ok(Value::Foreign(map));
    };
    let value = lookup(rt, &map, key, span)?;
    Ok(match value {
        Some(v) if v.len() <= 8 => bytes::unsigned(&v),
        Some(v) => bytes::octets(&v),
        None => Value::Nil,
    })
}

/// Looks `key` up; per-CPU values of at most 8 bytes come back summed.
fn lookup(rt: &Shared, map: &MapHandle, key: &Value, span: Span) -> Result<Option<Vec<u8>>> {
    rt.borrow()
        .with_map(map, |m| -> std::result::Result<Option<Vec<u8>>, String> {
            let key = bytes::encode(key, m.info().key_size as usize, "key")?;
            whistler_session::lookup_summed(m, &key).map_err(|e| e.to_string())
        })
        .and_then(|r| r)
        .map_err(|e| error(format!("map `{}`: {e}", map.name), span))
}

/// Runs `f` on the map of argument 0 with the map's key and value sizes at hand.
fn on_map<T>(
    rt: &Shared,
    args: &[Value],
    name: &str,
    span: Span,
    f: impl FnOnce(&Map) -> std::result::Result<T, String>,
) -> Result<T> {
    let map = map_arg(rt, arg(args, 0, name, span)?, span)?;
    let result = rt.borrow().with_map(&map, f);
    result
        .and_then(|r| r)
        .map_err(|e| error(format!("{name}: map `{}`: {e}", map.name), span))
}

fn flags(args: &[Value], from: usize) -> std::result::Result<UpdateFlags, String> {
    match whistler_lisp::keyword_arg(args.get(from..).unwrap_or_default(), "flags") {
        None => Ok(UpdateFlags::Any),
        Some(v) => match v.as_i64() {
            Some(0) => Ok(UpdateFlags::Any),
            Some(1) => Ok(UpdateFlags::NoExist),
            Some(2) => Ok(UpdateFlags::Exist),
            _ => Err(format!("bad :flags {}", whistler_lisp::prin1(v))),
        },
    }
}

fn value_or_nil(v: Option<Vec<u8>>, decode: impl FnOnce(&[u8]) -> Value) -> Value {
    v.map_or(Value::Nil, |b| decode(&b))
}

fn install_maps(interp: &mut Interp, rt: &Shared) {
    for (name, int) in [("map-lookup", false), ("map-lookup-int", true)] {
        def(interp, rt, name, move |_, rt, args, span| {
            let map = map_arg(rt, arg(args, 0, name, span)?, span)?;
            let key = arg(args, 1, name, span)?;
            let found = lookup(rt, &map, key, span)?;
            Ok(value_or_nil(found, |b| {
                if int {
                    bytes::unsigned(b)
                } else {
                    bytes::octets(b)
                }
            }))
        });
    }
    for name in ["map-update", "map-update-int"] {
        def(interp, rt, name, move |interp, rt, args, span| {
            let (key, value) = (arg(args, 1, name, span)?, arg(args, 2, name, span)?);
            on_map(rt, args, name, span, |m| {
                let k = bytes::encode(key, m.info().key_size as usize, "key")?;
                let v = bytes::encode(value, m.info().value_size as usize, "value")?;
                m.update(&k, &v, flags(args, 3)?).map_err(|e| e.to_string())
            })?;
            Ok(t(interp))
        });
    }
    for name in ["map-delete", "map-delete-int"] {
        def(interp, rt, name, move |interp, rt, args, span| {
            let key = arg(args, 1, name, span)?;
            let deleted = on_map(rt, args, name, span, |m| {
                let k = bytes::encode(key, m.info().key_size as usize, "key")?;
                m.delete(&k).map_err(|e| e.to_string())
            })?;
            Ok(if deleted { t(interp) } else { Value::Nil })
        });
    }
    for (name, int) in [("map-get-next-key", false), ("map-get-next-key-int", true)] {
        def(interp, rt, name, move |_, rt, args, span| {
            let key = args.get(1).cloned().unwrap_or(Value::Nil);
            let next = on_map(rt, args, name, span, |m| next_key(m, &key))?;
            Ok(value_or_nil(next, |b| {
                if int {
                    bytes::unsigned(b)
                } else {
                    bytes::octets(b)
                }
            }))
        });
    }
    def(interp, rt, "map-keys", |_, rt, args, span| {
        let keys = on_map(rt, args, "map-keys", span, |m| {
            m.keys()
                .map(|k| k.map_err(|e| e.to_string()))
                .collect::<std::result::Result<Vec<_>, _>>()
        })?;
        Ok(Value::list(keys.iter().map(|k| {
            if k.len() <= 8 {
                bytes::unsigned(k)
            } else {
                bytes::octets(k)
            }
        })))
    });
    def(interp, rt, "encode-int-key", |_, _, args, span| {
        let n = args.first().and_then(bytes::as_integer);
        let size = args.get(1).and_then(Value::as_i64).unwrap_or(4);
        match (n, usize::try_from(size)) {
            (Some(n), Ok(size)) if size <= 64 => Ok(bytes::octets(&bytes::write_le(n, size))),
            _ => Err(error(
                "encode-int-key: expected (encode-int-key INTEGER SIZE)",
                span,
            )),
        }
    });
    def(interp, rt, "decode-int-value", |_, _, args, span| {
        let b = args.first().and_then(bytes::from_octets);
        b.map(|b| bytes::unsigned(&b))
            .ok_or_else(|| error("decode-int-value: expected a vector of octets", span))
    });
}

/// The key after `key` (nil: the first key), or None at the end.
fn next_key(m: &Map, key: &Value) -> std::result::Result<Option<Vec<u8>>, String> {
    let size = m.info().key_size as usize;
    let current = if key.is_nil() {
        None
    } else {
        Some(bytes::encode(key, size, "key")?)
    };
    let mut next = vec![0u8; size];
    match whistler_loader::sys::bpf::map_get_next_key(
        std::os::fd::AsFd::as_fd(m),
        current.as_deref(),
        &mut next,
    ) {
        Ok(true) => Ok(Some(next)),
        Ok(false) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// `map-lookup-struct` and friends: values (or keys) through `decode-NAME`/`encode-NAME`.
fn install_struct_maps(interp: &mut Interp, rt: &Shared) {
    for name in ["map-lookup-struct", "map-lookup-struct-int"] {
        def(interp, rt, name, move |interp, rt, args, span| {
            let map = map_arg(rt, arg(args, 0, name, span)?, span)?;
            let struct_name = object_name(arg(args, 2, name, span)?);
            match lookup(rt, &map, arg(args, 1, name, span)?, span)? {
                Some(v) => call(
                    interp,
                    &format!("decode-{struct_name}"),
                    vec![bytes::octets(&v)],
                ),
                None => Ok(Value::Nil),
            }
        });
    }
    for name in ["map-update-struct", "map-update-struct-int"] {
        def(interp, rt, name, move |interp, rt, args, span| {
            let struct_name = object_name(arg(args, 3, name, span)?);
            let record = arg(args, 2, name, span)?.clone();
            let encoded = call(interp, &format!("encode-{struct_name}"), vec![record])?;
            let key = arg(args, 1, name, span)?;
            on_map(rt, args, name, span, |m| {
                let k = bytes::encode(key, m.info().key_size as usize, "key")?;
                let v = bytes::encode(&encoded, m.info().value_size as usize, "value")?;
                m.update(&k, &v, flags(args, 4)?).map_err(|e| e.to_string())
            })?;
            Ok(t(interp))
        });
    }
    def(interp, rt, "map-delete-struct", |interp, rt, args, span| {
        let name = "map-delete-struct";
        let struct_name = object_name(arg(args, 2, name, span)?);
        let record = arg(args, 1, name, span)?.clone();
        let key = call(interp, &format!("encode-{struct_name}"), vec![record])?;
        let deleted = on_map(rt, args, name, span, |m| {
            let k = bytes::encode(&key, m.info().key_size as usize, "key")?;
            m.delete(&k).map_err(|e| e.to_string())
        })?;
        Ok(if deleted { t(interp) } else { Value::Nil })
    });
    def(
        interp,
        rt,
        "map-get-next-key-struct",
        |interp, rt, args, span| {
            let name = "map-get-next-key-struct";
            let struct_name = object_name(arg(args, 1, name, span)?);
            let key = match args.get(2) {
                None | Some(Value::Nil) => Value::Nil,
                Some(r) => call(interp, &format!("encode-{struct_name}"), vec![r.clone()])?,
            };
            match on_map(rt, args, name, span, |m| next_key(m, &key))? {
                Some(k) => call(
                    interp,
                    &format!("decode-{struct_name}"),
                    vec![bytes::octets(&k)],
                ),
                None => Ok(Value::Nil),
            }
        },
    );
}

fn install_rings(interp: &mut Interp, rt: &Shared) {
    def(interp, rt, "open-ring-consumer", |_, rt, args, span| {
        let callback = arg(args, 1, "open-ring-consumer", span)?.clone();
        open_consumer(
            rt,
            arg(args, 0, "open-ring-consumer", span)?,
            None,
            callback,
            span,
        )
    });
    def(
        interp,
        rt,
        "open-decoding-ring-consumer",
        |_, rt, args, span| {
            let name = "open-decoding-ring-consumer";
            let decoder = arg(args, 1, name, span)?.clone();
            let callback = arg(args, 2, name, span)?.clone();
            open_consumer(rt, arg(args, 0, name, span)?, Some(decoder), callback, span)
        },
    );
    def(interp, rt, "ring-poll", |interp, _, args, span| {
        let consumer = consumer_arg(args, span)?;
        let ms = whistler_lisp::keyword_arg(&args[1..], "timeout-ms")
            .map_or(Some(100), Value::as_i64)
            .ok_or_else(|| error("ring-poll: :timeout-ms must be an integer", span))?;
        let timeout = Duration::from_millis(ms.max(0).unsigned_abs());
        consumer
            .wait(timeout, &interp.interrupt_flag())
            .map_err(|stop| match stop {
                PollStop::Interrupted => interrupted(span),
                PollStop::Failed(e) => error(e, span),
            })?;
        deliver(interp, &consumer)
    });
    def(interp, rt, "ring-consume", |interp, _, args, span| {
        let consumer = consumer_arg(args, span)?;
        consumer
            .wait(Duration::ZERO, &std::sync::atomic::AtomicBool::new(false))
            .map_err(|stop| match stop {
                PollStop::Interrupted => interrupted(span),
                PollStop::Failed(e) => error(e, span),
            })?;
        deliver(interp, &consumer)
    });
    def(interp, rt, "close-ring-consumer", |_, _, args, span| {
        consumer_arg(args, span)?.close();
        Ok(Value::Nil)
    });
}

fn interrupted(span: Span) -> EvalError {
    EvalError {
        kind: ErrorKind::Interrupted,
        span,
        expansions: Vec::new(),
        help: None,
    }
}

fn consumer_arg(args: &[Value], span: Span) -> Result<Rc<RingConsumer>> {
    args.first()
        .and_then(|v| v.downcast::<RingConsumer>())
        .ok_or_else(|| error("expected a ring consumer (from open-ring-consumer)", span))
}

fn open_consumer(
    rt: &Shared,
    map: &Value,
    decoder: Option<Value>,
    callback: Value,
    span: Span,
) -> Result<Value> {
    let map = map_arg(rt, map, span)?;
    let consumer = rt
        .borrow()
        .with_map(&map, |m| RingConsumer::open(m, decoder, callback))
        .and_then(|r| r)
        .map_err(|e| error(e, span))?;
    let consumer = Rc::new(consumer);
    let mut rt = rt.borrow_mut();
    let session = rt
        .session_mut(map.session)
        .ok_or_else(|| error("the map's session has ended", span))?;
    session.consumers.push(consumer.clone());
    Ok(Value::Foreign(consumer))
}

/// Hands every queued record to the callback; returns how many.
fn deliver(interp: &mut Interp, consumer: &RingConsumer) -> Result<Value> {
    let mut count = 0;
    while let Some(record) = consumer.next_record() {
        let mut item = bytes::octets(&record);
        if let Some(decoder) = &consumer.decoder {
            item = interp.call(decoder, &[item])?;
        }
        interp.call(&consumer.callback, &[item])?;
        count += 1;
    }
    Ok(Value::int(count))
}
