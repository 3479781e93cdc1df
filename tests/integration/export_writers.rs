//! The export writers against real files: CSV read back with the csv crate,
//! XLSX with calamine (and LibreOffice when installed), JSONL with serde_json.

use calamine::{Data, Reader, Xlsx, open_workbook};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use waport::export::{
    Column, Columns, ExportError, ExportFormat, ExportRow, WriterOptions, create_writer,
    custom_field_names, guard_formula,
};
use waport::model::Contact;

/// The header of an export without custom fields, as the issue fixes it.
const FIXED_HEADERS: [&str; 17] = [
    "id",
    "external_id",
    "first_name",
    "last_name",
    "name",
    "phone",
    "email",
    "company",
    "city",
    "state",
    "country",
    "postal_code",
    "address",
    "notes",
    "tags",
    "created_at",
    "updated_at",
];

fn contact(first: &str, phone: &str) -> Contact {
    Contact {
        first_name: first.into(),
        last_name: "García".into(),
        name: format!("{first} García"),
        phone: phone.into(),
        email: format!("{}@example.com", first.to_lowercase()),
        company: "Acme".into(),
        city: "Monterrey".into(),
        state: "NL".into(),
        country: "MX".into(),
        postal_code: "01234".into(),
        address: "Av. Juárez 1".into(),
        notes: "line one\nline two".into(),
        tags: vec!["vip".into(), "lead".into()],
        external_id: "ext-1".into(),
        custom: BTreeMap::new(),
    }
}

fn row(id: &str, c: Contact) -> ExportRow {
    ExportRow {
        remote_id: id.into(),
        contact: c,
        created_at: Some("2024-01-15T12:00:00Z".into()),
        updated_at: None,
        raw: serde_json::Value::Null,
    }
}

/// Writes `rows` and returns the row count `finish` reported.
fn export(
    path: &Path,
    format: ExportFormat,
    cols: Columns,
    opts: &WriterOptions,
    rows: &[ExportRow],
) -> u64 {
    let mut w = create_writer(path, format, cols, opts).unwrap();
    for r in rows {
        w.write(r).unwrap();
    }
    w.finish().unwrap()
}

fn read_csv(path: &Path, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_path(path)
        .unwrap();
    let headers = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (headers, rows)
}

/// Files in `dir` other than `keep`: must be none after an export, so no
/// temporary file is left behind.
fn leftovers(dir: &Path, keep: &[&str]) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !keep.iter().any(|k| p.file_name().unwrap() == *k))
        .collect()
}

#[test]
fn default_columns_use_the_import_names_in_order() {
    let cols = Columns::new(Vec::<String>::new());
    assert_eq!(cols.headers(), FIXED_HEADERS);
    // Every canonical contact field is exported under its own name.
    for f in waport::model::Field::ALL {
        assert!(cols.headers().iter().any(|h| h == f.name()), "{f} missing");
    }
}

#[test]
fn custom_columns_follow_and_never_repeat_a_header() {
    let cols = Columns::new(["plan", "email", "plan", "Stage"]);
    let custom: Vec<&str> = cols.headers()[17..].iter().map(String::as_str).collect();
    assert_eq!(custom, ["plan", "custom:email", "Stage"]);
    assert_eq!(cols.columns()[18], Column::Custom("email".into()));
}

#[test]
fn custom_field_names_are_the_sorted_union() {
    let mut a = Contact::default();
    a.custom.insert("zeta".into(), "1".into());
    a.custom.insert("alpha".into(), "2".into());
    let mut b = Contact::default();
    b.custom.insert("mid".into(), "3".into());
    b.custom.insert("alpha".into(), "4".into());
    assert_eq!(custom_field_names([&a, &b]), ["alpha", "mid", "zeta"]);
}

#[test]
fn select_orders_and_narrows() {
    let cols = Columns::new(["plan", "email"]);
    let sel = cols.select(" phone, name ,plan,custom:email,ID").unwrap();
    assert_eq!(
        sel.headers(),
        ["phone", "name", "plan", "custom:email", "id"]
    );
    assert!(sel.is_selection());
}

#[test]
fn select_rejects_unknown_duplicate_and_empty() {
    let cols = Columns::new(["plan"]);
    let err = cols.select("phone,telefono").unwrap_err();
    assert!(matches!(err, ExportError::UnknownColumn { ref name, .. } if name == "telefono"));
    let msg = err.to_string();
    assert!(msg.contains("\"telefono\""), "{msg}");
    assert!(msg.contains("id, external_id, first_name"), "{msg}");
    assert!(msg.ends_with("updated_at, plan"), "{msg}");

    let err = cols.select("phone,Phone").unwrap_err();
    assert!(matches!(err, ExportError::DuplicateColumn { .. }), "{err}");
    let err = cols.select(" , ").unwrap_err();
    assert!(matches!(err, ExportError::NoColumns { .. }), "{err}");
}

#[test]
fn format_from_path_and_name() {
    assert_eq!(
        ExportFormat::from_path(Path::new("a/b.CSV")).unwrap(),
        ExportFormat::Csv
    );
    assert_eq!(
        ExportFormat::from_path(Path::new("x.xlsx")).unwrap(),
        ExportFormat::Xlsx
    );
    assert_eq!(
        ExportFormat::from_path(Path::new("x.jsonl")).unwrap(),
        ExportFormat::Jsonl
    );
    assert_eq!(
        ExportFormat::from_path(Path::new("agenda.VCF")).unwrap(),
        ExportFormat::Vcf
    );
    assert_eq!("vcard".parse::<ExportFormat>().unwrap(), ExportFormat::Vcf);
    let err = ExportFormat::from_path(Path::new("out/contacts.xls")).unwrap_err();
    assert!(err.to_string().contains("out/contacts.xls"), "{err}");
    let err = ExportFormat::from_path(Path::new("-")).unwrap_err();
    assert!(err.to_string().contains("standard output"), "{err}");
    assert_eq!("XLSX".parse::<ExportFormat>().unwrap(), ExportFormat::Xlsx);
    assert_eq!(
        ".jsonl".parse::<ExportFormat>().unwrap(),
        ExportFormat::Jsonl
    );
    assert!(matches!(
        "json".parse::<ExportFormat>(),
        Err(ExportError::UnknownFormat { .. })
    ));
}

#[test]
fn csv_round_trip_with_formula_guard() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let mut c = contact("=SUM(A1)", "+5215512345678");
    c.last_name = "+12 34".into();
    c.company = "-5".into();
    c.city = "@x".into();
    c.state = "\tcmd".into();
    c.country = "\rcmd".into();
    c.custom.insert("plan".into(), "+HYPERLINK(\"x\")".into());
    let mut plain = contact("Ana", "+34600111222");
    plain.custom.insert("plan".into(), "gold".into());
    let rows = vec![row("r1", c), row("r2", plain)];
    let cols = Columns::new(custom_field_names(rows.iter().map(|r| &r.contact)));
    let n = export(
        &path,
        ExportFormat::Csv,
        cols,
        &WriterOptions::default(),
        &rows,
    );
    assert_eq!(n, 2);

    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with(b"id,external_id,"),
        "no BOM, comma delimiter"
    );
    let (headers, data) = read_csv(&path, b',');
    let mut expect_headers: Vec<String> = FIXED_HEADERS.iter().map(|s| s.to_string()).collect();
    expect_headers.push("plan".into());
    assert_eq!(headers, expect_headers);

    let get = |r: usize, h: &str| data[r][headers.iter().position(|x| x == h).unwrap()].clone();
    assert_eq!(get(0, "first_name"), "'=SUM(A1)");
    assert_eq!(get(0, "phone"), "+5215512345678");
    assert_eq!(get(0, "last_name"), "'+12 34");
    assert_eq!(get(0, "company"), "'-5");
    assert_eq!(get(0, "city"), "'@x");
    assert_eq!(get(0, "state"), "'\tcmd");
    assert_eq!(get(0, "country"), "'\rcmd");
    assert_eq!(get(0, "plan"), "'+HYPERLINK(\"x\")");
    assert_eq!(get(0, "name"), "'=SUM(A1) García");
    assert_eq!(get(1, "id"), "r2");
    assert_eq!(get(1, "phone"), "+34600111222");
    assert_eq!(get(1, "notes"), "line one\nline two");
    assert_eq!(get(1, "tags"), "vip;lead");
    assert_eq!(get(1, "created_at"), "2024-01-15T12:00:00Z");
    assert_eq!(get(1, "updated_at"), "");
    assert_eq!(get(1, "plan"), "gold");
    assert_eq!(get(1, "postal_code"), "01234");
    assert!(leftovers(dir.path(), &["out.csv"]).is_empty());
}

#[test]
fn csv_excel_mode_writes_bom_and_semicolons() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("excel.csv");
    let opts = WriterOptions {
        excel: true,
        ..WriterOptions::default()
    };
    let rows = vec![row("1", contact("José", "+5215512345678"))];
    let cols = Columns::new(Vec::<String>::new())
        .select("id,first_name,phone,tags")
        .unwrap();
    export(&path, ExportFormat::Csv, cols, &opts, &rows);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFid;first_name;phone;tags\r\n"));
    // Tags joined with `;` must be quoted now that `;` is the delimiter.
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(
        text.contains("1;José;+5215512345678;\"vip;lead\""),
        "{text}"
    );
    let (headers, data) = read_csv(&path, b';');
    assert_eq!(headers, ["id", "first_name", "phone", "tags"]);
    assert_eq!(data, [["1", "José", "+5215512345678", "vip;lead"]]);
}

#[test]
fn unlisted_custom_fields_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.csv");
    let mut c = contact("Ana", "+34600111222");
    c.custom.insert("plan".into(), "gold".into());
    c.custom.insert("stage".into(), "won".into());
    let mut w = create_writer(
        &path,
        ExportFormat::Csv,
        Columns::new(["plan"]),
        &WriterOptions::default(),
    )
    .unwrap();
    w.write(&row("1", c.clone())).unwrap();
    w.write(&row("2", c.clone())).unwrap();
    let warnings = w.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("\"stage\"") && warnings[0].contains("2 row(s)"));
    w.finish().unwrap();

    // A deliberate --columns selection leaving it out is not worth a warning.
    let cols = Columns::new(["plan", "stage"]).select("id,plan").unwrap();
    let mut w = create_writer(&path, ExportFormat::Csv, cols, &WriterOptions::default()).unwrap();
    w.write(&row("1", c)).unwrap();
    assert!(w.warnings().is_empty());
    w.finish().unwrap();
}

#[test]
fn unfinished_export_leaves_no_file() {
    for format in [ExportFormat::Csv, ExportFormat::Xlsx, ExportFormat::Jsonl] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("out.{format}"));
        let mut w = create_writer(
            &path,
            format,
            Columns::new(["plan"]),
            &WriterOptions::default(),
        )
        .unwrap();
        for i in 0..1000 {
            w.write(&row(&i.to_string(), contact("Ana", "+34600111222")))
                .unwrap();
        }
        // The temporary file exists while writing, hidden, beside the target.
        let during = leftovers(dir.path(), &[]);
        assert!(!path.exists(), "{format}: final name visible before finish");
        assert!(
            during.iter().any(|p| p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".out.")),
            "{format}: {during:?}"
        );
        drop(w);
        assert!(!path.exists(), "{format}");
        assert!(
            leftovers(dir.path(), &[]).is_empty(),
            "{format}: temp file left"
        );
    }
}

#[test]
fn unfinished_export_keeps_the_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    std::fs::write(&path, "previous export\n").unwrap();
    let mut w = create_writer(
        &path,
        ExportFormat::Csv,
        Columns::new(Vec::<String>::new()),
        &WriterOptions::default(),
    )
    .unwrap();
    w.write(&row("1", contact("Ana", "+34600111222"))).unwrap();
    drop(w);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous export\n");

    let rows = [row("1", contact("Ana", "+34600111222"))];
    export(
        &path,
        ExportFormat::Csv,
        Columns::new(Vec::<String>::new()),
        &WriterOptions::default(),
        &rows,
    );
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("id,"));
    assert!(leftovers(dir.path(), &["out.csv"]).is_empty());
}

#[test]
fn missing_directory_fails_up_front_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/out.xlsx");
    let err = match create_writer(
        &path,
        ExportFormat::Xlsx,
        Columns::new(Vec::<String>::new()),
        &WriterOptions::default(),
    ) {
        Err(e) => e,
        Ok(_) => panic!("created a writer in a missing directory"),
    };
    assert!(matches!(err, ExportError::Create { .. }), "{err}");
    assert!(err.to_string().contains("no/such/dir/out.xlsx"), "{err}");
}

#[test]
fn jsonl_keeps_the_platform_object_or_writes_the_contact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let raw = serde_json::json!({"id": 42, "phone": "5215512345678", "custom_fields": [{"k": "plan", "v": "gold"}], "note": "a\nb"});
    let mut with_raw = row("42", contact("Ana", "+5215512345678"));
    with_raw.raw = raw.clone();
    let mut c = contact("Luis", "+34600111222");
    c.custom.insert("plan".into(), "=1+1".into());
    let without_raw = row("43", c);
    let n = export(
        &path,
        ExportFormat::Jsonl,
        Columns::new(["plan"]),
        &WriterOptions::default(),
        &[with_raw, without_raw],
    );
    assert_eq!(n, 2);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(text.ends_with('\n'));
    let objects: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(objects.iter().all(serde_json::Value::is_object));
    assert_eq!(objects[0], raw);
    let o = &objects[1];
    assert_eq!(o["id"], "43");
    assert_eq!(o["phone"], "+34600111222");
    assert_eq!(o["tags"], serde_json::json!(["vip", "lead"]));
    assert_eq!(o["custom"]["plan"], "=1+1", "no formula guard in JSON");
    assert_eq!(o["created_at"], "2024-01-15T12:00:00Z");
    assert!(o["updated_at"].is_null());
    let back: Contact = serde_json::from_value(o.clone()).unwrap();
    assert_eq!(back.first_name, "Luis");
}

fn xlsx_rows(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    assert_eq!(range.start(), Some((0, 0)));
    range.rows().map(<[Data]>::to_vec).collect()
}

fn s(v: &str) -> Data {
    Data::String(v.into())
}

#[test]
fn xlsx_reads_back_cell_by_cell() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.xlsx");
    let mut odd = contact("=SUM(A1)", "+5215512345678");
    odd.last_name = "  spaced  ".into();
    odd.company = "_x0041_ literal".into();
    odd.notes = "tab\tand\r\nCRLF 🙂".into();
    odd.postal_code = "007".into();
    odd.external_id = "12345678901234567890".into();
    odd.custom.insert("plan".into(), "gold".into());
    let mut r1 = row("9007199254740993", odd);
    r1.created_at = Some("2024-01-15T12:00:00+06:00".into());
    r1.updated_at = Some("2024-02-29".into());
    let mut r2 = row("r2", contact("Ana", "+34600111222"));
    r2.created_at = Some("last tuesday".into());
    r2.contact.tags.clear();
    let rows = vec![r1, r2];
    let cols = Columns::new(custom_field_names(rows.iter().map(|r| &r.contact)));
    export(
        &path,
        ExportFormat::Xlsx,
        cols,
        &WriterOptions::default(),
        &rows,
    );

    let wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["contacts"]);
    let got = xlsx_rows(&path, "contacts");
    assert_eq!(got.len(), 3);
    let header: Vec<Data> = FIXED_HEADERS
        .iter()
        .map(|h| s(h))
        .chain([s("plan")])
        .collect();
    assert_eq!(got[0], header);

    let col = |h: &str| FIXED_HEADERS.iter().position(|x| *x == h).unwrap_or(17);
    let r = &got[1];
    assert_eq!(
        r[col("id")],
        s("9007199254740993"),
        "ids are text, not rounded floats"
    );
    assert_eq!(r[col("external_id")], s("12345678901234567890"));
    assert_eq!(r[col("phone")], s("+5215512345678"), "phones are text");
    assert_eq!(
        r[col("first_name")],
        s("=SUM(A1)"),
        "no guard prefix in XLSX, and not a formula"
    );
    assert_eq!(r[col("last_name")], s("  spaced  "));
    assert_eq!(r[col("company")], s("_x0041_ literal"));
    assert_eq!(r[col("notes")], s("tab\tand\r\nCRLF 🙂"));
    assert_eq!(r[col("postal_code")], s("007"));
    assert_eq!(r[col("tags")], s("vip;lead"));
    assert_eq!(r[col("plan")], s("gold"));
    match &r[col("created_at")] {
        // 2024-01-15 06:00 UTC: serial 45306 + 6/24.
        Data::DateTime(d) => {
            assert!(d.is_datetime());
            assert!((d.as_f64() - 45306.25).abs() < 1e-9, "{}", d.as_f64());
        }
        other => panic!("created_at is not a date: {other:?}"),
    }
    match &r[col("updated_at")] {
        Data::DateTime(d) => assert_eq!(d.as_f64(), 45351.0),
        other => panic!("updated_at is not a date: {other:?}"),
    }

    let r = &got[2];
    assert_eq!(r[col("id")], s("r2"));
    assert_eq!(r[col("phone")], s("+34600111222"));
    assert_eq!(
        r[col("created_at")],
        s("last tuesday"),
        "unparsable dates stay text"
    );
    assert_eq!(r[col("updated_at")], Data::Empty);
    assert_eq!(r[col("tags")], Data::Empty);
    assert_eq!(r[col("plan")], Data::Empty);
}

#[test]
fn xlsx_continues_on_new_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xlsx");
    let opts = WriterOptions {
        xlsx_rows_per_sheet: 3,
        ..WriterOptions::default()
    };
    let rows: Vec<ExportRow> = (0..7)
        .map(|i| row(&format!("r{i}"), contact("Ana", "+34600111222")))
        .collect();
    let cols = Columns::new(Vec::<String>::new())
        .select("id,phone")
        .unwrap();
    assert_eq!(export(&path, ExportFormat::Xlsx, cols, &opts, &rows), 7);
    let wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["contacts", "contacts_2", "contacts_3"]);
    let mut ids = Vec::new();
    for (sheet, expect) in [("contacts", 3), ("contacts_2", 3), ("contacts_3", 1)] {
        let got = xlsx_rows(&path, sheet);
        assert_eq!(got[0], [s("id"), s("phone")], "{sheet} has its header");
        assert_eq!(got.len(), expect + 1, "{sheet}");
        ids.extend(got[1..].iter().map(|r| r[0].clone()));
    }
    let want: Vec<Data> = (0..7).map(|i| s(&format!("r{i}"))).collect();
    assert_eq!(ids, want);
}

#[test]
fn xlsx_sheet_has_frozen_header_autofilter_and_widths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("look.xlsx");
    let mut c = contact("Ana", "+34600111222");
    c.notes = "n".repeat(300);
    let cols = Columns::new(Vec::<String>::new())
        .select("id,phone,notes")
        .unwrap();
    export(
        &path,
        ExportFormat::Xlsx,
        cols,
        &WriterOptions::default(),
        &[row("1", c)],
    );
    // calamine does not read layout, so look at the sheet XML itself.
    let file = std::fs::File::open(&path).unwrap();
    let xml = zip_entry(file, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ),
        "{xml}"
    );
    assert!(xml.contains(r#"<autoFilter ref="A1:C2"/>"#), "{xml}");
    // id: header 2 + 3 pad -> minimum 8; phone: 12 chars; notes: capped at 50.
    assert!(
        xml.contains(r#"<col min="1" max="1" width="8.7109375" customWidth="1"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<col min="2" max="2" width="12.7109375" customWidth="1"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<col min="3" max="3" width="50.7109375" customWidth="1"/>"#),
        "{xml}"
    );
    // Header cells carry a style (bold); data cells do not.
    assert!(xml.contains(r#"<c r="A1" s="1" t="inlineStr">"#), "{xml}");
}

/// One file of an XLSX container, as text.
fn zip_entry(file: std::fs::File, name: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn xlsx_opens_in_libreoffice_when_installed() {
    let Some(office) = ["libreoffice", "soffice"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        println!(
            "note: neither libreoffice nor soffice is installed; skipping the LibreOffice check"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lo.xlsx");
    let rows = vec![row("1", contact("José", "+5215512345678"))];
    let cols = Columns::new(Vec::<String>::new())
        .select("id,first_name,phone")
        .unwrap();
    export(
        &path,
        ExportFormat::Xlsx,
        cols,
        &WriterOptions::default(),
        &rows,
    );
    let status = std::process::Command::new(office)
        .args(["--headless", "--convert-to", "csv", "--outdir"])
        .arg(dir.path())
        .arg(&path)
        .env("HOME", dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let csv = std::fs::read_to_string(dir.path().join("lo.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("id,first_name,phone"));
    assert_eq!(csv.lines().nth(1), Some("1,José,+5215512345678"));
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[=+\\-@\t\r]?[ -~áéñ\n\r\t\"',;]{0,12}",
        "\\+[0-9]{4,17}",
    ]
}

prop_compose! {
    fn any_row()(
        f in proptest::collection::vec(any_text(), 16),
        tags in proptest::collection::vec("[^,;|]{1,8}", 0..3),
        custom in any_text(),
    ) -> ExportRow {
        let mut c = Contact {
            first_name: f[0].clone(), last_name: f[1].clone(), name: f[2].clone(),
            phone: f[3].clone(), email: f[4].clone(), country: f[5].clone(),
            city: f[6].clone(), state: f[7].clone(), postal_code: f[8].clone(),
            address: f[9].clone(), company: f[10].clone(), notes: f[11].clone(),
            tags, external_id: f[12].clone(), custom: BTreeMap::new(),
        };
        c.custom.insert("x".into(), custom);
        ExportRow {
            remote_id: f[13].clone(),
            contact: c,
            created_at: Some(f[14].clone()),
            updated_at: Some(f[15].clone()),
            raw: serde_json::Value::Null,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the text, a CSV cell reads back as written, except for the
    /// guard's documented `'` before a formula-like start.
    #[test]
    fn csv_round_trip_keeps_every_field(rows in proptest::collection::vec(any_row(), 1..5), excel in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        let cols = Columns::new(["x"]);
        let opts = WriterOptions { excel, ..WriterOptions::default() };
        export(&path, ExportFormat::Csv, cols.clone(), &opts, &rows);
        let (headers, data) = read_csv(&path, if excel { b';' } else { b',' });
        prop_assert_eq!(&headers[..], cols.headers());
        prop_assert_eq!(data.len(), rows.len());
        for (r, got) in rows.iter().zip(&data) {
            for (cell, column) in got.iter().zip(cols.columns()) {
                let value = column.value(r);
                let guarded = guard_formula(&value);
                prop_assert_eq!(cell, &*guarded);
                if *cell != *value {
                    prop_assert_eq!(cell, &format!("'{value}"));
                    // A formula character first (ASCII or full-width), or
                    // after leading blanks; or a leading tab or CR.
                    let triggers = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];
                    prop_assert!(
                        value.starts_with(['\t', '\r']) || value.trim_start().starts_with(triggers)
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever the text, an XLSX string cell reads back exactly as written
    /// (no guard prefix there) and the phone is never a number.
    #[test]
    fn xlsx_round_trip_keeps_every_text_field(rows in proptest::collection::vec(any_row(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.xlsx");
        // Dates are left out: they turn into date cells when they parse.
        let cols = Columns::new(["x"]);
        let names: Vec<&str> = cols.headers().iter().map(String::as_str).filter(|h| !h.ends_with("_at")).collect();
        let cols = cols.select(&names.join(",")).unwrap();
        export(&path, ExportFormat::Xlsx, cols.clone(), &WriterOptions::default(), &rows);
        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        let range = wb.worksheet_range("contacts").unwrap();
        for (i, r) in rows.iter().enumerate() {
            for (j, column) in cols.columns().iter().enumerate() {
                let value = column.value(r);
                let cell = range.get_value((i as u32 + 1, j as u32)).cloned().unwrap_or(Data::Empty);
                if value.is_empty() {
                    prop_assert_eq!(cell, Data::Empty);
                } else {
                    prop_assert_eq!(cell, Data::String(value.into_owned()));
                }
            }
        }
    }
}

/// The real sheet limit: 1,048,575 data rows fill `contacts`, the next row
/// starts `contacts_2`. Slow (a full sheet of every column), so ignored by
/// default: `cargo test --test integration export_writers -- --ignored`.
#[test]
#[ignore = "writes a full 1,048,575-row sheet"]
fn xlsx_full_sheet_spills_into_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.xlsx");
    let total = u64::from(waport::export::XLSX_MAX_DATA_ROWS) + 2;
    let started = std::time::Instant::now();
    let mut w = create_writer(
        &path,
        ExportFormat::Xlsx,
        Columns::new(["plan"]),
        &WriterOptions::default(),
    )
    .unwrap();
    let mut r = row("", contact("Ana", ""));
    r.contact.custom.insert("plan".into(), "gold".into());
    for i in 0..total {
        r.remote_id = format!("r{i}");
        r.contact.phone = format!("+52155{i:08}");
        w.write(&r).unwrap();
    }
    assert_eq!(w.finish().unwrap(), total);
    // Peak memory so far is the writer's: calamine below loads whole sheets.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown");
    println!(
        "wrote {total} rows in {:.1?}, {} bytes, peak {peak}",
        started.elapsed(),
        std::fs::metadata(&path).unwrap().len()
    );
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["contacts", "contacts_2"]);
    let second = wb.worksheet_range("contacts_2").unwrap();
    assert_eq!(second.height(), 3);
    assert_eq!(second.get_value((1, 0)), Some(&s("r1048575")));
    assert_eq!(second.get_value((2, 5)), Some(&s("+5215501048576")));
    drop(second);
    let first = wb.worksheet_range("contacts").unwrap();
    assert_eq!(first.height(), 1_048_576);
    assert_eq!(first.get_value((1_048_575, 0)), Some(&s("r1048574")));
}

#[test]
fn xlsx_cuts_overlong_cells_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.xlsx");
    let mut c = contact("Ana", "+34600111222");
    c.notes = "é".repeat(40_000);
    let cols = Columns::new(Vec::<String>::new())
        .select("id,notes")
        .unwrap();
    let mut w = create_writer(&path, ExportFormat::Xlsx, cols, &WriterOptions::default()).unwrap();
    w.write(&row("1", c)).unwrap();
    let warnings = w.warnings();
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("1 cell(s)") && m.contains("32,767")),
        "{warnings:?}"
    );
    w.finish().unwrap();
    let got = xlsx_rows(&path, "contacts");
    assert_eq!(got[1][1], s(&"é".repeat(32_767)));
}

#[test]
fn xlsx_refuses_more_columns_than_a_sheet_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.xlsx");
    let cols = Columns::new((0..16_400).map(|i| format!("f{i}")));
    let err = match create_writer(&path, ExportFormat::Xlsx, cols, &WriterOptions::default()) {
        Err(e) => e,
        Ok(_) => panic!("accepted 16,417 columns"),
    };
    assert!(
        matches!(err, ExportError::TooManyColumns { count: 16_417, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("wide.xlsx"), "{err}");
    assert!(leftovers(dir.path(), &[]).is_empty());
}
