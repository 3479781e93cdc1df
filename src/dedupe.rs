//! In-file duplicate detection.
//!
//! The index is the only part of the pipeline whose memory grows with the
//! input, so its keys are compact: an E.164 number is at most 15 digits and
//! fits in a `u64`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::str::FromStr;

/// What makes two rows the same contact (`--dedupe-by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DedupeBy {
    /// The E.164 phone.
    #[default]
    Phone,
    /// The normalized e-mail.
    Email,
    /// Both together: rows are the same only when phone and e-mail match.
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

/// Remembers the first row that took each key.
#[derive(Debug, Default)]
pub struct Deduper {
    phones: HashMap<u64, u64>,
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

fn claim_in<K: Hash + Eq>(map: &mut HashMap<K, u64>, key: K, row: u64) -> Option<u64> {
    match map.entry(key) {
        Entry::Occupied(e) => Some(*e.get()),
        Entry::Vacant(e) => {
            e.insert(row);
            None
        }
    }
}
