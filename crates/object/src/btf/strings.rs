//! The BTF string table: NUL-terminated names addressed by byte offset, with deduplication when
//! strings are added.

use std::collections::HashMap;

/// A BTF string table. Offset 0 always holds the empty string.
///
/// Decoding keeps the bytes as they are; the deduplication index is built only when the first
/// string is added, so decoding a large table (vmlinux) costs one copy.
#[derive(Clone, Debug)]
pub struct StringTable {
    bytes: Vec<u8>,
    index: Option<HashMap<Box<[u8]>, u32>>,
}

impl Default for StringTable {
    fn default() -> Self {
        StringTable::new()
    }
}

impl PartialEq for StringTable {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for StringTable {}

impl StringTable {
    /// A table holding only the empty string.
    pub fn new() -> StringTable {
        StringTable {
            bytes: vec![0],
            index: None,
        }
    }

    /// Wraps decoded bytes. The caller has checked that they start and end with a NUL.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> StringTable {
        StringTable { bytes, index: None }
    }

    /// The encoded table.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Size in bytes.
    pub fn len(&self) -> u32 {
        self.bytes.len() as u32
    }

    /// True when only the empty string is present.
    pub fn is_empty(&self) -> bool {
        self.bytes.len() <= 1
    }

    /// The string starting at `offset`, up to its NUL; `None` for an offset out of range or
    /// bytes that are not UTF-8.
    pub fn get(&self, offset: u32) -> Option<&str> {
        std::str::from_utf8(self.get_bytes(offset)?).ok()
    }

    /// The raw bytes of the string at `offset` (without the NUL).
    pub fn get_bytes(&self, offset: u32) -> Option<&[u8]> {
        let rest = self.bytes.get(offset as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..end])
    }

    /// True when `offset` points into the table.
    pub fn is_valid_offset(&self, offset: u32) -> bool {
        (offset as usize) < self.bytes.len()
    }

    /// Adds `s` (or finds an identical string already added or decoded) and returns its offset.
    pub fn add(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let index = self.index.get_or_insert_with(|| build_index(&self.bytes));
        if let Some(&off) = index.get(s.as_bytes()) {
            return off;
        }
        let off = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        index.insert(s.as_bytes().into(), off);
        off
    }
}

/// Maps every string that starts right after a NUL to its offset (first occurrence wins).
fn build_index(bytes: &[u8]) -> HashMap<Box<[u8]>, u32> {
    let mut index = HashMap::new();
    let mut start = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if b == 0 {
            index.entry(bytes[start..i].into()).or_insert(start as u32);
            start = i + 1;
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_deduplicates() {
        let mut t = StringTable::new();
        let a = t.add("map");
        let b = t.add("key");
        assert_eq!(t.add("map"), a);
        assert_eq!(t.get(a), Some("map"));
        assert_eq!(t.get(b), Some("key"));
        assert_eq!(t.add(""), 0);
        assert_eq!(t.as_bytes(), b"\0map\0key\0");
    }

    #[test]
    fn decoded_table_is_indexed_on_first_add() {
        let mut t = StringTable::from_bytes(b"\0int\0char\0".to_vec());
        assert_eq!(t.add("char"), 5);
        assert_eq!(t.add("long"), 10);
        assert_eq!(t.get(11), Some("ong"));
        assert_eq!(t.get(100), None);
    }
}
