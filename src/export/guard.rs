//! The CSV formula-injection guard.
//!
//! Spreadsheet programs treat a CSV cell that starts with `=`, `+`, `-` or
//! `@` as a formula (and a leading tab or carriage return can hide such a
//! character from a naive check), so contact data from a CRM, where anyone
//! on the internet can type their own name, could run `=HYPERLINK(...)` or a
//! DDE payload on the exporting user's machine. The OWASP advice is to
//! prefix such cells with `'`, which Excel and LibreOffice show as text.
//!
//! One exception: a whole E.164 phone number (`+` and 6 to 15 digits) cannot
//! do anything as a formula (it evaluates to the number itself), and phones
//! are the one field every row has; prefixing them would make every export
//! re-import with a leading `'` on the phone.
//!
//! XLSX does not need the guard: `rust_xlsxwriter::Worksheet::write_string`
//! always writes a string cell (`t="inlineStr"` or a shared string), never a
//! `<f>` element, and Excel never evaluates a string cell's text on open. The
//! prefix there would only corrupt the data.

use std::borrow::Cow;

/// True for a whole E.164 number: `+` then 6 to 15 ASCII digits, nothing else.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Makes a cell safe to open in a spreadsheet: prefixes `'` when it starts
/// with `=` `+` `-` `@`, a tab or a carriage return, unless it is a whole
/// E.164 phone number.
pub fn guard_formula(value: &str) -> Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if !is_e164(value) => {
            Cow::Owned(format!("'{value}"))
        }
        _ => Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_bounds() {
        assert!(is_e164("+123456"));
        assert!(is_e164("+123456789012345"));
        assert!(!is_e164("+12345"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+12 34"));
        assert!(!is_e164("5215512345678"));
        assert!(!is_e164("+５２１５５１２３４５"));
    }

    #[test]
    fn guard_cases() {
        assert_eq!(guard_formula("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(guard_formula("+5215512345678"), "+5215512345678");
        assert_eq!(guard_formula("+12 34"), "'+12 34");
        assert_eq!(guard_formula("-5"), "'-5");
        assert_eq!(guard_formula("@x"), "'@x");
        assert_eq!(guard_formula("\tx"), "'\tx");
        assert_eq!(guard_formula("\rx"), "'\rx");
        assert_eq!(guard_formula("Ana"), "Ana");
        assert_eq!(guard_formula(""), "");
    }
}
