//! Delimited-text reading through `waport::source::open`.

use std::io::Write;

use waport::source::{Format, ReadOptions, RecordProblem, SourceError, open};

use crate::source_support;
use source_support::{drain, fixture, read_fixture, read_with as read};

const SPANISH_HEADER: [&str; 6] = [
    "Nombre",
    "Apellidos",
    "Teléfono",
    "Correo electrónico",
    "País",
    "Ciudad",
];

#[test]
fn cp1252_semicolon_file_is_detected_and_decoded() {
    let (src, records) = read_fixture("contacts_cp1252_semicolon.csv");
    assert_eq!(src.headers, SPANISH_HEADER);
    assert_eq!(src.info.format, Format::Csv);
    assert_eq!(src.info.encoding.as_deref(), Some("windows-1252"));
    assert_eq!(src.info.delimiter, Some(b';'));
    assert_eq!(records.len(), 5);
    assert_eq!(
        records[0].fields,
        [
            "José",
            "García Núñez",
            "+52 55 1234 5678",
            "jose.garcia@ejemplo.mx",
            "México",
            "Ciudad de México"
        ]
    );
    // A quoted `;` and doubled quotes survive.
    assert_eq!(&records[3].fields[5], "Bogotá; D.C.");
    assert_eq!(&records[4].fields[1], "Gómez \"el Chino\"");
    assert!(records.iter().all(|r| r.problem.is_none()));
}

#[test]
fn utf8_bom_is_stripped_from_first_header() {
    let (src, records) = read_fixture("contacts_utf8_bom.csv");
    assert_eq!(src.headers, SPANISH_HEADER);
    assert_eq!(src.info.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(src.info.delimiter, Some(b','));
    assert_eq!(records.len(), 7);
    assert_eq!(&records[5].fields[0], "Дмитрий");
    assert_eq!(&records[6].fields[5], "Санкт-Петербург");
}

#[test]
fn utf16_le_and_be_with_bom() {
    let (le, le_records) = read_fixture("contacts_utf16le_bom.txt");
    assert_eq!(le.info.encoding.as_deref(), Some("UTF-16LE"));
    assert_eq!(le.info.delimiter, Some(b'\t'));
    let (be, be_records) = read_fixture("contacts_utf16be_bom.csv");
    assert_eq!(be.info.encoding.as_deref(), Some("UTF-16BE"));
    assert_eq!(be.info.delimiter, Some(b','));
    for (src, records) in [(le, le_records), (be, be_records)] {
        assert_eq!(src.headers, SPANISH_HEADER);
        assert_eq!(records.len(), 7);
        assert_eq!(&records[6].fields[0], "Анна");
        assert_eq!(&records[6].fields[2], "8 (812) 555-01-23");
    }
}

#[test]
fn tab_and_pipe_delimiters_are_detected() {
    for (name, delim) in [("contacts_tab.tsv", b'\t'), ("contacts_pipe.csv", b'|')] {
        let (src, records) = read_fixture(name);
        assert_eq!(src.info.delimiter, Some(delim), "{name}");
        assert_eq!(src.headers, SPANISH_HEADER, "{name}");
        assert_eq!(records.len(), 7, "{name}");
        assert_eq!(&records[3].fields[5], "Bogotá; D.C.", "{name}");
    }
}

#[test]
fn multiline_fields_count_as_one_row_and_blank_lines_are_skipped() {
    let (src, records) = read_fixture("contacts_multiline.csv");
    assert_eq!(src.headers, ["Nombre", "Teléfono", "Notas"]);
    let rows: Vec<u64> = records.iter().map(|r| r.row).collect();
    assert_eq!(rows, [2, 3, 4, 5]);
    assert_eq!(
        &records[0].fields[2],
        "Llamar después de las 5.\nPrefiere WhatsApp."
    );
    assert_eq!(
        &records[1].fields[2],
        "Dijo: \"no me escriban los domingos\""
    );
    assert_eq!(
        &records[2].fields[2],
        "Dirección:\r\nAv. Arequipa 123\r\nMiraflores, Lima"
    );
    assert_eq!(records[3].fields, ["Mateo Herrera", "+593 99 123 4567", ""]);
}

#[test]
fn ragged_records_are_reported_not_fatal() {
    let (_, records) = read_fixture("contacts_ragged.csv");
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].problem, None);
    assert_eq!(
        records[1].problem,
        Some(RecordProblem::Ragged {
            expected: 3,
            found: 2
        })
    );
    assert_eq!(records[1].fields, ["Diego Vargas", "+57 300 123 4567"]);
    assert_eq!(
        records[2].problem,
        Some(RecordProblem::Ragged {
            expected: 3,
            found: 5
        })
    );
    assert_eq!(records[3].row, 5);
    assert_eq!(records[3].problem, None);
}

#[test]
fn header_only_file_has_no_records() {
    let (src, records) = read_fixture("header_only.csv");
    assert_eq!(src.headers, ["Nombre", "Teléfono", "Correo electrónico"]);
    assert_eq!(src.info.delimiter, Some(b';'));
    assert!(records.is_empty());
}

fn error_of(path: &str, opts: &ReadOptions) -> SourceError {
    match open(path, opts) {
        Ok(_) => panic!("{path} should not open"),
        Err(e) => e,
    }
}

#[test]
fn empty_and_blank_files_say_there_is_no_header() {
    for name in ["empty.csv", "blank_lines_only.csv"] {
        let path = fixture(name);
        let e = error_of(&path, &ReadOptions::default());
        assert!(matches!(e, SourceError::Empty { .. }), "{name}: {e:?}");
        assert_eq!(
            e.to_string(),
            format!("{path} is empty: there is no header row")
        );
    }
}

#[test]
fn missing_file_names_the_file() {
    let e = error_of("no/such/contacts.csv", &ReadOptions::default());
    assert!(matches!(e, SourceError::Io { .. }));
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot read no/such/contacts.csv: "),
        "{msg}"
    );
}

#[test]
fn binary_data_is_refused_with_one_sentence() {
    let path = fixture("binary.bin");
    let e = error_of(&path, &ReadOptions::default());
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "{path} is not a CSV or spreadsheet (unsupported format: it looks like binary data)"
        )),
        "{msg}"
    );
}

#[test]
fn directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_string_lossy().into_owned();
    let msg = error_of(&path, &ReadOptions::default()).to_string();
    assert!(msg.starts_with(&path) && msg.contains("directory"), "{msg}");
}

#[test]
fn unknown_encoding_label_is_a_clear_error() {
    let opts = ReadOptions {
        encoding: Some("klingon-8".into()),
        ..Default::default()
    };
    let path = fixture("contacts_cp1252_semicolon.csv");
    let msg = error_of(&path, &opts).to_string();
    assert!(msg.starts_with(&path), "{msg}");
    assert!(msg.contains("'klingon-8' is not a known encoding"), "{msg}");
}

fn temp_file(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

#[test]
fn encoding_override_chooses_the_single_byte_code_page() {
    // "Имя;Телефон\nОльга;+7 495 123-45-67\n" in windows-1251.
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Имя;Телефон\nОльга;+7 495 123-45-67\n");
    let f = temp_file(&bytes, ".csv");
    let path = f.path().to_string_lossy().into_owned();
    let opts = ReadOptions {
        encoding: Some("windows-1251".into()),
        ..Default::default()
    };
    let (src, records) = read(&path, &opts);
    assert_eq!(src.info.encoding.as_deref(), Some("windows-1251"));
    assert_eq!(src.headers, ["Имя", "Телефон"]);
    assert_eq!(records[0].fields, ["Ольга", "+7 495 123-45-67"]);
    // Without the override the same bytes fall back to windows-1252.
    let (plain, _) = read(&path, &ReadOptions::default());
    assert_eq!(plain.info.encoding.as_deref(), Some("windows-1252"));
}

#[test]
fn latin1_label_means_windows_1252_and_valid_utf8_still_wins() {
    let opts = ReadOptions {
        encoding: Some("latin1".into()),
        ..Default::default()
    };
    let (src, _) = read(&fixture("contacts_cp1252_semicolon.csv"), &opts);
    assert_eq!(src.info.encoding.as_deref(), Some("windows-1252"));
    let (utf8, records) = read(&fixture("contacts_tab.tsv"), &opts);
    assert_eq!(utf8.info.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(&records[0].fields[0], "José");
}

#[test]
fn delimiter_override_wins_over_detection() {
    let opts = ReadOptions {
        delimiter: Some(b','),
        ..Default::default()
    };
    let (src, records) = read(&fixture("contacts_cp1252_semicolon.csv"), &opts);
    assert_eq!(src.info.delimiter, Some(b','));
    assert_eq!(src.headers.len(), 1);
    assert_eq!(records[0].fields.len(), 1);
}

#[test]
fn empty_and_repeated_header_names_become_distinct() {
    let f = temp_file(b" Nombre ,,Telefono,Telefono\nAna,x,1,2\n", ".csv");
    let (src, _) = read(&f.path().to_string_lossy(), &ReadOptions::default());
    assert_eq!(
        src.headers,
        ["Nombre", "column_2", "Telefono", "Telefono_2"]
    );
}

#[test]
fn late_cp1252_bytes_after_an_ascii_sample_are_decoded_as_cp1252() {
    // Over 64 KiB of ASCII, then one Excel-on-Windows name.
    let mut bytes = b"Nombre;Telefono\r\n".to_vec();
    let mut n = 0;
    while bytes.len() < 80 * 1024 {
        bytes.extend_from_slice(format!("Juan Perez {n};+52 55 1234 {n:04}\r\n").as_bytes());
        n += 1;
    }
    bytes.extend_from_slice(b"Mar\xeda Nu\xf1ez;+52 55 9999 0000\r\n");
    let f = temp_file(&bytes, ".csv");
    let (src, records) = read(&f.path().to_string_lossy(), &ReadOptions::default());
    assert_eq!(src.info.encoding.as_deref(), Some("UTF-8"));
    let last = records.last().unwrap();
    assert_eq!(&last.fields[0], "María Nuñez");
    assert_eq!(last.row, n as u64 + 2);
}

#[test]
fn late_invalid_bytes_in_a_utf8_file_become_replacement_characters() {
    let mut bytes = "Nombre,Teléfono\n".as_bytes().to_vec();
    while bytes.len() < 70 * 1024 {
        bytes.extend_from_slice("Núñez,+34 600 000 000\n".as_bytes());
    }
    bytes.extend_from_slice(b"Bad\xff,1\n");
    let f = temp_file(&bytes, ".csv");
    let (_, records) = read(&f.path().to_string_lossy(), &ReadOptions::default());
    assert_eq!(&records.last().unwrap().fields[0], "Bad\u{fffd}");
}

#[test]
fn text_export_named_xls_is_read_as_delimited_text() {
    let (src, records) = read_fixture("contacts_text_export.xls");
    assert_eq!(src.info.format, Format::Csv);
    assert_eq!(src.info.delimiter, Some(b'\t'));
    assert_eq!(records.len(), 5);
}

#[test]
fn records_stream_lazily_from_a_large_file() {
    // 200k rows: the iterator must hand out the first record without having
    // read the rest, and count every row once.
    let mut bytes = b"name,phone\n".to_vec();
    for i in 0..200_000u32 {
        bytes.extend_from_slice(format!("Contacto {i},+5255{i:08}\n").as_bytes());
    }
    let f = temp_file(&bytes, ".csv");
    let mut src = open(&f.path().to_string_lossy(), &ReadOptions::default()).unwrap();
    let first = src.records.next().unwrap().unwrap();
    assert_eq!(first.fields, ["Contacto 0", "+525500000000"]);
    let mut last_row = first.row;
    let mut count = 1;
    for r in src.records {
        let r = r.unwrap();
        assert_eq!(r.row, last_row + 1);
        last_row = r.row;
        count += 1;
    }
    assert_eq!(count, 200_000);
    assert_eq!(last_row, 200_001);
}

#[test]
fn bytes_in_memory_read_as_the_same_file_does() {
    for name in [
        "contacts_cp1252_semicolon.csv",
        "contacts_multiline.csv",
        "contacts_utf16le_bom.txt",
        "contacts_instructions.xlsx",
    ] {
        let (from_file, file_records) = read_fixture(name);
        let bytes = std::fs::read(fixture(name)).unwrap();
        let (src, records) = drain(
            waport::source::open_reader(
                name,
                Box::new(std::io::Cursor::new(bytes)),
                &ReadOptions::default(),
            )
            .unwrap(),
        );
        assert_eq!(src.headers, from_file.headers, "{name}");
        assert_eq!(src.info.encoding, from_file.info.encoding, "{name}");
        assert_eq!(records.len(), file_records.len(), "{name}");
        for (a, b) in records.iter().zip(&file_records) {
            assert_eq!((a.row, &a.fields), (b.row, &b.fields), "{name}");
        }
    }
    let err = waport::source::open_reader(
        "x.csv",
        Box::new(std::io::Cursor::new(b"a,b\n1,2\n".to_vec())),
        &ReadOptions {
            encoding: Some("klingon".into()),
            ..Default::default()
        },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.starts_with("x.csv cannot be decoded: 'klingon'"),
        "{err}"
    );
}
