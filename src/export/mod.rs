//! The file-writing half of `waport export`: CSV, XLSX, JSONL and vCard
//! writers fed one [`ExportRow`] at a time.
//!
//! Paging through a platform is someone else's job; this module only turns a
//! stream of rows into a file. The shape of a tabular export is fixed by
//! [`Columns`]: the canonical fields first, under the English names waport's
//! own import recognizes, then one column per custom field. An export file
//! therefore re-imports without a mapping file.
//!
//! Every writer writes into a hidden temporary file next to the destination
//! and renames it into place in [`ContactWriter::finish`]: an interrupted
//! export (an error, Ctrl-C, a crash) never leaves a half file under the name
//! the user asked for. Dropping a writer without finishing it removes the
//! temporary file. `-` writes to standard output instead, where no such
//! guarantee is possible.

mod columns;
mod csv;
mod guard;
mod jsonl;
mod sink;
mod vcard;
mod xlsx;

pub use columns::{Column, Columns, custom_field_names};
pub use csv::{EXCEL_DELIMITER, UTF8_BOM};
pub use guard::{guard_formula, is_e164, needs_guard, unguard};

use crate::model::Contact;
use std::path::Path;
use std::str::FromStr;
use thiserror::Error;

/// One contact as read back from a platform, ready to be written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportRow {
    /// The platform's own identifier for the contact (the `id` column).
    pub remote_id: String,
    /// The contact mapped into waport's canonical fields.
    pub contact: Contact,
    /// When the platform says the contact was created (ISO 8601 when known).
    pub created_at: Option<String>,
    /// When the platform says the contact was last changed (ISO 8601 when known).
    pub updated_at: Option<String>,
    /// The platform's own object, unchanged; JSONL writes it as-is.
    pub raw: serde_json::Value,
}

/// The kind of file an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated text (or `;` in Excel mode), UTF-8.
    Csv,
    /// An Excel workbook.
    Xlsx,
    /// One JSON object per line.
    Jsonl,
    /// vCard 3.0 cards, for phones and address books.
    Vcf,
}

impl ExportFormat {
    /// Picks the format from the path's extension (case-insensitive).
    ///
    /// `-` (standard output) has no extension, so it needs an explicit
    /// format; so does any other name without a known extension.
    pub fn from_path(path: &Path) -> Result<Self, ExportError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            Some("jsonl") => Ok(Self::Jsonl),
            Some("vcf") | Some("vcard") => Ok(Self::Vcf),
            _ => Err(ExportError::UnknownExtension { path: shown(path) }),
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Jsonl => "jsonl",
            Self::Vcf => "vcf",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = ExportError;

    /// Parses `csv`, `xlsx`, `jsonl` or `vcf` (`vcard`) (case-insensitive, a
    /// leading dot allowed).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t.strip_prefix('.').unwrap_or(t);
        match t.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            "jsonl" => Ok(Self::Jsonl),
            "vcf" | "vcard" => Ok(Self::Vcf),
            _ => Err(ExportError::UnknownFormat {
                given: s.to_string(),
            }),
        }
    }
}

impl std::fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

/// Excel's last row index counted from 0 is 1,048,575: one header row plus
/// this many data rows fill a sheet.
pub const XLSX_MAX_DATA_ROWS: u32 = 1_048_575;

/// Options that change how a file is written.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// CSV for a Spanish-locale (or any comma-decimal) Excel: a UTF-8 byte
    /// order mark so Excel reads the text as UTF-8, and `;` as delimiter
    /// because that is the list separator such an Excel expects.
    pub excel: bool,
    /// Data rows per XLSX sheet before `contacts_2`, `contacts_3`, ... are
    /// started. Capped at [`XLSX_MAX_DATA_ROWS`]; anything lower is mainly
    /// useful for tests and for people who want smaller sheets.
    pub xlsx_rows_per_sheet: u32,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            excel: false,
            xlsx_rows_per_sheet: XLSX_MAX_DATA_ROWS,
        }
    }
}

/// A sink for exported rows.
pub trait ContactWriter {
    /// Writes one row.
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError>;

    /// Completes the file, moves it into place and returns the number of
    /// rows written. Without this call no file appears at the destination.
    fn finish(self: Box<Self>) -> Result<u64, ExportError>;

    /// Things the user should know that did not stop the export: custom
    /// fields seen in rows but not among the columns, cells cut to fit a
    /// format's limits. Ask before [`finish`](Self::finish); empty when
    /// there is nothing to say.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Opens a writer for `path` (`-` for standard output).
///
/// An existing file at `path` is replaced only when the writer finishes;
/// until then it stays as it was. XLSX goes to standard output only when
/// that is a pipe or a file, never a terminal.
///
/// Fails early, before any row is fetched, on what can be known up front:
/// the directory is not writable, an XLSX would go to a terminal, too many
/// columns for a sheet.
pub fn create_writer(
    path: &Path,
    format: ExportFormat,
    columns: Columns,
    opts: &WriterOptions,
) -> Result<Box<dyn ContactWriter>, ExportError> {
    Ok(match format {
        ExportFormat::Csv => Box::new(csv::CsvWriter::create(path, columns, opts)?),
        ExportFormat::Xlsx => Box::new(xlsx::XlsxWriter::create(path, columns, opts)?),
        // JSONL keeps every field (see the module notes), so the columns do
        // not shape it.
        ExportFormat::Jsonl => Box::new(jsonl::JsonlWriter::create(path)?),
        // A card has fixed properties (see the module notes), so the
        // columns do not shape it either.
        ExportFormat::Vcf => Box::new(vcard::VcfWriter::create(path)?),
    })
}

/// True when `path` means standard output.
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A path as error messages show it.
pub(crate) fn shown(path: &Path) -> String {
    if is_stdout(path) {
        "standard output".to_string()
    } else {
        path.display().to_string()
    }
}

/// Why an export could not be written. Each message is one sentence and
/// names the file when there is one.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The output path has no extension waport knows.
    #[error(
        "cannot tell the export format of {path}: name it .csv, .xlsx, .jsonl or .vcf, or give --format"
    )]
    UnknownExtension {
        /// The path as given.
        path: String,
    },
    /// `--format` named something else.
    #[error("unknown export format {given:?}: use csv, xlsx, jsonl or vcf")]
    UnknownFormat {
        /// What was given.
        given: String,
    },
    /// `--columns` named a column that does not exist.
    #[error("unknown column {name:?} in --columns; valid columns are: {valid}")]
    UnknownColumn {
        /// The unknown name.
        name: String,
        /// The valid names, comma-separated, in export order.
        valid: String,
    },
    /// `--columns` named one column twice.
    #[error("column {name:?} appears twice in --columns")]
    DuplicateColumn {
        /// The repeated name.
        name: String,
    },
    /// `--columns` selected nothing.
    #[error("--columns selects no column; valid columns are: {valid}")]
    NoColumns {
        /// The valid names, comma-separated, in export order.
        valid: String,
    },
    /// More columns than a worksheet holds.
    #[error("cannot write {path}: {count} columns exceed the 16,384 a worksheet holds")]
    TooManyColumns {
        /// The destination.
        path: String,
        /// How many columns were asked for.
        count: usize,
    },
    /// A binary workbook would be dumped on a terminal.
    #[error(
        "refusing to write XLSX to a terminal: redirect standard output to a file or give an output path"
    )]
    XlsxToTerminal,
    /// The temporary file next to the destination could not be created.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The destination.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Writing failed part-way.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The destination.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The CSV encoder failed.
    #[error("cannot write CSV to {path}: {source}")]
    Csv {
        /// The destination.
        path: String,
        /// Why.
        source: ::csv::Error,
    },
    /// The workbook writer failed.
    #[error("cannot write XLSX to {path}: {source}")]
    Xlsx {
        /// The destination.
        path: String,
        /// Why.
        source: rust_xlsxwriter::XlsxError,
    },
    /// A row could not be turned into JSON.
    #[error("cannot write JSON to {path}: {source}")]
    Json {
        /// The destination.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The finished temporary file could not be renamed into place.
    #[error("cannot move the finished export into place at {path}: {source}")]
    Commit {
        /// The destination.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}
