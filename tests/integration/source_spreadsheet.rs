//! Workbook reading through `waport::source::open`.

use waport::source::{Format, ReadOptions, RecordProblem, SourceError, open};

use crate::source_support;
use source_support::{fixture, read_fixture as read, read_with};

fn sheet(name: &str) -> ReadOptions {
    ReadOptions {
        sheet: Some(name.to_string()),
        ..Default::default()
    }
}

fn error_of(path: &str, opts: &ReadOptions) -> SourceError {
    match open(path, opts) {
        Ok(_) => panic!("{path} should not open"),
        Err(e) => e,
    }
}

const HEADER: [&str; 8] = [
    "Nombre",
    "Apellidos",
    "Teléfono",
    "Correo electrónico",
    "País",
    "Fecha de alta",
    "Puntos",
    "Activo",
];

#[test]
fn xlsx_skips_instruction_sheet_and_title_row() {
    let (src, records) = read("contacts_instructions.xlsx");
    assert_eq!(src.info.format, Format::Spreadsheet);
    assert_eq!(src.info.workbook, Some("xlsx"));
    assert_eq!(src.info.sheet.as_deref(), Some("Contactos"));
    assert_eq!(src.info.header_row, 3);
    assert_eq!(src.headers, HEADER);
    let rows: Vec<u64> = records.iter().map(|r| r.row).collect();
    assert_eq!(rows, [4, 5, 6]);
}

#[test]
fn xlsx_cells_render_as_typed() {
    let (_, records) = read("contacts_instructions.xlsx");
    assert_eq!(
        records[0].fields,
        [
            "José",
            "García Núñez",
            "5215512345678",
            "jose.garcia@ejemplo.mx",
            "México",
            "2024-03-05",
            "12.5",
            "TRUE"
        ]
    );
    assert_eq!(&records[1].fields[2], "573105550199");
    assert_eq!(&records[1].fields[5], "2024-03-05T14:30:00");
    assert_eq!(&records[1].fields[6], "100");
    assert_eq!(&records[1].fields[7], "FALSE");
    assert_eq!(&records[2].fields[6], "0.1");
    assert!(records.iter().all(|r| r.problem.is_none()));
}

#[test]
fn sheet_option_takes_a_name_any_case_or_a_position_from_one() {
    for choice in ["Instrucciones", "instrucciones", "1"] {
        let (src, records) = read_with(&fixture("contacts_instructions.xlsx"), &sheet(choice));
        assert_eq!(src.info.sheet.as_deref(), Some("Instrucciones"), "{choice}");
        assert_eq!(src.headers, ["Instrucciones"]);
        assert_eq!(records.len(), 1);
    }
    // A hidden sheet is never picked by default but can be asked for.
    let (src, records) = read_with(&fixture("contacts_instructions.xlsx"), &sheet("3"));
    assert_eq!(src.info.sheet.as_deref(), Some("Listas"));
    assert_eq!(records[0].fields, ["México", "52"]);
}

#[test]
fn unknown_sheet_lists_the_sheets() {
    let path = fixture("contacts_instructions.xlsx");
    let msg = error_of(&path, &sheet("Clientes")).to_string();
    assert_eq!(
        msg,
        format!(
            "{path} has no sheet 'Clientes' (its sheets are 'Instrucciones', 'Contactos', 'Listas'; a number picks a sheet by position from 1)"
        )
    );
    assert!(
        error_of(&path, &sheet("9"))
            .to_string()
            .contains("no sheet '9'")
    );
}

#[test]
fn workbook_named_csv_is_read_by_content() {
    let (src, records) = read("contacts_xlsx_named.csv");
    assert_eq!(src.info.workbook, Some("xlsx"));
    assert_eq!(records.len(), 3);
}

#[test]
fn ods_and_xls_render_like_xlsx() {
    for (name, kind) in [("contacts.ods", "ods"), ("contacts.xls", "xls")] {
        let (src, records) = read(name);
        assert_eq!(src.info.workbook, Some(kind));
        assert_eq!(src.info.sheet.as_deref(), Some("Contactos"));
        assert_eq!(src.headers, HEADER, "{name}");
        assert_eq!(records.len(), 3, "{name}");
        assert_eq!(records[0].row, 2);
        assert_eq!(&records[0].fields[2], "5215512345678", "{name}");
        assert_eq!(&records[0].fields[5], "2024-03-05", "{name}");
        assert_eq!(&records[0].fields[6], "12.5", "{name}");
        assert_eq!(&records[2].fields[2], "34612345678", "{name}");
    }
}

fn third_party(name: &str) -> String {
    fixture(&format!("third_party/calamine/{name}"))
}

#[test]
fn dates_in_the_1904_system() {
    let (src, records) = read_with(&third_party("date_1904.xlsx"), &ReadOptions::default());
    // calamine's own file: two dates, then a `[h]:mm:ss` duration in A3.
    assert_eq!(src.headers, ["2021-01-01", "15"]);
    assert_eq!(records[0].fields, ["2021-01-02", "16"]);
    assert_eq!(records[1].fields, ["255:10:10", "17"]);
}

#[test]
fn error_cells_keep_their_excel_text() {
    let (src, records) = read_with(&third_party("errors.xlsx"), &ReadOptions::default());
    let mut all: Vec<String> = src.headers.clone();
    all.extend(records.into_iter().flat_map(|r| r.fields.to_vec()));
    for text in ["#DIV/0!", "#NAME?", "#N/A", "#REF!", "#VALUE!"] {
        assert!(all.iter().any(|f| f == text), "{text} missing from {all:?}");
    }
}

#[test]
fn password_protected_workbooks_say_so() {
    for name in ["pass_protected.xlsx", "pass_protected.ods"] {
        let path = third_party(name);
        assert_eq!(
            error_of(&path, &ReadOptions::default()).to_string(),
            format!(
                "{path} is password-protected: remove the password in the spreadsheet program and save it again"
            )
        );
    }
}

#[test]
fn crafted_workbooks_give_errors_not_crashes() {
    for name in [
        "OOM_alloc3.xls",
        "issue_594_dos.ods",
        "issue_666_panic.xlsb",
        "too_small.xls",
        "empty_sheet.xlsx",
    ] {
        let path = third_party(name);
        match open(&path, &ReadOptions::default()) {
            Ok(src) => {
                for r in src.records {
                    if let Err(e) = r {
                        assert!(e.to_string().starts_with(&path), "{e}");
                    }
                }
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with(&path), "{msg}");
                assert!(!msg.contains('\n'), "{msg}");
            }
        }
    }
}

#[test]
fn wide_rows_are_ragged_short_rows_padded_empty_rows_skipped() {
    let (src, records) = read("contacts_ragged.xlsx");
    assert_eq!(src.headers, ["Nombre", "Teléfono", "Email"]);
    let rows: Vec<u64> = records.iter().map(|r| r.row).collect();
    assert_eq!(rows, [2, 3, 5]);
    assert_eq!(records[1].fields, ["Diego Vargas", "573001234567", ""]);
    assert_eq!(records[1].problem, None);
    assert_eq!(
        records[2].fields,
        [
            "Renata Silva",
            "5511912345678",
            "renata@ejemplo.com.br",
            "",
            "nota"
        ]
    );
    assert_eq!(
        records[2].problem,
        Some(RecordProblem::Ragged {
            expected: 3,
            found: 5
        })
    );
}
