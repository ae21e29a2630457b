//! What a compiled file defines, by Lisp name: the facts a session needs to bind its programs,
//! maps and struct records without reading the source again.

use crate::expand::{Env, StructDef};
use whistler_bpf::{MapType, ProgramType};
use whistler_object::{symbol_name, BtfTypeRef};
use whistler_syntax::Span;

/// A program of the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramFacts {
    /// As written (`count-exec`).
    pub lisp_name: String,
    /// Its name in the object and the kernel (`count_exec`).
    pub symbol: String,
    pub section: String,
    pub program_type: ProgramType,
    /// The defining form.
    pub span: Span,
}

/// A map of the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapFacts {
    pub lisp_name: String,
    pub symbol: String,
    pub map_type: MapType,
    pub span: Span,
}

/// A `defstruct`'s layout (a `defunion` has no fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructLayout {
    pub lisp_name: String,
    /// Its BTF name, which [`BtfTypeRef::Struct`] refers to.
    pub symbol: String,
    pub size: u32,
    pub fields: Vec<FieldLayout>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLayout {
    pub lisp_name: String,
    pub offset: u32,
    pub ty: BtfTypeRef,
}

pub(crate) fn programs(env: &Env) -> Vec<ProgramFacts> {
    let facts = env.programs.iter().map(|p| ProgramFacts {
        lisp_name: p.name.clone(),
        symbol: symbol_name(&p.name),
        section: p.section.clone(),
        program_type: p.program_type,
        span: p.span,
    });
    facts.collect()
}

pub(crate) fn maps(env: &Env) -> Vec<MapFacts> {
    let facts = env.maps.iter().map(|m| MapFacts {
        lisp_name: m.spec.name.clone(),
        symbol: symbol_name(&m.spec.name),
        map_type: m.map_type,
        span: m.span,
    });
    facts.collect()
}

pub(crate) fn constants(env: &Env) -> Vec<(String, i64)> {
    let mut constants: Vec<(String, i64)> =
        env.constants.iter().map(|(n, v)| (n.clone(), *v)).collect();
    constants.sort();
    constants
}

pub(crate) fn structs(env: &Env) -> Vec<StructLayout> {
    env.structs.iter().map(|s| layout(env, s)).collect()
}

/// The layout with the BTF description's types (one conversion, `StructDef::to_spec`).
fn layout(env: &Env, def: &StructDef) -> StructLayout {
    let spec = def.to_spec(env);
    let fields = def
        .fields
        .iter()
        .zip(spec.fields)
        .map(|(f, spec)| FieldLayout {
            lisp_name: f.name.clone(),
            offset: f.offset,
            ty: spec.ty,
        });
    StructLayout {
        lisp_name: def.name.clone(),
        symbol: spec.name,
        size: def.size,
        fields: fields.collect(),
    }
}
