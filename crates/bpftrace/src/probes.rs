//! Attach points: parsing `provider:target...` into a [`ProbeKind`], expanding tracepoint
//! wildcards against tracefs, reading tracepoint fields from their format files, and listing
//! probes for `-l`.

use crate::types::Type;
use std::path::PathBuf;
pub use whistler_loader::attach::{PerfCounter, PerfSampling};

/// One concrete attach point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Begin,
    End,
    /// Runs every this many nanoseconds (a timer in the runtime).
    Interval(u64),
    Tracepoint {
        category: String,
        name: String,
    },
    RawTracepoint(String),
    Kprobe {
        function: String,
        ret: bool,
    },
    Uprobe {
        binary: String,
        symbol: String,
        ret: bool,
    },
    /// fentry/fexit (kfunc/kretfunc).
    Fentry {
        function: String,
        ret: bool,
    },
    /// `profile:hz:99`, `profile:ms:10`, `software:page-faults:100`, `hardware:cycles`:
    /// samples of a perf counter on every CPU.
    Profile {
        /// The attach point as written, for `probe`.
        name: String,
        counter: PerfCounter,
        sampling: PerfSampling,
    },
}

/// bpftrace's software and hardware events: the name, the alias (or ""), the count between
/// samples when the probe gives none, and the counter. The provider (`software`/`hardware`)
/// must match the counter's kind.
const PERF_EVENTS: &[(&str, &str, u64, PerfCounter)] = {
    use PerfCounter::*;
    &[
        ("alignment-faults", "", 1, AlignmentFaults),
        ("bpf-output", "", 1, BpfOutput),
        ("context-switches", "cs", 1000, ContextSwitches),
        ("cpu-clock", "cpu", 1_000_000, CpuClock),
        ("cpu-migrations", "", 1, CpuMigrations),
        ("dummy", "", 1, Dummy),
        ("emulation-faults", "", 1, EmulationFaults),
        ("major-faults", "", 1, MajorFaults),
        ("minor-faults", "", 100, MinorFaults),
        ("page-faults", "faults", 100, PageFaults),
        ("task-clock", "", 1, TaskClock),
        ("backend-stalls", "", 1_000_000, BackendStalls),
        (
            "branch-instructions",
            "branches",
            100_000,
            BranchInstructions,
        ),
        ("branch-misses", "", 100_000, BranchMisses),
        ("bus-cycles", "", 100_000, BusCycles),
        ("cache-misses", "", 1_000_000, CacheMisses),
        ("cache-references", "", 1_000_000, CacheReferences),
        ("cpu-cycles", "cycles", 1_000_000, CpuCycles),
        ("frontend-stalls", "", 1_000_000, FrontendStalls),
        ("instructions", "", 1_000_000, Instructions),
        ("ref-cycles", "", 1_000_000, RefCycles),
    ]
};

/// The bpftrace name of a counter (`cpu-cycles`), as the ahead-of-time plan writes it.
pub fn perf_event_name(counter: PerfCounter) -> &'static str {
    PERF_EVENTS
        .iter()
        .find(|e| e.3 == counter)
        .map_or("cpu-clock", |e| e.0)
}

/// The counter of a bpftrace event name or alias.
pub fn perf_event_named(name: &str) -> Option<PerfCounter> {
    perf_event(name).map(|e| e.3)
}

fn perf_event(name: &str) -> Option<&'static (&'static str, &'static str, u64, PerfCounter)> {
    PERF_EVENTS
        .iter()
        .find(|(full, alias, _, _)| name == *full || (!alias.is_empty() && name == *alias))
}

impl ProbeKind {
    /// The ELF section its program goes in. BEGIN, END and interval probes are raw tracepoint
    /// programs that the runtime runs with BPF_PROG_TEST_RUN instead of attaching.
    pub fn section(&self) -> String {
        match self {
            ProbeKind::Begin | ProbeKind::End | ProbeKind::Interval(_) => "raw_tp".into(),
            ProbeKind::Tracepoint { category, name } => format!("tracepoint/{category}/{name}"),
            ProbeKind::RawTracepoint(name) => format!("raw_tp/{name}"),
            ProbeKind::Kprobe { function, ret } => {
                format!("{}/{function}", if *ret { "kretprobe" } else { "kprobe" })
            }
            ProbeKind::Uprobe { ret, .. } => if *ret { "uretprobe" } else { "uprobe" }.into(),
            ProbeKind::Fentry { function, ret } => {
                format!("{}/{function}", if *ret { "fexit" } else { "fentry" })
            }
            ProbeKind::Profile { .. } => "perf_event".into(),
        }
    }

    /// Whether the pointers among its arguments point into the traced process (syscall
    /// tracepoints), as bpftrace reads them.
    pub fn has_user_pointer_args(&self) -> bool {
        matches!(self, ProbeKind::Tracepoint { category, .. } if category == "syscalls")
    }

    /// The program type keyword of `defprog`.
    pub fn program_type(&self) -> &'static str {
        match self {
            ProbeKind::Begin
            | ProbeKind::End
            | ProbeKind::Interval(_)
            | ProbeKind::RawTracepoint(_) => "raw-tracepoint",
            ProbeKind::Tracepoint { .. } => "tracepoint",
            ProbeKind::Kprobe { .. } | ProbeKind::Uprobe { .. } => "kprobe",
            ProbeKind::Fentry { .. } => "tracing",
            ProbeKind::Profile { .. } => "perf-event",
        }
    }

    /// The name bpftrace gives the probe (the `probe` builtin).
    pub fn full_name(&self) -> String {
        match self {
            ProbeKind::Begin => "BEGIN".into(),
            ProbeKind::End => "END".into(),
            ProbeKind::Interval(ns) => format!("interval:ms:{}", ns / 1_000_000),
            ProbeKind::Tracepoint { category, name } => format!("tracepoint:{category}:{name}"),
            ProbeKind::RawTracepoint(name) => format!("rawtracepoint:{name}"),
            ProbeKind::Kprobe { function, ret } => {
                format!("{}:{function}", if *ret { "kretprobe" } else { "kprobe" })
            }
            ProbeKind::Uprobe {
                binary,
                symbol,
                ret,
            } => format!(
                "{}:{binary}:{symbol}",
                if *ret { "uretprobe" } else { "uprobe" }
            ),
            ProbeKind::Fentry { function, ret } => {
                format!("{}:{function}", if *ret { "fexit" } else { "fentry" })
            }
            ProbeKind::Profile { name, .. } => name.clone(),
        }
    }
}

/// Parses one attach point and expands its wildcards; an error is a message for the attach
/// point's span.
pub fn expand(text: &str) -> Result<Vec<ProbeKind>, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let provider = parts[0];
    let arg = |i: usize| -> Result<&str, String> {
        parts
            .get(i)
            .copied()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("`{provider}` probes need more parts: `{text}`"))
    };
    let one = |kind| Ok(vec![kind]);
    match provider {
        "BEGIN" if parts.len() == 1 => one(ProbeKind::Begin),
        "END" if parts.len() == 1 => one(ProbeKind::End),
        "interval" | "i" => one(ProbeKind::Interval(interval_ns(arg(1)?, arg(2)?)?)),
        "tracepoint" | "t" => tracepoints(arg(1)?, arg(2)?),
        "rawtracepoint" | "rt" => one(ProbeKind::RawTracepoint(arg(1)?.to_string())),
        "kprobe" | "k" | "kretprobe" | "kr" => one(ProbeKind::Kprobe {
            function: arg(1)?.to_string(),
            ret: provider.starts_with("kr"),
        }),
        "uprobe" | "u" | "uretprobe" | "ur" => one(ProbeKind::Uprobe {
            binary: arg(1)?.to_string(),
            symbol: arg(2)?.to_string(),
            ret: provider.starts_with("ur"),
        }),
        "fentry" | "f" | "kfunc" | "fexit" | "fr" | "kretfunc" => one(ProbeKind::Fentry {
            function: parts.last().copied().unwrap_or_default().to_string(),
            ret: matches!(provider, "fexit" | "fr" | "kretfunc"),
        }),
        "profile" | "p" => {
            let sampling = match interval_ns(arg(1)?, arg(2)?)? {
                _ if arg(1)? == "hz" => PerfSampling::Frequency(arg(2)?.parse().unwrap_or(1)),
                ns => PerfSampling::Period(ns),
            };
            one(ProbeKind::Profile {
                name: format!("profile:{}:{}", arg(1)?, arg(2)?),
                counter: PerfCounter::CpuClock,
                sampling,
            })
        }
        "software" | "s" | "hardware" | "h" => {
            let hardware = provider.starts_with('h');
            let kind = if hardware { "hardware" } else { "software" };
            let event = perf_event(arg(1)?)
                .filter(|e| e.3.is_hardware() == hardware)
                .ok_or_else(|| {
                    let names: Vec<&str> = PERF_EVENTS
                        .iter()
                        .filter(|e| e.3.is_hardware() == hardware)
                        .map(|e| e.0)
                        .collect();
                    format!(
                        "unknown {kind} event `{}` (known: {})",
                        arg(1).unwrap_or_default(),
                        names.join(", ")
                    )
                })?;
            let count =
                match parts.get(2) {
                    Some(n) => n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("{kind} event count `{n}` is not a positive number")
                    })?,
                    None => event.2,
                };
            if hardware {
                whistler_loader::attach::counter_available(event.3)
                    .map_err(|e| format!("cannot sample `{text}`: {e}"))?;
            }
            one(ProbeKind::Profile {
                name: format!("{kind}:{}:{count}", arg(1)?),
                counter: event.3,
                sampling: PerfSampling::Period(count),
            })
        }
        _ => Err(format!(
            "unknown probe type `{provider}` (supported: BEGIN, END, interval, tracepoint, \
             rawtracepoint, kprobe, kretprobe, uprobe, uretprobe, fentry, fexit, profile, \
             software, hardware)"
        )),
    }
}

fn interval_ns(unit: &str, count: &str) -> Result<u64, String> {
    let n: u64 = count
        .parse()
        .map_err(|_| format!("interval count `{count}` is not a number"))?;
    let ns = match unit {
        "s" => n * 1_000_000_000,
        "ms" => n * 1_000_000,
        "us" => n * 1_000,
        "hz" if n > 0 => 1_000_000_000 / n,
        _ => return Err(format!("interval unit `{unit}` is not s, ms, us or hz")),
    };
    if ns == 0 {
        return Err("an interval must be longer than 0".into());
    }
    Ok(ns)
}

/// The tracepoints matching `category:name`, where either may hold `*` wildcards.
fn tracepoints(category: &str, name: &str) -> Result<Vec<ProbeKind>, String> {
    let tp = |c: &str, n: &str| ProbeKind::Tracepoint {
        category: c.to_string(),
        name: n.to_string(),
    };
    if !category.contains('*') && !name.contains('*') {
        return Ok(vec![tp(category, name)]);
    }
    let found: Vec<ProbeKind> = all_tracepoints()
        .iter()
        .filter(|(c, n)| glob_match(category, c) && glob_match(name, n))
        .map(|(c, n)| tp(c, n))
        .collect();
    if found.is_empty() {
        return Err(format!("no tracepoint matches `{category}:{name}`"));
    }
    Ok(found)
}

/// Every tracepoint of this kernel as (category, name), sorted.
pub fn all_tracepoints() -> Vec<(String, String)> {
    let Some(events) = events_dir() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for category in read_dir_names(&events) {
        for name in read_dir_names(&events.join(&category)) {
            if events.join(&category).join(&name).join("format").exists() {
                found.push((category.clone(), name));
            }
        }
    }
    found.sort();
    found
}

fn events_dir() -> Option<PathBuf> {
    [
        "/sys/kernel/tracing/events",
        "/sys/kernel/debug/tracing/events",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|d| d.is_dir())
}

fn read_dir_names(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

/// Shell-style matching with `*` only.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob_match(rest, &tail[i..]))
        }
    }
}

/// Every probe name matching `pattern` (all when none), for `-l`: tracepoints from tracefs,
/// kprobe-able functions from `available_filter_functions` when the kernel has kprobes, and
/// the software and hardware events.
pub fn list(pattern: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = all_tracepoints()
        .into_iter()
        .map(|(c, n)| format!("tracepoint:{c}:{n}"))
        .collect();
    let functions = events_dir()
        .map(|d| d.with_file_name("available_filter_functions"))
        .and_then(|f| std::fs::read_to_string(f).ok())
        .unwrap_or_default();
    names.extend(
        functions
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(|f| format!("kprobe:{f}")),
    );
    names.extend(PERF_EVENTS.iter().map(|(name, _, _, counter)| {
        let kind = if counter.is_hardware() {
            "hardware"
        } else {
            "software"
        };
        format!("{kind}:{name}:")
    }));
    names.extend(["BEGIN".to_string(), "END".to_string()]);
    match pattern {
        None => names,
        Some(p) => {
            let p = if p.contains(':') || p.contains('*') {
                p.to_string()
            } else {
                format!("*{p}*")
            };
            names.retain(|n| glob_match(&p, n));
            names
        }
    }
}

/// One field of a tracepoint's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracepointField {
    pub name: String,
    /// The C type as the format file writes it (`struct __kernel_timespec *`).
    pub c_type: String,
    pub offset: usize,
    pub size: usize,
    pub ty: FieldType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Int {
        signed: bool,
    },
    /// `char name[N]`: a string in the record.
    CharArray,
    /// `__data_loc char[] name`: a u32 of (length << 16 | offset) locating a string.
    DataLocString,
}

impl TracepointField {
    /// The bpftrace type of the field's value.
    pub fn value_type(&self) -> Type {
        match self.ty {
            FieldType::Int { signed } => Type::Int { signed },
            FieldType::CharArray => Type::Str(self.size),
            FieldType::DataLocString => Type::Str(crate::STRING_SIZE),
        }
    }
}

/// The fields of a tracepoint (without the `common_` ones), from its tracefs format file.
pub fn tracepoint_fields(category: &str, name: &str) -> Result<Vec<TracepointField>, String> {
    let text =
        whistler_kernel_host::tracepoint_format(category, name).map_err(|e| e.to_string())?;
    Ok(parse_format(&text))
}

/// Parses a tracefs format file's field lines.
pub fn parse_format(text: &str) -> Vec<TracepointField> {
    text.lines().filter_map(parse_field_line).collect()
}

fn parse_field_line(line: &str) -> Option<TracepointField> {
    let mut decl = None;
    let (mut offset, mut size, mut signed) = (None, None, false);
    for part in line.trim().split(';') {
        let (key, value) = part.trim().split_once(':')?;
        match key {
            "field" => decl = Some(value.trim()),
            "offset" => offset = value.trim().parse().ok(),
            "size" => size = value.trim().parse().ok(),
            "signed" => signed = value.trim() == "1",
            _ => {}
        }
        if key == "signed" {
            break;
        }
    }
    let decl = decl?;
    let word = decl.rsplit(' ').next()?;
    let name = word.split('[').next()?.trim_start_matches('*').to_string();
    if name.starts_with("common_") {
        return None;
    }
    let ty = if decl.starts_with("__data_loc") {
        FieldType::DataLocString
    } else if word.contains('[') && decl.starts_with("char") {
        FieldType::CharArray
    } else {
        FieldType::Int {
            signed: signed && !decl.contains('*'),
        }
    };
    let c_type = decl[..decl.len() - word.len()].trim().to_string();
    Some(TracepointField {
        name,
        c_type,
        offset: offset?,
        size: size?,
        ty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_fields_with_their_types() {
        let text = "name: sys_enter_openat\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n\tfield:char comm[16];\toffset:32;\tsize:16;\tsigned:0;\n\tfield:__data_loc char[] name;\toffset:48;\tsize:4;\tsigned:0;\n";
        let fields = parse_format(text);
        let names: Vec<_> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["__syscall_nr", "filename", "comm", "name"]);
        assert_eq!(fields[0].ty, FieldType::Int { signed: true });
        assert_eq!(fields[1].offset, 24);
        assert_eq!(fields[2].ty, FieldType::CharArray);
        assert_eq!(fields[3].ty, FieldType::DataLocString);
    }

    #[test]
    fn attach_points_and_globs() {
        assert_eq!(expand("BEGIN").unwrap(), vec![ProbeKind::Begin]);
        assert_eq!(
            expand("interval:ms:250").unwrap(),
            vec![ProbeKind::Interval(250_000_000)]
        );
        assert_eq!(
            expand("kr:vfs_read").unwrap()[0].section(),
            "kretprobe/vfs_read"
        );
        assert!(expand("bogus:x").is_err());
        assert!(glob_match("sys_enter_open*", "sys_enter_openat2"));
        assert!(!glob_match("sys_enter_open*", "sys_exit_openat"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn software_and_hardware_events_by_name_alias_and_default_count() {
        let one = |text: &str| expand(text).map(|mut kinds| kinds.remove(0));
        let profile = |name: &str, counter, n| ProbeKind::Profile {
            name: name.into(),
            counter,
            sampling: PerfSampling::Period(n),
        };
        assert_eq!(
            one("software:faults:1").unwrap(),
            profile("software:faults:1", PerfCounter::PageFaults, 1)
        );
        assert_eq!(
            one("s:cs").unwrap(),
            profile("software:cs:1000", PerfCounter::ContextSwitches, 1000)
        );
        assert_eq!(
            one("software:minor-faults").unwrap(),
            profile("software:minor-faults:100", PerfCounter::MinorFaults, 100)
        );
        assert_eq!(
            expand("software:cycles").unwrap_err(),
            "unknown software event `cycles` (known: alignment-faults, bpf-output, \
             context-switches, cpu-clock, cpu-migrations, dummy, emulation-faults, major-faults, \
             minor-faults, page-faults, task-clock)"
        );
        assert!(expand("hardware:page-faults")
            .unwrap_err()
            .starts_with("unknown hardware event"));
        assert_eq!(
            expand("software:faults:x").unwrap_err(),
            "software event count `x` is not a positive number"
        );
        // A hardware event compiles where the machine counts it, and names the machine's lack
        // of counters where it does not.
        match one("h:branches") {
            Ok(kind) => assert_eq!(
                kind,
                profile(
                    "hardware:branches:100000",
                    PerfCounter::BranchInstructions,
                    100_000
                )
            ),
            Err(e) => assert!(
                e.starts_with(
                    "cannot sample `h:branches`: this machine has no hardware counter for \
                     branch-instructions"
                ),
                "{e}"
            ),
        }
        assert_eq!(
            list(Some("software:*faults:")),
            [
                "software:alignment-faults:",
                "software:emulation-faults:",
                "software:major-faults:",
                "software:minor-faults:",
                "software:page-faults:",
            ]
        );
        assert_eq!(list(Some("hardware:cpu-*")), ["hardware:cpu-cycles:"]);
        for (name, _, _, counter) in PERF_EVENTS {
            assert_eq!(
                perf_event_named(perf_event_name(*counter)),
                Some(*counter),
                "{name}"
            );
        }
    }
}
