//! BTF decoded on demand, for the kernel's own (`/sys/kernel/btf/vmlinux`: over 100,000 types, of
//! which a CO-RE load needs a few dozen). Opening it walks the type section once, recording where
//! each type starts; a type is decoded the first time it is asked for and kept. Names are looked
//! up by scanning that index, comparing the string only for types of the wanted kind.

use std::sync::OnceLock;

use super::decode::{check_strings, decode_type, encoded_len, sections, Cursor};
use super::resolve::BtfTypes;
use super::types::{BtfKind, Type};
use super::{string_at, BtfError};

/// `.BTF` bytes with an index of where each type starts; types are decoded when first used.
///
/// Unlike [`Btf::from_bytes`](super::Btf::from_bytes), type references and name offsets are not
/// all checked up front: a reference out of range reads as no type and a name out of range as
/// `""`, so nothing panics on bad input, it only fails to match.
pub struct LazyBtf {
    /// The `.BTF` bytes: read into memory, or a mapping of the kernel's file.
    bytes: Box<dyn AsRef<[u8]> + Send + Sync>,
    types: std::ops::Range<usize>,
    strings: std::ops::Range<usize>,
    /// Where type `id` starts in the type section, at `id - 1`.
    starts: Vec<u32>,
    /// Type `id` once decoded, at `id - 1` (`None`: it could not be decoded).
    decoded: Vec<OnceLock<Option<Box<Type>>>>,
}

impl std::fmt::Debug for LazyBtf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyBtf")
            .field("bytes", &self.bytes().len())
            .field("types", &self.starts.len())
            .finish_non_exhaustive()
    }
}

impl LazyBtf {
    /// Indexes little-endian `.BTF` bytes (a `Vec<u8>`, or any owner of bytes such as a file
    /// mapping): checks the header and the string table's ends, and walks the type section once
    /// (every type's kind known, every type inside the section).
    pub fn from_bytes(
        bytes: impl AsRef<[u8]> + Send + Sync + 'static,
    ) -> Result<LazyBtf, BtfError> {
        let bytes: Box<dyn AsRef<[u8]> + Send + Sync> = Box::new(bytes);
        let (types, strings) = sections((*bytes).as_ref())?;
        check_strings(&(*bytes).as_ref()[strings.clone()])?;
        let starts = index_types(&(*bytes).as_ref()[types.clone()])?;
        let decoded = std::iter::repeat_with(OnceLock::new)
            .take(starts.len())
            .collect();
        Ok(LazyBtf {
            bytes,
            types,
            strings,
            starts,
            decoded,
        })
    }

    fn bytes(&self) -> &[u8] {
        (*self.bytes).as_ref()
    }

    /// Number of type ids, counting `void` (so the largest id is `type_count() - 1`).
    pub fn type_count(&self) -> u32 {
        self.starts.len() as u32 + 1
    }

    /// Every type named `name` of kind `kind`, in id order, found without decoding any type.
    pub fn find_all_by_name_kind<'a>(
        &'a self,
        name: &'a str,
        kind: BtfKind,
    ) -> impl Iterator<Item = u32> + 'a {
        let types = &self.bytes()[self.types.clone()];
        let strings = &self.bytes()[self.strings.clone()];
        self.starts
            .iter()
            .enumerate()
            .filter(move |&(_, &start)| {
                let start = start as usize;
                let info = read_u32(types, start + 4).unwrap_or(0);
                (info >> 24) & 0x1f == kind as u32
                    && read_u32(types, start)
                        .is_some_and(|name_off| names_equal(strings, name_off, name))
            })
            .map(|(i, _)| i as u32 + 1)
    }

    /// The first type named `name` of kind `kind`.
    pub fn find_by_name_kind(&self, name: &str, kind: BtfKind) -> Option<u32> {
        self.find_all_by_name_kind(name, kind).next()
    }

    fn decode(&self, id: u32) -> Option<Box<Type>> {
        let start = *self.starts.get((id as usize).checked_sub(1)?)? as usize;
        let types = &self.bytes()[self.types.clone()];
        let mut cursor = Cursor::new(types.get(start..)?);
        decode_type(&mut cursor, id).ok().map(Box::new)
    }
}

impl BtfTypes for LazyBtf {
    fn type_by_id(&self, id: u32) -> Option<&Type> {
        let cell = self.decoded.get((id as usize).checked_sub(1)?)?;
        cell.get_or_init(|| self.decode(id)).as_deref()
    }

    fn str_at(&self, offset: u32) -> &str {
        string_at(&self.bytes()[self.strings.clone()], offset)
    }

    fn ids_named(&self, name: &str, kind: BtfKind) -> Vec<u32> {
        self.find_all_by_name_kind(name, kind).collect()
    }

    fn names_of_kind(&self, kind: BtfKind) -> Vec<&str> {
        let types = &self.bytes()[self.types.clone()];
        let strings = &self.bytes()[self.strings.clone()];
        let of_kind = self.starts.iter().filter_map(|&start| {
            let info = read_u32(types, start as usize + 4)?;
            ((info >> 24) & 0x1f == kind as u32).then(|| read_u32(types, start as usize))?
        });
        let names = of_kind.map(|name_off| string_at(strings, name_off));
        names.filter(|n| !n.is_empty()).collect()
    }
}

/// Where each type starts in the type section, checking that its kind is known and that it ends
/// inside the section.
fn index_types(types: &[u8]) -> Result<Vec<u32>, BtfError> {
    // A type takes at least 12 bytes, most kernel types 12 to 24.
    let mut starts = Vec::with_capacity(types.len() / 16);
    let mut pos = 0;
    while pos < types.len() {
        let id = starts.len() as u32 + 1;
        let info = read_u32(types, pos + 4).ok_or(BtfError::TruncatedType(id))?;
        let len = encoded_len(info).ok_or(BtfError::UnknownKind {
            id,
            kind: (info >> 24) & 0x1f,
        })?;
        if pos + len > types.len() {
            return Err(BtfError::TruncatedType(id));
        }
        starts.push(pos as u32);
        pos += len;
    }
    Ok(starts)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// True when the NUL-terminated string at `offset` is `name`.
fn names_equal(strings: &[u8], offset: u32, name: &str) -> bool {
    let Some(rest) = strings.get(offset as usize..) else {
        return false;
    };
    rest.len() > name.len() && rest.starts_with(name.as_bytes()) && rest[name.len()] == 0
}
