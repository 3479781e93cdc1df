//! Delimited text (CSV, TSV, `;` and `|` files), streamed record by record.

use std::io::{Cursor, Read};

use csv::ByteRecord;
use encoding_rs::Encoding;

use super::encoding::{self, DecodingReader};
use super::{Fields, Format, ReadOptions, Record, RecordProblem, Source, SourceError, SourceInfo};

/// Delimiters tried by detection, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How many records of the sample detection looks at.
const SNIFF_RECORDS: usize = 50;

/// Opens delimited text whose first bytes are `sample`; `rest` is the
/// unread remainder of the same input.
pub(super) fn open(
    path: &str,
    shown: &str,
    sample: Vec<u8>,
    truncated: bool,
    rest: Box<dyn Read + Send>,
    opts: &ReadOptions,
    forced: Option<&'static Encoding>,
) -> Result<Source, SourceError> {
    let detected = encoding::detect(&sample, truncated, forced);
    let utf16 =
        detected.encoding == encoding_rs::UTF_16LE || detected.encoding == encoding_rs::UTF_16BE;
    // UTF-16 text is full of NULs; any other text is not.
    if !utf16 && sample.contains(&0) {
        return Err(SourceError::unreadable(
            shown,
            "is not a CSV or spreadsheet: it looks like binary data",
        ));
    }
    let text = encoding::decode_sample(&sample, &detected);
    let delimiter = match opts.delimiter {
        Some(d) => d,
        None => detect_delimiter(&text, truncated),
    };

    let body = Cursor::new(sample).chain(rest);
    let mut reader: Box<dyn Read + Send> = Box::new(body);
    if detected.bom_len > 0 {
        // Skipping through `Read` keeps the sample buffer unchanged.
        let mut bom = [0u8; 3];
        reader
            .read_exact(&mut bom[..detected.bom_len])
            .map_err(|e| SourceError::io(shown, e))?;
    }
    if !detected.raw_utf8 {
        reader = Box::new(DecodingReader::new(reader, detected.encoding));
    }

    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(64 * 1024)
        .from_reader(LineTap::new(reader));
    let mut header = ByteRecord::new();
    let got = rdr
        .read_byte_record(&mut header)
        .map_err(|e| csv_error(shown, e))?;
    if !got || header.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) && header.len() <= 1 {
        return Err(SourceError::Empty {
            path: shown.to_string(),
        });
    }
    check_cells(&header, 1, shown)?;
    // Blank lines above the header are rows a spreadsheet shows.
    let header_row = 1 + blank_lines_before(&mut rdr, &header);
    let end = rdr.position().byte();
    let tap = rdr.get_mut();
    tap.record_from = end;
    tap.row_before = header_row;
    let raw: Vec<String> = header.iter().map(|f| encoding::field_text(f).0).collect();
    let headers = super::finish_headers(raw);

    let records = CsvRecords {
        rdr,
        record: ByteRecord::new(),
        last_row: header_row,
        expected: headers.len(),
        delimiter,
        path: shown.to_string(),
        warnings: 0,
        done: false,
        swallowed: std::collections::VecDeque::new(),
    };
    Ok(Source {
        headers,
        info: SourceInfo {
            path: path.to_string(),
            format: Format::Csv,
            encoding: Some(detected.encoding.name().to_string()),
            delimiter: Some(delimiter),
            sheet: None,
            workbook: None,
            header_row,
            bom: detected.bom_len > 0,
            crlf: ends_lines_with_cr(&text),
        },
        records: Box::new(records),
    })
}

/// Whether the text's first line break is CR LF (or a lone CR, which
/// only old Mac programs write and which Windows readers take as CR LF).
fn ends_lines_with_cr(text: &str) -> bool {
    match text.find(['\r', '\n']) {
        Some(i) => text.as_bytes()[i] == b'\r',
        None => false,
    }
}

fn csv_error(shown: &str, e: csv::Error) -> SourceError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => SourceError::io(shown, io),
        other => SourceError::unreadable(shown, format!("is not valid CSV: {other:?}")),
    }
}

/// Watches the bytes the CSV parser reads for line breaks, so a record's
/// row number can count the blank lines before it.
///
/// The csv crate skips blank lines without a trace: its `Position` for a
/// record is where the parser started looking, before any blank lines, and
/// its line count ignores a lone CR. A spreadsheet shows every blank line as
/// a row, so waport counts them itself: for each record, the line breaks
/// that follow the record's start position directly (a CR LF pair is one
/// break, as are a lone CR and a lone LF) are the blank lines above it.
///
/// Only breaks at or past the current record's start are kept (a few per
/// row), so memory does not grow with the file.
struct LineTap<R> {
    inner: R,
    /// Bytes passed to the parser so far.
    offset: u64,
    /// Where the record being parsed started, and the row before it: the
    /// parser buffers a whole record, so a stray quote in a large file
    /// would otherwise pull the rest of the file into memory before the
    /// cell cap could look at it.
    record_from: u64,
    row_before: u64,
    /// Offsets and bytes (`\r` or `\n`) of line-break bytes not yet pruned.
    breaks: std::collections::VecDeque<(u64, u8)>,
}

impl<R: Read> LineTap<R> {
    fn new(inner: R) -> Self {
        LineTap {
            inner,
            offset: 0,
            record_from: 0,
            row_before: 0,
            breaks: std::collections::VecDeque::new(),
        }
    }

    /// Line breaks in the unbroken run of CR/LF bytes that starts at byte
    /// `start`, forgetting everything before it.
    fn blank_lines_at(&mut self, start: u64) -> u64 {
        // The byte before `start` tells whether a LF there ends a CR LF pair
        // the parser split; keep it, drop the rest.
        while self.breaks.front().is_some_and(|&(o, _)| o + 1 < start) {
            self.breaks.pop_front();
        }
        let mut prev: Option<(u64, u8)> = None;
        let mut count = 0;
        let mut expect = start;
        for &(o, b) in &self.breaks {
            if o + 1 == start {
                prev = Some((o, b));
                continue;
            }
            if o != expect {
                break;
            }
            let pair = b == b'\n' && prev.is_some_and(|(p, pb)| pb == b'\r' && p + 1 == o);
            if !pair {
                count += 1;
            }
            prev = Some((o, b));
            expect += 1;
        }
        count
    }
}

impl<R: Read> Read for LineTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.offset - self.record_from > MAX_RECORD_BYTES {
            return Err(std::io::Error::other(format!(
                "the record after row {} is over {} MiB: a quote opened there is never closed, or the file is not a contact list",
                self.row_before,
                MAX_RECORD_BYTES >> 20
            )));
        }
        let n = self.inner.read(buf)?;
        for i in memchr::memchr2_iter(b'\r', b'\n', &buf[..n]) {
            self.breaks.push_back((self.offset + i as u64, buf[i]));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The longest record read (16 MiB): far more than any contact row, and
/// what bounds the reader's memory whatever the file.
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// Blank lines above `record`, which was just read from `rdr`.
fn blank_lines_before(
    rdr: &mut csv::Reader<LineTap<Box<dyn Read + Send>>>,
    record: &ByteRecord,
) -> u64 {
    let start = record.position().map_or(0, |p| p.byte());
    rdr.get_mut().blank_lines_at(start)
}

/// Line breaks inside a field (a CR LF pair is one).
fn breaks_in(bytes: &[u8]) -> u64 {
    memchr::memchr2_iter(b'\r', b'\n', bytes)
        .filter(|&i| !(bytes[i] == b'\n' && i > 0 && bytes[i - 1] == b'\r'))
        .count() as u64
}

/// The lines of `text`, split at CR LF, CR or LF (as [`breaks_in`] counts).
fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\r', '\n']) {
        out.push(&rest[..i]);
        let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[i + skip..];
    }
    out.push(rest);
    out
}

/// Refuses a record holding a cell larger than [`super::MAX_CELL_BYTES`]:
/// no contact field is that long, and a file that has one is damaged or
/// hostile (one stray quote can swallow the rest of a file into a cell).
fn check_cells(record: &ByteRecord, row: u64, shown: &str) -> Result<(), SourceError> {
    if record.as_slice().len() <= super::MAX_CELL_BYTES {
        return Ok(());
    }
    match record.iter().position(|f| f.len() > super::MAX_CELL_BYTES) {
        Some(i) => Err(super::cell_too_large(shown, row, i + 1)),
        None => Ok(()),
    }
}

/// Streams data records, reusing one [`ByteRecord`] buffer.
struct CsvRecords {
    rdr: csv::Reader<LineTap<Box<dyn Read + Send>>>,
    record: ByteRecord,
    /// Row number of the last record returned (the header's at first).
    last_row: u64,
    expected: usize,
    delimiter: u8,
    path: String,
    /// Rows decoded as windows-1252 so far (warned about up to a limit).
    warnings: u64,
    done: bool,
    /// Rows swallowed by an unbalanced quote, reported one by one after
    /// the record that swallowed them.
    swallowed: std::collections::VecDeque<Record>,
}

/// Rows named one by one in warnings before they are only counted.
const MAX_ROW_WARNINGS: u64 = 10;

impl CsvRecords {
    /// The record's fields as text: raw when it is UTF-8, else field by
    /// field, each field that is not UTF-8 read as windows-1252 (with a
    /// warning naming the row).
    fn fields(&mut self, row: u64) -> Fields {
        // The common case: the whole record is UTF-8 and is copied once.
        if let Ok(text) = simdutf8::basic::from_utf8(self.record.as_slice()) {
            let mut ends = Vec::with_capacity(self.record.len());
            let mut end = 0;
            for f in self.record.iter() {
                end += f.len();
                ends.push(end);
            }
            if let Some(fields) = Fields::from_parts(text.to_owned(), ends) {
                return fields;
            }
        }
        let mut fell_back = false;
        let mut fields = Fields::with_capacity(self.record.as_slice().len(), self.record.len());
        for f in self.record.iter() {
            let (text, fallback) = encoding::field_text(f);
            fell_back |= fallback;
            fields.push(&text);
        }
        if fell_back {
            self.warnings += 1;
            if self.warnings <= MAX_ROW_WARNINGS {
                tracing::warn!(
                    "{}: row {row} is not valid UTF-8 although the file is; read that row as windows-1252 (check it, or use --encoding)",
                    self.path
                );
            }
        }
        fields
    }

    /// The records for the rows an unbalanced quote swallowed: each row's
    /// text, as far as it can be told apart, in one field.
    fn swallowed_rows(&self, opened: u64, last: u64) -> Vec<Record> {
        let mut lines: Vec<String> = Vec::new();
        for f in self.record.iter() {
            let text = encoding::field_text(f).0;
            let mut parts = split_lines(&text).into_iter();
            if let Some(l) = lines.last_mut()
                && let Some(first) = parts.next()
            {
                l.push(self.delimiter as char);
                l.push_str(first);
            }
            lines.extend(parts.map(str::to_owned));
        }
        (opened + 1..=last)
            .enumerate()
            .map(|(i, row)| {
                let mut fields = Fields::new();
                fields.push(lines.get(i + 1).map_or("", String::as_str));
                Record {
                    row,
                    fields,
                    problem: Some(RecordProblem::UnbalancedQuote { opened, last }),
                }
            })
            .collect()
    }
}

impl Iterator for CsvRecords {
    type Item = Result<Record, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.swallowed.pop_front() {
            return Some(Ok(r));
        }
        if self.done {
            return None;
        }
        match self.rdr.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                if self.warnings > MAX_ROW_WARNINGS {
                    tracing::warn!(
                        "{}: {} rows in all were read as windows-1252",
                        self.path,
                        self.warnings
                    );
                }
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(csv_error(&self.path, e)));
            }
        }
        let blanks = blank_lines_before(&mut self.rdr, &self.record);
        let row = self.last_row + 1 + blanks;
        self.last_row = row;
        let end = self.rdr.position().byte();
        let tap = self.rdr.get_mut();
        tap.record_from = end;
        tap.row_before = row;
        if let Err(e) = check_cells(&self.record, row, &self.path) {
            self.done = true;
            return Some(Err(e));
        }
        let fields = self.fields(row);
        let mut problem = super::ragged(self.expected, fields.len());
        if problem.is_some() {
            // A record of the wrong width whose cells span lines: a quote
            // that was never closed ran over the rows below it.
            let spanned: u64 = self.record.iter().map(breaks_in).sum();
            if spanned > 0 {
                let last = row + spanned;
                problem = Some(RecordProblem::UnbalancedQuote { opened: row, last });
                self.swallowed.extend(self.swallowed_rows(row, last));
                self.last_row = last;
            }
        }
        Some(Ok(Record {
            row,
            fields,
            problem,
        }))
    }
}

/// Picks the delimiter that splits the sample's records most consistently.
///
/// Counting happens outside quotes, record by record (a quoted newline does
/// not end a record). A candidate's score is the share of records in which
/// it appears exactly as often as in most records; ties go to the candidate
/// that makes more columns, then to the order of [`CANDIDATES`]. A file in
/// which no candidate appears is one column wide: `,` is returned.
pub fn detect_delimiter(text: &str, truncated: bool) -> u8 {
    let mut rows: Vec<[usize; 4]> = Vec::new();
    let mut counts = [0usize; 4];
    let mut in_quotes = false;
    let mut non_blank = false;
    let mut complete = false;
    for b in text.bytes() {
        match b {
            b'"' => {
                in_quotes = !in_quotes;
                non_blank = true;
            }
            b'\n' | b'\r' if !in_quotes => {
                if non_blank {
                    rows.push(counts);
                    if rows.len() == SNIFF_RECORDS {
                        complete = true;
                        break;
                    }
                }
                counts = [0; 4];
                non_blank = false;
            }
            _ if in_quotes => {}
            _ => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
                if !b.is_ascii_whitespace() {
                    non_blank = true;
                }
            }
        }
    }
    // The last line of a cut sample is partial: its counts would mislead.
    if !complete && non_blank && (!truncated || rows.is_empty()) {
        rows.push(counts);
    }

    let mut best: Option<(f64, usize, u8)> = None;
    for (i, &cand) in CANDIDATES.iter().enumerate() {
        let per_row: Vec<usize> = rows.iter().map(|r| r[i]).collect();
        let Some(mode) = mode_nonzero(&per_row) else {
            continue;
        };
        let agree = per_row.iter().filter(|&&n| n == mode).count();
        let score = agree as f64 / per_row.len() as f64;
        let better = match best {
            None => true,
            Some((s, m, _)) => score > s + 1e-9 || ((score - s).abs() <= 1e-9 && mode > m),
        };
        if better {
            best = Some((score, mode, cand));
        }
    }
    best.map_or(b',', |(_, _, c)| c)
}

/// The most frequent non-zero value (the larger one on a tie).
fn mode_nonzero(values: &[usize]) -> Option<usize> {
    let mut sorted: Vec<usize> = values.iter().copied().filter(|&n| n > 0).collect();
    sorted.sort_unstable();
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < sorted.len() {
        let v = sorted[i];
        let run = sorted[i..].iter().take_while(|&&x| x == v).count();
        if best.is_none_or(|(_, r)| run >= r) {
            best = Some((v, run));
        }
        i += run;
    }
    best.map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::detect_delimiter;

    #[test]
    fn picks_consistent_delimiter() {
        let semi = "Nombre;Apellidos;Ciudad\nJuan;García, López;Bogotá, D.C.\nAna;Pérez;Lima\n";
        assert_eq!(detect_delimiter(semi, false), b';');
        let tab = "a\tb\tc\n\"x, y\"\t2\t3\n1,5\t2\t3\n";
        assert_eq!(detect_delimiter(tab, false), b'\t');
        let quoted = "a|b\n\"1;2;3;4\"|x\n\"5;6\"|y\n";
        assert_eq!(detect_delimiter(quoted, false), b'|');
        assert_eq!(detect_delimiter("telefono\n123\n", false), b',');
        let multiline = "a,b\n\"line1\nline2;x;y\",2\n3,4\n";
        assert_eq!(detect_delimiter(multiline, false), b',');
    }
}
