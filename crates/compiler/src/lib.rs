//! The Whistler compiler: spanned s-expressions to eBPF instructions and object specs. No I/O, no unsafe.
//!
//! The pipeline ([`pipeline`]) is: `expand` (definitions, macros, desugaring to [`ast`]) →
//! `lower` (SSA [`ir`]) → `opt` passes → `regalloc` (linear scan + checker) → `codegen`
//! (instructions, map relocations, line info) → `whistler_object::write`.

pub mod ast;
pub mod codegen;
pub mod context;
mod diag;
pub mod expand;
pub mod ir;
pub mod lisp_host;
pub mod lower;
pub mod opt;
mod pipeline;
pub mod regalloc;

pub use expand::{MacroHost, NoMacros};
pub use pipeline::{
    compile, compile_forms, compile_with, symbol_name, Compiled, Options, ProgramDump,
};
