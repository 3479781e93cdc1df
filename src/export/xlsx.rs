//! The XLSX writer, on `rust_xlsxwriter` in constant-memory mode.
//!
//! Constant memory (the crate's `constant_memory` feature) keeps only the
//! current row in memory and spools the rest to a temporary file per sheet,
//! so a million-contact export costs megabytes, not gigabytes. Its one
//! restriction, rows in order, is how an export writes anyway. Column
//! widths, the frozen header and the autofilter are still set at the end:
//! the crate assembles the part of the sheet XML before and after the cell
//! data only when saving, so widths can follow the content actually seen.
//!
//! Cells:
//! - every text cell, phones and ids included, goes through `write_string`,
//!   so a phone never turns into a float (or `5.21551E+12`) and nothing is
//!   ever a formula; that is also why no `'` guard is applied here, where it
//!   would only corrupt the data (see [`super::guard`]);
//! - `created_at` and `updated_at` become real dates when they are ISO 8601
//!   (see [`parse_iso_datetime`]), else stay text;
//! - empty values write no cell at all;
//! - text longer than Excel's 32,767-character cell limit is cut there and
//!   counted in the warnings (CSV and JSONL keep it whole).
//!
//! A sheet holds 1,048,575 data rows under its header; more rows continue
//! on `contacts_2`, `contacts_3`, ... each with its own header.

use super::columns::Unlisted;
use super::sink::AtomicFile;
use super::{Columns, ContactWriter, ExportError, ExportRow, WriterOptions, XLSX_MAX_DATA_ROWS};
use super::{is_stdout, shown};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;

/// Excel's limit on the characters in one cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Excel's limit on the columns of a sheet.
const MAX_COLUMNS: usize = 16_384;
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

/// Where the finished workbook goes.
enum Dest {
    File { atomic: AtomicFile, file: File },
    Stdout,
}

/// Writes rows into a workbook.
pub(crate) struct XlsxWriter {
    workbook: Workbook,
    columns: Columns,
    dest: Dest,
    shown: String,
    header_format: Format,
    date_format: Format,
    datetime_format: Format,
    rows_per_sheet: u32,
    /// Index of the sheet being written.
    sheet: usize,
    /// Data rows on that sheet so far.
    sheet_rows: u32,
    /// Widest content seen per column on that sheet, in characters.
    widths: Vec<usize>,
    /// Estimated XML bytes of that sheet, and the largest of any sheet.
    sheet_bytes: u64,
    max_sheet_bytes: u64,
    rows: u64,
    truncated: u64,
    unlisted: Unlisted,
}

impl XlsxWriter {
    /// Checks the destination, reserves the temporary file and starts the
    /// first sheet.
    pub(crate) fn create(
        path: &Path,
        columns: Columns,
        opts: &WriterOptions,
    ) -> Result<Self, ExportError> {
        let shown = shown(path);
        if columns.len() > MAX_COLUMNS {
            return Err(ExportError::TooManyColumns {
                path: shown,
                count: columns.len(),
            });
        }
        let mut workbook = Workbook::new();
        let dest = if is_stdout(path) {
            // A workbook streams fine into a pipe or a redirect, but on a
            // terminal it is only binary noise.
            if std::io::stdout().is_terminal() {
                return Err(ExportError::XlsxToTerminal);
            }
            Dest::Stdout
        } else {
            let (atomic, file) = AtomicFile::create(path)?;
            // Spool sheet data beside the destination: /tmp is often a small
            // RAM disk, and the data is headed for this directory anyway.
            if let Some(dir) = atomic.tmp_path().parent() {
                workbook
                    .set_tempdir(dir)
                    .map_err(|source| ExportError::Xlsx {
                        path: shown.clone(),
                        source,
                    })?;
            }
            Dest::File { atomic, file }
        };
        let unlisted = Unlisted::new(&columns);
        let mut w = Self {
            workbook,
            widths: columns
                .headers()
                .iter()
                .map(|h| h.chars().count() + HEADER_PAD)
                .collect(),
            columns,
            dest,
            shown,
            header_format: Format::new().set_bold(),
            date_format: Format::new().set_num_format("yyyy-mm-dd"),
            datetime_format: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            rows_per_sheet: opts.xlsx_rows_per_sheet.clamp(1, XLSX_MAX_DATA_ROWS),
            sheet: 0,
            sheet_rows: 0,
            sheet_bytes: 0,
            max_sheet_bytes: 0,
            rows: 0,
            truncated: 0,
            unlisted,
        };
        w.start_sheet(0).map_err(|e| w.xlsx_error(e))?;
        Ok(w)
    }

    fn xlsx_error(&self, source: XlsxError) -> ExportError {
        ExportError::Xlsx {
            path: self.shown.clone(),
            source,
        }
    }

    /// Adds sheet number `index` (from 0) with its bold, frozen header.
    fn start_sheet(&mut self, index: usize) -> Result<(), XlsxError> {
        let ws = self.workbook.add_worksheet_with_constant_memory()?;
        if index == 0 {
            ws.set_name("contacts")?;
        } else {
            ws.set_name(format!("contacts_{}", index + 1))?;
        }
        ws.set_freeze_panes(1, 0)?;
        for (col, header) in self.columns.headers().iter().enumerate() {
            ws.write_string_with_format(0, col_num(col), header, &self.header_format)?;
        }
        self.sheet = index;
        self.sheet_rows = 0;
        self.sheet_bytes = 0;
        for (w, h) in self.widths.iter_mut().zip(self.columns.headers()) {
            *w = h.chars().count() + HEADER_PAD;
        }
        Ok(())
    }

    /// Sets the widths and autofilter of the current sheet.
    fn close_sheet(&mut self) -> Result<(), XlsxError> {
        let last_col = col_num(self.columns.len().saturating_sub(1));
        let ws = self.workbook.worksheet_from_index(self.sheet)?;
        for (col, width) in self.widths.iter().enumerate() {
            let width = (*width).clamp(MIN_WIDTH, MAX_WIDTH);
            ws.set_column_width(col_num(col), width as f64)?;
        }
        ws.autofilter(0, 0, self.sheet_rows, last_col)?;
        self.max_sheet_bytes = self.max_sheet_bytes.max(self.sheet_bytes);
        Ok(())
    }

    fn write_row(&mut self, row: &ExportRow) -> Result<(), XlsxError> {
        if self.sheet_rows >= self.rows_per_sheet {
            self.close_sheet()?;
            self.start_sheet(self.sheet + 1)?;
        }
        let r = self.sheet_rows + 1;
        let ws = self.workbook.worksheet_from_index(self.sheet)?;
        for (i, column) in self.columns.columns().iter().enumerate() {
            let value = column.value(row);
            if value.is_empty() {
                continue;
            }
            let col = col_num(i);
            let shown_chars;
            if let Some((dt, has_time)) = column
                .is_date()
                .then(|| parse_iso_datetime(&value))
                .flatten()
            {
                if has_time {
                    ws.write_datetime_with_format(r, col, &dt, &self.datetime_format)?;
                    shown_chars = 19;
                } else {
                    ws.write_datetime_with_format(r, col, &dt, &self.date_format)?;
                    shown_chars = 10;
                }
                self.sheet_bytes += CELL_OVERHEAD + 20;
            } else {
                let text = match value.char_indices().nth(MAX_CELL_CHARS) {
                    Some((cut, _)) => {
                        self.truncated += 1;
                        &value[..cut]
                    }
                    None => &value[..],
                };
                ws.write_string(r, col, text)?;
                // Counting past the widest useful width is wasted work.
                shown_chars = text.chars().take(MAX_WIDTH + 1).count();
                // Escaping can grow text up to 6 times (`&quot;`), but real
                // contact data is mostly plain; 2x keeps a margin.
                self.sheet_bytes += CELL_OVERHEAD + 2 * text.len() as u64;
            }
            if let Some(w) = self.widths.get_mut(i) {
                *w = (*w).max(shown_chars);
            }
        }
        self.sheet_rows += 1;
        Ok(())
    }
}

/// A column index as the crate wants it; [`MAX_COLUMNS`] is checked on
/// creation, so it always fits.
fn col_num(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

impl ContactWriter for XlsxWriter {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        self.unlisted.observe(row);
        self.write_row(row).map_err(|e| self.xlsx_error(e))?;
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<u64, ExportError> {
        self.close_sheet().map_err(|e| self.xlsx_error(e))?;
        if self.max_sheet_bytes > ZIP64_THRESHOLD {
            self.workbook.use_zip_large_file(true);
        }
        let rows = self.rows;
        let this = *self;
        let Self {
            mut workbook,
            dest,
            shown,
            ..
        } = this;
        let xlsx = |source| ExportError::Xlsx {
            path: shown.clone(),
            source,
        };
        let io = |source| ExportError::Write {
            path: shown.clone(),
            source,
        };
        match dest {
            Dest::File { atomic, file } => {
                let mut out = BufWriter::with_capacity(1 << 16, &file);
                workbook.save_to_writer(&mut out).map_err(xlsx)?;
                out.flush().map_err(io)?;
                drop(out);
                atomic.commit(file)?;
            }
            Dest::Stdout => {
                let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
                workbook.save_to_writer(&mut out).map_err(xlsx)?;
                out.flush().map_err(io)?;
            }
        }
        Ok(rows)
    }

    fn warnings(&self) -> Vec<String> {
        let mut w = self.unlisted.warnings();
        if self.truncated > 0 {
            w.push(format!(
                "{} cell(s) in {} were longer than Excel's 32,767 characters and were cut",
                self.truncated, self.shown
            ));
        }
        w
    }
}

/// Parses an ISO 8601 date or date-time into an Excel date, and says
/// whether it had a time.
///
/// Accepted: `YYYY-MM-DD`, then optionally `T` or a space and `hh:mm`,
/// `hh:mm:ss` or `hh:mm:ss.fff…`, then optionally `Z` or an offset
/// (`±hh:mm`, `±hhmm`, `±hh`). Excel has no time zones, so a value with an
/// offset is converted to UTC: every row of an export is then on one clock,
/// which is what sorting and filtering need. Anything else, or a date
/// outside Excel's 1900–9999, returns `None` and is written as text.
/// Stricter than `ExcelDateTime::parse_from_str`, which ignores offsets and
/// turns unparsable parts into zeros.
pub(crate) fn parse_iso_datetime(s: &str) -> Option<(ExcelDateTime, bool)> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: u16 = digits(&s[0..4])?;
    let month: u8 = digits(&s[5..7])?;
    let day: u8 = digits(&s[8..10])?;
    if year < 1900 || !(1..=12).contains(&month) || day == 0 || day > days_in(year, month) {
        return None;
    }
    let date = ExcelDateTime::from_ymd(year, month, day).ok()?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some((date, false));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    // hh:mm
    if rest.len() < 5 || rest.as_bytes()[2] != b':' {
        return None;
    }
    let hour: u16 = digits(rest.get(0..2)?)?;
    let min: u8 = digits(rest.get(3..5)?)?;
    let mut rest = &rest[5..];
    let mut sec = 0.0_f64;
    if let Some(r) = rest.strip_prefix(':') {
        let end = r
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(r.len());
        let text = &r[..end];
        if text.len() < 2 || !text.as_bytes()[..2].iter().all(u8::is_ascii_digit) {
            return None;
        }
        if text.len() > 2 && (text.as_bytes()[2] != b'.' || text.len() == 3) {
            return None;
        }
        sec = text.parse().ok()?;
        rest = &r[end..];
    }
    if hour > 23 || min > 59 || sec >= 60.0 {
        return None;
    }
    let offset_minutes = parse_offset(rest)?;
    let local = date.and_hms(hour, min, sec).ok()?;
    if offset_minutes == 0 {
        return Some((local, true));
    }
    let utc = local.to_excel() - f64::from(offset_minutes) / 1440.0;
    Some((ExcelDateTime::from_serial_datetime(utc).ok()?, true))
}

/// `""`, `Z`, `±hh`, `±hhmm` or `±hh:mm` as minutes east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    if s.is_empty() || s == "Z" || s == "z" {
        return Some(0);
    }
    let (sign, r) = match s.as_bytes()[0] {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match r.len() {
        2 => (r, "00"),
        4 => (&r[..2], &r[2..]),
        5 if r.as_bytes()[2] == b':' => (&r[..2], &r[3..]),
        _ => return None,
    };
    let h: i32 = digits(h)?;
    let m: i32 = digits(m)?;
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

/// Parses a run of ASCII digits only (no sign, no spaces).
fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days in a month of the proleptic Gregorian calendar (no Excel 1900 leap
/// day: `1900-02-29` never existed and stays text).
fn days_in(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial(s: &str) -> Option<(f64, bool)> {
        parse_iso_datetime(s).map(|(d, t)| (d.to_excel(), t))
    }

    #[test]
    fn dates_and_times() {
        // 2024-01-15 is Excel serial 45306.
        assert_eq!(serial("2024-01-15"), Some((45306.0, false)));
        assert_eq!(serial("2024-01-15T12:00:00Z"), Some((45306.5, true)));
        assert_eq!(serial("2024-01-15 12:00"), Some((45306.5, true)));
        let (v, t) = serial("2024-01-15T12:00:00.500000+00:00").unwrap();
        assert!(t && (v - (45306.5 + 0.5 / 86400.0)).abs() < 1e-9);
    }

    #[test]
    fn offsets_convert_to_utc() {
        assert_eq!(serial("2024-01-15T12:00:00+06:00"), Some((45306.25, true)));
        assert_eq!(serial("2024-01-15T12:00:00-0600"), Some((45306.75, true)));
        assert_eq!(
            serial("2024-01-15T23:00:00-03"),
            Some((45307.0 + 2.0 / 24.0, true))
        );
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for s in [
            "",
            "yesterday",
            "1714567890",
            "2024-13-01",
            "2023-02-29",
            "1900-02-29",
            "1899-12-31",
            "2024-01-15T24:00:00",
            "2024-01-15T12:60",
            "2024-01-15T12:00:61",
            "2024-01-15T12:00:00+25:00",
            "2024-01-15T12:00:00 UTC",
            "2024-01-15T1:00",
            "2024-1-15",
            "15/01/2024",
            "2024-01-15T12:00:5",
            "2024-01-15T12:00:05.",
        ] {
            assert_eq!(serial(s), None, "{s:?}");
        }
    }
}
