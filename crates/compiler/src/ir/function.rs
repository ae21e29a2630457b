//! The data of one function: instruction, block, value and stack-slot tables plus the block order.

use super::{Block, Inst, StackSlot, Value};
use crate::ops::{BinOp, Cond, UnOp};
use whistler_bpf::Insn;
use whistler_syntax::Span;

/// A register value or a 32-bit immediate (sign-extended to 64 bits, as the kernel does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    Value(Value),
    Imm(i32),
}

impl Operand {
    pub fn value(self) -> Option<Value> {
        match self {
            Operand::Value(v) => Some(v),
            Operand::Imm(_) => None,
        }
    }
}

/// What an instruction does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InstKind {
    /// A 64-bit constant.
    Iconst(i64),
    /// The context pointer the kernel passes in R1; only in the entry block.
    Arg,
    Binary {
        op: BinOp,
        lhs: Value,
        rhs: Operand,
    },
    Unary {
        op: UnOp,
        arg: Value,
    },
    Copy(Value),
    /// Loads `size` bytes (1, 2, 4, 8) at `ptr + offset`, zero-extended.
    Load {
        size: u8,
        ptr: Value,
        offset: i16,
    },
    Store {
        size: u8,
        ptr: Value,
        offset: i16,
        value: Operand,
    },
    /// `lock *(size *)(ptr + offset) += value` for size 4 or 8.
    AtomicAdd {
        size: u8,
        ptr: Value,
        offset: i16,
        value: Value,
    },
    /// The address of a stack slot (`r10 - n`).
    StackAddr(StackSlot),
    /// A map's address for helpers (`ld_imm64` with a map relocation); indexes `Function::maps`.
    MapFd(u32),
    /// The address of the constant bytes `Function::data[n]`, which the object keeps in its
    /// read-only data (`ld_imm64` with a `.rodata` relocation): a key or value that a map
    /// helper only reads.
    DataAddr(u32),
    /// The address of the program's callback number `n` (`ld_imm64` with `BPF_PSEUDO_FUNC`), for
    /// helpers that call back, such as `for_each_map_elem`.
    FuncAddr(u32),
    /// A number about the kernel's types, such as a struct member's byte offset or whether a
    /// type exists (`mov` of the build machine's value with a CO-RE relocation); indexes
    /// `Function::kernel_values`. Not a constant: passes must not fold it.
    KernelValue(u32),
    /// Reads the kernel struct member that `Function::kernel_values[field]` (a field byte
    /// offset) names from the struct at `ptr`, with one load at the member's offset and width
    /// (`MemberLoad`), zero-extended, or sign-extended by two shifts for a signed member; the
    /// loader rewrites the offset, the width and the shifts for the running kernel (CO-RE).
    /// Only for memory the kernel lets a program load from directly (a tracepoint's record
    /// through the context pointer, a struct at a pointer the verifier knows by its BTF type),
    /// never the stack.
    FieldLoad {
        ptr: Value,
        field: u32,
    },
    /// A helper call: arguments go to R1..R5, the result comes back in R0; R1-R5 are clobbered.
    Call {
        helper: u32,
        args: ValueList,
    },
    /// A raw instruction (the `asm` escape hatch). It may use R0-R5 freely; its value is R0 after it.
    Asm(Insn),
}

impl InstKind {
    /// True when the instruction produces a value.
    pub fn has_result(&self) -> bool {
        !matches!(self, InstKind::Store { .. } | InstKind::AtomicAdd { .. })
    }

    /// True when the instruction must stay even if its result is unused.
    pub fn has_side_effects(&self) -> bool {
        matches!(
            self,
            InstKind::Store { .. }
                | InstKind::AtomicAdd { .. }
                | InstKind::Call { .. }
                | InstKind::Asm(_)
        )
    }

    /// True for instructions that clobber R0-R5.
    pub fn is_call(&self) -> bool {
        matches!(self, InstKind::Call { .. } | InstKind::Asm(_))
    }

    /// Calls `f` on every value the instruction reads, in operand order.
    pub fn for_each_use(&self, mut f: impl FnMut(Value)) {
        match self {
            InstKind::Iconst(_)
            | InstKind::Arg
            | InstKind::StackAddr(_)
            | InstKind::MapFd(_)
            | InstKind::DataAddr(_)
            | InstKind::FuncAddr(_)
            | InstKind::KernelValue(_)
            | InstKind::Asm(_) => {}
            InstKind::Binary { lhs, rhs, .. } => {
                f(*lhs);
                if let Operand::Value(v) = rhs {
                    f(*v);
                }
            }
            InstKind::Unary { arg, .. } | InstKind::Copy(arg) => f(*arg),
            InstKind::Load { ptr, .. } | InstKind::FieldLoad { ptr, .. } => f(*ptr),
            InstKind::Store { ptr, value, .. } => {
                f(*ptr);
                if let Operand::Value(v) = value {
                    f(*v);
                }
            }
            InstKind::AtomicAdd { ptr, value, .. } => {
                f(*ptr);
                f(*value);
            }
            InstKind::Call { args, .. } => args.iter().copied().for_each(f),
        }
    }

    /// Rewrites every value the instruction reads.
    pub fn map_uses(&mut self, mut f: impl FnMut(Value) -> Value) {
        let op = |o: &mut Operand, f: &mut dyn FnMut(Value) -> Value| {
            if let Operand::Value(v) = o {
                *v = f(*v);
            }
        };
        match self {
            InstKind::Iconst(_)
            | InstKind::Arg
            | InstKind::StackAddr(_)
            | InstKind::MapFd(_)
            | InstKind::DataAddr(_)
            | InstKind::FuncAddr(_)
            | InstKind::KernelValue(_)
            | InstKind::Asm(_) => {}
            InstKind::Binary { lhs, rhs, .. } => {
                *lhs = f(*lhs);
                op(rhs, &mut f);
            }
            InstKind::Unary { arg, .. } | InstKind::Copy(arg) => *arg = f(*arg),
            InstKind::Load { ptr, .. } | InstKind::FieldLoad { ptr, .. } => *ptr = f(*ptr),
            InstKind::Store { ptr, value, .. } => {
                *ptr = f(*ptr);
                op(value, &mut f);
            }
            InstKind::AtomicAdd { ptr, value, .. } => {
                *ptr = f(*ptr);
                *value = f(*value);
            }
            InstKind::Call { args, .. } => args.iter_mut().for_each(|a| *a = f(*a)),
        }
    }
}

/// How a `FieldLoad` reads its member on the build machine: the byte offset and width of the
/// load, and whether the value is sign-extended. The loader changes the offset and width for the
/// running kernel (and the amounts of the sign-extending shifts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberLoad {
    pub offset: i16,
    pub size: u8,
    pub signed: bool,
}

impl MemberLoad {
    /// How one load reads `field`: integer, enum and pointer members of 1, 2, 4 or 8 bytes at
    /// an offset a load instruction holds; `None` for the others (aggregates, floats, members
    /// past 32 KiB), which no single load reads.
    pub fn of(field: &whistler_object::KernelFieldRef) -> Option<MemberLoad> {
        use whistler_object::KernelType;
        let ty = &field.member.ty;
        if !matches!(
            ty,
            KernelType::Int { .. } | KernelType::Enum { .. } | KernelType::Ptr
        ) {
            return None;
        }
        let size = u8::try_from(ty.size())
            .ok()
            .filter(|s| [1, 2, 4, 8].contains(s))?;
        Some(MemberLoad {
            offset: i16::try_from(field.member.offset).ok()?,
            size,
            signed: ty.is_signed(),
        })
    }
}

/// A terminator's successors (at most two), kept without allocating: the passes ask for them
/// for every block, many times per round. Used as a slice or iterated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Successors {
    blocks: [Block; 2],
    len: u8,
}

impl Successors {
    fn new(blocks: [Block; 2], len: u8) -> Successors {
        Successors { blocks, len }
    }
}

impl std::ops::Deref for Successors {
    type Target = [Block];

    fn deref(&self) -> &[Block] {
        &self.blocks[..usize::from(self.len)]
    }
}

impl IntoIterator for Successors {
    type Item = Block;
    type IntoIter = std::iter::Take<std::array::IntoIter<Block, 2>>;

    fn into_iter(self) -> Self::IntoIter {
        self.blocks.into_iter().take(usize::from(self.len))
    }
}

/// The predecessors of every block: `preds[b.index()]` lists block `b`'s.
pub type Predecessors = super::Lists<Block>;

/// How a block ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Terminator {
    /// Jumps to `dest`, passing `args` to its parameters.
    Jump { dest: Block, args: ValueList },
    /// Two-way branch; branch targets take no parameters.
    Branch {
        cond: Cond,
        lhs: Value,
        rhs: Operand,
        then_dest: Block,
        else_dest: Block,
    },
    /// Exits the program with a value in R0.
    Return(Operand),
}

impl Terminator {
    /// The blocks control may go to next: a jump's destination, a branch's `then` and `else`
    /// (in that order), none after a return.
    pub fn successors(&self) -> Successors {
        match self {
            Terminator::Jump { dest, .. } => Successors::new([*dest, *dest], 1),
            Terminator::Branch {
                then_dest,
                else_dest,
                ..
            } => Successors::new([*then_dest, *else_dest], 2),
            Terminator::Return(_) => Successors::new([Block(0), Block(0)], 0),
        }
    }

    /// Rewrites the blocks control may go to next.
    pub fn map_successors(&mut self, mut f: impl FnMut(Block) -> Block) {
        match self {
            Terminator::Jump { dest, .. } => *dest = f(*dest),
            Terminator::Branch {
                then_dest,
                else_dest,
                ..
            } => {
                *then_dest = f(*then_dest);
                *else_dest = f(*else_dest);
            }
            Terminator::Return(_) => {}
        }
    }

    pub fn for_each_use(&self, mut f: impl FnMut(Value)) {
        match self {
            Terminator::Jump { args, .. } => args.iter().copied().for_each(f),
            Terminator::Branch { lhs, rhs, .. } => {
                f(*lhs);
                if let Operand::Value(v) = rhs {
                    f(*v);
                }
            }
            Terminator::Return(Operand::Value(v)) => f(*v),
            Terminator::Return(Operand::Imm(_)) => {}
        }
    }

    pub fn map_uses(&mut self, mut f: impl FnMut(Value) -> Value) {
        match self {
            Terminator::Jump { args, .. } => args.iter_mut().for_each(|a| *a = f(*a)),
            Terminator::Branch { lhs, rhs, .. } => {
                *lhs = f(*lhs);
                if let Operand::Value(v) = rhs {
                    *v = f(*v);
                }
            }
            Terminator::Return(Operand::Value(v)) => *v = f(*v),
            Terminator::Return(Operand::Imm(_)) => {}
        }
    }
}

#[derive(Clone, Debug)]
pub struct InstData {
    pub kind: InstKind,
    pub result: Option<Value>,
    /// The source form the instruction came from (line info).
    pub span: Span,
}

/// A block's instructions. Most blocks hold a few, kept inline in the block (no heap
/// allocation each): the passes walk every block's list many times per round, and lists
/// scattered over the heap made each walk touch thousands of pages.
pub type InstList = smallvec::SmallVec<[Inst; 4]>;

/// A block's parameters or a jump's arguments: a few values, kept inline (no heap allocation
/// per block, for the same reason as [`InstList`]).
pub type ValueList = smallvec::SmallVec<[Value; 4]>;

#[derive(Clone, Debug, Default)]
pub struct BlockData {
    pub params: ValueList,
    pub insts: InstList,
    /// `None` only while the function is being built.
    pub term: Option<Terminator>,
    pub term_span: Span,
}

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueDef {
    Inst(Inst),
    Param(Block, usize),
    /// Not defined (a placeholder while building, or removed).
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotData {
    pub size: u32,
    pub align: u32,
}

/// One program as SSA.
#[derive(Clone, Debug, Default)]
pub struct Function {
    pub name: String,
    pub insts: Vec<InstData>,
    pub blocks: Vec<BlockData>,
    pub values: Vec<ValueDef>,
    pub slots: Vec<SlotData>,
    /// Names of the maps `MapFd` refers to.
    pub maps: Vec<String>,
    /// Key and value sizes of `maps`, by index; empty when not known (passes then assume a
    /// helper reads all of a buffer it is given).
    pub map_sizes: Vec<(u32, u32)>,
    /// The numbers about kernel types `KernelValue` refers to.
    pub kernel_values: Vec<whistler_object::KernelValue>,
    /// The constant bytes `DataAddr` refers to.
    pub data: Vec<Vec<u8>>,
    /// Whether map helpers may read constant keys and values from the object's read-only data
    /// (`DataAddr`) instead of the stack: kernels since 5.2 load such objects (see
    /// `opt::read_only_keys`).
    pub read_only_data: bool,
    /// The blocks in program order; the first is the entry. Blocks not listed are dead.
    pub layout: Vec<Block>,
    /// The kernel reads only the low 32 bits of the returned value (an `int` hook result, see
    /// `ProgramType::returns_int`); printed as `returns int`.
    pub returns_int: bool,
    /// Context offsets whose loaded value points into the packet (`data`, `data_meta`; see
    /// `context::packet_pointer_fields`); printed as `packet fields 0 8`.
    pub packet_fields: Vec<i16>,
    /// Predecessors, reverse postorder and dominators, kept while the control flow stays the
    /// same.
    pub(crate) cfg_cache: crate::analysis::cfg_cache::CfgCache,
}

/// The new number of a block, instruction or value that compaction drops.
const DROPPED: u32 = u32::MAX;

impl Function {
    pub fn new(name: impl Into<String>) -> Function {
        Function {
            name: name.into(),
            ..Function::default()
        }
    }

    pub fn entry(&self) -> Block {
        self.layout[0]
    }

    pub fn create_block(&mut self) -> Block {
        self.blocks.push(BlockData::default());
        Block(self.blocks.len() as u32 - 1)
    }

    pub fn append_param(&mut self, block: Block) -> Value {
        let v = self.new_value(ValueDef::Param(
            block,
            self.blocks[block.index()].params.len(),
        ));
        self.blocks[block.index()].params.push(v);
        v
    }

    pub fn new_value(&mut self, def: ValueDef) -> Value {
        self.values.push(def);
        Value(self.values.len() as u32 - 1)
    }

    pub fn create_slot(&mut self, size: u32, align: u32) -> StackSlot {
        self.slots.push(SlotData { size, align });
        StackSlot(self.slots.len() as u32 - 1)
    }

    /// Appends an instruction to `block`, returning its result value if it has one.
    pub fn append_inst(&mut self, block: Block, kind: InstKind, span: Span) -> Option<Value> {
        let inst = Inst(self.insts.len() as u32);
        let result = kind
            .has_result()
            .then(|| self.new_value(ValueDef::Inst(inst)));
        self.insts.push(InstData { kind, result, span });
        self.blocks[block.index()].insts.push(inst);
        result
    }

    pub fn term(&self, block: Block) -> &Terminator {
        self.blocks[block.index()]
            .term
            .as_ref()
            .expect("every laid-out block has a terminator once built")
    }

    pub fn inst(&self, inst: Inst) -> &InstData {
        &self.insts[inst.index()]
    }

    /// The member a `FieldLoad` of `field` reads and how (`None` when `field` is not the byte
    /// offset of a member one load reads).
    pub fn loaded_member(
        &self,
        field: u32,
    ) -> Option<(&whistler_object::KernelFieldRef, MemberLoad)> {
        let value = self.kernel_values.get(field as usize)?;
        match &value.of {
            whistler_object::KernelSubject::Field(f)
                if value.kind == whistler_bpf::CoreKind::FIELD_BYTE_OFFSET =>
            {
                Some((f, MemberLoad::of(f)?))
            }
            _ => None,
        }
    }

    /// The constant a value is defined as, if any.
    pub fn const_value(&self, v: Value) -> Option<i64> {
        match self.values.get(v.index())? {
            ValueDef::Inst(i) => match self.insts[i.index()].kind {
                InstKind::Iconst(c) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }

    /// Predecessors of every block (indexed by block), in layout order; computed once per
    /// control flow.
    pub fn predecessors(&self) -> std::sync::Arc<Predecessors> {
        crate::analysis::cfg_cache::predecessors(self)
    }

    pub(crate) fn compute_predecessors(&self) -> Predecessors {
        let mut edges = Vec::with_capacity(2 * self.layout.len());
        for &b in &self.layout {
            if let Some(t) = &self.blocks[b.index()].term {
                edges.extend(t.successors().into_iter().map(|s| (s.index(), b)));
            }
        }
        Predecessors::build(self.blocks.len(), edges)
    }

    /// Rewrites every use of a value through `subst` (applied until a fixed point, so chains
    /// `a -> b -> c` resolve to `c`).
    pub fn substitute(&mut self, subst: &[Option<Value>]) {
        let ends = chain_ends(subst);
        let resolve = |v: Value| ends.get(v.index()).copied().unwrap_or(v);
        for &b in &self.layout {
            let block = &mut self.blocks[b.index()];
            for &i in &block.insts {
                self.insts[i.index()].kind.map_uses(resolve);
            }
            if let Some(t) = &mut block.term {
                t.map_uses(resolve);
            }
        }
    }

    /// Drops what the passes left behind and renumbers the rest: the blocks no longer laid out
    /// (the others numbered in layout order), the instructions no block lists any more (the
    /// others numbered in that order too), then the values they defined (the others keep
    /// their relative order). The passes walk the layout, its blocks and their instructions
    /// many times per round, and size tables by the number of values; dense tables in walking
    /// order are read sequentially instead of hopping over removed entries (at 8k forms most
    /// of the block table and more than half of the values were dead, and the function no
    /// longer fits in the caches). Instruction numbers never show in the text form; block
    /// and value numbers do, and change only by that renumbering.
    pub fn compact(&mut self) {
        self.compact_blocks();
        self.compact_insts();
        self.compact_values();
    }

    /// Drops the blocks not laid out (no laid-out block goes to them, which the verifier
    /// checks) and numbers the others in layout order.
    fn compact_blocks(&mut self) {
        let in_order = self.layout.iter().enumerate().all(|(k, b)| b.index() == k);
        if in_order && self.layout.len() == self.blocks.len() {
            return;
        }
        let mut new_id = vec![DROPPED; self.blocks.len()];
        for (k, b) in self.layout.iter().enumerate() {
            new_id[b.index()] = k as u32;
        }
        let mut old = std::mem::take(&mut self.blocks);
        self.blocks = (self.layout.iter())
            .map(|b| std::mem::take(&mut old[b.index()]))
            .collect();
        for data in &mut self.blocks {
            // A list that grew past its inline capacity while the block was built (or a pass
            // added to it) and shrank back stays on the heap, somewhere among everything else
            // allocated meanwhile: every walk would then leave the block table for it.
            data.insts.shrink_to_fit();
            data.params.shrink_to_fit();
            if let Some(t) = &mut data.term {
                t.map_successors(|b| Block(new_id[b.index()]));
            }
        }
        for def in &mut self.values {
            if let ValueDef::Param(b, k) = *def {
                *def = match new_id[b.index()] {
                    DROPPED => ValueDef::None,
                    n => ValueDef::Param(Block(n), k),
                };
            }
        }
        self.layout = (0..self.blocks.len() as u32).map(Block).collect();
    }

    /// Drops the instructions no block lists any more (removed by passes) and renumbers the
    /// others in block order (the layout order, once the blocks are compacted).
    fn compact_insts(&mut self) {
        let mut new_id = vec![DROPPED; self.insts.len()];
        let mut order: Vec<Inst> = Vec::with_capacity(self.insts.len());
        for data in &mut self.blocks {
            for i in &mut data.insts {
                if new_id[i.index()] == DROPPED {
                    new_id[i.index()] = order.len() as u32;
                    order.push(*i);
                }
                *i = Inst(new_id[i.index()]);
            }
        }
        if order.len() == self.insts.len() && order.iter().enumerate().all(|(k, i)| i.index() == k)
        {
            return;
        }
        let mut old: Vec<Option<InstData>> = std::mem::take(&mut self.insts)
            .into_iter()
            .map(Some)
            .collect();
        self.insts = (order.iter())
            .map(|i| old[i.index()].take().expect("each instruction kept once"))
            .collect();
        for def in &mut self.values {
            if let ValueDef::Inst(i) = def {
                *def = match new_id[i.index()] {
                    DROPPED => ValueDef::None,
                    n => ValueDef::Inst(Inst(n)),
                };
            }
        }
    }

    /// Drops the values no longer defined (their instruction or block was dropped, or a pass
    /// removed them) and numbers the others in their old order: passes that break ties by
    /// value number decide as before.
    fn compact_values(&mut self) {
        let mut new_id = vec![DROPPED; self.values.len()];
        let mut kept = 0;
        for (v, def) in self.values.iter().enumerate() {
            if *def != ValueDef::None {
                new_id[v] = kept;
                kept += 1;
            }
        }
        if kept as usize == self.values.len() {
            return;
        }
        // Every use is of a defined value (the verifier checks it for laid-out blocks, and
        // every block is laid out once compacted). Should a pass break that, the use becomes
        // a number past the table, which the verifier and the code generator report, rather
        // than the number of another value.
        let renumber = |v: Value| Value(new_id.get(v.index()).copied().unwrap_or(DROPPED));
        self.values.retain(|def| *def != ValueDef::None);
        for data in &mut self.blocks {
            data.params.iter_mut().for_each(|p| *p = renumber(*p));
            if let Some(t) = &mut data.term {
                t.map_uses(renumber);
            }
        }
        for inst in &mut self.insts {
            inst.kind.map_uses(renumber);
            inst.result = inst.result.map(renumber);
        }
    }

    /// A hash of the laid-out code (parameters, instructions, terminators): equal fingerprints
    /// before and after a pass mean, short of a collision, that the pass changed nothing.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = super::FastHasher::default();
        for &b in &self.layout {
            let data = &self.blocks[b.index()];
            (b, &data.params, &data.term).hash(&mut h);
            for &i in &data.insts {
                (&self.insts[i.index()].kind, self.insts[i.index()].result).hash(&mut h);
            }
        }
        h.finish()
    }

    /// Blocks reachable from the entry, in reverse postorder; computed once per control flow.
    pub fn reverse_postorder(&self) -> Vec<Block> {
        crate::analysis::cfg_cache::reverse_postorder(self).to_vec()
    }

    pub(crate) fn compute_reverse_postorder(&self) -> Vec<Block> {
        let mut visited = vec![false; self.blocks.len()];
        let mut order = Vec::with_capacity(self.layout.len());
        let mut stack: Vec<(Block, usize)> = vec![(self.entry(), 0)];
        visited[self.entry().index()] = true;
        while let Some((b, next)) = stack.pop() {
            let succs = match &self.blocks[b.index()].term {
                Some(t) => t.successors(),
                None => Successors::new([b, b], 0),
            };
            // Successors are visited last-first so that the first one (a branch's `then`) is
            // laid out right after its predecessor.
            let pick = succs.len().checked_sub(next + 1).map(|k| succs[k]);
            if let Some(s) = pick {
                stack.push((b, next + 1));
                if !visited[s.index()] {
                    visited[s.index()] = true;
                    stack.push((s, 0));
                }
            } else {
                order.push(b);
            }
        }
        order.reverse();
        order
    }
}

/// Where each value ends up through `subst`: a chain `a -> b -> c` ends at `c` (a cycle, which
/// a valid substitution never has, ends where the walk closes it). Each value is walked once,
/// so long chains stay linear.
fn chain_ends(subst: &[Option<Value>]) -> Vec<Value> {
    let n = subst.len();
    let mut end: Vec<Option<Value>> = vec![None; n];
    let mut path = Vec::new();
    for start in 0..n {
        let mut v = Value(start as u32);
        while v.index() < n && end[v.index()].is_none() {
            // Provisionally its own end: marks `v` as on this walk, so a cycle stops here.
            end[v.index()] = Some(v);
            path.push(v);
            match subst[v.index()] {
                Some(next) if next != v => v = next,
                _ => break,
            }
        }
        let target = end.get(v.index()).copied().flatten().unwrap_or(v);
        for p in path.drain(..) {
            end[p.index()] = Some(target);
        }
    }
    end.into_iter()
        .enumerate()
        .map(|(i, e)| e.unwrap_or(Value(i as u32)))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::ir::{parse::parse, print::to_text, verify::verify, ValueDef};

    #[test]
    fn compacting_drops_what_is_dead_and_renumbers_the_rest_in_order() {
        let mut f = parse(
            "function f\nblock0:\n  v0 = arg\n  v1 = iconst 7\n  v2 = iconst 8\n  br eq v0, 0, block1, block2\n\
             block1:\n  v3 = add v0, v1\n  return v3\nblock2:\n  return v2\n",
        )
        .unwrap();
        // A pass decides the branch, which leaves block1 dead, and removes `v1 = iconst 7`.
        f.blocks[0].term = Some(crate::ir::Terminator::Jump {
            dest: crate::ir::Block(2),
            args: Default::default(),
        });
        f.layout.retain(|b| b.index() != 1);
        f.blocks[0].insts.remove(1);
        f.compact();
        let expected = "function f\nblock0:\n  v0 = arg\n  v1 = iconst 8\n  jump block1\n\
                        block1:\n  return v1\n";
        assert_eq!(to_text(&f), to_text(&parse(expected).unwrap()));
        assert!(verify(&f).is_empty(), "{:?}", verify(&f));
        assert_eq!((f.blocks.len(), f.insts.len(), f.values.len()), (2, 2, 2));
        assert_eq!(f.values[1], ValueDef::Inst(crate::ir::Inst(1)));
    }
}
