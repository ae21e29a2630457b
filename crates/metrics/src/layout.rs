//! How a map's key and value bytes read: the key as one label value, the value as one sample
//! per integer field, written and read without allocating.

use std::fmt;

/// The shape of a map's key or value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A little-endian integer filling the whole key or value (1, 2, 4 or 8 bytes).
    Int { signed: bool },
    /// An enum: keys show the name of their value, values read as the integer.
    Enum(Enumerators),
    /// Text up to the first NUL (a `char` array); keys only.
    Text,
    /// A struct; its fields show in keys, its integer fields give series.
    Struct(Vec<Field>),
    /// Anything else: keys show as hex, values give no series.
    Bytes,
}

/// A field of a struct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// As written in the source.
    pub name: String,
    pub offset: usize,
    pub size: usize,
    pub kind: FieldKind,
}

/// How a field reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A little-endian integer of 1, 2, 4 or 8 bytes: a number in keys, a series in values.
    Int { signed: bool },
    /// An enum of 1, 2, 4 or 8 bytes: its value's name in keys (else the number), a series in
    /// values.
    Enum(Enumerators),
    /// Text up to the first NUL; keys only.
    Text,
    /// Bytes shown in hex; keys only.
    Hex,
}

/// An enum's names: each value as the 64-bit pattern of the integer (sign-extended when
/// `signed`), with its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enumerators {
    pub signed: bool,
    pub names: Vec<(u64, String)>,
}

impl Enumerators {
    fn write(&self, bytes: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
        let value = int_value(bytes, self.signed);
        let pattern = match value {
            Value::Unsigned(v) => v,
            Value::Signed(v) => v as u64,
        };
        match self.names.iter().find(|(v, _)| *v == pattern) {
            Some((_, name)) => out.write_str(name),
            None => write_int(value, out),
        }
    }
}

/// A sample value, kept integral so that counts print without a fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Unsigned(u64),
    Signed(i64),
}

impl Value {
    /// Adds another CPU's value (wrapping, as the kernel's counters do).
    fn add(self, other: Value) -> Value {
        match (self, other) {
            (Value::Signed(a), Value::Signed(b)) => Value::Signed(a.wrapping_add(b)),
            (Value::Unsigned(a), Value::Unsigned(b)) => Value::Unsigned(a.wrapping_add(b)),
            (a, _) => a,
        }
    }
}

impl Layout {
    /// The layout of an integer-or-bytes key or value known only by its size (an object
    /// without the compiler's facts).
    pub fn from_size(size: usize) -> Layout {
        match size {
            1 | 2 | 4 | 8 => Layout::Int { signed: false },
            _ => Layout::Bytes,
        }
    }

    /// Writes the key as a label value: an integer in decimal, text as it is, a struct as
    /// `field=value,...`, other bytes as hex.
    pub fn write_key(&self, bytes: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
        match self {
            Layout::Int { signed } if is_int_size(bytes.len()) => {
                write_int(int_value(bytes, *signed), out)
            }
            Layout::Enum(names) if is_int_size(bytes.len()) => names.write(bytes, out),
            Layout::Text => write_text(bytes, out),
            Layout::Struct(fields) if fields.iter().all(|f| f.fits(bytes)) => {
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.write_char(',')?;
                    }
                    out.write_str(&f.name)?;
                    out.write_char('=')?;
                    let part = f.bytes(bytes);
                    match &f.kind {
                        FieldKind::Int { signed } => write_int(int_value(part, *signed), out)?,
                        FieldKind::Enum(names) => names.write(part, out)?,
                        FieldKind::Text => write_text(part, out)?,
                        FieldKind::Hex => write_hex(part, out)?,
                    }
                }
                Ok(())
            }
            _ => write_hex(bytes, out),
        }
    }

    /// The key as a label value, as [`Layout::write_key`] writes it.
    pub fn key_label(&self, bytes: &[u8]) -> String {
        let mut label = String::new();
        let _ = self.write_key(bytes, &mut label);
        label
    }

    /// Hands `visit` the value's samples, with the field each came from (`None` for a whole
    /// integer value): one for an integer, one per integer field of a struct, none for other
    /// bytes. `cpus` is the value, or each CPU's value of a per-CPU map, summed field by field.
    pub fn for_each_sample<'v>(
        &self,
        cpus: impl Iterator<Item = &'v [u8]> + Clone,
        mut visit: impl FnMut(Option<&str>, Value),
    ) {
        let sum = |offset: usize, size: usize, signed: bool| {
            let mut values = cpus.clone().filter_map(|bytes| {
                let part = bytes.get(offset..offset + size)?;
                Some(int_value(part, signed))
            });
            let first = values.next()?;
            Some(values.fold(first, Value::add))
        };
        match self {
            Layout::Int { .. } | Layout::Enum(_) => {
                let signed = match self {
                    Layout::Enum(names) => names.signed,
                    _ => matches!(self, Layout::Int { signed: true }),
                };
                let Some(size) = cpus.clone().next().map(<[u8]>::len) else {
                    return;
                };
                if let (true, Some(value)) = (is_int_size(size), sum(0, size, signed)) {
                    visit(None, value);
                }
            }
            Layout::Struct(fields) => {
                for f in fields {
                    let signed = match &f.kind {
                        FieldKind::Int { signed } => *signed,
                        FieldKind::Enum(names) => names.signed,
                        FieldKind::Text | FieldKind::Hex => continue,
                    };
                    if let (true, Some(value)) =
                        (is_int_size(f.size), sum(f.offset, f.size, signed))
                    {
                        visit(Some(&f.name), value);
                    }
                }
            }
            Layout::Text | Layout::Bytes => {}
        }
    }
}

impl Field {
    fn fits(&self, bytes: &[u8]) -> bool {
        let integral = matches!(self.kind, FieldKind::Int { .. } | FieldKind::Enum(_));
        let int_sized = !integral || is_int_size(self.size);
        int_sized && self.offset + self.size <= bytes.len()
    }

    fn bytes<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        &bytes[self.offset..self.offset + self.size]
    }
}

fn is_int_size(size: usize) -> bool {
    matches!(size, 1 | 2 | 4 | 8)
}

fn int_value(bytes: &[u8], signed: bool) -> Value {
    let mut raw = [0u8; 8];
    raw[..bytes.len()].copy_from_slice(bytes);
    let unsigned = u64::from_le_bytes(raw);
    if !signed {
        return Value::Unsigned(unsigned);
    }
    let shift = 64 - 8 * bytes.len() as u32;
    Value::Signed(((unsigned << shift) as i64) >> shift)
}

fn write_int(value: Value, out: &mut impl fmt::Write) -> fmt::Result {
    match value {
        Value::Unsigned(v) => out.write_str(itoa::Buffer::new().format(v)),
        Value::Signed(v) => out.write_str(itoa::Buffer::new().format(v)),
    }
}

/// Bytes up to the first NUL, as UTF-8 (invalid sequences replaced).
fn write_text(bytes: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    for chunk in bytes[..end].utf8_chunks() {
        out.write_str(chunk.valid())?;
        if !chunk.invalid().is_empty() {
            out.write_char(char::REPLACEMENT_CHARACTER)?;
        }
    }
    Ok(())
}

/// Bytes as lowercase hex digits, two per byte.
pub(crate) fn write_hex(bytes: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.write_char(char::from(DIGITS[usize::from(b >> 4)]))?;
        out.write_char(char::from(DIGITS[usize::from(b & 0xf)]))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, offset: usize, size: usize, signed: bool) -> Field {
        Field {
            name: name.into(),
            offset,
            size,
            kind: FieldKind::Int { signed },
        }
    }

    #[test]
    fn integer_keys_are_decimal_struct_keys_name_their_fields_others_are_hex() {
        assert_eq!(
            Layout::Int { signed: false }.key_label(&39u32.to_le_bytes()),
            "39"
        );
        assert_eq!(Layout::Int { signed: true }.key_label(&[0xff, 0xff]), "-1");
        let pair = Layout::Struct(vec![field("pid", 0, 4, false), field("cpu", 4, 2, false)]);
        assert_eq!(pair.key_label(&[7, 0, 0, 0, 1, 0, 0, 0]), "pid=7,cpu=1");
        assert_eq!(Layout::from_size(3).key_label(&[1, 0xab, 2]), "01ab02");
        assert_eq!(Layout::Text.key_label(b"sshd\0\0junk"), "sshd");
        let task = Layout::Struct(vec![
            field("pid", 0, 4, false),
            Field {
                kind: FieldKind::Text,
                ..field("comm", 4, 8, false)
            },
            Field {
                kind: FieldKind::Hex,
                ..field("tag", 12, 2, false)
            },
        ]);
        let key = [&7u32.to_le_bytes()[..], b"cat\0\0\0\0\0", &[0xbe, 0xef]].concat();
        assert_eq!(task.key_label(&key), "pid=7,comm=cat,tag=beef");
    }

    fn samples<'v>(layout: &Layout, cpus: &'v [&'v [u8]]) -> Vec<(Option<String>, Value)> {
        let mut samples = Vec::new();
        layout.for_each_sample(cpus.iter().copied(), |field, value| {
            samples.push((field.map(str::to_string), value))
        });
        samples
    }

    #[test]
    fn struct_values_give_one_sample_per_integer_field_and_per_cpu_values_sum_by_field() {
        let counts = Layout::Struct(vec![
            field("calls", 0, 8, false),
            field("delta", 8, 4, true),
        ]);
        let cpu = |calls: u64, delta: i32| {
            [calls.to_le_bytes().to_vec(), delta.to_le_bytes().to_vec()].concat()
        };
        let (first, second) = (cpu(3, -5), cpu(4, 2));
        assert_eq!(
            samples(&counts, &[&first, &second]),
            vec![
                (Some("calls".into()), Value::Unsigned(7)),
                (Some("delta".into()), Value::Signed(-3)),
            ]
        );
        let whole = Layout::Int { signed: true };
        let minus_two = (-2i16).to_le_bytes();
        assert_eq!(
            samples(&whole, &[&minus_two]),
            vec![(None, Value::Signed(-2))]
        );
        assert!(samples(&Layout::Bytes, &[&[1; 16]]).is_empty());
    }
}
