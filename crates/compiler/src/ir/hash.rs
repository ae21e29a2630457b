//! [`FastHasher`]: the hasher of the passes' tables and of [`super::Function::fingerprint`].
//! Their keys are small: values, blocks, slots, instructions and terminators of a few words.
//! The standard library's SipHash, made to resist crafted keys, spent about a tenth of a
//! compile on them; this one multiplies each word in.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` hashing with [`FastHasher`].
pub type FastHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Each word is xored into the rotated state, which is then multiplied by an odd constant.
/// Both steps are one-to-one, so two inputs that differ in one word always hash differently;
/// the final rotation brings the well-mixed high bits down to where `HashMap` picks buckets.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHasher(u64);

/// An odd constant with bits spread over the whole word (from the fractional part of the golden
/// ratio).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::FastHasher;
    use std::hash::{Hash, Hasher};

    fn hash(x: impl Hash) -> u64 {
        let mut h = FastHasher::default();
        x.hash(&mut h);
        h.finish()
    }

    #[test]
    fn one_changed_word_changes_the_hash() {
        let base = [1u32, 2, 3, 4, 5];
        for i in 0..base.len() {
            let mut changed = base;
            changed[i] ^= 1 << 31;
            assert_ne!(hash(base), hash(changed), "word {i}");
        }
        assert_ne!(hash("a"), hash("a\0"));
        assert_ne!(hash(0u64), hash(1u64));
    }

    #[test]
    fn consecutive_keys_spread_over_buckets() {
        // The low bits pick a bucket: 1024 consecutive keys should use most of 1024 buckets.
        let buckets: std::collections::HashSet<u64> =
            (0u32..1024).map(|k| hash(k) & 1023).collect();
        assert!(buckets.len() > 600, "{} buckets", buckets.len());
    }
}
