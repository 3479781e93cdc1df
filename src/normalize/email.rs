//! E-mail syntax check and normalization.

/// The address is not acceptable e-mail syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEmail;

/// Normalizes an e-mail: trims it and lowercases the domain. Empty stays empty.
pub fn normalize(raw: &str) -> Result<String, InvalidEmail> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    match t.rsplit_once('@') {
        Some((l, d)) if !l.is_empty() && d.contains('.') => Ok(format!("{l}@{}", d.to_lowercase())),
        _ => Err(InvalidEmail),
    }
}
