//! Decoding `.BTF` bytes (little-endian) into a [`Btf`], checking every offset and reference so
//! that later lookups cannot go out of bounds.

use super::strings::StringTable;
use super::types::*;
use super::{Btf, BtfError, BTF_MAGIC};

/// Reads little-endian `u32`s from a byte slice; every read is bounds-checked.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, pos: 0 }
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let b = self.bytes.get(self.pos..self.pos.checked_add(4)?)?;
        self.pos += 4;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n)?;
        (end <= self.bytes.len()).then(|| self.pos = end)
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

/// The header fields that locate the type and string sections.
pub(crate) struct Header {
    hdr_len: usize,
    type_off: usize,
    type_len: usize,
    str_off: usize,
    str_len: usize,
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Btf, BtfError> {
    let (types_range, str_range) = sections(bytes)?;
    let types_bytes = &bytes[types_range];
    let str_bytes = &bytes[str_range];
    check_strings(str_bytes)?;
    let strings = decode_strings(str_bytes);
    let types = decode_types(types_bytes)?;
    let btf = Btf::from_parts(types, strings);
    validate(&btf)?;
    Ok(btf)
}

pub(crate) fn string_section(bytes: &[u8]) -> Option<&[u8]> {
    let header = decode_header(bytes).ok()?;
    slice(&bytes[header.hdr_len..], header.str_off, header.str_len).ok()
}

/// Where the type and string sections are in `bytes`, checked to lie inside them.
pub(crate) fn sections(
    bytes: &[u8],
) -> Result<(std::ops::Range<usize>, std::ops::Range<usize>), BtfError> {
    let header = decode_header(bytes)?;
    let data = &bytes[header.hdr_len..];
    let range = |off: usize, len: usize| {
        slice(data, off, len)?;
        Ok::<_, BtfError>(header.hdr_len + off..header.hdr_len + off + len)
    };
    Ok((
        range(header.type_off, header.type_len)?,
        range(header.str_off, header.str_len)?,
    ))
}

fn decode_header(bytes: &[u8]) -> Result<Header, BtfError> {
    if bytes.len() < 24 {
        return Err(BtfError::Truncated("header"));
    }
    let magic = u16::from_le_bytes([bytes[0], bytes[1]]);
    if magic == BTF_MAGIC.swap_bytes() {
        return Err(BtfError::BigEndian);
    }
    if magic != BTF_MAGIC {
        return Err(BtfError::BadMagic(magic));
    }
    if bytes[2] != 1 {
        return Err(BtfError::UnsupportedVersion(bytes[2]));
    }
    let mut c = Cursor::new(&bytes[4..]);
    let mut next = || {
        c.u32()
            .map(|v| v as usize)
            .ok_or(BtfError::Truncated("header"))
    };
    let header = Header {
        hdr_len: next()?,
        type_off: next()?,
        type_len: next()?,
        str_off: next()?,
        str_len: next()?,
    };
    if header.hdr_len < 24 || header.hdr_len > bytes.len() {
        return Err(BtfError::BadHeader("header length"));
    }
    Ok(header)
}

fn slice(data: &[u8], off: usize, len: usize) -> Result<&[u8], BtfError> {
    off.checked_add(len)
        .and_then(|end| data.get(off..end))
        .ok_or(BtfError::BadHeader("section out of range"))
}

/// A string table must start and end with a NUL (or be empty).
pub(crate) fn check_strings(bytes: &[u8]) -> Result<(), BtfError> {
    match (bytes.first(), bytes.last()) {
        (None, _) | (Some(0), Some(0)) => Ok(()),
        _ => Err(BtfError::BadStrings),
    }
}

fn decode_strings(bytes: &[u8]) -> StringTable {
    if bytes.is_empty() {
        return StringTable::new();
    }
    StringTable::from_bytes(bytes.to_vec())
}

fn decode_types(bytes: &[u8]) -> Result<Vec<Type>, BtfError> {
    let mut c = Cursor::new(bytes);
    // A type takes at least 12 bytes: a good guess that avoids regrowing for vmlinux.
    let mut types = Vec::with_capacity(bytes.len() / 20);
    while !c.is_at_end() {
        let id = types.len() as u32 + 1;
        types.push(decode_type(&mut c, id)?);
    }
    Ok(types)
}

pub(crate) fn decode_type(c: &mut Cursor, id: u32) -> Result<Type, BtfError> {
    let truncated = BtfError::TruncatedType(id);
    let name_off = c.u32().ok_or(truncated.clone())?;
    let info = c.u32().ok_or(truncated.clone())?;
    let size_or_type = c.u32().ok_or(truncated.clone())?;
    let vlen = (info & 0xffff) as usize;
    let kind_num = (info >> 24) & 0x1f;
    let kflag = info >> 31 == 1;
    let kind = BtfKind::from_u32(kind_num).ok_or(BtfError::UnknownKind { id, kind: kind_num })?;
    let kind = decode_kind(c, kind, vlen, kflag, size_or_type).ok_or(truncated)?;
    Ok(Type { name_off, kind })
}

/// The encoded length in bytes of a type whose info word is `info`: the 12-byte `struct
/// btf_type` and the data its kind appends (what [`decode_kind`] reads). `None` for an unknown
/// kind.
pub(crate) fn encoded_len(info: u32) -> Option<usize> {
    let vlen = (info & 0xffff) as usize;
    let extra = match BtfKind::from_u32((info >> 24) & 0x1f)? {
        BtfKind::Int | BtfKind::Var | BtfKind::DeclTag => 4,
        BtfKind::Array => 12,
        BtfKind::Struct | BtfKind::Union | BtfKind::Enum64 | BtfKind::Datasec => 12 * vlen,
        BtfKind::Enum | BtfKind::FuncProto => 8 * vlen,
        BtfKind::Ptr
        | BtfKind::Fwd
        | BtfKind::Typedef
        | BtfKind::Volatile
        | BtfKind::Const
        | BtfKind::Restrict
        | BtfKind::Func
        | BtfKind::Float
        | BtfKind::TypeTag => 0,
    };
    Some(12 + extra)
}

fn decode_kind(
    c: &mut Cursor,
    kind: BtfKind,
    vlen: usize,
    kflag: bool,
    size_or_type: u32,
) -> Option<Kind> {
    let st = size_or_type;
    Some(match kind {
        BtfKind::Int => {
            let v = c.u32()?;
            Kind::Int {
                size: st,
                encoding: ((v >> 24) & 0x0f) as u8,
                offset: ((v >> 16) & 0xff) as u8,
                bits: (v & 0xff) as u8,
            }
        }
        BtfKind::Ptr => Kind::Ptr { ty: st },
        BtfKind::Array => Kind::Array {
            elem: c.u32()?,
            index: c.u32()?,
            nelems: c.u32()?,
        },
        BtfKind::Struct => Kind::Struct {
            size: st,
            members: decode_members(c, vlen, kflag)?,
            bitfield_encoding: kflag,
        },
        BtfKind::Union => Kind::Union {
            size: st,
            members: decode_members(c, vlen, kflag)?,
            bitfield_encoding: kflag,
        },
        BtfKind::Enum => Kind::Enum {
            size: st,
            signed: kflag,
            values: decode_enum32(c, vlen, kflag)?,
        },
        BtfKind::Enum64 => Kind::Enum64 {
            size: st,
            signed: kflag,
            values: decode_enum64(c, vlen)?,
        },
        BtfKind::Fwd => Kind::Fwd { union: kflag },
        BtfKind::Typedef => Kind::Typedef { ty: st },
        BtfKind::Volatile => Kind::Volatile { ty: st },
        BtfKind::Const => Kind::Const { ty: st },
        BtfKind::Restrict => Kind::Restrict { ty: st },
        BtfKind::Func => Kind::Func {
            proto: st,
            linkage: vlen as u32,
        },
        BtfKind::FuncProto => Kind::FuncProto {
            ret: st,
            params: decode_params(c, vlen)?,
        },
        BtfKind::Var => Kind::Var {
            ty: st,
            linkage: c.u32()?,
        },
        BtfKind::Datasec => Kind::Datasec {
            size: st,
            vars: decode_secinfos(c, vlen)?,
        },
        BtfKind::Float => Kind::Float { size: st },
        BtfKind::DeclTag => Kind::DeclTag {
            ty: st,
            component_idx: c.u32()? as i32,
            attribute: kflag,
        },
        BtfKind::TypeTag => Kind::TypeTag {
            ty: st,
            attribute: kflag,
        },
    })
}

fn decode_members(c: &mut Cursor, vlen: usize, kflag: bool) -> Option<Vec<Member>> {
    let mut members = Vec::with_capacity(vlen);
    for _ in 0..vlen {
        let name_off = c.u32()?;
        let ty = c.u32()?;
        let offset = c.u32()?;
        let (bit_offset, bitfield_size) = if kflag {
            (offset & 0x00ff_ffff, offset >> 24)
        } else {
            (offset, 0)
        };
        members.push(Member {
            name_off,
            ty,
            bit_offset,
            bitfield_size,
        });
    }
    Some(members)
}

fn decode_enum32(c: &mut Cursor, vlen: usize, signed: bool) -> Option<Vec<EnumValue>> {
    let mut values = Vec::with_capacity(vlen);
    for _ in 0..vlen {
        let name_off = c.u32()?;
        let raw = c.u32()?;
        let value = if signed {
            raw as i32 as i64 as u64
        } else {
            raw as u64
        };
        values.push(EnumValue { name_off, value });
    }
    Some(values)
}

fn decode_enum64(c: &mut Cursor, vlen: usize) -> Option<Vec<EnumValue>> {
    let mut values = Vec::with_capacity(vlen);
    for _ in 0..vlen {
        let name_off = c.u32()?;
        let lo = c.u32()? as u64;
        let hi = c.u32()? as u64;
        values.push(EnumValue {
            name_off,
            value: hi << 32 | lo,
        });
    }
    Some(values)
}

fn decode_params(c: &mut Cursor, vlen: usize) -> Option<Vec<Param>> {
    let mut params = Vec::with_capacity(vlen);
    for _ in 0..vlen {
        params.push(Param {
            name_off: c.u32()?,
            ty: c.u32()?,
        });
    }
    Some(params)
}

fn decode_secinfos(c: &mut Cursor, vlen: usize) -> Option<Vec<VarSecInfo>> {
    let mut vars = Vec::with_capacity(vlen);
    for _ in 0..vlen {
        vars.push(VarSecInfo {
            ty: c.u32()?,
            offset: c.u32()?,
            size: c.u32()?,
        });
    }
    Some(vars)
}

/// Checks that every name offset is inside the string table and every type reference names an
/// existing type, so that lookups never index out of range.
fn validate(btf: &Btf) -> Result<(), BtfError> {
    let count = btf.type_count();
    let strings = btf.strings();
    for (id, ty) in btf.iter() {
        let bad_name = |off: u32| !strings.is_valid_offset(off);
        if bad_name(ty.name_off) || name_offsets(&ty.kind).any(bad_name) {
            return Err(BtfError::BadStringOffset { id });
        }
        if let Some(&r) = ty.kind.type_refs().iter().find(|&&r| r >= count) {
            return Err(BtfError::BadTypeRef { id, target: r });
        }
    }
    Ok(())
}

fn name_offsets(kind: &Kind) -> Box<dyn Iterator<Item = u32> + '_> {
    match kind {
        Kind::Struct { members, .. } | Kind::Union { members, .. } => {
            Box::new(members.iter().map(|m| m.name_off))
        }
        Kind::Enum { values, .. } | Kind::Enum64 { values, .. } => {
            Box::new(values.iter().map(|v| v.name_off))
        }
        Kind::FuncProto { params, .. } => Box::new(params.iter().map(|p| p.name_off)),
        _ => Box::new(std::iter::empty()),
    }
}
