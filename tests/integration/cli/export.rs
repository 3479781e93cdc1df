//! `waport export` end to end against the emulator: each platform's paging,
//! faults while reading, the three formats, and re-import of an export.

use crate::cli::workdir::{Emulator, Workdir, code, json_of, stderr, stdout};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// `n` distinct valid contacts with both names, a Mexican mobile, an
/// e-mail, a company and a city.
pub fn people(n: usize, start: u64) -> String {
    let mut s = String::from("first_name,last_name,phone,email,company,city\n");
    for i in start..start + n as u64 {
        s.push_str(&format!(
            "Cliente{i},Prueba{i},+52 55 {:04} {:04},c{i}@ejemplo.mx,Empresa {},CDMX\n",
            i / 10_000 % 10_000 + 1000,
            i % 10_000,
            i % 7
        ));
    }
    s
}

/// The `waport.toml` giving the emulator's Wipsy tag and custom-field ids
/// names (`empresa` is the field the emulator's catalog calls `company`).
pub fn wipsy_config() -> String {
    format!(
        "[wipsy.tags]\ncliente = \"{}\"\npremium = \"{}\"\n[wipsy.fields]\nempresa = \"{}\"\ncompany = \"{}\"\n",
        waport::emulator::DEFAULT_WIPSY_TAG_CLIENTE,
        waport::emulator::DEFAULT_WIPSY_TAG_PREMIUM,
        waport::emulator::DEFAULT_WIPSY_FIELD_COMPANY,
        waport::emulator::DEFAULT_WIPSY_FIELD_COMPANY,
    )
}

/// (id, E.164 phone) of a contact as the emulator stores it.
pub fn held_key(platform: &str, c: &Value) -> (String, String) {
    let id = match &c["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let phone = match platform {
        "wazzup" => format!("+{}", text(&c["contactData"][0]["chatId"])),
        "whaapy" => text(&c["phone_number"]),
        "wipsy" => text(&c["phone"]),
        "wapiflow" => format!("+{}{}", text(&c["mobile_code"]), text(&c["mobile"])),
        _ => unreachable!(),
    };
    (id, phone)
}

/// Every (id, phone) the emulator holds for `platform`.
pub fn held(emu_contacts: &[Value], platform: &str) -> BTreeSet<(String, String)> {
    emu_contacts.iter().map(|c| held_key(platform, c)).collect()
}

/// Column `name` of every row of a CSV read with [`Workdir::read_csv`].
pub fn column(head: &[String], rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = head
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {head:?}"));
    rows.iter().map(|r| r[i].clone()).collect()
}

/// The first seed whose fault plan (rate 0.1) fails one of the first three
/// requests: every listing here makes at least three, so the export is
/// sure to meet a fault.
pub fn seed_failing_early() -> String {
    (1u64..)
        .find(|s| {
            let plan = waport::emulator::faults::FaultPlan::new(*s, 0.1);
            (0..3).any(|n| plan.choose(n).is_some())
        })
        .unwrap()
        .to_string()
}

/// An emulator that saves its state file on SIGTERM, used to fill a state
/// that a faulty emulator then loads: reads can meet faults without the
/// filling import having to fight them too.
pub struct Filler {
    emu: Emulator,
}

impl Filler {
    pub fn start(state: &std::path::Path) -> Filler {
        let state = state.to_str().expect("UTF-8 temp path");
        Filler {
            emu: Emulator::start(&["--state", state]),
        }
    }

    /// Imports `file` into `platform` quickly; every row must be created.
    pub fn import(&self, wd: &Workdir, file: &str, platform: &str, extra: &[&str]) {
        let mut args = vec!["import", file, "--to", platform, "--quiet", "--rate", "300"];
        args.extend_from_slice(extra);
        let out = wd.run_against(&self.emu, &args);
        assert_eq!(code(&out), 0, "fill {platform}: {}", stderr(&out));
    }

    #[cfg(unix)]
    /// Stops the emulator so that it saves its state file.
    pub fn stop(self) {
        self.emu.terminate();
    }
}

/// Exports `platform` from `emu` to `file` and checks the file holds exactly
/// what the emulator holds: same ids and phones, no row twice.
fn export_matches(
    wd: &Workdir,
    emu: &Emulator,
    platform: &str,
    file: &str,
    extra: &[&str],
) -> Value {
    let mut args = vec!["export", "--from", platform, "--output", file, "--json"];
    args.extend_from_slice(extra);
    let out = wd.run_against(emu, &args);
    assert_eq!(code(&out), 0, "export {platform}: {}", stderr(&out));
    let j = json_of(&out);
    let held_now = emu.contacts(platform);
    let (head, rows) = wd.read_csv(file);
    let ids = column(&head, &rows, "id");
    let phones = column(&head, &rows, "phone");
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{platform}: an id written twice");
    assert_eq!(rows.len(), held_now.len(), "{platform}: row count");
    let exported: BTreeSet<(String, String)> = ids.into_iter().zip(phones).collect();
    assert_eq!(
        exported,
        held(&held_now, platform),
        "{platform}: the file holds exactly what the platform holds"
    );
    assert_eq!(j["rows"].as_u64().unwrap() as usize, held_now.len(), "{j}");
    j
}

// Needs Filler::stop (SIGTERM).
#[cfg(unix)]
#[test]
fn every_platform_exports_exactly_what_it_holds_with_faults_on_reads() {
    // Three pages at least on each platform: Wazzup offset pages of 100,
    // Whaapy cursor pages of 100, WapiFlow's Laravel paginator of 100,
    // Wipsy pages of 500.
    let sizes = [
        ("wazzup", 250usize),
        ("whaapy", 230),
        ("wapiflow", 210),
        ("wipsy", 1050),
    ];
    let wd = Workdir::new();
    let state = wd.path("state.json");
    let filler = Filler::start(&state);
    for (i, (platform, n)) in sizes.iter().enumerate() {
        let name = format!("{platform}.csv");
        wd.write(&name, people(*n, 10_000 * i as u64));
        filler.import(&wd, &name, platform, &["--concurrency", "8"]);
    }
    filler.stop();
    let seed = seed_failing_early();
    for (platform, n) in sizes {
        let emu = Emulator::start(&[
            "--state",
            state.to_str().unwrap(),
            "--fault-rate",
            "0.1",
            "--seed",
            &seed,
            "--fault-delay-ms",
            "1500",
        ]);
        assert_eq!(emu.contacts(platform).len(), n, "{platform} loaded");
        let file = format!("{platform}-out.csv");
        let j = export_matches(
            &wd,
            &emu,
            platform,
            &file,
            &["--timeout", "1", "--max-attempts", "8"],
        );
        assert!(j["pages"].as_u64().unwrap() >= 3, "{platform} paged: {j}");
        assert!(
            emu.stats()[platform]["faults"].as_u64().unwrap() > 0,
            "{platform}: faults were injected: {}",
            emu.stats()
        );
        assert!(j["retries"].as_u64().unwrap() > 0, "{platform}: {j}");
    }
}

#[test]
fn csv_has_canonical_columns_then_custom_fields_and_guards_formulas() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write(
        "in.csv",
        "first_name,last_name,phone,email,company,city,country,notes,address,tags,custom:score\n\
         Ana,Ruiz,+52 55 1234 5678,ana@x.mx,@Acme,CDMX,MX,=SUM(A1:A2),-3 piso,vip;nuevo,10\n\
         Bob,Smith,+34 612 345 678,bob@x.es,Acme,Madrid,ES,normal,Calle 1,,\n",
    );
    let out = wd.run_against(&emu, &["import", "in.csv", "--to", "whaapy", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = wd.run_against(&emu, &["export", "--from", "whaapy", "-o", "all.csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exported 2 contacts from whaapy"),
        "{}",
        stderr(&out)
    );
    let (head, rows) = wd.read_csv("all.csv");
    assert_eq!(
        head,
        [
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
            "score"
        ]
    );
    let ana: BTreeMap<&str, &str> = head
        .iter()
        .map(String::as_str)
        .zip(
            rows.iter()
                .find(|r| r.contains(&"ana@x.mx".to_string()))
                .unwrap()
                .iter()
                .map(String::as_str),
        )
        .collect();
    // A whole E.164 phone starts with `+` but is not a formula.
    assert_eq!(ana["phone"], "+525512345678");
    assert_eq!(ana["company"], "'@Acme");
    assert_eq!(ana["notes"], "'=SUM(A1:A2)");
    assert_eq!(ana["address"], "'-3 piso");
    let tags: BTreeSet<&str> = ana["tags"].split(';').collect();
    assert_eq!(tags, BTreeSet::from(["vip", "nuevo"]));
    assert_eq!(ana["score"], "10");
    assert_eq!(ana["first_name"], "Ana");
    assert_eq!(ana["last_name"], "Ruiz");
    assert!(!ana["created_at"].is_empty());
    let id_of_ana = emu
        .contacts("whaapy")
        .into_iter()
        .find(|c| c["email"] == "ana@x.mx")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ana["id"], id_of_ana);

    // --columns selects and orders.
    let out = wd.run_against(
        &emu,
        &[
            "export",
            "--from",
            "whaapy",
            "-o",
            "some.csv",
            "--columns",
            "phone,name,score",
            "--quiet",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "--quiet: {}", stderr(&out));
    let (head, rows) = wd.read_csv("some.csv");
    assert_eq!(head, ["phone", "name", "score"]);
    let mut got: Vec<Vec<String>> = rows;
    got.sort();
    assert_eq!(
        got,
        [
            vec!["+34612345678".to_string(), "Bob Smith".into(), "".into()],
            vec!["+525512345678".to_string(), "Ana Ruiz".into(), "10".into()],
        ]
    );
    let out = wd.run_against(
        &emu,
        &[
            "export",
            "--from",
            "whaapy",
            "-o",
            "bad.csv",
            "--columns",
            "phone,nope",
        ],
    );
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));

    // --excel: BOM and `;` for Spanish-locale Excel.
    let out = wd.run_against(
        &emu,
        &[
            "export",
            "--from",
            "whaapy",
            "-o",
            "excel.csv",
            "--excel",
            "--columns",
            "name,phone,city",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bytes = std::fs::read(wd.path("excel.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.remove(0), "name;phone;city");
    lines.sort();
    assert_eq!(
        lines,
        [
            "Ana Ruiz;+525512345678;CDMX",
            "Bob Smith;+34612345678;Madrid"
        ]
    );
}

#[test]
fn xlsx_reads_back_with_calamine_phones_as_text_and_dates_as_dates() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("in.csv", people(120, 500));
    let out = wd.run_against(
        &emu,
        &[
            "import", "in.csv", "--to", "whaapy", "--quiet", "--rate", "300",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = wd.run_against(
        &emu,
        &["export", "--from", "whaapy", "-o", "c.xlsx", "--json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["format"], "xlsx");
    let mut wb: Xlsx<_> = open_workbook(wd.path("c.xlsx")).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let mut rows = range.rows();
    let head: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(head[0], "id");
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (id, phone, created) = (col("id"), col("phone"), col("created_at"));
    let held = held(&emu.contacts("whaapy"), "whaapy");
    let mut got = BTreeSet::new();
    for r in rows {
        let (Data::String(i), Data::String(p)) = (&r[id], &r[phone]) else {
            panic!("id and phone are text cells: {:?} {:?}", r[id], r[phone]);
        };
        assert!(
            matches!(r[created], Data::DateTime(_)),
            "created_at is a date cell: {:?}",
            r[created]
        );
        got.insert((i.clone(), p.clone()));
    }
    assert_eq!(got.len(), 120);
    assert_eq!(got, held);
}

#[test]
fn jsonl_keeps_the_platform_fields_one_object_a_line() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("in.csv", people(130, 900));
    let out = wd.run_against(
        &emu,
        &[
            "import", "in.csv", "--to", "wapiflow", "--quiet", "--rate", "300",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = wd.run_against(&emu, &["export", "--from", "wapiflow", "-o", "c.jsonl"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<Value> = wd
        .read("c.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 130);
    // WapiFlow's own names: firstname, mobile_code, mobile.
    for l in &lines {
        assert!(l.is_object());
        for k in ["firstname", "lastname", "mobile_code", "mobile"] {
            assert!(l.get(k).is_some(), "{k} kept in {l}");
        }
    }
    let got: BTreeSet<(String, String)> = lines.iter().map(|l| held_key("wapiflow", l)).collect();
    assert_eq!(got, held(&emu.contacts("wapiflow"), "wapiflow"));

    // --format decides over the extension; `-` is standard output.
    let out = wd.run_against(
        &emu,
        &[
            "export", "--from", "wapiflow", "-o", "-", "--format", "jsonl", "--quiet",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 130);
    // An extension that names no format, without --format, is refused
    // before anything is read.
    let out = wd.run_against(&emu, &["export", "--from", "wapiflow", "-o", "c.txt"]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("--format"), "{}", stderr(&out));
    assert!(!wd.path("c.txt").exists());
}

#[test]
fn exported_csv_reimports_to_the_same_platform_without_changes() {
    for (platform, n) in [
        ("wazzup", 120),
        ("whaapy", 60),
        ("wapiflow", 60),
        ("wipsy", 60),
    ] {
        let wd = Workdir::new();
        let emu = Emulator::start(&[]);
        wd.write("waport.toml", wipsy_config());
        let mut file = people(n, 3000);
        if platform == "wipsy" {
            // Tags and a custom field, both given by name through waport.toml.
            file = file.replace(
                "first_name,last_name,phone,email,company,city",
                "first_name,last_name,phone,email,company,city,tags,custom:empresa",
            );
            file = file
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        l.to_string()
                    } else {
                        format!("{l},cliente,E{i}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
        wd.write("in.csv", &file);
        let cfg = ["--config", "waport.toml"];
        let mut args = vec![
            "import", "in.csv", "--to", platform, "--quiet", "--rate", "300",
        ];
        args.extend_from_slice(&cfg);
        let out = wd.run_against(&emu, &args);
        assert_eq!(code(&out), 0, "{platform}: {}", stderr(&out));
        let before = emu.contacts(platform);
        assert_eq!(before.len(), n);
        let out = wd.run_against(
            &emu,
            &["export", "--from", platform, "-o", "exp.csv", "--quiet"],
        );
        assert_eq!(code(&out), 0, "{platform}: {}", stderr(&out));
        if platform == "wipsy" {
            // Custom fields by their catalog name, never by id.
            let (head, rows) = wd.read_csv("exp.csv");
            assert!(head.iter().any(|h| h == "custom:company"), "{head:?}");
            assert!(
                !head
                    .iter()
                    .any(|h| h.contains(waport::emulator::DEFAULT_WIPSY_FIELD_COMPANY)),
                "{head:?}"
            );
            assert!(column(&head, &rows, "tags").iter().all(|t| t == "cliente"));
        }
        for full in [false, true] {
            let mut args = vec![
                "import", "exp.csv", "--to", platform, "--json", "--rate", "300",
            ];
            args.extend_from_slice(&cfg);
            if full {
                args.push("--full");
            }
            let out = wd.run_against(&emu, &args);
            assert_eq!(code(&out), 0, "{platform} full={full}: {}", stderr(&out));
            let j = json_of(&out);
            assert_eq!(j["rows"], n as u64, "{platform}: {j}");
            // Wazzup's upsert answer does not say whether a contact was
            // new, so its adapter reports every sent contact `created`;
            // the emulator's state below is what proves nothing changed.
            let kinds: &[&str] = if platform == "wazzup" {
                &["created", "unchanged", "updated", "exists"]
            } else {
                assert_eq!(
                    j["created"], 0,
                    "{platform} full={full}: nothing created: {j}"
                );
                &["unchanged", "updated", "exists"]
            };
            let same = kinds.iter().map(|k| j[k].as_u64().unwrap()).sum::<u64>();
            assert_eq!(same, n as u64, "{platform} full={full}: {j}");
            let after = emu.contacts(platform);
            assert_eq!(after.len(), n, "{platform} full={full}: no doubles");
            assert_eq!(held(&after, platform), held(&before, platform));
            let names = |cs: &[Value]| -> BTreeSet<String> {
                cs.iter()
                    .map(|c| {
                        ["name", "firstname", "lastname", "last_name"]
                            .iter()
                            .map(|k| c[k].as_str().unwrap_or("").to_string())
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .collect()
            };
            assert_eq!(names(&after), names(&before), "{platform}: names unchanged");
        }
    }
}

#[test]
fn wazzup_users_export_and_other_platforms_refuse_users() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    let out = wd.run_against(
        &emu,
        &[
            "export",
            "--from",
            "wazzup",
            "--entity",
            "users",
            "-o",
            "users.csv",
            "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["entity"], "users");
    let users = match emu.get("/_emulator/wazzup/users") {
        Value::Array(a) => a,
        other => panic!("{other}"),
    };
    assert!(!users.is_empty());
    let (head, rows) = wd.read_csv("users.csv");
    let ids: BTreeSet<String> = column(&head, &rows, "id").into_iter().collect();
    let want: BTreeSet<String> = users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, want);
    assert_eq!(rows.len(), users.len());
    let names: BTreeSet<String> = column(&head, &rows, "name").into_iter().collect();
    for u in &users {
        assert!(names.contains(u["name"].as_str().unwrap()), "{u}");
    }

    let out = wd.run_against(
        &emu,
        &[
            "export", "--from", "whaapy", "--entity", "users", "-o", "u.csv",
        ],
    );
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("users"), "{}", stderr(&out));
}

// Needs Filler::stop (SIGTERM).
#[cfg(unix)]
#[test]
fn rate_limited_reads_are_waited_out_and_nothing_is_missed() {
    let wd = Workdir::new();
    let state = wd.path("state.json");
    let filler = Filler::start(&state);
    wd.write("w.csv", people(350, 60_000));
    filler.import(&wd, "w.csv", "whaapy", &[]);
    filler.stop();
    let emu = Emulator::start(&["--state", state.to_str().unwrap(), "--rate-limit", "1"]);
    // Four pages asked for at 50/s from an account allowed one a second.
    let j = export_matches(&wd, &emu, "whaapy", "w-out.csv", &["--rate", "50"]);
    assert_eq!(j["pages"], 4, "{j}");
    assert!(
        emu.stats()["whaapy"]["rate_limited"].as_u64().unwrap() > 0,
        "the emulator answered 429: {}",
        emu.stats()
    );
}
