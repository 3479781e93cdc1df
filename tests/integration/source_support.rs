//! Shared helpers for the reader tests: fixture paths and whole reads.

#![allow(dead_code)]

use std::path::PathBuf;

use waport::source::{ReadOptions, Record, Source, open};

/// Path of a file in `fixtures/`.
pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Every record of an opened source (each must read without error).
pub fn drain(mut src: Source) -> (Source, Vec<Record>) {
    let records: Vec<Record> = src.records.by_ref().map(Result::unwrap).collect();
    (src, records)
}

/// Opens `path` with `opts` and reads it whole.
pub fn read_with(path: &str, opts: &ReadOptions) -> (Source, Vec<Record>) {
    drain(open(path, opts).unwrap())
}

/// Reads a fixture whole with default options.
pub fn read_fixture(name: &str) -> (Source, Vec<Record>) {
    read_with(&fixture(name), &ReadOptions::default())
}

/// A row number, with the record's fields (`None` for a row a stray quote
/// swallowed).
pub type ExpectedRow = (u64, Option<Vec<String>>);

/// What the reader should give for delimited `text`, worked out from the
/// csv crate's records and the raw bytes (independently of waport's
/// streaming reader): the header's row, then per data record its row and
/// fields, and for a record of the wrong width whose cells span lines (a
/// stray quote) the rows it swallowed, as `(row, None)`.
///
/// Rows: every record and every blank line is a row (a CR LF pair, a lone
/// CR or a lone LF ends a line); a record spanning lines is one row, unless
/// it is a stray quote's, which then also counts the lines it swallowed.
pub fn expected_rows(text: &[u8], delimiter: u8) -> (u64, Vec<ExpectedRow>) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text);
    let blanks_at = |start: usize| -> u64 {
        let mut n = 0;
        let mut i = start;
        while i < text.len() && (text[i] == b'\r' || text[i] == b'\n') {
            // The LF of a CR LF pair the parser split across two records.
            if !(text[i] == b'\n' && i > 0 && text[i - 1] == b'\r') {
                n += 1;
            }
            i += 1;
        }
        n
    };
    let mut record = csv::ByteRecord::new();
    let mut last_row = 0;
    let mut width = None;
    let mut header_row = 0;
    let mut out = Vec::new();
    while rdr.read_byte_record(&mut record).unwrap() {
        let start = record.position().unwrap().byte() as usize;
        let row = last_row + 1 + blanks_at(start);
        last_row = row;
        let Some(w) = width else {
            width = Some(record.len());
            header_row = row;
            continue;
        };
        let fields: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        out.push((row, Some(fields)));
        if record.len() != w {
            let breaks: u64 = record
                .iter()
                .map(|f| {
                    (0..f.len())
                        .filter(|&i| {
                            f[i] == b'\r' || (f[i] == b'\n' && (i == 0 || f[i - 1] != b'\r'))
                        })
                        .count() as u64
                })
                .sum();
            for r in row + 1..=row + breaks {
                out.push((r, None));
            }
            last_row += breaks;
        }
    }
    (header_row, out)
}
