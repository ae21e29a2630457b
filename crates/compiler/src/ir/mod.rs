//! The SSA intermediate representation: functions of basic blocks with parameters, instructions
//! with at most one result, and terminators. Printable as text ([`print`]) that parses back
//! ([`parse`]); checked by [`verify`].

mod entities;
mod function;
mod hash;
mod lists;
pub mod parse;
pub mod print;
pub mod verify;

/// The operations are the AST's too; the IR's passes name them from here.
pub use crate::ops::{BinOp, Cond, UnOp};
pub use entities::{Block, Inst, StackSlot, Value};
pub use function::*;
pub use hash::{FastHashMap, FastHasher};
pub use lists::Lists;
