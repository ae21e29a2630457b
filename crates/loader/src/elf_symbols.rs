//! Symbol name → file offset in an ELF executable or shared library, for uprobes.
//!
//! The uprobe PMU wants a file offset, not an address: for a symbol whose value lies in an
//! executable PT_LOAD segment, offset = st_value - p_vaddr + p_offset. This holds for PIE, non-PIE
//! and static binaries and for shared libraries alike. Both `.symtab` and `.dynsym` are searched.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSegment, ObjectSymbol, SegmentFlags, SymbolKind};

const PF_X: u32 = 1;

/// Why a symbol could not be turned into a file offset.
#[derive(Debug, thiserror::Error)]
pub enum ElfSymbolError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The binary.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not an ELF file the `object` crate can parse.
    #[error("{path} is not an ELF file we can read: {source}")]
    Parse {
        /// The binary.
        path: PathBuf,
        /// The parser's error.
        source: object::Error,
    },
    /// Neither symbol table defines the symbol.
    #[error("no defined symbol `{symbol}` in {path} (neither .symtab nor .dynsym)")]
    NotFound {
        /// The binary.
        path: PathBuf,
        /// The symbol asked for.
        symbol: String,
    },
    /// The symbol is defined but not in code the process could run (data, say).
    #[error(
        "symbol `{symbol}` at {address:#x} in {path} is not inside an executable PT_LOAD segment"
    )]
    NotExecutable {
        /// The binary.
        path: PathBuf,
        /// The symbol.
        symbol: String,
        /// Its value (virtual address) in the file.
        address: u64,
    },
}

/// The file offset of `symbol` in the ELF file at `path`.
pub fn symbol_file_offset(path: &Path, symbol: &str) -> Result<u64, ElfSymbolError> {
    let data = std::fs::read(path).map_err(|source| ElfSymbolError::Read {
        path: path.to_owned(),
        source,
    })?;
    symbol_file_offset_in(&data, symbol).map_err(|e| e.at(path))
}

/// The same, on the bytes of an ELF file already in memory.
pub fn symbol_file_offset_in(data: &[u8], symbol: &str) -> Result<u64, ElfSymbolError> {
    let file = object::File::parse(data).map_err(|source| ElfSymbolError::Parse {
        path: PathBuf::new(),
        source,
    })?;
    let address = symbol_address(&file, symbol).ok_or_else(|| ElfSymbolError::NotFound {
        path: PathBuf::new(),
        symbol: symbol.to_owned(),
    })?;
    address_to_file_offset(&file, address).ok_or_else(|| ElfSymbolError::NotExecutable {
        path: PathBuf::new(),
        symbol: symbol.to_owned(),
        address,
    })
}

/// Every defined function symbol of the ELF file at `path` whose name `wanted` accepts, with its
/// file offset, sorted by offset; one entry per offset (aliases are one function). Names are
/// taken without a version suffix (`malloc@GLIBC_2.2.5` is `malloc`). An error when none is.
pub fn matching_function_offsets(
    path: &Path,
    wanted: &dyn Fn(&str) -> bool,
    description: &str,
) -> Result<Vec<(String, u64)>, ElfSymbolError> {
    let data = std::fs::read(path).map_err(|source| ElfSymbolError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file = object::File::parse(&*data).map_err(|source| ElfSymbolError::Parse {
        path: path.to_owned(),
        source,
    })?;
    let mut found: Vec<(String, u64)> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.is_definition() && s.kind() == SymbolKind::Text)
        .filter_map(|s| {
            let name = s.name().ok()?.split('@').next()?;
            let offset = wanted(name).then(|| address_to_file_offset(&file, s.address()))??;
            Some((name.to_owned(), offset))
        })
        .collect();
    found.sort_by_key(|(_, offset)| *offset);
    found.dedup_by_key(|(_, offset)| *offset);
    if found.is_empty() {
        return Err(ElfSymbolError::NotFound {
            path: path.to_owned(),
            symbol: description.to_owned(),
        });
    }
    Ok(found)
}

/// The value of the first defined symbol named `symbol` (a versioned name `symbol@VER` matches
/// too), functions preferred over other kinds.
fn symbol_address(file: &object::File<'_>, symbol: &str) -> Option<u64> {
    let named = |s: &object::Symbol<'_, '_>| {
        s.is_definition()
            && s.name().is_ok_and(|n| {
                n == symbol || n.strip_prefix(symbol).is_some_and(|v| v.starts_with('@'))
            })
    };
    let candidates: Vec<(SymbolKind, u64)> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(named)
        .map(|s| (s.kind(), s.address()))
        .collect();
    candidates
        .iter()
        .find(|(kind, _)| *kind == SymbolKind::Text)
        .or(candidates.first())
        .map(|(_, address)| *address)
}

/// Maps a virtual address to a file offset through the executable PT_LOAD segment containing it.
fn address_to_file_offset(file: &object::File<'_>, address: u64) -> Option<u64> {
    file.segments().find_map(|segment| {
        let executable =
            matches!(segment.flags(), SegmentFlags::Elf { p_flags } if p_flags & PF_X != 0);
        let (file_offset, file_size) = segment.file_range();
        let start = segment.address();
        let inside = address >= start && address < start + file_size.max(segment.size());
        (executable && inside).then(|| address - start + file_offset)
    })
}

impl ElfSymbolError {
    fn at(self, path: &Path) -> ElfSymbolError {
        let path = path.to_owned();
        match self {
            ElfSymbolError::Read { source, .. } => ElfSymbolError::Read { path, source },
            ElfSymbolError::Parse { source, .. } => ElfSymbolError::Parse { path, source },
            ElfSymbolError::NotFound { symbol, .. } => ElfSymbolError::NotFound { path, symbol },
            ElfSymbolError::NotExecutable {
                symbol, address, ..
            } => ElfSymbolError::NotExecutable {
                path,
                symbol,
                address,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(unsafe_code)] // `no_mangle` only, so the symbol has a plain name to look up
    #[no_mangle]
    #[inline(never)]
    pub extern "C" fn whistler_elf_symbols_probe_target() -> u32 {
        std::hint::black_box(7)
    }

    #[test]
    fn own_function_offset_points_at_its_code() {
        let exe = std::fs::read("/proc/self/exe").unwrap();
        let offset = symbol_file_offset_in(&exe, "whistler_elf_symbols_probe_target").unwrap();
        // The bytes at the file offset are the bytes the CPU runs at the function's address
        // (read through /proc/self/mem rather than by dereferencing a raw pointer).
        let address = whistler_elf_symbols_probe_target as *const () as usize as u64;
        let mem = std::fs::File::open("/proc/self/mem").unwrap();
        let mut in_memory = [0u8; 16];
        std::os::unix::fs::FileExt::read_exact_at(&mem, &mut in_memory, address).unwrap();
        assert_eq!(&exe[offset as usize..offset as usize + 16], &in_memory[..]);
    }

    #[test]
    fn libc_malloc_is_found_in_dynsym() {
        let libc = Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6");
        if !libc.exists() {
            return;
        }
        let offset = symbol_file_offset(libc, "malloc").unwrap();
        assert!(offset > 0);
    }

    #[test]
    fn missing_symbols_are_reported_with_the_path() {
        let err =
            symbol_file_offset(Path::new("/proc/self/exe"), "no_such_symbol_xyz").unwrap_err();
        assert!(err.to_string().contains("no_such_symbol_xyz"), "{err}");
        assert!(err.to_string().contains("/proc/self/exe"), "{err}");
    }
}
