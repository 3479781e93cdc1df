//! The report and the rejects file as Excel workbooks, when their path
//! ends in `.xlsx` (in any case).
//!
//! The first sheet holds exactly the columns and rows the CSV file would
//! (so a rejects workbook can be fixed and fed back like a rejects CSV);
//! its header is bold, frozen and filtered, and the report's `status`
//! column is coloured. Every cell is a string cell, phones and ids
//! included: `+34…` and leading zeros survive, and nothing is ever a
//! formula, so the cells are the input's, verbatim, without the `'` guard
//! the CSV files need (see [`crate::export::guard`]).
//!
//! The second sheet, `Summary`, holds the run's [`Counts`] (rows per status
//! and per reason code, grouped by [`Counts::add`]) and a bar chart of the
//! reasons that refers to those cells.
//!
//! Rows go to a constant-memory worksheet (`rust_xlsxwriter`'s
//! `constant_memory` feature): each row is spooled to a temporary file beside
//! the report as soon as the next one starts, so a million-row report costs
//! one row of memory. Its one rule is that rows are written in order, which
//! is how the report is written anyway. Column widths and the autofilter
//! are set at the end: the crate only assembles the XML around the cell
//! data when saving. The Summary is only known at the end, so it is a
//! second, ordinary worksheet added last (see the crate's "Restrictions
//! when using constant memory mode",
//! <https://docs.rs/rust_xlsxwriter/0.102.0/rust_xlsxwriter/performance/index.html>).
//!
//! As with the CSV files, the workbook is saved to `<path>.partial` and
//! renamed over `path` only when complete.
//!
//! `validate` hands the writer lines its worker threads encoded as CSV
//! ([`super::ReportLayout`]); a workbook splits them back into cells with
//! the same delimiter, which is exact because the encoder quotes every
//! field that holds a delimiter, a quote or a line break.

use rust_xlsxwriter::{Chart, ChartType, Color, Format, Workbook, Worksheet, XlsxError};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Counts, CsvOut, EncodingFallback, LineEncoder, ReportError, Status, partial_path};

/// Excel's limit on the characters in one cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Data rows under the header of one sheet (Excel's 1,048,576 rows less
/// the header); more continue on a second sheet with its own header.
const MAX_DATA_ROWS: u32 = 1_048_575;
/// Excel's limit on the columns of a sheet.
const MAX_COLUMNS: usize = 16_384;
/// Column widths come from the header and this many rows: enough to see
/// what a column holds, without measuring every cell of a million rows.
const WIDTH_ROWS: u32 = 1000;
/// Column widths in characters: narrow enough not to waste the screen on a
/// long note, wide enough for the autofilter button beside a short header.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 50;
/// Room for the autofilter drop-down button beside a header.
const HEADER_PAD: usize = 3;
/// Above this estimated size of one sheet's XML (4 GiB is the plain zip
/// limit, with a margin for the estimate) ZIP64 is switched on.
const ZIP64_THRESHOLD: u64 = 3 << 30;
/// Bytes of XML around each cell's text (`<c r="AB123" t="inlineStr"><is><t>…`).
const CELL_OVERHEAD: u64 = 48;
/// The name of the second sheet.
const SUMMARY: &str = "Summary";

/// Whether `path` asks for a workbook: its extension is `xlsx`, in any case.
pub fn is_xlsx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// Which of the two files a workbook is: the report's `status` column is
/// coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The report: `row,status,reason,…`.
    Report,
    /// The rejects file: the input's columns, then `waport_error`.
    Rejects,
}

/// A report or rejects file: CSV, or a workbook when its name ends in
/// `.xlsx`. It offers [`CsvOut`]'s calls, so [`super::ReportWriter`] writes
/// both the same way.
pub(super) enum Out {
    /// A CSV file.
    Csv(Box<CsvOut>),
    /// A workbook.
    Xlsx(Box<Book>),
}

impl Out {
    /// A workbook when `path` ends in `.xlsx`, else the CSV file `csv`
    /// creates.
    pub(super) fn create(
        path: &Path,
        kind: Kind,
        csv: impl FnOnce(&Path) -> Result<CsvOut, ReportError>,
    ) -> Result<Out, ReportError> {
        if is_xlsx(path) {
            Ok(Out::Xlsx(Box::new(Book::create(path, kind)?)))
        } else {
            csv(path).map(|c| Out::Csv(Box::new(c)))
        }
    }

    /// How lines handed to [`Out::raw`] are laid out.
    pub(super) fn enc(&self) -> LineEncoder {
        match self {
            Out::Csv(c) => c.enc,
            Out::Xlsx(b) => b.enc,
        }
    }

    /// Appends a field to the current line.
    pub(super) fn field(&mut self, f: impl AsRef<[u8]>) {
        match self {
            Out::Csv(c) => c.field(f),
            Out::Xlsx(b) => b.cells.push(f.as_ref()),
        }
    }

    /// Ends the current line (of row `row`).
    pub(super) fn end_line(&mut self, row: u64) -> Result<(), ReportError> {
        match self {
            Out::Csv(c) => c.end_line(row),
            Out::Xlsx(b) => b.end_row(),
        }
    }

    /// Writes bytes that are whole lines laid out by [`Out::enc`], or a
    /// piece of one whose rest follows (of row `row`).
    pub(super) fn raw(&mut self, bytes: &[u8], row: u64) -> Result<(), ReportError> {
        match self {
            Out::Csv(c) => c.raw(bytes, row),
            Out::Xlsx(b) => b.raw(bytes),
        }
    }

    /// Writes a whole line.
    pub(super) fn record<S: AsRef<[u8]>>(&mut self, fields: &[S]) -> Result<(), ReportError> {
        match self {
            Out::Csv(c) => c.record(fields),
            Out::Xlsx(b) => {
                for f in fields {
                    b.cells.push(f.as_ref());
                }
                b.end_row()
            }
        }
    }

    /// Makes `<path>.partial` complete: flushes a CSV file; saves a
    /// workbook, with its Summary sheet from `counts`.
    pub(super) fn close(&mut self, counts: &Counts) -> Result<(), ReportError> {
        match self {
            Out::Csv(c) => c.flush(),
            Out::Xlsx(b) => b.save(counts),
        }
    }

    /// Renames the complete file into place (after [`Out::close`]).
    pub(super) fn commit(self) -> Result<(), ReportError> {
        match self {
            Out::Csv(c) => (*c).commit(),
            Out::Xlsx(b) => b.commit(),
        }
    }

    /// Whether a CSV file had to leave its input's encoding for UTF-8 (a
    /// workbook is always Unicode).
    pub(super) fn fallback(&self) -> Option<EncodingFallback> {
        match self {
            Out::Csv(c) => c.fallback.clone(),
            Out::Xlsx(_) => None,
        }
    }

    /// Where the file is until it is complete.
    pub(super) fn partial(&self) -> &Path {
        match self {
            Out::Csv(c) => &c.partial,
            Out::Xlsx(b) => &b.partial,
        }
    }
}

/// The cells of the row being written, reusing their buffers row to row.
#[derive(Default)]
struct Cells {
    bufs: Vec<Vec<u8>>,
    len: usize,
}

impl Cells {
    /// A new, empty cell at the end of the row.
    fn start(&mut self) -> &mut Vec<u8> {
        if self.len == self.bufs.len() {
            self.bufs.push(Vec::new());
        }
        let b = &mut self.bufs[self.len];
        b.clear();
        self.len += 1;
        b
    }

    fn push(&mut self, f: &[u8]) {
        self.start().extend_from_slice(f);
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.bufs[..self.len].iter().map(Vec::as_slice)
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// Splits the first line of `buf`, laid out as [`LineEncoder`] writes with
/// `delimiter`, into `cells`. Returns the bytes it took, or `None` when
/// `buf` does not hold a whole line yet.
fn split_line(buf: &[u8], delimiter: u8, cells: &mut Cells) -> Option<usize> {
    cells.clear();
    let mut i = 0;
    loop {
        let cell = cells.start();
        if buf.get(i) == Some(&b'"') {
            // Quoted: runs to the quote that is not doubled.
            i += 1;
            loop {
                let q = buf[i..].iter().position(|&b| b == b'"')?;
                cell.extend_from_slice(&buf[i..i + q]);
                i += q + 1;
                if buf.get(i) == Some(&b'"') {
                    cell.push(b'"');
                    i += 1;
                } else {
                    break;
                }
            }
        } else {
            let end = buf[i..]
                .iter()
                .position(|&b| b == delimiter || b == b'\n')?;
            cell.extend_from_slice(&buf[i..i + end]);
            i += end;
        }
        match *buf.get(i)? {
            b'\n' => return Some(i + 1),
            // After a quoted field comes a delimiter or the line's end.
            _ => i += 1,
        }
    }
}

/// The cell formats of a report workbook.
struct Formats {
    header: Format,
    good: Format,
    bad: Format,
    neutral: Format,
}

impl Formats {
    fn new() -> Formats {
        // Excel's own "Good" and "Bad" cell styles, and a grey for rows
        // that were neither: nothing to fix, nothing sent.
        Formats {
            header: Format::new().set_bold(),
            good: Format::new()
                .set_font_color(Color::RGB(0x006100))
                .set_background_color(Color::RGB(0xC6EFCE)),
            bad: Format::new()
                .set_font_color(Color::RGB(0x9C0006))
                .set_background_color(Color::RGB(0xFFC7CE)),
            neutral: Format::new()
                .set_font_color(Color::RGB(0x3F3F3F))
                .set_background_color(Color::RGB(0xD9D9D9)),
        }
    }

    /// The colour of a status: green for a row accepted or sent, red for
    /// one to fix or retry, grey for one left alone.
    fn status(&self, status: Status) -> &Format {
        match status {
            Status::Valid | Status::Created | Status::Updated => &self.good,
            Status::Invalid | Status::Failed => &self.bad,
            Status::Duplicate | Status::Exists | Status::Unchanged | Status::Skipped => {
                &self.neutral
            }
        }
    }
}

/// A report or rejects workbook being written.
pub(super) struct Book {
    kind: Kind,
    workbook: Workbook,
    /// `<path>.partial`, created at once so an unwritable place fails
    /// before the run, not after it.
    file: Option<File>,
    path: PathBuf,
    partial: PathBuf,
    /// How `validate`'s pre-encoded lines are laid out: unguarded, as every
    /// cell of a workbook is.
    enc: LineEncoder,
    formats: Formats,
    /// The header row (the first row written), repeated on every sheet.
    header: Option<Vec<String>>,
    cells: Cells,
    /// Bytes handed to [`Book::raw`] that do not make a whole line yet.
    pending: Vec<u8>,
    /// Index of the sheet being written, and its data rows so far.
    sheet: usize,
    sheet_rows: u32,
    /// Widest content per column on that sheet, in characters.
    widths: Vec<usize>,
    /// Estimated XML bytes of that sheet, and the largest of any sheet.
    sheet_bytes: u64,
    max_sheet_bytes: u64,
    /// Cells cut at Excel's limit.
    cut: u64,
    saved: bool,
}

impl Book {
    fn create(path: &Path, kind: Kind) -> Result<Book, ReportError> {
        let partial = partial_path(path);
        let file = File::create(&partial).map_err(|e| super::write_error(&partial, e))?;
        let mut workbook = Workbook::new();
        // Spool the sheet data beside the report: /tmp is often a small RAM
        // disk, and the data is headed for this directory anyway.
        let dir = match partial.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        workbook
            .set_tempdir(&dir)
            .map_err(|e| xlsx_error(&partial, e))?;
        Ok(Book {
            kind,
            workbook,
            file: Some(file),
            path: path.to_path_buf(),
            partial,
            enc: LineEncoder {
                guard: false,
                ..LineEncoder::new(b',')
            },
            formats: Formats::new(),
            header: None,
            cells: Cells::default(),
            pending: Vec::new(),
            sheet: 0,
            sheet_rows: 0,
            widths: Vec::new(),
            sheet_bytes: 0,
            max_sheet_bytes: 0,
            cut: 0,
            saved: false,
        })
    }

    fn failed(&self, e: XlsxError) -> ReportError {
        xlsx_error(&self.path, e)
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<(), ReportError> {
        self.pending.extend_from_slice(bytes);
        // Lines arrive whole or in pieces that end mid-line; only a piece
        // ending in LF can complete one.
        if self.pending.last() != Some(&b'\n') {
            return Ok(());
        }
        let mut at = 0;
        while let Some(n) = split_line(&self.pending[at..], self.enc.delimiter, &mut self.cells) {
            at += n;
            self.end_row()?;
        }
        self.cells.clear();
        self.pending.drain(..at);
        Ok(())
    }

    /// Writes the cells gathered so far as the next row.
    fn end_row(&mut self) -> Result<(), ReportError> {
        let result = match self.header {
            None => self.start_first_sheet(),
            Some(_) => self.write_row(),
        };
        self.cells.clear();
        result.map_err(|e| self.failed(e))
    }

    /// The header row is in `cells`: starts the first sheet with it.
    fn start_first_sheet(&mut self) -> Result<(), XlsxError> {
        let header: Vec<String> = self
            .cells
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        if header.len() > MAX_COLUMNS {
            return Err(XlsxError::ParameterError(format!(
                "{} columns do not fit in a sheet, which holds {MAX_COLUMNS}; write the report as .csv",
                header.len()
            )));
        }
        self.header = Some(header);
        self.start_sheet(0)
    }

    /// Adds sheet number `index` (from 0) with its bold, frozen header.
    fn start_sheet(&mut self, index: usize) -> Result<(), XlsxError> {
        let base = match self.kind {
            Kind::Report => "report",
            Kind::Rejects => "rejects",
        };
        let ws = self.workbook.add_worksheet_with_constant_memory()?;
        if index == 0 {
            ws.set_name(base)?;
        } else {
            ws.set_name(format!("{base}_{}", index + 1))?;
        }
        ws.set_freeze_panes(1, 0)?;
        let header = self.header.as_deref().unwrap_or_default();
        for (col, h) in header.iter().enumerate() {
            ws.write_string_with_format(0, col_num(col), h, &self.formats.header)?;
        }
        self.widths = header
            .iter()
            .map(|h| h.chars().count() + HEADER_PAD)
            .collect();
        self.sheet = index;
        self.sheet_rows = 0;
        self.sheet_bytes = 0;
        Ok(())
    }

    /// Sets the widths and autofilter of the current sheet.
    fn close_sheet(&mut self) -> Result<(), XlsxError> {
        let columns = self.header.as_ref().map_or(0, Vec::len);
        let ws = self.workbook.worksheet_from_index(self.sheet)?;
        for (col, width) in self.widths.iter().enumerate() {
            let width = (*width).clamp(MIN_WIDTH, MAX_WIDTH);
            ws.set_column_width(col_num(col), width as f64)?;
        }
        if columns > 0 {
            ws.autofilter(0, 0, self.sheet_rows, col_num(columns - 1))?;
        }
        self.max_sheet_bytes = self.max_sheet_bytes.max(self.sheet_bytes);
        Ok(())
    }

    fn write_row(&mut self) -> Result<(), XlsxError> {
        if self.sheet_rows >= MAX_DATA_ROWS {
            self.close_sheet()?;
            self.start_sheet(self.sheet + 1)?;
        }
        let measure = self.sheet_rows < WIDTH_ROWS;
        let r = self.sheet_rows + 1;
        let ws: &mut Worksheet = self.workbook.worksheet_from_index(self.sheet)?;
        for (i, cell) in self.cells.iter().enumerate() {
            if cell.is_empty() || i >= MAX_COLUMNS {
                continue;
            }
            let text = String::from_utf8_lossy(cell);
            let text = match text.char_indices().nth(MAX_CELL_CHARS) {
                Some((cut, _)) => {
                    self.cut += 1;
                    &text[..cut]
                }
                None => &text[..],
            };
            let col = col_num(i);
            match (self.kind, i) {
                (Kind::Report, 1) => match Status::parse(text) {
                    Some(s) => ws.write_string_with_format(r, col, text, self.formats.status(s))?,
                    None => ws.write_string(r, col, text)?,
                },
                _ => ws.write_string(r, col, text)?,
            };
            // Escaping can grow text up to 6 times (`&quot;`), but real
            // contact data is mostly plain; 2x keeps a margin.
            self.sheet_bytes += CELL_OVERHEAD + 2 * text.len() as u64;
            if measure {
                // Counting past the widest useful width is wasted work.
                let shown = text.chars().take(MAX_WIDTH + 1).count();
                match self.widths.get_mut(i) {
                    Some(w) => *w = (*w).max(shown),
                    None => {
                        self.widths.resize(i, 0);
                        self.widths.push(shown);
                    }
                }
            }
        }
        self.sheet_rows += 1;
        Ok(())
    }

    /// Adds the Summary sheet: rows per status, rows per reason code and a
    /// bar chart of the reasons that refers to those cells.
    fn summary(&mut self, counts: &Counts) -> Result<(), XlsxError> {
        let bold = &self.formats.header;
        let ws = self.workbook.add_worksheet();
        ws.set_name(SUMMARY)?;
        ws.write_string_with_format(0, 0, "status", bold)?;
        ws.write_string_with_format(0, 1, "rows", bold)?;
        let mut r = 1;
        for (status, n) in &counts.by_status {
            ws.write_string_with_format(r, 0, status.as_str(), self.formats.status(*status))?;
            ws.write_number(r, 1, *n as f64)?;
            r += 1;
        }
        ws.write_string_with_format(r, 0, "total", bold)?;
        ws.write_number_with_format(r, 1, counts.rows as f64, bold)?;
        r += 2;
        ws.write_string_with_format(r, 0, "reason", bold)?;
        ws.write_string_with_format(r, 1, "rows", bold)?;
        let first = r + 1;
        let mut reasons: Vec<(&String, &u64)> = counts.by_reason.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (reason, n) in &reasons {
            r += 1;
            ws.write_string(r, 0, *reason)?;
            ws.write_number(r, 1, **n as f64)?;
        }
        let widest = reasons
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0)
            .max("unchanged".len())
            .clamp(MIN_WIDTH, MAX_WIDTH);
        ws.set_column_width(0, widest as f64)?;
        if self.cut > 0 {
            ws.write_string(
                r + 2,
                0,
                format!(
                    "{} cell(s) were longer than Excel's 32,767 characters and were cut; the .csv report keeps them whole",
                    self.cut
                ),
            )?;
        }
        if !reasons.is_empty() {
            let last = r;
            let mut chart = Chart::new(ChartType::Bar);
            chart
                .add_series()
                .set_name("rows")
                .set_categories((SUMMARY, first, 0, last, 0))
                .set_values((SUMMARY, first, 1, last, 1));
            chart.title().set_name("Rows by reason");
            chart.legend().set_hidden();
            // A bar chart's category axis is its y axis: reversed, the
            // most frequent reason is drawn at the top, as in the table.
            chart.y_axis().set_reverse();
            let bars = u32::try_from(reasons.len()).unwrap_or(u32::MAX);
            chart.set_height(bars.saturating_mul(24).saturating_add(96).clamp(288, 2000));
            chart.set_width(640);
            ws.insert_chart(0, 3, &chart)?;
        }
        Ok(())
    }

    /// Closes the data sheet, adds the Summary and saves the workbook to
    /// `<path>.partial`.
    fn save(&mut self, counts: &Counts) -> Result<(), ReportError> {
        if self.saved {
            return Ok(());
        }
        if self.header.is_none() {
            // Nothing was written, not even a header: still a workbook.
            self.start_sheet(0).map_err(|e| self.failed(e))?;
            self.header = Some(Vec::new());
        }
        self.close_sheet().map_err(|e| self.failed(e))?;
        self.summary(counts).map_err(|e| self.failed(e))?;
        if self.max_sheet_bytes > ZIP64_THRESHOLD {
            self.workbook.use_zip_large_file(true);
        }
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let mut out = BufWriter::with_capacity(1 << 16, file);
        self.workbook
            .save_to_writer(&mut out)
            .map_err(|e| self.failed(e))?;
        out.flush()
            .map_err(|e| super::write_error(&self.partial, e))?;
        self.saved = true;
        Ok(())
    }

    fn commit(self) -> Result<(), ReportError> {
        debug_assert!(self.saved, "a workbook is saved before it is renamed");
        std::fs::rename(&self.partial, &self.path).map_err(|e| ReportError::Partial {
            path: self.path.display().to_string(),
            partial: self.partial.display().to_string(),
            message: e.to_string(),
        })
    }
}

/// A workbook error: nothing has replaced the file asked for.
fn xlsx_error(path: &Path, e: XlsxError) -> ReportError {
    ReportError::Write {
        path: path.display().to_string(),
        message: format!("{e} (the file was left as it was)"),
    }
}

/// A column index as the crate wants it; callers keep it under
/// [`MAX_COLUMNS`], so it always fits.
fn col_num(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(buf: &[u8], delimiter: u8) -> Option<(usize, Vec<String>)> {
        let mut cells = Cells::default();
        let n = split_line(buf, delimiter, &mut cells)?;
        Some((
            n,
            cells
                .iter()
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect(),
        ))
    }

    #[test]
    fn lines_split_back_into_the_fields_the_encoder_wrote() {
        let fields = [
            "plain",
            "",
            "with, comma",
            "say \"hi\"",
            "two\nlines",
            "\r",
            "José;x",
        ];
        for delimiter in [b',', b';', b'\t', b'|'] {
            let enc = LineEncoder::new(delimiter);
            let mut line = Vec::new();
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    line.push(delimiter);
                }
                enc.field(&mut line, f.as_bytes());
            }
            line.push(b'\n');
            let whole = line.len();
            line.extend_from_slice(b"next");
            let (n, got) = split(&line, delimiter).unwrap();
            assert_eq!(n, whole, "{delimiter}");
            assert_eq!(got, fields, "{delimiter}");
        }
    }

    #[test]
    fn an_unfinished_line_is_not_split() {
        assert_eq!(split(b"a,b", b','), None);
        assert_eq!(split(b"a,\"b\n", b','), None);
        assert_eq!(split(b"a,\"b\"\"", b','), None);
        // The one-empty-field line the encoder quotes.
        assert_eq!(split(b"\"\"\n", b','), Some((3, vec![String::new()])));
    }

    #[test]
    fn only_an_xlsx_extension_asks_for_a_workbook() {
        assert!(is_xlsx(Path::new("r.xlsx")));
        assert!(is_xlsx(Path::new("dir/Informe.XLSX")));
        assert!(!is_xlsx(Path::new("r.csv")));
        assert!(!is_xlsx(Path::new("xlsx")));
        assert!(!is_xlsx(Path::new("r.xlsx.csv")));
    }
}
