//! The types of bpftrace values as this front end tracks them, and what each map stores.

/// A value's type. Integers travel in registers; strings and symbols live in buffers whose
/// address the generated code passes around.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Int {
        signed: bool,
    },
    /// A NUL-padded string buffer of this many bytes.
    Str(usize),
    /// A kernel address printed as its symbol (`ksym`).
    Ksym,
    /// A user address printed as its symbol in the traced process (`usym`): address, pid.
    Usym,
    /// An IP address (`ntop`): the family (2 or 10) in 8 bytes, then 16 bytes of address.
    Inet,
    /// A stack trace (`kstack`, `ustack`): its id in the stack map, then (user stacks) the
    /// process id; printed with at most `limit` frames.
    Stack {
        user: bool,
        limit: u8,
    },
    /// Bytes read by `buf()`, printed with `%r`: their count in 8 bytes, then up to this many.
    Buf(usize),
    /// `strftime(FORMAT, nsecs)`: nanoseconds of the monotonic clock, printed as the wall
    /// clock time with the format the plan's texts hold at this index.
    Timestamp(u32),
}

impl Type {
    pub const INT: Type = Type::Int { signed: true };
    pub const UINT: Type = Type::Int { signed: false };

    /// Bytes in a map key, map value or event record.
    pub fn size(self) -> usize {
        match self {
            Type::Int { .. } | Type::Ksym => 8,
            Type::Str(n) => n,
            Type::Usym => 16,
            Type::Inet => 24,
            Type::Stack { user: false, .. } => 8,
            Type::Stack { user: true, .. } => 16,
            Type::Buf(n) => 8 + n,
            Type::Timestamp(_) => 8,
        }
    }

    /// Bytes the value takes in a map key or an event record: its size rounded up to 8, so
    /// that every slot is aligned (the verifier wants aligned stack accesses).
    pub fn slot_size(self) -> usize {
        self.size().next_multiple_of(8)
    }

    /// Whether the value is a buffer address rather than the value itself.
    pub fn in_memory(self) -> bool {
        matches!(
            self,
            Type::Str(_) | Type::Usym | Type::Inet | Type::Stack { user: true, .. } | Type::Buf(_)
        )
    }

    pub fn describe(self) -> String {
        match self {
            Type::Int { signed: true } => "int64".into(),
            Type::Int { signed: false } => "uint64".into(),
            Type::Str(n) => format!("string[{n}]"),
            Type::Ksym => "ksym".into(),
            Type::Usym => "usym".into(),
            Type::Inet => "inet".into(),
            Type::Stack { user: false, .. } => "kstack".into(),
            Type::Stack { user: true, .. } => "ustack".into(),
            Type::Buf(n) => format!("buffer[{n}]"),
            Type::Timestamp(_) => "timestamp".into(),
        }
    }
}

/// What a map holds, fixed by its first assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    Value(Type),
    Count,
    Sum,
    Min,
    Max,
    /// Stored as two entries per key: bucket 0 the count, bucket 1 the total.
    Avg,
    Stats,
    /// Power-of-two buckets; the bucket number ends the key.
    Hist,
    Lhist {
        min: i64,
        max: i64,
        step: i64,
    },
}

impl MapKind {
    /// Whether the key carries a trailing bucket number (u64).
    pub fn has_bucket(self) -> bool {
        matches!(
            self,
            MapKind::Avg | MapKind::Stats | MapKind::Hist | MapKind::Lhist { .. }
        )
    }

    pub fn value_size(self) -> usize {
        match self {
            MapKind::Value(t) => t.size(),
            _ => 8,
        }
    }

    /// The aggregation called `name` that takes no parameters (`count`, `hist`...; not `value`
    /// or `lhist`), the inverse of [`MapKind::name`] for those.
    pub fn without_parameters(name: &str) -> Option<MapKind> {
        use MapKind::*;
        [Count, Sum, Min, Max, Avg, Stats, Hist]
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            MapKind::Value(_) => "value",
            MapKind::Count => "count",
            MapKind::Sum => "sum",
            MapKind::Min => "min",
            MapKind::Max => "max",
            MapKind::Avg => "avg",
            MapKind::Stats => "stats",
            MapKind::Hist => "hist",
            MapKind::Lhist { .. } => "lhist",
        }
    }
}

/// The integer type names casts and `sizeof` accept, with their size and signedness.
pub fn int_type(name: &str) -> Option<(usize, bool)> {
    Some(match name {
        "int8" | "int8_t" | "char" => (1, true),
        "uint8" | "uint8_t" | "u8" | "unsigned char" => (1, false),
        "int16" | "int16_t" | "short" => (2, true),
        "uint16" | "uint16_t" | "u16" => (2, false),
        "int32" | "int32_t" | "int" => (4, true),
        "uint32" | "uint32_t" | "u32" | "unsigned int" => (4, false),
        "int64" | "int64_t" | "long" => (8, true),
        "uint64" | "uint64_t" | "u64" | "unsigned long" => (8, false),
        _ => return None,
    })
}

pub fn is_int_type_name(name: &str) -> bool {
    int_type(name).is_some()
}

/// The compiler's load type for an integer of `size` bytes.
pub fn load_type(size: usize, signed: bool) -> &'static str {
    match (size, signed) {
        (1, false) => "u8",
        (1, true) => "i8",
        (2, false) => "u16",
        (2, true) => "i16",
        (4, false) => "u32",
        (4, true) => "i32",
        (_, false) => "u64",
        (_, true) => "i64",
    }
}
