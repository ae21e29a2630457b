//! Symbolization: kernel addresses through `/proc/kallsyms`, user addresses through the
//! traced process's mappings (`/proc/PID/maps`) and the ELF symbol tables of the mapped files.

use object::{Object, ObjectKind, ObjectSegment, ObjectSymbol};
use std::collections::HashMap;

/// Symbol tables, read on first use and kept.
#[derive(Default)]
pub struct Symbols {
    kernel: Option<Vec<(u64, String)>>,
    /// Function symbols of ELF files by path.
    files: HashMap<String, Option<ElfFunctions>>,
    /// Stack traces read from the stack maps, by (user, stack id): their return addresses.
    stacks: HashMap<(bool, i64), Vec<u64>>,
    /// `strftime` formats by index, and the wall clock's lead over the monotonic clock.
    time_formats: Vec<String>,
    wall_minus_monotonic_ns: i128,
}

impl Symbols {
    /// The kernel symbol containing `address`, or `0x...` when none does.
    pub fn kernel(&mut self, address: u64) -> String {
        let table = self.kernel.get_or_insert_with(read_kallsyms);
        let i = table.partition_point(|(a, _)| *a <= address);
        match i.checked_sub(1).map(|i| &table[i]) {
            Some((_, name)) if address != 0 => name.clone(),
            _ => format!("0x{address:x}"),
        }
    }

    /// Sets what `strftime` values print with: their formats, and the wall clock time minus
    /// the monotonic clock's (nanoseconds).
    pub fn set_clock(&mut self, formats: Vec<String>, wall_minus_monotonic_ns: i128) {
        self.time_formats = formats;
        self.wall_minus_monotonic_ns = wall_minus_monotonic_ns;
    }

    /// A `strftime` value: monotonic nanoseconds as wall clock time in format `format`.
    pub fn timestamp(&self, format: u32, monotonic_ns: u64) -> String {
        let wall = monotonic_ns as i128 + self.wall_minus_monotonic_ns;
        let format = self
            .time_formats
            .get(format as usize)
            .map_or("", String::as_str);
        crate::time::strftime(format, (wall / 1_000_000_000) as i64)
    }

    /// Whether stack `id` (of the user stack map when `user`) still needs to be read.
    pub fn needs_stack(&self, user: bool, id: i64) -> bool {
        id >= 0 && !self.stacks.contains_key(&(user, id))
    }

    /// Keeps a stack's frames read from its stack map (the map's value: addresses, 0 after
    /// the last).
    pub fn add_stack(&mut self, user: bool, id: i64, value: &[u8]) {
        let frames = value
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .take_while(|&a| a != 0)
            .collect();
        self.stacks.insert((user, id), frames);
    }

    /// A stack as bpftrace prints it: a newline, then each frame (`function+offset`, or the
    /// address when no symbol holds it) on its own line after `indent` spaces.
    pub fn stack_text(
        &mut self,
        user: bool,
        id: i64,
        pid: u32,
        limit: usize,
        indent: usize,
    ) -> String {
        let frames = self.stacks.get(&(user, id)).cloned().unwrap_or_default();
        let mut text = String::from("\n");
        for address in frames.into_iter().take(limit) {
            let frame = match user {
                false => self.kernel_with_offset(address),
                true => self.user_with_offset(address, pid),
            };
            text.push_str(&format!("{:indent$}{frame}\n", ""));
        }
        text
    }

    fn kernel_with_offset(&mut self, address: u64) -> String {
        let table = self.kernel.get_or_insert_with(read_kallsyms);
        let i = table.partition_point(|(a, _)| *a <= address);
        match i.checked_sub(1).map(|i| &table[i]) {
            Some((start, name)) => format!("{name}+{}", address - start),
            None => format!("0x{address:x}"),
        }
    }

    fn user_with_offset(&mut self, address: u64, pid: u32) -> String {
        match self.user_symbol(address, pid) {
            Some((name, offset)) => format!("{name}+{offset}"),
            None => format!("0x{address:x}"),
        }
    }

    /// The symbol containing `address` in process `pid`, or `0x...`.
    pub fn user(&mut self, address: u64, pid: u32) -> String {
        self.user_symbol(address, pid)
            .map(|(name, _)| name)
            .unwrap_or_else(|| format!("0x{address:x}"))
    }

    /// The function containing `address` in process `pid`, and the offset in it.
    fn user_symbol(&mut self, address: u64, pid: u32) -> Option<(String, u64)> {
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
        let (start, offset, path) = maps.lines().find_map(|line| {
            let mut parts = line.split_whitespace();
            let (lo, hi) = parts.next()?.split_once('-')?;
            let (lo, hi) = (
                u64::from_str_radix(lo, 16).ok()?,
                u64::from_str_radix(hi, 16).ok()?,
            );
            let offset = u64::from_str_radix(parts.nth(1)?, 16).ok()?;
            let path = parts.nth(2)?;
            (lo <= address && address < hi && path.starts_with('/'))
                .then(|| (lo, offset, path.to_string()))
        })?;
        let entry = self
            .files
            .entry(path.clone())
            .or_insert_with(|| read_elf_functions(&path));
        let elf = entry.as_ref()?;
        let wanted = match elf.absolute {
            true => address,
            false => elf.file_offset_to_address(address - start + offset)?,
        };
        let i = elf
            .functions
            .partition_point(|(a, ..)| *a <= wanted)
            .checked_sub(1)?;
        let (a, size, name) = &elf.functions[i];
        (wanted < a + (*size).max(1)).then(|| (name.clone(), wanted - a))
    }
}

/// The address of kernel symbol `name` (`kaddr`), from /proc/kallsyms.
pub fn kernel_address(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/kallsyms").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        let address = parts.next()?;
        let symbol = parts.nth(1)?;
        (symbol == name).then(|| u64::from_str_radix(address, 16).ok())?
    })
}

fn read_kallsyms() -> Vec<(u64, String)> {
    let text = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
    let mut table: Vec<(u64, String)> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let address = u64::from_str_radix(parts.next()?, 16).ok()?;
            let kind = parts.next()?;
            let name = parts.next()?;
            (address != 0 && matches!(kind, "t" | "T" | "w" | "W"))
                .then(|| (address, name.to_string()))
        })
        .collect();
    table.sort();
    table
}

/// An ELF file's function symbols and where its loadable segments go.
struct ElfFunctions {
    /// (address, size, name), sorted by address.
    functions: Vec<(u64, u64, String)>,
    /// (file offset, address, size) of each loadable segment.
    segments: Vec<(u64, u64, u64)>,
    /// Position-dependent: addresses at run time are the symbols' own.
    absolute: bool,
}

impl ElfFunctions {
    fn file_offset_to_address(&self, offset: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|(start, _, size)| *start <= offset && offset < start + size)
            .map(|(start, address, _)| address + (offset - start))
    }
}

fn read_elf_functions(path: &str) -> Option<ElfFunctions> {
    let data = std::fs::read(path).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let mut table: Vec<(u64, u64, String)> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.kind() == object::SymbolKind::Text && s.address() != 0)
        .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_string())))
        .collect();
    table.sort();
    table.dedup_by_key(|(a, ..)| *a);
    let segments = file
        .segments()
        .map(|s| {
            let (offset, size) = s.file_range();
            (offset, s.address(), size)
        })
        .collect();
    Some(ElfFunctions {
        functions: table,
        segments,
        absolute: file.kind() == ObjectKind::Executable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_addresses_print_as_hex() {
        let mut symbols = Symbols::default();
        assert_eq!(symbols.kernel(0), "0x0");
        assert_eq!(symbols.user(0x1234, u32::MAX), "0x1234");
    }

    #[test]
    fn a_function_of_this_process_is_found() {
        fn marker() {}
        let address = marker as fn() as usize as u64;
        let name = Symbols::default().user(address, std::process::id());
        assert!(name.contains("marker"), "{name}");
    }
}
