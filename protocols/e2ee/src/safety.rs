//! Safety numbers: 60 digits both users compare out of band.
//!
//! For each user: `h = SHA-512(0x0000 || identity key || name)`, then 5199
//! times `h = SHA-512(h || identity key)`; the first 30 bytes as six 5-byte
//! big-endian numbers modulo 100000 give 30 digits. The two halves are
//! ordered by name so both users see the same number (Signal's numeric
//! fingerprint construction, version 0).

use sha2::{Digest, Sha512};
use std::fmt;

const ITERATIONS: usize = 5200;

/// A safety number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyNumber(String);

impl SafetyNumber {
    /// The 60 digits without spaces.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// 12 groups of 5 digits separated by spaces, for reading aloud.
    pub fn formatted(&self) -> String {
        self.0
            .as_bytes()
            .chunks(5)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

fn half(name: &str, key: &[u8]) -> String {
    let mut h = Sha512::new();
    h.update([0u8, 0u8]);
    h.update(key);
    h.update(name.as_bytes());
    let mut digest = h.finalize();
    for _ in 1..ITERATIONS {
        let mut h = Sha512::new();
        h.update(digest);
        h.update(key);
        digest = h.finalize();
    }
    let mut out = String::with_capacity(30);
    // The first 30 bytes of the 64-byte digest, 5 bytes per group.
    for chunk in digest.chunks(5).take(6) {
        let n = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        out.push_str(&format!("{:05}", n % 100_000));
    }
    out
}

/// The safety number of two users, the same whichever side computes it.
pub fn safety_number(name_a: &str, key_a: &[u8], name_b: &str, key_b: &[u8]) -> SafetyNumber {
    let (a, b) = (half(name_a, key_a), half(name_b, key_b));
    if name_a <= name_b {
        SafetyNumber(a + &b)
    } else {
        SafetyNumber(b + &a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_sixty_digits_and_key_sensitive() {
        let n1 = safety_number("koine:alice", &[5; 33], "+4915112345678", &[6; 33]);
        let n2 = safety_number("+4915112345678", &[6; 33], "koine:alice", &[5; 33]);
        assert_eq!(n1, n2);
        assert_eq!(n1.digits().len(), 60);
        assert!(n1.digits().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(n1.formatted().split(' ').count(), 12);
        let n3 = safety_number("koine:alice", &[7; 33], "+4915112345678", &[6; 33]);
        assert_ne!(n1, n3);
    }
}
