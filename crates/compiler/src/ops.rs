//! The operations programs compute with, shared by the expanded program ([`crate::ast`]) and
//! the IR ([`crate::ir`], which re-exports them): eBPF's 64-bit ALU operations and its jump
//! conditions, with their semantics (`Cond::eval`, the kernel's rules for division by zero) and
//! their names in IR text and expansion dumps. A Whistler operator means exactly the machine
//! operation, so both layers use one set of types; lowering passes them through unchanged (only
//! lowering's conversions and the passes use `UnOp::Zext32` and `Cond::Set`).

/// Two-operand ALU operations, all 64-bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// Unsigned division (the kernel defines `x / 0 == 0`).
    Div,
    /// Unsigned modulo (the kernel defines `x % 0 == x`).
    Mod,
    And,
    Or,
    Xor,
    Lsh,
    Rsh,
    Arsh,
}

/// One-operand operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    /// Byte swap of the low 16/32/64 bits (to big endian on this little-endian target), zero
    /// extending the result.
    Swap16,
    Swap32,
    Swap64,
    /// Keeps the low 32 bits (`w = w`).
    Zext32,
}

/// Branch conditions (`Set` is `lhs & rhs != 0`). Unsigned unless prefixed with `S`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Sgt,
    Sge,
    Slt,
    Sle,
    Set,
}

impl Cond {
    /// The condition that holds exactly when this one does not (`None` for `Set`).
    pub fn negate(self) -> Option<Cond> {
        use Cond::*;
        Some(match self {
            Eq => Ne,
            Ne => Eq,
            Gt => Le,
            Ge => Lt,
            Lt => Ge,
            Le => Gt,
            Sgt => Sle,
            Sge => Slt,
            Slt => Sge,
            Sle => Sgt,
            Set => return None,
        })
    }

    /// The condition with its operands swapped (`a < b` is `b > a`; `None` for `Set`).
    pub fn mirror(self) -> Option<Cond> {
        use Cond::*;
        Some(match self {
            Eq => Eq,
            Ne => Ne,
            Gt => Lt,
            Ge => Le,
            Lt => Gt,
            Le => Ge,
            Sgt => Slt,
            Sge => Sle,
            Slt => Sgt,
            Sle => Sge,
            Set => return None,
        })
    }

    /// Evaluates the condition on two 64-bit values.
    pub fn eval(self, a: u64, b: u64) -> bool {
        use Cond::*;
        let (sa, sb) = (a as i64, b as i64);
        match self {
            Eq => a == b,
            Ne => a != b,
            Gt => a > b,
            Ge => a >= b,
            Lt => a < b,
            Le => a <= b,
            Sgt => sa > sb,
            Sge => sa >= sb,
            Slt => sa < sb,
            Sle => sa <= sb,
            Set => a & b != 0,
        }
    }
}

impl BinOp {
    pub const ALL: [BinOp; 11] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Mod,
        BinOp::And,
        BinOp::Or,
        BinOp::Xor,
        BinOp::Lsh,
        BinOp::Rsh,
        BinOp::Arsh,
    ];

    /// The name in IR text and expansion dumps.
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Xor => "xor",
            BinOp::Lsh => "lsh",
            BinOp::Rsh => "rsh",
            BinOp::Arsh => "arsh",
        }
    }

    pub fn from_name(name: &str) -> Option<BinOp> {
        BinOp::ALL.into_iter().find(|op| op.name() == name)
    }
}

impl UnOp {
    pub const ALL: [UnOp; 5] = [
        UnOp::Neg,
        UnOp::Swap16,
        UnOp::Swap32,
        UnOp::Swap64,
        UnOp::Zext32,
    ];

    /// The name in IR text and expansion dumps.
    pub fn name(self) -> &'static str {
        match self {
            UnOp::Neg => "neg",
            UnOp::Swap16 => "swap16",
            UnOp::Swap32 => "swap32",
            UnOp::Swap64 => "swap64",
            UnOp::Zext32 => "zext32",
        }
    }

    pub fn from_name(name: &str) -> Option<UnOp> {
        UnOp::ALL.into_iter().find(|op| op.name() == name)
    }
}

impl Cond {
    pub const ALL: [Cond; 11] = [
        Cond::Eq,
        Cond::Ne,
        Cond::Gt,
        Cond::Ge,
        Cond::Lt,
        Cond::Le,
        Cond::Sgt,
        Cond::Sge,
        Cond::Slt,
        Cond::Sle,
        Cond::Set,
    ];

    /// The name in IR text and expansion dumps.
    pub fn name(self) -> &'static str {
        match self {
            Cond::Eq => "eq",
            Cond::Ne => "ne",
            Cond::Gt => "gt",
            Cond::Ge => "ge",
            Cond::Lt => "lt",
            Cond::Le => "le",
            Cond::Sgt => "sgt",
            Cond::Sge => "sge",
            Cond::Slt => "slt",
            Cond::Sle => "sle",
            Cond::Set => "set",
        }
    }

    pub fn from_name(name: &str) -> Option<Cond> {
        Cond::ALL.into_iter().find(|op| op.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        assert!(BinOp::ALL
            .iter()
            .all(|&op| BinOp::from_name(op.name()) == Some(op)));
        assert!(UnOp::ALL
            .iter()
            .all(|&op| UnOp::from_name(op.name()) == Some(op)));
        assert!(Cond::ALL
            .iter()
            .all(|&c| Cond::from_name(c.name()) == Some(c)));
    }
}
