//! BTF: the type model ([`Btf`], [`Type`], [`Kind`]), its string table, encoding to and
//! decoding from `.BTF` bytes, lookups and size/offset resolution ([`BtfTypes`]); [`LazyBtf`],
//! which decodes a large BTF (the kernel's) one type at a time, as lookups reach them; and
//! `.BTF.ext` ([`ext::BtfExt`]).
//!
//! Type id 0 is `void` and has no entry; ids 1.. index the types in order. A decoded [`Btf`] has
//! been checked: every type reference and name offset is in range, so lookups never panic.

mod decode;
mod encode;
pub mod ext;
mod lazy;
mod resolve;
mod strings;
mod types;

pub use lazy::LazyBtf;
pub use resolve::BtfTypes;
pub use strings::StringTable;
pub use types::*;

/// `BTF_MAGIC` as it reads in little-endian.
pub const BTF_MAGIC: u16 = 0xeb9f;

/// Why BTF bytes could not be decoded or a type could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    #[error("BTF is truncated ({0})")]
    Truncated(&'static str),
    #[error("bad BTF magic {0:#06x}")]
    BadMagic(u16),
    #[error("big-endian BTF is not supported")]
    BigEndian,
    #[error("unsupported BTF version {0}")]
    UnsupportedVersion(u8),
    #[error("bad BTF header: {0}")]
    BadHeader(&'static str),
    #[error("BTF string table does not start and end with NUL")]
    BadStrings,
    #[error("BTF type {0} is truncated")]
    TruncatedType(u32),
    #[error("BTF type {id} has unknown kind {kind}")]
    UnknownKind { id: u32, kind: u32 },
    #[error("BTF type {id} refers to type {target}, which does not exist")]
    BadTypeRef { id: u32, target: u32 },
    #[error("BTF type {id} has a name offset outside the string table")]
    BadStringOffset { id: u32 },
    #[error("BTF type {0} does not exist")]
    NoSuchType(u32),
    #[error("BTF type {0} has no size (void, function or forward declaration)")]
    NoSize(u32),
    #[error("BTF type {0} is part of a reference cycle or nests too deeply")]
    TooDeep(u32),
    #[error("BTF type {0} is a {1:?}, not a struct or union")]
    NotComposite(u32, BtfKind),
    #[error(".BTF.ext is malformed: {0}")]
    BadExt(&'static str),
}

/// The string table of `.BTF` bytes, found from the header alone (the types are not decoded):
/// cheap when only line_info strings are wanted. `None` for bytes that are not valid BTF.
pub fn string_section(btf_bytes: &[u8]) -> Option<&[u8]> {
    decode::string_section(btf_bytes)
}

/// The string at `offset` of a string table from [`string_section`]; `""` when the offset is
/// out of range or the bytes are not UTF-8.
pub fn string_at(strings: &[u8], offset: u32) -> &str {
    let rest = strings.get(offset as usize..).unwrap_or_default();
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).unwrap_or("")
}

/// A set of BTF types and their string table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Btf {
    types: Vec<Type>,
    strings: StringTable,
}

impl Btf {
    /// An empty BTF (only `void`).
    pub fn new() -> Btf {
        Btf::default()
    }

    pub(crate) fn from_parts(types: Vec<Type>, strings: StringTable) -> Btf {
        Btf { types, strings }
    }

    /// Decodes little-endian `.BTF` bytes, checking every offset and type reference.
    pub fn from_bytes(bytes: &[u8]) -> Result<Btf, BtfError> {
        decode::decode(bytes)
    }

    /// Encodes as `.BTF` bytes: header, types, strings.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode::encode(self)
    }

    /// Number of type ids, counting `void` (so the largest id is `type_count() - 1`).
    pub fn type_count(&self) -> u32 {
        self.types.len() as u32 + 1
    }

    /// The type with id `id`; `None` for `void` (0) and ids out of range.
    pub fn type_by_id(&self, id: u32) -> Option<&Type> {
        self.types.get((id as usize).checked_sub(1)?)
    }

    /// The type with id `id`, for editing in place.
    pub fn type_by_id_mut(&mut self, id: u32) -> Option<&mut Type> {
        self.types.get_mut((id as usize).checked_sub(1)?)
    }

    /// The kind of the type `id`; `None` for void or an id out of range.
    pub fn kind(&self, id: u32) -> Option<&Kind> {
        self.type_by_id(id).map(|t| &t.kind)
    }

    /// Every type with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Type)> + '_ {
        self.types
            .iter()
            .enumerate()
            .map(|(i, t)| (i as u32 + 1, t))
    }

    /// Every type for editing in place, with its id.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut Type)> + '_ {
        self.types
            .iter_mut()
            .enumerate()
            .map(|(i, t)| (i as u32 + 1, t))
    }

    /// Appends a type and returns its id. References are not checked here.
    pub fn add_type(&mut self, ty: Type) -> u32 {
        self.types.push(ty);
        self.types.len() as u32
    }

    /// Appends a type named `name` (empty for anonymous) and returns its id.
    pub fn add(&mut self, name: &str, kind: Kind) -> u32 {
        let name_off = self.strings.add(name);
        self.add_type(Type { name_off, kind })
    }

    /// Adds a string to the string table (deduplicated) and returns its offset.
    pub fn add_string(&mut self, s: &str) -> u32 {
        self.strings.add(s)
    }

    /// The string table.
    pub fn strings(&self) -> &StringTable {
        &self.strings
    }

    /// The string at `offset`, or `""` if there is none there.
    pub fn str_at(&self, offset: u32) -> &str {
        self.strings.get(offset).unwrap_or("")
    }

    /// The name of type `id` (`""` for anonymous types, `void` and unknown ids).
    pub fn name(&self, id: u32) -> &str {
        self.type_by_id(id).map_or("", |t| self.str_at(t.name_off))
    }

    /// The first type named `name` of kind `kind`.
    pub fn find_by_name_kind(&self, name: &str, kind: BtfKind) -> Option<u32> {
        self.find_all_by_name_kind(name, kind).next()
    }

    /// Every type named `name` of kind `kind`, in id order.
    pub fn find_all_by_name_kind<'a>(
        &'a self,
        name: &'a str,
        kind: BtfKind,
    ) -> impl Iterator<Item = u32> + 'a {
        self.iter()
            .filter(move |(_, t)| {
                t.kind.btf_kind() == kind
                    && self.strings.get_bytes(t.name_off) == Some(name.as_bytes())
            })
            .map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests;
