//! In-file duplicate detection.
//!
//! The index is the only part of the pipeline whose memory grows with the
//! input, so its keys are compact: an E.164 number is at most 15 digits and
//! fits in a `u64`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::str::FromStr;

/// What makes two rows the same contact (`--dedupe-by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DedupeBy {
    /// The E.164 phone.
    #[default]
    Phone,
    /// The normalized e-mail.
    Email,
    /// Both together: rows are the same only when phone and e-mail match.
    #[value(name = "phone+email")]
    PhoneEmail,
}

impl FromStr for DedupeBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "phone" => Ok(DedupeBy::Phone),
            "email" => Ok(DedupeBy::Email),
            "phone+email" => Ok(DedupeBy::PhoneEmail),
            other => Err(format!(
                "unknown dedupe key \"{other}\" (expected phone, email or phone+email)"
            )),
        }
    }
}

/// A row's dedupe key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// E.164 digits as a number.
    Phone(u64),
    /// Normalized e-mail.
    Email(String),
    /// Both.
    PhoneEmail(u64, String),
}

impl Key {
    /// Builds the key for a normalized phone and e-mail, or `None` when the
    /// parts the key needs are empty (such a row is never a duplicate).
    pub fn build(by: DedupeBy, e164: &str, email: &str) -> Option<Key> {
        let phone = || crate::normalize::phone::e164_key(e164);
        let email = || (!email.is_empty()).then(|| email.to_lowercase());
        match by {
            // A row without a phone (sent only with --allow-without-phone)
            // is known by its e-mail.
            DedupeBy::Phone if e164.is_empty() => email().map(Key::Email),
            DedupeBy::Phone => phone().map(Key::Phone),
            DedupeBy::Email => email().map(Key::Email),
            DedupeBy::PhoneEmail => Some(Key::PhoneEmail(phone()?, email()?)),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Phone(p) => write!(f, "+{p}"),
            Key::Email(e) => f.write_str(e),
            Key::PhoneEmail(p, e) => write!(f, "+{p}|{e}"),
        }
    }
}

/// Hashes a phone key with one folded 128-bit multiply.
///
/// The std SipHash resists collision attacks, which a user's own file does
/// not mount, at several times the cost; with a million look-ups a second
/// on the pipeline's ordered stage that cost shows. The fold mixes the high
/// half of the product into the low bits the table indexes by.
#[derive(Debug, Default, Clone, Copy)]
struct PhoneHasher(u64);

impl Hasher for PhoneHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let p = u128::from(self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }
}

/// Remembers the first row that took each key.
#[derive(Debug, Default)]
pub struct Deduper {
    phones: HashMap<u64, u64, BuildHasherDefault<PhoneHasher>>,
    others: HashMap<Key, u64>,
}

impl Deduper {
    /// An empty index.
    pub fn new() -> Deduper {
        Deduper::default()
    }

    /// Claims `key` for `row`; returns the earlier row when it was taken.
    pub fn claim(&mut self, key: &Key, row: u64) -> Option<u64> {
        match key {
            Key::Phone(p) => claim_in(&mut self.phones, *p, row),
            other => claim_in(&mut self.others, other.clone(), row),
        }
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.phones.len() + self.others.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn claim_in<K: Hash + Eq, S: BuildHasher>(
    map: &mut HashMap<K, u64, S>,
    key: K,
    row: u64,
) -> Option<u64> {
    match map.entry(key) {
        Entry::Occupied(e) => Some(*e.get()),
        Entry::Vacant(e) => {
            e.insert(row);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_row_of_each_key_wins_and_later_ones_point_to_it() {
        let mut d = Deduper::new();
        // Phones that differ only in high digits or only in low digits, so
        // a hash that ignored either half would collide them.
        let phones: Vec<u64> = (0..50_000u64)
            .map(|i| 34_600_000_000 + i)
            .chain((0..50_000u64).map(|i| 1_000_000_000 * (i + 1) + 7))
            .collect();
        for (row, p) in phones.iter().enumerate() {
            assert_eq!(d.claim(&Key::Phone(*p), row as u64 + 2), None);
        }
        for (row, p) in phones.iter().enumerate() {
            assert_eq!(d.claim(&Key::Phone(*p), 1_000_000), Some(row as u64 + 2));
        }
        let email = Key::Email("ana@example.com".into());
        assert_eq!(d.claim(&email, 7), None);
        assert_eq!(d.claim(&email, 9), Some(7));
        assert_eq!(
            d.claim(
                &Key::PhoneEmail(34_600_000_000, "ana@example.com".into()),
                11
            ),
            None
        );
        assert_eq!(d.len(), phones.len() + 2);
    }

    #[test]
    fn keys_need_their_parts() {
        assert_eq!(
            Key::build(DedupeBy::Phone, "+34600000001", ""),
            Some(Key::Phone(34_600_000_001))
        );
        assert_eq!(Key::build(DedupeBy::Email, "+34600000001", ""), None);
        assert_eq!(
            Key::build(DedupeBy::Email, "", "Ana@Example.com"),
            Some(Key::Email("ana@example.com".into()))
        );
        assert_eq!(Key::build(DedupeBy::PhoneEmail, "+34600000001", ""), None);
    }
}
