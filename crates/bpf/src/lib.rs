//! The eBPF instruction set: instructions, opcodes with the kernel's names, encoding and decoding,
//! disassembly, helper ids, the kernel's program/map/attach type numbers, libbpf's section names
//! and named constants.
//!
//! This crate depends on nothing else in the workspace.

pub mod consts;
pub mod disasm;
pub mod helpers;
pub mod insn;
pub mod opcode;
pub mod section;
pub mod types;

pub use insn::{Insn, Reg};
pub use types::{AttachType, CoreKind, MapType, ProgramType};
