//! The user side of `whistler:defstruct`: for `(defstruct call-event (pid u32) (ts u64))`,
//! a Lisp structure `call-event-record` (`make-call-event-record`, `call-event-record-pid`,
//! ...) and the codecs `decode-call-event` (octets → record) and `encode-call-event`
//! (record or plist → octets), using the layout the compiler computed.

use crate::bytes;
use std::collections::HashMap;
use std::rc::Rc;
use whistler_compiler::StructLayout;
use whistler_lisp::{EvalError, Interp, Value};
use whistler_object::BtfTypeRef;
use whistler_syntax::Span;

/// Every BPF struct of the file as the compiler laid it out, by Lisp name and by object (BTF)
/// name.
#[derive(Default, Debug)]
pub struct Layouts {
    by_name: HashMap<String, StructLayout>,
    lisp_name: HashMap<String, String>,
}

impl Layouts {
    pub fn new(structs: &[StructLayout]) -> Layouts {
        let mut layouts = Layouts::default();
        // A `defunion` has no fields of its own: no record for it.
        for layout in structs.iter().filter(|s| !s.fields.is_empty()) {
            let name = layout.lisp_name.clone();
            layouts
                .lisp_name
                .insert(layout.symbol.clone(), name.clone());
            layouts.by_name.insert(name, layout.clone());
        }
        layouts
    }

    pub fn get(&self, name: &str) -> Option<&StructLayout> {
        self.by_name.get(name)
    }

    fn by_object_name(&self, name: &str) -> Option<&StructLayout> {
        self.by_name.get(self.lisp_name.get(name)?)
    }

    pub fn all(&self) -> impl Iterator<Item = &StructLayout> {
        self.by_name.values()
    }
}

/// Defines the record structure and the two codecs of every layout in `interp`.
pub fn define_all(interp: &mut Interp, layouts: &Rc<Layouts>) -> Result<(), EvalError> {
    for layout in layouts.all() {
        define_record(interp, layout)?;
        let (codecs, name) = (layouts.clone(), layout.lisp_name.clone());
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
        let (codecs, name) = (layouts.clone(), layout.lisp_name.clone());
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
fn define_record(interp: &mut Interp, layout: &StructLayout) -> Result<(), EvalError> {
    let mut form = vec![
        sym(interp, "defstruct"),
        sym(interp, &format!("{}-record", layout.lisp_name)),
    ];
    for field in &layout.fields {
        form.push(sym(interp, &field.lisp_name));
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
    layout: &StructLayout,
    data: &[u8],
    span: Span,
) -> Result<Value, EvalError> {
    if data.len() < layout.size as usize {
        return Err(error(
            format!(
                "decode-{}: {} bytes given, the struct has {}",
                layout.lisp_name,
                data.len(),
                layout.size
            ),
            span,
        ));
    }
    let mut args = Vec::new();
    for field in &layout.fields {
        args.push(sym(interp, &format!(":{}", field.lisp_name)));
        args.push(decode_field(
            interp,
            layouts,
            &field.ty,
            &data[field.offset as usize..],
            span,
        )?);
    }
    call(interp, &format!("make-{}-record", layout.lisp_name), args)
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
    layout: &StructLayout,
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
        &format!("{}-record-{field}", layout.lisp_name),
        vec![record.clone()],
    )
}

fn encode(
    interp: &mut Interp,
    layouts: &Layouts,
    layout: &StructLayout,
    record: &Value,
    out: &mut [u8],
    span: Span,
) -> Result<(), EvalError> {
    for field in &layout.fields {
        let value = field_value(interp, layout, record, &field.lisp_name)?;
        encode_field(
            interp,
            layouts,
            &field.ty,
            &value,
            &mut out[field.offset as usize..],
            span,
        )
        .map_err(|e| {
            error(
                format!(
                    "encode-{}: field {}: {}",
                    layout.lisp_name,
                    field.lisp_name,
                    e.message()
                ),
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
                Value::Str(s, _) => s.text().bytes().map(|b| Value::int(i64::from(b))).collect(),
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
