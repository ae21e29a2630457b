//! The eBPF instruction set: instructions, opcodes with the kernel's names, encoding and decoding,
//! disassembly, helper ids and the kernel's program/map/attach type numbers.
//!
//! This crate depends on nothing else in the workspace.

pub mod insn;
pub mod opcode;

pub use insn::{Insn, Reg};
