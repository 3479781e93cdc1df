//! Delimited text (CSV, TSV, `;` and `|` files), streamed record by record.

use std::io::{Cursor, Read};

use csv::ByteRecord;
use encoding_rs::Encoding;

use super::encoding::{self, DecodingReader, Detected};
use super::{Fields, Format, ReadOptions, Record, Source, SourceError, SourceInfo};

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
        .from_reader(reader);
    let mut header = ByteRecord::new();
    let got = rdr
        .read_byte_record(&mut header)
        .map_err(|e| csv_error(shown, e))?;
    if !got || header.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) && header.len() <= 1 {
        return Err(SourceError::Empty {
            path: shown.to_string(),
        });
    }
    let raw: Vec<String> = header
        .iter()
        .map(|f| encoding::field_text(f, detected.sample_non_ascii).0)
        .collect();
    let headers = super::finish_headers(raw);

    let records = CsvRecords {
        rdr,
        record: ByteRecord::new(),
        next_row: 2,
        expected: headers.len(),
        detected,
        path: shown.to_string(),
        warned: false,
        done: false,
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
            header_row: 1,
        },
        records: Box::new(records),
    })
}

fn csv_error(shown: &str, e: csv::Error) -> SourceError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => SourceError::io(shown, io),
        other => SourceError::unreadable(shown, format!("is not valid CSV: {other:?}")),
    }
}

/// Streams data records, reusing one [`ByteRecord`] buffer.
struct CsvRecords {
    rdr: csv::Reader<Box<dyn Read + Send>>,
    record: ByteRecord,
    next_row: u64,
    expected: usize,
    detected: Detected,
    path: String,
    warned: bool,
    done: bool,
}

impl Iterator for CsvRecords {
    type Item = Result<Record, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.rdr.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(csv_error(&self.path, e)));
            }
        }
        // The common case: the whole record is UTF-8 and is copied once.
        let fields = match std::str::from_utf8(self.record.as_slice()) {
            Ok(text) => {
                let mut ends = Vec::with_capacity(self.record.len());
                let mut end = 0;
                for f in self.record.iter() {
                    end += f.len();
                    ends.push(end);
                }
                Fields::from_parts(text.to_owned(), ends)
            }
            Err(_) => None,
        };
        let mut fell_back = false;
        let fields = fields.unwrap_or_else(|| {
            let mut fields = Fields::with_capacity(self.record.as_slice().len(), self.record.len());
            for f in self.record.iter() {
                let (text, fallback) = encoding::field_text(f, self.detected.sample_non_ascii);
                fell_back |= fallback;
                fields.push(&text);
            }
            fields
        });
        let row = self.next_row;
        self.next_row += 1;
        if fell_back && !self.warned {
            self.warned = true;
            let how = if self.detected.sample_non_ascii {
                "with replacement characters"
            } else {
                "as windows-1252"
            };
            tracing::warn!(
                "{}: row {row} is not valid UTF-8 although the start of the file is; decoded {how} (use --encoding to choose)",
                self.path
            );
        }
        let problem = super::ragged(self.expected, fields.len());
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
