//! Arbitrary delimited text never panics the reader, and it yields exactly
//! the records the csv crate sees, numbered 2, 3, 4, ...

use std::io::Write;

use proptest::prelude::*;
use waport::source::{ReadOptions, SourceError, open};

use crate::source_support::expected_rows;

/// Field text drawn from the characters that make CSV hard.
fn field() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('Z'),
            Just('é'),
            Just('Я'),
            Just(' '),
            Just(','),
            Just(';'),
            Just('\t'),
            Just('|'),
            Just('"'),
            Just('\n'),
            Just('\r'),
            Just('5'),
        ],
        0..8,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

/// Rows of raw (unescaped) or properly quoted fields, of varying width.
fn content() -> impl Strategy<Value = String> {
    let row = proptest::collection::vec((field(), any::<bool>()), 1..6);
    (
        proptest::collection::vec(row, 1..12),
        prop_oneof![Just(','), Just(';'), Just('\t'), Just('|')],
        prop_oneof![Just("\n"), Just("\r\n")],
    )
        .prop_map(|(rows, delim, nl)| {
            let mut out = String::new();
            for row in rows {
                let cells: Vec<String> = row
                    .into_iter()
                    .map(|(f, quoted)| {
                        if quoted {
                            format!("\"{}\"", f.replace('"', "\"\""))
                        } else {
                            f
                        }
                    })
                    .collect();
                out.push_str(&cells.join(&delim.to_string()));
                out.push_str(nl);
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn reader_agrees_with_csv_crate(text in content()) {
        let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file.flush().unwrap();
        let path = file.path().to_string_lossy().into_owned();

        match open(&path, &ReadOptions::default()) {
            Ok(src) => {
                let delim = src.info.delimiter.unwrap();
                let mut expected = csv::ReaderBuilder::new()
                    .delimiter(delim)
                    .flexible(true)
                    .has_headers(false)
                    .from_reader(text.as_bytes());
                let mut want: Vec<Vec<String>> = expected
                    .records()
                    .map(|r| r.unwrap().iter().map(str::to_string).collect())
                    .collect();
                prop_assert!(!want.is_empty());
                let header = want.remove(0);
                prop_assert_eq!(src.headers.len(), header.len());
                let got: Vec<_> = src.records.map(|r| r.unwrap()).collect();
                let (header_row, rows) = expected_rows(text.as_bytes(), delim);
                prop_assert_eq!(src.info.header_row, header_row);
                prop_assert_eq!(got.len(), rows.len());
                let mut records = want.iter();
                for (g, (row, fields)) in got.iter().zip(&rows) {
                    prop_assert_eq!(g.row, *row);
                    match fields {
                        Some(_) => {
                            let w = records.next().unwrap();
                            prop_assert_eq!(&g.fields, w);
                            prop_assert_eq!(g.problem.is_some(), w.len() != header.len());
                        }
                        // A row a stray quote swallowed.
                        None => prop_assert!(g.problem.is_some()),
                    }
                }
                prop_assert!(records.next().is_none());
            }
            Err(SourceError::Empty { .. }) => {
                // Only when the csv crate finds no header or a blank one.
                let mut rdr = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(false)
                    .from_reader(text.as_bytes());
                let first = rdr.records().next();
                let blank = match first {
                    None => true,
                    Some(r) => {
                        let r = r.unwrap();
                        r.len() <= 1 && r.iter().all(|f| f.trim().is_empty())
                    }
                };
                prop_assert!(blank, "Empty error on {:?}", text);
            }
            Err(e) => prop_assert!(false, "unexpected error {} on {:?}", e, text),
        }
    }
}
