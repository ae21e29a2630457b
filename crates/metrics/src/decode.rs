//! Label decoders: key bytes to label values (integers, addresses, kernel symbols, system call
//! and errno names, interface names, cgroup paths, command names, static tables).
//!
//! The tables read from the running system (`/proc/kallsyms`, `/sys/class/net`, the cgroup v2
//! tree) are read when first needed; interfaces and cgroups come and go, so an unknown index or
//! id rereads its table, at most once per [`REREAD_AFTER`]. A value that cannot be named shows
//! as its number.

use crate::layout::write_hex;
use std::collections::HashMap;
use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, Instant};
use whistler_object::metrics::{Decoder, FieldRef};

/// The shortest time between two readings of a system table.
pub const REREAD_AFTER: Duration = Duration::from_secs(1);

/// The integer in `field` of `bytes` (little-endian, sign-extended when signed); `None` when
/// the field is not an integer inside `bytes`.
pub fn integer(bytes: &[u8], field: &FieldRef) -> Option<i128> {
    let part = part(bytes, field)?;
    if !matches!(part.len(), 1 | 2 | 4 | 8) {
        return None;
    }
    let mut raw = [0u8; 8];
    raw[..part.len()].copy_from_slice(part);
    let unsigned = u64::from_le_bytes(raw);
    if !field.signed {
        return Some(i128::from(unsigned));
    }
    let shift = 64 - 8 * part.len() as u32;
    Some(i128::from(((unsigned << shift) as i64) >> shift))
}

/// The bytes of `field`, when they lie inside `bytes`.
pub fn part<'a>(bytes: &'a [u8], field: &FieldRef) -> Option<&'a [u8]> {
    let start = field.offset as usize;
    bytes.get(start..start.checked_add(field.size as usize)?)
}

/// The system tables decoders read, kept between scrapes.
#[derive(Debug, Default)]
pub struct SystemTables {
    kernel_symbols: Option<Vec<(u64, String)>>,
    interfaces: Reread<u32>,
    cgroups: Reread<u64>,
}

/// A table by number that is read again when a number is missing from it.
#[derive(Debug, Default)]
struct Reread<K> {
    names: HashMap<K, String>,
    read_at: Option<Instant>,
}

impl<K: std::hash::Hash + Eq + Copy> Reread<K> {
    fn name(&mut self, key: K, read: impl FnOnce() -> HashMap<K, String>) -> Option<&str> {
        if !self.names.contains_key(&key)
            && self.read_at.is_none_or(|t| t.elapsed() >= REREAD_AFTER)
        {
            self.names = read();
            self.read_at = Some(Instant::now());
        }
        self.names.get(&key).map(String::as_str)
    }
}

impl SystemTables {
    /// The label value `decoder` makes of `field` in `key`.
    pub fn decode(&mut self, decoder: &Decoder, key: &[u8], field: &FieldRef) -> String {
        let mut value = String::new();
        self.decode_into(decoder, key, field, &mut value);
        value
    }

    /// Appends the label value `decoder` makes of `field` in `key` to `out`.
    pub fn decode_into(
        &mut self,
        decoder: &Decoder,
        key: &[u8],
        field: &FieldRef,
        out: &mut String,
    ) {
        let bytes = part(key, field).unwrap_or_default();
        let number = integer(key, field);
        let named: Option<&str> = match decoder {
            Decoder::Integer => None,
            Decoder::Hex => {
                match number {
                    Some(n) => write!(out, "{:#x}", n as u64),
                    None => write_hex(bytes, out),
                }
                .expect("a String takes any text");
                return;
            }
            Decoder::Ipv4 => {
                if let Ok(b) = <[u8; 4]>::try_from(bytes) {
                    write!(out, "{}", Ipv4Addr::from(b)).expect("a String takes any text");
                    return;
                }
                None
            }
            Decoder::Ipv6 => {
                if let Ok(b) = <[u8; 16]>::try_from(bytes) {
                    write!(out, "{}", Ipv6Addr::from(b)).expect("a String takes any text");
                    return;
                }
                None
            }
            Decoder::Comm => {
                let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
                out.push_str(&String::from_utf8_lossy(&bytes[..end]));
                return;
            }
            Decoder::Syscall => number
                .and_then(|n| syscalls::Sysno::new(usize::try_from(n).ok()?))
                .map(|s| s.name()),
            Decoder::Errno => number.and_then(errno_name),
            Decoder::Table(entries) => number
                .and_then(|n| entries.iter().find(|(k, _)| i128::from(*k) == n))
                .map(|(_, name)| name.as_str()),
            Decoder::KernelSymbol => number.and_then(|n| self.kernel_symbol(n as u64)),
            Decoder::Interface => {
                number.and_then(|n| self.interfaces.name(u32::try_from(n).ok()?, interfaces))
            }
            Decoder::CgroupPath => number.and_then(|n| self.cgroups.name(n as u64, cgroups)),
        };
        match (named, number) {
            (Some(name), _) => out.push_str(name),
            (None, Some(n)) => match i64::try_from(n) {
                // Formatting an i64 is faster than an i128; only u64s above i64::MAX need it.
                Ok(n) => out.push_str(itoa::Buffer::new().format(n)),
                Err(_) => out.push_str(itoa::Buffer::new().format(n)),
            },
            (None, None) => write_hex(bytes, out).expect("a String takes any text"),
        }
    }

    /// The name of the kernel symbol that contains `address`.
    fn kernel_symbol(&mut self, address: u64) -> Option<&str> {
        let symbols = self.kernel_symbols.get_or_insert_with(kernel_symbols);
        let after = symbols.partition_point(|(start, _)| *start <= address);
        let (_, name) = symbols.get(after.checked_sub(1)?)?;
        Some(name)
    }
}

/// `ENOENT` for 2 or -2 (return values carry errnos negated).
fn errno_name(n: i128) -> Option<&'static str> {
    let n = i32::try_from(n.unsigned_abs()).ok()?;
    syscalls::Errno::new(n).name()
}

/// `/proc/kallsyms` as (address, name), sorted by address; symbols shown at address 0 (the
/// kernel hides addresses from readers without CAP_SYSLOG) are left out.
fn kernel_symbols() -> Vec<(u64, String)> {
    let text = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
    let mut symbols: Vec<(u64, String)> = text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let address = u64::from_str_radix(words.next()?, 16).ok()?;
            let name = words.nth(1)?;
            (address != 0).then(|| (address, name.to_string()))
        })
        .collect();
    symbols.sort();
    symbols
}

/// Interface index to name, from `/sys/class/net/NAME/ifindex`.
fn interfaces() -> HashMap<u32, String> {
    let Ok(entries) = std::fs::read_dir("/sys/class/net") else {
        return HashMap::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let index = std::fs::read_to_string(entry.path().join("ifindex")).ok()?;
            Some((
                index.trim().parse().ok()?,
                entry.file_name().to_string_lossy().into_owned(),
            ))
        })
        .collect()
}

/// Cgroup id (the inode of its directory in the cgroup v2 hierarchy) to its path from the root.
fn cgroups() -> HashMap<u64, String> {
    let mut ids = HashMap::new();
    if let Some(root) = whistler_loader::attach::cgroup2_mount_point() {
        walk_cgroups(&root, &root, &mut ids);
    }
    ids
}

fn walk_cgroups(root: &Path, dir: &Path, ids: &mut HashMap<u64, String>) {
    use std::os::unix::fs::MetadataExt;
    let Ok(metadata) = std::fs::metadata(dir) else {
        return;
    };
    let relative = dir.strip_prefix(root).unwrap_or(dir);
    ids.insert(metadata.ino(), format!("/{}", relative.display()));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk_cgroups(root, &entry.path(), ids);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(size: u32, signed: bool) -> FieldRef {
        FieldRef {
            offset: 0,
            size,
            signed,
        }
    }

    fn decode(decoder: Decoder, key: &[u8], field: FieldRef) -> String {
        SystemTables::default().decode(&decoder, key, &field)
    }

    #[test]
    fn integers_addresses_and_text_decode_from_their_bytes() {
        assert_eq!(
            decode(Decoder::Integer, &(-3i32).to_le_bytes(), whole(4, true)),
            "-3"
        );
        assert_eq!(
            decode(Decoder::Hex, &255u16.to_le_bytes(), whole(2, false)),
            "0xff"
        );
        assert_eq!(decode(Decoder::Hex, &[1, 2, 3], whole(3, false)), "010203");
        assert_eq!(
            decode(Decoder::Ipv4, &[10, 0, 0, 1], whole(4, false)),
            "10.0.0.1"
        );
        let loopback = Ipv6Addr::LOCALHOST.octets();
        assert_eq!(decode(Decoder::Ipv6, &loopback, whole(16, false)), "::1");
        assert_eq!(
            decode(Decoder::Comm, b"sshd\0\0\0\0junk", whole(12, false)),
            "sshd"
        );
        let second = FieldRef {
            offset: 4,
            size: 4,
            signed: false,
        };
        assert_eq!(
            decode(Decoder::Integer, &[0, 0, 0, 0, 7, 0, 0, 0], second),
            "7"
        );
    }

    #[test]
    fn system_call_errno_and_table_names_fall_back_to_the_number() {
        let nr = syscalls::Sysno::getpid.id() as u32;
        assert_eq!(
            decode(Decoder::Syscall, &nr.to_le_bytes(), whole(4, false)),
            "getpid"
        );
        assert_eq!(
            decode(Decoder::Syscall, &99_999u32.to_le_bytes(), whole(4, false)),
            "99999"
        );
        assert_eq!(
            decode(Decoder::Errno, &(-2i64).to_le_bytes(), whole(8, true)),
            "ENOENT"
        );
        assert_eq!(
            decode(Decoder::Errno, &13u32.to_le_bytes(), whole(4, false)),
            "EACCES"
        );
        let table = Decoder::Table(vec![(0, "ok".into()), (-1, "failed".into())]);
        assert_eq!(
            decode(table.clone(), &(-1i32).to_le_bytes(), whole(4, true)),
            "failed"
        );
        assert_eq!(decode(table, &5i32.to_le_bytes(), whole(4, true)), "5");
    }

    #[test]
    fn system_tables_name_this_machine_s_interfaces_cgroups_and_kernel_symbols() {
        let lo = std::fs::read_to_string("/sys/class/net/lo/ifindex").unwrap();
        let lo: u32 = lo.trim().parse().unwrap();
        assert_eq!(
            decode(Decoder::Interface, &lo.to_le_bytes(), whole(4, false)),
            "lo"
        );
        if let Some(root) = whistler_loader::attach::cgroup2_mount_point() {
            use std::os::unix::fs::MetadataExt;
            let id = std::fs::metadata(&root).unwrap().ino();
            assert_eq!(
                decode(Decoder::CgroupPath, &id.to_le_bytes(), whole(8, false)),
                "/"
            );
        }
        let symbols = kernel_symbols();
        if let Some((address, name)) = symbols.iter().find(|(_, n)| n == "schedule") {
            let inside = address + 1;
            assert_eq!(
                decode(
                    Decoder::KernelSymbol,
                    &inside.to_le_bytes(),
                    whole(8, false)
                ),
                *name
            );
        }
    }
}
