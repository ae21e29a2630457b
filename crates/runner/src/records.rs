//! The user side of `whistler:defstruct`: for `(defstruct call-event (pid u32) (ts u64))`,
//! a Lisp structure `call-event-record` (`make-call-event-record`, `call-event-record-pid`,
//! ...) and the codecs `decode-call-event` (octets → record) and `encode-call-event`
//! (record or plist → octets), using the layout the compiler computed.

use crate::bytes;
use std::collections::HashMap;
use std::rc::Rc;
use whistler_lisp::{EvalError, Interp, Value};
use whistler_object::{BtfTypeRef, StructSpec};
use whistler_syntax::{Sexp, Span};

/// One struct as user code sees it.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The Lisp name (`call-event`).
    pub name: String,
    pub size: u32,
    /// (Lisp field name, byte offset, type).
    pub fields: Vec<(String, u32, BtfTypeRef)>,
}

/// Every BPF struct of the file, by Lisp name and by object (BTF) name.
#[derive(Default, Debug)]
pub struct Layouts {
    by_name: HashMap<String, Layout>,
    lisp_name: HashMap<String, String>,
}

impl Layouts {
    /// Pairs the compiler's struct specs with the field names of the `defstruct` forms.
    pub fn new(forms: &[Sexp], specs: &[StructSpec]) -> Layouts {
        let mut layouts = Layouts::default();
        for form in forms {
            let Some(name) = crate::plan::declared_name(form) else {
                continue;
            };
            let object_name = whistler_object::symbol_name(&name);
            let Some(spec) = specs.iter().find(|s| s.name == object_name) else {
                continue;
            };
            let names = field_names(form);
            if names.len() != spec.fields.len() {
                continue;
            }
            let fields = names
                .into_iter()
                .zip(&spec.fields)
                .map(|(n, f)| (n, f.offset, f.ty.clone()))
                .collect();
            layouts.lisp_name.insert(object_name, name.clone());
            layouts.by_name.insert(
                name.clone(),
                Layout {
                    name,
                    size: spec.size,
                    fields,
                },
            );
        }
        layouts
    }

    pub fn get(&self, name: &str) -> Option<&Layout> {
        self.by_name.get(name)
    }

    fn by_object_name(&self, name: &str) -> Option<&Layout> {
        self.by_name.get(self.lisp_name.get(name)?)
    }

    pub fn all(&self) -> impl Iterator<Item = &Layout> {
        self.by_name.values()
    }
}

fn field_names(form: &Sexp) -> Vec<String> {
    let items = form.as_list().unwrap_or_default();
    items
        .get(2..)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| f.as_list()?.first()?.as_symbol().map(|s| s.name.clone()))
        .collect()
}

/// Defines the record structure and the two codecs of every layout in `interp`.
pub fn define_all(interp: &mut Interp, layouts: &Rc<Layouts>) -> Result<(), EvalError> {
    for layout in layouts.all() {
        define_record(interp, layout)?;
        let (codecs, name) = (layouts.clone(), layout.name.clone());
        interp.define_builtin(
            &format!("decode-{name}"),
            Box::new(move |interp, args, span| {
                let [data] = args else {
                    return Err(error(format!("decode-{name}: expects one argument"), span));
                };
                let bytes = bytes::from_octets(data).ok_or_else(|| {
                    error(format!("decode-{name}: expected a vector of octets"), span)
                })?;
                let layout = codecs.get(&name).expect("defined above");
                decode(interp, &codecs, layout, &bytes, span)
            }),
        );
        let (codecs, name) = (layouts.clone(), layout.name.clone());
        interp.define_builtin(
            &format!("encode-{name}"),
            Box::new(move |interp, args, span| {
                let [record] = args else {
                    return Err(error(format!("encode-{name}: expects one record"), span));
                };
                let layout = codecs.get(&name).expect("defined above");
                let mut out = vec![0u8; layout.size as usize];
                encode(interp, &codecs, layout, record, &mut out, span)?;
                Ok(bytes::octets(&out))
            }),
        );
    }
    Ok(())
}

pub fn error(message: impl Into<String>, span: Span) -> EvalError {
    EvalError::new("simple-error", message, span)
}

fn sym(interp: &mut Interp, name: &str) -> Value {
    Value::sym(&interp.symbol(name))
}

/// `(defstruct NAME-record FIELD...)`.
fn define_record(interp: &mut Interp, layout: &Layout) -> Result<(), EvalError> {
    let mut form = vec![
        sym(interp, "defstruct"),
        sym(interp, &format!("{}-record", layout.name)),
    ];
    for (field, _, _) in &layout.fields {
        form.push(sym(interp, field));
    }
    interp.eval_value(&Value::list(form)).map(drop)
}

/// Calls the Lisp function `name` with already-evaluated arguments.
pub fn call(interp: &mut Interp, name: &str, args: Vec<Value>) -> Result<Value, EvalError> {
    let quote = sym(interp, "quote");
    let mut form = vec![sym(interp, name)];
    form.extend(args.into_iter().map(|a| Value::list([quote.clone(), a])));
    interp.eval_value(&Value::list(form))
}

fn decode(
    interp: &mut Interp,
    layouts: &Layouts,
    layout: &Layout,
    data: &[u8],
    span: Span,
) -> Result<Value, EvalError> {
    if data.len() < layout.size as usize {
        return Err(error(
            format!(
                "decode-{}: {} bytes given, the struct has {}",
                layout.name,
                data.len(),
                layout.size
            ),
            span,
        ));
    }
    let mut args = Vec::new();
    for (field, offset, ty) in &layout.fields {
        args.push(sym(interp, &format!(":{field}")));
        args.push(decode_field(
            interp,
            layouts,
            ty,
            &data[*offset as usize..],
            span,
        )?);
    }
    call(interp, &format!("make-{}-record", layout.name), args)
}

fn type_size(layouts: &Layouts, ty: &BtfTypeRef) -> usize {
    match ty {
        BtfTypeRef::Int { size, .. } => *size as usize,
        BtfTypeRef::Array { elem, count } => type_size(layouts, elem) * *count as usize,
        BtfTypeRef::Struct(n) => layouts.by_object_name(n).map_or(0, |l| l.size as usize),
    }
}

fn decode_field(
    interp: &mut Interp,
    layouts: &Layouts,
    ty: &BtfTypeRef,
    data: &[u8],
    span: Span,
) -> Result<Value, EvalError> {
    match ty {
        BtfTypeRef::Int { size, signed } => Ok(bytes::integer(bytes::read_le(
            &data[..*size as usize],
            *signed,
        ))),
        BtfTypeRef::Array { elem, count }
            if matches!(
                **elem,
                BtfTypeRef::Int {
                    size: 1,
                    signed: false
                }
            ) =>
        {
            Ok(bytes::octets(&data[..*count as usize]))
        }
        BtfTypeRef::Array { elem, count } => {
            let step = type_size(layouts, elem);
            let mut items = Vec::new();
            for i in 0..*count as usize {
                items.push(decode_field(
                    interp,
                    layouts,
                    elem,
                    &data[i * step..],
                    span,
                )?);
            }
            Ok(Value::Vector(Rc::new(std::cell::RefCell::new(items))))
        }
        BtfTypeRef::Struct(n) => {
            let inner = layouts
                .by_object_name(n)
                .ok_or_else(|| error(format!("no layout for struct `{n}`"), span))?;
            decode(interp, layouts, inner, data, span)
        }
    }
}

/// A field of a record: a plist's `:FIELD` value, or the structure accessor's.
fn field_value(
    interp: &mut Interp,
    layout: &Layout,
    record: &Value,
    field: &str,
) -> Result<Value, EvalError> {
    if matches!(record, Value::Cons(_) | Value::Nil) {
        let items = record.to_vec().unwrap_or_default();
        let found = items.chunks(2).find(|p| {
            p[0].as_sym()
                .is_some_and(|s| s.is_keyword() && s.name == field)
        });
        return Ok(found
            .and_then(|p| p.get(1).cloned())
            .unwrap_or(Value::int(0)));
    }
    call(
        interp,
        &format!("{}-record-{field}", layout.name),
        vec![record.clone()],
    )
}

fn encode(
    interp: &mut Interp,
    layouts: &Layouts,
    layout: &Layout,
    record: &Value,
    out: &mut [u8],
    span: Span,
) -> Result<(), EvalError> {
    for (field, offset, ty) in &layout.fields {
        let value = field_value(interp, layout, record, field)?;
        encode_field(
            interp,
            layouts,
            ty,
            &value,
            &mut out[*offset as usize..],
            span,
        )
        .map_err(|e| {
            error(
                format!("encode-{}: field {field}: {}", layout.name, e.message()),
                span,
            )
        })?;
    }
    Ok(())
}

fn encode_field(
    interp: &mut Interp,
    layouts: &Layouts,
    ty: &BtfTypeRef,
    value: &Value,
    out: &mut [u8],
    span: Span,
) -> Result<(), EvalError> {
    match ty {
        BtfTypeRef::Int { size, .. } => {
            let n = bytes::as_integer(value).ok_or_else(|| error("expected an integer", span))?;
            out[..*size as usize].copy_from_slice(&bytes::write_le(n, *size as usize));
            Ok(())
        }
        BtfTypeRef::Array { elem, count } => {
            let items: Vec<Value> = match value {
                Value::Vector(v) => v.borrow().clone(),
                Value::Str(s, _) => s.bytes().map(|b| Value::int(i64::from(b))).collect(),
                other => other.to_vec().unwrap_or_default(),
            };
            let step = type_size(layouts, elem);
            for (i, item) in items.iter().take(*count as usize).enumerate() {
                encode_field(interp, layouts, elem, item, &mut out[i * step..], span)?;
            }
            Ok(())
        }
        BtfTypeRef::Struct(n) => {
            let inner = layouts
                .by_object_name(n)
                .ok_or_else(|| error(format!("no layout for struct `{n}`"), span))?;
            encode(interp, layouts, inner, value, out, span)
        }
    }
}
