//! vCard in and out through the real binary: `waport validate` on one
//! fixture per phone's export shape (no `--map`), a malformed file, a card
//! piped on standard input, and an export to `.vcf` that re-imports to the
//! same contacts.

use crate::cli::workdir::{Emulator, Workdir, code, json_of, stderr};
use std::collections::BTreeMap;

/// Copies `fixtures/vcard/NAME` into the work dir.
fn vcard_fixture(wd: &Workdir, name: &str) {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/vcard")
        .join(name);
    let bytes = std::fs::read(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    wd.write(name, bytes);
}

/// The report as one map per row, keyed by column name.
fn report(wd: &Workdir, name: &str) -> Vec<BTreeMap<String, String>> {
    let (head, rows) = wd.read_csv(name);
    rows.into_iter()
        .map(|r| head.iter().cloned().zip(r).collect())
        .collect()
}

/// (row, status, phone, email) of every report line.
fn outcome(rows: &[BTreeMap<String, String>]) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["row"].clone(),
                r["status"].clone(),
                r["phone"].clone(),
                r["email"].clone(),
            )
        })
        .collect()
}

fn row(n: u32, status: &str, phone: &str, email: &str) -> (String, String, String, String) {
    (n.to_string(), status.into(), phone.into(), email.into())
}

#[test]
fn each_phone_export_shape_validates_with_no_mapping_file() {
    let cases: [(&str, Vec<_>); 4] = [
        (
            // The pref mobile; a WhatsApp-labelled number over a pref work
            // line (Mexico's legacy +52 1 dropped); a mobile over a main line.
            "iphone_3.0.vcf",
            vec![
                row(1, "valid", "+34612345678", "mariajose.garcia@ejemplo.es"),
                row(2, "valid", "+525512345678", "jpena@ejemplo.mx"),
                row(3, "valid", "+573105550199", ""),
            ],
        ),
        (
            // QP names in Spanish and Russian; the CELL over the HOME line.
            "android_2.1.vcf",
            vec![
                row(1, "valid", "+573105550199", "vale.rodriguez@ejemplo.co"),
                row(2, "valid", "+79161234567", "d.ivanov@example.ru"),
                row(3, "valid", "+5491123456789", "sgomez@ejemplo.com.ar"),
            ],
        ),
        (
            // João's WhatsApp number is national: the address says Brasil.
            "google_3.0.vcf",
            vec![
                row(1, "valid", "+5491123456789", "ana.martinez@ejemplo.com.ar"),
                row(2, "valid", "+5511987654321", "joao.souza@exemplo.com.br"),
                row(3, "valid", "+56987654321", ""),
            ],
        ),
        (
            "vcard_4.0.vcf",
            vec![
                row(1, "valid", "+79215550123", "olga.smirnova@example.ru"),
                row(2, "valid", "+34655123456", "lucia.fernandez@ejemplo.es"),
            ],
        ),
    ];
    for (file, expected) in cases {
        let wd = Workdir::new();
        vcard_fixture(&wd, file);
        let out = wd.run(&["validate", file, "--json", "--report", "r.csv"]);
        assert_eq!(code(&out), 0, "{file}: {}", stderr(&out));
        let j = json_of(&out);
        assert_eq!(j["valid"], expected.len() as u64, "{file}: {j}");
        assert!(stderr(&out).contains("vCard"), "{}", stderr(&out));
        let rows = report(&wd, "r.csv");
        assert_eq!(outcome(&rows), expected, "{file}");
    }
}

#[test]
fn names_other_numbers_and_tags_reach_the_report() {
    let wd = Workdir::new();
    vcard_fixture(&wd, "android_2.1.vcf");
    vcard_fixture(&wd, "google_3.0.vcf");
    vcard_fixture(&wd, "iphone_3.0.vcf");
    let out = wd.run(&["validate", "android_2.1.vcf", "--report", "a.csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let a = report(&wd, "a.csv");
    assert_eq!(a[0]["Name"], "Valentina Rodríguez Muñoz");
    assert_eq!(a[0]["Last Name"], "Rodríguez Muñoz");
    assert_eq!(a[0]["Company"], "Panadería La Candelaria");
    assert_eq!(a[0]["City"], "Bogotá");
    assert_eq!(a[0]["Other Phones"], "601 234 5678 (home)");
    assert_eq!(
        a[0]["Notes"],
        "Pedido semanal de pan de bono y almojábanas; confirmar siempre por WhatsApp antes del envío."
    );
    assert_eq!(a[1]["Name"], "Дмитрий Сергеевич Иванов");
    assert_eq!(a[1]["Company"], "ООО «Ромашка»");
    assert_eq!(a[2]["Other Phones"], "+54 9 351 555-0101 (cell)");

    let out = wd.run(&["validate", "google_3.0.vcf", "--report", "g.csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let g = report(&wd, "g.csv");
    assert_eq!(
        g[0]["Tags"], "Clientes; Mayoristas",
        "myContacts is dropped"
    );
    assert_eq!(
        g[0]["Notes"],
        "Mayorista. Pedidos por WhatsApp: lunes y jueves.\nFactura A, CUIT en el sistema."
    );
    assert_eq!(g[0]["Other Emails"], "anita.mtz@correo.com.ar");
    assert_eq!(g[1]["Other Phones"], "(11) 3456-7890 (home)");
    assert_eq!(g[1]["Country"], "Brasil");

    let out = wd.run(&["validate", "iphone_3.0.vcf", "--report", "i.csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let i = report(&wd, "i.csv");
    assert_eq!(
        i[0]["Notes"],
        "Clienta desde 2019. Prefiere que le escriban por WhatsApp por la tarde, nunca antes de las 16:00."
    );
    assert_eq!(i[0]["Address"], "Calle Mayor 5, 3º B");
    assert_eq!(i[0]["Other Phones"], "+34 915 55 01 23 (home)");
    assert_eq!(i[1]["Other Phones"], "+52 55 5280 1234 (work)");
    assert_eq!(i[2]["Company"], "Café Andino SAS");
}

#[test]
fn a_malformed_card_is_one_invalid_row_and_the_file_goes_on() {
    let wd = Workdir::new();
    vcard_fixture(&wd, "malformed.vcf");
    let out = wd.run(&[
        "validate",
        "malformed.vcf",
        "--json",
        "--report",
        "r.csv",
        "--rejects",
        "fix.csv",
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let rows = report(&wd, "r.csv");
    assert_eq!(
        outcome(&rows),
        vec![
            row(1, "valid", "+51987654321", ""),
            row(2, "invalid", "", ""),
            row(3, "valid", "+34688445566", ""),
            row(4, "invalid", "", ""),
            row(5, "valid", "+59894123456", ""),
        ]
    );
    assert!(
        rows[1]["reason"].starts_with("invalid_vcard: ") && rows[1]["reason"].contains("line 7"),
        "{}",
        rows[1]["reason"]
    );
    assert_eq!(rows[1]["Name"], "Pablo Ruiz", "the report says whose card");
    assert!(rows[3]["reason"].contains("=ZZ"), "{}", rows[3]["reason"]);
    assert_eq!(json_of(&out)["reasons"]["invalid_vcard"], 2);
    // The rejects file has the vCard's columns: fixed, it reads as a CSV.
    let (head, fix) = wd.read_csv("fix.csv");
    assert_eq!(fix.len(), 2);
    assert!(head.iter().any(|h| h == "Phone") && head.iter().any(|h| h == "waport_error"));
}

#[test]
fn a_card_on_standard_input_is_recognised_by_its_content() {
    let wd = Workdir::new();
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lucía Fernández\r\nTEL;TYPE=CELL:+34 655 12 34 56\r\nEND:VCARD\r\n";
    let mut cmd = wd.command(&["validate", "-", "--json", "--report", "r.csv"]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(card.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = report(&wd, "r.csv");
    assert_eq!(outcome(&rows), vec![row(1, "valid", "+34655123456", "")]);
    assert_eq!(rows[0]["Name"], "Lucía Fernández");
}

/// Contacts with what a vCard must carry through: accents, Cyrillic, the
/// characters vCard escapes (`,` `;` `\` and a newline), several tags and a
/// note long enough to be folded.
fn contacts_csv() -> String {
    let mut s = String::from("first_name,last_name,phone,email,company,country,city,notes,tags\n");
    let rows = [
        [
            "María José",
            "García; López",
            "+34 612 34 56 78",
            "mj.garcia@ejemplo.es",
            "\"Ferretería, S.A.\"",
            "ES",
            "Madrid",
            "\"Prefiere WhatsApp por la tarde, nunca antes de las 16:00; pedir factura \\ con CIF\nsegunda línea\"",
            "\"cliente;vip\"",
        ],
        [
            "Дмитрий",
            "Иванов",
            "+7 916 123-45-67",
            "d.ivanov@example.ru",
            "ООО «Ромашка»",
            "RU",
            "Москва",
            "Звонить после 10:00",
            "оптовик",
        ],
        [
            "Joaquín",
            "Peña",
            "+52 55 1234 5678",
            "",
            "",
            "MX",
            "",
            "",
            "",
        ],
    ];
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s
}

/// The platform's contacts as exported to CSV, without ids and dates, in
/// phone order.
fn held_contacts(wd: &Workdir, file: &str) -> Vec<BTreeMap<String, String>> {
    let mut rows = report(wd, file);
    for r in &mut rows {
        for k in ["id", "created_at", "updated_at"] {
            r.remove(k);
        }
    }
    rows.sort_by(|a, b| a["phone"].cmp(&b["phone"]));
    rows
}

#[test]
fn an_exported_vcf_reimports_to_the_same_contacts() {
    let wd = Workdir::new();
    wd.write("in.csv", contacts_csv());
    let first = Emulator::start(&[]);
    let out = wd.run_against(
        &first,
        &[
            "import", "in.csv", "--to", "whaapy", "--quiet", "--rate", "300",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for (file, extra) in [
        ("a.csv", &[][..]),
        ("a.vcf", &[][..]),
        ("b", &["--format", "vcf"][..]),
    ] {
        let mut args = vec!["export", "--from", "whaapy", "-o", file, "--quiet"];
        args.extend_from_slice(extra);
        let out = wd.run_against(&first, &args);
        assert_eq!(code(&out), 0, "{file}: {}", stderr(&out));
    }
    let vcf = wd.read("a.vcf");
    assert_eq!(wd.read("b"), vcf, "--format vcf writes the same file");
    assert_eq!(vcf.matches("BEGIN:VCARD\r\n").count(), 3);
    assert!(vcf.contains("\r\nVERSION:3.0\r\n"));
    assert!(vcf.contains("\r\nTEL;TYPE=CELL:+34612345678\r\n"), "{vcf}");
    // Whaapy keeps one name; its export splits it at the first space, and
    // the card carries what the platform holds.
    let held = held_contacts(&wd, "a.csv");
    let n = format!(
        "\r\nN:{};{};;;\r\nFN:María José García\\; López\r\n",
        held[0]["last_name"].replace(';', "\\;"),
        held[0]["first_name"]
    );
    assert!(vcf.contains(&n), "{n} in {vcf}");
    assert!(vcf.contains("ORG:Ferretería\\, S.A.\r\n"), "{vcf}");
    // CRLF only, and no physical line over 75 octets.
    assert!(!vcf.replace("\r\n", "").contains('\n'));
    assert!(vcf.split("\r\n").all(|l| l.len() <= 75), "{vcf}");
    assert!(vcf.contains("\r\n "), "the long note is folded: {vcf}");

    // The file validates with no mapping, every card valid.
    let out = wd.run(&["validate", "a.vcf", "--json", "--report", "v.csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["valid"], 3);

    // Imported into an empty account, it gives the same contacts back.
    let second = Emulator::start(&[]);
    let out = wd.run_against(
        &second,
        &[
            "import", "a.vcf", "--to", "whaapy", "--json", "--rate", "300",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["created"], 3);
    let out = wd.run_against(
        &second,
        &["export", "--from", "whaapy", "-o", "b.csv", "--quiet"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let before = held_contacts(&wd, "a.csv");
    let after = held_contacts(&wd, "b.csv");
    assert_eq!(before.len(), 3);
    assert_eq!(after, before);
    // The content survived, not only the equality.
    let maria = &after[0];
    assert_eq!(maria["name"], "María José García; López");
    assert_eq!(
        maria["notes"],
        "Prefiere WhatsApp por la tarde, nunca antes de las 16:00; pedir factura \\ con CIF\nsegunda línea"
    );
    assert_eq!(maria["tags"], "cliente;vip");
}
