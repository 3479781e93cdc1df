//! Property: whatever the input, every data record appears in the report
//! exactly once, in order, with its spreadsheet row number.

use proptest::prelude::*;
use waport::commands::validate::{ValidateConfig, run};

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
        let expected = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes())
            .records()
            .count();
        let report = dir.path().join("r.csv");
        run(ValidateConfig {
            input: input.display().to_string(),
            report: Some(report.clone()),
            quiet: true,
            ..Default::default()
        })
        .unwrap();
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(&report).unwrap();
        let numbers: Vec<u64> = rdr
            .records()
            .map(|r| r.unwrap()[0].parse().unwrap())
            .collect();
        prop_assert_eq!(numbers.len(), expected);
        let consecutive: Vec<u64> = (2..2 + expected as u64).collect();
        prop_assert_eq!(numbers, consecutive);
    }
}
