//! The pure-Rust BPF loader: maps, programs, relocations, BTF, attachments, ring buffers.

pub mod attach;
pub mod btf_load;
pub mod core;
pub mod cpus;
pub mod elf_symbols;
pub mod error;
pub mod kernel_btf;
pub mod link;
pub mod maps;
pub mod object;
pub mod options;
pub mod perf_buffer;
pub mod programs;
pub mod ringbuf;
pub mod sys;

pub use error::{LoadError, MapError, ProgramError};
pub use object::Object;
pub use maps::{CreateOptions, Map, MapDefinition, MapInfo, PerCpuMap, TypedMap, UpdateFlags};
pub use options::{LoadOptions, ProgramTypeOverride, RodataOverride, RodataTarget};
pub use programs::{Program, TestRun, TestRunOutput};
