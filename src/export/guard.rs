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
//! Spreadsheets also read full-width forms (`＝` `＋` `－` `＠`, what a
//! Japanese or Chinese input method types) as the ASCII ones, and LibreOffice
//! can trim leading spaces and line feeds before it looks at the first
//! character, so a cell whose first non-blank character is any of these is
//! guarded too. [`unguard`] undoes exactly what [`guard_formula`] does, so
//! a guarded file fed back to waport reads as the original.
//!
//! The same guard covers the report and the rejects file, which copy the
//! input's cells and are meant to be opened in a spreadsheet.
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

/// Whether `c` makes a spreadsheet read the cell as a formula when it comes
/// first.
fn is_trigger(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠')
}

/// Whether `value` needs the guard: its first character is a trigger, a tab
/// or a CR, or its first non-blank one is a trigger; a whole E.164 number
/// never does.
#[inline]
pub fn needs_guard(value: &str) -> bool {
    let Some(&first) = value.as_bytes().first() else {
        return false;
    };
    // Most cells start with an ASCII character that is neither a trigger
    // nor white space (which `trim_start` would skip): decided on one byte,
    // inline, as this runs for every cell of a report.
    if first.is_ascii() && !matches!(first, b'=' | b'+' | b'-' | b'@' | b' ' | b'\t'..=b'\r') {
        return false;
    }
    needs_guard_slow(value, first)
}

/// [`needs_guard`] for a cell whose first byte may matter.
fn needs_guard_slow(value: &str, first: u8) -> bool {
    if matches!(first, b'\t' | b'\r') {
        return true;
    }
    let rest = value.trim_start();
    rest.starts_with(is_trigger) && !is_e164(value)
}

/// Makes a cell safe to open in a spreadsheet: prefixes `'` when
/// [`needs_guard`] says so.
#[inline]
pub fn guard_formula(value: &str) -> Cow<'_, str> {
    if needs_guard(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// Undoes [`guard_formula`] (waport's own and other tools' `'` text
/// marker): a `'` before a cell that would need the guard is removed.
pub fn unguard(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => value,
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
        assert_eq!(guard_formula("＝cmd|' /C calc'!A0"), "'＝cmd|' /C calc'!A0");
        assert_eq!(guard_formula("＋1"), "'＋1");
        assert_eq!(guard_formula("－1"), "'－1");
        assert_eq!(guard_formula("＠SUM(A1)"), "'＠SUM(A1)");
        assert_eq!(guard_formula("  =1+1"), "'  =1+1");
        assert_eq!(guard_formula("\n=1+1"), "'\n=1+1");
        assert_eq!(guard_formula("\u{3000}=1"), "'\u{3000}=1");
        assert_eq!(guard_formula("  Ana"), "  Ana");
        assert_eq!(guard_formula("José"), "José");
    }

    #[test]
    fn the_one_byte_shortcut_leaves_every_blank_to_the_full_check() {
        // Each ASCII blank `trim_start` skips (vertical tab and form feed
        // included) can hide a trigger; a cell starting with any other
        // ASCII character is never guarded.
        for blank in [" ", "\n", "\x0B", "\x0C"] {
            assert!(needs_guard(&format!("{blank}=1")), "{blank:?}");
            assert!(!needs_guard(&format!("{blank}Ana")), "{blank:?}");
        }
        for first in ["#", "'", "(", "_", "0", "z", "~"] {
            assert!(!needs_guard(&format!("{first}=1")), "{first:?}");
        }
        assert!(needs_guard("\u{A0}=1"), "a non-ASCII blank");
    }

    #[test]
    fn unguard_reverses_guard() {
        for v in [
            "=SUM(A1)",
            "+5215512345678",
            "+12 34",
            "-5",
            "@x",
            "\tx",
            "\rx",
            "Ana",
            "",
            "＝1",
            "  =1",
            "\n@x",
            "'",
            "'Ana",
            "''=1",
            "'  Ana",
        ] {
            assert_eq!(unguard(&guard_formula(v)), v, "{v:?}");
        }
    }
}
