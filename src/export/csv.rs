//! The CSV writer: streamed, UTF-8, every cell through the formula guard.

use super::columns::Unlisted;
use super::guard::guard_formula;
use super::sink::Sink;
use super::{Columns, ContactWriter, ExportError, ExportRow, WriterOptions};
use std::io::Write;
use std::path::Path;

/// The byte order mark Excel needs to read a CSV as UTF-8 rather than the
/// machine's ANSI code page.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The delimiter of `--excel` CSV: Excel in locales whose decimal mark is a
/// comma (Spain, most of Latin America, Russia) splits columns on `;` and
/// shows a comma-separated file as one column.
pub const EXCEL_DELIMITER: u8 = b';';

/// Writes rows as CSV.
pub(crate) struct CsvWriter {
    out: ::csv::Writer<Sink>,
    columns: Columns,
    unlisted: Unlisted,
    shown: String,
    rows: u64,
    record: Vec<String>,
}

impl CsvWriter {
    /// Opens the destination and writes the BOM (in Excel mode) and header.
    pub(crate) fn create(
        path: &Path,
        columns: Columns,
        opts: &WriterOptions,
    ) -> Result<Self, ExportError> {
        let mut sink = Sink::open(path)?;
        let shown = sink.shown().to_string();
        if opts.excel {
            sink.write_all(UTF8_BOM)
                .map_err(|source| ExportError::Write {
                    path: shown.clone(),
                    source,
                })?;
        }
        // Plain mode ends lines with `\n` like the Unix tools that will
        // read it; Excel mode with `\r\n` (RFC 4180), as Windows programs
        // write and expect.
        let out = ::csv::WriterBuilder::new()
            .delimiter(if opts.excel { EXCEL_DELIMITER } else { b',' })
            .terminator(if opts.excel {
                ::csv::Terminator::CRLF
            } else {
                ::csv::Terminator::Any(b'\n')
            })
            .from_writer(sink);
        let mut w = Self {
            out,
            unlisted: Unlisted::new(&columns),
            columns,
            shown,
            rows: 0,
            record: Vec::new(),
        };
        // Header names come partly from the platform (custom fields), so
        // they are guarded like any cell.
        let header: Vec<String> = w
            .columns
            .headers()
            .iter()
            .map(|h| guard_formula(h).into_owned())
            .collect();
        w.out
            .write_record(&header)
            .map_err(|source| w.csv_error(source))?;
        Ok(w)
    }

    fn csv_error(&self, source: ::csv::Error) -> ExportError {
        ExportError::Csv {
            path: self.shown.clone(),
            source,
        }
    }
}

impl ContactWriter for CsvWriter {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        self.unlisted.observe(row);
        self.record.clear();
        for cell in self.columns.cells(row) {
            self.record.push(guard_formula(&cell).into_owned());
        }
        if let Err(source) = self.out.write_record(&self.record) {
            return Err(self.csv_error(source));
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<u64, ExportError> {
        let rows = self.rows;
        let shown = self.shown.clone();
        let sink = self.out.into_inner().map_err(|e| ExportError::Write {
            path: shown,
            source: e.into_error(),
        })?;
        sink.commit()?;
        Ok(rows)
    }

    fn warnings(&self) -> Vec<String> {
        self.unlisted.warnings()
    }
}
