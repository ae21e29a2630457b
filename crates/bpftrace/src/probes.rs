//! Attach points: parsing `provider:target...` into a [`ProbeKind`], expanding tracepoint
//! wildcards against tracefs, reading tracepoint fields from their format files, and listing
//! probes for `-l`.

use crate::types::Type;
use std::path::PathBuf;

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
    /// `profile:hz:99`, `profile:ms:10`, `software:cpu-clock:1000000`: samples of a cpu-clock
    /// perf event on every CPU.
    Profile {
        /// The attach point as written, for `probe`.
        name: String,
        sampling: Sampling,
    },
}

/// How often a cpu-clock event samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Samples per second on each CPU.
    Frequency(u64),
    /// One sample every this many nanoseconds of CPU time.
    PeriodNs(u64),
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
                _ if arg(1)? == "hz" => Sampling::Frequency(arg(2)?.parse().unwrap_or(1)),
                ns => Sampling::PeriodNs(ns),
            };
            one(ProbeKind::Profile {
                name: format!("profile:{}:{}", arg(1)?, arg(2)?),
                sampling,
            })
        }
        "software" | "s" => match arg(1)? {
            "cpu-clock" | "cpu" => {
                let count = match parts.get(2) {
                    Some(n) => n
                        .parse()
                        .map_err(|_| format!("software event count `{n}` is not a number"))?,
                    None => 1_000_000,
                };
                one(ProbeKind::Profile {
                    name: format!("software:{}:{count}", arg(1)?),
                    sampling: Sampling::PeriodNs(count),
                })
            }
            other => Err(format!(
                "software event `{other}` is not supported; cpu-clock (cpu) is"
            )),
        },
        "hardware" | "h" => Err(
            "hardware events are not supported: the loader samples the cpu-clock software \
             event only (use profile:hz:N or software:cpu-clock:N)"
                .into(),
        ),
        _ => Err(format!(
            "unknown probe type `{provider}` (supported: BEGIN, END, interval, tracepoint, \
             rawtracepoint, kprobe, kretprobe, uprobe, uretprobe, fentry, fexit, profile, \
             software)"
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

/// Every probe name matching `pattern` (all when none), for `-l`: tracepoints from tracefs
/// and kprobe-able functions from `available_filter_functions` when the kernel has kprobes.
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
}
