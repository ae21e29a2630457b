//! What a caller can change about loading: verifier log level, pinning, `.rodata` values,
//! map sizes and program types.

use std::collections::HashMap;
use std::path::PathBuf;

use whistler_bpf::{AttachType, ProgramType};

/// Where a `.rodata` override goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RodataTarget {
    /// A global variable by name, found through the object's BTF `DATASEC`.
    Symbol(String),
    /// A byte offset in a read-only data section (`.rodata`, `.rodata.str1.1`, ...).
    Offset {
        /// The section's name.
        section: String,
        /// The first byte to replace.
        offset: u32,
    },
}

/// New bytes for part of a read-only data section, written before the map is frozen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RodataOverride {
    /// Which bytes to replace.
    pub target: RodataTarget,
    /// The new bytes (as many as the target has).
    pub bytes: Vec<u8>,
}

/// A program type (and expected attach type) that replaces what the section name says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramTypeOverride {
    /// The program type to load as.
    pub program_type: ProgramType,
    /// The expected attach type, for types that need one (cgroup socket hooks, tracing types).
    pub expected_attach_type: Option<AttachType>,
}

/// Options of [`crate::Object::load`] and [`crate::Program::load_raw`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Verifier log level to load with from the start (0: load without a log, and reload with
    /// level 1 only when the verifier refuses, to explain why).
    pub log_level: u32,
    /// Initial size of the verifier log buffer (0: 1 MiB); it grows while the kernel reports
    /// it too small.
    pub log_size: usize,
    /// Directory in a bpffs where maps with `pinning = LIBBPF_PIN_BY_NAME` are pinned by name
    /// and reused when already there (default `/sys/fs/bpf`).
    pub pin_dir: Option<PathBuf>,
    /// Pin every map by name under [`LoadOptions::pin_dir`], not only those the object marks
    /// (but `.rodata`, the object's constants; a `.` in a name becomes `_`).
    pub pin_all_maps: bool,
    /// `.rodata` values to write before the read-only maps are frozen.
    pub rodata: Vec<RodataOverride>,
    /// `max_entries` by map name.
    pub max_entries: HashMap<String, u32>,
    /// Program types by program name.
    pub program_types: HashMap<String, ProgramTypeOverride>,
    /// Kernel BTF for CO-RE and BTF ids (default `/sys/kernel/btf/vmlinux`).
    pub kernel_btf: Option<PathBuf>,
}

impl LoadOptions {
    /// The defaults: no log unless the verifier refuses, maps pinned only where the object says.
    pub fn new() -> LoadOptions {
        LoadOptions::default()
    }

    /// Loads with this verifier log level from the start (1: the log, 2: every state).
    pub fn log_level(mut self, level: u32) -> LoadOptions {
        self.log_level = level;
        self
    }

    /// Starts the verifier log buffer at `bytes`.
    pub fn log_size(mut self, bytes: usize) -> LoadOptions {
        self.log_size = bytes;
        self
    }

    /// Pins by name under `dir` (a bpffs directory) instead of `/sys/fs/bpf`.
    pub fn pin_dir(mut self, dir: impl Into<PathBuf>) -> LoadOptions {
        self.pin_dir = Some(dir.into());
        self
    }

    /// Pins every map by name, not only those the object marks (but `.rodata`, the object's
    /// constants; a `.` in a name becomes `_`).
    pub fn pin_all_maps(mut self, yes: bool) -> LoadOptions {
        self.pin_all_maps = yes;
        self
    }

    /// Sets the global `const volatile` variable `symbol` to `bytes` (its exact size).
    pub fn rodata_symbol(mut self, symbol: &str, bytes: impl Into<Vec<u8>>) -> LoadOptions {
        self.rodata.push(RodataOverride {
            target: RodataTarget::Symbol(symbol.into()),
            bytes: bytes.into(),
        });
        self
    }

    /// Writes `bytes` at `offset` of the read-only data section `section`.
    pub fn rodata_offset(
        mut self,
        section: &str,
        offset: u32,
        bytes: impl Into<Vec<u8>>,
    ) -> LoadOptions {
        self.rodata.push(RodataOverride {
            target: RodataTarget::Offset {
                section: section.into(),
                offset,
            },
            bytes: bytes.into(),
        });
        self
    }

    /// Creates map `map` with `max_entries` entries instead of the object's count.
    pub fn max_entries(mut self, map: &str, max_entries: u32) -> LoadOptions {
        self.max_entries.insert(map.into(), max_entries);
        self
    }

    /// Loads program `program` as `program_type` whatever its section says.
    pub fn program_type(
        mut self,
        program: &str,
        program_type: ProgramType,
        expected_attach_type: Option<AttachType>,
    ) -> LoadOptions {
        let o = ProgramTypeOverride {
            program_type,
            expected_attach_type,
        };
        self.program_types.insert(program.into(), o);
        self
    }

    /// Reads the kernel's BTF from `path` (a vmlinux BTF file) instead of `/sys/kernel/btf/vmlinux`.
    pub fn kernel_btf(mut self, path: impl Into<PathBuf>) -> LoadOptions {
        self.kernel_btf = Some(path.into());
        self
    }
}
