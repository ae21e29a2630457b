//! Following type references: skipping modifiers and typedefs, sizes, members and their offsets.
//! Written once, over [`BtfTypes`], for a decoded [`Btf`] and for a [`LazyBtf`](super::LazyBtf)
//! alike.

use super::types::*;
use super::{Btf, BtfError};

/// Chains of modifiers, typedefs and arrays longer than this are treated as cycles.
const MAX_DEPTH: u32 = 64;

/// Read access to a set of BTF types: what type resolution and CO-RE need. A type id out of range
/// reads as no type, so following a bad reference never panics.
pub trait BtfTypes {
    /// The type with id `id`; `None` for `void` (0) and ids out of range.
    fn type_by_id(&self, id: u32) -> Option<&Type>;

    /// The string at `offset`, or `""` if there is none there.
    fn str_at(&self, offset: u32) -> &str;

    /// Every type named `name` of kind `kind`, in id order.
    fn ids_named(&self, name: &str, kind: BtfKind) -> Vec<u32>;

    /// The names of the named types of kind `kind` (for "did you mean" suggestions).
    fn names_of_kind(&self, kind: BtfKind) -> Vec<&str>;

    /// The kind of the type `id`; `None` for void or an id out of range.
    fn kind(&self, id: u32) -> Option<&Kind> {
        self.type_by_id(id).map(|t| &t.kind)
    }

    /// The name of type `id` (`""` for anonymous types, `void` and unknown ids).
    fn name(&self, id: u32) -> &str {
        self.type_by_id(id).map_or("", |t| self.str_at(t.name_off))
    }

    /// Follows `volatile`, `const`, `restrict` and type tags to the type they modify.
    fn skip_modifiers(&self, id: u32) -> u32 {
        skip_while(self, id, Kind::is_modifier)
    }

    /// Follows modifiers and typedefs to the underlying type.
    fn skip_mods_and_typedefs(&self, id: u32) -> u32 {
        skip_while(self, id, |k| {
            k.is_modifier() || matches!(k, Kind::Typedef { .. })
        })
    }

    /// The size in bytes of a value of type `id` (`btf__resolve_size`): follows typedefs,
    /// modifiers and variables, multiplies array lengths; pointers are 8 bytes.
    fn resolve_size(&self, id: u32) -> Result<u32, BtfError> {
        let mut id = id;
        let mut multiplier: u64 = 1;
        for _ in 0..MAX_DEPTH {
            let kind = self.kind(id).ok_or(if id == 0 {
                BtfError::NoSize(0)
            } else {
                BtfError::NoSuchType(id)
            })?;
            let size = match kind {
                Kind::Int { size, .. }
                | Kind::Struct { size, .. }
                | Kind::Union { size, .. }
                | Kind::Enum { size, .. }
                | Kind::Enum64 { size, .. }
                | Kind::Datasec { size, .. }
                | Kind::Float { size } => *size,
                Kind::Ptr { .. } => 8,
                Kind::Array { elem, nelems, .. } => {
                    multiplier = multiplier.saturating_mul(*nelems as u64);
                    id = *elem;
                    continue;
                }
                Kind::Typedef { ty }
                | Kind::Volatile { ty }
                | Kind::Const { ty }
                | Kind::Restrict { ty }
                | Kind::TypeTag { ty, .. }
                | Kind::Var { ty, .. }
                | Kind::DeclTag { ty, .. } => {
                    id = *ty;
                    continue;
                }
                Kind::Fwd { .. } | Kind::Func { .. } | Kind::FuncProto { .. } => {
                    return Err(BtfError::NoSize(id))
                }
            };
            let total = multiplier.saturating_mul(size as u64);
            return u32::try_from(total).map_err(|_| BtfError::TooDeep(id));
        }
        Err(BtfError::TooDeep(id))
    }

    /// The members of struct or union `id` (after skipping modifiers and typedefs).
    fn members(&self, id: u32) -> Result<&[Member], BtfError> {
        let id = self.skip_mods_and_typedefs(id);
        match self.kind(id) {
            Some(Kind::Struct { members, .. }) | Some(Kind::Union { members, .. }) => Ok(members),
            Some(k) => Err(BtfError::NotComposite(id, k.btf_kind())),
            None => Err(BtfError::NoSuchType(id)),
        }
    }

    /// The member of struct or union `id` named `name`, with its index.
    fn member_by_name(&self, id: u32, name: &str) -> Option<(usize, &Member)> {
        let members = self.members(id).ok()?;
        members
            .iter()
            .enumerate()
            .find(|(_, m)| self.str_at(m.name_off) == name)
    }

    /// The name of a member.
    fn member_name(&self, member: &Member) -> &str {
        self.str_at(member.name_off)
    }

    /// True when type `id` (after modifiers and typedefs) is a signed integer or signed enum.
    fn is_signed(&self, id: u32) -> bool {
        match self.kind(self.skip_mods_and_typedefs(id)) {
            Some(Kind::Int { encoding, .. }) => encoding & INT_SIGNED != 0,
            Some(Kind::Enum { signed, .. }) | Some(Kind::Enum64 { signed, .. }) => *signed,
            _ => false,
        }
    }
}

fn skip_while<B: BtfTypes + ?Sized>(btf: &B, mut id: u32, skip: impl Fn(&Kind) -> bool) -> u32 {
    for _ in 0..MAX_DEPTH {
        match btf.kind(id) {
            Some(k) if skip(k) => id = k.referenced_type().unwrap_or(0),
            _ => return id,
        }
    }
    id
}

impl BtfTypes for Btf {
    fn type_by_id(&self, id: u32) -> Option<&Type> {
        Btf::type_by_id(self, id)
    }

    fn str_at(&self, offset: u32) -> &str {
        Btf::str_at(self, offset)
    }

    fn ids_named(&self, name: &str, kind: BtfKind) -> Vec<u32> {
        self.find_all_by_name_kind(name, kind).collect()
    }

    fn names_of_kind(&self, kind: BtfKind) -> Vec<&str> {
        let of_kind = self.iter().filter(|(_, t)| t.kind.btf_kind() == kind);
        let names = of_kind.map(|(_, t)| Btf::str_at(self, t.name_off));
        names.filter(|n| !n.is_empty()).collect()
    }
}

/// The resolutions of [`BtfTypes`] as methods of [`Btf`] itself, so callers need no import.
impl Btf {
    /// [`BtfTypes::skip_modifiers`].
    pub fn skip_modifiers(&self, id: u32) -> u32 {
        BtfTypes::skip_modifiers(self, id)
    }

    /// [`BtfTypes::skip_mods_and_typedefs`].
    pub fn skip_mods_and_typedefs(&self, id: u32) -> u32 {
        BtfTypes::skip_mods_and_typedefs(self, id)
    }

    /// [`BtfTypes::resolve_size`].
    pub fn resolve_size(&self, id: u32) -> Result<u32, BtfError> {
        BtfTypes::resolve_size(self, id)
    }

    /// [`BtfTypes::members`].
    pub fn members(&self, id: u32) -> Result<&[Member], BtfError> {
        BtfTypes::members(self, id)
    }

    /// [`BtfTypes::member_by_name`].
    pub fn member_by_name(&self, id: u32, name: &str) -> Option<(usize, &Member)> {
        BtfTypes::member_by_name(self, id, name)
    }

    /// [`BtfTypes::member_name`].
    pub fn member_name(&self, member: &Member) -> &str {
        BtfTypes::member_name(self, member)
    }

    /// [`BtfTypes::is_signed`].
    pub fn is_signed(&self, id: u32) -> bool {
        BtfTypes::is_signed(self, id)
    }
}

impl Member {
    /// The member's byte offset, when it is byte-aligned and not a bitfield.
    pub fn byte_offset(&self) -> Option<u32> {
        (self.bitfield_size == 0 && self.bit_offset.is_multiple_of(8))
            .then_some(self.bit_offset / 8)
    }

    /// True when the member is a bitfield (explicitly, or an integer narrower than its type,
    /// which the non-kind-flag encoding expresses through the int's `bits`).
    pub fn is_bitfield<B: BtfTypes + ?Sized>(&self, btf: &B) -> bool {
        if self.bitfield_size != 0 {
            return true;
        }
        match btf.kind(btf.skip_mods_and_typedefs(self.ty)) {
            Some(Kind::Int {
                size, bits, offset, ..
            }) => *offset != 0 || (*bits as u32) < size * 8,
            _ => false,
        }
    }

    /// The member's width in bits: its bitfield size, or the bit width of its type.
    pub fn bit_size<B: BtfTypes + ?Sized>(&self, btf: &B) -> Result<u32, BtfError> {
        if self.bitfield_size != 0 {
            return Ok(self.bitfield_size);
        }
        match btf.kind(btf.skip_mods_and_typedefs(self.ty)) {
            Some(Kind::Int { bits, .. }) => Ok(*bits as u32),
            _ => btf.resolve_size(self.ty).map(|s| s * 8),
        }
    }
}
