//! `defmetric`: a Prometheus metric declared beside the map it reads, resolved against the
//! map's key and value layout into a [`MetricSpec`] that the object carries
//! (`.whistler.metrics`) for any exporter.
//!
//! ```lisp
//! (defmetric NAME KIND            ; KIND: :counter, :gauge or :histogram
//!   :map MAP                      ; required
//!   :help "..."
//!   :labels ((LABEL DECODER [:field FIELD] [:allow ("v"...)] [:match "regexp"])...)
//!   :value FIELD                  ; the sample, when the value is a struct
//!   :buckets :log2 | (:linear STEP)  ; histograms: what the bucket index means
//!   :bucket FIELD                 ; histograms with a struct key: the bucket index's field
//!   :per-cpu :sum | :cpu          ; per-CPU maps: CPUs added, or a `cpu` label
//!   :unit :nanoseconds            ; or :microseconds, :milliseconds: what the map counts,
//!                                 ; served in seconds (NAME then ends in `seconds`)
//!   :max-series N)                ; default 10000
//! ```
//!
//! DECODER is a keyword of [`Decoder::NAMES`] or `(:table (INTEGER "name")...)`. A label reads
//! the key field of its own name unless `:field` says otherwise, or the whole key when the key
//! is an integer. Without `:labels`, each key field (or the whole key, as `key`) is a decimal
//! label. Forms are resolved after the whole file is defined, so a metric may come before its
//! map.

use super::toplevel::options;
use super::{consts, keyword_name, symbol_name, Env, MacroHost};
use crate::diag::{error, with_suggestion};
use whistler_object::metrics::{
    Buckets, Decoder, FieldRef, LabelSpec, MetricKind, MetricSpec, PerCpu, SourceUnit,
};
use whistler_object::BtfTypeRef;
use whistler_syntax::{Diagnostic, Sexp, SexpKind};

const METRIC_OPTIONS: &[&str] = &[
    "map",
    "help",
    "labels",
    "value",
    "buckets",
    "bucket",
    "per-cpu",
    "unit",
    "max-series",
];
const LABEL_OPTIONS: &[&str] = &["field", "allow", "match"];
const KINDS: &[&str] = &["counter", "gauge", "histogram"];
const DEFAULT_MAX_SERIES: u32 = 10_000;

/// The metrics of every `defmetric` form, in order; errors go to `diags`.
pub fn declare(
    env: &Env,
    host: &mut dyn MacroHost,
    diags: &mut Vec<Diagnostic>,
) -> Vec<MetricSpec> {
    let mut metrics: Vec<MetricSpec> = Vec::new();
    for form in &env.metric_forms {
        match metric(env, host, form) {
            Ok(m) if metrics.iter().any(|other| other.name == m.name) => diags.push(error(
                form.as_list().map_or(form.span, |l| l[1].span),
                format!("metric `{}` is already defined", m.name),
            )),
            Ok(m) => metrics.push(m),
            Err(mut e) => diags.append(&mut e),
        }
    }
    metrics
}

/// A named part of a map's key or value.
struct Part {
    /// The field's Lisp name; `None` for a whole integer key or value.
    name: Option<String>,
    field: FieldRef,
}

fn metric(env: &Env, host: &mut dyn MacroHost, form: &Sexp) -> Result<MetricSpec, Vec<Diagnostic>> {
    let items = form.as_list().unwrap_or_default();
    let (Some(name), Some(kind_form)) = (items.get(1).and_then(symbol_name), items.get(2)) else {
        return Err(vec![error(
            form.span,
            "expected `(defmetric NAME KIND :map MAP ...)` with KIND `:counter`, `:gauge` or `:histogram`",
        )]);
    };
    let mut errs = Vec::new();
    let kind = keyword_name(kind_form).filter(|k| KINDS.contains(k));
    if kind.is_none() {
        let written = keyword_name(kind_form).or_else(|| symbol_name(kind_form));
        errs.push(with_suggestion(
            error(
                kind_form.span,
                "expected the metric's kind: `:counter`, `:gauge` or `:histogram`",
            ),
            written.unwrap_or(""),
            KINDS.iter().copied(),
        ));
    }
    let prometheus_name = whistler_object::symbol_name(name);
    if kind == Some("counter") && prometheus_name.ends_with("_total") {
        errs.push(
            error(items[1].span, format!("counter `{name}` ends in `total`"))
                .with_help("counters are served as NAME_total: leave the suffix out"),
        );
    }
    let opts = options(&items[3..], &mut errs);
    let opt = |wanted: &str| {
        opts.iter()
            .find(|(_, k, _)| *k == wanted)
            .map(|(_, _, v)| *v)
    };
    for (key_form, key, _) in &opts {
        if !METRIC_OPTIONS.contains(key) {
            errs.push(with_suggestion(
                error(key_form.span, format!("unknown metric option `:{key}`")),
                key,
                METRIC_OPTIONS.iter().copied(),
            ));
        }
    }
    let Some(map_form) = opt("map") else {
        errs.push(error(
            form.span,
            format!("metric `{name}` needs `:map MAP`"),
        ));
        return Err(errs);
    };
    let map_name = symbol_name(map_form).unwrap_or("");
    let Some(map) = env.map_index.get(map_name).map(|&i| &env.maps[i]) else {
        errs.push(with_suggestion(
            error(map_form.span, format!("unknown map `{map_name}`")),
            map_name,
            env.maps.iter().map(|m| m.spec.name.as_str()),
        ));
        return Err(errs);
    };
    if map.map_type.is_keyless() {
        errs.push(error(
            map_form.span,
            format!("map `{map_name}` has no keyed entries to serve"),
        ));
        return Err(errs);
    }
    let key_parts = parts(env, map.spec.key_type.as_ref(), map.spec.key_size);
    let value_parts = parts(env, map.spec.value_type.as_ref(), map.spec.value_size);

    let histogram = kind == Some("histogram");
    let buckets = match (opt("buckets"), histogram) {
        (Some(b), true) => buckets(env, host, b, &mut errs),
        (None, true) => {
            errs.push(
                error(form.span, format!("histogram `{name}` needs `:buckets`")).with_help(
                    "`:buckets :log2` for `(log2 x)` slots, `(:linear STEP)` for `(/ x STEP)`",
                ),
            );
            None
        }
        (Some(b), false) => {
            errs.push(error(b.span, "`:buckets` is for histograms"));
            None
        }
        (None, false) => None,
    };
    let bucket = match opt("bucket") {
        Some(f) if histogram => pick_part(&key_parts, Some(f), "key", &mut errs),
        Some(f) => {
            errs.push(error(f.span, "`:bucket` is for histograms"));
            None
        }
        None if histogram => pick_part(&key_parts, None, "key", &mut errs).or_else(|| {
            errs.push(
                error(
                    form.span,
                    "the key is a struct: which field is the bucket index?",
                )
                .with_help("name it with `:bucket FIELD`"),
            );
            None
        }),
        None => None,
    };
    let value = pick_part(&value_parts, opt("value"), "value", &mut errs);
    if value.is_none() && opt("value").is_none() {
        errs.push(
            error(
                form.span,
                format!("the value of map `{map_name}` is not one integer"),
            )
            .with_help(format!(
                "name the integer field to serve with `:value FIELD` (one of {})",
                field_list(&value_parts)
            )),
        );
    }
    let per_cpu = match opt("per-cpu") {
        None => PerCpu::Sum,
        Some(v) => match keyword_name(v) {
            Some("sum") => PerCpu::Sum,
            Some("cpu") => PerCpu::Label,
            _ => {
                errs.push(error(
                    v.span,
                    "expected `:sum` (CPUs added) or `:cpu` (a `cpu` label)",
                ));
                PerCpu::Sum
            }
        },
    };
    let unlabelled: Vec<&Part> = key_parts
        .iter()
        .filter(|p| bucket.as_ref().is_none_or(|b| b.offset != p.field.offset))
        .collect();
    let labels = match opt("labels") {
        Some(list) => {
            // Labels the metric adds itself.
            let mut taken = vec![];
            taken.extend(histogram.then_some("le"));
            taken.extend((per_cpu == PerCpu::Label).then_some("cpu"));
            labels(&key_parts, list, taken, &mut errs)
        }
        None => unlabelled.iter().map(|p| default_label(p)).collect(),
    };
    let unit = match opt("unit") {
        None => SourceUnit::Base,
        Some(v) => {
            let written = keyword_name(v).unwrap_or("");
            match SourceUnit::from_name(written) {
                Some(unit) => unit,
                None => {
                    errs.push(with_suggestion(
                        error(v.span, "expected the unit the map counts in: `:nanoseconds`, `:microseconds` or `:milliseconds`"),
                        written,
                        SourceUnit::NAMES.iter().copied(),
                    ));
                    SourceUnit::Base
                }
            }
        }
    };
    if let Some(base) = unit.base_unit() {
        let served = prometheus_name.trim_end_matches("_total");
        if !served.ends_with(base) {
            errs.push(
                error(
                    items[1].span,
                    format!("metric `{name}` is served in {base}"),
                )
                .with_help(format!("name it after its unit, `{name}-{base}`")),
            );
        }
    }
    let max_series = match opt("max-series") {
        None => DEFAULT_MAX_SERIES,
        Some(v) => match consts::eval(env, host, v) {
            Ok(n) if (1..=i64::from(u32::MAX)).contains(&n) => n as u32,
            Ok(_) => {
                errs.push(error(v.span, "`:max-series` must be between 1 and 2^32-1"));
                0
            }
            Err(e) => {
                errs.push(e);
                0
            }
        },
    };
    let help = match opt("help") {
        None => format!("{name} from BPF map {map_name}."),
        Some(Sexp {
            kind: SexpKind::Str(s),
            ..
        }) => s.clone(),
        Some(v) => {
            errs.push(error(v.span, "`:help` must be a string"));
            String::new()
        }
    };
    let kind = match kind {
        Some("counter") => MetricKind::Counter,
        Some("gauge") => MetricKind::Gauge,
        _ => MetricKind::Histogram {
            buckets: buckets.unwrap_or(Buckets::Log2),
            bucket: bucket.unwrap_or(FieldRef {
                offset: 0,
                size: 0,
                signed: false,
            }),
        },
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(MetricSpec {
        name: prometheus_name,
        help,
        map: map_name.to_string(),
        kind,
        labels,
        value: value.expect("checked above"),
        per_cpu,
        max_series,
        unit,
    })
}

/// The parts of a key or value: one per field of a struct (integers and arrays of integers),
/// else the whole of it.
fn parts(env: &Env, ty: Option<&BtfTypeRef>, size: u32) -> Vec<Part> {
    let whole = |signed| {
        vec![Part {
            name: None,
            field: FieldRef {
                offset: 0,
                size,
                signed,
            },
        }]
    };
    let symbol = match ty {
        Some(BtfTypeRef::Struct(symbol)) => symbol,
        Some(BtfTypeRef::Int { signed, .. }) => return whole(*signed),
        _ => return whole(false),
    };
    let Some(def) = env
        .structs
        .iter()
        .find(|s| &whistler_object::symbol_name(&s.name) == symbol)
    else {
        return whole(false);
    };
    let spec = def.to_spec(env);
    let fields = def.fields.iter().zip(spec.fields).filter_map(|(f, spec)| {
        let (size, signed) = match spec.ty {
            BtfTypeRef::Int { size, signed } => (size, signed),
            BtfTypeRef::Array { elem, count } => match *elem {
                BtfTypeRef::Int { size, .. } => (size * count, false),
                _ => return None,
            },
            BtfTypeRef::Struct(_) => return None,
        };
        Some(Part {
            name: Some(f.name.clone()),
            field: FieldRef {
                offset: f.offset,
                size,
                signed,
            },
        })
    });
    fields.collect()
}

/// The part named by `field`, or the whole of an integer key or value when `field` is `None`.
fn pick_part(
    parts: &[Part],
    field: Option<&Sexp>,
    what: &str,
    errs: &mut Vec<Diagnostic>,
) -> Option<FieldRef> {
    let Some(field) = field else {
        return match parts {
            [Part { name: None, field }] if matches!(field.size, 1 | 2 | 4 | 8) => Some(*field),
            _ => None,
        };
    };
    let wanted = symbol_name(field).unwrap_or("");
    if let Some(part) = parts.iter().find(|p| p.name.as_deref() == Some(wanted)) {
        return Some(part.field);
    }
    let message = if parts.iter().all(|p| p.name.is_none()) {
        format!("the map's {what} is not a struct, so it has no field `{wanted}`")
    } else {
        format!("the map's {what} has no field `{wanted}`")
    };
    errs.push(with_suggestion(
        error(field.span, message),
        wanted,
        parts.iter().filter_map(|p| p.name.as_deref()),
    ));
    None
}

fn field_list(parts: &[Part]) -> String {
    let names: Vec<String> = parts
        .iter()
        .filter_map(|p| Some(format!("`{}`", p.name.as_ref()?)))
        .collect();
    if names.is_empty() {
        "none: the value has no integer field".into()
    } else {
        names.join(", ")
    }
}

fn default_label(part: &Part) -> LabelSpec {
    let decoder = if matches!(part.field.size, 1 | 2 | 4 | 8) {
        Decoder::Integer
    } else {
        Decoder::Hex
    };
    LabelSpec {
        name: part
            .name
            .as_deref()
            .map_or_else(|| "key".into(), whistler_object::symbol_name),
        field: part.field,
        decoder,
        allow: Vec::new(),
        pattern: None,
    }
}

fn buckets(
    env: &Env,
    host: &mut dyn MacroHost,
    form: &Sexp,
    errs: &mut Vec<Diagnostic>,
) -> Option<Buckets> {
    if keyword_name(form) == Some("log2") {
        return Some(Buckets::Log2);
    }
    if let Some([head, step]) = form.as_list() {
        if keyword_name(head) == Some("linear") {
            return match consts::eval(env, host, step) {
                Ok(step) if step > 0 => Some(Buckets::Linear { step: step as u64 }),
                Ok(_) => {
                    errs.push(error(step.span, "a linear bucket's width must be positive"));
                    None
                }
                Err(e) => {
                    errs.push(e);
                    None
                }
            };
        }
    }
    errs.push(error(form.span, "expected `:log2` or `(:linear STEP)`"));
    None
}

/// `((LABEL DECODER OPTION...)...)`; `taken` are label names already used.
fn labels<'a>(
    key: &[Part],
    list: &'a Sexp,
    mut taken: Vec<&'a str>,
    errs: &mut Vec<Diagnostic>,
) -> Vec<LabelSpec> {
    let Some(items) = list.as_list() else {
        errs.push(error(
            list.span,
            "expected a list of labels such as `((pid :integer))`",
        ));
        return Vec::new();
    };
    let mut labels = Vec::new();
    for item in items {
        let name = item.as_list().and_then(|l| l.first());
        if let Some(name_form) = name.filter(|n| symbol_name(n).is_some_and(|n| taken.contains(&n)))
        {
            errs.push(
                error(
                    name_form.span,
                    format!(
                        "label `{}` is taken",
                        symbol_name(name_form).unwrap_or_default()
                    ),
                )
                .with_help(
                    "histograms add `le`, `:per-cpu :cpu` adds `cpu`, and each label is named once",
                ),
            );
            continue;
        }
        taken.extend(name.and_then(symbol_name));
        labels.extend(label(key, item, errs));
    }
    labels
}

fn label(key: &[Part], form: &Sexp, errs: &mut Vec<Diagnostic>) -> Option<LabelSpec> {
    let shape = "expected `(LABEL DECODER [:field FIELD] [:allow (\"v\"...)] [:match \"regexp\"])`";
    let Some([name_form, decoder_form, rest @ ..]) = form.as_list() else {
        errs.push(error(form.span, shape));
        return None;
    };
    let Some(name) = symbol_name(name_form) else {
        errs.push(error(name_form.span, shape));
        return None;
    };
    let decoder = decoder(decoder_form, errs);
    let opts = options(rest, errs);
    let mut field_form = None;
    let (mut allow, mut pattern) = (Vec::new(), None);
    for (key_form, option, value) in opts {
        match option {
            "field" => field_form = Some(value),
            "allow" => allow = strings(value, errs),
            "match" => pattern = regexp(value, errs),
            other => errs.push(with_suggestion(
                error(key_form.span, format!("unknown label option `:{other}`")),
                other,
                LABEL_OPTIONS.iter().copied(),
            )),
        }
    }
    let field = match (field_form, key) {
        (Some(f), _) => pick_part(key, Some(f), "key", errs),
        (None, [Part { name: None, field }]) => Some(*field),
        (None, _) => {
            let own = key
                .iter()
                .find(|p| p.name.as_deref() == Some(name))
                .map(|p| p.field);
            if own.is_none() {
                errs.push(with_suggestion(
                    error(
                        name_form.span,
                        format!("the map's key has no field `{name}`"),
                    )
                    .with_help("name the key field this label shows with `:field FIELD`"),
                    name,
                    key.iter().filter_map(|p| p.name.as_deref()),
                ));
            }
            own
        }
    }?;
    let decoder = decoder?;
    if let Some(sizes) = decoder.sizes().filter(|s| !s.contains(&field.size)) {
        let sizes: Vec<String> = sizes.iter().map(u32::to_string).collect();
        errs.push(error(
            decoder_form.span,
            format!(
                "decoder `{}` reads {} bytes, but label `{name}` shows {} bytes of the key",
                decoder_name(decoder_form),
                sizes.join(", "),
                field.size
            ),
        ));
        return None;
    }
    Some(LabelSpec {
        name: whistler_object::symbol_name(name),
        field,
        decoder,
        allow,
        pattern,
    })
}

fn decoder_name(form: &Sexp) -> &str {
    match form.as_list() {
        Some([head, ..]) => keyword_name(head).unwrap_or("table"),
        _ => keyword_name(form)
            .or_else(|| symbol_name(form))
            .unwrap_or(""),
    }
}

/// `:NAME` or `(:table (INTEGER "name")...)`.
fn decoder(form: &Sexp, errs: &mut Vec<Diagnostic>) -> Option<Decoder> {
    if let Some([head, entries @ ..]) = form.as_list() {
        if keyword_name(head) == Some("table") {
            return table(entries, errs).map(Decoder::Table);
        }
    }
    let name = decoder_name(form);
    let decoder = keyword_name(form).and_then(Decoder::from_name);
    if decoder.is_none() {
        let message = if name == "table" {
            "`:table` takes its entries: `(:table (0 \"ok\") (1 \"failed\"))`".to_string()
        } else {
            format!("unknown label decoder `{name}`")
        };
        errs.push(with_suggestion(
            error(form.span, message)
                .with_help(format!("decoders: :{}", Decoder::NAMES.join(", :"))),
            name,
            Decoder::NAMES.iter().copied().filter(|n| *n != name),
        ));
    }
    decoder
}

fn table(entries: &[Sexp], errs: &mut Vec<Diagnostic>) -> Option<Vec<(i64, String)>> {
    let mut table = Vec::new();
    for entry in entries {
        match entry.as_list() {
            Some(
                [Sexp {
                    kind: SexpKind::Int(k),
                    ..
                }, Sexp {
                    kind: SexpKind::Str(v),
                    ..
                }],
            ) => match i64::try_from(*k) {
                Ok(k) => table.push((k, v.clone())),
                Err(_) => errs.push(error(entry.span, "a table key must fit in 64 bits")),
            },
            _ => errs.push(error(
                entry.span,
                "expected a table entry `(INTEGER \"name\")`",
            )),
        }
    }
    (table.len() == entries.len()).then_some(table)
}

fn strings(form: &Sexp, errs: &mut Vec<Diagnostic>) -> Vec<String> {
    let items = form.as_list().unwrap_or_default();
    let strings: Vec<String> = items
        .iter()
        .filter_map(|s| match &s.kind {
            SexpKind::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    if form.as_list().is_none() || strings.len() != items.len() {
        errs.push(error(
            form.span,
            "expected a list of strings such as `(\"read\" \"write\")`",
        ));
    }
    strings
}

fn regexp(form: &Sexp, errs: &mut Vec<Diagnostic>) -> Option<String> {
    let SexpKind::Str(pattern) = &form.kind else {
        errs.push(error(
            form.span,
            "`:match` takes a regular expression as a string",
        ));
        return None;
    };
    if let Err(e) = regex_syntax::Parser::new().parse(pattern) {
        errs.push(error(
            form.span,
            format!("invalid regular expression: {}", first_line(&e.to_string())),
        ));
        return None;
    }
    Some(pattern.clone())
}

/// regex-syntax's messages draw the pattern over several lines; the last says what is wrong.
fn first_line(message: &str) -> &str {
    message
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map_or(message, |l| l.trim_start_matches("error: "))
}
