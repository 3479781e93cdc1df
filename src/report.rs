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

use crate::export::guard_formula;
use crate::source::Fields;

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
    path: PathBuf,
    partial: PathBuf,
}

impl CsvOut {
    fn create(path: &Path, delimiter: u8) -> Result<CsvOut, ReportError> {
        let partial = partial_path(path);
        let file = File::create(&partial).map_err(|e| write_error(&partial, e))?;
        Ok(CsvOut {
            out: BufWriter::with_capacity(1 << 16, file),
            line: Vec::with_capacity(1024),
            fields: 0,
            enc: LineEncoder::new(delimiter),
            path: path.to_path_buf(),
            partial,
        })
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

    /// Ends the current line and hands it to the file.
    fn end_line(&mut self) -> Result<(), ReportError> {
        // A line of one empty field would read back as a blank line, which
        // CSV readers skip: quote it, as the csv crate does.
        if self.line.is_empty() {
            self.line.extend_from_slice(b"\"\"");
        }
        self.line.push(b'\n');
        let result = self.out.write_all(&self.line);
        self.line.clear();
        self.fields = 0;
        result.map_err(|e| self.failed(e))
    }

    /// Writes bytes that already are whole lines.
    fn raw(&mut self, bytes: &[u8]) -> Result<(), ReportError> {
        self.out.write_all(bytes).map_err(|e| self.failed(e))
    }

    fn record<S: AsRef<[u8]>>(&mut self, fields: &[S]) -> Result<(), ReportError> {
        for f in fields {
            self.field(f);
        }
        self.end_line()
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
        line.extend_from_slice(itoa(row.row, &mut buf));
        line.push(b',');
        let status_at = line.len() - start;
        line.push(b',');
        enc.field(line, row.reason.as_bytes());
        line.push(b',');
        enc.field(line, row.phone.as_bytes());
        line.push(b',');
        enc.field(line, row.phone_type.as_bytes());
        line.push(b',');
        enc.field(line, enc.cell(row.email).as_bytes());
        line.push(b',');
        let dup_at = line.len() - start;
        for f in row.raw {
            line.push(b',');
            enc.field(line, enc.cell(f).as_bytes());
        }
        line.push(b'\n');
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
                r.push(b'\n');
                Some((from, r.len()))
            }
            _ => None,
        };
        out.rows.push(EncodedRow {
            seq: row.seq,
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
    /// Skipped rows that are footer lines (see [`FOOTER`]): reported, but
    /// no reason for exit code 3.
    pub footers: u64,
}

impl Counts {
    /// Adds one row.
    pub fn add(&mut self, status: Status, reason: &str) {
        self.rows += 1;
        *self.by_status.entry(status).or_default() += 1;
        if status == Status::Skipped && reason == FOOTER {
            self.footers += 1;
        }
        for part in reason.split("; ").filter(|p| !p.is_empty()) {
            let code = part.split(':').next().unwrap_or(part).trim();
            // Codes repeat: only the first sighting allocates.
            match self.by_reason.get_mut(code) {
                Some(n) => *n += 1,
                None => {
                    self.by_reason.insert(code.to_string(), 1);
                }
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
            let shown: Vec<String> = top
                .iter()
                .take(5)
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            out.push_str(&format!("top reasons: {}\n", shown.join(", ")));
        }
        out
    }
}

/// Where and how to write the report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The report file.
    pub report: PathBuf,
    /// The rejects file, if asked for.
    pub rejects: Option<PathBuf>,
    /// Delimiter of the rejects file (the input's own, so it opens like it).
    pub rejects_delimiter: u8,
    /// Whether to add the `remote_id` column (import).
    pub remote_id: bool,
}

/// A row that arrived before an earlier one.
enum Pending {
    Result(RowResult),
    Line {
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
            CsvOut::create(p, b',')
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
                    CsvOut::create(p, opts.rejects_delimiter)
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
                    report: parts.concat(),
                    rejects: line.rejects.map(<[u8]>::to_vec),
                    status,
                    reason: reason.to_owned(),
                },
            );
            return Ok(());
        }
        self.write_encoded(&parts, line.rejects, status, reason)?;
        self.advance()
    }

    fn write_encoded(
        &mut self,
        parts: &[&[u8]],
        rejects: Option<&[u8]>,
        status: Status,
        reason: &str,
    ) -> Result<(), ReportError> {
        self.counts.add(status, reason);
        for p in parts {
            self.report.raw(p)?;
        }
        if let (Some(w), Some(line)) = (self.rejects.as_mut(), rejects) {
            w.raw(line)?;
        }
        Ok(())
    }

    fn write_pending(&mut self, p: Pending) -> Result<(), ReportError> {
        match p {
            Pending::Result(r) => self.write_one(&r.view()),
            Pending::Line {
                report,
                rejects,
                status,
                reason,
            } => self.write_encoded(&[&report], rejects.as_deref(), status, &reason),
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
        self.counts.add(r.status, &r.reason);
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
        report.end_line()?;
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
            w.end_line()?;
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
