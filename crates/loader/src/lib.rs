//! The pure-Rust BPF loader: maps, programs, relocations, BTF, attachments, ring buffers.
