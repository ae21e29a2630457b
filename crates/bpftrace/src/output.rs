//! Printing as bpftrace prints: maps at exit (values, `hist`/`lhist` bars, `stats`), printf
//! output and messages, in its text format or as NDJSON (`-f json`), byte for byte as
//! bpftrace's release 0.17 does.

use crate::plan::PlannedMap;
use crate::symbols::Symbols;
use crate::types::{MapKind, Type};
use std::collections::BTreeMap;
use whistler_session::MapEntry;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Width of a histogram bar at its longest.
const BAR_WIDTH: usize = 52;

/// `Attaching N probes...`.
pub fn attached(format: Format, probes: usize) -> String {
    match format {
        Format::Text if probes == 1 => "Attaching 1 probe...\n".into(),
        Format::Text => format!("Attaching {probes} probes...\n"),
        Format::Json => {
            format!("{{\"type\": \"attached_probes\", \"data\": {{\"probes\": {probes}}}}}\n")
        }
    }
}

/// Text a program printed (printf, time, system, cat output).
pub fn message(format: Format, kind: &str, text: &str) -> String {
    match format {
        Format::Text => text.to_string(),
        Format::Json => format!(
            "{{\"type\": \"{kind}\", \"data\": \"{}\"}}\n",
            json_escape(text)
        ),
    }
}

/// One decoded value, for printing; stacks are indented by `indent` spaces (8 in printf and
/// values, 4 in map keys, as bpftrace does).
fn value_text(ty: Type, bytes: &[u8], symbols: &mut Symbols, indent: usize) -> String {
    match ty {
        Type::Int { signed: true } => int_at(bytes, 0).to_string(),
        Type::Int { signed: false } => (int_at(bytes, 0) as u64).to_string(),
        Type::Str(_) => c_string(bytes),
        Type::Ksym => symbols.kernel(int_at(bytes, 0) as u64),
        Type::Usym => symbols.user(int_at(bytes, 0) as u64, int_at(bytes, 8) as u32),
        Type::Inet => inet_text(bytes),
        Type::Timestamp(format) => symbols.timestamp(format, int_at(bytes, 0) as u64),
        Type::Buf(_) => {
            let data = bytes.get(8..).unwrap_or_default();
            let n = (int_at(bytes, 0).max(0) as usize).min(data.len());
            data[..n]
                .iter()
                .map(|&b| match b {
                    32..=126 => (b as char).to_string(),
                    _ => format!("\\x{b:02x}"),
                })
                .collect()
        }
        Type::Stack { user, limit } => {
            let pid = if user { int_at(bytes, 8) as u32 } else { 0 };
            symbols.stack_text(user, int_at(bytes, 0), pid, limit as usize, indent)
        }
    }
}

/// An `ntop` address as `inet_ntop` writes it.
fn inet_text(bytes: &[u8]) -> String {
    let mut address = [0u8; 16];
    let given = bytes.get(8..).unwrap_or_default();
    let n = given.len().min(16);
    address[..n].copy_from_slice(&given[..n]);
    match int_at(bytes, 0) {
        2 => std::net::Ipv4Addr::new(address[0], address[1], address[2], address[3]).to_string(),
        10 => std::net::Ipv6Addr::from(address).to_string(),
        family => format!("(address family {family})"),
    }
}

/// Decodes an event's or map's value of type `ty` as a printf argument.
pub fn printf_arg(ty: Type, bytes: &[u8], symbols: &mut Symbols) -> crate::printf::Arg {
    match ty {
        Type::Int { .. } => crate::printf::Arg::Int(int_at(bytes, 0)),
        _ => crate::printf::Arg::Str(value_text(ty, bytes, symbols, 8)),
    }
}

pub fn int_at(bytes: &[u8], offset: usize) -> i64 {
    let mut raw = [0u8; 8];
    let end = bytes.len().min(offset + 8);
    if offset < end {
        raw[..end - offset].copy_from_slice(&bytes[offset..end]);
    }
    i64::from_le_bytes(raw)
}

pub fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Prints one map's entries (raw key and value bytes as read from the kernel).
pub fn map(
    format: Format,
    map: &PlannedMap,
    entries: Vec<MapEntry>,
    symbols: &mut Symbols,
) -> String {
    match map.kind {
        MapKind::Hist | MapKind::Lhist { .. } => histograms(format, map, entries, symbols),
        MapKind::Avg | MapKind::Stats => stats(format, map, entries, symbols),
        _ => values(format, map, entries, symbols),
    }
}

fn key_size(map: &PlannedMap) -> usize {
    map.keys.iter().map(|t| t.slot_size()).sum()
}

fn key_parts(map: &PlannedMap, key: &[u8], symbols: &mut Symbols) -> Vec<String> {
    let mut offset = 0;
    let mut parts = Vec::new();
    for ty in &map.keys {
        let end = (offset + ty.slot_size()).min(key.len());
        parts.push(value_text(
            *ty,
            &key[offset..(offset + ty.size()).min(end)],
            symbols,
            4,
        ));
        offset = end;
    }
    parts
}

/// `@name[k1, k2]` in text, `"k1,k2"` in JSON (empty without keys).
fn key_label(format: Format, map: &PlannedMap, key: &[u8], symbols: &mut Symbols) -> String {
    let parts = key_parts(map, key, symbols);
    match format {
        Format::Text if parts.is_empty() => map.name.clone(),
        Format::Text => format!("{}[{}]", map.name, parts.join(", ")),
        Format::Json if parts.is_empty() => String::new(),
        Format::Json => format!("\"{}\"", json_escape(&parts.join(","))),
    }
}

/// Orders entries by key as bpftrace does: by each key part, the first deciding.
fn sort_by_key(map: &PlannedMap, entries: &mut [MapEntry]) {
    entries.sort_by(|(a, _), (b, _)| {
        let mut offset = 0;
        for ty in &map.keys {
            let size = ty.slot_size();
            let order = match ty {
                Type::Str(_) => {
                    c_string(&a[offset..offset + size]).cmp(&c_string(&b[offset..offset + size]))
                }
                _ => (int_at(a, offset) as u64).cmp(&(int_at(b, offset) as u64)),
            };
            if order.is_ne() {
                return order;
            }
            offset += size;
        }
        std::cmp::Ordering::Equal
    });
}

fn values(
    format: Format,
    map: &PlannedMap,
    mut entries: Vec<MapEntry>,
    symbols: &mut Symbols,
) -> String {
    sort_by_key(map, &mut entries);
    let value_type = match map.kind {
        MapKind::Value(t) => t,
        MapKind::Count => Type::UINT,
        _ => Type::INT,
    };
    if let Type::Int { signed } = value_type {
        match signed {
            true => entries.sort_by_key(|(_, v)| int_at(v, 0)),
            false => entries.sort_by_key(|(_, v)| int_at(v, 0) as u64),
        }
    }
    let mut elems = Vec::new();
    for (key, value) in &entries {
        let label = key_label(format, map, key, symbols);
        let text = value_text(value_type, value, symbols, 8);
        let quoted = format == Format::Json && value_type.in_memory() || value_type == Type::Ksym;
        let text = match quoted && format == Format::Json {
            true => format!("\"{}\"", json_escape(&text)),
            false => text,
        };
        elems.push(match (format, label.is_empty()) {
            (Format::Json, true) => text,
            _ => format!("{label}: {text}"),
        });
    }
    match format {
        Format::Text => format!("{}\n", elems.join("\n")),
        Format::Json => json_record(map, "map", &elems),
    }
}

/// `{"type": KIND, "data": {"@name": ...}}` with a `{...}` around keyed entries; nothing for
/// an empty map.
fn json_record(map: &PlannedMap, kind: &str, elems: &[String]) -> String {
    if elems.is_empty() {
        return String::new();
    }
    let body = elems.join(", ");
    let body = match map.keys.is_empty() {
        true => body,
        false => format!("{{{body}}}"),
    };
    format!(
        "{{\"type\": \"{kind}\", \"data\": {{\"{}\": {body}}}}}\n",
        json_escape(&map.name)
    )
}

/// Entries of a map whose key ends in a bucket number, grouped by the rest of the key (in
/// key byte order): the value of each bucket.
fn by_bucket(map: &PlannedMap, entries: Vec<MapEntry>) -> BTreeMap<Vec<u8>, BTreeMap<u64, i64>> {
    let size = key_size(map);
    let mut grouped: BTreeMap<Vec<u8>, BTreeMap<u64, i64>> = BTreeMap::new();
    for (key, value) in entries {
        let prefix = key[..size.min(key.len())].to_vec();
        let bucket = int_at(&key, size) as u64;
        grouped
            .entry(prefix)
            .or_default()
            .insert(bucket, int_at(&value, 0));
    }
    grouped
}

fn histograms(
    format: Format,
    map: &PlannedMap,
    entries: Vec<MapEntry>,
    symbols: &mut Symbols,
) -> String {
    let mut grouped: Vec<(Vec<u8>, BTreeMap<u64, i64>)> =
        by_bucket(map, entries).into_iter().collect();
    grouped.sort_by_key(|(_, buckets)| buckets.values().sum::<i64>());
    let mut elems = Vec::new();
    for (key, buckets) in &grouped {
        let label = key_label(format, map, key, symbols);
        let counts = match map.kind {
            MapKind::Lhist { min, max, step } => {
                let n = ((max - min) / step + 2) as usize;
                (0..n)
                    .map(|i| buckets.get(&(i as u64)).copied().unwrap_or(0) as u64)
                    .collect()
            }
            _ => (0..65)
                .map(|i| buckets.get(&i).copied().unwrap_or(0) as u64)
                .collect::<Vec<u64>>(),
        };
        let body = match (format, map.kind) {
            (Format::Text, MapKind::Lhist { min, max, step }) => {
                lhist_text(&counts, min, max, step)
            }
            (Format::Text, _) => hist_text(&counts),
            (Format::Json, MapKind::Lhist { min, max, step }) => {
                lhist_json(&counts, min, max, step)
            }
            (Format::Json, _) => hist_json(&counts),
        };
        elems.push(match (format, label.is_empty()) {
            (Format::Text, _) => format!("{label}: \n{body}"),
            (Format::Json, true) => body,
            (Format::Json, false) => format!("{label}: {body}"),
        });
    }
    match format {
        Format::Text => format!("{}\n", elems.join("\n")),
        Format::Json => json_record(map, "hist", &elems),
    }
}

fn stats(
    format: Format,
    map: &PlannedMap,
    entries: Vec<MapEntry>,
    symbols: &mut Symbols,
) -> String {
    let average = |b: &BTreeMap<u64, i64>| {
        let (count, total) = (
            b.get(&0).copied().unwrap_or(0),
            b.get(&1).copied().unwrap_or(0),
        );
        (count, total, if count == 0 { 0 } else { total / count })
    };
    let mut grouped: Vec<(Vec<u8>, BTreeMap<u64, i64>)> =
        by_bucket(map, entries).into_iter().collect();
    grouped.sort_by_key(|(_, b)| average(b).2);
    let mut elems = Vec::new();
    for (key, buckets) in &grouped {
        let label = key_label(format, map, key, symbols);
        let (count, total, avg) = average(buckets);
        let body = match (format, map.kind) {
            (_, MapKind::Avg) => avg.to_string(),
            (Format::Text, _) => format!("count {count}, average {avg}, total {total}"),
            (Format::Json, _) => {
                format!("{{\"count\": {count}, \"average\": {avg}, \"total\": {total}}}")
            }
        };
        elems.push(match (format, label.is_empty()) {
            (Format::Json, true) => body,
            _ => format!("{label}: {body}"),
        });
    }
    match format {
        Format::Text => format!("{}\n\n", elems.join("\n")),
        Format::Json => json_record(map, "stats", &elems),
    }
}

/// `1`, `2`... `512`, `1K`... for bucket bounds that are powers of two.
fn power_label(power: u32) -> String {
    let (suffix, power) = match power {
        40.. => ("T", power - 40),
        30.. => ("G", power - 30),
        20.. => ("M", power - 20),
        10.. => ("K", power - 10),
        _ => ("", power),
    };
    format!("{}{suffix}", 1u64 << power)
}

fn linear_label(n: i64) -> String {
    const KILO: i64 = 1024;
    const MEGA: i64 = 1024 * 1024;
    match n {
        0 => "0".into(),
        n if n % MEGA == 0 => format!("{}M", n / MEGA),
        n if n % KILO == 0 => format!("{}K", n / KILO),
        n => n.to_string(),
    }
}

fn bar_line(header: &str, count: u64, max: u64) -> String {
    let width = (count as f32 / max as f32 * BAR_WIDTH as f32) as usize;
    format!(
        "{header:<16}{count:>8} |{:<BAR_WIDTH$}|\n",
        "@".repeat(width)
    )
}

fn nonzero_range(counts: &[u64]) -> Option<(usize, usize, u64)> {
    let first = counts.iter().position(|&c| c > 0)?;
    let last = counts.iter().rposition(|&c| c > 0)?;
    Some((first, last, counts.iter().copied().max().unwrap_or(0)))
}

fn hist_text(counts: &[u64]) -> String {
    let Some((first, last, max)) = nonzero_range(counts) else {
        return String::new();
    };
    (first..=last)
        .map(|i| {
            let header = match i {
                0 => "(..., 0)".to_string(),
                1 => "[0]".to_string(),
                2 => "[1]".to_string(),
                _ => format!(
                    "[{}, {})",
                    power_label(i as u32 - 2),
                    power_label(i as u32 - 1)
                ),
            };
            bar_line(&header, counts[i], max)
        })
        .collect()
}

fn lhist_text(counts: &[u64], min: i64, max: i64, step: i64) -> String {
    let buckets = ((max - min) / step) as usize;
    let Some((first, last, most)) = nonzero_range(counts) else {
        return String::new();
    };
    (first..=last)
        .map(|i| {
            let header = if i == 0 {
                format!("(..., {})", linear_label(min))
            } else if i == buckets + 1 {
                format!("[{}, ...)", linear_label(max))
            } else {
                let low = (i as i64 - 1) * step + min;
                format!("[{}, {})", linear_label(low), linear_label(low + step))
            };
            bar_line(&header, counts[i], most)
        })
        .collect()
}

fn hist_json(counts: &[u64]) -> String {
    let Some((first, last, _)) = nonzero_range(counts) else {
        return "[]".into();
    };
    let items: Vec<String> = (first..=last)
        .map(|i| {
            let range = match i {
                0 => "\"max\": -1, ".to_string(),
                1 => "\"min\": 0, \"max\": 0, ".to_string(),
                2 => "\"min\": 1, \"max\": 1, ".to_string(),
                _ => format!(
                    "\"min\": {}, \"max\": {}, ",
                    1u64 << (i - 2),
                    (1u64 << (i - 1)) - 1
                ),
            };
            format!("{{{range}\"count\": {}}}", counts[i])
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn lhist_json(counts: &[u64], min: i64, max: i64, step: i64) -> String {
    let buckets = ((max - min) / step) as usize;
    let Some((first, last, _)) = nonzero_range(counts) else {
        return "[]".into();
    };
    let items: Vec<String> = (first..=last)
        .map(|i| {
            let range = if i == 0 {
                format!("\"max\": {}, ", min - 1)
            } else if i == buckets + 1 {
                format!("\"min\": {max}, ")
            } else {
                let low = (i as i64 - 1) * step + min;
                format!("\"min\": {low}, \"max\": {}, ", low + step - 1)
            };
            format!("{{{range}\"count\": {}}}", counts[i])
        })
        .collect();
    format!("[{}]", items.join(", "))
}

pub fn json_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(kind: MapKind, keys: Vec<Type>) -> PlannedMap {
        PlannedMap {
            name: "@x".into(),
            object_name: "map_0".into(),
            keys,
            kind,
        }
    }

    fn entry(key: &[u64], value: i64) -> (Vec<u8>, Vec<u8>) {
        let key = key.iter().flat_map(|k| k.to_le_bytes()).collect();
        (key, value.to_le_bytes().to_vec())
    }

    #[test]
    fn histogram_bars_and_labels() {
        let map = planned(MapKind::Hist, vec![]);
        let text = super::map(
            Format::Text,
            &map,
            vec![entry(&[1], 1), entry(&[4], 1)],
            &mut Symbols::default(),
        );
        let bar = "@".repeat(52);
        let blank = " ".repeat(52);
        assert_eq!(
            text,
            format!("@x: \n[0]                    1 |{bar}|\n[1]                    0 |{blank}|\n[2, 4)                 0 |{blank}|\n[4, 8)                 1 |{bar}|\n\n")
        );
        assert_eq!(power_label(10), "1K");
        assert_eq!(power_label(21), "2M");
    }

    #[test]
    fn values_sorted_by_value_and_stats() {
        let map = planned(MapKind::Count, vec![Type::INT]);
        let text = super::map(
            Format::Text,
            &map,
            vec![entry(&[2], 5), entry(&[1], 7)],
            &mut Symbols::default(),
        );
        assert_eq!(text, "@x[2]: 5\n@x[1]: 7\n");
        let json = super::map(
            Format::Json,
            &map,
            vec![entry(&[2], 5)],
            &mut Symbols::default(),
        );
        assert_eq!(
            json,
            "{\"type\": \"map\", \"data\": {\"@x\": {\"2\": 5}}}\n"
        );
        let stats = planned(MapKind::Stats, vec![]);
        let text = super::map(
            Format::Text,
            &stats,
            vec![entry(&[0], 2), entry(&[1], 7)],
            &mut Symbols::default(),
        );
        assert_eq!(text, "@x: count 2, average 3, total 7\n\n");
    }

    #[test]
    fn inet_addresses_as_inet_ntop_writes_them() {
        let inet = |family: u64, address: &[u8]| {
            let mut bytes = family.to_le_bytes().to_vec();
            bytes.extend_from_slice(address);
            bytes.resize(24, 0);
            inet_text(&bytes)
        };
        assert_eq!(inet(2, &[10, 0, 0, 1]), "10.0.0.1");
        let mut v6 = [0u8; 16];
        v6[0] = 0xfe;
        v6[1] = 0x80;
        v6[15] = 1;
        assert_eq!(inet(10, &v6), "fe80::1");
        assert_eq!(inet(10, &[0; 16]), "::");
    }

    #[test]
    fn linear_histogram() {
        let map = planned(
            MapKind::Lhist {
                min: 0,
                max: 10,
                step: 2,
            },
            vec![],
        );
        let text = super::map(
            Format::Text,
            &map,
            vec![entry(&[2], 1)],
            &mut Symbols::default(),
        );
        assert_eq!(
            text,
            format!("@x: \n[2, 4)                 1 |{}|\n\n", "@".repeat(52))
        );
    }
}
