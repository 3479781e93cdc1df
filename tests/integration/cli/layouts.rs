//! The export layouts of CRMs and contact apps, read with no `--map`: each
//! fixture under `fixtures/layouts/` (header rows as the exporters write
//! them; sources in that folder's README) against its expected report.

use crate::cli::workdir::{Workdir, code, stderr, stdout};
use std::path::Path;

fn layouts_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/layouts")
}

/// Copies `fixtures/layouts/NAME` into the work dir.
fn layout(wd: &Workdir, name: &str) -> String {
    let bytes = std::fs::read(layouts_dir().join(name)).expect("fixture");
    wd.write(name, bytes);
    name.to_string()
}

/// The report's own columns (row … duplicate_of) of a CSV.
fn own_columns(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter().map(|r| r[..6].to_vec()).collect()
}

/// Validates `name` with no mapping file and compares the report's own
/// columns with `NAME.expected.csv`; returns the report rows.
fn check(name: &str) -> Vec<Vec<String>> {
    let wd = Workdir::new();
    let file = layout(&wd, name);
    let out = wd.run(&["validate", &file, "--report", "out.csv", "--json"]);
    let (head, rows) = wd.read_csv("out.csv");
    assert_eq!(
        &head[..6],
        ["row", "status", "reason", "phone", "email", "duplicate_of"]
    );
    let expected_path = layouts_dir().join(format!("{name}.expected.csv"));
    let mut r = csv::Reader::from_path(&expected_path).expect("expected report");
    let expected: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(
        own_columns(rows.clone()),
        expected,
        "{name}: {}",
        stderr(&out)
    );
    let rejected = rows.iter().any(|r| r[1] == "invalid");
    assert_eq!(
        code(&out),
        if rejected { 3 } else { 0 },
        "{name}: {}",
        stderr(&out)
    );
    rows
}

/// Rows whose status is `valid`.
fn valid(rows: &[Vec<String>]) -> usize {
    rows.iter().filter(|r| r[1] == "valid").count()
}

#[test]
fn google_contacts_older_layout() {
    let rows = check("google_contacts_old.csv");
    assert_eq!(valid(&rows), 4);
    // Phone 2 is labelled Mobile: it wins over Phone 1 (Work), which is
    // kept in the report.
    assert_eq!(rows[0][3], "+525534567890");
    assert!(rows[0][2].contains("+525552801234 (Phone 1 - Value: Work)"));
    // A WhatsApp label beats a mobile one.
    assert_eq!(rows[3][3], "+5511977771234");
}

#[test]
fn google_contacts_current_layout() {
    let rows = check("google_contacts_new.csv");
    assert_eq!(valid(&rows), 4);
    // Two numbers in one cell (` ::: `): the first is the contact's, the
    // second is reported, the row stays valid.
    assert_eq!(rows[1][1], "valid");
    assert!(rows[1][2].starts_with("other_phones: +51912345678"));
}

#[test]
fn outlook_csv() {
    let rows = check("outlook.csv");
    assert_eq!(valid(&rows), 4);
    // The home phone is read in the home country (the US), not in the
    // business one (Mexico), whose column comes first.
    assert_eq!(rows[1][3], "+16195550142");
}

#[test]
fn hubspot_export() {
    let rows = check("hubspot.csv");
    assert_eq!(valid(&rows), 4);
    assert_eq!(rows[0][3], "+528112345678", "mobile over the main number");
}

#[test]
fn salesforce_report_with_footer_lines() {
    let rows = check("salesforce_report.csv");
    let footers: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == "skipped").collect();
    assert_eq!(footers.len(), 3);
    assert!(footers.iter().all(|r| r[2] == "footer"));
    assert_eq!(valid(&rows), 3);
}

#[test]
fn salesforce_data_loader_extract() {
    let rows = check("salesforce_dataloader.csv");
    assert_eq!(valid(&rows), 3);
}

#[test]
fn zoho_crm_export() {
    check("zoho_crm.csv");
}

#[test]
fn brevo_export_with_sms_digits() {
    let rows = check("brevo.csv");
    assert_eq!(valid(&rows), 4);
    // The WHATSAPP attribute wins over SMS.
    assert_eq!(rows[1][3], "+525587654321");
}

#[test]
fn mailchimp_audience_export() {
    let rows = check("mailchimp.csv");
    assert_eq!(rows[0][3], "+573102223344", "national number read in CC");
}

#[test]
fn amocrm_export_in_russian() {
    let rows = check("amocrm.csv");
    assert_eq!(valid(&rows), 4);
    assert_eq!(rows[0][3], "+79165551234", "mobile over work phone");
    assert!(rows[1][2].contains("+79254445566"), "{:?}", rows[1]);
}

#[test]
fn bitrix24_excel_export_is_an_html_table() {
    let rows = check("bitrix24_contacts.xls");
    assert_eq!(rows[0][3], "+79261234567");
    assert!(rows[0][2].contains("+79037654321"), "{:?}", rows[0]);
}

#[test]
fn bitrix24_csv_export() {
    check("bitrix24_contacts.csv");
}

#[test]
fn dynamics_365_in_spanish() {
    let rows = check("dynamics365_es.csv");
    assert_eq!(valid(&rows), 3);
    assert_eq!(rows[0][3], "+525543218765");
}

#[test]
fn no_phone_column_stops_before_reading_rows_with_a_map_line() {
    let wd = Workdir::new();
    wd.write(
        "d.csv",
        "Nombre completo (Contacto),Tel Personal (Contacto),Correo electrónico\nAna,+525512345678,a@b.mx\n",
    );
    let out = wd.run(&["validate", "d.csv"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no phone column among: "), "{err}");
    assert!(
        err.contains("\"Tel Personal (Contacto)\" = \"phone\""),
        "{err}"
    );
    assert!(!wd.path("d.report.csv").exists());
    // With the line it suggests, the file reads.
    wd.write(
        "m.toml",
        "[columns]\n\"Tel Personal (Contacto)\" = \"phone\"\n",
    );
    let out = wd.run(&["validate", "d.csv", "--map", "m.toml"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn show_mapping_names_the_nearest_known_header() {
    let wd = Workdir::new();
    wd.write("s.csv", "Celular,Correo Personal\n5512345678,a@b.mx\n");
    let out = wd.run(&["validate", "s.csv", "--show-mapping"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("Correo Personal (not recognised; nearest known header: \"correo\" (email)"),
        "{text}"
    );
}

#[test]
fn html_page_without_a_table_and_zipped_csv_are_refused_by_what_they_are() {
    let wd = Workdir::new();
    wd.write(
        "p.xls",
        "<!DOCTYPE html><html><body><p>Session expired</p></body></html>",
    );
    let out = wd.run(&["validate", "p.xls"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("unsupported format: it is an HTML page with no table"),
        "{}",
        stderr(&out)
    );
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    zip.extend_from_slice(b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00subscribed_members.csv");
    wd.write("audience.zip", zip);
    let out = wd.run(&["validate", "audience.zip"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("unsupported format: it is a ZIP archive of CSV files"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_layout_imports_with_its_mobile_numbers() {
    let wd = Workdir::new();
    let file = layout(&wd, "hubspot.csv");
    let out = wd.run(&[
        "import",
        &file,
        "--to",
        "wazzup",
        "--sandbox",
        "--report",
        "i.csv",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (_, rows) = wd.read_csv("i.csv");
    assert!(rows.iter().all(|r| r[1] == "created"), "{rows:?}");
    assert_eq!(rows[0][3], "+528112345678");
}
