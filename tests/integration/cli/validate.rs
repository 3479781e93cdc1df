//! `waport validate` end to end.

use crate::cli::workdir::{Workdir, code, stderr, stdout};
use std::io::Write;
use std::process::Stdio;

fn report_rows(wd: &Workdir, name: &str) -> Vec<Vec<String>> {
    let (head, rows) = wd.read_csv(name);
    assert_eq!(
        &head[..7],
        [
            "row",
            "status",
            "reason",
            "phone",
            "phone_type",
            "email",
            "duplicate_of"
        ]
    );
    rows
}

#[test]
fn cp1252_semicolon_file_with_spanish_headers() {
    let wd = Workdir::new();
    // "Teléfono", "José", "Peña" in windows-1252: é = E9, ñ = F1.
    let mut bytes = b"Nombre;Apellidos;Tel\xe9fono;Correo electr\xf3nico;Pa\xeds\r\n".to_vec();
    bytes.extend_from_slice(b"Jos\xe9;Pe\xf1a;55 1234 5678;JOSE@Example.MX;M\xe9xico\r\n");
    bytes.extend_from_slice(b"Ana;Ruiz;612 34 56 78;ana@ejemplo.es;Espa\xf1a\r\n");
    wd.write("clientes.csv", bytes);
    let out = wd.run(&["validate", "clientes.csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("windows-1252"),
        "summary names the encoding: {err}"
    );
    assert!(err.contains("';'"), "summary names the delimiter: {err}");
    let rows = report_rows(&wd, "clientes.report.csv");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "2");
    assert_eq!(rows[0][3], "+525512345678");
    assert_eq!(rows[0][5], "JOSE@example.mx");
    assert_eq!(
        rows[0][7], "José",
        "input columns are copied verbatim, decoded"
    );
    assert_eq!(rows[1][3], "+34612345678");
}

#[test]
fn statuses_reasons_and_exit_code_three() {
    let wd = Workdir::new();
    wd.write(
        "c.csv",
        "name,phone,email\n\
         Ana,+52 55 1234 5678,ana@example.com\n\
         Bob,55-12,bob@example.com\n\
         Ana again,+525512345678,\n\
         Bad twice,55-12,nope@\n\
         Eve,+34 612 345 678,eve@@example.com\n",
    );
    let out = wd.run(&[
        "validate",
        "c.csv",
        "--json",
        "--report",
        "r.csv",
        "--default-region",
        "MX",
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let rows = report_rows(&wd, "r.csv");
    let status: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        status,
        ["valid", "invalid", "duplicate", "invalid", "invalid"]
    );
    assert_eq!(rows[1][2], "invalid_phone: \"55-12\"");
    assert_eq!(rows[2][6], "2", "duplicate_of names the first row");
    assert!(rows[3][2].contains("invalid_email"), "{:?}", rows[3]);
    let json: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(json["rows"], 5);
    assert_eq!(json["valid"], 1);
    assert_eq!(json["invalid"], 3);
    assert_eq!(json["duplicate"], 1);
    assert_eq!(json["reasons"]["invalid_phone"], 2);
    assert_eq!(json["reasons"]["invalid_email"], 2);
}

#[test]
fn multiline_quoted_fields_keep_spreadsheet_row_numbers() {
    let wd = Workdir::new();
    wd.write(
        "m.csv",
        "name,phone,notes\n\
         Ana,+525512345678,\"line one\nline two\nline \"\"three\"\"\"\n\
         Bob,+34612345678,plain\n",
    );
    let out = wd.run(&["validate", "m.csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = report_rows(&wd, "m.report.csv");
    assert_eq!(rows[0][0], "2");
    assert_eq!(rows[1][0], "3", "record ordinal + 1, not the line number");
    assert_eq!(rows[0][9], "line one\nline two\nline \"three\"");
}

#[test]
fn ragged_rows_are_invalid_not_fatal_and_rejects_file_keeps_layout() {
    let wd = Workdir::new();
    wd.write(
        "r.csv",
        "name;phone;city\nAna;+525512345678;CDMX\nBob;+34612345678\nEve;+79123456789;Moscú;extra\n",
    );
    let out = wd.run(&["validate", "r.csv", "--rejects", "fix.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let rows = report_rows(&wd, "r.report.csv");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][1], "invalid");
    assert!(rows[1][2].starts_with("ragged_row"), "{:?}", rows[1]);
    assert!(rows[2][2].starts_with("ragged_row"), "{:?}", rows[2]);
    let fix = wd.read("fix.csv");
    let mut lines = fix.lines();
    assert_eq!(lines.next(), Some("name;phone;city;waport_error"));
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Bob;+34612345678;;ragged_row")
    );
}

#[test]
fn platform_required_fields_are_checked() {
    let wd = Workdir::new();
    wd.write(
        "w.csv",
        "Nombre,Apellido,Celular\nAna,,+525512345678\nBob,Smith,+34612345678\n",
    );
    let out = wd.run(&["validate", "w.csv", "--to", "wapiflow"]);
    assert_eq!(code(&out), 3);
    let rows = report_rows(&wd, "w.report.csv");
    assert_eq!(rows[0][2], "missing_field: last_name");
    assert_eq!(rows[1][1], "valid");
}

#[test]
fn invalid_email_can_be_dropped_instead_of_rejecting_the_row() {
    let wd = Workdir::new();
    wd.write("e.csv", "name,phone,email\nAna,+525512345678,ana@@x\n");
    let out = wd.run(&["validate", "e.csv", "--on-invalid-email", "drop"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = report_rows(&wd, "e.report.csv");
    assert_eq!(rows[0][1], "valid");
    assert_eq!(rows[0][5], "");
    assert!(rows[0][2].starts_with("email_dropped"));
}

#[test]
fn default_region_reads_national_numbers() {
    let wd = Workdir::new();
    wd.write("n.csv", "name,phone\nAna,8 (912) 345-67-89\n");
    let out = wd.run(&["validate", "n.csv"]);
    assert_eq!(code(&out), 3);
    let rows = report_rows(&wd, "n.report.csv");
    assert!(
        rows[0][2].starts_with("phone_needs_country"),
        "{:?}",
        rows[0]
    );
    let out = wd.run(&["validate", "n.csv", "--default-region", "RU"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = report_rows(&wd, "n.report.csv");
    assert_eq!(rows[0][3], "+79123456789");
}

#[test]
fn show_mapping_lists_targets_and_ignored_columns() {
    let wd = Workdir::new();
    wd.write("h.csv", "Teléfono,Correo,Puntaje\n1,a@b.co,3\n");
    let out = wd.run(&["validate", "h.csv", "--show-mapping"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("Teléfono") && text.contains("-> phone"),
        "{text}"
    );
    assert!(text.contains("-> email"), "{text}");
    assert!(
        text.contains("ignored columns:") && text.contains("Puntaje"),
        "{text}"
    );
    assert!(
        !wd.path("h.report.csv").exists(),
        "no report when only showing"
    );
}

#[test]
fn map_file_overrides_and_unknown_target_is_a_clear_error() {
    let wd = Workdir::new();
    wd.write("h.csv", "Cel. Personal,Puntaje\n+525512345678,9\n");
    wd.write(
        "map.toml",
        "[columns]\n\"Cel. Personal\" = \"phone\"\n\"Puntaje\" = \"custom:score\"\n",
    );
    let out = wd.run(&["validate", "h.csv", "--map", "map.toml", "--show-mapping"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("-> custom:score"));
    wd.write("bad.toml", "[columns]\n\"Puntaje\" = \"puntos\"\n");
    let out = wd.run(&["validate", "h.csv", "--map", "bad.toml"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("puntos") && err.contains("first_name") && err.contains("custom:NAME"),
        "{err}"
    );
}

#[test]
fn unreadable_inputs_exit_one_with_a_sentence_naming_the_file() {
    let wd = Workdir::new();
    wd.write("empty.csv", "");
    wd.write("blob.csv", [0u8, 159, 146, 150, 0, 0, 1, 2, 3, 255, 0, 7]);
    for name in ["missing.csv", "empty.csv", "blob.csv"] {
        let out = wd.run(&["validate", name]);
        assert_eq!(code(&out), 1, "{name}");
        let err = stderr(&out);
        assert!(err.contains(name), "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    }
}

#[test]
fn usage_errors_exit_two() {
    let wd = Workdir::new();
    let out = wd.run(&["validate", "x.csv", "--dedupe-by", "name"]);
    assert_eq!(code(&out), 2);
    let out = wd.run(&["validate", "x.csv", "--to", "telegram"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn reads_standard_input() {
    let wd = Workdir::new();
    let mut child = wd
        .command(&["validate", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"phone\n+525512345678\n+34612345678\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("\"valid\":2"));
    assert!(wd.path("stdin.report.csv").exists());
}

#[test]
fn dedupe_by_email() {
    let wd = Workdir::new();
    wd.write(
        "d.csv",
        "phone,email\n+525512345678,a@x.com\n+34612345678,A@X.COM\n",
    );
    let out = wd.run(&["validate", "d.csv", "--dedupe-by", "email"]);
    assert_eq!(code(&out), 0);
    let rows = report_rows(&wd, "d.report.csv");
    assert_eq!(rows[1][1], "duplicate");
    assert_eq!(rows[1][6], "2");
}

#[test]
fn xlsx_with_an_instructions_sheet_and_numeric_phones() {
    let wd = Workdir::new();
    let f = wd.fixture("contacts_instructions.xlsx");
    let out = wd.run(&["validate", f.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Contactos"),
        "names the sheet it read: {}",
        stderr(&out)
    );
    let rows = report_rows(&wd, "contacts_instructions.report.csv");
    assert_eq!(
        rows[0][0], "4",
        "the sheet's own row numbers (header on row 3)"
    );
    assert_eq!(rows[0][9], "5215512345678", "a numeric cell reads as typed");
    assert_eq!(rows[0][3], "+525512345678");
    assert!(
        rows[0][12].starts_with("20"),
        "dates as ISO-8601: {:?}",
        rows[0]
    );
}

#[test]
fn utf8_bom_and_utf16_files_read_the_same() {
    let wd = Workdir::new();
    let mut reports = Vec::new();
    for name in [
        "contacts_utf8_bom.csv",
        "contacts_utf16le_bom.txt",
        "contacts_utf16be_bom.csv",
    ] {
        let f = wd.fixture(name);
        let out = wd.run(&["validate", f.to_str().unwrap(), "--report", "r.csv"]);
        assert!(
            code(&out) == 0 || code(&out) == 3,
            "{name}: {}",
            stderr(&out)
        );
        let rows = report_rows(&wd, "r.csv");
        assert_eq!(rows[0][7], "José", "{name}: BOM stripped, text decoded");
        reports.push(rows.iter().map(|r| r[..6].to_vec()).collect::<Vec<_>>());
    }
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0], reports[2]);
}

#[test]
fn header_only_file_is_an_empty_report_not_an_error() {
    let wd = Workdir::new();
    let f = wd.fixture("header_only.csv");
    let out = wd.run(&["validate", f.to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("\"rows\":0"));
    assert!(report_rows(&wd, "header_only.report.csv").is_empty());
}

#[test]
fn binary_and_empty_fixtures_are_refused_clearly() {
    let wd = Workdir::new();
    for name in ["binary.bin", "empty.csv"] {
        let f = wd.fixture(name);
        let out = wd.run(&["validate", f.to_str().unwrap()]);
        assert_eq!(code(&out), 1, "{name}");
        assert!(stderr(&out).contains(name), "{name}: {}", stderr(&out));
    }
}

#[test]
fn third_party_corpus_never_crashes_the_binary() {
    let wd = Workdir::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/third_party");
    let mut seen = 0;
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !["csv", "xls", "xlsx", "xlsb", "ods", "xlsm"].contains(&ext) {
                continue;
            }
            seen += 1;
            let out = wd.run(&[
                "validate",
                p.to_str().unwrap(),
                "--report",
                "r.csv",
                "--quiet",
            ]);
            let c = code(&out);
            assert!(
                matches!(c, 0 | 1 | 3),
                "{}: exit {c}: {}",
                p.display(),
                stderr(&out)
            );
            if c == 1 {
                let err = stderr(&out);
                assert!(!err.contains("panicked"), "{}: {err}", p.display());
                assert_eq!(err.trim().lines().count(), 1, "{}: {err}", p.display());
            }
        }
    }
    assert!(seen > 10, "corpus found: {seen}");
}

/// Issue 12 through the binary: the `phone_type` column, legacy forms with
/// their note, old and new Brazilian forms deduplicated as one contact,
/// unknown countries, mismatches and ambiguous ids.
#[test]
fn phone_rules_end_to_end() {
    let wd = Workdir::new();
    wd.write(
        "p.csv",
        "name,phone,country\n\
         Ana,+55 11 8765-4321,\n\
         Ana new,+55 11 98765-4321,\n\
         Bob,91 123 45 67,ES\n\
         Cid,55 1234 5678,Narnia\n\
         Dan,573188779043,ES\n\
         Eve,12015554462,MX\n\
         Fay,-5512345675,MX\n\
         Gus,(201) 555-0123,\n",
    );
    let out = wd.run(&["validate", "p.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let rows = report_rows(&wd, "p.report.csv");
    let cols = |i: usize| {
        (
            rows[i][1].as_str(),
            rows[i][3].as_str(),
            rows[i][4].as_str(),
        )
    };
    assert_eq!(cols(0), ("valid", "+5511987654321", "mobile"));
    assert!(
        rows[0][2].starts_with("br_ninth_digit_added: \"+55 11 8765-4321\""),
        "{:?}",
        rows[0]
    );
    assert_eq!(cols(1), ("duplicate", "+5511987654321", "mobile"));
    assert_eq!(rows[1][6], "2", "the new form repeats the old one");
    assert_eq!(cols(2), ("valid", "+34911234567", "fixed_line"));
    assert_eq!(cols(3), ("invalid", "", ""));
    assert_eq!(rows[3][2], "unknown_country: \"Narnia\"");
    assert_eq!(cols(4), ("invalid", "", ""));
    assert!(
        rows[4][2].starts_with("phone_country_mismatch:"),
        "{:?}",
        rows[4]
    );
    assert!(rows[4][2].contains("+573188779043 CO"), "{:?}", rows[4]);
    assert!(rows[5][2].starts_with("ambiguous_phone:"), "{:?}", rows[5]);
    assert_eq!(rows[6][2], "invalid_phone: \"-5512345675\"");
    assert_eq!(rows[7][2], "phone_needs_country: \"(201) 555-0123\"");

    // The flags: the ambiguous id read one way or the other, and a
    // landline rejected when a mobile is required.
    let out = wd.run(&[
        "validate",
        "p.csv",
        "--prefer-international",
        "--report",
        "i.csv",
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let rows = report_rows(&wd, "i.csv");
    assert_eq!(
        (rows[5][1].as_str(), rows[5][3].as_str()),
        ("valid", "+12015554462")
    );
    let out = wd.run(&[
        "validate",
        "p.csv",
        "--prefer-national",
        "--report",
        "n.csv",
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let rows = report_rows(&wd, "n.csv");
    assert_eq!(
        (rows[5][1].as_str(), rows[5][3].as_str()),
        ("valid", "+522015554462")
    );
    let out = wd.run(&["validate", "p.csv", "--require-mobile", "--report", "m.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let rows = report_rows(&wd, "m.csv");
    assert_eq!(rows[2][1], "invalid");
    assert_eq!(
        rows[2][2],
        "not_mobile: \"91 123 45 67\" is a fixed_line number (--require-mobile)"
    );
    assert_eq!(rows[0][1], "valid", "a mobile passes");
    // Both preferences at once make no sense.
    let out = wd.run(&[
        "validate",
        "p.csv",
        "--prefer-national",
        "--prefer-international",
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}
