//! Encoding a [`Btf`] into `.BTF` bytes (little-endian): a 24-byte header, the types, then the
//! string table.

use super::types::*;
use super::{Btf, BTF_MAGIC};

const HEADER_LEN: u32 = 24;

pub(crate) fn encode(btf: &Btf) -> Vec<u8> {
    let mut types = Vec::new();
    for (_, ty) in btf.iter() {
        encode_type(&mut types, ty);
    }
    let strings = btf.strings().as_bytes();
    let mut out = Vec::with_capacity(HEADER_LEN as usize + types.len() + strings.len());
    out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
    out.push(1); // version
    out.push(0); // flags
    for v in [
        HEADER_LEN,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        push(&mut out, v);
    }
    out.extend_from_slice(&types);
    out.extend_from_slice(strings);
    out
}

fn push(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn info(kind: BtfKind, vlen: usize, kflag: bool) -> u32 {
    (kflag as u32) << 31 | (kind as u32) << 24 | (vlen as u32 & 0xffff)
}

fn encode_type(out: &mut Vec<u8>, ty: &Type) {
    push(out, ty.name_off);
    let kind = ty.kind.btf_kind();
    let mut head = |vlen: usize, kflag: bool, size_or_type: u32| {
        push(out, info(kind, vlen, kflag));
        push(out, size_or_type);
    };
    match &ty.kind {
        Kind::Int {
            size,
            encoding,
            offset,
            bits,
        } => {
            head(0, false, *size);
            push(
                out,
                (*encoding as u32) << 24 | (*offset as u32) << 16 | *bits as u32,
            );
        }
        Kind::Ptr { ty }
        | Kind::Typedef { ty }
        | Kind::Volatile { ty }
        | Kind::Const { ty }
        | Kind::Restrict { ty } => head(0, false, *ty),
        Kind::TypeTag { ty, attribute } => head(0, *attribute, *ty),
        Kind::Array {
            elem,
            index,
            nelems,
        } => {
            head(0, false, 0);
            for v in [*elem, *index, *nelems] {
                push(out, v);
            }
        }
        Kind::Struct {
            size,
            members,
            bitfield_encoding,
        }
        | Kind::Union {
            size,
            members,
            bitfield_encoding,
        } => {
            head(members.len(), *bitfield_encoding, *size);
            encode_members(out, members, *bitfield_encoding);
        }
        Kind::Enum {
            size,
            signed,
            values,
        } => {
            head(values.len(), *signed, *size);
            for v in values {
                push(out, v.name_off);
                push(out, v.value as u32);
            }
        }
        Kind::Enum64 {
            size,
            signed,
            values,
        } => {
            head(values.len(), *signed, *size);
            for v in values {
                push(out, v.name_off);
                push(out, v.value as u32);
                push(out, (v.value >> 32) as u32);
            }
        }
        Kind::Fwd { union } => head(0, *union, 0),
        Kind::Func { proto, linkage } => head(*linkage as usize, false, *proto),
        Kind::FuncProto { ret, params } => {
            head(params.len(), false, *ret);
            for p in params {
                push(out, p.name_off);
                push(out, p.ty);
            }
        }
        Kind::Var { ty, linkage } => {
            head(0, false, *ty);
            push(out, *linkage);
        }
        Kind::Datasec { size, vars } => {
            head(vars.len(), false, *size);
            for v in vars {
                for x in [v.ty, v.offset, v.size] {
                    push(out, x);
                }
            }
        }
        Kind::Float { size } => head(0, false, *size),
        Kind::DeclTag {
            ty,
            component_idx,
            attribute,
        } => {
            head(0, *attribute, *ty);
            push(out, *component_idx as u32);
        }
    }
}

fn encode_members(out: &mut Vec<u8>, members: &[Member], bitfield_encoding: bool) {
    for m in members {
        push(out, m.name_off);
        push(out, m.ty);
        let offset = if bitfield_encoding {
            m.bitfield_size << 24 | (m.bit_offset & 0x00ff_ffff)
        } else {
            m.bit_offset
        };
        push(out, offset);
    }
}
