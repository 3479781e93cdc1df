//! The per-row report, the rejects file and the run summary.
//!
//! Every input row appears in the report exactly once, in input order,
//! whatever happened to it.
//!
//! The input's cells (and header names, and the e-mail column) are written
//! through export's formula guard ([`crate::export::guard_formula`]): the
//! report and the rejects file are made to be opened in a spreadsheet, and
//! an input cell such as `=HYPERLINK(...)` must not run there. waport's
//! reader removes the guard when a rejects file is fed back. A workbook
//! (`.xlsx`, see `report/xlsx.rs`) needs no guard and gets the cells verbatim.

use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};
use std::io::Seek;

use crate::export::{EXCEL_DELIMITER, UTF8_BOM, guard_formula};
use crate::source::{Fields, Format, SourceInfo};

mod xlsx;
pub use xlsx::is_xlsx;

/// Re-exported: the report is where most readers meet a status.
pub use crate::model::Status;

/// `--max-invalid`: how many invalid rows a scheduled run tolerates before
/// it exits 3, as a count (`25`) or a share of the data rows (`2%`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxInvalid {
    /// At most this many invalid rows.
    Rows(u64),
    /// At most this percentage of the data rows (0–100).
    Percent(f64),
}

impl std::str::FromStr for MaxInvalid {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || format!("\"{s}\" is not a row count (25) or a percentage (2%, 0.5%)");
        match t.strip_suffix('%') {
            Some(p) => match p.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Ok(MaxInvalid::Percent(v)),
                _ => Err(bad()),
            },
            None => t.parse::<u64>().map(MaxInvalid::Rows).map_err(|_| bad()),
        }
    }
}

/// The reason of a `skipped` row that is a report's footer line (a
/// Salesforce report's `Grand Totals (N records)`), not a contact.
pub const FOOTER: &str = "footer";

/// Whether a row counts as rejected (exit code 3, the rejects file): a
/// rejection status, except a footer line, which was never a contact and
/// has nothing to fix.
pub fn is_rejected(status: Status, reason: &str) -> bool {
    status.is_rejection() && !(status == Status::Skipped && reason == FOOTER)
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct RowResult {
    /// Position in the input (0-based), for ordering.
    pub seq: u64,
    /// Row number as a spreadsheet user sees it.
    pub row: u64,
    /// What happened.
    pub status: Status,
    /// Stable code plus detail, `;`-separated when several.
    pub reason: String,
    /// E.164 phone (empty when invalid).
    pub phone: String,
    /// The phone's libphonenumber type (`mobile`, `fixed_line`, …; empty
    /// when there is no valid phone).
    pub phone_type: &'static str,
    /// Normalized e-mail.
    pub email: String,
    /// The earlier row with the same key.
    pub duplicate_of: Option<u64>,
    /// The platform's id for the contact.
    pub remote_id: String,
    /// The input's own fields, verbatim.
    pub raw: Fields,
}

impl RowResult {
    /// The row as a [`RowView`] borrowing this result.
    pub fn view(&self) -> RowView<'_> {
        RowView {
            seq: self.seq,
            row: self.row,
            status: self.status,
            reason: Cow::Borrowed(&self.reason),
            phone: &self.phone,
            phone_type: self.phone_type,
            email: &self.email,
            duplicate_of: self.duplicate_of,
            remote_id: &self.remote_id,
            raw: &self.raw,
        }
    }
}

/// One line of the report, borrowing its text from wherever it lives (what
/// [`ReportLayout::encode`] reads on the worker threads); the fields mean
/// what [`RowResult`]'s do.
#[derive(Debug, Clone)]
pub struct RowView<'a> {
    /// Position in the input (0-based), for ordering.
    pub seq: u64,
    /// Row number as a spreadsheet user sees it.
    pub row: u64,
    /// What happened.
    pub status: Status,
    /// Stable code plus detail, `;`-separated when several.
    pub reason: Cow<'a, str>,
    /// E.164 phone (empty when invalid).
    pub phone: &'a str,
    /// The phone's type (empty when invalid).
    pub phone_type: &'static str,
    /// Normalized e-mail.
    pub email: &'a str,
    /// The earlier row with the same key.
    pub duplicate_of: Option<u64>,
    /// The platform's id for the contact.
    pub remote_id: &'a str,
    /// The input's own fields, verbatim.
    pub raw: &'a Fields,
}

impl RowView<'_> {
    /// An owned copy, for a row that has to wait for an earlier one.
    pub fn to_owned_result(&self) -> RowResult {
        RowResult {
            seq: self.seq,
            row: self.row,
            status: self.status,
            reason: self.reason.clone().into_owned(),
            phone: self.phone.to_owned(),
            phone_type: self.phone_type,
            email: self.email.to_owned(),
            duplicate_of: self.duplicate_of,
            remote_id: self.remote_id.to_owned(),
            raw: self.raw.clone(),
        }
    }
}

/// Decimal digits of `n` in `buf`, without going through `fmt`.
fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// A report file could not be written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Creating or writing a file failed.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Writing failed part way: the file under the asked-for name is left
    /// as it was, and what was written is kept under a name that says it
    /// is incomplete.
    #[error(
        "cannot write {path}: {message}; {path} was left as it was, and the incomplete report is in {partial}"
    )]
    Partial {
        /// The file asked for.
        path: String,
        /// Where the incomplete copy is.
        partial: String,
        /// Why.
        message: String,
    },
}

/// Where a report being written lives until it is complete:
/// `<path>.partial`, beside it (so the final rename stays on one file
/// system and is atomic).
pub fn partial_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// Quotes fields exactly as the csv crate's `QuoteStyle::Necessary` does:
/// a field holding the delimiter, `"`, CR or LF is quoted and its quotes
/// doubled; lines end in LF. Files written this way read back with any CSV
/// reader.
///
/// Why not `csv::Writer`: its per-byte state machine was a tenth of a
/// million-row validate, on the one thread everything else waits for. Here
/// a field is a table look-up per byte and a copy, and lines can be encoded
/// on worker threads ([`ReportLayout`]).
#[derive(Clone, Copy)]
struct LineEncoder {
    delimiter: u8,
    /// Lines end in CR LF rather than LF.
    crlf: bool,
    needs_quotes: [bool; 256],
    /// Whether the input's cells get the formula guard (not in a workbook,
    /// whose string cells are never formulas).
    guard: bool,
}

impl LineEncoder {
    fn new(delimiter: u8) -> LineEncoder {
        let mut needs_quotes = [false; 256];
        for b in [delimiter, b'"', b'\r', b'\n'] {
            needs_quotes[b as usize] = true;
        }
        LineEncoder {
            delimiter,
            crlf: false,
            needs_quotes,
            guard: true,
        }
    }

    /// An input cell as this file holds it: guarded, unless the file is a
    /// workbook.
    fn cell<'a>(&self, value: &'a str) -> Cow<'a, str> {
        if self.guard {
            guard_formula(value)
        } else {
            Cow::Borrowed(value)
        }
    }

    /// Ends a line.
    fn end(&self, line: &mut Vec<u8>) {
        if self.crlf {
            line.push(b'\r');
        }
        line.push(b'\n');
    }

    /// Whether `f` holds a byte that needs quoting, eight bytes at a time
    /// (most fields need none, and this runs for every cell of the report).
    fn needs_quotes(&self, f: &[u8]) -> bool {
        const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
        const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
        // Non-zero exactly when some byte of `x` equals `b` (the classic
        // "has a zero byte" test applied to x ^ b…b).
        let has = |x: u64, b: u8| {
            let y = x ^ (ONES * u64::from(b));
            y.wrapping_sub(ONES) & !y & HIGH != 0
        };
        let mut words = f.chunks_exact(8);
        for w in &mut words {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(w);
            let x = u64::from_ne_bytes(bytes);
            if has(x, self.delimiter) || has(x, b'"') || has(x, b'\n') || has(x, b'\r') {
                return true;
            }
        }
        words
            .remainder()
            .iter()
            .any(|b| self.needs_quotes[*b as usize])
    }

    /// Appends one field, quoted if it has to be (no delimiter before it).
    fn field(&self, line: &mut Vec<u8>, f: &[u8]) {
        if self.needs_quotes(f) {
            line.push(b'"');
            for &b in f {
                if b == b'"' {
                    line.push(b'"');
                }
                line.push(b);
            }
            line.push(b'"');
        } else {
            line.extend_from_slice(f);
        }
    }
}

/// A CSV file written a line at a time with a [`LineEncoder`].
///
/// The lines go to `<path>.partial`, which is renamed over `path` only
/// once everything is written ([`CsvOut::commit`]). A run killed part way
/// (kill -9, a full disk, a crash) therefore leaves the previous report
/// untouched and an incomplete one under a name that says so, never a
/// short report that looks complete.
struct CsvOut {
    out: BufWriter<File>,
    line: Vec<u8>,
    /// Fields in `line` so far (an empty field leaves no bytes).
    fields: usize,
    enc: LineEncoder,
    /// How the UTF-8 lines become the file's bytes.
    text: Transcode,
    /// Set once the file had to leave its encoding for UTF-8.
    fallback: Option<EncodingFallback>,
    /// The transcoded line.
    scratch: Vec<u8>,
    path: PathBuf,
    partial: PathBuf,
}

/// How lines (built as UTF-8) are turned into a file's bytes.
#[derive(Clone, Copy)]
enum Transcode {
    /// Written as they are.
    Utf8,
    /// UTF-16, little- or big-endian.
    Utf16 { big_endian: bool },
    /// A legacy encoding (windows-1252, windows-1251, ...), which may not
    /// hold every character.
    Legacy(&'static Encoding),
}

impl CsvOut {
    fn create(path: &Path, style: CsvStyle) -> Result<CsvOut, ReportError> {
        let partial = partial_path(path);
        let file = File::create(&partial).map_err(|e| write_error(&partial, e))?;
        let mut enc = LineEncoder::new(style.delimiter);
        enc.crlf = style.crlf;
        let (text, bom): (Transcode, &[u8]) = if style.encoding == UTF_16LE {
            (Transcode::Utf16 { big_endian: false }, b"\xFF\xFE")
        } else if style.encoding == UTF_16BE {
            (Transcode::Utf16 { big_endian: true }, b"\xFE\xFF")
        } else if style.encoding == UTF_8 {
            (Transcode::Utf8, if style.bom { UTF8_BOM } else { b"" })
        } else {
            (Transcode::Legacy(style.encoding), b"")
        };
        let mut out = CsvOut {
            out: BufWriter::with_capacity(1 << 16, file),
            line: Vec::with_capacity(1024),
            fields: 0,
            enc,
            text,
            fallback: None,
            scratch: Vec::new(),
            path: path.to_path_buf(),
            partial,
        };
        if !bom.is_empty() {
            out.out.write_all(bom).map_err(|e| out.failed(e))?;
        }
        Ok(out)
    }

    /// Writes whole UTF-8 lines (of row `row`, for the fallback's message)
    /// in the file's encoding.
    fn put(&mut self, bytes: &[u8], row: u64) -> Result<(), ReportError> {
        let result = match self.text {
            Transcode::Utf8 => self.out.write_all(bytes),
            Transcode::Utf16 { big_endian } => {
                self.scratch.clear();
                for u in String::from_utf8_lossy(bytes).encode_utf16() {
                    let b = if big_endian {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    };
                    self.scratch.extend_from_slice(&b);
                }
                self.out.write_all(&self.scratch)
            }
            Transcode::Legacy(encoding) => {
                let text = String::from_utf8_lossy(bytes);
                let (encoded, _, unmappable) = encoding.encode(&text);
                if unmappable {
                    // encoding_rs wrote `&#NNN;` in place of the character:
                    // never let that reach the file.
                    let mut buf = [0u8; 4];
                    let character = text
                        .chars()
                        .find(|c| encoding.encode(c.encode_utf8(&mut buf)).2)
                        .unwrap_or(char::REPLACEMENT_CHARACTER);
                    self.fall_back(encoding, row, character)
                        .and_then(|()| self.out.write_all(bytes))
                } else {
                    self.out.write_all(&encoded)
                }
            }
        };
        result.map_err(|e| self.failed(e))
    }

    /// Rewrites what was written so far as UTF-8 with a BOM, and writes
    /// UTF-8 from now on: a character the file's encoding cannot hold must
    /// not become `?` or `&#321;` in a file the user fixes and feeds back.
    fn fall_back(
        &mut self,
        encoding: &'static Encoding,
        row: u64,
        character: char,
    ) -> std::io::Result<()> {
        self.out.flush()?;
        let written = std::fs::read(&self.partial)?;
        // Every byte written came from this encoding's encoder, so it
        // decodes back to the same text.
        let (text, _) = encoding.decode_without_bom_handling(&written);
        let file = self.out.get_mut();
        file.set_len(0)?;
        file.rewind()?;
        self.out.write_all(UTF8_BOM)?;
        self.out.write_all(text.as_bytes())?;
        self.text = Transcode::Utf8;
        self.fallback = Some(EncodingFallback {
            encoding: encoding.name(),
            row,
            character,
        });
        Ok(())
    }

    /// A write error: the asked-for file is untouched and the partial one
    /// stays where it is, and the message says so.
    fn failed(&self, e: std::io::Error) -> ReportError {
        ReportError::Partial {
            path: self.path.display().to_string(),
            partial: self.partial.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Flushes and renames the complete file into place.
    ///
    /// No fsync: the promise is about a process that dies (the rename is
    /// atomic, so the name holds the old report or the whole new one), and
    /// a report can always be written again by re-running; an fsync of a
    /// 100 MB report would cost more than the rest of a validate run.
    fn commit(mut self) -> Result<(), ReportError> {
        self.flush()?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| self.failed(e))
    }

    /// Appends a field to the current line.
    fn field(&mut self, f: impl AsRef<[u8]>) {
        if self.fields > 0 {
            self.line.push(self.enc.delimiter);
        }
        self.fields += 1;
        self.enc.field(&mut self.line, f.as_ref());
    }

    /// Ends the current line (of row `row`) and hands it to the file.
    fn end_line(&mut self, row: u64) -> Result<(), ReportError> {
        // A line of one empty field would read back as a blank line, which
        // CSV readers skip: quote it, as the csv crate does.
        if self.line.is_empty() {
            self.line.extend_from_slice(b"\"\"");
        }
        self.enc.end(&mut self.line);
        let line = std::mem::take(&mut self.line);
        let result = self.put(&line, row);
        self.line = line;
        self.line.clear();
        self.fields = 0;
        result
    }

    /// Writes UTF-8 bytes that already are whole lines (or, in a UTF-8
    /// file, parts of them), of row `row`.
    fn raw(&mut self, bytes: &[u8], row: u64) -> Result<(), ReportError> {
        self.put(bytes, row)
    }

    /// The header line (row 1 for the fallback's message: a header always
    /// comes from the input, which its own encoding holds).
    fn record<S: AsRef<[u8]>>(&mut self, fields: &[S]) -> Result<(), ReportError> {
        for f in fields {
            self.field(f);
        }
        self.end_line(1)
    }

    fn flush(&mut self) -> Result<(), ReportError> {
        self.out.flush().map_err(|e| self.failed(e))
    }
}

/// How report lines are laid out, for encoding them away from the writer
/// (see [`ReportWriter::layout`] and [`ReportWriter::push_line`]).
///
/// `validate` encodes each row's report line on the normalizer threads,
/// leaving a gap for the two columns only the ordered stage knows (`status`
/// may still become `duplicate`, and `duplicate_of` is filled then); the
/// writer then only copies bytes. Import keeps [`ReportWriter::push`]: its
/// statuses come from the platform.
#[derive(Clone, Copy)]
pub struct ReportLayout {
    report: LineEncoder,
    rejects: Option<LineEncoder>,
    width: usize,
}

/// Report lines encoded ahead by [`ReportLayout::encode`], a batch of rows
/// in one buffer.
#[derive(Debug, Default)]
pub struct EncodedLines {
    report: Vec<u8>,
    rejects: Vec<u8>,
    rows: Vec<EncodedRow>,
}

/// Where one row's lines sit in an [`EncodedLines`].
#[derive(Debug, Clone)]
struct EncodedRow {
    seq: u64,
    /// The spreadsheet row number.
    row: u64,
    /// The report line starts here.
    start: usize,
    /// `row,` ends here; the status goes next.
    status_at: usize,
    /// `,reason,phone,phone_type,email,` ends here; `duplicate_of` goes
    /// next.
    dup_at: usize,
    /// The rest of the line (the input's fields and LF) ends here.
    end: usize,
    /// The rejects line, when the row was a rejection when encoded.
    rejects: Option<(usize, usize)>,
}

impl EncodedLines {
    /// Room for `rows` rows whose report lines take about `bytes` in all.
    pub fn with_capacity(rows: usize, bytes: usize) -> EncodedLines {
        EncodedLines {
            report: Vec::with_capacity(bytes),
            rejects: Vec::new(),
            rows: Vec::with_capacity(rows),
        }
    }

    /// Number of rows held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows' lines, in the order they were encoded.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EncodedLine<'_>> {
        self.rows.iter().map(|r| EncodedLine {
            seq: r.seq,
            row: r.row,
            head: &self.report[r.start..r.status_at],
            middle: &self.report[r.status_at..r.dup_at],
            tail: &self.report[r.dup_at..r.end],
            rejects: r.rejects.map(|(a, b)| &self.rejects[a..b]),
        })
    }
}

/// One row's encoded lines (see [`EncodedLines::iter`]).
#[derive(Debug, Clone, Copy)]
pub struct EncodedLine<'a> {
    seq: u64,
    row: u64,
    /// `row,`: what comes before the status.
    head: &'a [u8],
    middle: &'a [u8],
    tail: &'a [u8],
    rejects: Option<&'a [u8]>,
}

impl EncodedLine<'_> {
    /// The row's position in the input.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl ReportLayout {
    /// Encodes `row`'s lines (its `status` and `duplicate_of` are left out:
    /// [`ReportWriter::push_line`] adds them) at the end of `out`.
    pub fn encode(&self, row: &RowView<'_>, out: &mut EncodedLines) {
        let enc = &self.report;
        let line = &mut out.report;
        let start = line.len();
        let mut buf = [0u8; 20];
        let d = enc.delimiter;
        line.extend_from_slice(itoa(row.row, &mut buf));
        line.push(d);
        let status_at = line.len() - start;
        line.push(d);
        enc.field(line, row.reason.as_bytes());
        line.push(d);
        enc.field(line, row.phone.as_bytes());
        line.push(d);
        enc.field(line, row.phone_type.as_bytes());
        line.push(d);
        enc.field(line, enc.cell(row.email).as_bytes());
        line.push(d);
        let dup_at = line.len() - start;
        for f in row.raw {
            line.push(d);
            enc.field(line, enc.cell(f).as_bytes());
        }
        enc.end(line);
        let rejects = match (&self.rejects, is_rejected(row.status, &row.reason)) {
            (Some(enc), true) => {
                let r = &mut out.rejects;
                let from = r.len();
                // The same fields as ReportWriter::push writes: the input's,
                // padded to the header's width, then the reason.
                let mut n = 0;
                for f in row.raw {
                    if n > 0 {
                        r.push(enc.delimiter);
                    }
                    enc.field(r, enc.cell(f).as_bytes());
                    n += 1;
                }
                while n < self.width {
                    if n > 0 {
                        r.push(enc.delimiter);
                    }
                    n += 1;
                }
                if n > 0 {
                    r.push(enc.delimiter);
                    enc.field(r, row.reason.as_bytes());
                } else if row.reason.is_empty() {
                    r.extend_from_slice(b"\"\"");
                } else {
                    enc.field(r, row.reason.as_bytes());
                }
                enc.end(r);
                Some((from, r.len()))
            }
            _ => None,
        };
        out.rows.push(EncodedRow {
            seq: row.seq,
            row: row.row,
            start,
            status_at: start + status_at,
            dup_at: start + dup_at,
            end: line.len(),
            rejects,
        });
    }
}

fn write_error(path: &Path, e: std::io::Error) -> ReportError {
    ReportError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Counts per status and per reason code.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Rows seen.
    pub rows: u64,
    /// Rows per status.
    pub by_status: BTreeMap<Status, u64>,
    /// Rows per reason code (the part of a reason before `:`).
    pub by_reason: BTreeMap<String, u64>,
    /// The first row (spreadsheet number) with each reason code, shown as
    /// an example in the summary.
    pub example_row: BTreeMap<String, u64>,
    /// Skipped rows that are footer lines (see [`FOOTER`]): reported, but
    /// no reason for exit code 3.
    pub footers: u64,
    /// Set when the rejects file could not be written in the input's
    /// encoding and was written as UTF-8 with a BOM instead.
    pub rejects_fallback: Option<EncodingFallback>,
}

/// The rejects file left the input's encoding: row `row` holds a character
/// the encoding cannot hold (from waport's or the platform's message, as a
/// file's own cells always can), so the file is UTF-8 with a BOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodingFallback {
    /// The input's encoding (`windows-1252`, ...).
    pub encoding: &'static str,
    /// The first row that did not fit.
    pub row: u64,
    /// The character that did not fit.
    pub character: char,
}

impl std::fmt::Display for EncodingFallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "written as UTF-8 with a BOM, not {enc}: row {row} holds \"{c}\" (U+{u:04X}), which {enc} cannot hold",
            enc = self.encoding,
            row = self.row,
            c = self.character,
            u = u32::from(self.character),
        )
    }
}

impl Counts {
    /// Adds row number `row`.
    pub fn add(&mut self, status: Status, reason: &str, row: u64) {
        self.rows += 1;
        *self.by_status.entry(status).or_default() += 1;
        if status == Status::Skipped && reason == FOOTER {
            self.footers += 1;
        }
        // Most rows have no reason: they skip the splitting (this runs on
        // the one ordered thread, for every row).
        if reason.is_empty() {
            return;
        }
        // A single reason (no `;` at all) is its own only part: no
        // substring searcher is set up for it.
        if !reason.as_bytes().contains(&b';') {
            self.add_code(reason, row);
            return;
        }
        for part in reason.split("; ").filter(|p| !p.is_empty()) {
            self.add_code(part, row);
        }
    }

    /// Counts one reason's code (the part before `:`).
    fn add_code(&mut self, part: &str, row: u64) {
        let code = part.split(':').next().unwrap_or(part).trim();
        // Codes repeat: only the first sighting allocates.
        match self.by_reason.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.by_reason.insert(code.to_string(), 1);
                self.example_row.insert(code.to_string(), row);
            }
        }
    }

    /// Rows with `status`.
    pub fn get(&self, status: Status) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Whether any row makes the run exit 3.
    pub fn has_rejections(&self) -> bool {
        self.rejects_beyond(None)
    }

    /// Whether the run exits 3 under `--max-invalid`: any failed or
    /// skipped row does (the platform or the run, not the data, is at
    /// fault) except report footers, and invalid rows do once they are more
    /// than `max` tolerates.
    pub fn rejects_beyond(&self, max: Option<MaxInvalid>) -> bool {
        let invalid = self.get(Status::Invalid);
        let others = self.by_status.iter().any(|(s, n)| {
            let footers = if *s == Status::Skipped {
                self.footers
            } else {
                0
            };
            s.is_rejection() && *s != Status::Invalid && *n > footers
        });
        let tolerated = match max {
            None => 0,
            Some(MaxInvalid::Rows(n)) => n,
            // Of the data rows; rounded down, so 1% of 150 rows is 1.
            Some(MaxInvalid::Percent(p)) => (self.rows as f64 * p / 100.0).floor() as u64,
        };
        others || invalid > tolerated
    }

    /// The JSON summary: `rows`, one count per listed status, `reasons`.
    pub fn to_json(&self, statuses: &[Status]) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("rows".into(), json!(self.rows));
        for s in statuses {
            m.insert(s.as_str().into(), json!(self.get(*s)));
        }
        let reasons: Map<String, Value> = self
            .by_reason
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        m.insert("reasons".into(), Value::Object(reasons));
        if let Some(f) = &self.rejects_fallback {
            m.insert("rejects_encoding".into(), json!(f.to_string()));
        }
        m
    }

    /// Human summary lines for stderr.
    pub fn human(&self, statuses: &[Status]) -> String {
        let parts: Vec<String> = statuses
            .iter()
            .filter(|s| self.get(**s) > 0 || Status::VALIDATE.contains(s))
            .map(|s| format!("{} {}", s.as_str(), self.get(*s)))
            .collect();
        let mut out = format!("{} rows: {}\n", self.rows, parts.join(", "));
        if !self.by_reason.is_empty() {
            let mut top: Vec<(&String, &u64)> = self.by_reason.iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let more = top.len().saturating_sub(TOP_REASONS);
            out.push_str(if more > 0 {
                "top reasons:\n"
            } else {
                "reasons:\n"
            });
            for (code, n) in top.iter().take(TOP_REASONS) {
                let rows = if **n == 1 { "row" } else { "rows" };
                match self.example_row.get(*code) {
                    Some(r) => out.push_str(&format!("  {code}: {n} {rows} (e.g. row {r})\n")),
                    None => out.push_str(&format!("  {code}: {n} {rows}\n")),
                }
            }
            if more > 0 {
                out.push_str(&format!("  … and {more} more (see the report)\n"));
            }
        }
        out
    }

    /// The line naming the rejects file, with its layout (`rejects: PATH
    /// (windows-1252, ';', CRLF, as the input)`) or why it left the input's
    /// encoding.
    pub fn rejects_line(&self, path: &Path, style: &CsvStyle) -> String {
        match &self.rejects_fallback {
            Some(f) => format!("rejects: {} ({f})", path.display()),
            None => format!("rejects: {} ({})", path.display(), style.describe()),
        }
    }
}

/// How many reasons the terminal summary lists, one line each.
const TOP_REASONS: usize = 5;

/// How a CSV file the report writer writes is laid out and encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvStyle {
    /// Field delimiter.
    pub delimiter: u8,
    /// Lines end in CR LF rather than LF.
    pub crlf: bool,
    /// A UTF-8 file starts with a byte-order mark (UTF-16 always has one;
    /// legacy code pages never do).
    pub bom: bool,
    /// UTF-8, UTF-16LE/BE, or a code page such as windows-1252.
    pub encoding: &'static Encoding,
}

impl CsvStyle {
    /// UTF-8 without a BOM, `,`, LF: what scripts expect.
    pub const PLAIN: CsvStyle = CsvStyle {
        delimiter: b',',
        crlf: false,
        bom: false,
        encoding: UTF_8,
    };

    /// `--excel`: UTF-8 with a BOM, `;`, CR LF, as `export --excel` writes.
    pub const EXCEL: CsvStyle = CsvStyle {
        delimiter: EXCEL_DELIMITER,
        crlf: true,
        bom: true,
        encoding: UTF_8,
    };

    /// The report's style for an input: always UTF-8 (waport's reasons and
    /// the normalized columns may hold any character), with the input's
    /// delimiter, and a BOM when the input had one or was not UTF-8, so
    /// Excel, which reads a CSV without a BOM in the machine's code page,
    /// shows `ñ` rather than `Ã±`. `--excel` forces [`CsvStyle::EXCEL`].
    pub fn report_for(info: &SourceInfo, excel: bool) -> CsvStyle {
        if excel {
            return CsvStyle::EXCEL;
        }
        match info.format {
            Format::Csv => CsvStyle {
                delimiter: info.delimiter.unwrap_or(b','),
                crlf: false,
                bom: info.bom || input_encoding(info) != UTF_8,
                encoding: UTF_8,
            },
            Format::Spreadsheet | Format::VCard => CsvStyle::PLAIN,
        }
    }

    /// The rejects file's style: a CSV input's own encoding, delimiter, line
    /// ends and BOM, so the file opens as the input did and reads back the
    /// same (a character the encoding cannot hold switches the file to
    /// UTF-8 with a BOM: [`EncodingFallback`]). Workbooks and vCards have
    /// no text layout to keep: [`CsvStyle::PLAIN`], or `--excel`'s.
    pub fn rejects_for(info: &SourceInfo, excel: bool) -> CsvStyle {
        match info.format {
            Format::Csv => {
                let encoding = input_encoding(info);
                CsvStyle {
                    delimiter: info.delimiter.unwrap_or(b','),
                    crlf: info.crlf,
                    bom: info.bom,
                    encoding,
                }
            }
            Format::Spreadsheet | Format::VCard if excel => CsvStyle::EXCEL,
            Format::Spreadsheet | Format::VCard => CsvStyle::PLAIN,
        }
    }

    /// `windows-1252, ';', CRLF` for the summary.
    pub fn describe(&self) -> String {
        let delimiter = match self.delimiter {
            b'\t' => "tab".to_string(),
            d => format!("'{}'", d as char),
        };
        let bom = if self.bom && self.encoding == UTF_8 {
            " with BOM"
        } else {
            ""
        };
        let ends = if self.crlf { "CRLF" } else { "LF" };
        format!("{}{bom}, {delimiter}, {ends}", self.encoding.name())
    }
}

/// The encoding a CSV input was read in (UTF-8 when unknown).
fn input_encoding(info: &SourceInfo) -> &'static Encoding {
    info.encoding
        .as_deref()
        .and_then(|name| Encoding::for_label(name.as_bytes()))
        .unwrap_or(UTF_8)
}

/// Where and how to write the report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The report file.
    pub report: PathBuf,
    /// The rejects file, if asked for.
    pub rejects: Option<PathBuf>,
    /// How the report is laid out ([`CsvStyle::report_for`]).
    pub report_style: CsvStyle,
    /// How the rejects file is laid out ([`CsvStyle::rejects_for`]).
    pub rejects_style: CsvStyle,
    /// Whether to add the `remote_id` column (import).
    pub remote_id: bool,
}

impl ReportOptions {
    /// The options for the input `info` describes: the styles of
    /// [`CsvStyle::report_for`] and [`CsvStyle::rejects_for`].
    pub fn for_input(
        report: PathBuf,
        rejects: Option<PathBuf>,
        info: &SourceInfo,
        excel: bool,
        remote_id: bool,
    ) -> ReportOptions {
        ReportOptions {
            report,
            rejects,
            report_style: CsvStyle::report_for(info, excel),
            rejects_style: CsvStyle::rejects_for(info, excel),
            remote_id,
        }
    }
}

/// A row that arrived before an earlier one.
enum Pending {
    Result(RowResult),
    Line {
        row: u64,
        report: Vec<u8>,
        rejects: Option<Vec<u8>>,
        status: Status,
        reason: String,
    },
}

/// Writes the report (and rejects file) in input order, whatever order the
/// results arrive in.
pub struct ReportWriter {
    opts: ReportOptions,
    report: xlsx::Out,
    rejects: Option<xlsx::Out>,
    pending: HashMap<u64, Pending>,
    next_seq: u64,
    counts: Counts,
    width: usize,
}

impl ReportWriter {
    /// Creates the files and writes their headers.
    pub fn create(opts: ReportOptions, headers: &[String]) -> Result<ReportWriter, ReportError> {
        // A workbook when the path ends in .xlsx (see report/xlsx.rs).
        let mut report = xlsx::Out::create(&opts.report, xlsx::Kind::Report, |p| {
            CsvOut::create(p, opts.report_style)
        })?;
        let mut head: Vec<&str> = vec![
            "row",
            "status",
            "reason",
            "phone",
            "phone_type",
            "email",
            "duplicate_of",
        ];
        if opts.remote_id {
            head.push("remote_id");
        }
        let enc = report.enc();
        let guarded: Vec<Cow<'_, str>> = headers.iter().map(|h| enc.cell(h)).collect();
        head.extend(guarded.iter().map(|h| h.as_ref()));
        report.record(&head)?;
        let rejects = match &opts.rejects {
            Some(p) => {
                let mut w = xlsx::Out::create(p, xlsx::Kind::Rejects, |p| {
                    CsvOut::create(p, opts.rejects_style)
                })?;
                let enc = w.enc();
                let guarded: Vec<Cow<'_, str>> = headers.iter().map(|h| enc.cell(h)).collect();
                let mut head: Vec<&str> = guarded.iter().map(|h| h.as_ref()).collect();
                head.push("waport_error");
                w.record(&head)?;
                Some(w)
            }
            None => None,
        };
        Ok(ReportWriter {
            opts,
            report,
            rejects,
            pending: HashMap::new(),
            next_seq: 0,
            counts: Counts::default(),
            width: headers.len(),
        })
    }

    /// Accepts one row's result (any order; written in `seq` order).
    pub fn push(&mut self, result: RowResult) -> Result<(), ReportError> {
        if result.seq != self.next_seq {
            self.pending.insert(result.seq, Pending::Result(result));
            return Ok(());
        }
        self.write_one(&result.view())?;
        self.advance()
    }

    /// How this writer lays out lines, for [`ReportLayout::encode`] on
    /// other threads.
    pub fn layout(&self) -> ReportLayout {
        ReportLayout {
            report: self.report.enc(),
            rejects: self.rejects.as_ref().map(|w| w.enc()),
            width: self.width,
        }
    }

    /// Accepts a row whose lines were encoded ahead, with its final status,
    /// reason (for the counts) and `duplicate_of` (any order; written in
    /// `seq` order). The layout must be this writer's, without the
    /// `remote_id` column, and the status must be a rejection exactly when
    /// it was at encoding (as when `valid` becomes `duplicate`).
    pub fn push_line(
        &mut self,
        line: EncodedLine<'_>,
        status: Status,
        reason: &str,
        duplicate_of: Option<u64>,
    ) -> Result<(), ReportError> {
        debug_assert!(!self.opts.remote_id);
        debug_assert!(
            self.rejects.is_none() || is_rejected(status, reason) == line.rejects.is_some()
        );
        let mut buf = [0u8; 20];
        let dup = match duplicate_of {
            Some(d) => itoa(d, &mut buf),
            None => &[],
        };
        let parts = [
            line.head,
            status.as_str().as_bytes(),
            line.middle,
            dup,
            line.tail,
        ];
        if line.seq != self.next_seq {
            self.pending.insert(
                line.seq,
                Pending::Line {
                    row: line.row,
                    report: parts.concat(),
                    rejects: line.rejects.map(<[u8]>::to_vec),
                    status,
                    reason: reason.to_owned(),
                },
            );
            return Ok(());
        }
        self.write_encoded(line.row, &parts, line.rejects, status, reason)?;
        self.advance()
    }

    fn write_encoded(
        &mut self,
        row: u64,
        parts: &[&[u8]],
        rejects: Option<&[u8]>,
        status: Status,
        reason: &str,
    ) -> Result<(), ReportError> {
        self.counts.add(status, reason, row);
        for p in parts {
            self.report.raw(p, row)?;
        }
        if let (Some(w), Some(line)) = (self.rejects.as_mut(), rejects) {
            w.raw(line, row)?;
        }
        Ok(())
    }

    fn write_pending(&mut self, p: Pending) -> Result<(), ReportError> {
        match p {
            Pending::Result(r) => self.write_one(&r.view()),
            Pending::Line {
                row,
                report,
                rejects,
                status,
                reason,
            } => self.write_encoded(row, &[&report], rejects.as_deref(), status, &reason),
        }
    }

    /// Moves past a written row and writes any results that were waiting
    /// for it.
    fn advance(&mut self) -> Result<(), ReportError> {
        self.next_seq += 1;
        while let Some(next) = self.pending.remove(&self.next_seq) {
            self.write_pending(next)?;
            self.next_seq += 1;
        }
        Ok(())
    }

    fn write_one(&mut self, r: &RowView<'_>) -> Result<(), ReportError> {
        self.counts.add(r.status, &r.reason, r.row);
        let report = &mut self.report;
        let mut buf = [0u8; 20];
        report.field(itoa(r.row, &mut buf));
        report.field(r.status.as_str());
        report.field(r.reason.as_bytes());
        report.field(r.phone);
        report.field(r.phone_type);
        let enc = report.enc();
        report.field(enc.cell(r.email).as_bytes());
        match r.duplicate_of {
            Some(d) => report.field(itoa(d, &mut buf)),
            None => report.field(b""),
        }
        if self.opts.remote_id {
            report.field(r.remote_id);
        }
        for f in r.raw {
            report.field(enc.cell(f).as_bytes());
        }
        report.end_line(r.row)?;
        if let (Some(w), true) = (self.rejects.as_mut(), is_rejected(r.status, &r.reason)) {
            let enc = w.enc();
            for f in r.raw {
                w.field(enc.cell(f).as_bytes());
            }
            // A short (ragged) row is padded so `waport_error` stays in
            // its own column when the file is opened in a spreadsheet.
            for _ in r.raw.len()..self.width {
                w.field(b"");
            }
            w.field(r.reason.as_bytes());
            w.end_line(r.row)?;
        }
        Ok(())
    }

    /// Counts so far (rows written).
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Flushes everything, including results still waiting for an earlier
    /// row (which only happens when a run is cut short), renames the files
    /// into place and returns the counts.
    pub fn finish(mut self) -> Result<Counts, ReportError> {
        let mut rest: Vec<(u64, Pending)> = self.pending.drain().collect();
        rest.sort_by_key(|(seq, _)| *seq);
        for (_, p) in rest {
            self.write_pending(p)?;
        }
        // Flush (or save) both before renaming either, so a write error
        // leaves the previous report and rejects file both in place.
        self.report.close(&self.counts)?;
        if let Some(w) = self.rejects.as_mut() {
            w.close(&self.counts)?;
        }
        if let Some(w) = self.rejects.take() {
            self.counts.rejects_fallback = w.fallback();
            w.commit()?;
        }
        self.report.commit()?;
        Ok(self.counts)
    }

    /// Writes out what is known, including results still waiting for an
    /// earlier row, but leaves it under the `.partial` names: for a run
    /// that could not read its whole input. Returns the partial paths (or
    /// the first write error).
    pub fn abandon(mut self) -> Result<Vec<PathBuf>, ReportError> {
        let mut rest: Vec<(u64, Pending)> = self.pending.drain().collect();
        rest.sort_by_key(|(seq, _)| *seq);
        for (_, p) in rest {
            self.write_pending(p)?;
        }
        self.report.close(&self.counts)?;
        let mut paths = vec![self.report.partial().to_path_buf()];
        if let Some(mut w) = self.rejects.take() {
            w.close(&self.counts)?;
            paths.push(w.partial().to_path_buf());
        }
        Ok(paths)
    }
}

/// The default report path: `<input-stem>.report.csv` in the current folder.
pub fn default_report_path(input: &str) -> PathBuf {
    let stem = if input == "-" {
        "stdin".to_string()
    } else {
        Path::new(input)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "waport".to_string())
    };
    PathBuf::from(format!("{stem}.report.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(seq: u64, fields: &[&str], reason: &str) -> RowResult {
        RowResult {
            seq,
            row: seq + 2,
            status: Status::Invalid,
            reason: reason.to_string(),
            phone: String::new(),
            phone_type: "",
            email: String::new(),
            duplicate_of: None,
            remote_id: String::new(),
            raw: fields.iter().collect(),
        }
    }

    fn cp1252_writer(dir: &Path) -> ReportWriter {
        let style = CsvStyle {
            delimiter: b';',
            crlf: true,
            bom: false,
            encoding: encoding_rs::WINDOWS_1252,
        };
        ReportWriter::create(
            ReportOptions {
                report: dir.join("r.csv"),
                rejects: Some(dir.join("fix.csv")),
                report_style: CsvStyle::report_for(
                    &SourceInfo {
                        path: "in.csv".into(),
                        format: Format::Csv,
                        encoding: Some("windows-1252".into()),
                        delimiter: Some(b';'),
                        sheet: None,
                        workbook: None,
                        header_row: 1,
                        bom: false,
                        crlf: true,
                    },
                    false,
                ),
                rejects_style: style,
                remote_id: false,
            },
            &["Nombre".to_string(), "Teléfono".to_string()],
        )
        .unwrap()
    }

    #[test]
    fn rejects_keep_a_code_page_that_holds_every_character() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = cp1252_writer(dir.path());
        w.push(invalid(0, &["José Núñez", "612"], "invalid_phone: \"612\""))
            .unwrap();
        let counts = w.finish().unwrap();
        assert_eq!(counts.rejects_fallback, None);
        let bytes = std::fs::read(dir.path().join("fix.csv")).unwrap();
        assert_eq!(
            bytes,
            b"Nombre;Tel\xe9fono;waport_error\r\nJos\xe9 N\xfa\xf1ez;612;\"invalid_phone: \"\"612\"\"\"\r\n"
        );
        // The report is UTF-8 with a BOM, with the input's delimiter.
        let report = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
        assert!(report.starts_with("\u{feff}row;status;"), "{report}");
        assert!(report.contains("José Núñez"), "{report}");
    }

    #[test]
    fn a_character_the_code_page_lacks_turns_the_whole_file_to_utf8_with_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = cp1252_writer(dir.path());
        w.push(invalid(0, &["José Núñez", "612"], "invalid_phone"))
            .unwrap();
        w.push(invalid(1, &["Łukasz", "613"], "invalid_phone"))
            .unwrap();
        w.push(invalid(2, &["Iñaki", "614"], "invalid_phone"))
            .unwrap();
        let counts = w.finish().unwrap();
        let fallback = counts.rejects_fallback.clone().unwrap();
        assert_eq!((fallback.row, fallback.character), (3, 'Ł'));
        assert!(fallback.to_string().contains("windows-1252"), "{fallback}");
        let bytes = std::fs::read(dir.path().join("fix.csv")).unwrap();
        // Rows written before the fall-back are rewritten, not left in
        // windows-1252 ahead of UTF-8 ones.
        let text = std::str::from_utf8(&bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}Nombre;Teléfono;waport_error\r\nJosé Núñez;612;invalid_phone\r\n\
             Łukasz;613;invalid_phone\r\nIñaki;614;invalid_phone\r\n"
        );
        assert!(
            counts.to_json(&[])["rejects_encoding"]
                .as_str()
                .is_some_and(|s| s.contains("U+0141"))
        );
    }

    #[test]
    fn the_summary_lists_top_reasons_one_a_line_with_an_example_row() {
        let mut c = Counts::default();
        c.add(Status::Valid, "", 2);
        c.add(Status::Invalid, "invalid_phone: \"55\"", 3);
        c.add(
            Status::Invalid,
            "invalid_email: \"a@\"; invalid_phone: \"1\"",
            4,
        );
        c.add(Status::Invalid, "invalid_phone: \"2\"", 5);
        let text = c.human(&[Status::Valid, Status::Invalid]);
        assert!(
            text.contains(
                "\n  invalid_phone: 3 rows (e.g. row 3)\n  invalid_email: 1 row (e.g. row 4)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_special_byte_anywhere_in_a_field_makes_it_quoted() {
        for delimiter in [b',', b';', b'\t', b'|'] {
            let enc = LineEncoder::new(delimiter);
            for len in 0..24 {
                let plain = vec![b'a'; len];
                assert!(!enc.needs_quotes(&plain));
                for at in 0..len {
                    for special in [delimiter, b'"', b'\n', b'\r'] {
                        let mut f = plain.clone();
                        f[at] = special;
                        assert!(enc.needs_quotes(&f), "{delimiter} {len} {at} {special}");
                    }
                    // Bytes next to the special ones (and UTF-8 bytes) do not.
                    let mut f = plain.clone();
                    f[at] = delimiter.wrapping_add(1);
                    f[len - 1] = 0xC3;
                    assert!(!enc.needs_quotes(&f) || [b'"', b'\n', b'\r'].contains(&f[at]));
                }
            }
        }
        let mut line = Vec::new();
        LineEncoder::new(b',').field(&mut line, b"say \"hi\", ok");
        assert_eq!(line, b"\"say \"\"hi\"\", ok\"");
    }
}
