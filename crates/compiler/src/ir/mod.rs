//! The SSA intermediate representation: functions of basic blocks with parameters, instructions
//! with at most one result, and terminators. Printable as text ([`print`]) that parses back
//! ([`parse`]); checked by [`verify`].

mod entities;
mod function;
pub mod parse;
pub mod print;
pub mod verify;

pub use entities::{Block, Inst, StackSlot, Value};
pub use function::*;
