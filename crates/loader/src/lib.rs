//! The pure-Rust BPF loader: maps, programs, relocations, BTF, attachments, ring buffers.

pub mod elf_symbols;
pub mod ringbuf;
pub mod sys;
