//! Common Lisp `defstruct` for Lisp-side data: `(defstruct point x (y 0))` or
//! `(defstruct (point (:conc-name pt-) (:constructor new-point)) x y)` defines `make-point`
//! (keyword arguments with defaults), the accessors (`setf`-able), `point-p` and `copy-point`.
//! An instance is a vector whose first element is the type name.

use crate::env::Env;
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::special::{arg, args_from};
use crate::value::{Cons, Sym, Value};
use std::rc::Rc;

/// The property under which an accessor symbol records its slot's index in the instance.
pub const SLOT_INDEX: &str = "%struct-slot-index";

struct Options {
    name: Sym,
    conc_name: String,
    constructor: Sym,
}

fn options(interp: &mut Interp, spec: &Value, c: &Cons) -> Result<Options, Flow> {
    let (name, opts) = match spec {
        Value::Sym(s, _) => (s.clone(), Value::Nil),
        Value::Cons(_) => match spec.car().as_sym() {
            Some(s) => (s.clone(), spec.cdr()),
            None => {
                return fail(
                    "program-error",
                    "defstruct: expected a structure name",
                    c.span,
                )
            }
        },
        _ => {
            return fail(
                "program-error",
                "defstruct: expected a structure name",
                c.span,
            )
        }
    };
    let mut conc_name = format!("{}-", name.name);
    let mut constructor = interp.symbol(&format!("make-{}", name.name));
    for opt in opts.iter() {
        let key = opt
            .car()
            .as_sym()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let value = opt.cdr().car();
        match key.as_str() {
            "conc-name" => {
                conc_name = match &value {
                    Value::Nil => String::new(),
                    Value::Sym(s, _) => s.name.clone(),
                    Value::Str(s, _) => s.text().to_lowercase(),
                    _ => conc_name,
                }
            }
            "constructor" => {
                if let Some(s) = value.as_sym() {
                    constructor = s.clone();
                }
            }
            _ => {}
        }
    }
    Ok(Options {
        name,
        conc_name,
        constructor,
    })
}

fn sym(interp: &mut Interp, name: &str) -> Value {
    Value::sym(&interp.symbol(name))
}

pub fn defstruct(interp: &mut Interp, c: &Rc<Cons>, env: &Rc<Env>) -> Result<Value, Flow> {
    let opts = options(interp, &arg(c, 0), c)?;
    let slots: Vec<(Sym, Value)> = args_from(c, 1)
        .iter()
        .filter(|s| !matches!(s, Value::Str(..)))
        .map(|s| crate::special::binding_parts(&s, c.span))
        .collect::<Result<_, _>>()?;
    let quoted_name = Value::list([sym(interp, "quote"), Value::sym(&opts.name)]);
    // (defun make-NAME (&key (slot default)...) (vector 'NAME slot...))
    let params = Value::list_with_tail(
        [sym(interp, "&key")],
        Value::list(
            slots
                .iter()
                .map(|(s, d)| Value::list([Value::sym(s), d.clone()])),
        ),
    );
    let body = Value::list_with_tail(
        [sym(interp, "vector"), quoted_name.clone()],
        Value::list(slots.iter().map(|(s, _)| Value::sym(s))),
    );
    define(interp, &opts.constructor, params, body, env)?;
    let obj = sym(interp, "obj");
    for (i, (slot, _)) in slots.iter().enumerate() {
        let accessor = interp.symbol(&format!("{}{}", opts.conc_name, slot.name));
        let body = Value::list([sym(interp, "aref"), obj.clone(), Value::int(i as i64 + 1)]);
        define(interp, &accessor, Value::list([obj.clone()]), body, env)?;
        let key = sym(interp, SLOT_INDEX);
        let plist = accessor.plist.borrow().clone();
        accessor.plist.replace(Value::list_with_tail(
            [key, Value::int(i as i64 + 1)],
            plist,
        ));
    }
    let predicate = interp.symbol(&format!("{}-p", opts.name.name));
    let test = Value::list([
        sym(interp, "and"),
        Value::list([sym(interp, "vectorp"), obj.clone()]),
        Value::list([
            sym(interp, "plusp"),
            Value::list([sym(interp, "length"), obj.clone()]),
        ]),
        Value::list([
            sym(interp, "eq"),
            Value::list([sym(interp, "aref"), obj.clone(), Value::int(0)]),
            quoted_name,
        ]),
    ]);
    define(interp, &predicate, Value::list([obj.clone()]), test, env)?;
    let copier = interp.symbol(&format!("copy-{}", opts.name.name));
    let copy = Value::list([sym(interp, "copy-seq"), obj.clone()]);
    define(interp, &copier, Value::list([obj]), copy, env)?;
    Ok(Value::sym(&opts.name))
}

fn define(
    interp: &mut Interp,
    name: &Sym,
    params: Value,
    body: Value,
    env: &Rc<Env>,
) -> Result<(), Flow> {
    let f = interp.make_closure(
        Some(name.clone()),
        &params,
        &Value::list([body]),
        env,
        crate::value::NO_SPAN,
        false,
    )?;
    name.function.replace(Some(f));
    Ok(())
}
