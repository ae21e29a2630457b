//! `.BTF.ext`: per-section func_info, line_info and CO-RE relocation records.
//!
//! At this layer a record's `insn_offset` is in BYTES from the start of its ELF section, as the
//! format stores it; [`crate::read::parse`] converts to instruction indexes. Section names are
//! offsets into the `.BTF` string table.

use super::decode::Cursor;
use super::{BtfError, BTF_MAGIC};
use crate::{CoreRelocation, FuncInfoRecord, LineInfoRecord};

const HEADER_LEN: u32 = 32;
const FUNC_INFO_SIZE: u32 = 8;
const LINE_INFO_SIZE: u32 = 16;
const CORE_RELO_SIZE: u32 = 16;

/// The records of one ELF section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtSection<R> {
    /// The section's name, as an offset into the `.BTF` string table.
    pub sec_name_off: u32,
    pub records: Vec<R>,
    /// Where each record starts, in bytes from the start of `.BTF.ext` (filled when decoding,
    /// so a reader can match records with the relocations clang writes for them; empty when
    /// building records to encode).
    pub record_offsets: Vec<u32>,
}

/// A decoded `.BTF.ext`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfExt {
    pub func_info: Vec<ExtSection<FuncInfoRecord>>,
    pub line_info: Vec<ExtSection<LineInfoRecord>>,
    pub core_relos: Vec<ExtSection<CoreRelocation>>,
}

impl BtfExt {
    /// Decodes `.BTF.ext` bytes. Records longer than this crate knows are read by their known
    /// prefix, as the format allows.
    pub fn from_bytes(bytes: &[u8]) -> Result<BtfExt, BtfError> {
        if bytes.len() < 24 {
            return Err(BtfError::BadExt("header truncated"));
        }
        let magic = u16::from_le_bytes([bytes[0], bytes[1]]);
        if magic != BTF_MAGIC {
            return Err(BtfError::BadExt("bad magic"));
        }
        if bytes[2] != 1 {
            return Err(BtfError::BadExt("unsupported version"));
        }
        let mut c = Cursor::new(&bytes[4..]);
        let mut fields = [0u32; 7];
        for f in fields.iter_mut().take(5) {
            *f = c.u32().ok_or(BtfError::BadExt("header truncated"))?;
        }
        let hdr_len = fields[0] as usize;
        if hdr_len < 24 || hdr_len > bytes.len() {
            return Err(BtfError::BadExt("bad header length"));
        }
        if hdr_len >= 32 {
            fields[5] = c.u32().ok_or(BtfError::BadExt("header truncated"))?;
            fields[6] = c.u32().ok_or(BtfError::BadExt("header truncated"))?;
        }
        let data = &bytes[hdr_len..];
        let part = |off: u32, len: u32| -> Result<(&[u8], u32), BtfError> {
            let (start, len) = (off as usize, len as usize);
            let bytes = start
                .checked_add(len)
                .and_then(|end| data.get(start..end))
                .ok_or(BtfError::BadExt("section out of range"))?;
            Ok((bytes, (hdr_len + start) as u32))
        };
        Ok(BtfExt {
            func_info: decode_part(part(fields[1], fields[2])?, FUNC_INFO_SIZE, |c| {
                Some(FuncInfoRecord {
                    insn_offset: c.u32()?,
                    type_id: c.u32()?,
                })
            })?,
            line_info: decode_part(part(fields[3], fields[4])?, LINE_INFO_SIZE, |c| {
                Some(LineInfoRecord {
                    insn_offset: c.u32()?,
                    file_name_off: c.u32()?,
                    line_off: c.u32()?,
                    line_col: c.u32()?,
                })
            })?,
            core_relos: decode_part(part(fields[5], fields[6])?, CORE_RELO_SIZE, |c| {
                Some(CoreRelocation {
                    insn_offset: c.u32()?,
                    type_id: c.u32()?,
                    access_str_off: c.u32()?,
                    kind: c.u32()?,
                })
            })?,
        })
    }

    /// Encodes with a 32-byte header (func_info, line_info, core_relo), records of the standard
    /// sizes. Empty parts are written with zero length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let func = encode_part(&self.func_info, FUNC_INFO_SIZE, |out, r| {
            push_all(out, &[r.insn_offset, r.type_id])
        });
        let line = encode_part(&self.line_info, LINE_INFO_SIZE, |out, r| {
            push_all(
                out,
                &[r.insn_offset, r.file_name_off, r.line_off, r.line_col],
            )
        });
        let core = encode_part(&self.core_relos, CORE_RELO_SIZE, |out, r| {
            push_all(out, &[r.insn_offset, r.type_id, r.access_str_off, r.kind])
        });
        let mut out = Vec::new();
        out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        out.extend_from_slice(&[1, 0]);
        let (f, l, c) = (func.len() as u32, line.len() as u32, core.len() as u32);
        push_all(&mut out, &[HEADER_LEN, 0, f, f, l, f + l, c]);
        out.extend_from_slice(&func);
        out.extend_from_slice(&line);
        out.extend_from_slice(&core);
        out
    }
}

fn push_all(out: &mut Vec<u8>, values: &[u32]) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Decodes one part; `base` is where `bytes` starts within `.BTF.ext`.
fn decode_part<R>(
    (bytes, base): (&[u8], u32),
    min_size: u32,
    record: impl Fn(&mut Cursor) -> Option<R>,
) -> Result<Vec<ExtSection<R>>, BtfError> {
    let mut sections = Vec::new();
    if bytes.is_empty() {
        return Ok(sections);
    }
    let mut c = Cursor::new(bytes);
    let truncated = BtfError::BadExt("records truncated");
    let rec_size = c.u32().ok_or(truncated.clone())?;
    if rec_size < min_size || !rec_size.is_multiple_of(4) {
        return Err(BtfError::BadExt("record size too small"));
    }
    while !c.is_at_end() {
        let sec_name_off = c.u32().ok_or(truncated.clone())?;
        let count = c.u32().ok_or(truncated.clone())? as usize;
        if count.saturating_mul(rec_size as usize) > bytes.len() {
            return Err(truncated);
        }
        let mut records = Vec::with_capacity(count);
        let mut record_offsets = Vec::with_capacity(count);
        for _ in 0..count {
            record_offsets.push(base + c.position() as u32);
            records.push(record(&mut c).ok_or(truncated.clone())?);
            c.skip((rec_size - min_size) as usize)
                .ok_or(truncated.clone())?;
        }
        sections.push(ExtSection {
            sec_name_off,
            records,
            record_offsets,
        });
    }
    Ok(sections)
}

fn encode_part<R>(
    sections: &[ExtSection<R>],
    rec_size: u32,
    record: impl Fn(&mut Vec<u8>, &R),
) -> Vec<u8> {
    let mut out = Vec::new();
    if sections.is_empty() {
        return out;
    }
    push_all(&mut out, &[rec_size]);
    for s in sections {
        push_all(&mut out, &[s.sec_name_off, s.records.len() as u32]);
        for r in &s.records {
            record(&mut out, r);
        }
    }
    out
}
