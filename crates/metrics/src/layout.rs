//! How a map's key and value bytes read: the key as one label value, the value as one sample
//! per integer field.

/// The shape of a map's key or value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A little-endian integer filling the whole key or value (1, 2, 4 or 8 bytes).
    Int { signed: bool },
    /// A struct; only its integer fields give series.
    Struct(Vec<Field>),
    /// Anything else: keys show as hex, values give no series.
    Bytes,
}

/// An integer field of a struct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// As written in the source.
    pub name: String,
    pub offset: usize,
    /// 1, 2, 4 or 8 bytes.
    pub size: usize,
    pub signed: bool,
}

/// One sample: the field it came from (`None` for a whole integer value) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub field: Option<String>,
    pub value: Value,
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

    /// The key as a label value: an integer in decimal, a struct as `field=value,...`, other
    /// bytes as hex.
    pub fn key_label(&self, bytes: &[u8]) -> String {
        match self {
            Layout::Int { signed } if is_int_size(bytes.len()) => int_text(bytes, *signed),
            Layout::Struct(fields) if fields.iter().all(|f| f.fits(bytes)) => fields
                .iter()
                .map(|f| format!("{}={}", f.name, int_text(f.bytes(bytes), f.signed)))
                .collect::<Vec<_>>()
                .join(","),
            _ => hex(bytes),
        }
    }

    /// The value's samples: one for an integer, one per integer field of a struct, none for
    /// other bytes.
    pub fn samples(&self, bytes: &[u8]) -> Vec<Sample> {
        match self {
            Layout::Int { signed } if is_int_size(bytes.len()) => vec![Sample {
                field: None,
                value: int_value(bytes, *signed),
            }],
            Layout::Struct(fields) => fields
                .iter()
                .filter(|f| f.fits(bytes))
                .map(|f| Sample {
                    field: Some(f.name.clone()),
                    value: int_value(f.bytes(bytes), f.signed),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The samples of a per-CPU value: each CPU's, summed field by field.
    pub fn summed_samples(&self, per_cpu: &[Vec<u8>]) -> Vec<Sample> {
        let mut per_cpu = per_cpu.iter().map(|bytes| self.samples(bytes));
        let mut total = per_cpu.next().unwrap_or_default();
        for samples in per_cpu {
            for (sum, sample) in total.iter_mut().zip(samples) {
                sum.value = sum.value.add(sample.value);
            }
        }
        total
    }
}

impl Field {
    fn fits(&self, bytes: &[u8]) -> bool {
        is_int_size(self.size) && self.offset + self.size <= bytes.len()
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

fn int_text(bytes: &[u8], signed: bool) -> String {
    match int_value(bytes, signed) {
        Value::Unsigned(v) => v.to_string(),
        Value::Signed(v) => v.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, offset: usize, size: usize, signed: bool) -> Field {
        Field {
            name: name.into(),
            offset,
            size,
            signed,
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
        let samples = counts.summed_samples(&[cpu(3, -5), cpu(4, 2)]);
        assert_eq!(
            samples,
            vec![
                Sample {
                    field: Some("calls".into()),
                    value: Value::Unsigned(7)
                },
                Sample {
                    field: Some("delta".into()),
                    value: Value::Signed(-3)
                },
            ]
        );
        assert!(Layout::Bytes.samples(&[1; 16]).is_empty());
    }
}
