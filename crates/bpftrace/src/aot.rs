//! Ahead-of-time output: a compiled script as one file that runs where no compiler is, its
//! object and the plan the runtime needs. The file is a header line, the plan as one line of
//! JSON, then the ELF object's bytes:
//!
//! ```text
//! whistler-bpftrace-aot 1
//! {"probes": [...], "maps": [...], "printfs": [...], "texts": [...]}
//! \x7fELF...
//! ```

use crate::plan::{Plan, PlannedMap, PlannedProbe, Printf};
use crate::probes::{self, PerfSampling, ProbeKind};
use crate::types::{MapKind, Type};
use serde_json::{json, Value};

/// The first line of every ahead-of-time file.
pub const HEADER: &str = "whistler-bpftrace-aot 1";

/// A script ready to run: the object and its plan.
#[derive(Clone, Debug)]
pub struct Program {
    pub elf: Vec<u8>,
    pub plan: Plan,
}

/// The file's bytes for a compiled script.
pub fn write(compiled: &crate::Compiled) -> Vec<u8> {
    let plan = plan_json(&compiled.plan);
    let mut bytes = format!("{HEADER}\n{plan}\n").into_bytes();
    bytes.extend_from_slice(&compiled.object.elf);
    bytes
}

/// Reads a file [`write`] wrote; an error says what is wrong with it.
pub fn read(bytes: &[u8]) -> Result<Program, String> {
    let header = format!("{HEADER}\n");
    let rest = bytes.strip_prefix(header.as_bytes()).ok_or_else(|| {
        format!("not a whistler bpftrace ahead-of-time file (it does not start with `{HEADER}`)")
    })?;
    let end = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("the plan line is missing")?;
    let plan: Value = serde_json::from_slice(&rest[..end]).map_err(|e| format!("the plan: {e}"))?;
    let plan = plan_from(&plan).ok_or("the plan is malformed")?;
    let elf = rest[end + 1..].to_vec();
    if !elf.starts_with(b"\x7fELF") {
        return Err("the object after the plan is not an ELF file".into());
    }
    Ok(Program { elf, plan })
}

fn plan_json(plan: &Plan) -> Value {
    let probes: Vec<Value> = plan
        .probes
        .iter()
        .map(|p| json!({"object": p.object_name, "kind": kind_json(&p.kind)}))
        .collect();
    let maps: Vec<Value> = plan
        .maps
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "object": m.object_name,
                "keys": m.keys.iter().map(|t| type_json(*t)).collect::<Vec<_>>(),
                "kind": map_kind_json(m.kind),
            })
        })
        .collect();
    let printfs: Vec<Value> = plan
        .printfs
        .iter()
        .map(|p| {
            let args: Vec<Value> = p.args.iter().map(|t| type_json(*t)).collect();
            json!({"format": p.format, "args": args})
        })
        .collect();
    json!({"probes": probes, "maps": maps, "printfs": printfs, "texts": plan.texts})
}

fn plan_from(v: &Value) -> Option<Plan> {
    let list = |key: &str| v.get(key)?.as_array();
    let text = |v: &Value, key: &str| Some(v.get(key)?.as_str()?.to_string());
    let types = |v: &Value, key: &str| -> Option<Vec<Type>> {
        v.get(key)?.as_array()?.iter().map(type_from).collect()
    };
    let probes = list("probes")?
        .iter()
        .map(|p| {
            Some(PlannedProbe {
                object_name: text(p, "object")?,
                kind: kind_from(p.get("kind")?)?,
            })
        })
        .collect::<Option<_>>()?;
    let maps = list("maps")?
        .iter()
        .map(|m| {
            Some(PlannedMap {
                name: text(m, "name")?,
                object_name: text(m, "object")?,
                keys: types(m, "keys")?,
                kind: map_kind_from(m.get("kind")?)?,
            })
        })
        .collect::<Option<_>>()?;
    let printfs = list("printfs")?
        .iter()
        .map(|p| {
            Some(Printf {
                format: text(p, "format")?,
                args: types(p, "args")?,
            })
        })
        .collect::<Option<_>>()?;
    let texts = list("texts")?
        .iter()
        .map(|t| Some(t.as_str()?.to_string()))
        .collect::<Option<_>>()?;
    Some(Plan {
        probes,
        maps,
        printfs,
        texts,
    })
}

fn kind_json(kind: &ProbeKind) -> Value {
    match kind {
        ProbeKind::Begin => json!(["begin"]),
        ProbeKind::End => json!(["end"]),
        ProbeKind::Interval(ns) => json!(["interval", ns]),
        ProbeKind::Tracepoint { category, name } => json!(["tracepoint", category, name]),
        ProbeKind::RawTracepoint(name) => json!(["rawtracepoint", name]),
        ProbeKind::Kprobe { function, ret } => json!(["kprobe", function, ret]),
        ProbeKind::Uprobe {
            binary,
            symbol,
            ret,
        } => json!(["uprobe", binary, symbol, ret]),
        ProbeKind::Fentry { function, ret } => json!(["fentry", function, ret]),
        ProbeKind::Profile {
            name,
            counter,
            sampling,
        } => {
            let counter = probes::perf_event_name(*counter);
            match sampling {
                PerfSampling::Frequency(hz) => json!(["profile", name, "hz", hz, counter]),
                PerfSampling::Period(n) => json!(["profile", name, "period", n, counter]),
            }
        }
    }
}

fn kind_from(v: &Value) -> Option<ProbeKind> {
    let items = v.as_array()?;
    let s = |i: usize| Some(items.get(i)?.as_str()?.to_string());
    let n = |i: usize| items.get(i)?.as_u64();
    let b = |i: usize| items.get(i)?.as_bool();
    Some(match s(0)?.as_str() {
        "begin" => ProbeKind::Begin,
        "end" => ProbeKind::End,
        "interval" => ProbeKind::Interval(n(1)?),
        "tracepoint" => ProbeKind::Tracepoint {
            category: s(1)?,
            name: s(2)?,
        },
        "rawtracepoint" => ProbeKind::RawTracepoint(s(1)?),
        "kprobe" => ProbeKind::Kprobe {
            function: s(1)?,
            ret: b(2)?,
        },
        "uprobe" => ProbeKind::Uprobe {
            binary: s(1)?,
            symbol: s(2)?,
            ret: b(3)?,
        },
        "fentry" => ProbeKind::Fentry {
            function: s(1)?,
            ret: b(2)?,
        },
        "profile" => ProbeKind::Profile {
            name: s(1)?,
            counter: probes::perf_event_named(&s(4)?)?,
            sampling: match s(2)?.as_str() {
                "hz" => PerfSampling::Frequency(n(3)?),
                "period" => PerfSampling::Period(n(3)?),
                _ => return None,
            },
        },
        _ => return None,
    })
}

fn type_json(ty: Type) -> Value {
    match ty {
        Type::Int { signed: true } => json!("int"),
        Type::Int { signed: false } => json!("uint"),
        Type::Str(n) => json!(["str", n]),
        Type::Ksym => json!("ksym"),
        Type::Usym => json!("usym"),
        Type::Inet => json!("inet"),
        Type::Stack { user, limit } => json!(["stack", user, limit]),
        Type::Buf(n) => json!(["buf", n]),
        Type::Timestamp(i) => json!(["timestamp", i]),
    }
}

fn type_from(v: &Value) -> Option<Type> {
    if let Some(name) = v.as_str() {
        return Some(match name {
            "int" => Type::INT,
            "uint" => Type::UINT,
            "ksym" => Type::Ksym,
            "usym" => Type::Usym,
            "inet" => Type::Inet,
            _ => return None,
        });
    }
    let items = v.as_array()?;
    Some(match items.first()?.as_str()? {
        "str" => Type::Str(items.get(1)?.as_u64()? as usize),
        "buf" => Type::Buf(items.get(1)?.as_u64()? as usize),
        "timestamp" => Type::Timestamp(u32::try_from(items.get(1)?.as_u64()?).ok()?),
        "stack" => Type::Stack {
            user: items.get(1)?.as_bool()?,
            limit: u8::try_from(items.get(2)?.as_u64()?).ok()?,
        },
        _ => return None,
    })
}

fn map_kind_json(kind: MapKind) -> Value {
    match kind {
        MapKind::Value(t) => json!(["value", type_json(t)]),
        MapKind::Lhist { min, max, step } => json!(["lhist", min, max, step]),
        other => json!(other.name()),
    }
}

fn map_kind_from(v: &Value) -> Option<MapKind> {
    if let Some(name) = v.as_str() {
        return MapKind::without_parameters(name);
    }
    let items = v.as_array()?;
    let n = |i: usize| items.get(i)?.as_i64();
    Some(match items.first()?.as_str()? {
        "value" => MapKind::Value(type_from(items.get(1)?)?),
        "lhist" => MapKind::Lhist {
            min: n(1)?,
            max: n(2)?,
            step: n(3)?,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::PerfCounter;

    #[test]
    fn every_kind_of_plan_entry_reads_back() {
        let plan = Plan {
            probes: [
                ProbeKind::Begin,
                ProbeKind::Interval(5),
                ProbeKind::Tracepoint {
                    category: "a".into(),
                    name: "b".into(),
                },
                ProbeKind::Uprobe {
                    binary: "/bin/sh".into(),
                    symbol: "main".into(),
                    ret: true,
                },
                ProbeKind::Profile {
                    name: "profile:hz:99".into(),
                    counter: PerfCounter::CpuClock,
                    sampling: PerfSampling::Frequency(99),
                },
                ProbeKind::Profile {
                    name: "hardware:cycles:1000".into(),
                    counter: PerfCounter::CpuCycles,
                    sampling: PerfSampling::Period(1000),
                },
            ]
            .into_iter()
            .enumerate()
            .map(|(i, kind)| PlannedProbe {
                object_name: format!("probe_{i}"),
                kind,
            })
            .collect(),
            maps: vec![PlannedMap {
                name: "@x".into(),
                object_name: "map_0".into(),
                keys: vec![
                    Type::Str(16),
                    Type::Stack {
                        user: true,
                        limit: 3,
                    },
                ],
                kind: MapKind::Lhist {
                    min: -1,
                    max: 10,
                    step: 2,
                },
            }],
            printfs: vec![Printf {
                format: "%s \"q\"\n".into(),
                args: vec![Type::Inet],
            }],
            texts: vec!["%H\n".into()],
        };
        let json = plan_json(&plan);
        let back = plan_from(&json).unwrap();
        assert_eq!(format!("{plan:?}"), format!("{back:?}"));
        assert!(read(b"nope").is_err());
    }
}
