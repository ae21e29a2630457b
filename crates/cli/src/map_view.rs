//! How `whistler run` shows a map in text: keys and values decoded through the object's BTF,
//! entries sorted by value (largest first), and histogram maps drawn as bars.
//!
//! A map is a histogram when it is an array (or per-CPU array) of integer counters whose name
//! says so: a name ending in `lhist` is linear (slot `k` counts the value `k`), any other name
//! ending in `hist` is log2 (slot 0 counts 0 and 1, slot `k` counts `[2^k, 2^(k+1))`, the
//! `(log2 x)` bucketing of Whistler's histogram examples).

use crate::commands::test_run::to_hex;
use whistler_bpf::MapType;
use whistler_compiler::StructLayout;
use whistler_object::btf::{Btf, Kind, INT_CHAR};

/// What decodes one map's keys and values: the object's BTF, the compiler's struct layouts
/// when the input was Lisp (fields are then shown by their Lisp names), and the map's key and
/// value type ids (0 when the object does not describe them).
#[derive(Clone, Copy)]
pub struct MapTypes<'a> {
    pub btf: Option<&'a Btf>,
    pub structs: &'a [StructLayout],
    pub key: u32,
    pub value: u32,
}

/// The kind of histogram a map is drawn as, from its type, value size and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Histogram {
    Log2,
    Linear,
}

impl Histogram {
    pub fn of(kind: Option<MapType>, value_size: u32, name: &str) -> Option<Histogram> {
        let array = matches!(kind, Some(MapType::ARRAY | MapType::PERCPU_ARRAY));
        if !array || value_size == 0 || value_size > 8 {
            return None;
        }
        let name = name.to_ascii_lowercase();
        if name.ends_with("lhist") {
            Some(Histogram::Linear)
        } else if name.ends_with("hist") {
            Some(Histogram::Log2)
        } else {
            None
        }
    }
}

/// `bytes` as an unsigned little-endian integer, when at most 8 bytes.
pub fn as_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    let mut raw = [0u8; 8];
    raw[..bytes.len()].copy_from_slice(bytes);
    Some(u64::from_le_bytes(raw))
}

/// `bytes` as BTF type `id` describes them: integers (signed when the type says so), char
/// arrays as strings, other arrays as `[a, b]`, structs and unions as `{field: value, ...}`.
/// Without a type: an integer when at most 8 bytes, else hex.
pub fn decode(types: &MapTypes<'_>, id: u32, bytes: &[u8]) -> String {
    let typed = types
        .btf
        .filter(|_| id != 0)
        .and_then(|btf| decode_typed(types, btf, id, bytes));
    typed.unwrap_or_else(|| match as_u64(bytes) {
        Some(n) => n.to_string(),
        None => to_hex(bytes),
    })
}

fn decode_typed(types: &MapTypes<'_>, btf: &Btf, id: u32, bytes: &[u8]) -> Option<String> {
    let id = btf.skip_mods_and_typedefs(id);
    let size = btf.resolve_size(id).ok()? as usize;
    let bytes = bytes.get(..size)?;
    match btf.kind(id)? {
        Kind::Int { .. } | Kind::Enum { .. } | Kind::Enum64 { .. } if size <= 8 => {
            let n = as_u64(bytes)?;
            Some(if btf.is_signed(id) {
                let shift = 64 - 8 * size as u32;
                (((n << shift) as i64) >> shift).to_string()
            } else {
                n.to_string()
            })
        }
        Kind::Array { elem, nelems, .. } => {
            let elem_size = btf.resolve_size(*elem).ok()? as usize;
            if elem_size == 1 && is_char(btf, *elem) {
                let text = bytes.split(|b| *b == 0).next().unwrap_or_default();
                return Some(format!("{:?}", String::from_utf8_lossy(text)));
            }
            let items: Vec<String> = (0..*nelems as usize)
                .map(|i| decode(types, *elem, &bytes[i * elem_size..(i + 1) * elem_size]))
                .collect();
            Some(format!("[{}]", items.join(", ")))
        }
        Kind::Struct { members, .. } | Kind::Union { members, .. } => {
            let layout = types.structs.iter().find(|s| s.symbol == btf.name(id));
            let fields: Option<Vec<String>> = members
                .iter()
                .map(|member| {
                    let offset = member.byte_offset()?;
                    let value = decode(types, member.ty, bytes.get(offset as usize..)?);
                    let lisp_name = layout
                        .and_then(|l| l.fields.iter().find(|f| f.offset == offset))
                        .map(|f| f.lisp_name.as_str());
                    let name = lisp_name.unwrap_or_else(|| btf.member_name(member));
                    Some(format!("{name}: {value}"))
                })
                .collect();
            Some(format!("{{{}}}", fields?.join(", ")))
        }
        _ => None,
    }
}

fn is_char(btf: &Btf, id: u32) -> bool {
    let id = btf.skip_mods_and_typedefs(id);
    matches!(btf.kind(id), Some(Kind::Int { encoding, size: 1, .. }) if encoding & INT_CHAR != 0)
        || btf.name(id) == "char"
}

/// One entry: its key, its value (per-CPU values summed) and, for per-CPU maps, each CPU's.
pub struct Entry {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub per_cpu: Vec<Vec<u8>>,
}

/// Orders entries by value, largest first: integer values numerically, others by their bytes;
/// equal values by key.
pub fn sort_by_value(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        let by_value = match (as_u64(&a.value), as_u64(&b.value)) {
            (Some(x), Some(y)) => y.cmp(&x),
            _ => b.value.cmp(&a.value),
        };
        by_value.then_with(|| a.key.cmp(&b.key))
    });
}

/// The text of a keyed map: `  KEY: VALUE` per entry, followed by `  [cpu0 A, cpu1 B]` when
/// `per_cpu` asks for each CPU's values.
pub fn entry_lines(types: MapTypes<'_>, entries: &[Entry], per_cpu: bool) -> Vec<String> {
    entries
        .iter()
        .map(|entry| {
            let mut line = format!(
                "  {}: {}",
                decode(&types, types.key, &entry.key),
                decode(&types, types.value, &entry.value)
            );
            if per_cpu && !entry.per_cpu.is_empty() {
                let cpus: Vec<String> = entry
                    .per_cpu
                    .iter()
                    .enumerate()
                    .map(|(cpu, v)| format!("cpu{cpu} {}", decode(&types, types.value, v)))
                    .collect();
                line.push_str(&format!("  [{}]", cpus.join(", ")));
            }
            line
        })
        .collect()
}

const BAR_WIDTH: u64 = 52;

/// A histogram drawn as bpftrace's `hist` draws one: one line per slot from the first to the
/// last non-empty one, `[low, high)  count |@@@@   |`, the bars scaled to the largest count.
/// `counts[k]` is slot `k`. Nothing when every slot is empty.
pub fn histogram_lines(kind: Histogram, counts: &[u64]) -> Vec<String> {
    let (Some(first), Some(last)) = (
        counts.iter().position(|c| *c != 0),
        counts.iter().rposition(|c| *c != 0),
    ) else {
        return Vec::new();
    };
    let max = counts[first..=last].iter().copied().max().unwrap_or(1);
    (first..=last)
        .map(|slot| {
            let label = match kind {
                Histogram::Linear => format!("[{slot}]"),
                Histogram::Log2 if slot == 0 => "[0, 2)".to_string(),
                Histogram::Log2 => format!(
                    "[{}, {})",
                    power_label(slot as u32),
                    power_label(slot as u32 + 1)
                ),
            };
            let count = counts[slot];
            let bar = (count * BAR_WIDTH).div_ceil(max).min(BAR_WIDTH) as usize;
            let bar = if count == 0 { 0 } else { bar };
            format!(
                "{label:<16}{count:>8} |{}{}|",
                "@".repeat(bar),
                " ".repeat(BAR_WIDTH as usize - bar)
            )
        })
        .collect()
}

/// `2^power` with bpftrace's suffixes: 512, 1K, 2K, ..., 1M, ..., 1G, ..., 1T, ..., 1P, 1E.
fn power_label(power: u32) -> String {
    const SUFFIXES: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    let unit = (power / 10).min(6);
    format!("{}{}", 1u64 << (power - unit * 10), SUFFIXES[unit as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use whistler_object::btf::INT_SIGNED;

    #[test]
    fn log2_histograms_label_powers_and_scale_bars() {
        let lines = histogram_lines(Histogram::Log2, &[0, 2, 4, 0, 1, 0, 0]);
        let bar = |n: usize| format!("|{}{}|", "@".repeat(n), " ".repeat(52 - n));
        assert_eq!(
            lines,
            vec![
                format!("[2, 4)                 2 {}", bar(26)),
                format!("[4, 8)                 4 {}", bar(52)),
                format!("[8, 16)                0 {}", bar(0)),
                format!("[16, 32)               1 {}", bar(13)),
            ]
        );
        assert_eq!(power_label(10), "1K");
        assert_eq!(power_label(21), "2M");
        assert!(histogram_lines(Histogram::Log2, &[0, 0]).is_empty());
    }

    #[test]
    fn linear_histograms_label_slots() {
        let lines = histogram_lines(Histogram::Linear, &[3]);
        assert_eq!(
            lines,
            vec![format!("[0]                    3 |{}|", "@".repeat(52))]
        );
    }

    #[test]
    fn histograms_are_counter_arrays_named_so() {
        assert_eq!(
            Histogram::of(Some(MapType::ARRAY), 8, "lat-hist"),
            Some(Histogram::Log2)
        );
        assert_eq!(
            Histogram::of(Some(MapType::PERCPU_ARRAY), 4, "size_lhist"),
            Some(Histogram::Linear)
        );
        assert_eq!(Histogram::of(Some(MapType::HASH), 8, "hist"), None);
        assert_eq!(Histogram::of(Some(MapType::ARRAY), 16, "hist"), None);
        assert_eq!(Histogram::of(Some(MapType::ARRAY), 8, "counts"), None);
    }

    #[test]
    fn entries_sort_by_value_largest_first_then_key() {
        let entry = |k: u8, v: u64| Entry {
            key: vec![k],
            value: v.to_le_bytes().to_vec(),
            per_cpu: vec![],
        };
        let mut entries = vec![entry(1, 10), entry(2, 300), entry(4, 10), entry(3, 20)];
        sort_by_value(&mut entries);
        let keys: Vec<u8> = entries.iter().map(|e| e.key[0]).collect();
        assert_eq!(keys, vec![2, 3, 1, 4]);
    }

    fn typed<'a>(btf: &'a Btf, structs: &'a [StructLayout]) -> MapTypes<'a> {
        MapTypes {
            btf: Some(btf),
            structs,
            key: 0,
            value: 0,
        }
    }

    #[test]
    fn btf_types_decode_structs_signed_ints_and_char_arrays() {
        let mut btf = Btf::new();
        let u32_id = btf.add("unsigned int", Kind::int(4, 0));
        let i16_id = btf.add("short", Kind::int(2, INT_SIGNED));
        let char_id = btf.add("char", Kind::int(1, 2));
        let comm = btf.add(
            "",
            Kind::Array {
                elem: char_id,
                index: u32_id,
                nelems: 4,
            },
        );
        let (pid, delta, name) = (
            btf.add_string("pid"),
            btf.add_string("delta"),
            btf.add_string("comm"),
        );
        let member = |name_off, ty, bit_offset| whistler_object::btf::Member {
            name_off,
            ty,
            bit_offset,
            bitfield_size: 0,
        };
        let event = btf.add(
            "event",
            Kind::Struct {
                size: 12,
                members: vec![
                    member(pid, u32_id, 0),
                    member(delta, i16_id, 32),
                    member(name, comm, 64),
                ],
                bitfield_encoding: false,
            },
        );
        let mut bytes = 7u32.to_le_bytes().to_vec();
        bytes.extend((-3i16).to_le_bytes());
        bytes.extend([0, 0, b's', b'h', 0, 0]);
        assert_eq!(
            decode(&typed(&btf, &[]), event, &bytes),
            "{pid: 7, delta: -3, comm: \"sh\"}"
        );
        let lisp = [StructLayout {
            lisp_name: "event".to_string(),
            symbol: "event".to_string(),
            size: 12,
            fields: vec![whistler_compiler::FieldLayout {
                lisp_name: "time-delta".to_string(),
                offset: 4,
                ty: whistler_object::BtfTypeRef::Int {
                    size: 2,
                    signed: true,
                },
            }],
        }];
        assert_eq!(
            decode(&typed(&btf, &lisp), event, &bytes),
            "{pid: 7, time-delta: -3, comm: \"sh\"}"
        );
        let untyped = MapTypes {
            btf: None,
            structs: &[],
            key: 0,
            value: 0,
        };
        assert_eq!(decode(&untyped, 0, &bytes), to_hex(&bytes));
        assert_eq!(decode(&untyped, 0, &[5, 1]), "261");
    }
}
