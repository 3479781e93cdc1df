//! Property: whatever the input, every data record appears in the report
//! exactly once, in order, with its spreadsheet row number (and so does
//! every row a stray quote swallowed).

use proptest::prelude::*;
use waport::commands::validate::{RowsConfig, ValidateConfig, run};
use waport::export::guard_formula;

use crate::source_support::expected_rows;

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ]{0,8}",
        "\\+?[0-9 ()-]{0,16}",
        "[a-z]{1,5}@[a-z]{1,5}\\.[a-z]{2,3}",
        "[^\\x00]{0,10}",
        Just("\"quoted, \"\"with\"\" comma\nand newline\"".to_string()),
        Just(String::new()),
    ]
}

fn row() -> impl Strategy<Value = Vec<String>> {
    // Ragged on purpose: 1 to 5 fields against a 3-column header.
    prop::collection::vec(field(), 1..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_record_is_reported_exactly_once(rows in prop::collection::vec(row(), 0..40)) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        let mut text = String::from("name,phone,email\n");
        for r in &rows {
            let cells: Vec<String> = r.iter().map(|f| {
                if f.starts_with('"') { f.clone() } else { f.replace([',', '"', '\n', '\r'], " ") }
            }).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        std::fs::write(&input, &text).unwrap();
        // Every record's row, and every row a stray quote swallowed.
        let (_, expected) = expected_rows(text.as_bytes(), b',');
        let report = dir.path().join("r.csv");
        run(ValidateConfig {
            rows: RowsConfig {
                input: input.display().to_string(),
                report: Some(report.clone()),
                quiet: true,
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(&report).unwrap();
        let numbers: Vec<u64> = rdr
            .records()
            .map(|r| r.unwrap()[0].parse().unwrap())
            .collect();
        let want: Vec<u64> = expected.iter().map(|(row, _)| *row).collect();
        prop_assert_eq!(numbers, want);
    }
}

fn report_row() -> impl Strategy<Value = (u8, String, Vec<String>, Option<u64>)> {
    (
        0u8..3,
        prop_oneof![Just(String::new()), "[a-z_]{3,12}: [^\\x00]{0,12}",],
        prop::collection::vec(field(), 0..6),
        prop::option::of(2u64..1000),
    )
}

/// Writes `rows` through `push` (the owned path) or through encoded lines
/// (`ReportLayout::encode` + `push_line`, pushed in the order `order`
/// gives) and returns the report and rejects files' bytes.
fn write_report(
    dir: &std::path::Path,
    name: &str,
    delimiter: u8,
    rows: &[(u8, String, Vec<String>, Option<u64>)],
    order: &[usize],
    encoded: bool,
) -> (Vec<u8>, Vec<u8>) {
    use waport::report::{CsvStyle, EncodedLines, ReportOptions, ReportWriter, RowView, Status};
    use waport::source::Fields;
    let headers: Vec<String> = ["nombre", "teléfono", "correo"].map(String::from).to_vec();
    let report = dir.join(format!("{name}.report.csv"));
    let rejects = dir.join(format!("{name}.rejects.csv"));
    let mut w = ReportWriter::create(
        ReportOptions {
            report: report.clone(),
            rejects: Some(rejects.clone()),
            // Both paths must agree on any layout: `;` files get CR LF
            // too, as Windows inputs have them.
            report_style: CsvStyle {
                delimiter,
                crlf: delimiter == b';',
                ..CsvStyle::PLAIN
            },
            rejects_style: CsvStyle {
                delimiter,
                crlf: delimiter == b';',
                ..CsvStyle::PLAIN
            },
            remote_id: false,
        },
        &headers,
    )
    .unwrap();
    let fields: Vec<Fields> = rows.iter().map(|r| r.2.iter().collect()).collect();
    // Statuses as the pipeline has them when lines are encoded (valid or
    // invalid), and as the ordered stage leaves them (valid may become
    // duplicate).
    let before = |k: u8| {
        if k == 1 {
            Status::Invalid
        } else {
            Status::Valid
        }
    };
    let after = |k: u8| match k {
        1 => Status::Invalid,
        2 => Status::Duplicate,
        _ => Status::Valid,
    };
    let view = |i: usize, status: Status| {
        let (_, reason, _, dup) = &rows[i];
        RowView {
            seq: i as u64,
            row: i as u64 + 2,
            status,
            reason: reason.as_str().into(),
            phone: "+34600000000",
            phone_type: "mobile",
            email: "ana@example.com",
            duplicate_of: if status == Status::Duplicate {
                *dup
            } else {
                None
            },
            remote_id: "",
            raw: &fields[i],
        }
    };
    let layout = w.layout();
    for &i in order {
        let (kind, reason, _, _) = &rows[i];
        if encoded {
            let mut lines = EncodedLines::default();
            layout.encode(&view(i, before(*kind)), &mut lines);
            let dup = view(i, after(*kind)).duplicate_of;
            let line = lines.iter().next().unwrap();
            w.push_line(line, after(*kind), reason, dup).unwrap();
        } else {
            w.push(view(i, after(*kind)).to_owned_result()).unwrap();
        }
    }
    w.finish().unwrap();
    (
        std::fs::read(report).unwrap(),
        std::fs::read(rejects).unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn lines_encoded_on_workers_are_the_bytes_the_writer_writes(
        rows in prop::collection::vec(report_row(), 0..20),
        delimiter in prop_oneof![Just(b','), Just(b';'), Just(b'\t')],
        shuffle in any::<u64>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let in_order: Vec<usize> = (0..rows.len()).collect();
        // Arrival order is any permutation: the writer puts rows back in order.
        let mut shuffled = in_order.clone();
        let mut rng = fastrand::Rng::with_seed(shuffle);
        rng.shuffle(&mut shuffled);
        let owned = write_report(dir.path(), "owned", delimiter, &rows, &in_order, false);
        let encoded = write_report(dir.path(), "encoded", delimiter, &rows, &shuffled, true);
        prop_assert_eq!(&owned.0, &encoded.0);
        prop_assert_eq!(&owned.1, &encoded.1);
        // And the report reads back as the input's own fields.
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(&encoded.0[..]);
        for (rec, row) in rdr.records().zip(&rows) {
            let rec = rec.unwrap();
            // Through the formula guard, as every report cell is.
            let raw: Vec<&str> = rec.iter().skip(7).collect();
            let want: Vec<String> = row.2.iter().map(|f| guard_formula(f).into_owned()).collect();
            prop_assert_eq!(raw, want);
        }
    }
}
