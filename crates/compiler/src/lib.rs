//! The Whistler compiler: spanned s-expressions to eBPF instructions and object specs. No I/O, no unsafe.
//!
//! The pipeline (`pipeline.rs`, plain calls) is: `expand` (definitions, macros, desugaring to
//! [`ast`]) → `lower` (SSA [`ir`] with block parameters) → `opt` passes (CFG simplification,
//! copy propagation, constant folding, value numbering, address folding, known-branch
//! elimination, constant joins, dead code, constant rematerialization; the IR verifier after each in debug and
//! test builds; the analyses both use in [`analysis`]) → `regalloc` (coalescing over live ranges with holes, knowing BPF's call conventions, re-verified by
//! `regalloc::checker`) → `codegen` (instructions, map relocations, line info) →
//! `whistler_object::write`.
//!
//! The language is Whistler's (its manual and book): `defmap`, `defprog`, `defstruct`,
//! `defunion`, `defconstant`, the built-in body forms ([`forms`]), and every kernel helper by
//! its Lisp name. The rest of the manual (the protocol library: `with-tcp`, `parse-ipv4`,
//! `eth-type`...) is the standard macro library in `lib/`, Lisp loaded by [`compile`].
//! `(asm OPCODE DST SRC OFF IMM)` emits one raw instruction from constant fields; it may use
//! R0-R5 freely (they are treated as clobbered, like a helper call) and its value is R0
//! afterwards. String literals are NUL-terminated stack copies (for `trace-printk`).
//! `(return v)` exits the program (also inside `dotimes`).
pub mod analysis;
pub mod ast;
pub mod codegen;
pub mod context;
mod diag;
pub mod expand;
pub mod facts;
pub mod file_forms;
pub mod ir;
pub mod kernel_structs;
pub mod lisp_host;
pub mod lower;
pub mod ops;
pub mod opt;
mod pipeline;
pub mod regalloc;

pub use codegen::Cpu;
pub use expand::{forms, Arity, Form, MacroHost, NoMacros};
pub use facts::{FieldLayout, MapFacts, ProgramFacts, StructLayout};
pub use pipeline::{
    compile, compile_forms, compile_in, compile_in_with, compile_with, Compiled, Options,
    ProgramDump,
};
/// The ELF symbol (and kernel name) a Lisp program or map name becomes.
pub use whistler_object::symbol_name;
