//! Moving between kernel bytes and Lisp values: octet vectors, little-endian integers of a
//! given size, and integers that do not fit an `i64`.

use num_bigint::{BigInt, Sign};
use std::cell::RefCell;
use std::rc::Rc;
use whistler_lisp::Value;

/// An octet vector (`#(1 2 3)`).
pub fn octets(bytes: &[u8]) -> Value {
    let items = bytes.iter().map(|b| Value::int(i64::from(*b))).collect();
    Value::Vector(Rc::new(RefCell::new(items)))
}

/// The bytes of an octet vector or list of octets.
pub fn from_octets(value: &Value) -> Option<Vec<u8>> {
    let items: Vec<Value> = match value {
        Value::Vector(v) => v.borrow().clone(),
        Value::Cons(_) | Value::Nil => value.to_vec()?,
        _ => return None,
    };
    items
        .iter()
        .map(|v| v.as_i64().and_then(|n| u8::try_from(n).ok()))
        .collect()
}

/// An integer as Lisp holds it (a bignum beyond `i64`).
pub fn integer(n: i128) -> Value {
    match i64::try_from(n) {
        Ok(small) => Value::int(small),
        Err(_) => Value::Big(Rc::new(BigInt::from(n))),
    }
}

/// The value of an integer argument, when it is one that fits 128 bits.
pub fn as_integer(value: &Value) -> Option<i128> {
    match value {
        Value::Int(n, _) => Some(i128::from(*n)),
        Value::Big(b) => i128::try_from(b.as_ref()).ok(),
        _ => None,
    }
}

/// Reads `bytes` (at most 16) as a little-endian integer, sign-extended when `signed`.
pub fn read_le(bytes: &[u8], signed: bool) -> i128 {
    let mut raw = [0u8; 16];
    let n = bytes.len().min(16);
    raw[..n].copy_from_slice(&bytes[..n]);
    if signed && n > 0 && n < 16 && bytes[n - 1] & 0x80 != 0 {
        raw[n..].fill(0xff);
    }
    i128::from_le_bytes(raw)
}

/// `n` as `size` little-endian bytes (two's complement, truncated).
pub fn write_le(n: i128, size: usize) -> Vec<u8> {
    let raw = n.to_le_bytes();
    let mut out = vec![if n < 0 { 0xff } else { 0 }; size];
    let k = size.min(16);
    out[..k].copy_from_slice(&raw[..k]);
    out
}

/// An unsigned little-endian value as an integer.
pub fn unsigned(bytes: &[u8]) -> Value {
    if bytes.len() <= 16 {
        integer(read_le(bytes, false))
    } else {
        Value::Big(Rc::new(BigInt::from_bytes_le(Sign::Plus, bytes)))
    }
}

/// A key or value argument: an integer (encoded to `size` bytes) or an octet vector of
/// exactly `size` bytes.
pub fn encode(value: &Value, size: usize, what: &str) -> Result<Vec<u8>, String> {
    if let Some(n) = as_integer(value) {
        return Ok(write_le(n, size));
    }
    match from_octets(value) {
        Some(bytes) if bytes.len() == size => Ok(bytes),
        Some(bytes) => Err(format!(
            "{what} has {} bytes; the map's {what} size is {size}",
            bytes.len()
        )),
        None => Err(format!(
            "{what} must be an integer or a vector of octets, not {}",
            whistler_lisp::prin1(value)
        )),
    }
}
