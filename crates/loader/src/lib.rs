//! The pure-Rust BPF loader: maps, programs, relocations, BTF, attachments, ring buffers.

pub mod attach;
pub mod elf_symbols;
pub mod link;
pub mod perf_buffer;
pub mod ringbuf;
pub mod sys;
