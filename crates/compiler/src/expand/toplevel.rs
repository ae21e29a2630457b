//! Top-level definitions: `defconstant`, `defstruct`, `defmap`, `defprog`, `defmetric` (kept
//! for `metrics.rs` until every map is known), `in-package`, and the forms handed to the macro
//! host.

use super::{consts, form_name, head_symbol, keyword_name, structs, symbol_name, Env, MacroHost};
use crate::diag::{error, with_suggestion};
use whistler_bpf::{section, MapType, ProgramType};
use whistler_object::{BtfTypeRef, MapSpec};
use whistler_syntax::{Diagnostic, Sexp, SexpKind, Span};

#[derive(Clone, Debug)]
pub struct MapDef {
    pub map_type: MapType,
    pub spec: MapSpec,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ProgDef {
    pub name: String,
    pub program_type: ProgramType,
    pub section: String,
    pub license: Option<(String, Span)>,
    pub body: Vec<Sexp>,
    pub span: Span,
}

const TOPLEVEL_FORMS: &[&str] = &[
    "defmap",
    "defprog",
    "defmetric",
    "defstruct",
    "defunion",
    "defconstant",
    "in-package",
    "defmacro",
    "defun",
    "defvar",
    "defparameter",
    "eval-when",
    "progn",
];

/// Records one top-level form's definitions in `env`.
pub fn define(env: &mut Env, form: &Sexp, host: &mut dyn MacroHost, diags: &mut Vec<Diagnostic>) {
    let Some(items) = form.as_list().filter(|l| !l.is_empty()) else {
        diags.push(error(
            form.span,
            "expected a top-level definition such as `(defmap ...)` or `(defprog ...)`",
        ));
        return;
    };
    let head = head_symbol(form).and_then(form_name).unwrap_or("");
    let result = match head {
        "defconstant" | "defconst" => defconstant(env, form, items, host),
        "defstruct" => defstruct(env, form, items, host),
        "defunion" => defunion(env, form, items),
        "defmap" => defmap(env, form, items, host),
        "defprog" => defprog(env, form, items),
        "defmetric" => {
            env.metric_forms.push(form.clone());
            Ok(())
        }
        // Setup forms of whole Whistler files (loading systems, packages, writing the object):
        // nothing to compile.
        "in-package" | "declaim" | "require" | "provide" | "use-package" | "defpackage"
        | "compile-to-elf" | "load-system" => Ok(()),
        "defmacro" | "defun" | "defvar" | "defparameter" | "eval-when" | "defsetf" => {
            host.eval_toplevel(form)
        }
        _ => Err(vec![with_suggestion(
            error(
                items[0].span,
                format!(
                    "unknown top-level form `{}`",
                    items[0]
                        .as_symbol()
                        .map_or_else(|| "?".into(), |s| s.to_string())
                ),
            ),
            head,
            TOPLEVEL_FORMS.iter().copied(),
        )]),
    };
    if let Err(mut e) = result {
        diags.append(&mut e);
    }
}

fn defconstant(
    env: &mut Env,
    form: &Sexp,
    items: &[Sexp],
    host: &mut dyn MacroHost,
) -> Result<(), Vec<Diagnostic>> {
    let (Some(name), Some(value)) = (items.get(1).and_then(symbol_name), items.get(2)) else {
        return Err(vec![error(
            form.span,
            "expected `(defconstant NAME VALUE)`",
        )]);
    };
    // The evaluator defines the constant, with Lisp's semantics, for macros and programs
    // alike; programs take an integer value as 64 bits. Without an evaluator only a literal or
    // a name can be a constant's value.
    let resolved = consts::resolve(env, &*host, value, consts::Unknown::LeaveToEvaluator)
        .map_err(|e| vec![e])?;
    let mut definition = items.to_vec();
    definition[0] = Sexp::symbol("defconstant", items[0].span);
    definition[2] = resolved.clone();
    let v = match host.eval_toplevel(&Sexp::list(definition, form.span)) {
        Ok(()) => match items[1]
            .as_symbol()
            .and_then(|sym| host.constant_value(sym))
        {
            Some(v) => v,
            None => return Ok(()),
        },
        Err(no_evaluator) if !matches!(resolved.kind, SexpKind::List(_)) => {
            consts::eval(env, host, &resolved).map_err(|_| no_evaluator)?
        }
        Err(e) => return Err(e),
    };
    if env
        .constants
        .insert(name.to_string(), v)
        .is_some_and(|old| old != v)
    {
        return Err(vec![error(
            items[1].span,
            format!("constant `{name}` is already defined with another value"),
        )]);
    }
    Ok(())
}

fn defstruct(
    env: &mut Env,
    form: &Sexp,
    items: &[Sexp],
    host: &mut dyn MacroHost,
) -> Result<(), Vec<Diagnostic>> {
    let def = structs::parse(env, host, form, items)?;
    let mut errs = Vec::new();
    check_object_name(STRUCT, &def.name, items[1].span, structs(env), &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    env.struct_index.insert(def.name.clone(), env.structs.len());
    env.structs.push(def);
    Ok(())
}

/// `(defunion NAME STRUCT...)`: storage for the largest member; any member's accessors apply.
fn defunion(env: &mut Env, form: &Sexp, items: &[Sexp]) -> Result<(), Vec<Diagnostic>> {
    let Some(name) = items.get(1).and_then(symbol_name) else {
        return Err(vec![error(
            form.span,
            "expected `(defunion NAME STRUCT...)`",
        )]);
    };
    let (mut size, mut align) = (0u32, 1u32);
    let mut errs = Vec::new();
    for m in &items[2..] {
        let member = symbol_name(m).unwrap_or("");
        match env.struct_index.get(member) {
            Some(&i) => {
                size = size.max(env.structs[i].size);
                align = align.max(env.structs[i].align);
            }
            None => errs.push(with_suggestion(
                error(m.span, format!("unknown struct `{member}`")),
                member,
                env.structs.iter().map(|s| s.name.as_str()),
            )),
        }
    }
    check_object_name(STRUCT, name, items[1].span, structs(env), &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    env.struct_index.insert(name.to_string(), env.structs.len());
    env.structs.push(structs::StructDef {
        name: name.to_string(),
        size: size.next_multiple_of(align),
        align,
        fields: Vec::new(),
        span: form.span,
    });
    Ok(())
}

/// `:key value` pairs as (the keyword form, its name, the value), reporting odd lists and
/// non-keywords.
pub(super) fn options<'a>(
    items: &'a [Sexp],
    diags: &mut Vec<Diagnostic>,
) -> Vec<(&'a Sexp, &'a str, &'a Sexp)> {
    let mut out = Vec::new();
    let mut it = items.iter();
    while let Some(k) = it.next() {
        let Some(name) = keyword_name(k) else {
            diags.push(error(k.span, "expected a keyword option such as `:type`"));
            continue;
        };
        match it.next() {
            Some(v) => out.push((k, name, v)),
            None => diags.push(error(k.span, format!("option `:{name}` has no value"))),
        }
    }
    out
}

const MAP_OPTIONS: &[&str] = &[
    "type",
    "key-size",
    "value-size",
    "max-entries",
    "map-flags",
    "flags",
    "key-type",
    "value-type",
    "pinning",
];

fn defmap(
    env: &mut Env,
    form: &Sexp,
    items: &[Sexp],
    host: &mut dyn MacroHost,
) -> Result<(), Vec<Diagnostic>> {
    let Some(name) = items.get(1).and_then(symbol_name) else {
        return Err(vec![error(
            form.span,
            "expected `(defmap NAME :type TYPE ...)`",
        )]);
    };
    let mut errs = Vec::new();
    let mut spec = MapSpec {
        name: name.to_string(),
        map_type: 0,
        key_size: 0,
        value_size: 0,
        max_entries: 0,
        map_flags: 0,
        key_type: None,
        value_type: None,
    };
    let mut map_type = None;
    let (mut has_key, mut has_value, mut has_max) = (false, false, false);
    for (key_form, key, value) in options(&items[2..], &mut errs) {
        let mut num = |errs: &mut Vec<Diagnostic>| match consts::eval(env, host, value) {
            Ok(v) if (0..=u32::MAX as i64).contains(&v) => v as u32,
            Ok(_) => {
                errs.push(error(
                    value.span,
                    format!("`:{key}` must be between 0 and 2^32-1"),
                ));
                0
            }
            Err(e) => {
                errs.push(e);
                0
            }
        };
        match key {
            "type" => map_type = map_type_of(value, &mut errs),
            "key-size" => (spec.key_size, has_key) = (num(&mut errs), true),
            "value-size" => (spec.value_size, has_value) = (num(&mut errs), true),
            "max-entries" => (spec.max_entries, has_max) = (num(&mut errs), true),
            "map-flags" | "flags" => spec.map_flags = num(&mut errs),
            "pinning" => {}
            "key-type" | "value-type" => {
                let (size, ty) = type_ref(env, value, &mut errs);
                if key == "key-type" {
                    (spec.key_size, spec.key_type, has_key) = (size, ty, true);
                } else {
                    (spec.value_size, spec.value_type, has_value) = (size, ty, true);
                }
            }
            other => errs.push(with_suggestion(
                error(key_form.span, format!("unknown map option `:{other}`")),
                other,
                MAP_OPTIONS.iter().copied(),
            )),
        }
    }
    let Some(map_type) = map_type else {
        if errs.is_empty() {
            errs.push(
                error(form.span, format!("map `{name}` needs a `:type`"))
                    .with_help("e.g. `:type :hash`"),
            );
        }
        return Err(errs);
    };
    spec.map_type = map_type as u32;
    apply_map_defaults(&mut spec, map_type, has_key, has_value);
    let options_ok = errs.is_empty();
    if options_ok && !has_max && map_type != MapType::PERF_EVENT_ARRAY {
        errs.push(error(
            form.span,
            format!("map `{name}` needs `:max-entries`"),
        ));
    }
    if !map_type.is_keyless()
        && (spec.key_size == 0 || spec.value_size == 0)
        && map_type != MapType::PERF_EVENT_ARRAY
    {
        errs.push(error(
            form.span,
            format!("map `{name}` needs `:key-size` and `:value-size`"),
        ));
    }
    check_object_name(MAP, name, items[1].span, symbols(env), &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    env.map_index.insert(name.to_string(), env.maps.len());
    env.maps.push(MapDef {
        map_type,
        spec,
        span: form.span,
    });
    Ok(())
}

fn apply_map_defaults(spec: &mut MapSpec, ty: MapType, has_key: bool, has_value: bool) {
    let four = matches!(
        ty,
        MapType::PROG_ARRAY | MapType::PERF_EVENT_ARRAY | MapType::CGROUP_ARRAY
    );
    if four && !has_key {
        spec.key_size = 4;
    }
    if four && !has_value {
        spec.value_size = 4;
    }
    if ty == MapType::STACK_TRACE && !has_key {
        spec.key_size = 4;
    }
    if ty == MapType::LPM_TRIE && spec.map_flags == 0 {
        // The kernel refuses LPM tries without it.
        spec.map_flags = whistler_bpf::consts::BPF_F_NO_PREALLOC;
    }
}

fn map_type_of(value: &Sexp, errs: &mut Vec<Diagnostic>) -> Option<MapType> {
    let name = keyword_name(value)
        .or_else(|| symbol_name(value))
        .unwrap_or("");
    let t = MapType::from_lisp_name(name);
    if t.is_none() {
        let names: Vec<&str> = MapType::ALL
            .iter()
            .flat_map(|t| t.lisp_names().iter().copied())
            .collect();
        errs.push(with_suggestion(
            error(value.span, format!("unknown map type `{name}`")),
            name,
            names,
        ));
    }
    t
}

fn type_ref(env: &Env, value: &Sexp, errs: &mut Vec<Diagnostic>) -> (u32, Option<BtfTypeRef>) {
    let name = symbol_name(value).unwrap_or("");
    if let Some(t) = crate::ast::Ty::from_name(name) {
        return (
            t.size(),
            Some(BtfTypeRef::Int {
                size: t.size(),
                signed: t.signed(),
            }),
        );
    }
    match env.struct_index.get(name) {
        Some(&i) => (
            env.structs[i].size,
            Some(BtfTypeRef::Struct(whistler_object::symbol_name(name))),
        ),
        None => {
            errs.push(with_suggestion(
                error(value.span, format!("unknown struct `{name}`")),
                name,
                env.structs.iter().map(|s| s.name.as_str()),
            ));
            (0, None)
        }
    }
}

const PROG_OPTIONS: &[&str] = &["type", "section", "license"];

fn defprog(env: &mut Env, form: &Sexp, items: &[Sexp]) -> Result<(), Vec<Diagnostic>> {
    let Some(name) = items.get(1).and_then(symbol_name) else {
        return Err(vec![error(
            form.span,
            "expected `(defprog NAME (:type TYPE ...) BODY...)`",
        )]);
    };
    let opts_form = items.get(2);
    let opts = opts_form.and_then(|o| o.as_list()).unwrap_or_default();
    if opts_form.is_some_and(|o| o.as_list().is_none() && !o.is_symbol_named("nil")) {
        return Err(vec![error(
            opts_form.map_or(form.span, |o| o.span),
            "expected an option list such as `(:type :xdp)`",
        )]);
    }
    let mut errs = Vec::new();
    let (mut ptype, mut section, mut license) = (None, None, None);
    for (key_form, key, value) in options(opts, &mut errs) {
        match key {
            "type" => ptype = program_type_of(value, &mut errs),
            "section" => match &value.kind {
                SexpKind::Str(s) => section = Some(s.clone()),
                _ if value.is_symbol_named("nil") => {}
                _ => errs.push(error(value.span, "`:section` must be a string")),
            },
            "license" => match &value.kind {
                SexpKind::Str(s) => license = Some((s.clone(), value.span)),
                _ => errs.push(error(value.span, "`:license` must be a string")),
            },
            other => errs.push(with_suggestion(
                error(key_form.span, format!("unknown program option `:{other}`")),
                other,
                PROG_OPTIONS.iter().copied(),
            )),
        }
    }
    let from_section = section
        .as_deref()
        .and_then(section::Section::parse)
        .map(|s| s.def.program_type);
    // A section libbpf knows decides the type the program is loaded as, so it wins over
    // `:type` (Whistler's `(:type :cgroup-sock :section "sockops")` loads as sock_ops).
    let program_type = from_section.or(ptype).unwrap_or(ProgramType::XDP);
    let section = section.unwrap_or_else(|| section::default_section(program_type).to_string());
    check_object_name(PROGRAM, name, items[1].span, symbols(env), &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    env.programs.push(ProgDef {
        name: name.to_string(),
        program_type,
        section,
        license,
        body: items.get(3..).unwrap_or_default().to_vec(),
        span: form.span,
    });
    Ok(())
}

/// A definition that gives its name to something in the object: what it is, its Lisp name,
/// where it is.
type Named<'a> = (&'static str, &'a str, Span);

const STRUCT: &str = "struct";
const MAP: &str = "map";
const PROGRAM: &str = "program";

/// The structs defined so far (their BTF names share one namespace).
fn structs(env: &Env) -> impl Iterator<Item = Named<'_>> {
    env.structs
        .iter()
        .map(|s| (STRUCT, s.name.as_str(), s.span))
}

/// The maps and programs defined so far (their ELF symbols share one table).
fn symbols(env: &Env) -> impl Iterator<Item = Named<'_>> {
    let maps = env.maps.iter().map(|m| (MAP, m.spec.name.as_str(), m.span));
    let programs = env
        .programs
        .iter()
        .map(|p| (PROGRAM, p.name.as_str(), p.span));
    maps.chain(programs)
}

/// Reports the `kind` named `name` (at `at`) when its object name
/// ([`whistler_object::symbol_name`]) is taken by one of `defined`: an error here, naming the
/// earlier definition, and a note there.
fn check_object_name<'a>(
    kind: &str,
    name: &str,
    at: Span,
    mut defined: impl Iterator<Item = Named<'a>>,
    errs: &mut Vec<Diagnostic>,
) {
    let symbol = whistler_object::symbol_name(name);
    let Some((first_kind, first, first_at)) =
        defined.find(|(_, other, _)| whistler_object::symbol_name(other) == symbol)
    else {
        return;
    };
    let (message, help) = if first != name {
        (
            format!("{kind} `{name}` and {first_kind} `{first}` are both `{symbol}` in the object"),
            "rename one: in object names, characters other than letters, digits and `_` become `_`",
        )
    } else if first_kind != kind {
        (
            format!("{kind} `{name}` has the name of {first_kind} `{first}`"),
            "maps and programs share one namespace of symbols",
        )
    } else {
        (
            format!("{kind} `{name}` is already defined"),
            "rename one of the definitions",
        )
    };
    errs.push(error(at, message).with_help(help));
    errs.push(Diagnostic::note(
        first_at,
        format!("{first_kind} `{first}` is defined here"),
    ));
}

fn program_type_of(value: &Sexp, errs: &mut Vec<Diagnostic>) -> Option<ProgramType> {
    let name = keyword_name(value)
        .or_else(|| symbol_name(value))
        .unwrap_or("");
    let t = ProgramType::from_lisp_name(name);
    if t.is_none() {
        let names: Vec<&str> = ProgramType::ALL
            .iter()
            .flat_map(|t| t.lisp_names().iter().copied())
            .collect();
        errs.push(with_suggestion(
            error(value.span, format!("unknown program type `{name}`")),
            name,
            names,
        ));
    }
    t
}
