//! Reading from input streams: `read-line`, `read-char`, `peek-char`, `unread-char`, `read`,
//! `read-sequence`, `read-byte`, `listen`; string input streams and the composite streams.

use super::{arity, index, keyword};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::streams::{closed_stream, Composite, InputStream, Sink};
use crate::value::BuiltinFn;
use crate::value::{Value, NO_SPAN};
use std::rc::Rc;
use whistler_syntax::{ReadOptions, SourceFile, Span};

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("read-line", read_line),
    ("read-char", read_char),
    ("read-char-no-hang", read_char),
    ("peek-char", peek_char),
    ("unread-char", |i, a, s| {
        arity(a, 1, 2, "unread-char", s)?;
        let (stream, _) = input(i, a.get(1), s)?;
        stream.position.set(stream.position.get().saturating_sub(1));
        Ok(Value::Nil)
    }),
    ("listen", |i, a, s| {
        let (stream, _) = input(i, a.first(), s)?;
        let ready = stream.position.get() < stream.chars.borrow().len();
        Ok(i.bool(ready))
    }),
    ("clear-input", |i, a, s| {
        let (stream, _) = input(i, a.first(), s)?;
        stream.position.set(stream.chars.borrow().len());
        Ok(Value::Nil)
    }),
    ("read", read),
    ("read-preserving-whitespace", read),
    ("read-byte", read_byte),
    ("read-sequence", read_sequence),
    ("make-string-input-stream", |_, a, s| {
        arity(a, 1, 3, "make-string-input-stream", s)?;
        let text = super::string_designator(&a[0], s)?;
        let chars: Vec<char> = text.chars().collect();
        let (start, end) = bounds(a.get(1), a.get(2), chars.len(), s)?;
        let stream = InputStream::from_text("");
        stream.chars.replace(chars[..end].to_vec());
        stream.position.set(start);
        Ok(Value::Foreign(stream))
    }),
    ("make-broadcast-stream", |_, a, _| {
        Ok(composite(Composite::Broadcast(a.to_vec())))
    }),
    ("make-concatenated-stream", |_, a, _| {
        Ok(composite(Composite::Concatenated(a.to_vec())))
    }),
    ("make-two-way-stream", |_, a, s| {
        arity(a, 2, 2, "make-two-way-stream", s)?;
        Ok(composite(Composite::TwoWay(a[0].clone(), a[1].clone())))
    }),
    ("make-echo-stream", |_, a, s| {
        arity(a, 2, 2, "make-echo-stream", s)?;
        Ok(composite(Composite::Echo(a[0].clone(), a[1].clone())))
    }),
    ("make-synonym-stream", |i, a, s| {
        arity(a, 1, 1, "make-synonym-stream", s)?;
        Ok(composite(Composite::Synonym(super::symbol(&a[0], i, s)?)))
    }),
    ("broadcast-stream-streams", |_, a, s| {
        part(a, s, |c| match c {
            Composite::Broadcast(v) => Some(Value::list(v.clone())),
            _ => None,
        })
    }),
    ("concatenated-stream-streams", |_, a, s| {
        part(a, s, |c| match c {
            Composite::Concatenated(v) => Some(Value::list(v.clone())),
            _ => None,
        })
    }),
    ("two-way-stream-input-stream", |_, a, s| {
        part(a, s, |c| match c {
            Composite::TwoWay(i, _) => Some(i.clone()),
            _ => None,
        })
    }),
    ("two-way-stream-output-stream", |_, a, s| {
        part(a, s, |c| match c {
            Composite::TwoWay(_, o) => Some(o.clone()),
            _ => None,
        })
    }),
    ("echo-stream-input-stream", |_, a, s| {
        part(a, s, |c| match c {
            Composite::Echo(i, _) => Some(i.clone()),
            _ => None,
        })
    }),
    ("echo-stream-output-stream", |_, a, s| {
        part(a, s, |c| match c {
            Composite::Echo(_, o) => Some(o.clone()),
            _ => None,
        })
    }),
    ("synonym-stream-symbol", |_, a, s| {
        part(a, s, |c| match c {
            Composite::Synonym(sym) => Some(Value::sym(sym)),
            _ => None,
        })
    }),
];

fn composite(c: Composite) -> Value {
    Value::Foreign(Rc::new(c))
}

fn part(
    args: &[Value],
    span: Span,
    pick: impl Fn(&Composite) -> Option<Value>,
) -> Result<Value, Flow> {
    arity(args, 1, 1, "stream accessor", span)?;
    match args[0].downcast::<Composite>().and_then(|c| pick(&c)) {
        Some(v) => Ok(v),
        None => fail(
            "type-error",
            format!(
                "{} is not that kind of stream",
                crate::printer::prin1(&args[0])
            ),
            span,
        ),
    }
}

/// `:start`/`:end`-style bounds (both optional) checked against `len`.
pub fn bounds(
    start: Option<&Value>,
    end: Option<&Value>,
    len: usize,
    span: Span,
) -> Result<(usize, usize), Flow> {
    let start = match start {
        Some(v) if v.truthy() => index(v, span)?,
        _ => 0,
    };
    let end = match end {
        Some(v) if v.truthy() => index(v, span)?,
        _ => len,
    };
    if start > end || end > len {
        return fail(
            "type-error",
            format!("the bounds :start {start} :end {end} do not fit a sequence of length {len}"),
            span,
        );
    }
    Ok((start, end))
}

/// The input stream a designator names (absent or `nil`: `*standard-input*`; `t`:
/// `*terminal-io*`), and for echo streams where to echo what is read.
pub(crate) fn input(
    interp: &mut Interp,
    stream: Option<&Value>,
    span: Span,
) -> Result<(Rc<InputStream>, Option<Sink>), Flow> {
    let value = match stream {
        None | Some(Value::Nil) => global(interp, "*standard-input*"),
        Some(v) if v.as_sym().is_some_and(|s| s.name == "t") => {
            match global(interp, "*terminal-io*") {
                t if t.as_sym().is_some() => global(interp, "*standard-input*"),
                other => other,
            }
        }
        Some(v) => v.clone(),
    };
    resolve(interp, &value, span, 0)
}

fn global(interp: &mut Interp, name: &str) -> Value {
    interp
        .symbol(name)
        .value
        .borrow()
        .clone()
        .unwrap_or(Value::Nil)
}

fn resolve(
    interp: &mut Interp,
    value: &Value,
    span: Span,
    depth: usize,
) -> Result<(Rc<InputStream>, Option<Sink>), Flow> {
    if let Some(stream) = value.downcast::<InputStream>() {
        if !stream.open.get() {
            return Err(closed_stream(value, span));
        }
        return Ok((stream, None));
    }
    let not_input = || {
        fail(
            "type-error",
            format!("{} is not an input stream", crate::printer::prin1(value)),
            span,
        )
    };
    let Some(c) = value.downcast::<Composite>().filter(|_| depth < 64) else {
        return not_input();
    };
    match &*c {
        Composite::TwoWay(i, _) => resolve(interp, i, span, depth + 1),
        Composite::Echo(i, o) => {
            let (stream, _) = resolve(interp, i, span, depth + 1)?;
            Ok((stream, Some(Sink::of_stream(interp, o, span)?)))
        }
        Composite::Synonym(sym) => {
            let target = sym.value.borrow().clone().unwrap_or(Value::Nil);
            resolve(interp, &target, span, depth + 1)
        }
        Composite::Concatenated(streams) => {
            let mut last = None;
            for s in streams {
                let (stream, echo) = resolve(interp, s, span, depth + 1)?;
                if has_more(interp, &stream, span)? {
                    return Ok((stream, echo));
                }
                last = Some((stream, echo));
            }
            Ok(last.unwrap_or_else(|| (InputStream::from_text(""), None)))
        }
        Composite::Broadcast(_) => not_input(),
    }
}

/// True when a character is available (asking the host for the next line of standard input).
fn has_more(interp: &mut Interp, stream: &InputStream, span: Span) -> Result<bool, Flow> {
    if stream.position.get() < stream.chars.borrow().len() {
        return Ok(true);
    }
    refill(interp, stream, span)
}

/// Appends the next line of standard input; false for other streams and at end of input.
fn refill(interp: &mut Interp, stream: &InputStream, span: Span) -> Result<bool, Flow> {
    if !stream.standard_input {
        return Ok(false);
    }
    interp.flush_output();
    match interp.host.read_standard_input().map_err(|e| e.at(span))? {
        Some(line) if !line.is_empty() => {
            stream.chars.borrow_mut().extend(line.chars());
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The end-of-file result: an `end-of-file` error, or `eof-value` when `eof-error-p` is nil.
fn at_eof(args: &[Value], first: usize, what: &str, span: Span) -> Result<Value, Flow> {
    match args.get(first) {
        Some(Value::Nil) => Ok(args.get(first + 1).cloned().unwrap_or(Value::Nil)),
        _ => fail("end-of-file", format!("{what}: end of file"), span),
    }
}

fn echo(interp: &mut Interp, echo: Option<Sink>, text: &str) -> Result<(), Flow> {
    match echo {
        Some(sink) => sink.write(interp, text),
        None => Ok(()),
    }
}

/// `(read-line &optional stream eof-error-p eof-value recursive-p)` → line, missing-newline-p.
fn read_line(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 0, 4, "read-line", span)?;
    let mut line = String::new();
    let mut ended = false;
    let mut read_any = false;
    // A concatenated stream's line may continue in its next stream: resolve again until the
    // line ends or no stream has more.
    loop {
        let (stream, echo_to) = input(interp, args.first(), span)?;
        if !has_more(interp, &stream, span)? {
            break;
        }
        read_any = true;
        let mut piece = String::new();
        while has_more(interp, &stream, span)? {
            let c = stream.chars.borrow()[stream.position.get()];
            stream.position.set(stream.position.get() + 1);
            if c == '\n' {
                ended = true;
                break;
            }
            piece.push(c);
        }
        echo(
            interp,
            echo_to,
            &format!("{piece}{}", if ended { "\n" } else { "" }),
        )?;
        line.push_str(&piece);
        if ended {
            break;
        }
    }
    if !read_any {
        return at_eof(args, 1, "read-line", span);
    }
    let line = Value::string(line);
    interp.values = Some(vec![line.clone(), interp.bool(!ended)]);
    Ok(line)
}

fn read_char(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 0, 4, "read-char", span)?;
    let (stream, echo_to) = input(interp, args.first(), span)?;
    if !has_more(interp, &stream, span)? {
        return at_eof(args, 1, "read-char", span);
    }
    let c = stream.chars.borrow()[stream.position.get()];
    stream.position.set(stream.position.get() + 1);
    echo(interp, echo_to, &c.to_string())?;
    Ok(Value::Char(c, NO_SPAN))
}

/// `(peek-char &optional peek-type stream eof-error-p eof-value)`: `peek-type` nil looks at the
/// next character, `t` skips whitespace first, a character skips up to that character.
fn peek_char(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 0, 5, "peek-char", span)?;
    let (stream, _) = input(interp, args.get(1), span)?;
    let peek_type = args.first().cloned().unwrap_or(Value::Nil);
    loop {
        if !has_more(interp, &stream, span)? {
            return at_eof(args, 2, "peek-char", span);
        }
        let c = stream.chars.borrow()[stream.position.get()];
        let stop = match &peek_type {
            Value::Nil => true,
            Value::Char(target, _) => c == *target,
            _ => !c.is_whitespace(),
        };
        if stop {
            return Ok(Value::Char(c, NO_SPAN));
        }
        stream.position.set(stream.position.get() + 1);
    }
}

fn read_byte(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 3, "read-byte", span)?;
    let (stream, _) = input(interp, args.first(), span)?;
    if !has_more(interp, &stream, span)? {
        return at_eof(args, 1, "read-byte", span);
    }
    let c = stream.chars.borrow()[stream.position.get()];
    stream.position.set(stream.position.get() + 1);
    Ok(Value::int(i64::from(u32::from(c))))
}

/// `(read-sequence sequence stream &key start end)`: fills a vector or string in place and
/// returns the index after the last element filled.
fn read_sequence(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 6, "read-sequence", span)?;
    let (stream, _) = input(interp, Some(&args[1]), span)?;
    let len = match &args[0] {
        Value::Vector(items) => items.borrow().len(),
        Value::Str(text, _) => text.len(),
        _ => {
            return fail(
                "type-error",
                "read-sequence: the sequence must be a vector or a string",
                span,
            )
        }
    };
    let rest = &args[2..];
    let (start, end) = bounds(keyword(rest, "start"), keyword(rest, "end"), len, span)?;
    let mut at = start;
    while at < end && has_more(interp, &stream, span)? {
        let c = stream.chars.borrow()[stream.position.get()];
        stream.position.set(stream.position.get() + 1);
        match &args[0] {
            Value::Str(text, _) => {
                text.set_char(at, c);
            }
            Value::Vector(items) => {
                if let Some(slot) = items.borrow_mut().get_mut(at) {
                    *slot = if stream.binary {
                        Value::int(i64::from(u32::from(c)))
                    } else {
                        Value::Char(c, NO_SPAN)
                    };
                }
            }
            _ => {}
        }
        at += 1;
    }
    Ok(Value::int(at as i64))
}

/// `(read &optional stream eof-error-p eof-value recursive-p)`: reads one form with the host
/// reader (floating-point numbers allowed).
fn read(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 0, 4, "read", span)?;
    let (stream, _) = input(interp, args.first(), span)?;
    loop {
        let rest: String = stream.chars.borrow()[stream.position.get()..]
            .iter()
            .collect();
        match read_one(interp, &rest, span)? {
            Some((value, used)) => {
                let consumed = rest[..used].chars().count();
                stream.position.set(stream.position.get() + consumed);
                return Ok(value);
            }
            None if refill(interp, &stream, span)? => continue,
            None => {
                stream.position.set(stream.chars.borrow().len());
                return at_eof(args, 1, "read", span);
            }
        }
    }
}

/// The first form of `text` and the byte offset just after it; `None` when `text` holds no
/// complete form.
pub fn read_one(
    interp: &mut Interp,
    text: &str,
    span: Span,
) -> Result<Option<(Value, usize)>, Flow> {
    let file = SourceFile::new("stream", text);
    let result = whistler_syntax::read_with(&file, ReadOptions { host_code: true });
    let Some(first) = result.forms.first() else {
        if let Some(d) = result.diagnostics.first() {
            if !d.message.contains("end of") && !d.message.contains("unclosed") {
                return fail("reader-error", format!("read: {}", d.message), span);
            }
        }
        return Ok(None);
    };
    if let Some(d) = result
        .diagnostics
        .iter()
        .find(|d| d.span.start < first.span.end)
    {
        return fail("reader-error", format!("read: {}", d.message), span);
    }
    let value = interp.sexp_to_value_without_spans(first);
    Ok(Some((value, first.span.end as usize)))
}
