//! The vCard writer: one vCard 3.0 card per contact, for phones and
//! address books.
//!
//! 3.0 (RFC 2426) is the version iPhone, Android and Google Contacts all
//! import: 4.0 is still refused or half-read by some of them, and 2.1 needs
//! quoted-printable for any accented letter. Lines end in CRLF and are
//! folded at 75 octets without splitting a UTF-8 character (RFC 6350 3.2,
//! which 3.0 shares through RFC 2425 5.8.1); text is UTF-8 with `\` `,` `;`
//! and newlines escaped.
//!
//! A card holds `N`, `FN` (required in 3.0, so it falls back to the company,
//! phone or e-mail when a contact has no name), `TEL;TYPE=CELL` (waport's
//! phone is a WhatsApp number, so a mobile), `EMAIL;TYPE=INTERNET`, `ORG`,
//! `ADR` with the country, `NOTE` and `CATEGORIES` for the tags. Custom
//! fields, ids and dates have no standard place and are left out; the
//! writer's warnings name the custom fields it saw. `--columns` does not
//! apply.

use super::sink::Sink;
use super::{ContactWriter, ExportError, ExportRow};
use crate::model::Contact;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

/// RFC 6350 3.2: "Lines of text SHOULD NOT be longer than 75 octets,
/// excluding the line break."
const FOLD_AT: usize = 75;

/// Writes contacts as vCard 3.0.
pub(crate) struct VcfWriter {
    sink: Sink,
    shown: String,
    rows: u64,
    custom: BTreeSet<String>,
}

impl VcfWriter {
    /// Opens the destination.
    pub(crate) fn create(path: &Path) -> Result<Self, ExportError> {
        let sink = Sink::open(path)?;
        Ok(Self {
            shown: sink.shown().to_string(),
            sink,
            rows: 0,
            custom: BTreeSet::new(),
        })
    }
}

/// Escapes a text value (RFC 2426 4 / RFC 6350 3.4).
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` to `out` folded at [`FOLD_AT`] octets, each physical line
/// ended by CRLF; a continuation starts with one space, which counts
/// towards its 75.
pub(crate) fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > FOLD_AT {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// The card for one contact, CRLF-terminated.
pub(crate) fn card(c: &Contact) -> String {
    let mut out = String::new();
    let mut line = |text: String| push_folded(&mut out, &text);
    line("BEGIN:VCARD".into());
    line("VERSION:3.0".into());
    let (first, last) = (c.first_name.trim(), c.last_name.trim());
    line(format!("N:{};{};;;", escape(last), escape(first)));
    let joined = format!("{first} {last}");
    let full = [
        c.name.trim(),
        joined.trim(),
        c.company.trim(),
        c.phone.trim(),
        c.email.trim(),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .unwrap_or("");
    line(format!("FN:{}", escape(full)));
    if !c.phone.trim().is_empty() {
        line(format!("TEL;TYPE=CELL:{}", escape(c.phone.trim())));
    }
    if !c.email.trim().is_empty() {
        line(format!("EMAIL;TYPE=INTERNET:{}", escape(c.email.trim())));
    }
    if !c.company.trim().is_empty() {
        line(format!("ORG:{}", escape(c.company.trim())));
    }
    let adr = [&c.address, &c.city, &c.state, &c.postal_code, &c.country];
    if adr.iter().any(|s| !s.trim().is_empty()) {
        line(format!(
            "ADR:;;{}",
            adr.iter()
                .map(|s| escape(s.trim()))
                .collect::<Vec<_>>()
                .join(";")
        ));
    }
    if !c.notes.trim().is_empty() {
        line(format!("NOTE:{}", escape(c.notes.trim())));
    }
    let tags: Vec<String> = c
        .tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(escape)
        .collect();
    if !tags.is_empty() {
        line(format!("CATEGORIES:{}", tags.join(",")));
    }
    line("END:VCARD".into());
    out
}

impl ContactWriter for VcfWriter {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        for k in row.contact.custom.keys() {
            if !self.custom.contains(k) {
                self.custom.insert(k.clone());
            }
        }
        self.sink
            .write_all(card(&row.contact).as_bytes())
            .map_err(|source| ExportError::Write {
                path: self.shown.clone(),
                source,
            })?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<u64, ExportError> {
        let rows = self.rows;
        self.sink.commit()?;
        Ok(rows)
    }

    fn warnings(&self) -> Vec<String> {
        if self.custom.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "vCard has no place for custom fields, so these are not in {}: {} (export to .csv, .xlsx or .jsonl to keep them)",
            self.shown,
            self.custom.iter().cloned().collect::<Vec<_>>().join(", ")
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_four_special_characters() {
        assert_eq!(
            escape("a,b;c\\d\r\ne\nf"),
            "a\\,b\\;c\\\\d\\ne\\nf".to_string()
        );
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let long = format!("NOTE:{}", "ñ".repeat(100));
        let mut out = String::new();
        push_folded(&mut out, &long);
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines.last(), Some(&""), "ends with CRLF");
        for l in &lines[..lines.len() - 1] {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert!(lines[1..lines.len() - 1].iter().all(|l| l.starts_with(' ')));
        let unfolded: String = out
            .trim_end_matches("\r\n")
            .split("\r\n")
            .enumerate()
            .map(|(i, l)| if i == 0 { l } else { &l[1..] })
            .collect();
        assert_eq!(unfolded, long);
        // A short line is left alone.
        let mut out = String::new();
        push_folded(&mut out, "FN:Ana");
        assert_eq!(out, "FN:Ana\r\n");
    }

    #[test]
    fn a_contact_becomes_one_card() {
        let c = Contact {
            first_name: "María José".into(),
            last_name: "García; López".into(),
            phone: "+5215512345678".into(),
            email: "mj@ejemplo.mx".into(),
            company: "Ferretería, S.A.".into(),
            country: "MX".into(),
            city: "CDMX".into(),
            notes: "uno\ndos".into(),
            tags: vec!["vip".into(), "a,b".into()],
            ..Contact::default()
        };
        assert_eq!(
            card(&c),
            "BEGIN:VCARD\r\nVERSION:3.0\r\nN:García\\; López;María José;;;\r\n\
FN:María José García\\; López\r\nTEL;TYPE=CELL:+5215512345678\r\n\
EMAIL;TYPE=INTERNET:mj@ejemplo.mx\r\nORG:Ferretería\\, S.A.\r\n\
ADR:;;;CDMX;;;MX\r\nNOTE:uno\\ndos\r\nCATEGORIES:vip,a\\,b\r\nEND:VCARD\r\n"
        );
        // FN is required: with no name at all, the phone stands in.
        let bare = Contact {
            phone: "+34600111222".into(),
            ..Contact::default()
        };
        assert!(card(&bare).contains("\r\nFN:+34600111222\r\n"));
    }
}
