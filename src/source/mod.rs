//! Readers: CSV (any delimiter, any common encoding), spreadsheets
//! (XLSX, XLSM, XLSB, XLS, ODS) and vCard (`.vcf`), all yielding the same
//! [`Record`] stream.
//!
//! [`open`] looks at the first bytes of the input, not only at its name:
//! a workbook renamed `.csv` is still read as a workbook, and a text export
//! saved as `.xls` (common with web tools) is read as delimited text.
//!
//! Decisions callers can rely on:
//! - Row numbers are what a spreadsheet user sees. In a CSV every record
//!   and every blank line is a row (the header is row 1 unless blank lines
//!   come before it); a quoted field that spans lines keeps its record one
//!   row, as a spreadsheet shows it. A record of the wrong width whose cells
//!   span lines is a stray quote that swallowed the rows below it: it is
//!   reported as [`RecordProblem::UnbalancedQuote`], and so is each row it
//!   swallowed, each under its own number. In a workbook the row is the
//!   sheet's own row number. In a vCard file the row is the card's ordinal
//!   (see [`vcard`]).
//! - No cell may hold more than [`MAX_CELL_BYTES`]: a larger one stops the
//!   read with an error naming the row and column.
//! - Header names are trimmed; an empty name becomes `column_N` (N counts
//!   from 1) and a repeated name gets `_2`, `_3`, ... so every column has a
//!   distinct name.
//! - CSV encoding: a byte-order mark wins; otherwise a sample that is valid
//!   UTF-8 means UTF-8; otherwise `--encoding` if given, else windows-1252
//!   (what Excel on Spanish Windows writes). See [`encoding`].

mod delimited;
pub mod encoding;
mod fields;
mod html;
mod spreadsheet;
pub mod vcard;

pub use fields::{Fields, FieldsIter};

use std::io::Read;
use std::path::Path;

use thiserror::Error;

/// Reader options a user can force from the command line.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// `--encoding NAME` (a WHATWG label: `utf-8`, `windows-1252`, `latin1`, ...).
    pub encoding: Option<String>,
    /// `--delimiter C`.
    pub delimiter: Option<u8>,
    /// `--sheet NAME|INDEX`: a sheet name (matched exactly, then ignoring
    /// case), or else a tab position counted from 1 as a user counts tabs.
    pub sheet: Option<String>,
}

/// The kind of file being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text.
    Csv,
    /// A workbook read through calamine.
    Spreadsheet,
    /// vCard cards, one record each under [`vcard::HEADERS`].
    VCard,
}

/// What the reader detected, for the summary line.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// The path as the user gave it (`-` for standard input).
    pub path: String,
    /// CSV or spreadsheet.
    pub format: Format,
    /// Encoding used to decode a CSV (`UTF-8`, `UTF-16LE`, `windows-1252`, ...).
    pub encoding: Option<String>,
    /// Delimiter used for a CSV.
    pub delimiter: Option<u8>,
    /// Sheet read from a workbook.
    pub sheet: Option<String>,
    /// Workbook flavour (`xlsx`, `xlsb`, `xls`, `ods`); `None` for a CSV.
    pub workbook: Option<&'static str>,
    /// Row number of the header (1 for a CSV; the sheet row in a workbook;
    /// 0 for a vCard file, which has none).
    pub header_row: u64,
    /// Whether a CSV started with a byte-order mark (Excel's "CSV UTF-8"
    /// does; the rejects file keeps it, and the report gets one).
    pub bom: bool,
    /// Whether a CSV's lines end in CR LF (as Windows programs write them),
    /// so the rejects file ends its lines the same way.
    pub crlf: bool,
}

/// Something wrong with one record that does not stop the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    /// The record has a different number of fields than the header.
    Ragged {
        /// Fields in the header.
        expected: usize,
        /// Fields in this record.
        found: usize,
    },
    /// The record could not be read whole (a malformed vCard card); the
    /// report shows `code: detail`.
    Malformed {
        /// The stable reason code (`invalid_vcard`).
        code: &'static str,
        /// What is wrong and where, for the user.
        detail: String,
    },
    /// A quote opened on row `opened` was never closed where it should
    /// have been and swallowed rows `opened + 1 ..= last`. Set on the
    /// record that opened it and on one record per swallowed row.
    UnbalancedQuote {
        /// The row whose cell opened the quote.
        opened: u64,
        /// The last row swallowed.
        last: u64,
    },
}

impl RecordProblem {
    /// The report's reason for a row with this problem.
    pub fn reason(&self) -> String {
        match self {
            RecordProblem::Ragged { expected, found } => {
                format!("ragged_row: expected {expected} fields, found {found}")
            }
            RecordProblem::Malformed { code, detail } => format!("{code}: {detail}"),
            RecordProblem::UnbalancedQuote { opened, last } => {
                let rows = if *last == opened + 1 {
                    format!("row {last}")
                } else {
                    format!("rows {}..{last}", opened + 1)
                };
                format!(
                    "unbalanced_quote: the quote opened on row {opened} swallowed {rows} (close or remove the stray \")"
                )
            }
        }
    }
}

/// The largest cell waport reads, in bytes (1 MiB). No contact field comes
/// near it; a file with a larger cell is damaged or built to exhaust memory
/// (a 2 MB XLSX can hold a 2 GiB string), so reading stops with an error
/// naming the cell instead.
pub const MAX_CELL_BYTES: usize = 1024 * 1024;

/// The error for a cell over [`MAX_CELL_BYTES`] at `row`, `column` (from 1).
pub(crate) fn cell_too_large(shown: &str, row: u64, column: usize) -> SourceError {
    SourceError::unreadable(
        shown,
        format!(
            "has a cell larger than 1 MiB at row {row}, column {column}: no contact field is that long, so the file is damaged (a stray quote, or not a contact list); fix or remove that cell"
        ),
    )
}

/// One data record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The row number a spreadsheet user sees: header is 1, first data row 2.
    pub row: u64,
    /// The fields as text, exactly as read (numbers rendered as typed).
    pub fields: Fields,
    /// Set when the record is malformed (it is still reported).
    pub problem: Option<RecordProblem>,
}

/// A fatal reading error: each message is one sentence naming the file.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file has no bytes.
    #[error("{path} is empty: there is no header row")]
    Empty {
        /// The file.
        path: String,
    },
    /// Anything else that makes the file unreadable.
    #[error("{path} {message}")]
    Unreadable {
        /// The file.
        path: String,
        /// What is wrong, phrased to follow the path.
        message: String,
    },
}

impl SourceError {
    /// Builds an [`SourceError::Unreadable`] for `path` (as shown to the user).
    pub(crate) fn unreadable(path: &str, message: impl Into<String>) -> Self {
        SourceError::Unreadable {
            path: path.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &str, source: std::io::Error) -> Self {
        SourceError::Io {
            path: path.to_string(),
            source,
        }
    }
}

/// An opened input: its header and a stream of records.
pub struct Source {
    /// Column names from the header row.
    pub headers: Vec<String>,
    /// What was detected.
    pub info: SourceInfo,
    /// The data records, in file order.
    pub records: Box<dyn Iterator<Item = Result<Record, SourceError>> + Send>,
}

/// How many bytes are looked at to decide format, encoding and delimiter.
const SAMPLE_LEN: usize = 64 * 1024;

/// Opens a CSV, spreadsheet or vCard file (by content, then extension);
/// `-` is stdin.
///
/// Only a bounded sample is read here; the records are read lazily as the
/// returned iterator is consumed, so memory does not grow with the row
/// count (XLS and ODS workbooks are the exception: calamine loads a whole
/// sheet for those formats).
pub fn open(path: &str, opts: &ReadOptions) -> Result<Source, SourceError> {
    let shown = display_name(path);
    // An unknown label is a usage mistake: say so before touching the file.
    let forced = forced_encoding(opts, &shown)?;

    let input: Box<dyn Read + Send> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        let file = std::fs::File::open(path).map_err(|e| SourceError::io(&shown, e))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(SourceError::unreadable(
                &shown,
                "is a directory, not a CSV or spreadsheet",
            ));
        }
        Box::new(file)
    };
    open_input(path, &shown, input, opts, forced, path != "-")
}

/// Opens a CSV or spreadsheet read from `input` (bytes in memory, a pipe);
/// `name` is used in messages and its extension as a hint, as a path is.
pub fn open_reader(
    name: &str,
    input: Box<dyn Read + Send>,
    opts: &ReadOptions,
) -> Result<Source, SourceError> {
    let forced = forced_encoding(opts, name)?;
    open_input(name, name, input, opts, forced, false)
}

/// The encoding `--encoding` names, if any; an unknown label is an error.
fn forced_encoding(
    opts: &ReadOptions,
    shown: &str,
) -> Result<Option<&'static encoding_rs::Encoding>, SourceError> {
    match &opts.encoding {
        Some(label) => encoding::resolve_label(label).map(Some).ok_or_else(|| {
            SourceError::unreadable(
                shown,
                format!(
                    "cannot be decoded: '{label}' is not a known encoding (try utf-8, windows-1252, windows-1251 or utf-16le)"
                ),
            )
        }),
        None => Ok(None),
    }
}

fn open_input(
    path: &str,
    shown: &str,
    mut input: Box<dyn Read + Send>,
    opts: &ReadOptions,
    forced: Option<&'static encoding_rs::Encoding>,
    on_disk: bool,
) -> Result<Source, SourceError> {
    let shown = shown.to_string();
    let sample = read_sample(&mut input, SAMPLE_LEN).map_err(|e| SourceError::io(&shown, e))?;
    if sample.is_empty() {
        return Err(SourceError::Empty { path: shown });
    }

    match sniff(&sample) {
        Sniffed::Zip | Sniffed::Ole => {
            return spreadsheet::open(path, &shown, sample, input, opts, on_disk);
        }
        Sniffed::Html => return html::open(path, &shown, sample, input),
        Sniffed::Other(what) => return Err(unsupported(&shown, what)),
        Sniffed::Text => {}
    }
    if vcard::is_vcard(path, &sample) {
        return vcard::open(path, &shown, sample, input, forced);
    }
    let truncated = sample.len() == SAMPLE_LEN;
    delimited::open(path, &shown, sample, truncated, input, opts, forced)
}

/// The name used in messages: the path as given, or `standard input`.
fn display_name(path: &str) -> String {
    if path == "-" {
        "standard input".to_string()
    } else {
        path.to_string()
    }
}

/// The error for an input that is no format waport reads.
fn unsupported(shown: &str, what: &str) -> SourceError {
    SourceError::unreadable(
        shown,
        format!(
            "is not a CSV or spreadsheet (unsupported format: {what}); waport reads CSV/TSV text, XLSX, XLSM, XLSB, XLS, ODS and HTML tables saved as .xls"
        ),
    )
}

/// What the first bytes say the input is.
enum Sniffed {
    /// An HTML document with a table (Bitrix24's "Excel" export).
    Html,
    /// A ZIP container: XLSX, XLSM, XLSB or ODS.
    Zip,
    /// An OLE compound file: XLS (or an encrypted OOXML workbook).
    Ole,
    /// A known non-tabular format, described for the error message.
    Other(&'static str),
    /// Anything else is tried as delimited text.
    Text,
}

fn sniff(sample: &[u8]) -> Sniffed {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "it is a PDF document"),
        (b"\x1f\x8b", "it is gzip-compressed data"),
        (b"\x89PNG", "it is a PNG image"),
        (b"\xff\xd8\xff", "it is a JPEG image"),
        (b"Rar!", "it is a RAR archive"),
        (b"7z\xbc\xaf", "it is a 7-Zip archive"),
        (b"GIF8", "it is a GIF image"),
        (b"SQLite format 3\0", "it is an SQLite database"),
        (b"BEGIN:VCALENDAR", "it is an iCalendar file"),
    ];
    if sample.starts_with(b"PK\x03\x04") || sample.starts_with(b"PK\x05\x06") {
        // A workbook's first entries name its parts; Mailchimp's export is
        // a ZIP of CSV files, which calamine would call a broken workbook.
        let workbook = [
            &b"[Content_Types].xml"[..],
            b"xl/",
            b"_rels/",
            b"docProps/",
            b"mimetype",
            b"content.xml",
        ]
        .iter()
        .any(|part| sample.windows(part.len()).any(|w| w == *part));
        if !workbook && sample.windows(4).any(|w| w.eq_ignore_ascii_case(b".csv")) {
            return Sniffed::Other(
                "it is a ZIP archive of CSV files (as Mailchimp exports): unzip it and give waport the CSV inside",
            );
        }
        return Sniffed::Zip;
    }
    if sample.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Sniffed::Ole;
    }
    for (magic, what) in MAGIC {
        if sample.starts_with(magic) {
            return Sniffed::Other(what);
        }
    }
    if html::looks_like_html(sample) {
        return if html::has_table(sample) {
            Sniffed::Html
        } else {
            Sniffed::Other(
                "it is an HTML page with no table: export the list as CSV instead (in Bitrix24: the list's gear menu, Export to CSV)",
            )
        };
    }
    if sample.starts_with(b"{\rtf") {
        return Sniffed::Other("it is an RTF document");
    }
    if sample.starts_with(b"\x7fELF") {
        return Sniffed::Other("it is a program, not data");
    }
    if looks_binary(sample) {
        return Sniffed::Other("it looks like binary data");
    }
    Sniffed::Text
}

/// Whether the sample holds NUL bytes that are not UTF-16 text: UTF-16
/// (with or without a BOM) puts the NULs of its ASCII characters all on
/// even or all on odd positions, and has many; binary data scatters a few.
fn looks_binary(sample: &[u8]) -> bool {
    if sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF") {
        return false;
    }
    let head = &sample[..sample.len().min(4096)];
    let (mut even, mut odd) = (0usize, 0usize);
    for (i, b) in head.iter().enumerate() {
        if *b == 0 {
            if i % 2 == 0 {
                even += 1;
            } else {
                odd += 1;
            }
        }
    }
    let nuls = even + odd;
    // UTF-16 text puts a NUL in every ASCII character (separators, digits,
    // line ends): never as rare as one byte in twenty.
    nuls > 0 && (even.min(odd) * 10 > nuls || nuls * 20 < head.len())
}

/// Reads up to `limit` bytes, fewer only at end of input.
fn read_sample(input: &mut dyn Read, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut sample = Vec::with_capacity(limit.min(SAMPLE_LEN));
    input.take(limit as u64).read_to_end(&mut sample)?;
    Ok(sample)
}

/// Lower-cased file extension, if any.
fn extension(path: &str) -> Option<String> {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Turns raw header cells into distinct, trimmed column names.
///
/// Names must be distinct because the mapping step finds columns by name;
/// positions are kept, so `fields[i]` still belongs to `headers[i]`.
///
/// Linear in the number of columns: names taken are kept in a set, and the
/// next suffix to try for each base name is remembered, so 100,000 columns
/// of one name do not each look through all the others.
pub(crate) fn finish_headers(raw: Vec<String>) -> Vec<String> {
    use std::collections::{HashMap, HashSet};
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut taken: HashSet<String> = HashSet::with_capacity(raw.len());
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    for (i, name) in raw.into_iter().enumerate() {
        let trimmed = name.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        let base = if trimmed.is_empty() {
            format!("column_{}", i + 1)
        } else {
            trimmed.to_string()
        };
        let name = if taken.contains(&base) {
            let n = next_suffix.entry(base.clone()).or_insert(2);
            loop {
                let candidate = format!("{base}_{n}");
                *n += 1;
                if !taken.contains(&candidate) {
                    break candidate;
                }
            }
        } else {
            base
        };
        taken.insert(name.clone());
        out.push(name);
    }
    out
}

/// Marks a record whose width differs from the header's.
pub(crate) fn ragged(expected: usize, found: usize) -> Option<RecordProblem> {
    (expected != found).then_some(RecordProblem::Ragged { expected, found })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_mean_binary_unless_they_are_utf16_text() {
        let utf16: Vec<u8> = "Имя,Телефон\r\nОльга,+79161234567\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(!looks_binary(&utf16));
        let mut junk = vec![0x5Au8; 512];
        junk[145] = 0;
        junk[401] = 0;
        assert!(looks_binary(&junk));
        assert!(!looks_binary(b"Nombre,Tel\xe9fono\r\n"));
    }

    #[test]
    fn headers_are_trimmed_named_and_distinct() {
        let raw = vec![
            " Nombre ".to_string(),
            String::new(),
            "Teléfono".to_string(),
            "Teléfono".to_string(),
            "\u{feff}Email".to_string(),
            "Teléfono_3".to_string(),
            "Teléfono".to_string(),
        ];
        assert_eq!(
            finish_headers(raw),
            vec![
                "Nombre",
                "column_2",
                "Teléfono",
                "Teléfono_2",
                "Email",
                "Teléfono_3",
                "Teléfono_4"
            ]
        );
    }
}
