//! Analyses of IR functions that the verifier and the passes share. An analysis reads a
//! function and returns facts about it; it never changes the function.
//!
//! - [`dominators`]: immediate dominators, the dominator tree's children, O(1) dominance.
//! - [`cfg_cache`]: the control-flow analyses kept until the control flow changes.
//!
//! Control-flow facts simple enough to be one method stay on [`crate::ir::Function`]
//! (`predecessors`, `reverse_postorder`).

pub mod cfg_cache;
pub mod dominators;
