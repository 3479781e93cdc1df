//! `--report PATH.xlsx` and `--rejects PATH.xlsx`: real workbooks, read
//! back with calamine and, for what calamine does not expose (layout,
//! styles, the chart), from the package XML itself (issue 15).

use crate::cli::workdir::{Emulator, Workdir, code, json_of, stderr};
use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

const REPORT_HEAD: [&str; 7] = [
    "row",
    "status",
    "reason",
    "phone",
    "phone_type",
    "email",
    "duplicate_of",
];

/// The sheet names of a workbook, in tab order.
fn sheet_names(path: &Path) -> Vec<String> {
    let wb: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    wb.sheet_names()
}

/// The cells of one sheet, as calamine reads them.
fn cells(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let range = wb
        .worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("{} {sheet}: {e}", path.display()));
    range.rows().map(<[Data]>::to_vec).collect()
}

/// A data sheet as text, asserting every cell is a string cell or empty:
/// nothing the report writes may turn into a number.
fn text_rows(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    cells(path, sheet)
        .iter()
        .map(|row| {
            let mut out: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => panic!("{sheet}: not a string cell: {other:?} in {row:?}"),
                })
                .collect();
            while out.last().is_some_and(String::is_empty) {
                out.pop();
            }
            out
        })
        .collect()
}

fn trimmed(mut row: Vec<String>) -> Vec<String> {
    while row.last().is_some_and(String::is_empty) {
        row.pop();
    }
    row
}

/// The Summary sheet: rows per status (with `total`), rows per reason, and
/// the 1-based sheet rows the reasons occupy.
struct Summary {
    statuses: BTreeMap<String, u64>,
    reasons: BTreeMap<String, u64>,
    reason_rows: Option<(usize, usize)>,
}

fn summary(path: &Path) -> Summary {
    let rows = cells(path, "Summary");
    let number = |d: &Data| match d {
        Data::Float(f) => *f as u64,
        Data::Int(i) => *i as u64,
        other => panic!("Summary count is not a number: {other:?}"),
    };
    let text = |d: &Data| match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("Summary label is not text: {other:?}"),
    };
    assert_eq!(text(&rows[0][0]), "status");
    assert_eq!(text(&rows[0][1]), "rows");
    let mut s = Summary {
        statuses: BTreeMap::new(),
        reasons: BTreeMap::new(),
        reason_rows: None,
    };
    let mut i = 1;
    while i < rows.len() && !text(&rows[i][0]).is_empty() {
        s.statuses.insert(text(&rows[i][0]), number(&rows[i][1]));
        i += 1;
    }
    i += 1;
    assert_eq!(text(&rows[i][0]), "reason", "{rows:?}");
    i += 1;
    let first = i;
    while i < rows.len() && !text(&rows[i][0]).is_empty() {
        s.reasons.insert(text(&rows[i][0]), number(&rows[i][1]));
        i += 1;
    }
    if i > first {
        // calamine's rows start at A1 here (the Summary's first cell), so
        // index + 1 is the sheet row.
        s.reason_rows = Some((first + 1, i));
    }
    s
}

/// Checks the Summary against the run's `--json` counts.
fn summary_matches_json(path: &Path, j: &Value, statuses: &[&str]) -> Summary {
    let s = summary(path);
    assert_eq!(s.statuses.get("total"), j["rows"].as_u64().as_ref());
    for st in statuses {
        let n = j[*st].as_u64().unwrap_or_else(|| panic!("{st} in {j}"));
        assert_eq!(s.statuses.get(*st).copied().unwrap_or(0), n, "{st}");
    }
    let shown: u64 = s
        .statuses
        .iter()
        .filter(|(k, _)| *k != "total")
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        Some(shown),
        j["rows"].as_u64(),
        "statuses add up to the rows"
    );
    let want: BTreeMap<String, u64> = j["reasons"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(s.reasons, want);
    s
}

/// One part of the xlsx package, as text.
fn part(path: &Path, name: &str) -> Option<String> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut entry = archive.by_name(name).ok()?;
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    Some(text)
}

/// The Summary (the second sheet) has a drawing holding a bar chart of the
/// reason cells.
fn chart_refers_to_reasons(path: &Path, reason_rows: (usize, usize)) {
    let chart = part(path, "xl/charts/chart1.xml").expect("xl/charts/chart1.xml");
    assert!(chart.contains("<c:barChart>"), "{chart}");
    let (first, last) = reason_rows;
    for col in ["A", "B"] {
        // The crate writes a one-cell range as that cell.
        let range = match first == last {
            true => format!("<c:f>Summary!${col}${first}</c:f>"),
            false => format!("<c:f>Summary!${col}${first}:${col}${last}</c:f>"),
        };
        assert!(chart.contains(&range), "{range} not in {chart}");
    }
    let sheet = part(path, "xl/worksheets/sheet2.xml").unwrap();
    assert!(sheet.contains("<drawing r:id="), "{sheet}");
    let rels = part(path, "xl/worksheets/_rels/sheet2.xml.rels").unwrap();
    assert!(rels.contains("../drawings/drawing1.xml"), "{rels}");
    let drawing = part(path, "xl/drawings/_rels/drawing1.xml.rels").unwrap();
    assert!(drawing.contains("../charts/chart1.xml"), "{drawing}");
}

/// The header of the first sheet is bold (styled), frozen and filtered.
fn header_frozen_and_filtered(path: &Path, rows: usize, columns: usize) {
    let sheet = part(path, "xl/worksheets/sheet1.xml").unwrap();
    assert!(sheet.contains(r#"ySplit="1""#), "{sheet:.2000}");
    assert!(sheet.contains(r#"state="frozen""#), "{sheet:.2000}");
    assert!(columns <= 26);
    let last = char::from(b'A' + columns as u8 - 1);
    let filter = format!(r#"<autoFilter ref="A1:{last}{rows}"/>"#);
    assert!(sheet.contains(&filter), "{filter} not in {sheet:.3000}");
    assert!(sheet.contains(r#"<c r="A1" s="#), "{sheet:.2000}");
    assert!(sheet.contains("<cols>"), "column widths set: {sheet:.2000}");
    assert!(!sheet.contains("<f>"), "no formula anywhere");
}

/// The style index of a cell, from the sheet XML.
fn style_of(sheet: &str, cell: &str) -> Option<String> {
    let at = sheet.find(&format!(r#"<c r="{cell}""#))?;
    let rest = &sheet[at..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let s = tag.find(" s=\"")?;
    Some(tag[s + 4..].split('"').next()?.to_string())
}

/// The input file's records, as the csv crate reads them.
fn input_rows(path: &Path, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_path(path)
        .unwrap();
    let head = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (head, rows)
}

#[test]
fn validate_writes_the_report_and_rejects_as_workbooks_with_the_csv_columns() {
    let wd = Workdir::new();
    let input = wd.fixture("contacts_es.csv");
    let (in_head, in_rows) = input_rows(&input, b';');
    let out = wd.run(&[
        "validate",
        "contacts_es.csv",
        "--report",
        "r.csv",
        "--rejects",
        "x.csv",
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let out = wd.run(&[
        "validate",
        "contacts_es.csv",
        "--report",
        "r.xlsx",
        "--rejects",
        "x.XLSX",
        "--json",
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    let r = wd.path("r.xlsx");
    let x = wd.path("x.XLSX");
    assert!(!wd.path("r.xlsx.partial").exists());
    assert_eq!(sheet_names(&r), ["report", "Summary"]);
    assert_eq!(sheet_names(&x), ["rejects", "Summary"]);

    // The report: the CSV report's own columns, then the input's cells
    // verbatim (the CSV guards `+54 9 …` as `'+54 9 …`; a workbook's string
    // cells need no guard).
    let (csv_head, csv_rows) = wd.read_csv("r.csv");
    let rows = text_rows(&r, "report");
    assert_eq!(rows[0][..7], REPORT_HEAD);
    assert_eq!(rows[0], trimmed(csv_head));
    assert_eq!(rows.len() - 1, in_rows.len());
    assert_eq!(rows.len() - 1, csv_rows.len());
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], (i + 2).to_string(), "spreadsheet row numbers");
        assert_eq!(row[..7], csv_rows[i][..7], "row {}", i + 2);
        assert_eq!(row[7..], trimmed(in_rows[i].clone())[..], "row {}", i + 2);
    }
    let statuses: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    for s in ["valid", "invalid", "duplicate"] {
        assert!(statuses.contains(&s), "{s} in {statuses:?}");
    }
    // María's phone: an E.164 string, not the number 34612345678.
    let maria = &cells(&r, "report")[2];
    assert_eq!(maria[3], Data::String("+34612345678".into()));
    assert_eq!(maria[9], Data::String("+34 612 345 678".into()));
    // Lucía's phone keeps the `'` she typed.
    assert_eq!(rows[5][9], "'+56 9 8765 4321");

    header_frozen_and_filtered(&r, rows.len(), rows[0].len());
    // The status column is coloured: valid and invalid rows get different
    // styles, Excel's green and red fills.
    let sheet = part(&r, "xl/worksheets/sheet1.xml").unwrap();
    let style = |status: &str| {
        let i = statuses.iter().position(|s| *s == status).unwrap();
        style_of(&sheet, &format!("B{}", i + 2)).unwrap_or_else(|| panic!("{status} unstyled"))
    };
    let (valid, invalid, duplicate) = (style("valid"), style("invalid"), style("duplicate"));
    assert_ne!(valid, invalid);
    assert_ne!(valid, duplicate);
    assert_ne!(invalid, duplicate);
    let styles = part(&r, "xl/styles.xml").unwrap();
    assert!(
        styles.contains("FFC6EFCE") && styles.contains("FFFFC7CE"),
        "{styles}"
    );
    // Other cells are plain.
    assert_eq!(style_of(&sheet, "D3"), None);

    let s = summary_matches_json(&r, &j, &["valid", "invalid", "duplicate"]);
    chart_refers_to_reasons(&r, s.reason_rows.expect("the fixture has reasons"));

    // The rejects workbook: the CSV rejects file's rows, with the input's
    // cells verbatim and the reason last.
    let (_, csv_rejects) = wd.read_csv("x.csv");
    let rejects = text_rows(&x, "rejects");
    let mut want_head = in_head.clone();
    want_head.push("waport_error".into());
    assert_eq!(rejects[0], want_head);
    assert_eq!(rejects.len() - 1, csv_rejects.len());
    let rejected: Vec<usize> = (0..csv_rows.len())
        .filter(|&i| csv_rows[i][1] == "invalid")
        .collect();
    assert_eq!(rejected.len(), rejects.len() - 1);
    for (k, &i) in rejected.iter().enumerate() {
        let row = &rejects[k + 1];
        assert_eq!(row[..in_head.len()], in_rows[i][..], "rejects row {k}");
        assert_eq!(row[in_head.len()], csv_rows[i][2], "the reason");
    }
    header_frozen_and_filtered(&x, rejects.len(), rejects[0].len());
    summary_matches_json(&x, &j, &["valid", "invalid", "duplicate"]);
}

#[test]
fn a_rejects_workbook_fed_back_gives_the_same_rows_and_a_fixed_one_imports() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "Nombre,Teléfono,Código\nAna,+34 612 345 678,007\nBeto,55-12,0042\nCruz,+52 55 1234 5678,10\nDora,12,00\n",
    );
    let out = wd.run(&[
        "validate",
        "in.csv",
        "--report",
        "r.csv",
        "--rejects",
        "x.xlsx",
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let (_, first) = wd.read_csv("r.csv");
    let rejects = text_rows(&wd.path("x.xlsx"), "rejects");
    assert_eq!(rejects.len(), 3, "{rejects:?}");
    // Leading zeros survive as text.
    assert_eq!(rejects[1][2], "0042");
    assert_eq!(rejects[2][2], "00");

    // Fed back unchanged: the same rows, with the same statuses and
    // reasons, numbered as the workbook's rows.
    let out = wd.run(&["validate", "x.xlsx", "--report", "again.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let (head, again) = wd.read_csv("again.csv");
    assert_eq!(head[7..], ["Nombre", "Teléfono", "Código", "waport_error"]);
    let invalid: Vec<&Vec<String>> = first.iter().filter(|r| r[1] == "invalid").collect();
    assert_eq!(again.len(), invalid.len());
    for (k, (a, f)) in again.iter().zip(&invalid).enumerate() {
        assert_eq!(a[0], (k + 2).to_string());
        assert_eq!(a[1], f[1]);
        assert_eq!(a[2], f[2]);
        assert_eq!(a[7..10], f[7..10]);
        assert_eq!(a[10], f[2], "waport_error is read back as a column");
    }

    // The user fixes Beto's phone in the workbook (as Excel saves it) and
    // imports it.
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (r, row) in rejects.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let cell = if cell == "55-12" {
                "+52 55 1234 9876"
            } else {
                cell
            };
            ws.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    book.save(wd.path("fixed.xlsx")).unwrap();
    let emu = Emulator::start(&[]);
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "fixed.xlsx",
            "--to",
            "wazzup",
            "--json",
            "--report",
            "f.csv",
        ],
    );
    assert_eq!(code(&out), 3, "Dora is still invalid: {}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["created"], 1, "{j}");
    assert_eq!(j["invalid"], 1, "{j}");
    let phones: Vec<String> = emu
        .contacts("wazzup")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(phones.len(), 1);
    assert!(phones[0].contains("525512349876"), "{phones:?}");
}

#[test]
fn import_writes_workbooks_with_platform_statuses_and_ids_as_text() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write(
        "c.csv",
        "Nombre,Teléfono,Cliente\nAna,+34 612 345 678,000123\nBeto,55-12,000124\nCruz,+52 55 1234 5678,000125\nAna otra vez,+34612345678,000126\n",
    );
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "c.csv",
            "--to",
            "wazzup",
            "--json",
            "--report",
            "r.xlsx",
            "--rejects",
            "x.xlsx",
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    let r = wd.path("r.xlsx");
    let rows = text_rows(&r, "report");
    assert_eq!(rows[0][..7], REPORT_HEAD);
    assert_eq!(rows[0][7..], ["remote_id", "Nombre", "Teléfono", "Cliente"]);
    assert_eq!(rows.len(), 5);
    let by_row: BTreeMap<&str, &Vec<String>> =
        rows[1..].iter().map(|r| (r[0].as_str(), r)).collect();
    assert_eq!(by_row["2"][1], "created");
    assert_eq!(by_row["2"][3], "+34612345678");
    assert!(!by_row["2"][7].is_empty(), "remote id: {:?}", by_row["2"]);
    assert_eq!(by_row["3"][1], "invalid");
    assert_eq!(by_row["4"][1], "created");
    assert_eq!(by_row["5"][1], "duplicate");
    assert_eq!(by_row["5"][6], "2");
    // Ids with leading zeros stay text.
    assert_eq!(by_row["2"][10], "000123");
    let created: Vec<String> = emu
        .contacts("wazzup")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(created.len(), 2);
    assert!(
        created.iter().any(|c| c.contains(&by_row["2"][7])),
        "the report's remote id is the platform's: {created:?}"
    );
    header_frozen_and_filtered(&r, rows.len(), rows[0].len());
    let s = summary_matches_json(&r, &j, &["created", "invalid", "duplicate", "failed"]);
    chart_refers_to_reasons(&r, s.reason_rows.expect("an invalid row has a reason"));

    let rejects = text_rows(&wd.path("x.xlsx"), "rejects");
    assert_eq!(rejects.len(), 2);
    assert_eq!(rejects[1][..3], ["Beto", "55-12", "000124"]);
    assert_eq!(rejects[1][3], by_row["3"][2]);
}

#[test]
fn formula_looking_cells_are_verbatim_strings_in_a_workbook() {
    let wd = Workdir::new();
    let cells_in = [
        "=HYPERLINK(\"http://evil.example\",\"clic\")",
        "@SUM(A1)",
        "-5",
    ];
    let mut text = String::from("nombre,telefono\n");
    for c in &cells_in {
        text.push_str(&format!("\"{}\",55-12\n", c.replace('"', "\"\"")));
    }
    wd.write("in.csv", &text);
    let out = wd.run(&[
        "validate",
        "in.csv",
        "--report",
        "r.xlsx",
        "--rejects",
        "x.xlsx",
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let rows = text_rows(&wd.path("r.xlsx"), "report");
    let rejects = text_rows(&wd.path("x.xlsx"), "rejects");
    for (i, c) in cells_in.iter().enumerate() {
        assert_eq!(rows[i + 1][7], *c);
        assert_eq!(rejects[i + 1][0], *c);
    }
    for f in ["r.xlsx", "x.xlsx"] {
        let sheet = part(&wd.path(f), "xl/worksheets/sheet1.xml").unwrap();
        assert!(!sheet.contains("<f>"), "{sheet}");
    }
}

#[test]
fn a_run_cut_short_leaves_the_previous_workbook_and_a_partial_one() {
    let wd = Workdir::new();
    wd.write("in.csv", "nombre,telefono\nAna,+34612345678\n");
    let out = wd.run(&["validate", "in.csv", "--report", "r.xlsx"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let before = std::fs::read(wd.path("r.xlsx")).unwrap();

    // The third row holds a cell over the reader's limit: the read stops.
    let huge = "x".repeat(1024 * 1024 + 1);
    wd.write(
        "big.csv",
        format!("nombre,telefono\nBea,+34612345679\nCruz,+34612345670\n{huge},+34612345671\n"),
    );
    let out = wd.run(&["validate", "big.csv", "--report", "r.xlsx"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("r.xlsx.partial"), "{}", stderr(&out));
    assert_eq!(std::fs::read(wd.path("r.xlsx")).unwrap(), before);
    let partial = wd.path("r.xlsx.partial");
    // calamine wants the extension to pick the format.
    let copy = wd.path("partial.xlsx");
    std::fs::copy(&partial, &copy).unwrap();
    let rows = text_rows(&copy, "report");
    assert_eq!(rows.len(), 3, "header and the two rows read: {rows:?}");
    assert_eq!(rows[1][7], "Bea");
    assert_eq!(summary(&copy).statuses.get("total"), Some(&2));
}
