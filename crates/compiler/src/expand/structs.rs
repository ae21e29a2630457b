//! `defstruct`: C layout with natural alignment and padding, and the BTF description.

use super::{consts, symbol_name, Env, MacroHost};
use crate::ast::Ty;
use crate::diag::{error, with_suggestion};
use whistler_object::{BtfTypeRef, FieldSpec, StructSpec};
use whistler_syntax::{Diagnostic, Sexp, Span};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructDef {
    pub name: String,
    pub size: u32,
    pub align: u32,
    pub fields: Vec<FieldDef>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: String,
    pub offset: u32,
    pub ty: FieldTy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldTy {
    Scalar(Ty),
    Array(Ty, u32),
    /// An embedded struct (by index into `Env::structs`).
    Struct(usize),
}

impl StructDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn to_spec(&self, env: &Env) -> StructSpec {
        StructSpec {
            name: whistler_object::symbol_name(&self.name),
            size: self.size,
            fields: self
                .fields
                .iter()
                .map(|f| FieldSpec {
                    name: whistler_object::symbol_name(&f.name),
                    offset: f.offset,
                    ty: btf_type(env, f.ty),
                })
                .collect(),
        }
    }
}

fn btf_type(env: &Env, ty: FieldTy) -> BtfTypeRef {
    let scalar = |t: Ty| BtfTypeRef::Int {
        size: t.size(),
        signed: t.signed(),
    };
    match ty {
        FieldTy::Scalar(t) => scalar(t),
        FieldTy::Array(t, n) => BtfTypeRef::Array {
            elem: Box::new(scalar(t)),
            count: n,
        },
        FieldTy::Struct(i) => {
            BtfTypeRef::Struct(whistler_object::symbol_name(&env.structs[i].name))
        }
    }
}

/// Parses `(defstruct NAME (FIELD TYPE)...)`; TYPE is a scalar, `(array TYPE N)` or a struct.
pub fn parse(
    env: &Env,
    host: &mut dyn MacroHost,
    form: &Sexp,
    items: &[Sexp],
) -> Result<StructDef, Vec<Diagnostic>> {
    let Some(name) = items.get(1).and_then(symbol_name) else {
        return Err(vec![error(
            form.span,
            "expected `(defstruct NAME (FIELD TYPE)...)`",
        )]);
    };
    let mut errors = Vec::new();
    let (mut offset, mut align) = (0u32, 1u32);
    let mut fields: Vec<FieldDef> = Vec::new();
    for f in &items[2..] {
        match field(env, host, f) {
            Ok((fname, ty, size, falign)) => {
                if fields.iter().any(|x| x.name == fname) {
                    errors.push(error(
                        f.span,
                        format!("duplicate field `{fname}` in `{name}`"),
                    ));
                    continue;
                }
                offset = offset.next_multiple_of(falign);
                fields.push(FieldDef {
                    name: fname,
                    offset,
                    ty,
                });
                offset = offset.saturating_add(size);
                align = align.max(falign);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(StructDef {
        name: name.to_string(),
        size: offset.next_multiple_of(align),
        align,
        fields,
        span: form.span,
    })
}

fn field(
    env: &Env,
    host: &mut dyn MacroHost,
    f: &Sexp,
) -> Result<(String, FieldTy, u32, u32), Diagnostic> {
    let parts = f.as_list().unwrap_or_default();
    let (Some(name), Some(ty)) = (parts.first().and_then(symbol_name), parts.get(1)) else {
        return Err(error(f.span, "expected a field `(NAME TYPE)`"));
    };
    let (ty, size, align) = field_type(env, host, ty)?;
    Ok((name.to_string(), ty, size, align))
}

fn field_type(
    env: &Env,
    host: &mut dyn MacroHost,
    ty: &Sexp,
) -> Result<(FieldTy, u32, u32), Diagnostic> {
    if let Some(list) = ty.as_list() {
        if list.len() == 3 && list[0].is_symbol_named("array") {
            let elem = scalar(&list[1])?;
            let n = consts::eval(env, host, &list[2])?;
            if !(1..=65536).contains(&n) {
                return Err(error(
                    list[2].span,
                    "array length must be between 1 and 65536",
                ));
            }
            let size = elem.size();
            return Ok((FieldTy::Array(elem, n as u32), size * n as u32, size));
        }
        return Err(error(
            ty.span,
            "expected a scalar type, `(array TYPE N)` or a struct name",
        ));
    }
    let name = symbol_name(ty).unwrap_or("");
    if let Some(&i) = env.struct_index.get(name) {
        let s = &env.structs[i];
        return Ok((FieldTy::Struct(i), s.size, s.align));
    }
    let t = scalar(ty)?;
    Ok((FieldTy::Scalar(t), t.size(), t.size()))
}

pub fn scalar(ty: &Sexp) -> Result<Ty, Diagnostic> {
    let name = symbol_name(ty).unwrap_or("");
    Ty::from_name(name).ok_or_else(|| {
        with_suggestion(
            error(ty.span, format!("unknown type `{name}`")),
            name,
            ["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64"],
        )
        .with_help_if_none("types are u8, u16, u32, u64, i8, i16, i32, i64")
    })
}

trait HelpIfNone {
    fn with_help_if_none(self, help: &str) -> Self;
}
impl HelpIfNone for Diagnostic {
    fn with_help_if_none(self, help: &str) -> Self {
        if self.help.is_none() {
            self.with_help(help)
        } else {
            self
        }
    }
}
