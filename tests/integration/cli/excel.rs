//! Reports a spreadsheet user opens, fixes and feeds back (issue 15): the
//! rejects file in the input's own encoding, delimiter and line ends, the
//! report's delimiter and BOM, `--excel`, the summary's reason lines, and
//! run settings saved in a `waport.toml` profile.

use crate::cli::workdir::{Emulator, Workdir, code, json_of, stderr};
use encoding_rs::WINDOWS_1252;

/// Text as Spanish Excel saves "CSV (delimitado por comas)": windows-1252.
fn cp1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = WINDOWS_1252.encode(text);
    assert!(!unmappable, "the fixture must fit windows-1252");
    bytes.into_owned()
}

/// A cp1252 `;` CRLF file with one phone short of a digit (José's).
const SPANISH: &str = "Nombre;Apellido;Teléfono;País\r\n\
                       Iñaki;Peña;+34 612 345 678;España\r\n\
                       José;Núñez;+34 612 34 56 7;España\r\n\
                       Begoña;Ibáñez;+34 622 345 678;España\r\n";

#[test]
fn a_cp1252_rejects_file_is_fixed_in_place_and_reimported_without_mojibake() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("clientes.csv", cp1252(SPANISH));
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "clientes.csv",
            "--to",
            "wazzup",
            "--rejects",
            "corregir.csv",
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("rejects: corregir.csv (windows-1252, ';', CRLF)"),
        "{err}"
    );

    // Byte for byte what the input is made of: windows-1252, `;`, CR LF.
    let bytes = std::fs::read(wd.path("corregir.csv")).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    let (text, had_errors) = WINDOWS_1252.decode_without_bom_handling(&bytes);
    assert!(!had_errors);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], "Nombre;Apellido;Teléfono;País;waport_error\r\n");
    assert!(
        // The `'` is the formula guard (a cell starting with `+` that is no
        // whole E.164 number); waport removes it when the file comes back.
        lines[1].starts_with("José;Núñez;'+34 612 34 56 7;España;\"invalid_phone"),
        "{text}"
    );
    assert!(lines[1].ends_with("\r\n"));
    assert!(bytes.windows(2).any(|w| w == b"\xfa\xf1"), "ú ñ as cp1252");

    // The report follows the input's delimiter, with a BOM (the input was
    // not UTF-8) so Excel reads its UTF-8.
    let report = std::fs::read(wd.path("clientes.report.csv")).unwrap();
    assert!(report.starts_with("\u{feff}row;status;reason;".as_bytes()));
    assert!(String::from_utf8(report).unwrap().contains("José;Núñez"));

    // The user fixes the phone in Excel and saves: same encoding, same
    // layout, the waport_error column still there.
    let fixed = text.replace("+34 612 34 56 7;", "+34 612 34 56 79;");
    assert_ne!(fixed, text);
    wd.write("corregir.csv", cp1252(&fixed));
    let out = wd.run_against(
        &emu,
        &["import", "corregir.csv", "--to", "wazzup", "--json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["created"], 1);
    let held = emu.contacts("wazzup");
    let jose = held
        .iter()
        .find(|c| c["contactData"][0]["chatId"] == "34612345679")
        .unwrap_or_else(|| panic!("José not created: {held:?}"));
    assert_eq!(jose["name"], "José Núñez");
    let names: Vec<&str> = held.iter().filter_map(|c| c["name"].as_str()).collect();
    assert!(names.contains(&"Iñaki Peña"), "{names:?}");
    assert!(names.contains(&"Begoña Ibáñez"), "{names:?}");
}

#[test]
fn a_cp1251_rejects_file_stays_cp1251() {
    let wd = Workdir::new();
    let text =
        "Имя;Фамилия;Телефон\r\nОльга;Смирнова;+7 916 123 45 67\r\nПётр;Иванов;+7 916 12\r\n";
    let (bytes, _, bad) = encoding_rs::WINDOWS_1251.encode(text);
    assert!(!bad);
    wd.write("r.csv", &bytes);
    let out = wd.run(&["validate", "r.csv", "--rejects", "fix.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let got = std::fs::read(wd.path("fix.csv")).unwrap();
    let (decoded, _, bad) = encoding_rs::WINDOWS_1251.decode(&got);
    assert!(!bad && std::str::from_utf8(&got).is_err());
    assert!(
        decoded.starts_with("Имя;Фамилия;Телефон;waport_error\r\nПётр;Иванов;'+7 916 12;"),
        "{decoded}"
    );
}

#[test]
fn the_report_follows_the_input_and_excel_forces_a_bom_and_semicolons() {
    let wd = Workdir::new();
    wd.write("plain.csv", "name,phone\nAna,+525512345678\nBob,55-12\n");
    let out = wd.run(&["validate", "plain.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let plain = wd.read("plain.report.csv");
    assert!(plain.starts_with("row,status,reason,"), "{plain}");
    assert!(!plain.contains('\r'));

    // A UTF-8 input with a BOM and `;` (Excel's "CSV UTF-8"): the report
    // keeps both, the rejects file too.
    wd.write(
        "bom.csv",
        "\u{feff}nombre;teléfono\r\nAna;+525512345678\r\nBob;55-12\r\n",
    );
    let out = wd.run(&["validate", "bom.csv", "--rejects", "fix.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(wd.read("bom.report.csv").starts_with("\u{feff}row;status;"));
    let fix = wd.read("fix.csv");
    assert!(
        fix.starts_with("\u{feff}nombre;teléfono;waport_error\r\nBob;55-12;"),
        "{fix}"
    );
    assert!(fix.ends_with("\r\n") && fix.lines().count() == 2, "{fix}");

    // --excel: BOM, `;` and CR LF whatever the input.
    let out = wd.run(&["validate", "plain.csv", "--excel", "--report", "x.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let excel = wd.read("x.csv");
    assert!(excel.starts_with("\u{feff}row;status;reason;"), "{excel}");
    assert!(excel.contains(";Bob;55-12\r\n"), "{excel}");
    let (head, rows) = wd.read_csv("x.csv");
    assert_eq!(head[0], "row");
    assert_eq!(rows.len(), 2);
}

#[test]
fn the_summary_gives_each_top_reason_a_line_with_an_example_row() {
    let wd = Workdir::new();
    wd.fixture("contacts_es.csv");
    let out = wd.run(&["validate", "contacts_es.csv"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    let (_, rows) = wd.read_csv("contacts_es.report.csv");
    // Each rejected row's reason code has its line, naming the first row
    // with that code.
    for r in rows.iter().filter(|r| r[1] == "invalid") {
        let code = r[2].split(':').next().unwrap();
        let first = rows
            .iter()
            .find(|x| x[2].split("; ").any(|p| p.split(':').next() == Some(code)))
            .unwrap();
        let n = rows
            .iter()
            .filter(|x| x[2].split("; ").any(|p| p.split(':').next() == Some(code)))
            .count();
        let unit = if n == 1 { "row" } else { "rows" };
        let line = format!("\n  {code}: {n} {unit} (e.g. row {})\n", first[0]);
        assert!(err.contains(&line), "{line:?} not in:\n{err}");
    }
}

/// A `waport.toml` with run settings only (keys come from the environment).
const PROFILE: &str = "[profiles.acme]\n\
                       default_region = \"ES\"\n\
                       mode = \"create\"\n\
                       max_invalid = \"1\"\n";

#[test]
fn a_profile_supplies_run_settings_and_flags_override_them() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("waport.toml", PROFILE);
    // National numbers with no country column: only a region reads them.
    wd.write(
        "nightly.csv",
        "name,phone\nAna,612 345 678\nBob,55 1234 5678\nEve,12\n",
    );
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "nightly.csv",
            "--to",
            "wazzup",
            "--profile",
            "acme",
            "--json",
        ],
    );
    // Spain's region reads Ana's number; Bob's and Eve's are invalid, one
    // more than max_invalid = 1 tolerates.
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(
        (j["created"].as_u64(), j["invalid"].as_u64()),
        (Some(1), Some(2)),
        "{j}"
    );
    let held = emu.contacts("wazzup");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["contactData"][0]["chatId"], "34612345678");

    // --default-region on the command line wins: Bob's Mexican number is
    // read, Ana's is not; and --max-invalid 2 beats the profile's 1.
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "nightly.csv",
            "--to",
            "wazzup",
            "--profile",
            "acme",
            "--default-region",
            "MX",
            "--max-invalid",
            "2",
            "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["created"], 1);
    assert!(
        emu.contacts("wazzup")
            .iter()
            .any(|c| c["contactData"][0]["chatId"] == "525512345678")
    );

    // The profile's mode = "create": a contact that exists is left alone.
    wd.write("again.csv", "name,phone\nAna Cambiada,612 345 678\n");
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "again.csv",
            "--to",
            "wazzup",
            "--profile",
            "acme",
            "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["exists"], 1, "create mode from the profile");
    // ... and --mode upsert on the command line updates it.
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "again.csv",
            "--to",
            "wazzup",
            "--profile",
            "acme",
            "--mode",
            "upsert",
            "--full",
            "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["updated"], 1, "{}", stderr(&out));
}

#[test]
fn a_mistyped_profile_setting_is_an_error_not_ignored() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("waport.toml", "[profiles.acme]\ndefault_regoin = \"ES\"\n");
    wd.write("n.csv", "name,phone\nAna,+34612345678\n");
    let out = wd.run_against(
        &emu,
        &["import", "n.csv", "--to", "wazzup", "--profile", "acme"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("default_regoin"), "{}", stderr(&out));
    assert!(emu.contacts("wazzup").is_empty());

    wd.write(
        "waport.toml",
        "[profiles.acme]\ndefault_region = \"Narnia\"\n",
    );
    let out = wd.run_against(
        &emu,
        &["import", "n.csv", "--to", "wazzup", "--profile", "acme"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("default_region in [profiles.acme]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_character_the_input_encoding_lacks_makes_the_rejects_file_utf8_with_a_bom() {
    // Every cell of a windows-1251 file fits windows-1251; the platform's
    // message may not: Whaapy answers "Email inválido" (á is no Cyrillic
    // code page letter) for an internationalised domain waport accepts.
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    let text = "Имя;Телефон;Почта\r\nПётр;+7 916 12;\r\nИван;+7 916 123 45 67;иван@почта.рф\r\nОльга;+7 916 765 43 21;olga@mail.ru\r\n";
    let (bytes, _, bad) = encoding_rs::WINDOWS_1251.encode(text);
    assert!(!bad);
    wd.write("r.csv", &bytes);
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "r.csv",
            "--to",
            "whaapy",
            "--rejects",
            "fix.csv",
            "--json",
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["created"], 1, "{j}");
    let note = j["rejects_encoding"].as_str().unwrap_or_default();
    assert!(note.contains("not windows-1251: row 3 holds \"á\""), "{j}");
    assert!(stderr(&out).contains("rejects: fix.csv (written as UTF-8 with a BOM"));

    // The whole file is UTF-8 now, the row written before the fall-back
    // (Пётр's, in windows-1251 at first) included.
    let fix = wd.read("fix.csv");
    let lines: Vec<&str> = fix.split_inclusive("\r\n").collect();
    assert_eq!(lines.len(), 3, "{fix}");
    assert_eq!(lines[0], "\u{feff}Имя;Телефон;Почта;waport_error\r\n");
    assert!(lines[1].starts_with("Пётр;'+7 916 12;;"), "{fix}");
    assert!(
        lines[2].starts_with("Иван;'+7 916 123 45 67;иван@почта.рф;platform_invalid")
            && lines[2].contains("inválido"),
        "{fix}"
    );
}
