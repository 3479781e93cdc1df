//! vCard (`.vcf`) files as a contact source: one record per card.
//!
//! Phones export contacts as vCard, in four shapes that matter:
//! iPhone 3.0 (`item1.TEL;type=CELL;type=pref` with an `item1.X-ABLabel`),
//! Android 2.1 (`CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE` values broken by
//! `=` soft line breaks), Google Contacts 3.0 (`CATEGORIES:myContacts,…`)
//! and 4.0 (`TEL;VALUE=uri;TYPE="cell,voice";PREF=1:tel:+…`). Each card
//! becomes one [`Record`] under the fixed header [`HEADERS`], whose names
//! the column mapping already recognises, so a `.vcf` needs no `--map`.
//!
//! Decisions callers can rely on:
//! - A record's `row` is the card's ordinal in the file (1 for the first
//!   card); there is no header row. A stretch of text outside any card
//!   counts as one entry (reported invalid), so every byte of the file is
//!   accounted for.
//! - A malformed card (no `END:VCARD` before the next `BEGIN:VCARD` or the
//!   end of the file, a line with no `:`, bad quoted-printable, an unknown
//!   `CHARSET`, text that is not valid in its charset) is one record with a
//!   [`RecordProblem::Malformed`] naming the line; reading goes on with the
//!   next card. What could be read of it is still in its fields, so the
//!   report shows whose card it was.
//! - `Phone` is the card's best WhatsApp candidate: a TEL typed or labelled
//!   WhatsApp, then a mobile (`CELL`, `IPHONE`, an `X-ABLabel` saying
//!   mobile/móvil/celular/мобильный; a preferred one first), then a
//!   preferred TEL, then file order. Fax and pager numbers are never chosen.
//!   The other numbers go to `Other Phones` as `+34… (work); …`, so they are
//!   in the report and nothing is lost.
//! - Text is UTF-8 unless a property says `CHARSET=`; a value that is not
//!   valid UTF-8 and names no charset is decoded with `--encoding` when one
//!   is given, and otherwise makes the card invalid with a reason that says
//!   to give one. Nothing is decoded with replacement characters.
//! - Not read: embedded 2.1 `AGENT` cards (a nested `BEGIN:VCARD` is taken
//!   as the start of the next card) and base64-encoded text values (binary
//!   properties such as `PHOTO` are skipped, whatever their encoding).
//!
//! Sources of the shapes are listed in `fixtures/vcard/README.md`.

use std::io::{BufRead, BufReader, Cursor, Read};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use super::encoding::DecodingReader;
use super::{Format, Record, RecordProblem, Source, SourceError, SourceInfo};

/// The columns of every record read from a vCard file, in order.
///
/// Each name is one the column mapping recognises (`Other Phones` and
/// `Other Emails` deliberately are not: they are kept in the report).
pub const HEADERS: [&str; 15] = [
    "Name",
    "First Name",
    "Last Name",
    "Phone",
    "Other Phones",
    "Email",
    "Other Emails",
    "Company",
    "Address",
    "City",
    "State",
    "Postal Code",
    "Country",
    "Notes",
    "Tags",
];

const NAME: usize = 0;
const FIRST: usize = 1;
const LAST: usize = 2;
const PHONE: usize = 3;
const OTHER_PHONES: usize = 4;
const EMAIL: usize = 5;
const OTHER_EMAILS: usize = 6;
const COMPANY: usize = 7;
const ADDRESS: usize = 8;
const CITY: usize = 9;
const STATE: usize = 10;
const POSTAL: usize = 11;
const COUNTRY: usize = 12;
const NOTES: usize = 13;
const TAGS: usize = 14;

/// The reason code of a malformed card in the report.
pub const INVALID_CODE: &str = "invalid_vcard";

/// Google Contacts puts every contact in this system group; as a tag it
/// would say nothing.
const GOOGLE_ALL_CONTACTS: &str = "myContacts";

/// Whether the input is a vCard file: by extension (`.vcf`, `.vcard`), or
/// by content (the first non-blank text is `BEGIN:VCARD`, in UTF-8 or in
/// UTF-16 with a byte-order mark), which is what `-` (standard input) has.
pub(super) fn is_vcard(path: &str, sample: &[u8]) -> bool {
    matches!(
        super::extension(path).as_deref(),
        Some("vcf") | Some("vcard")
    ) || starts_with_begin(&container_prefix(sample, 1024))
}

/// Up to `limit` first bytes of the sample as UTF-8 (UTF-16 with a BOM
/// decoded).
fn container_prefix(sample: &[u8], limit: usize) -> Vec<u8> {
    let head = &sample[..sample.len().min(limit)];
    match Encoding::for_bom(head) {
        Some((enc, bom)) if enc != UTF_8 => enc
            .decode_without_bom_handling(&head[bom..])
            .0
            .into_owned()
            .into_bytes(),
        Some((_, bom)) => head[bom..].to_vec(),
        None => head.to_vec(),
    }
}

fn starts_with_begin(text: &[u8]) -> bool {
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let rest = &text[start..];
    rest.len() >= 11 && rest[..11].eq_ignore_ascii_case(b"BEGIN:VCARD")
}

/// Opens a vCard file whose first bytes are `sample`; `rest` is the unread
/// remainder of the same input.
///
/// `fallback` is the `--encoding` the user gave, used for values that are
/// not UTF-8 and name no `CHARSET`.
pub(super) fn open(
    path: &str,
    shown: &str,
    sample: Vec<u8>,
    rest: Box<dyn Read + Send>,
    fallback: Option<&'static Encoding>,
) -> Result<Source, SourceError> {
    let bom = Encoding::for_bom(&sample);
    let container = match (bom, fallback) {
        (Some((enc, _)), _) => enc,
        // UTF-16 without a BOM can only be known from the user.
        (None, Some(enc)) if enc == UTF_16LE || enc == UTF_16BE => enc,
        _ => UTF_8,
    };
    let text = container_prefix(&sample, sample.len());
    if !contains_begin(&text) && sample.len() < super::SAMPLE_LEN {
        return Err(SourceError::unreadable(
            shown,
            "is not a vCard file: it has no BEGIN:VCARD line",
        ));
    }
    let mut body: Box<dyn Read + Send> = Box::new(Cursor::new(sample).chain(rest));
    if let Some((_, len)) = bom {
        let mut skip = [0u8; 3];
        body.read_exact(&mut skip[..len])
            .map_err(|e| SourceError::io(shown, e))?;
    }
    if container != UTF_8 {
        body = Box::new(DecodingReader::new(body, container));
    }
    let cards = Cards {
        lines: Lines {
            input: Box::new(BufReader::with_capacity(64 * 1024, body)),
            line_no: 0,
            peeked: None,
        },
        ordinal: 0,
        fallback: fallback.filter(|e| *e != UTF_16LE && *e != UTF_16BE),
        path: shown.to_string(),
        done: false,
    };
    Ok(Source {
        headers: HEADERS.iter().map(|h| h.to_string()).collect(),
        info: SourceInfo {
            path: path.to_string(),
            format: Format::VCard,
            encoding: Some(container.name().to_string()),
            delimiter: None,
            sheet: None,
            workbook: None,
            header_row: 0,
            bom: false,
            crlf: false,
        },
        records: Box::new(cards),
    })
}

fn contains_begin(text: &[u8]) -> bool {
    text.windows(11)
        .any(|w| w.eq_ignore_ascii_case(b"BEGIN:VCARD"))
}

/// Physical lines of the input, numbered from 1, with one line of look-back.
struct Lines {
    input: Box<dyn BufRead + Send>,
    line_no: u64,
    peeked: Option<(u64, Vec<u8>)>,
}

impl Lines {
    /// The next line without its line ending (CRLF, LF or a lone CR at the
    /// end), or `None` at the end of the input.
    fn next(&mut self) -> std::io::Result<Option<(u64, Vec<u8>)>> {
        if let Some(p) = self.peeked.take() {
            return Ok(Some(p));
        }
        let mut line = Vec::new();
        if self.input.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        self.line_no += 1;
        Ok(Some((self.line_no, line)))
    }

    fn push_back(&mut self, line: (u64, Vec<u8>)) {
        self.peeked = Some(line);
    }
}

/// One logical (unfolded) content line and the physical line it starts on.
#[derive(Debug)]
struct Logical {
    line_no: u64,
    text: Vec<u8>,
    /// (quoted-printable, base64) once the head has been read whole, so a
    /// long folded value does not have its head parsed again per line.
    encoding: Option<(bool, bool)>,
}

impl Logical {
    fn encoding(&mut self) -> (bool, bool) {
        if let Some(e) = self.encoding {
            return e;
        }
        match Head::parse(&self.text) {
            Some(h) => {
                let e = (h.quoted_printable, h.base64);
                self.encoding = Some(e);
                e
            }
            // No `:` yet (a head folded over lines): ask again next line.
            None => (false, false),
        }
    }
}

/// How a card's text ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// At its `END:VCARD`.
    Found,
    /// A `BEGIN:VCARD` at this line came first.
    NextBegin(u64),
    /// The input ended first.
    Eof,
}

/// A piece of the file: a card, or text outside any card.
#[derive(Debug)]
enum Entry {
    Card {
        start: u64,
        lines: Vec<Logical>,
        end: End,
    },
    Outside {
        first: u64,
        last: u64,
    },
}

/// The record stream.
struct Cards {
    lines: Lines,
    ordinal: u64,
    fallback: Option<&'static Encoding>,
    path: String,
    done: bool,
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

fn is_marker(line: &[u8], marker: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.len() == marker.len() && t.eq_ignore_ascii_case(marker)
}

fn is_begin(line: &[u8]) -> bool {
    // A UTF-8 BOM may sit before the very first BEGIN of a file.
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    is_marker(line, b"BEGIN:VCARD")
}

fn is_end(line: &[u8]) -> bool {
    is_marker(line, b"END:VCARD")
}

impl Cards {
    /// Reads the next entry, unfolding its lines.
    fn next_entry(&mut self) -> std::io::Result<Option<Entry>> {
        let (start, first) = loop {
            match self.lines.next()? {
                None => return Ok(None),
                Some((_, l)) if is_blank(&l) => continue,
                Some(x) => break x,
            }
        };
        if !is_begin(&first) {
            let mut last = start;
            while let Some((n, l)) = self.lines.next()? {
                if is_begin(&l) {
                    self.lines.push_back((n, l));
                    break;
                }
                if !is_blank(&l) {
                    last = n;
                }
            }
            return Ok(Some(Entry::Outside { first: start, last }));
        }
        let mut lines: Vec<Logical> = Vec::new();
        loop {
            let Some((n, l)) = self.lines.next()? else {
                return Ok(Some(Entry::Card {
                    start,
                    lines,
                    end: End::Eof,
                }));
            };
            // Checked before any continuation rule: a dangling soft break
            // (a value ending in `=` by mistake) must not swallow the end.
            if is_end(&l) {
                return Ok(Some(Entry::Card {
                    start,
                    lines,
                    end: End::Found,
                }));
            }
            if is_begin(&l) {
                self.lines.push_back((n, l));
                return Ok(Some(Entry::Card {
                    start,
                    lines,
                    end: End::NextBegin(n),
                }));
            }
            if let Some(cur) = lines.last_mut() {
                let (quoted_printable, base64) = cur.encoding();
                // Quoted-printable soft line break (vCard 2.1): the value
                // goes on, verbatim, on the next physical line.
                if quoted_printable && cur.text.last() == Some(&b'=') {
                    cur.text.pop();
                    cur.text.extend_from_slice(&l);
                    continue;
                }
                // RFC 6350 3.2 / RFC 2425 5.8.1 folding: CRLF plus one
                // space or tab, which unfolding removes. Octets are joined,
                // so a character split across the fold comes back whole.
                if l.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                    cur.text.extend_from_slice(&l[1..]);
                    continue;
                }
                // Some 2.1 writers put base64 data on unindented lines.
                if base64 && !is_blank(&l) && !l.contains(&b':') {
                    cur.text.extend_from_slice(l.trim_ascii());
                    continue;
                }
            }
            // A blank line inside a card ends a 2.1 base64 value; it holds
            // no property.
            if is_blank(&l) {
                continue;
            }
            lines.push(Logical {
                line_no: n,
                text: l,
                encoding: None,
            });
        }
    }
}

impl Iterator for Cards {
    type Item = Result<Record, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let entry = match self.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(SourceError::io(&self.path, e)));
            }
        };
        self.ordinal += 1;
        Some(Ok(entry_record(self.ordinal, entry, self.fallback)))
    }
}

/// Turns an entry into its record.
fn entry_record(ordinal: u64, entry: Entry, fallback: Option<&'static Encoding>) -> Record {
    match entry {
        Entry::Outside { first, last } => {
            let lines = if first == last {
                format!("line {first} is")
            } else {
                format!("lines {first}-{last} are")
            };
            Record {
                row: ordinal,
                fields: HEADERS.iter().map(|_| "").collect(),
                problem: Some(RecordProblem::Malformed {
                    code: INVALID_CODE,
                    detail: format!(
                        "{lines} outside any BEGIN:VCARD ... END:VCARD card, so they are not a contact"
                    ),
                }),
            }
        }
        Entry::Card { start, lines, end } => {
            let mut problems = Vec::new();
            match end {
                End::Found => {}
                End::NextBegin(n) => problems.push(format!(
                    "the card at line {start} has no END:VCARD before the next BEGIN:VCARD (line {n})"
                )),
                End::Eof => problems.push(format!(
                    "the card at line {start} has no END:VCARD: the file ends first"
                )),
            }
            let contact = read_card(&lines, fallback, &mut problems);
            Record {
                row: ordinal,
                fields: contact.into_iter().collect(),
                problem: (!problems.is_empty()).then(|| RecordProblem::Malformed {
                    code: INVALID_CODE,
                    detail: problems.join("; "),
                }),
            }
        }
    }
}

/// The name and parameters of a content line (everything before its `:`).
#[derive(Debug, Default)]
struct Head {
    group: Option<String>,
    /// Upper-case property name without the group.
    name: String,
    /// Upper-case parameter names with their values (unquoted, `TYPE`
    /// values lower-cased and split on commas). vCard 2.1's bare
    /// parameters (`TEL;CELL;PREF`) become `TYPE`, and a bare
    /// `QUOTED-PRINTABLE` or `BASE64` becomes `ENCODING`.
    params: Vec<(String, Vec<String>)>,
    quoted_printable: bool,
    base64: bool,
    /// Byte offset of the value (just past the `:`).
    value_at: usize,
}

/// Position of the first `:` outside double quotes (parameter values such
/// as `LABEL="…"` may hold one).
fn find_colon(text: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, b) in text.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits on `sep` outside double quotes.
fn split_unquoted(text: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&text[start..i]);
            start = i + 1;
        }
    }
    out.push(&text[start..]);
    out
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Head {
    /// Parses the head of `line`; `None` when it has no `:` or its name is
    /// not a property name.
    fn parse(line: &[u8]) -> Option<Head> {
        let colon = find_colon(line)?;
        let head = std::str::from_utf8(&line[..colon]).ok()?;
        let mut parts = split_unquoted(head, ';').into_iter();
        let full = parts.next()?.trim();
        let (group, name) = match full.rsplit_once('.') {
            Some((g, n)) => (Some(g.to_string()), n),
            None => (None, full),
        };
        if !is_name(name) || group.as_deref().is_some_and(|g| !g.split('.').all(is_name)) {
            return None;
        }
        let mut h = Head {
            group,
            name: name.to_ascii_uppercase(),
            value_at: colon + 1,
            ..Head::default()
        };
        for p in parts {
            let p = p.trim();
            if p.is_empty() {
                continue;
            }
            let (pname, values) = match p.split_once('=') {
                Some((n, v)) => (
                    n.trim().to_ascii_uppercase(),
                    split_unquoted(v, ',')
                        .into_iter()
                        .map(|x| x.trim().trim_matches('"').to_string())
                        .collect::<Vec<_>>(),
                ),
                None => {
                    let upper = p.to_ascii_uppercase();
                    let name = match upper.as_str() {
                        "QUOTED-PRINTABLE" | "BASE64" | "B" | "8BIT" | "7BIT" => "ENCODING",
                        _ => "TYPE",
                    };
                    (name.to_string(), vec![p.to_string()])
                }
            };
            let values = if pname == "TYPE" {
                // `TYPE="cell,voice"` (4.0) quotes a list.
                values
                    .iter()
                    .flat_map(|v| v.split(','))
                    .map(|v| v.trim().to_ascii_lowercase())
                    .filter(|v| !v.is_empty())
                    .collect()
            } else {
                values
            };
            if pname == "ENCODING" {
                for v in &values {
                    match v.to_ascii_uppercase().as_str() {
                        "QUOTED-PRINTABLE" => h.quoted_printable = true,
                        "BASE64" | "B" => h.base64 = true,
                        _ => {}
                    }
                }
            }
            h.params.push((pname, values));
        }
        Some(h)
    }

    fn param(&self, name: &str) -> Option<&[String]> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    fn types(&self) -> impl Iterator<Item = &str> {
        self.params
            .iter()
            .filter(|(n, _)| n == "TYPE")
            .flat_map(|(_, v)| v.iter().map(String::as_str))
    }

    /// Preference: `TYPE=pref` (2.1/3.0) counts as 1; `PREF=n` (4.0, 1 is
    /// the most preferred) as n.
    fn pref(&self) -> Option<u32> {
        if let Some(v) = self.param("PREF") {
            return Some(v.first().and_then(|p| p.trim().parse().ok()).unwrap_or(1));
        }
        self.types().any(|t| t == "pref").then_some(1)
    }
}

/// One property of a card, with its value still encoded.
struct Prop<'a> {
    line_no: u64,
    head: Head,
    raw: &'a [u8],
}

/// Splits a raw value into its `;`-separated components, honouring `\;`.
fn components(raw: &[u8]) -> Vec<&[u8]> {
    split_unescaped(raw, b';')
}

/// Splits a text value on unescaped `,` (CATEGORIES), still escaped.
fn list_values(raw: &[u8]) -> Vec<&[u8]> {
    split_unescaped(raw, b',')
}

/// Splits `raw` on each `sep` not escaped by a backslash; the pieces keep
/// their escapes.
fn split_unescaped(raw: &[u8], sep: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            i += 1;
        } else if raw[i] == sep {
            out.push(&raw[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    out.push(&raw[start.min(raw.len())..]);
    out
}

/// Resolves the backslash escapes of RFC 6350 3.4 (and their 2.1 and
/// Google relatives): `\n` `\N` newline, `\\` `\;` `\,` `\:` the character.
/// Any other backslash is kept, so a 2.1 note with `C:\temp` survives.
fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 1 < raw.len() {
            match raw[i + 1] {
                b'n' | b'N' => {
                    out.push(b'\n');
                    i += 2;
                    continue;
                }
                c @ (b'\\' | b';' | b',' | b':') => {
                    out.push(c);
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// Decodes quoted-printable octets (RFC 2045 6.7; soft line breaks are
/// already joined). A `=` not followed by two hex digits is an error: the
/// value cannot be trusted.
fn decode_qp(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'=' {
            let hex = |b: u8| (b as char).to_digit(16);
            match (
                raw.get(i + 1).and_then(|b| hex(*b)),
                raw.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    let end = (i + 3).min(raw.len());
                    return Err(format!(
                        "bad quoted-printable {:?}",
                        String::from_utf8_lossy(&raw[i..end])
                    ));
                }
            }
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Ok(out)
}

impl Prop<'_> {
    /// Decodes one piece of this property's value (a component or a list
    /// value, still escaped) to text.
    fn text(&self, raw: &[u8], fallback: Option<&'static Encoding>) -> Result<String, String> {
        let name = &self.head.name;
        let at = |msg: String| format!("line {}: {msg} in {name}", self.line_no);
        if self.head.base64 {
            return Err(at(
                "a base64-encoded text value, which waport does not read".into(),
            ));
        }
        // Quoted-printable values are not backslash-escaped (Android writes
        // one or the other), so only plain values are unescaped.
        let bytes = if self.head.quoted_printable {
            decode_qp(raw).map_err(at)?
        } else {
            unescape(raw)
        };
        let charset = self
            .head
            .param("CHARSET")
            .and_then(|v| v.first())
            .map(|s| s.as_str());
        match charset {
            Some(label) => {
                let enc = Encoding::for_label(label.trim().as_bytes())
                    .filter(|e| *e != encoding_rs::REPLACEMENT)
                    .ok_or_else(|| at(format!("an unknown CHARSET {label:?}")))?;
                enc.decode_without_bom_handling_and_without_replacement(&bytes)
                    .map(|c| c.into_owned())
                    .ok_or_else(|| at(format!("text that is not valid {}", enc.name())))
            }
            None => match String::from_utf8(bytes) {
                Ok(s) => Ok(s),
                Err(e) => match fallback {
                    Some(enc) => enc
                        .decode_without_bom_handling_and_without_replacement(e.as_bytes())
                        .map(|c| c.into_owned())
                        .ok_or_else(|| at(format!("text that is not valid {}", enc.name()))),
                    None => Err(at(
                        "text that is not UTF-8 and names no CHARSET (give --encoding, e.g. windows-1252 or windows-1251)"
                            .into(),
                    )),
                },
            },
        }
    }

    /// The whole value as text (`;` and `,` unescaped, not split).
    fn whole(&self, fallback: Option<&'static Encoding>) -> Result<String, String> {
        self.text(self.raw, fallback)
    }

    /// The value's components as text.
    fn parts(&self, fallback: Option<&'static Encoding>) -> Result<Vec<String>, String> {
        components(self.raw)
            .into_iter()
            .map(|c| self.text(c, fallback))
            .collect()
    }
}

/// A telephone number of a card, with what the card says about it.
struct Tel {
    value: String,
    types: Vec<String>,
    label: Option<String>,
    pref: Option<u32>,
}

impl Tel {
    /// Lower is better; `None` for numbers never chosen (fax, pager).
    fn class(&self) -> Option<u8> {
        let label = self.label.as_deref().unwrap_or("").to_lowercase();
        let has_type = |ts: &[&str]| self.types.iter().any(|t| ts.contains(&t.as_str()));
        let label_says = |ws: &[&str]| ws.iter().any(|w| label.contains(w));
        if has_type(&["whatsapp", "x-whatsapp"])
            || label_says(&["whatsapp"])
            || label.trim() == "wa"
        {
            return Some(0);
        }
        let mobile = has_type(&["cell", "mobile", "iphone", "cellular"])
            || label_says(&[
                "mobile",
                "mobil",
                "móvil",
                "movil",
                "celular",
                "cell",
                "iphone",
                "мобил",
                "сотов",
            ]);
        if mobile {
            return Some(1);
        }
        if has_type(&["fax", "pager"]) || label_says(&["fax", "pager", "факс"]) {
            return None;
        }
        Some(if self.pref.is_some() { 2 } else { 3 })
    }

    /// How the number is shown in `Other Phones`: `+34… (work)`.
    fn describe(&self) -> String {
        let what = match &self.label {
            Some(l) if !l.is_empty() => l.clone(),
            _ => self
                .types
                .iter()
                .filter(|t| !matches!(t.as_str(), "voice" | "pref" | "internet"))
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
        };
        if what.is_empty() {
            self.value.clone()
        } else {
            format!("{} ({what})", self.value)
        }
    }
}

/// Apple writes its standard labels as `_$!<Mobile>!$_`.
fn clean_label(label: &str) -> String {
    let t = label.trim();
    t.strip_prefix("_$!<")
        .and_then(|s| s.strip_suffix(">!$_"))
        .unwrap_or(t)
        .to_string()
}

/// Reads the fields of one card; problems are appended to `problems` and
/// the fields they concern are left empty.
fn read_card(
    lines: &[Logical],
    fallback: Option<&'static Encoding>,
    problems: &mut Vec<String>,
) -> [String; HEADERS.len()] {
    let mut props = Vec::with_capacity(lines.len());
    for l in lines {
        match Head::parse(&l.text) {
            Some(head) => {
                let raw = &l.text[head.value_at..];
                props.push(Prop {
                    line_no: l.line_no,
                    head,
                    raw,
                });
            }
            None => {
                let shown: String = String::from_utf8_lossy(&l.text).chars().take(40).collect();
                problems.push(format!(
                    "line {}: {shown:?} is not a vCard property (NAME:value)",
                    l.line_no
                ));
            }
        }
    }
    // X-ABLabel / X-ABADR name the property of the same group (Apple).
    let group_value = |group: &Option<String>, name: &str, problems: &mut Vec<String>| {
        let g = group.as_ref()?;
        let p = props
            .iter()
            .find(|p| p.head.name == name && p.head.group.as_ref() == Some(g))?;
        match p.whole(fallback) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(e);
                None
            }
        }
    };

    let mut f: [String; HEADERS.len()] = Default::default();
    let mut tels: Vec<Tel> = Vec::new();
    let mut emails: Vec<(Option<u32>, String)> = Vec::new();
    let mut adrs: Vec<(Option<u32>, Vec<String>, Option<String>)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    let mut n_parts: Option<Vec<String>> = None;
    for p in &props {
        let keep = |r: Result<String, String>, problems: &mut Vec<String>| match r {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(e);
                None
            }
        };
        match p.head.name.as_str() {
            "FN" if f[NAME].is_empty() => {
                if let Some(v) = keep(p.whole(fallback), problems) {
                    f[NAME] = v.trim().to_string();
                }
            }
            "N" if n_parts.is_none() => match p.parts(fallback) {
                Ok(v) => n_parts = Some(v),
                Err(e) => problems.push(e),
            },
            "ORG" if f[COMPANY].is_empty() => match p.parts(fallback) {
                Ok(v) => {
                    // The organisation's name; units after it are dropped.
                    if let Some(org) = v.iter().map(|s| s.trim()).find(|s| !s.is_empty()) {
                        f[COMPANY] = org.to_string();
                    }
                }
                Err(e) => problems.push(e),
            },
            "TEL" => {
                if let Some(v) = keep(p.whole(fallback), problems) {
                    let v = v.trim();
                    let v = match v.get(..4) {
                        Some(s) if s.eq_ignore_ascii_case("tel:") => v[4..].trim(),
                        _ => v,
                    };
                    if !v.is_empty() {
                        tels.push(Tel {
                            value: v.to_string(),
                            types: p.head.types().map(str::to_string).collect(),
                            label: group_value(&p.head.group, "X-ABLABEL", problems)
                                .map(|l| clean_label(&l)),
                            pref: p.head.pref(),
                        });
                    }
                }
            }
            "EMAIL" => {
                if let Some(v) = keep(p.whole(fallback), problems) {
                    let v = v.trim();
                    if !v.is_empty() {
                        emails.push((p.head.pref(), v.to_string()));
                    }
                }
            }
            "ADR" => match p.parts(fallback) {
                Ok(v) => {
                    let iso = group_value(&p.head.group, "X-ABADR", problems);
                    adrs.push((p.head.pref(), v, iso));
                }
                Err(e) => problems.push(e),
            },
            "NOTE" => {
                if let Some(v) = keep(p.whole(fallback), problems)
                    && !v.trim().is_empty()
                {
                    notes.push(v.trim().to_string());
                }
            }
            "CATEGORIES" => {
                for raw in list_values(p.raw) {
                    if let Some(t) = keep(p.text(raw, fallback), problems) {
                        let t = t.trim();
                        if !t.is_empty()
                            && !t.eq_ignore_ascii_case(GOOGLE_ALL_CONTACTS)
                            && !tags.iter().any(|x| x == t)
                        {
                            tags.push(t.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }

    if let Some(n) = n_parts {
        let part = |i: usize| n.get(i).map(|s| s.trim()).unwrap_or("");
        f[LAST] = part(0).to_string();
        f[FIRST] = part(1).to_string();
        if f[NAME].is_empty() {
            // No FN (allowed in 2.1): the name as N spells it.
            f[NAME] = [part(3), part(1), part(2), part(0), part(4)]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
        }
    }

    // The WhatsApp candidate: best class, then preference, then file order.
    let chosen = tels
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.class().map(|c| (c, t.pref.unwrap_or(u32::MAX), i)))
        .min()
        .map(|(_, _, i)| i);
    if let Some(i) = chosen {
        f[PHONE] = tels[i].value.clone();
    }
    f[OTHER_PHONES] = tels
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != chosen)
        .map(|(_, t)| t.describe())
        .collect::<Vec<_>>()
        .join("; ");

    let first_email = emails
        .iter()
        .enumerate()
        .min_by_key(|(i, (pref, _))| (pref.unwrap_or(u32::MAX), *i))
        .map(|(i, _)| i);
    if let Some(i) = first_email {
        f[EMAIL] = emails[i].1.clone();
        f[OTHER_EMAILS] = emails
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (_, e))| e.as_str())
            .collect::<Vec<_>>()
            .join("; ");
    }

    let adr = adrs
        .iter()
        .enumerate()
        .min_by_key(|(i, (pref, _, _))| (pref.unwrap_or(u32::MAX), *i))
        .map(|(_, a)| a);
    if let Some((_, parts, iso)) = adr {
        let part = |i: usize| parts.get(i).map(|s| s.trim()).unwrap_or("");
        // post office box; extended address; street; locality; region;
        // postal code; country name (RFC 6350 6.3.1).
        f[ADDRESS] = [part(2), part(1), part(0)]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        f[CITY] = part(3).to_string();
        f[STATE] = part(4).to_string();
        f[POSTAL] = part(5).to_string();
        f[COUNTRY] = if part(6).is_empty() {
            // Apple's X-ABADR holds the ISO code of the address's country.
            iso.as_deref().unwrap_or("").trim().to_ascii_uppercase()
        } else {
            part(6).to_string()
        };
    }
    f[NOTES] = notes.join("\n");
    f[TAGS] = tags.join("; ");
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `text` as a vCard file and returns its records.
    fn read(text: &str) -> Vec<Record> {
        read_bytes(text.as_bytes(), None)
    }

    fn read_bytes(bytes: &[u8], fallback: Option<&'static Encoding>) -> Vec<Record> {
        let src = open(
            "t.vcf",
            "t.vcf",
            bytes.to_vec(),
            Box::new(std::io::empty()),
            fallback,
        )
        .expect("opens");
        src.records.map(|r| r.expect("record")).collect()
    }

    fn field<'a>(r: &'a Record, name: &str) -> &'a str {
        let i = HEADERS
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        r.fields.get(i).unwrap_or("")
    }

    fn problem(r: &Record) -> Option<&str> {
        match &r.problem {
            Some(RecordProblem::Malformed { detail, .. }) => Some(detail),
            _ => None,
        }
    }

    fn crlf(s: &str) -> String {
        s.lines().map(|l| format!("{l}\r\n")).collect()
    }

    #[test]
    fn every_header_is_recognised_except_the_kept_lists() {
        use crate::mapping::{Target, recognise};
        let expect = [
            ("Name", "name"),
            ("First Name", "first_name"),
            ("Last Name", "last_name"),
            ("Phone", "phone"),
            ("Email", "email"),
            ("Company", "company"),
            ("Address", "address"),
            ("City", "city"),
            ("State", "state"),
            ("Postal Code", "postal_code"),
            ("Country", "country"),
            ("Notes", "notes"),
            ("Tags", "tags"),
        ];
        for h in HEADERS {
            match expect.iter().find(|(n, _)| *n == h) {
                Some((_, field)) => {
                    assert_eq!(
                        recognise(h),
                        Some(Target::Field(field.parse().unwrap())),
                        "{h}"
                    )
                }
                None => assert_eq!(recognise(h), None, "{h} must stay in the report"),
            }
        }
    }

    #[test]
    fn folded_lines_are_unfolded_even_inside_an_escape_or_a_character() {
        // "Núñez" folded between the two bytes of "ñ", and a note folded
        // between a backslash and the comma it escapes.
        let mut bytes =
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Rosa N\xC3\xBA\xC3\r\n \xB1ez\r\n".to_vec();
        bytes.extend_from_slice(
            b"NOTE:uno\\\r\n\t, dos\r\nTEL;TYPE=CELL:+51 987\r\n  654 321\r\nEND:VCARD\r\n",
        );
        let r = &read_bytes(&bytes, None)[0];
        assert_eq!(problem(r), None);
        assert_eq!(field(r, "Name"), "Rosa Núñez");
        assert_eq!(field(r, "Notes"), "uno, dos");
        // One space of the fold is removed, the second one is content.
        assert_eq!(field(r, "Phone"), "+51 987 654 321");
    }

    #[test]
    fn quoted_printable_soft_breaks_and_charset_are_decoded() {
        // As Android writes it: every byte =XX, `=` CRLF after 67
        // characters, and a soft break right before the line ending that
        // leaves an empty physical line.
        let text = "BEGIN:VCARD\r\nVERSION:2.1\r\n\
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD=D0=BE=D0=B2;=D0=94=D0=BC=D0=B8=D1=82=D1=80=D0=B8=D0=B9;;;\r\n\
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=94=D0=BC=D0=B8=D1=82=D1=80=D0=B8=D0=B9=20=D0=98=D0=B2=D0=B0=\r\n\
=D0=BD=D0=BE=D0=B2=\r\n\
\r\n\
NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=windows-1252:caf=E9 a las=\r\n 5=3B sin az=FAcar\r\n\
TEL;CELL:+7 916 123-45-67\r\n\
END:VCARD\r\n";
        let r = &read(text)[0];
        assert_eq!(problem(r), None);
        assert_eq!(field(r, "Last Name"), "Иванов");
        assert_eq!(field(r, "First Name"), "Дмитрий");
        assert_eq!(field(r, "Name"), "Дмитрий Иванов");
        // The soft break keeps the next line whole, leading space included;
        // `=3B` is a literal semicolon, not a separator.
        assert_eq!(field(r, "Notes"), "café a las 5; sin azúcar");
        assert_eq!(field(r, "Phone"), "+7 916 123-45-67");
    }

    #[test]
    fn iphone_item_groups_label_and_prefer_the_right_number() {
        let text = crlf(
            "BEGIN:VCARD
VERSION:3.0
N:Peña;Joaquín;;;
FN:Joaquín Peña
TEL;type=WORK;type=VOICE;type=pref:+52 55 5280 1234
item1.TEL:+52 1 55 1234 5678
item1.X-ABLabel:WhatsApp
item2.TEL;type=FAX:+52 55 5280 9999
item3.ADR;type=HOME:;;Av. Reforma 222;Ciudad de México;CDMX;06600;
item3.X-ABADR:mx
EMAIL;type=INTERNET;type=HOME:joaquin@correo.mx
EMAIL;type=INTERNET;type=WORK;type=pref:jpena@ejemplo.mx
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Café Andino SAS
TEL;type=MAIN;type=pref:+57 601 234 5678
item1.TEL;type=CELL:+57 310 555 0199
item1.X-ABLabel:_$!<Mobile>!$_
END:VCARD",
        );
        let rs = read(&text);
        assert_eq!(rs.len(), 2);
        let r = &rs[0];
        assert_eq!(
            field(r, "Phone"),
            "+52 1 55 1234 5678",
            "WhatsApp label wins"
        );
        assert_eq!(
            field(r, "Other Phones"),
            "+52 55 5280 1234 (work); +52 55 5280 9999 (fax)"
        );
        assert_eq!(field(r, "Email"), "jpena@ejemplo.mx", "pref e-mail first");
        assert_eq!(field(r, "Other Emails"), "joaquin@correo.mx");
        assert_eq!(field(r, "Country"), "MX", "X-ABADR fills an empty country");
        assert_eq!(field(r, "City"), "Ciudad de México");
        let r = &rs[1];
        assert_eq!(
            field(r, "Phone"),
            "+57 310 555 0199",
            "a mobile beats a preferred main line"
        );
        assert_eq!(field(r, "Other Phones"), "+57 601 234 5678 (main)");
        assert_eq!(rs.iter().map(|r| r.row).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn vcard4_tel_uris_quoted_types_and_pref_numbers() {
        let text = crlf(
            r#"BEGIN:VCARD
VERSION:4.0
FN:Ольга Смирнова
TEL;VALUE=uri;TYPE=work;PREF=1:tel:+7-812-555-01-00;ext=102
TEL;VALUE=uri;TYPE="voice,cell";PREF=2:tel:+7-921-555-01-23
TEL;VALUE=uri;TYPE="cell":tel:+7-921-555-09-99
ADR;TYPE=work;LABEL="Невский пр., 28:\nСанкт-Петербург":;;Невский пр.\, 28;Санкт-Петербург;;191186;Россия
CATEGORIES:клиенты,VIP\,оптовые,myContacts
END:VCARD"#,
        );
        let r = &read(&text)[0];
        assert_eq!(problem(r), None);
        assert_eq!(field(r, "Phone"), "+7-921-555-01-23", "preferred mobile");
        assert_eq!(
            field(r, "Other Phones"),
            "+7-812-555-01-00;ext=102 (work); +7-921-555-09-99 (cell)"
        );
        assert_eq!(field(r, "Address"), "Невский пр., 28");
        assert_eq!(field(r, "Country"), "Россия");
        assert_eq!(field(r, "Postal Code"), "191186");
        // Google's system group is dropped; an escaped comma stays inside.
        assert_eq!(field(r, "Tags"), "клиенты; VIP,оптовые");
    }

    #[test]
    fn a_fax_alone_is_never_the_phone() {
        let r = &read(&crlf(
            "BEGIN:VCARD\nFN:Eva\nTEL;TYPE=FAX:+34 911 000 000\nEND:VCARD",
        ))[0];
        assert_eq!(field(r, "Phone"), "");
        assert_eq!(field(r, "Other Phones"), "+34 911 000 000 (fax)");
    }

    #[test]
    fn a_malformed_card_is_one_problem_and_reading_goes_on() {
        let text = crlf(
            "BEGIN:VCARD
FN:Rosa Díaz
TEL;TYPE=CELL:+51 987 654 321
END:VCARD
BEGIN:VCARD
FN:Pablo Ruiz
TEL;TYPE=CELL:+34 699 11 22 33
BEGIN:VCARD
FN:Elena Vidal
esto no es una propiedad
END:VCARD
BEGIN:VCARD
VERSION:2.1
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Jos=C3=A9 =ZZ
TEL;CELL:+52 55 8765 4321
END:VCARD
BEGIN:VCARD
FN;CHARSET=x-nonsense:Ana
END:VCARD
basura fuera de tarjeta
BEGIN:VCARD
FN:Tomás Ortega
TEL;TYPE=CELL:+598 94 123 456
END:VCARD
BEGIN:VCARD
FN:Sin Fin",
        );
        let rs = read(&text);
        let rows: Vec<u64> = rs.iter().map(|r| r.row).collect();
        assert_eq!(rows, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(problem(&rs[0]), None);
        let p = problem(&rs[1]).expect("no END");
        assert!(p.contains("line 5") && p.contains("line 8"), "{p}");
        // What could be read is kept, for the report.
        assert_eq!(field(&rs[1], "Name"), "Pablo Ruiz");
        assert_eq!(field(&rs[1], "Phone"), "+34 699 11 22 33");
        let p = problem(&rs[2]).expect("bad line");
        assert!(p.contains("line 10") && p.contains("esto no es"), "{p}");
        let p = problem(&rs[3]).expect("bad QP");
        assert!(p.contains("line 14") && p.contains("=ZZ"), "{p}");
        assert_eq!(field(&rs[3], "Name"), "");
        assert_eq!(field(&rs[3], "Phone"), "+52 55 8765 4321");
        let p = problem(&rs[4]).expect("charset");
        assert!(p.contains("x-nonsense"), "{p}");
        let p = problem(&rs[5]).expect("outside");
        assert!(p.contains("line 20"), "{p}");
        assert_eq!(problem(&rs[6]), None);
        assert_eq!(field(&rs[6], "Name"), "Tomás Ortega");
        let p = problem(&rs[7]).expect("eof");
        assert!(p.contains("file ends"), "{p}");
    }

    #[test]
    fn text_that_is_not_utf8_needs_a_charset_or_encoding() {
        let bytes = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Jos\xE9 P\xE9rez\r\nTEL;CELL:+34 600 000 000\r\nEND:VCARD\r\n";
        let r = &read_bytes(bytes, None)[0];
        let p = problem(r).expect("not UTF-8");
        assert!(p.contains("--encoding"), "{p}");
        assert_eq!(field(r, "Name"), "", "never decoded with replacement");
        let r = &read_bytes(bytes, Some(encoding_rs::WINDOWS_1252))[0];
        assert_eq!(problem(r), None);
        assert_eq!(field(r, "Name"), "José Pérez");
        // A CHARSET that does not fit the bytes is a problem too.
        let bad = b"BEGIN:VCARD\r\nFN;CHARSET=UTF-8:Jos\xE9\r\nEND:VCARD\r\n";
        assert!(problem(&read_bytes(bad, None)[0]).is_some());
    }

    #[test]
    fn escapes_names_from_n_and_org_units() {
        let r = &read(&crlf(
            r"BEGIN:VCARD
VERSION:3.0
N:García López;María José;;Dra.;
ORG:ABC\, S.A.;Ventas
NOTE:línea 1\nlínea 2\; fin\\ C:\temp
END:VCARD",
        ))[0];
        assert_eq!(problem(r), None);
        assert_eq!(field(r, "Name"), "Dra. María José García López");
        assert_eq!(field(r, "First Name"), "María José");
        assert_eq!(field(r, "Last Name"), "García López");
        assert_eq!(field(r, "Company"), "ABC, S.A.");
        assert_eq!(field(r, "Notes"), "línea 1\nlínea 2; fin\\ C:\\temp");
    }

    #[test]
    fn utf16_and_bom_files_are_read_and_sniffed() {
        let text = "BEGIN:VCARD\r\nFN:Zoë\r\nTEL;TYPE=CELL:+34 600 111 222\r\nEND:VCARD\r\n";
        let mut le = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert!(is_vcard("-", &le));
        let r = &read_bytes(&le, None)[0];
        assert_eq!(field(r, "Name"), "Zoë");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert!(is_vcard("-", &bom));
        assert_eq!(
            field(&read_bytes(&bom, None)[0], "Phone"),
            "+34 600 111 222"
        );
        assert!(is_vcard("-", b"\r\n  begin:vcard\r\n"));
        assert!(!is_vcard("-", b"Name,Phone\r\nBEGIN:VCARD,1\r\n"));
        assert!(is_vcard("x.VCF", b"whatever"));
    }

    #[test]
    fn base64_photos_are_skipped_however_they_are_wrapped() {
        let text = "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Ana\r\n\
PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n  /2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\n\r\n\
LOGO;ENCODING=BASE64;TYPE=PNG:iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\r\nCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n\r\n\
TEL;CELL:+34 600 111 222\r\nEND:VCARD\r\n";
        let r = &read(text)[0];
        assert_eq!(problem(r), None);
        assert_eq!(field(r, "Phone"), "+34 600 111 222");
    }

    #[test]
    fn a_preamble_longer_than_a_kilobyte_before_the_first_card_is_reported() {
        let text = format!(
            "{}\r\nBEGIN:VCARD\r\nFN:Ana\r\nTEL;TYPE=CELL:+34 600 111 222\r\nEND:VCARD\r\n",
            "x".repeat(2000)
        );
        let rs = read(&text);
        assert_eq!(rs.len(), 2);
        assert!(problem(&rs[0]).is_some_and(|p| p.contains("line 1 is outside")));
        assert_eq!(field(&rs[1], "Name"), "Ana");
    }

    #[test]
    fn a_vcf_without_cards_is_refused() {
        let err = open(
            "x.vcf",
            "x.vcf",
            b"Name,Phone\nAna,+34600\n".to_vec(),
            Box::new(std::io::empty()),
            None,
        )
        .err()
        .expect("refused");
        assert!(err.to_string().contains("no BEGIN:VCARD"), "{err}");
    }
}
