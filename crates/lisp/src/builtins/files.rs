//! Files through the host: `open`, `close`, `probe-file`, `directory`, `delete-file`,
//! `rename-file`, `ensure-directories-exist`, `file-length`, `file-position`, stream
//! predicates, and pathnames. Pathnames are strings here (`namestring` is the identity);
//! the pathname functions take them apart the way SBCL does for Unix paths.

use super::{arity, keyword, string_designator};
use crate::error::{fail, Flow};
use crate::host::WriteMode;
use crate::interp::Interp;
use crate::streams::{Composite, ErrorStream, FileOutput, InputStream, Sink, StringStream};
use crate::value::BuiltinFn;
use crate::value::Value;
use std::cell::{Cell, RefCell};
use whistler_syntax::Span;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("open", open),
    ("close", |i, a, s| {
        arity(a, 1, 3, "close", s)?;
        if let Some(file) = a[0].downcast::<FileOutput>() {
            return Ok(i.bool(file.close()));
        }
        if let Some(input) = a[0].downcast::<InputStream>() {
            return Ok(i.bool(input.open.replace(false)));
        }
        Ok(i.t())
    }),
    ("open-stream-p", |i, a, s| {
        arity(a, 1, 1, "open-stream-p", s)?;
        let open = match (
            a[0].downcast::<FileOutput>(),
            a[0].downcast::<InputStream>(),
        ) {
            (Some(f), _) => f.writer.borrow().is_some(),
            (_, Some(input)) => input.open.get(),
            _ => is_stream(&a[0]),
        };
        Ok(i.bool(open))
    }),
    ("streamp", |i, a, s| {
        arity(a, 1, 1, "streamp", s)?;
        Ok(i.bool(is_stream(&a[0])))
    }),
    ("input-stream-p", |i, a, s| {
        arity(a, 1, 1, "input-stream-p", s)?;
        let input = super::input::input(i, Some(&a[0]), s).is_ok();
        Ok(i.bool(input))
    }),
    ("output-stream-p", |i, a, s| {
        arity(a, 1, 1, "output-stream-p", s)?;
        Ok(i.bool(Sink::of_stream(i, &a[0], s).is_ok()))
    }),
    ("interactive-stream-p", |i, a, s| {
        arity(a, 1, 1, "interactive-stream-p", s)?;
        let standard = a[0]
            .downcast::<InputStream>()
            .is_some_and(|s| s.standard_input);
        Ok(i.bool(standard))
    }),
    ("stream-element-type", |i, a, s| {
        arity(a, 1, 1, "stream-element-type", s)?;
        let binary = a[0].downcast::<InputStream>().is_some_and(|s| s.binary)
            || a[0].downcast::<FileOutput>().is_some_and(|f| f.binary);
        Ok(if binary {
            let unsigned = Value::sym(&i.symbol("unsigned-byte"));
            Value::list([unsigned, Value::int(8)])
        } else {
            Value::sym(&i.symbol("character"))
        })
    }),
    ("stream-external-format", |i, a, s| {
        arity(a, 1, 1, "stream-external-format", s)?;
        Ok(Value::sym(&i.keyword("utf-8")))
    }),
    ("file-position", file_position),
    ("file-length", |i, a, s| {
        arity(a, 1, 1, "file-length", s)?;
        if let Some(input) = a[0].downcast::<InputStream>() {
            return Ok(Value::int(input.chars.borrow().len() as i64));
        }
        if let Some(file) = a[0].downcast::<FileOutput>() {
            return Ok(Value::int(file.written.get() as i64));
        }
        let _ = i;
        fail("type-error", "file-length: not a file stream", s)
    }),
    ("file-string-length", |_, a, s| {
        arity(a, 2, 2, "file-string-length", s)?;
        let text = match &a[1] {
            Value::Char(c, _) => c.to_string(),
            other => string_designator(other, s)?,
        };
        Ok(Value::int(text.len() as i64))
    }),
    ("write-byte", |i, a, s| {
        arity(a, 2, 2, "write-byte", s)?;
        let byte = u8::try_from(super::int(&a[0], s)?)
            .or_else(|_| fail("type-error", "write-byte: not an octet", s))?;
        match Sink::of_stream(i, &a[1], s)? {
            Sink::File(file) => file.write(&[byte], byte == b'\n')?,
            sink => sink.write(i, &char::from(byte).to_string())?,
        }
        Ok(a[0].clone())
    }),
    ("clear-output", |_, _, _| Ok(Value::Nil)),
    ("probe-file", |i, a, s| {
        arity(a, 1, 1, "probe-file", s)?;
        let path = pathname(&a[0], s)?;
        let info = i.host.file_info(&path).map_err(|e| e.at(s))?;
        Ok(info.map_or(Value::Nil, |f| Value::string(f.truename)))
    }),
    ("truename", |i, a, s| {
        arity(a, 1, 1, "truename", s)?;
        let path = pathname(&a[0], s)?;
        match i.host.file_info(&path).map_err(|e| e.at(s))? {
            Some(f) => Ok(Value::string(f.truename)),
            None => fail("file-error", format!("truename: {path} does not exist"), s),
        }
    }),
    ("file-write-date", |i, a, s| {
        arity(a, 1, 1, "file-write-date", s)?;
        let path = pathname(&a[0], s)?;
        let info = i.host.file_info(&path).map_err(|e| e.at(s))?;
        Ok(match info.and_then(|f| f.modified) {
            Some(unix) => Value::int(unix as i64 + super::time::UNIX_EPOCH_UNIVERSAL),
            None => Value::Nil,
        })
    }),
    ("file-author", |_, a, s| {
        arity(a, 1, 1, "file-author", s)?;
        Ok(Value::Nil)
    }),
    ("delete-file", |i, a, s| {
        arity(a, 1, 1, "delete-file", s)?;
        let path = pathname(&a[0], s)?;
        i.host.delete_file(&path).map_err(|e| e.at(s))?;
        Ok(i.t())
    }),
    ("rename-file", |i, a, s| {
        arity(a, 2, 2, "rename-file", s)?;
        let from = pathname(&a[0], s)?;
        let to = merge(&pathname(&a[1], s)?, &from);
        i.host.rename_file(&from, &to).map_err(|e| e.at(s))?;
        Ok(Value::string(to))
    }),
    ("ensure-directories-exist", |i, a, s| {
        arity(a, 1, usize::MAX, "ensure-directories-exist", s)?;
        let path = pathname(&a[0], s)?;
        let directory = directory_part(&path);
        let created = if directory.is_empty() {
            false
        } else {
            i.host.create_directories(&directory).map_err(|e| e.at(s))?
        };
        let created = i.bool(created);
        i.values = Some(vec![Value::string(path.clone()), created]);
        Ok(Value::string(path))
    }),
    ("directory", directory),
];

pub fn install(interp: &mut Interp) {
    crate::builtins::pathnames::install(interp);
}

/// True for every kind of stream value.
pub fn is_stream(v: &Value) -> bool {
    v.downcast::<InputStream>().is_some()
        || v.downcast::<FileOutput>().is_some()
        || v.downcast::<StringStream>().is_some()
        || v.downcast::<ErrorStream>().is_some()
        || v.downcast::<Composite>().is_some()
}

/// A pathname designator (a string, or a stream opened on a file) as a string.
pub fn pathname(v: &Value, span: Span) -> Result<String, Flow> {
    if let Some(path) = v.downcast::<InputStream>().and_then(|s| s.path.clone()) {
        return Ok(path);
    }
    if let Some(file) = v.downcast::<FileOutput>() {
        return Ok(file.path.clone());
    }
    match v {
        Value::Str(s, _) => Ok(s.to_string()),
        other => fail(
            "type-error",
            format!(
                "{} is not a pathname designator",
                crate::printer::prin1(other)
            ),
            span,
        ),
    }
}

/// `(open path &key direction element-type if-exists if-does-not-exist external-format)`.
fn open(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "open", span)?;
    let path = pathname(&args[0], span)?;
    let options = &args[1..];
    let option =
        |name: &str| keyword(options, name).and_then(|v| v.as_sym().map(|s| s.name.clone()));
    let binary = keyword(options, "element-type").is_some_and(|t| {
        let head = if t.as_cons().is_some() {
            t.car()
        } else {
            t.clone()
        };
        head.as_sym()
            .is_some_and(|s| s.name.contains("byte") || s.name == "bit")
    });
    let direction = option("direction").unwrap_or_else(|| "input".into());
    match direction.as_str() {
        "input" | "probe" => {
            let missing = keyword(options, "if-does-not-exist");
            let bytes = match interp.host.read_file(&path) {
                Ok(bytes) => bytes,
                Err(_) if missing.is_some_and(Value::is_nil) => return Ok(Value::Nil),
                Err(e) => return Err(e.at(span)),
            };
            let stream = InputStream::file(&path, &bytes, binary);
            if direction == "probe" {
                stream.open.set(false);
            }
            Ok(Value::Foreign(stream))
        }
        "output" | "io" => {
            let if_exists = option("if-exists");
            let exists = interp
                .host
                .file_info(&path)
                .map_err(|e| e.at(span))?
                .is_some();
            if exists && keyword(options, "if-exists").is_some_and(Value::is_nil) {
                return Ok(Value::Nil);
            }
            let missing = keyword(options, "if-does-not-exist");
            if !exists && missing.is_some_and(Value::is_nil) {
                return Ok(Value::Nil);
            }
            let mode = WriteMode {
                append: if_exists.as_deref() == Some("append"),
                must_not_exist: if_exists.as_deref() == Some("error"),
                create: missing.is_none_or(|m| m.as_sym().is_none_or(|s| s.name != "error")),
            };
            let writer = interp
                .host
                .write_file(&path, mode)
                .map_err(|e| e.at(span))?;
            Ok(Value::foreign(FileOutput {
                path,
                writer: RefCell::new(Some(writer)),
                at_line_start: Cell::new(true),
                written: Cell::new(0),
                binary,
            }))
        }
        other => fail(
            "error",
            format!("open: :direction :{other} is not :input, :output, :io or :probe"),
            span,
        ),
    }
}

fn file_position(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 2, "file-position", span)?;
    if let Some(input) = args[0].downcast::<InputStream>() {
        let len = input.chars.borrow().len();
        return match args.get(1) {
            None => Ok(Value::int(input.position.get() as i64)),
            Some(to) => {
                let to = match to.as_sym().map(|s| s.name.as_str()) {
                    Some("start") => 0,
                    Some("end") => len,
                    _ => super::index(to, span)?,
                };
                input.position.set(to.min(len));
                Ok(interp.bool(to <= len))
            }
        };
    }
    if let Some(file) = args[0].downcast::<FileOutput>() {
        return Ok(match args.get(1) {
            None => Value::int(file.written.get() as i64),
            Some(_) => Value::Nil,
        });
    }
    if let Some(out) = args[0].downcast::<StringStream>() {
        return Ok(Value::int(out.text.len() as i64));
    }
    Ok(Value::Nil)
}

/// `(directory pattern)`: the paths matching a pattern whose components may contain `*`
/// (any run of characters), as absolute truenames, sorted.
fn directory(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "directory", span)?;
    let pattern = pathname(&args[0], span)?;
    let absolute = pattern.starts_with('/');
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    let mut found = vec![if absolute {
        "/".to_string()
    } else {
        String::new()
    }];
    let wants_directories = pattern.ends_with('/');
    for (n, part) in parts.iter().enumerate() {
        let last = n + 1 == parts.len();
        let mut next = Vec::new();
        for base in &found {
            let listing = if part.contains('*') {
                let dir = if base.is_empty() { "." } else { base.as_str() };
                let Ok(names) = interp.host.list_directory(dir) else {
                    continue;
                };
                names
                    .into_iter()
                    .filter(|name| wildcard(part, name.trim_end_matches('/')))
                    .collect()
            } else {
                vec![part.to_string()]
            };
            for name in listing {
                let name = name.trim_end_matches('/');
                let path = format!("{base}{name}");
                next.push(if last && !wants_directories {
                    path
                } else {
                    format!("{path}/")
                });
            }
        }
        found = next;
    }
    let mut truenames = Vec::new();
    for path in found {
        if let Some(info) = interp.host.file_info(&path).map_err(|e| e.at(span))? {
            truenames.push(info.truename);
        }
    }
    truenames.sort();
    truenames.dedup();
    Ok(Value::list(truenames.into_iter().map(Value::string)))
}

/// Glob matching with `*` for any run of characters.
fn wildcard(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            let Some(tail) = name.strip_prefix(prefix) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| wildcard(rest, &tail[i..]))
        }
    }
}

/// The directory part of a path, with its trailing slash (`"/a/b/"` for `"/a/b/c.txt"`).
pub fn directory_part(path: &str) -> String {
    path.rfind('/')
        .map_or(String::new(), |i| path[..=i].to_string())
}

/// Fills what `path` leaves out from `defaults` (`merge-pathnames` on strings).
pub fn merge(path: &str, defaults: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let file = &path[path.rfind('/').map_or(0, |i| i + 1)..];
    let directory = format!("{}{}", directory_part(defaults), directory_part(path));
    let default_file = &defaults[defaults.rfind('/').map_or(0, |i| i + 1)..];
    let file = match (
        file.is_empty(),
        file.contains('.'),
        default_file.rsplit_once('.'),
    ) {
        (true, _, _) => default_file.to_string(),
        (false, false, Some((_, ty))) if !ty.is_empty() => format!("{file}.{ty}"),
        _ => file.to_string(),
    };
    format!("{directory}{file}")
}
