//! Functions about the Lisp environment itself: `makunbound`, `fmakunbound`,
//! `special-operator-p`, `constantp`, `sxhash`, `subtypep`, `documentation`, `describe`,
//! `apropos`, `vector-pop`, `copy-structure`, `invoke-debugger`, `break`, and the internal
//! setters the prelude uses.

use super::{arity, symbol};
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::streams::Sink;
use crate::value::BuiltinFn;
use crate::value::Value;
use std::cell::RefCell;
use std::rc::Rc;
use whistler_syntax::Span;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("%set-setf-function", |i, a, s| {
        arity(a, 2, 2, "%set-setf-function", s)?;
        let accessor = symbol(&a[0], i, s)?;
        accessor.deferred_setf.replace(None);
        accessor.setf_function.replace(Some(a[1].clone()));
        Ok(a[0].clone())
    }),
    ("%set-symbol-plist", |i, a, s| {
        arity(a, 2, 2, "%set-symbol-plist", s)?;
        symbol(&a[0], i, s)?.plist.replace(a[1].clone());
        Ok(a[1].clone())
    }),
    ("makunbound", |i, a, s| {
        arity(a, 1, 1, "makunbound", s)?;
        let sym = symbol(&a[0], i, s)?;
        if sym.constant.get() {
            return fail("program-error", format!("{} is a constant", sym.name), s);
        }
        sym.value.replace(None);
        Ok(a[0].clone())
    }),
    ("fmakunbound", |i, a, s| {
        arity(a, 1, 1, "fmakunbound", s)?;
        let sym = match crate::special::setf_name(&a[0]) {
            Some(accessor) => {
                accessor.deferred_setf.replace(None);
                accessor.setf_function.replace(None);
                return Ok(a[0].clone());
            }
            None => symbol(&a[0], i, s)?,
        };
        sym.function.replace(None);
        sym.macro_fn.replace(None);
        sym.deferred.replace(None);
        Ok(a[0].clone())
    }),
    ("special-operator-p", |i, a, s| {
        arity(a, 1, 1, "special-operator-p", s)?;
        let sym = symbol(&a[0], i, s)?;
        let special = sym
            .form
            .get()
            .is_some_and(|f| !crate::special::is_redefinable(f));
        Ok(i.bool(special))
    }),
    ("constantp", |i, a, s| {
        arity(a, 1, 2, "constantp", s)?;
        let constant = match &a[0] {
            Value::Sym(sym, _) => sym.constant.get(),
            Value::Cons(_) => a[0].car().as_sym().is_some_and(|h| h.name == "quote"),
            _ => true,
        };
        Ok(i.bool(constant))
    }),
    ("sxhash", |_, a, s| {
        arity(a, 1, 1, "sxhash", s)?;
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        crate::printer::prin1(&a[0]).hash(&mut hasher);
        Ok(Value::int((hasher.finish() >> 2) as i64))
    }),
    ("subtypep", subtypep),
    ("documentation", |_, a, s| {
        arity(a, 2, 2, "documentation", s)?;
        Ok(Value::Nil)
    }),
    ("describe", |i, a, s| {
        arity(a, 1, 2, "describe", s)?;
        let text = format!(
            "{}\n  [{}]\n",
            crate::printer::prin1(&a[0]),
            super::type_of(&a[0]).to_uppercase()
        );
        Sink::of(i, a.get(1), s)?.write(i, &text)?;
        Ok(Value::Nil)
    }),
    ("apropos-list", |i, a, s| {
        arity(a, 1, 2, "apropos-list", s)?;
        let part = super::string_designator(&a[0], s)?.to_lowercase();
        let names: Vec<Value> = i
            .function_names()
            .into_iter()
            .filter(|n| n.contains(&part))
            .map(|n| Value::sym(&i.symbol(&n)))
            .collect();
        Ok(Value::list(names))
    }),
    ("apropos", |i, a, s| {
        arity(a, 1, 2, "apropos", s)?;
        let part = super::string_designator(&a[0], s)?.to_lowercase();
        let mut text = String::new();
        for name in i.function_names().into_iter().filter(|n| n.contains(&part)) {
            text.push_str(&format!("{} (fbound)\n", name.to_uppercase()));
        }
        Sink::of(i, None, s)?.write(i, &text)?;
        Ok(Value::Nil)
    }),
    ("room", |_, _, _| Ok(Value::Nil)),
    ("hash-table-test", |i, a, s| {
        arity(a, 1, 1, "hash-table-test", s)?;
        let Value::Hash(h) = &a[0] else {
            return fail("type-error", "hash-table-test: not a hash table", s);
        };
        let name = match h.borrow().test {
            crate::value::HashTest::Eq => "eq",
            crate::value::HashTest::Eql => "eql",
            crate::value::HashTest::Equal => "equal",
            crate::value::HashTest::Equalp => "equalp",
        };
        Ok(Value::sym(&i.symbol(name)))
    }),
    ("machine-instance", |i, _, _| {
        Ok(i.host.machine_name().map_or(Value::Nil, Value::string))
    }),
    ("vector-pop", |_, a, s| {
        arity(a, 1, 1, "vector-pop", s)?;
        if let Value::Str(text, _) = &a[0] {
            return match text.pop() {
                Some(c) => Ok(Value::Char(c, crate::value::NO_SPAN)),
                None => fail("error", "vector-pop: the string is empty", s),
            };
        }
        match the_vector(&a[0], "vector-pop", "vector", s)?
            .borrow_mut()
            .pop()
        {
            Some(last) => Ok(last),
            None => fail("error", "vector-pop: the vector is empty", s),
        }
    }),
    ("copy-structure", |_, a, s| {
        arity(a, 1, 1, "copy-structure", s)?;
        let fields = the_vector(&a[0], "copy-structure", "structure", s)?;
        Ok(Value::Vector(Rc::new(RefCell::new(
            fields.borrow().clone(),
        ))))
    }),
    ("invoke-debugger", |i, a, s| {
        arity(a, 1, 1, "invoke-debugger", s)?;
        let message = crate::printer::princ(&a[0]);
        let _ = i;
        fail("error", format!("debugger invoked: {message}"), s)
    }),
    ("break", |i, a, s| {
        let message = match a.first() {
            Some(Value::Str(control, _)) => crate::format::format(i, &control.text(), &a[1..], s)?,
            _ => "break".to_string(),
        };
        fail("error", format!("break: {message}"), s)
    }),
];

/// `(subtypep type1 type2)` for type names: true when every value of the first type is of
/// the second, judged by the type hierarchy the evaluator knows; the second value says
/// whether the answer is sure.
fn subtypep(
    interp: &mut Interp,
    args: &[Value],
    span: whistler_syntax::Span,
) -> Result<Value, Flow> {
    arity(args, 2, 3, "subtypep", span)?;
    let (Some(a), Some(b)) = (args[0].as_sym(), args[1].as_sym()) else {
        interp.values = Some(vec![Value::Nil, Value::Nil]);
        return Ok(Value::Nil);
    };
    let (a, b) = (a.name.as_str(), b.name.as_str());
    let parents: &[(&str, &str)] = &[
        ("fixnum", "integer"),
        ("bignum", "integer"),
        ("integer", "rational"),
        ("ratio", "rational"),
        ("rational", "real"),
        ("float", "real"),
        ("double-float", "float"),
        ("single-float", "float"),
        ("real", "number"),
        ("null", "symbol"),
        ("null", "list"),
        ("keyword", "symbol"),
        ("boolean", "symbol"),
        ("cons", "list"),
        ("list", "sequence"),
        ("string", "vector"),
        ("simple-string", "string"),
        ("vector", "array"),
        ("vector", "sequence"),
        ("simple-vector", "vector"),
        ("base-char", "character"),
        ("standard-char", "base-char"),
    ];
    let mut pending = vec![a.to_string()];
    let mut found = a == b || b == "t" || a == "nil";
    while let Some(ty) = pending.pop() {
        if ty == b {
            found = true;
            break;
        }
        pending.extend(
            parents
                .iter()
                .filter(|(c, _)| *c == ty)
                .map(|(_, p)| p.to_string()),
        );
    }
    if !found
        && crate::conditions::is_subtype(interp, a, b)
        && interp.condition_parents.contains_key(a)
    {
        found = true;
    }
    let t = interp.t();
    interp.values = Some(vec![interp.bool(found), t]);
    Ok(interp.bool(found))
}

/// `value` as the vector (or structure, which is one) that `function` needs, else a type error
/// saying it is not a `what`.
fn the_vector<'a>(
    value: &'a Value,
    function: &str,
    what: &str,
    span: Span,
) -> Result<&'a Rc<RefCell<Vec<Value>>>, Flow> {
    match value {
        Value::Vector(v) => Ok(v),
        other => fail(
            "type-error",
            format!(
                "{function}: {} is not a {what}",
                crate::printer::prin1(other)
            ),
            span,
        ),
    }
}
