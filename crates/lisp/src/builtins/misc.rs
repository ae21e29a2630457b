//! Equality, type predicates, functions as values, evaluation and macroexpansion, multiple
//! values, hash tables, symbols' cells and property lists, output, and time.

use super::{arity, keyword};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::streams::Sink;
use crate::value::BuiltinFn;
use crate::value::{Function, HashTable, HashTest, Value};
use std::cell::RefCell;
use std::rc::Rc;
use whistler_syntax::Span;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("eq", |i, a, s| pair(i, a, s, crate::hash::eq)),
    ("eql", |i, a, s| pair(i, a, s, crate::hash::eql)),
    ("equal", |i, a, s| pair(i, a, s, crate::hash::equal)),
    ("equalp", |i, a, s| pair(i, a, s, crate::hash::equalp)),
    ("not", |i, a, s| predicate(i, a, s, Value::is_nil)),
    ("null", |i, a, s| predicate(i, a, s, Value::is_nil)),
    ("endp", |i, a, s| predicate(i, a, s, Value::is_nil)),
    ("atom", |i, a, s| {
        predicate(i, a, s, |v| !matches!(v, Value::Cons(_)))
    }),
    ("consp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Cons(_)))
    }),
    ("listp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Cons(_) | Value::Nil))
    }),
    ("symbolp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Sym(..) | Value::Nil))
    }),
    ("keywordp", |i, a, s| {
        predicate(i, a, s, |v| v.as_sym().is_some_and(|s| s.is_keyword()))
    }),
    ("stringp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Str(..)))
    }),
    ("characterp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Char(..)))
    }),
    ("integerp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Int(..) | Value::Big(_)))
    }),
    ("numberp", |i, a, s| {
        predicate(i, a, s, |v| {
            matches!(v, Value::Int(..) | Value::Big(_) | Value::Float(_))
        })
    }),
    ("functionp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Func(_)))
    }),
    ("hash-table-p", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Hash(_)))
    }),
    ("vectorp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Vector(_) | Value::Str(..)))
    }),
    ("arrayp", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Vector(_) | Value::Str(..)))
    }),
    ("simple-vector-p", |i, a, s| {
        predicate(i, a, s, |v| matches!(v, Value::Vector(_)))
    }),
    ("typep", |i, a, s| {
        arity(a, 2, 2, "typep", s)?;
        Ok(i.bool(super::typep(i, &a[0], &a[1])))
    }),
    ("type-of", |i, a, s| {
        arity(a, 1, 1, "type-of", s)?;
        let name = match &a[0] {
            Value::Condition(c) => c.ctype.name.clone(),
            other => super::type_of(other).to_string(),
        };
        Ok(Value::sym(&i.symbol(&name)))
    }),
    ("identity", |_, a, s| {
        arity(a, 1, 1, "identity", s)?;
        Ok(a[0].clone())
    }),
    ("funcall", |i, a, s| {
        arity(a, 1, usize::MAX, "funcall", s)?;
        i.apply(&a[0], &a[1..], s)
    }),
    ("apply", apply),
    ("eval", |i, a, s| {
        arity(a, 1, 1, "eval", s)?;
        let global = i.global.clone();
        i.eval(&a[0], &global)
    }),
    ("macroexpand-1", |i, a, s| macroexpand(i, a, s, false)),
    ("macroexpand", |i, a, s| macroexpand(i, a, s, true)),
    ("macro-function", |i, a, s| {
        arity(a, 1, 2, "macro-function", s)?;
        let sym = super::symbol(&a[0], i, s)?;
        i.define_deferred(&sym)?;
        let m = sym.macro_fn.borrow().clone();
        Ok(m.unwrap_or(Value::Nil))
    }),
    ("values", |i, a, _| {
        i.values = Some(a.to_vec());
        Ok(a.first().cloned().unwrap_or(Value::Nil))
    }),
    ("values-list", |i, a, s| {
        arity(a, 1, 1, "values-list", s)?;
        let items: Vec<Value> = a[0].iter().collect();
        let first = items.first().cloned().unwrap_or(Value::Nil);
        i.values = Some(items);
        Ok(first)
    }),
    ("boundp", |i, a, s| {
        arity(a, 1, 1, "boundp", s)?;
        let sym = super::symbol(&a[0], i, s)?;
        let bound = sym.value.borrow().is_some();
        Ok(i.bool(bound))
    }),
    ("fboundp", |i, a, s| {
        arity(a, 1, 1, "fboundp", s)?;
        let sym = super::symbol(&a[0], i, s)?;
        let bound = sym.has_function() || sym.has_macro() || sym.form.get().is_some();
        Ok(i.bool(bound))
    }),
    ("symbol-value", |i, a, s| {
        arity(a, 1, 1, "symbol-value", s)?;
        let sym = super::symbol(&a[0], i, s)?;
        let v = sym.value.borrow().clone();
        v.map_or_else(
            || {
                fail(
                    "unbound-variable",
                    format!("the variable `{}` is unbound", sym.name),
                    s,
                )
            },
            Ok,
        )
    }),
    ("symbol-function", symbol_function),
    ("fdefinition", symbol_function),
    ("set", |i, a, s| {
        arity(a, 2, 2, "set", s)?;
        let sym = super::symbol(&a[0], i, s)?;
        let global = i.global.clone();
        crate::place::set_variable(&sym, a[1].clone(), &global, s)?;
        Ok(a[1].clone())
    }),
    ("get", |i, a, s| {
        arity(a, 2, 3, "get", s)?;
        let sym = super::symbol(&a[0], i, s)?;
        let plist = sym.plist.borrow().clone();
        Ok(super::lists::getf(&plist, &a[1])
            .unwrap_or_else(|| a.get(2).cloned().unwrap_or(Value::Nil)))
    }),
    ("symbol-plist", |i, a, s| {
        arity(a, 1, 1, "symbol-plist", s)?;
        let sym = super::symbol(&a[0], i, s)?;
        let plist = sym.plist.borrow().clone();
        Ok(plist)
    }),
    ("make-hash-table", make_hash_table),
    ("gethash", gethash),
    ("remhash", |i, a, s| {
        arity(a, 2, 2, "remhash", s)?;
        let table = hash_arg(&a[1], s)?;
        let mut table = table.borrow_mut();
        let key = crate::hash::key(table.test, &a[0]);
        let removed = table.map.shift_remove(&key).is_some();
        Ok(i.bool(removed))
    }),
    ("clrhash", |_, a, s| {
        arity(a, 1, 1, "clrhash", s)?;
        hash_arg(&a[0], s)?.borrow_mut().map.clear();
        Ok(a[0].clone())
    }),
    ("hash-table-count", |_, a, s| {
        arity(a, 1, 1, "hash-table-count", s)?;
        Ok(Value::int(hash_arg(&a[0], s)?.borrow().map.len() as i64))
    }),
    ("maphash", |i, a, s| {
        arity(a, 2, 2, "maphash", s)?;
        let entries: Vec<(Value, Value)> =
            hash_arg(&a[1], s)?.borrow().map.values().cloned().collect();
        for (k, v) in entries {
            i.apply(&a[0], &[k, v], s)?;
        }
        Ok(Value::Nil)
    }),
    ("constantly", |_, a, s| {
        arity(a, 1, 1, "constantly", s)?;
        let value = a[0].clone();
        Ok(host_fn("constantly", move |_, _, _| Ok(value.clone())))
    }),
    ("complement", |_, a, s| {
        arity(a, 1, 1, "complement", s)?;
        let f = a[0].clone();
        Ok(host_fn("complement", move |i, args, span| {
            let r = i.apply(&f, args, span).map_err(flow_error)?;
            Ok(i.bool(r.is_nil()))
        }))
    }),
    ("format", format),
    ("make-string-output-stream", |_, _, _| {
        Ok(Value::Foreign(super::StringStream::new()))
    }),
    ("get-output-stream-string", |_, a, s| {
        arity(a, 1, 1, "get-output-stream-string", s)?;
        match a[0].downcast::<super::StringStream>() {
            Some(stream) => Ok(Value::string(stream.text.take())),
            None => fail(
                "type-error",
                "get-output-stream-string: not a string output stream",
                s,
            ),
        }
    }),
    ("write-string", |i, a, s| write_string(i, a, s, "")),
    ("write-char", |i, a, s| {
        print(i, a, s, "", crate::printer::princ, "")
    }),
    ("write-line", |i, a, s| write_string(i, a, s, "\n")),
    ("terpri", |i, a, s| {
        emit(i, a.first(), "\n", s)?;
        Ok(Value::Nil)
    }),
    ("fresh-line", |i, a, s| {
        let sink = Sink::of(i, a.first(), s)?;
        if sink.at_line_start(i) {
            return Ok(Value::Nil);
        }
        sink.write(i, "\n")?;
        Ok(i.t())
    }),
    ("finish-output", |i, _, _| {
        i.flush_output();
        Ok(Value::Nil)
    }),
    ("force-output", |i, _, _| {
        i.flush_output();
        Ok(Value::Nil)
    }),
    ("sleep", sleep),
];

fn flow_error(flow: Flow) -> crate::EvalError {
    match flow {
        Flow::Error(raised) => raised.error,
        _ => crate::EvalError::new(
            "control-error",
            "non-local exit through a builtin",
            crate::value::NO_SPAN,
        ),
    }
}

fn host_fn(
    name: &str,
    f: impl FnMut(&mut Interp, &[Value], Span) -> Result<Value, crate::EvalError> + 'static,
) -> Value {
    Value::Func(Rc::new(Function::Host {
        name: name.to_string(),
        f: RefCell::new(Box::new(f)),
    }))
}

fn pair(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    f: fn(&Value, &Value) -> bool,
) -> Result<Value, Flow> {
    arity(args, 2, 2, "equality", span)?;
    Ok(interp.bool(f(&args[0], &args[1])))
}

fn predicate(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    f: fn(&Value) -> bool,
) -> Result<Value, Flow> {
    arity(args, 1, 1, "predicate", span)?;
    Ok(interp.bool(f(&args[0])))
}

fn apply(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "apply", span)?;
    let (last, middle) = args[1..].split_last().expect("arity checked");
    let mut call: Vec<Value> = middle.to_vec();
    match last {
        Value::Nil | Value::Cons(_) => call.extend(last.iter()),
        other => {
            return fail(
                "type-error",
                format!(
                    "apply: the last argument {} is not a list",
                    crate::printer::prin1(other)
                ),
                span,
            )
        }
    }
    interp.apply(&args[0], &call, span)
}

fn symbol_function(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 1, "symbol-function", span)?;
    let sym = super::symbol(&args[0], interp, span)?;
    interp.define_deferred(&sym)?;
    let f = sym.function.borrow().clone();
    f.map_or_else(
        || {
            fail(
                "undefined-function",
                format!("the function `{}` is undefined", sym.name),
                span,
            )
        },
        Ok,
    )
}

fn macroexpand(interp: &mut Interp, args: &[Value], span: Span, all: bool) -> Result<Value, Flow> {
    arity(args, 1, 2, "macroexpand", span)?;
    let global = interp.global.clone();
    let mut form = args[0].clone();
    let mut expanded = false;
    while let Some(next) = interp.expand_once(&form, &global)? {
        form = next;
        expanded = true;
        if !all {
            break;
        }
        interp.tick(span)?;
    }
    interp.values = Some(vec![form.clone(), interp.bool(expanded)]);
    Ok(form)
}

fn hash_arg(v: &Value, span: Span) -> Result<Rc<RefCell<HashTable>>, Flow> {
    match v {
        Value::Hash(h) => Ok(h.clone()),
        other => fail(
            "type-error",
            format!("{} is not a hash table", crate::printer::prin1(other)),
            span,
        ),
    }
}

fn make_hash_table(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let name = match keyword(args, "test") {
        Some(Value::Sym(s, _)) => s.name.clone(),
        Some(Value::Func(f)) => f.name(),
        Some(other) => {
            return fail(
                "type-error",
                format!(
                    "make-hash-table: bad :test {}",
                    crate::printer::prin1(other)
                ),
                span,
            )
        }
        None => "eql".into(),
    };
    let test = match name.as_str() {
        "eq" => HashTest::Eq,
        "eql" => HashTest::Eql,
        "equal" | "string=" => HashTest::Equal,
        "equalp" => HashTest::Equalp,
        other => {
            return fail(
                "type-error",
                format!("make-hash-table: unsupported :test {other}"),
                span,
            )
        }
    };
    Ok(Value::Hash(Rc::new(RefCell::new(HashTable {
        test,
        map: Default::default(),
    }))))
}

fn gethash(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 3, "gethash", span)?;
    let table = hash_arg(&args[1], span)?;
    let table = table.borrow();
    let key = crate::hash::key(table.test, &args[0]);
    let (value, found) = match table.map.get(&key) {
        Some((_, v)) => (v.clone(), true),
        None => (args.get(2).cloned().unwrap_or(Value::Nil), false),
    };
    interp.values = Some(vec![value.clone(), interp.bool(found)]);
    Ok(value)
}

/// Writes `text` to a stream designator: `t`/`nil`/absent mean standard output.
fn emit(interp: &mut Interp, stream: Option<&Value>, text: &str, span: Span) -> Result<(), Flow> {
    Sink::of(interp, stream, span)?.write(interp, text)
}

/// `(write-string string [stream] &key start end)`, then `after` (a newline for `write-line`).
fn write_string(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    after: &str,
) -> Result<Value, Flow> {
    arity(args, 1, 6, "write-string", span)?;
    let text = super::string_designator(&args[0], span)?;
    let chars: Vec<char> = text.chars().collect();
    let options = args.get(2..).unwrap_or(&[]);
    let (start, end) = super::input::bounds(
        super::keyword(options, "start"),
        super::keyword(options, "end"),
        chars.len(),
        span,
    )?;
    let mut out: String = chars[start..end].iter().collect();
    out.push_str(after);
    emit(interp, args.get(1), &out, span)?;
    Ok(args[0].clone())
}

fn print(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    before: &str,
    show: fn(&Value) -> String,
    after: &str,
) -> Result<Value, Flow> {
    arity(args, 1, 2, "print", span)?;
    let text = format!("{before}{}{after}", show(&args[0]));
    emit(interp, args.get(1), &text, span)?;
    Ok(args[0].clone())
}

fn format(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, usize::MAX, "format", span)?;
    let control = match &args[1] {
        Value::Str(s, _) => s.text(),
        other => {
            return fail(
                "type-error",
                format!(
                    "format: the control string {} is not a string",
                    crate::printer::prin1(other)
                ),
                span,
            )
        }
    };
    if args[0].is_nil() {
        let text = crate::format::format_at(interp, &control, &args[2..], span, true)?;
        return Ok(Value::string(text));
    }
    if let Value::Str(target, _) = &args[0] {
        // A string with a fill pointer (`make-array ... :fill-pointer 0`): append to it.
        let line_start = target.text().ends_with('\n') || target.is_empty();
        let text = crate::format::format_at(interp, &control, &args[2..], span, line_start)?;
        super::check_size(target.len() + text.chars().count(), span)?;
        target.push_str(&text);
        return Ok(Value::Nil);
    }
    let sink = Sink::of(interp, Some(&args[0]), span)?;
    let line_start = sink.at_line_start(interp);
    let text = crate::format::format_at(interp, &control, &args[2..], span, line_start)?;
    sink.write(interp, &text)?;
    Ok(Value::Nil)
}

fn sleep(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 1, "sleep", span)?;
    let seconds = match crate::number::real(&args[0]) {
        Some(s) if s.is_finite() => s.clamp(0.0, 1e9),
        _ => {
            return fail(
                "type-error",
                format!(
                    "sleep: {} is not a number of seconds",
                    crate::printer::prin1(&args[0])
                ),
                span,
            )
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
    interp.flush_output();
    loop {
        interp.check_interrupt(span)?;
        let now = std::time::Instant::now();
        if now >= deadline {
            return Ok(Value::Nil);
        }
        std::thread::sleep((deadline - now).min(std::time::Duration::from_millis(20)));
    }
}
