//! Pathname functions over Unix path strings: `pathname-name` of `"/a/b.txt"` is `"b"`, its
//! type `"txt"`, its directory `(:absolute "a")`; `make-pathname` and `merge-pathnames` build
//! strings back. Hosts, devices and versions do not exist on Unix and are always nil.

use super::arity;
use super::files::{directory_part, merge, pathname};
use super::keyword;
use crate::error::Flow;
use crate::interp::Interp;
use crate::value::BuiltinFn;
use crate::value::Value;
use whistler_syntax::Span;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("pathname", |_, a, s| {
        one_path(a, s, "pathname", |p| Value::string(p))
    }),
    ("namestring", |_, a, s| {
        one_path(a, s, "namestring", |p| Value::string(p))
    }),
    ("parse-namestring", |_, a, s| {
        arity(a, 1, usize::MAX, "parse-namestring", s)?;
        pathname(&a[0], s).map(Value::string)
    }),
    ("file-namestring", |_, a, s| {
        one_path(a, s, "file-namestring", |p| Value::string(file_part(p)))
    }),
    ("directory-namestring", |_, a, s| {
        one_path(a, s, "directory-namestring", |p| {
            Value::string(directory_part(p))
        })
    }),
    ("host-namestring", |_, a, s| {
        one_path(a, s, "host-namestring", |_| Value::string(""))
    }),
    ("enough-namestring", |_, a, s| {
        arity(a, 1, 2, "enough-namestring", s)?;
        let path = pathname(&a[0], s)?;
        let defaults = match a.get(1) {
            Some(d) => pathname(d, s)?,
            None => String::new(),
        };
        let base = directory_part(&defaults);
        Ok(Value::string(
            path.strip_prefix(base.as_str()).unwrap_or(&path),
        ))
    }),
    ("pathname-name", |_, a, s| {
        one_path(a, s, "pathname-name", |p| optional(name_and_type(p).0))
    }),
    ("pathname-type", |_, a, s| {
        one_path(a, s, "pathname-type", |p| optional(name_and_type(p).1))
    }),
    ("pathname-directory", pathname_directory),
    ("pathnamep", |_, a, s| {
        arity(a, 1, 1, "pathnamep", s)?;
        Ok(Value::Nil)
    }),
    ("wild-pathname-p", |i, a, s| {
        arity(a, 1, 2, "wild-pathname-p", s)?;
        let wild = pathname(&a[0], s)?.contains('*');
        Ok(i.bool(wild))
    }),
    ("make-pathname", make_pathname),
    ("merge-pathnames", |i, a, s| {
        arity(a, 1, 3, "merge-pathnames", s)?;
        let path = pathname(&a[0], s)?;
        let defaults = match a.get(1) {
            Some(d) => pathname(d, s)?,
            None => i
                .global("*default-pathname-defaults*")
                .and_then(|d| d.as_str().map(|d| d.to_string()))
                .unwrap_or_default(),
        };
        Ok(Value::string(merge(&path, &defaults)))
    }),
    ("user-homedir-pathname", |i, _, s| {
        let home = i.host.environment_variable("HOME").map_err(|e| e.at(s))?;
        Ok(Value::string(format!(
            "{}/",
            home.unwrap_or_default().trim_end_matches('/')
        )))
    }),
];

pub fn install(interp: &mut Interp) {
    interp.set_global("*default-pathname-defaults*", Value::string(""));
    for name in ["pathname-host", "pathname-device", "pathname-version"] {
        interp.define_fn(name, |_, a, s| {
            one_path(a, s, "pathname part", |_| Value::Nil)
        });
    }
}

fn one_path(
    args: &[Value],
    span: Span,
    name: &str,
    f: impl Fn(&str) -> Value,
) -> Result<Value, Flow> {
    arity(args, 1, 1, name, span)?;
    Ok(f(&pathname(&args[0], span)?))
}

fn optional(part: Option<&str>) -> Value {
    part.map_or(Value::Nil, Value::string)
}

fn file_part(path: &str) -> &str {
    &path[path.rfind('/').map_or(0, |i| i + 1)..]
}

/// `"b.tar.gz"` → `("b.tar", "gz")`; a leading dot belongs to the name (`".bashrc"`).
fn name_and_type(path: &str) -> (Option<&str>, Option<&str>) {
    let file = file_part(path);
    if file.is_empty() {
        return (None, None);
    }
    match file.rfind('.') {
        Some(i) if i > 0 => (Some(&file[..i]), Some(&file[i + 1..])),
        _ => (Some(file), None),
    }
}

fn pathname_directory(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 3, "pathname-directory", span)?;
    let path = pathname(&args[0], span)?;
    let directory = directory_part(&path);
    if directory.is_empty() {
        return Ok(Value::Nil);
    }
    let kind = if directory.starts_with('/') {
        "absolute"
    } else {
        "relative"
    };
    let mut parts = vec![Value::sym(&interp.keyword(kind))];
    for part in directory.split('/').filter(|p| !p.is_empty()) {
        parts.push(match part {
            ".." => Value::sym(&interp.keyword("up")),
            "*" => Value::sym(&interp.keyword("wild")),
            other => Value::string(other),
        });
    }
    Ok(Value::list(parts))
}

/// `(make-pathname &key directory name type defaults)`, other keys ignored.
fn make_pathname(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let defaults = match keyword(args, "defaults") {
        Some(d) if d.truthy() => pathname(d, span)?,
        _ => String::new(),
    };
    let (default_name, default_type) = name_and_type(&defaults);
    let directory = match keyword(args, "directory") {
        Some(Value::Nil) => String::new(),
        Some(d) => directory_text(interp, d, span)?,
        None => directory_part(&defaults),
    };
    let part = |key: &str, default: Option<&str>| -> Result<Option<String>, Flow> {
        match keyword(args, key) {
            Some(Value::Nil) => Ok(None),
            Some(v) => super::string_designator(v, span).map(Some),
            None => Ok(default.map(String::from)),
        }
    };
    let name = part("name", default_name)?.unwrap_or_default();
    let file = match part("type", default_type)? {
        Some(ty) => format!("{name}.{ty}"),
        None => name,
    };
    Ok(Value::string(format!("{directory}{file}")))
}

/// `(:absolute "a" "b")` → `"/a/b/"`; a string is taken as it is.
fn directory_text(interp: &mut Interp, v: &Value, span: Span) -> Result<String, Flow> {
    if let Value::Str(s, _) = v {
        return Ok(format!("{}/", s.text().trim_end_matches('/')));
    }
    let _ = interp;
    let mut out = String::new();
    for (n, part) in v.iter().enumerate() {
        match part.as_sym().map(|s| s.name.as_str()) {
            Some("absolute") if n == 0 => out.push('/'),
            Some("relative") if n == 0 => {}
            Some("up" | "back") => out.push_str("../"),
            Some("wild") => out.push_str("*/"),
            _ => {
                out.push_str(&super::string_designator(&part, span)?);
                out.push('/');
            }
        }
    }
    Ok(out)
}
