//! A map's contents at the end of a run, for printing.

use whistler_bpf::MapType;
use whistler_loader::{Map, MapError, UpdateFlags};

/// One key and its value; a per-CPU value is the sum over CPUs (see [`lookup_summed`]).
pub type MapEntry = (Vec<u8>, Vec<u8>);

/// Every entry of a map that holds keyed values, or `None` for maps whose contents are not
/// entries (ring and perf buffers, program arrays, queues, stacks, stack traces). Per-CPU
/// values are read with [`lookup_summed`].
pub fn map_entries(map: &Map) -> Option<Result<Vec<MapEntry>, MapError>> {
    holds_entries(map).then(|| read_entries(map))
}

/// One key, its value (per-CPU values summed) and each CPU's value (empty for maps that are
/// not per-CPU).
pub type PerCpuEntry = (Vec<u8>, Vec<u8>, Vec<Vec<u8>>);

/// Like [`map_entries`], with each CPU's value kept next to the sum.
pub fn map_entries_per_cpu(map: &Map) -> Option<Result<Vec<PerCpuEntry>, MapError>> {
    holds_entries(map).then(|| {
        let mut entries = Vec::new();
        for key in map.keys() {
            let key = key?;
            if !map.is_per_cpu() {
                entries.extend(map.lookup(&key)?.map(|value| (key, value, Vec::new())));
            } else if let Some(values) = map.lookup_per_cpu(&key)? {
                entries.push((key, sum_per_cpu(&values), values));
            }
        }
        Ok(entries)
    })
}

/// Empties a listed map: deletes every key of a hash-like map, zeroes every slot of an array.
pub fn clear_entries(map: &Map) -> Result<(), MapError> {
    let keys: Vec<Vec<u8>> = map.keys().collect::<Result<_, _>>()?;
    let is_array = matches!(
        map.info().kind(),
        Some(MapType::ARRAY | MapType::PERCPU_ARRAY)
    );
    for key in keys {
        if !is_array {
            map.delete(&key)?;
        } else if map.is_per_cpu() {
            let cpus = map.lookup_per_cpu(&key)?.map_or(0, |v| v.len());
            let zero = vec![0u8; map.info().value_size as usize];
            map.update_per_cpu(&key, &vec![zero; cpus], UpdateFlags::Any)?;
        } else {
            map.update(
                &key,
                &vec![0u8; map.info().value_size as usize],
                UpdateFlags::Any,
            )?;
        }
    }
    Ok(())
}

/// Whether a map's contents are keyed values a program keeps (not constants programs only read,
/// such as `.rodata`, nor ring or perf buffers, program arrays, queues, stacks or stack traces).
pub fn holds_entries(map: &Map) -> bool {
    !map.info().read_only_for_programs()
        && map.info().kind().is_some_and(|kind| {
            !matches!(
                kind,
                MapType::RINGBUF
                    | MapType::PERF_EVENT_ARRAY
                    | MapType::PROG_ARRAY
                    | MapType::QUEUE
                    | MapType::STACK
                    | MapType::STACK_TRACE
            )
        })
}

fn read_entries(map: &Map) -> Result<Vec<MapEntry>, MapError> {
    let mut entries = Vec::new();
    for key in map.keys() {
        let key = key?;
        entries.extend(lookup_summed(map, &key)?.map(|value| (key, value)));
    }
    Ok(entries)
}

/// The value of `key`; a per-CPU map's values of at most 8 bytes are summed as unsigned
/// integers, wider ones give the first CPU's.
pub fn lookup_summed(map: &Map, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
    if map.is_per_cpu() {
        return Ok(map.lookup_per_cpu(key)?.map(|v| sum_per_cpu(&v)));
    }
    map.lookup(key)
}

fn sum_per_cpu(values: &[Vec<u8>]) -> Vec<u8> {
    match values.first() {
        Some(first) if first.len() <= 8 => {
            let total = values.iter().fold(0u64, |acc, v| {
                let mut raw = [0u8; 8];
                raw[..v.len()].copy_from_slice(v);
                acc.wrapping_add(u64::from_le_bytes(raw))
            });
            total.to_le_bytes()[..first.len()].to_vec()
        }
        Some(first) => first.clone(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::sum_per_cpu;

    #[test]
    fn narrow_per_cpu_values_are_summed_wide_ones_are_the_first_cpus() {
        assert_eq!(sum_per_cpu(&[vec![1, 0], vec![255, 0]]), vec![0, 1]);
        assert_eq!(sum_per_cpu(&[vec![9; 9], vec![1; 9]]), vec![9; 9]);
        assert_eq!(sum_per_cpu(&[]), Vec::<u8>::new());
    }
}
