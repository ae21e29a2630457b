//! Following type references: skipping modifiers and typedefs, sizes, members and their offsets.

use super::types::*;
use super::{Btf, BtfError};

/// Chains of modifiers, typedefs and arrays longer than this are treated as cycles.
const MAX_DEPTH: u32 = 64;

impl Btf {
    /// Follows `volatile`, `const`, `restrict` and type tags to the type they modify.
    pub fn skip_modifiers(&self, id: u32) -> u32 {
        self.skip_while(id, Kind::is_modifier)
    }

    /// Follows modifiers and typedefs to the underlying type.
    pub fn skip_mods_and_typedefs(&self, id: u32) -> u32 {
        self.skip_while(id, |k| k.is_modifier() || matches!(k, Kind::Typedef { .. }))
    }

    fn skip_while(&self, mut id: u32, skip: impl Fn(&Kind) -> bool) -> u32 {
        for _ in 0..MAX_DEPTH {
            match self.kind(id) {
                Some(k) if skip(k) => id = k.referenced_type().unwrap_or(0),
                _ => return id,
            }
        }
        id
    }

    /// The size in bytes of a value of type `id` (`btf__resolve_size`): follows typedefs,
    /// modifiers and variables, multiplies array lengths; pointers are 8 bytes.
    pub fn resolve_size(&self, id: u32) -> Result<u32, BtfError> {
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
    pub fn members(&self, id: u32) -> Result<&[Member], BtfError> {
        let id = self.skip_mods_and_typedefs(id);
        match self.kind(id) {
            Some(Kind::Struct { members, .. }) | Some(Kind::Union { members, .. }) => Ok(members),
            Some(k) => Err(BtfError::NotComposite(id, k.btf_kind())),
            None => Err(BtfError::NoSuchType(id)),
        }
    }

    /// The member of struct or union `id` named `name`, with its index.
    pub fn member_by_name(&self, id: u32, name: &str) -> Option<(usize, &Member)> {
        let members = self.members(id).ok()?;
        members
            .iter()
            .enumerate()
            .find(|(_, m)| self.strings().get_bytes(m.name_off) == Some(name.as_bytes()))
    }

    /// The name of a member.
    pub fn member_name(&self, member: &Member) -> &str {
        self.str_at(member.name_off)
    }

    /// True when type `id` (after modifiers and typedefs) is a signed integer or signed enum.
    pub fn is_signed(&self, id: u32) -> bool {
        match self.kind(self.skip_mods_and_typedefs(id)) {
            Some(Kind::Int { encoding, .. }) => encoding & INT_SIGNED != 0,
            Some(Kind::Enum { signed, .. }) | Some(Kind::Enum64 { signed, .. }) => *signed,
            _ => false,
        }
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
    pub fn is_bitfield(&self, btf: &Btf) -> bool {
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
    pub fn bit_size(&self, btf: &Btf) -> Result<u32, BtfError> {
        if self.bitfield_size != 0 {
            return Ok(self.bitfield_size);
        }
        match btf.kind(btf.skip_mods_and_typedefs(self.ty)) {
            Some(Kind::Int { bits, .. }) => Ok(*bits as u32),
            _ => btf.resolve_size(self.ty).map(|s| s * 8),
        }
    }
}
