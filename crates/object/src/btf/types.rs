//! The BTF type model: one [`Type`] per type id, its [`Kind`] carrying the kind's own data.

/// The kind number of a BTF type (`BTF_KIND_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum BtfKind {
    #[doc(alias = "BTF_KIND_INT")]
    Int = 1,
    #[doc(alias = "BTF_KIND_PTR")]
    Ptr = 2,
    #[doc(alias = "BTF_KIND_ARRAY")]
    Array = 3,
    #[doc(alias = "BTF_KIND_STRUCT")]
    Struct = 4,
    #[doc(alias = "BTF_KIND_UNION")]
    Union = 5,
    #[doc(alias = "BTF_KIND_ENUM")]
    Enum = 6,
    #[doc(alias = "BTF_KIND_FWD")]
    Fwd = 7,
    #[doc(alias = "BTF_KIND_TYPEDEF")]
    Typedef = 8,
    #[doc(alias = "BTF_KIND_VOLATILE")]
    Volatile = 9,
    #[doc(alias = "BTF_KIND_CONST")]
    Const = 10,
    #[doc(alias = "BTF_KIND_RESTRICT")]
    Restrict = 11,
    #[doc(alias = "BTF_KIND_FUNC")]
    Func = 12,
    #[doc(alias = "BTF_KIND_FUNC_PROTO")]
    FuncProto = 13,
    #[doc(alias = "BTF_KIND_VAR")]
    Var = 14,
    #[doc(alias = "BTF_KIND_DATASEC")]
    Datasec = 15,
    #[doc(alias = "BTF_KIND_FLOAT")]
    Float = 16,
    #[doc(alias = "BTF_KIND_DECL_TAG")]
    DeclTag = 17,
    #[doc(alias = "BTF_KIND_TYPE_TAG")]
    TypeTag = 18,
    #[doc(alias = "BTF_KIND_ENUM64")]
    Enum64 = 19,
}

impl BtfKind {
    /// The kind with number `n`, if it is one this crate knows.
    pub fn from_u32(n: u32) -> Option<BtfKind> {
        use BtfKind::*;
        const ALL: [BtfKind; 19] = [
            Int, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Volatile, Const, Restrict, Func,
            FuncProto, Var, Datasec, Float, DeclTag, TypeTag, Enum64,
        ];
        ALL.get((n as usize).wrapping_sub(1)).copied()
    }
}

/// `BTF_INT_SIGNED`.
pub const INT_SIGNED: u8 = 1;
/// `BTF_INT_CHAR`.
pub const INT_CHAR: u8 = 2;
/// `BTF_INT_BOOL`.
pub const INT_BOOL: u8 = 4;

/// `BTF_FUNC_STATIC`, `BTF_FUNC_GLOBAL`, `BTF_FUNC_EXTERN`.
pub mod func_linkage {
    pub const STATIC: u32 = 0;
    pub const GLOBAL: u32 = 1;
    pub const EXTERN: u32 = 2;
}

/// `BTF_VAR_STATIC`, `BTF_VAR_GLOBAL_ALLOCATED`, `BTF_VAR_GLOBAL_EXTERN`.
pub mod var_linkage {
    pub const STATIC: u32 = 0;
    pub const GLOBAL_ALLOCATED: u32 = 1;
    pub const GLOBAL_EXTERN: u32 = 2;
}

/// One BTF type: its name (an offset into the string table, 0 for anonymous) and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Type {
    pub name_off: u32,
    pub kind: Kind,
}

/// A struct or union member. `bit_offset` is from the start of the struct; `bitfield_size` is 0
/// for a member that is not a bitfield.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub name_off: u32,
    pub ty: u32,
    pub bit_offset: u32,
    pub bitfield_size: u32,
}

/// An enumerator. For 32-bit `ENUM`s the value is the sign- or zero-extended 32-bit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumValue {
    pub name_off: u32,
    pub value: u64,
}

/// A function prototype parameter (`name_off` 0 and `ty` 0 together mean `...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub name_off: u32,
    pub ty: u32,
}

/// A variable's place in a data section (`struct btf_var_secinfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarSecInfo {
    pub ty: u32,
    pub offset: u32,
    pub size: u32,
}

/// What a BTF type is, with the data its kind carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `encoding` is a combination of [`INT_SIGNED`], [`INT_CHAR`], [`INT_BOOL`].
    Int {
        size: u32,
        encoding: u8,
        offset: u8,
        bits: u8,
    },
    Ptr {
        ty: u32,
    },
    Array {
        elem: u32,
        index: u32,
        nelems: u32,
    },
    /// `bitfield_encoding` is the kind flag: member offsets carry a bitfield size.
    Struct {
        size: u32,
        members: Vec<Member>,
        bitfield_encoding: bool,
    },
    Union {
        size: u32,
        members: Vec<Member>,
        bitfield_encoding: bool,
    },
    Enum {
        size: u32,
        signed: bool,
        values: Vec<EnumValue>,
    },
    Enum64 {
        size: u32,
        signed: bool,
        values: Vec<EnumValue>,
    },
    Fwd {
        union: bool,
    },
    Typedef {
        ty: u32,
    },
    Volatile {
        ty: u32,
    },
    Const {
        ty: u32,
    },
    Restrict {
        ty: u32,
    },
    /// `linkage` is one of [`func_linkage`].
    Func {
        proto: u32,
        linkage: u32,
    },
    FuncProto {
        ret: u32,
        params: Vec<Param>,
    },
    /// `linkage` is one of [`var_linkage`].
    Var {
        ty: u32,
        linkage: u32,
    },
    Datasec {
        size: u32,
        vars: Vec<VarSecInfo>,
    },
    Float {
        size: u32,
    },
    /// `component_idx` is -1 for the type itself, else a member or parameter index.
    /// `attribute` is the kind flag (the tag is an `__attribute__` rather than a BTF tag).
    DeclTag {
        ty: u32,
        component_idx: i32,
        attribute: bool,
    },
    TypeTag {
        ty: u32,
        attribute: bool,
    },
}

impl Kind {
    /// A whole-byte integer of `size` bytes, as C's integer types are: no bit offset, every bit
    /// used. `encoding` as in [`Kind::Int`].
    pub fn int(size: u32, encoding: u8) -> Kind {
        Kind::Int {
            size,
            encoding,
            offset: 0,
            bits: (size * 8) as u8,
        }
    }

    /// The kind number.
    pub fn btf_kind(&self) -> BtfKind {
        match self {
            Kind::Int { .. } => BtfKind::Int,
            Kind::Ptr { .. } => BtfKind::Ptr,
            Kind::Array { .. } => BtfKind::Array,
            Kind::Struct { .. } => BtfKind::Struct,
            Kind::Union { .. } => BtfKind::Union,
            Kind::Enum { .. } => BtfKind::Enum,
            Kind::Enum64 { .. } => BtfKind::Enum64,
            Kind::Fwd { .. } => BtfKind::Fwd,
            Kind::Typedef { .. } => BtfKind::Typedef,
            Kind::Volatile { .. } => BtfKind::Volatile,
            Kind::Const { .. } => BtfKind::Const,
            Kind::Restrict { .. } => BtfKind::Restrict,
            Kind::Func { .. } => BtfKind::Func,
            Kind::FuncProto { .. } => BtfKind::FuncProto,
            Kind::Var { .. } => BtfKind::Var,
            Kind::Datasec { .. } => BtfKind::Datasec,
            Kind::Float { .. } => BtfKind::Float,
            Kind::DeclTag { .. } => BtfKind::DeclTag,
            Kind::TypeTag { .. } => BtfKind::TypeTag,
        }
    }

    /// The single type this one refers to, for kinds that refer to exactly one
    /// (pointers, modifiers, typedefs, tags, functions, variables, array elements).
    pub fn referenced_type(&self) -> Option<u32> {
        match *self {
            Kind::Ptr { ty }
            | Kind::Typedef { ty }
            | Kind::Volatile { ty }
            | Kind::Const { ty }
            | Kind::Restrict { ty }
            | Kind::Var { ty, .. }
            | Kind::DeclTag { ty, .. }
            | Kind::TypeTag { ty, .. } => Some(ty),
            Kind::Func { proto, .. } => Some(proto),
            Kind::Array { elem, .. } => Some(elem),
            _ => None,
        }
    }

    /// Every type id this type refers to, in encoding order.
    pub fn type_refs(&self) -> Vec<u32> {
        match self {
            Kind::Array { elem, index, .. } => vec![*elem, *index],
            Kind::Struct { members, .. } | Kind::Union { members, .. } => {
                members.iter().map(|m| m.ty).collect()
            }
            Kind::FuncProto { ret, params } => std::iter::once(*ret)
                .chain(params.iter().map(|p| p.ty))
                .collect(),
            Kind::Datasec { vars, .. } => vars.iter().map(|v| v.ty).collect(),
            other => other.referenced_type().into_iter().collect(),
        }
    }

    /// Mutable references to every type id in this type (for renumbering after edits).
    pub fn type_refs_mut(&mut self) -> Vec<&mut u32> {
        match self {
            Kind::Ptr { ty }
            | Kind::Typedef { ty }
            | Kind::Volatile { ty }
            | Kind::Const { ty }
            | Kind::Restrict { ty }
            | Kind::Var { ty, .. }
            | Kind::DeclTag { ty, .. }
            | Kind::TypeTag { ty, .. } => vec![ty],
            Kind::Func { proto, .. } => vec![proto],
            Kind::Array { elem, index, .. } => vec![elem, index],
            Kind::Struct { members, .. } | Kind::Union { members, .. } => {
                members.iter_mut().map(|m| &mut m.ty).collect()
            }
            Kind::FuncProto { ret, params } => std::iter::once(ret)
                .chain(params.iter_mut().map(|p| &mut p.ty))
                .collect(),
            Kind::Datasec { vars, .. } => vars.iter_mut().map(|v| &mut v.ty).collect(),
            Kind::Int { .. }
            | Kind::Enum { .. }
            | Kind::Enum64 { .. }
            | Kind::Fwd { .. }
            | Kind::Float { .. } => Vec::new(),
        }
    }

    /// Members of a struct or union; empty for other kinds.
    pub fn members(&self) -> &[Member] {
        match self {
            Kind::Struct { members, .. } | Kind::Union { members, .. } => members,
            _ => &[],
        }
    }

    /// True for `volatile`, `const`, `restrict` and type tags.
    pub fn is_modifier(&self) -> bool {
        matches!(
            self,
            Kind::Volatile { .. }
                | Kind::Const { .. }
                | Kind::Restrict { .. }
                | Kind::TypeTag { .. }
        )
    }

    /// True for struct and union.
    pub fn is_composite(&self) -> bool {
        matches!(self, Kind::Struct { .. } | Kind::Union { .. })
    }
}
