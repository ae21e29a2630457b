//! The pure-Rust BPF loader: maps, programs, relocations, BTF, attachments, ring buffers.
//!
//! - [`Object::load`] loads a whole ELF object (ours or clang's with libbpf conventions): maps,
//!   global data, BTF, CO-RE, subprograms, externs; [`LoadOptions`] changes what it does.
//! - [`Program::load_raw`] loads bare instructions; [`Program::test_run`] runs a program.
//! - [`Map`] gives byte access to any map, [`TypedMap`] and [`PerCpuMap`] typed access.
//! - [`attach`] attaches programs ([`Program::attach`]); [`ringbuf`] and [`perf_buffer`] read
//!   what programs send.
//! - [`pins`]: programs, maps and links pinned in a bpffs, reopened by path
//!   ([`Program::from_pin`], [`Map::from_pin`], [`link::Link::from_pin`]).
//! - [`sys`] is the only module with `unsafe`: one function per bpf(2) command.

#![warn(missing_docs)]

pub mod attach;
pub mod btf_load;
pub mod core_reloc;
pub mod cpus;
pub mod elf_symbols;
pub mod error;
pub mod kernel_btf;
pub mod link;
pub mod maps;
pub mod object;
pub mod options;
pub mod perf_buffer;
pub mod pins;
pub mod programs;
pub mod ringbuf;
pub mod sys;

pub use error::{LoadError, MapError, ProgramError};
pub use maps::{
    BatchBuffers, CreateOptions, Map, MapDefinition, MapInfo, PerCpuMap, TypedMap, UpdateFlags,
};
pub use object::Object;
pub use options::{LoadOptions, ProgramTypeOverride, RodataOverride, RodataTarget};
pub use programs::{Program, TestRun, TestRunOutput};
