//! Inputs that must not fool or stall the reader (issue 17), and Cyrillic
//! CSV from Russian Excel (issue 11): row numbers, stray quotes, stray
//! bytes, repeated headers, oversized cells.

use crate::cli::workdir::{Workdir, code, stderr};
use std::io::Write;

/// `row` and `status` and `reason` of every report line.
fn rows(w: &Workdir, report: &str) -> Vec<(String, String, String)> {
    let (_, rows) = w.read_csv(report);
    rows.into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect()
}

fn row_numbers(w: &Workdir, report: &str) -> Vec<String> {
    rows(w, report).into_iter().map(|r| r.0).collect()
}

#[test]
fn blank_lines_are_counted_in_row_numbers() {
    let w = Workdir::new();
    // Lines: 1 header, 2 Ana, 3 blank, 4 Luis, 5-6 blank, 7 Eva.
    let lf = "nombre,telefono\nAna,+5215512345678\n\nLuis,55-12\n\n\nEva,+5215512345670\n";
    w.write("lf.csv", lf);
    let o = w.run(&["validate", "lf.csv"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert_eq!(row_numbers(&w, "lf.report.csv"), ["2", "4", "7"]);

    w.write("crlf.csv", lf.replace('\n', "\r\n"));
    w.run(&["validate", "crlf.csv"]);
    assert_eq!(row_numbers(&w, "crlf.report.csv"), ["2", "4", "7"]);

    // Old Mac line ends (CR only) and a blank line above the header; a
    // quoted cell over two lines stays one row, as a spreadsheet shows it.
    w.write(
        "mixed.csv",
        "\r\nnombre,telefono\rAna,+5215512345678\r\r\"Luis\nPérez\",55-12\rEva,+5215512345670",
    );
    w.run(&["validate", "mixed.csv"]);
    assert_eq!(row_numbers(&w, "mixed.report.csv"), ["3", "5", "6"]);
}

#[test]
fn a_stray_quote_reports_every_row_it_swallowed() {
    let w = Workdir::new();
    let text = "nombre,telefono,email\n\
                Ana,+5215512345678,a@x.mx\n\
                \"Luis,+5215512345679,l@x.mx\n\
                Eva,+5215512345670,e@x.mx\n\
                Juan,+5215512345671,j@x.mx\n\
                Rosa,+5215512345672,\"r@x.mx\"\n\
                Paco,+5215512345673,p@x.mx\n";
    w.write("q.csv", text);
    let o = w.run(&["validate", "q.csv"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let got = rows(&w, "q.report.csv");
    let numbers: Vec<&str> = got.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(numbers, ["2", "3", "4", "5", "6", "7"], "{got:?}");
    assert_eq!(got[0].1, "valid");
    assert_eq!(
        got[5].1, "valid",
        "the row after the swallowed ones: {got:?}"
    );
    for r in &got[1..5] {
        assert_eq!(r.1, "invalid", "{r:?}");
        assert_eq!(
            r.2,
            "unbalanced_quote: the quote opened on row 3 swallowed rows 4..6 (close or remove the stray \")",
            "{r:?}"
        );
    }
    // Each swallowed row shows its own text, so the user can find it.
    let (_, raw) = w.read_csv("q.report.csv");
    assert!(raw[2][7].starts_with("Eva"), "{:?}", raw[2]);
    assert!(raw[3][7].starts_with("Juan"), "{:?}", raw[3]);
}

#[test]
fn one_stray_windows_1252_byte_leaves_a_utf8_file_utf8() {
    let w = Workdir::new();
    let mut bytes = b"nombre,telefono\n".to_vec();
    bytes.extend_from_slice(b"Mar\xeda Gil,+5215512345679\n");
    bytes.extend_from_slice("José Núñez,+5215512345678\n".as_bytes());
    bytes.extend_from_slice("Renée Açaí,+5215512345670\n".as_bytes());
    w.write("mixed.csv", &bytes);
    let o = w.run(&["validate", "mixed.csv"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("UTF-8"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("row 2 is not valid UTF-8"),
        "the warning names the row: {}",
        stderr(&o)
    );
    let (_, raw) = w.read_csv("mixed.report.csv");
    assert_eq!(raw[0][7], "María Gil");
    assert_eq!(raw[1][7], "José Núñez");
    assert_eq!(raw[2][7], "Renée Açaí");
}

#[test]
fn cyrillic_csv_from_russian_excel_is_read_as_windows_1251() {
    let w = Workdir::new();
    let text = "Полное имя;Мобильный телефон;Город\r\n\
                Иван Петров;+7 916 123-45-67;Москва\r\n\
                Ольга Смирнова;+7 921 765-43-21;Санкт-Петербург\r\n";
    let (bytes, _, bad) = encoding_rs::WINDOWS_1251.encode(text);
    assert!(!bad);
    w.write("ru.csv", &bytes);
    let o = w.run(&["validate", "ru.csv"]);
    assert!(stderr(&o).contains("windows-1251"), "{}", stderr(&o));
    let (head, raw) = w.read_csv("ru.report.csv");
    assert_eq!(head[7..], ["Полное имя", "Мобильный телефон", "Город"]);
    assert_eq!(raw[1][7], "Ольга Смирнова");

    // Spanish Excel's windows-1252 stays windows-1252.
    let es = "Nombre;Teléfono;Ciudad\r\nJosé Núñez;+52 55 1234 5678;Querétaro\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(es);
    w.write("es.csv", &bytes);
    let o = w.run(&["validate", "es.csv"]);
    assert!(stderr(&o).contains("windows-1252"), "{}", stderr(&o));
    let (head, _) = w.read_csv("es.report.csv");
    assert_eq!(head[8], "Teléfono");
}

#[test]
fn a_hundred_thousand_columns_of_one_name_get_distinct_names() {
    let w = Workdir::new();
    const N: usize = 100_000;
    // A phone column first: a file where nothing maps stops before reading.
    let mut text = format!("phone,{}", vec!["x"; N].join(","));
    text.push('\n');
    text.push_str(&format!("+34612345678,{}", vec!["1"; N].join(",")));
    text.push('\n');
    w.write("wide.csv", &text);
    let o = w.run(&["validate", "wide.csv"]);
    assert!(code(&o) == 0 || code(&o) == 3, "{}", stderr(&o));
    let (head, _) = w.read_csv("wide.report.csv");
    let first = head.iter().position(|h| h == "x").expect("the x columns");
    let cols = &head[first..];
    assert_eq!(cols.len(), N);
    assert_eq!(cols[0], "x");
    assert_eq!(cols[1], "x_2");
    assert_eq!(cols[N - 1], format!("x_{N}"));
    let distinct: std::collections::HashSet<&String> = cols.iter().collect();
    assert_eq!(distinct.len(), N);
}

#[test]
fn a_csv_cell_over_one_mebibyte_stops_the_read_naming_it() {
    let w = Workdir::new();
    let mut text = String::from("nombre,telefono\nAna,+5215512345678\n");
    text.push_str("Luis,\"");
    text.push_str(&"9".repeat(2 * 1024 * 1024));
    text.push_str("\"\nEva,+5215512345670\n");
    w.write("big.csv", &text);
    w.write("prev.csv", "nombre,telefono\nAna,+5215512345678\n");
    let o = w.run(&["validate", "prev.csv", "--report", "r.csv"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = w.read("r.csv");

    let o = w.run(&["validate", "big.csv", "--report", "r.csv"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("larger than 1 MiB at row 3, column 2"),
        "{err}"
    );
    // The rows before it are kept, but not as the report of the file.
    assert!(err.contains("r.csv.partial"), "{err}");
    assert_eq!(w.read("r.csv"), before);
    assert!(w.read("r.csv.partial").contains("+5215512345678"));

    // A stray quote that would swallow the rest of a large file is the
    // same error, not a report of one giant row.
    let mut text = String::from("nombre,telefono\n\"Ana,+5215512345678\n");
    for i in 0..40_000 {
        text.push_str(&format!("Cliente {i},+5215512{i:06}\n"));
    }
    w.write("quote.csv", &text);
    let o = w.run(&["validate", "quote.csv"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("row 2, column 1"), "{}", stderr(&o));

    // Many columns of small cells are stopped too, before the reader holds
    // more than 16 MiB of one record.
    let mut text = String::from("nombre,telefono\nAna,+5215512345678\n\"Luis");
    let line = format!("{}\n", "a,".repeat(500));
    while text.len() < 20 * 1024 * 1024 {
        text.push_str(&line);
    }
    w.write("wide.csv", &text);
    let o = w.run(&["validate", "wide.csv"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the record after row 2 is over 16 MiB"),
        "{}",
        stderr(&o)
    );
}

/// A minimal XLSX whose sheet holds a header and one row whose B2 cell is
/// an inline string of `len` bytes (streamed into the ZIP, so a large one
/// costs little memory to build).
fn xlsx_with_long_cell(path: &std::path::Path, len: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Datos" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, body) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    zip.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>nombre</t></is></c><c r="B1" t="inlineStr"><is><t>telefono</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c r="B2" t="inlineStr"><is><t>"#,
    )
    .unwrap();
    let chunk = vec![b'A'; 1 << 16];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        zip.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    zip.write_all(b"</t></is></c></row></sheetData></worksheet>")
        .unwrap();
    zip.finish().unwrap();
}

#[test]
fn a_workbook_cell_over_the_cap_is_an_error_naming_it_never_exit_0() {
    let w = Workdir::new();
    // Far past the cap: refused before calamine reads the sheet.
    xlsx_with_long_cell(&w.path("bomb.xlsx"), 64 * 1024 * 1024);
    assert!(std::fs::metadata(w.path("bomb.xlsx")).unwrap().len() < 1024 * 1024);
    let o = w.run(&["validate", "bomb.xlsx"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than 1 MiB"), "{}", stderr(&o));
    assert!(stderr(&o).contains("B2"), "{}", stderr(&o));

    // Just past the cap: caught as calamine hands the cell over.
    xlsx_with_long_cell(&w.path("long.xlsx"), 1024 * 1024 + 10);
    let o = w.run(&["validate", "long.xlsx"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cell B2 is larger than 1 MiB"),
        "{}",
        stderr(&o)
    );

    // And a normal cell in the same layout reads.
    xlsx_with_long_cell(&w.path("ok.xlsx"), 12);
    let o = w.run(&["validate", "ok.xlsx"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
}
