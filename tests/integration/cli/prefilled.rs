//! Imports into accounts that already hold contacts waport did not make
//! (issue 13): the emulator starts from a `--state` file pre-filled the way
//! a CRM's own screens would leave it — the CRM's own ids, tags, `uri`,
//! chats on other channels, Mexican mobiles in the `+521` form, WapiFlow
//! mobiles with the trunk `0`, more than 500 Wipsy contacts.
//!
//! Per platform: create mode touches nothing that existed; an upsert
//! changes only mapped fields; re-imports (journal kept, `--full`, journal
//! deleted) leave one contact per person; a rollback deletes exactly what
//! the job created; with faults the account ends as a clean run leaves it.

use crate::cli::workdir::{Emulator, Workdir, code, json_of, stderr};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One platform's pre-filled account and the files imported into it.
struct Case {
    platform: &'static str,
    /// The emulator state (one platform's key of the `--state` file).
    state: Value,
    /// Rows: some match pre-filled contacts, the last ones are new.
    file: &'static str,
    /// How many of the file's rows are new to the account.
    new_rows: usize,
    /// The JSON pointer of a contact's phone (its digits identify a person).
    phone: &'static str,
}

fn wazzup() -> Case {
    Case {
        platform: "wazzup",
        state: json!({
            "users": {
                "emulator-user-1": {"id": "emulator-user-1", "name": "Emulator Manager"},
                "crm-user-2": {"id": "crm-user-2", "name": "Lucía Ventas"}
            },
            "contacts": {
                // Made in the CRM: its own id, another channel, a link.
                "crm-1001": {"id": "crm-1001", "responsibleUserId": "crm-user-2", "name": "Ana CRM",
                    "contactData": [{"chatType": "whatsapp", "chatId": "34612345678"},
                                    {"chatType": "telegram", "chatId": "ana_tg", "username": "ana_tg"}],
                    "uri": "https://crm.example/contacts/1001"},
                // Held under waport's own id, with a chat added in Wazzup.
                "waport-34611000002": {"id": "waport-34611000002", "responsibleUserId": "crm-user-2",
                    "name": "Beto", "contactData": [{"chatType": "whatsapp", "chatId": "34611000002"},
                                                    {"chatType": "instagram", "chatId": "beto.ig"}]},
                "crm-1003": {"id": "crm-1003", "responsibleUserId": "emulator-user-1", "name": "Not in the file",
                    "contactData": [{"chatType": "whatsapp", "chatId": "34611000009"}]}
            }
        }),
        file: "name,phone\nAna Nueva,+34612345678\nBeto Nuevo,+34611000002\nCarla,+34611000003\nDario,+34611000004\n",
        new_rows: 2,
        phone: "/contactData/0/chatId",
    }
}

fn whaapy() -> Case {
    let c = |id: &str, phone: &str, name: &str, tags: Value, country: &str, seq: u64| {
        json!({"id": id, "phone_number": phone, "name": name, "tags": tags, "country": country,
               "source": "manual", "created_at": "2026-01-01T00:00:00Z",
               "updated_at": "2026-01-01T00:00:00Z", "seq": seq})
    };
    Case {
        platform: "whaapy",
        state: json!({
            "contacts": {
                // Whaapy's own documented form of a Mexican mobile.
                "1": c("6b1f0c1e-0000-4000-8000-000000000001", "+5215512345678", "Juan CRM", json!(["vip"]), "MX", 1),
                "2": c("6b1f0c1e-0000-4000-8000-000000000002", "+34612345678", "Ana CRM", json!(["cliente"]), "ES", 2),
                "3": c("6b1f0c1e-0000-4000-8000-000000000003", "+34611000009", "Otra", json!([]), "ES", 3)
            },
            "next_seq": 4
        }),
        file: "name,phone,tags\nJuan Nuevo,+525512345678,nuevo\nAna Nueva,+34612345678,nuevo\nCarla,+34611000003,nuevo\nDario,+34611000004,\n",
        new_rows: 2,
        phone: "/phone_number",
    }
}

fn wapiflow() -> Case {
    let c = |id: u64, code: &str, mobile: &str, first: &str, last: &str| {
        json!({"id": id, "firstname": first, "lastname": last, "mobile_code": code, "mobile": mobile,
               "tags": [{"id": 7, "name": "vip"}], "lists": [],
               "created_at": "2026-01-01 00:00:00", "updated_at": "2026-01-01 00:00:00"})
    };
    Case {
        platform: "wapiflow",
        state: json!({
            "contacts": {
                // Entered with the trunk 0, as the documentation's example.
                "1": c(1, "880", "01712345678", "Rahim", "Crm"),
                "2": c(2, "34", "612345678", "Ana", "Crm"),
                "3": c(3, "34", "611000009", "Otra", "Persona")
            },
            "next_id": 4
        }),
        file: "first_name,last_name,phone\nRahim,Nuevo,+8801712345678\nAna,Nueva,+34612345678\nCarla,Ruiz,+34611000003\nDario,Gil,+34611000004\n",
        new_rows: 2,
        phone: "/mobile",
    }
}

fn wipsy() -> Case {
    // 510 contacts: more than one listing page (500); the file matches the
    // oldest, which is not among the newest 500.
    let mut contacts = serde_json::Map::new();
    for i in 1..=510u64 {
        contacts.insert(
            i.to_string(),
            json!({"id": format!("00000000-0000-4000-8000-{i:012}"), "name": format!("Persona {i}"),
                   "phone": format!("+34611{i:06}"), "company": "Acme",
                   "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "seq": i}),
        );
    }
    Case {
        platform: "wipsy",
        state: json!({"contacts": contacts, "next_seq": 511, "id_counter": 511}),
        file: "name,phone\nPrimera Nueva,+34611000001\nUltima Nueva,+34611000510\nCarla,+34622000003\nDario,+34622000004\n",
        new_rows: 2,
        phone: "/phone",
    }
}

fn cases() -> Vec<Case> {
    vec![wazzup(), whaapy(), wapiflow(), wipsy()]
}

/// Starts an emulator whose account holds `case.state`.
fn start(wd: &Workdir, case: &Case, extra: &[&str]) -> Emulator {
    let name = format!("{}-state-{}.json", case.platform, extra.len());
    let path = wd.write(&name, json!({case.platform: case.state}).to_string());
    let mut args = vec!["--state", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    Emulator::start(&args)
}

/// The account's contacts by id.
fn by_id(emu: &Emulator, platform: &str) -> BTreeMap<String, Value> {
    emu.contacts(platform)
        .into_iter()
        .map(|c| {
            let id = match &c["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (id, c)
        })
        .collect()
}

/// Digits of each contact's phone, in the platform's stored form, sorted.
fn phones(emu: &Emulator, case: &Case) -> Vec<String> {
    let mut v: Vec<String> = emu
        .contacts(case.platform)
        .iter()
        .map(|c| {
            let p = c.pointer(case.phone).and_then(Value::as_str).unwrap_or("");
            let d: String = p.chars().filter(char::is_ascii_digit).collect();
            let code = c["mobile_code"].as_str().unwrap_or("");
            format!("{code}{d}")
        })
        .collect();
    v.sort();
    v
}

/// One contact per person: no two contacts share a number, counting the
/// forms an account may store one number in (`+521…`, trunk `0`).
fn assert_one_per_person(emu: &Emulator, case: &Case, expected: usize, when: &str) {
    let p = phones(emu, case);
    let mut people: Vec<String> = p
        .iter()
        .map(|d| {
            let d = d
                .strip_prefix("521")
                .map_or(d.clone(), |r| format!("52{r}"));
            d.strip_prefix("8800")
                .map_or(d.clone(), |r| format!("880{r}"))
        })
        .collect();
    people.sort();
    people.dedup();
    assert_eq!(p.len(), expected, "{} {when}: {p:?}", case.platform);
    assert_eq!(
        people.len(),
        expected,
        "{} {when}: twins in {p:?}",
        case.platform
    );
}

fn import(wd: &Workdir, emu: &Emulator, case: &Case, extra: &[&str]) -> Value {
    let mut args = vec![
        "import",
        "f.csv",
        "--to",
        case.platform,
        "--json",
        "--rate",
        "1000",
    ];
    args.extend_from_slice(extra);
    let out = wd.run_against(emu, &args);
    assert!(
        [0, 3].contains(&code(&out)),
        "{}: {}",
        case.platform,
        stderr(&out)
    );
    json_of(&out)
}

#[test]
fn create_mode_touches_nothing_that_existed() {
    for case in cases() {
        let wd = Workdir::new();
        wd.write("f.csv", case.file);
        let emu = start(&wd, &case, &[]);
        let before = by_id(&emu, case.platform);
        let j = import(&wd, &emu, &case, &["--mode", "create"]);
        let rows = case.file.lines().count() - 1;
        assert_eq!(j["created"], case.new_rows, "{}: {j}", case.platform);
        assert_eq!(j["exists"], rows - case.new_rows, "{}: {j}", case.platform);
        let after = by_id(&emu, case.platform);
        for (id, c) in &before {
            assert_eq!(after.get(id), Some(c), "{}: {id} untouched", case.platform);
        }
        assert_eq!(
            after.len(),
            before.len() + case.new_rows,
            "{}",
            case.platform
        );
        assert_one_per_person(&emu, &case, before.len() + case.new_rows, "after create");
    }
}

#[test]
fn upsert_changes_only_mapped_fields() {
    for case in cases() {
        let wd = Workdir::new();
        wd.write("f.csv", case.file);
        let emu = start(&wd, &case, &[]);
        let before = by_id(&emu, case.platform);
        let j = import(&wd, &emu, &case, &[]);
        let rows = case.file.lines().count() - 1;
        assert_eq!(j["created"], case.new_rows, "{}: {j}", case.platform);
        assert_eq!(j["updated"], rows - case.new_rows, "{}: {j}", case.platform);
        let after = by_id(&emu, case.platform);
        assert_eq!(
            after.len(),
            before.len() + case.new_rows,
            "{}",
            case.platform
        );
        match case.platform {
            "wazzup" => {
                let ana = &after["crm-1001"];
                assert_eq!(ana["name"], "Ana Nueva");
                let mut kept = before["crm-1001"].clone();
                kept["name"] = json!("Ana Nueva");
                assert_eq!(ana, &kept, "chats, uri and responsible user survive");
                let beto = &after["waport-34611000002"];
                assert_eq!(
                    beto["contactData"],
                    before["waport-34611000002"]["contactData"]
                );
                assert_eq!(after["crm-1003"], before["crm-1003"]);
            }
            "whaapy" => {
                let juan = &after["6b1f0c1e-0000-4000-8000-000000000001"];
                assert_eq!(juan["phone_number"], "+5215512345678", "no twin, form kept");
                assert_eq!(juan["name"], "Juan Nuevo");
                assert_eq!(
                    juan["tags"],
                    json!(["vip", "nuevo"]),
                    "tags added, none lost"
                );
                assert_eq!(juan["country"], "MX");
                let carla = after
                    .values()
                    .find(|c| c["phone_number"] == "+34611000003")
                    .expect("Carla created");
                assert_eq!(carla["country"], "ES", "country from the phone, not MX");
            }
            "wapiflow" => {
                let rahim = &after["1"];
                assert_eq!(rahim["mobile"], "01712345678", "stored form kept");
                assert_eq!(rahim["lastname"], "Nuevo");
                assert_eq!(rahim["tags"], before["1"]["tags"]);
            }
            "wipsy" => {
                let first = &after["00000000-0000-4000-8000-000000000001"];
                // Wipsy keeps first and last name apart (seed 000).
                assert_eq!(first["name"], "Primera");
                assert_eq!(first["last_name"], "Nueva");
                assert_eq!(first["company"], "Acme", "unmapped field kept");
            }
            _ => unreachable!(),
        }
        assert_one_per_person(&emu, &case, before.len() + case.new_rows, "after upsert");
    }
}

#[test]
fn reimports_leave_one_contact_per_person() {
    for case in cases() {
        let wd = Workdir::new();
        wd.write("f.csv", case.file);
        let emu = start(&wd, &case, &[]);
        let n = by_id(&emu, case.platform).len() + case.new_rows;
        import(&wd, &emu, &case, &[]);
        assert_one_per_person(&emu, &case, n, "first import");
        let j = import(&wd, &emu, &case, &[]);
        assert_eq!(
            j["created"], 0,
            "{}: re-run writes nothing new: {j}",
            case.platform
        );
        assert_one_per_person(&emu, &case, n, "re-import");
        let j = import(&wd, &emu, &case, &["--full"]);
        assert_eq!(j["created"], 0, "{}: --full: {j}", case.platform);
        assert_one_per_person(&emu, &case, n, "--full re-import");
        std::fs::remove_file(wd.path("journal.sqlite")).expect("journal deleted");
        let j = import(&wd, &emu, &case, &[]);
        assert_eq!(j["created"], 0, "{}: no journal: {j}", case.platform);
        assert_one_per_person(&emu, &case, n, "re-import without the journal");
    }
}

#[test]
fn rollback_deletes_exactly_what_the_job_created() {
    for case in cases().into_iter().filter(|c| c.platform != "wipsy") {
        let wd = Workdir::new();
        wd.write("f.csv", case.file);
        let emu = start(&wd, &case, &[]);
        let before = by_id(&emu, case.platform);
        let j = import(&wd, &emu, &case, &[]);
        let job = j["job"].as_str().expect("job id").to_string();
        let out = wd.run_against(&emu, &["rollback", &job, "--json"]);
        assert_eq!(code(&out), 0, "{}: {}", case.platform, stderr(&out));
        assert_eq!(json_of(&out)["deleted"], case.new_rows, "{}", case.platform);
        let after = by_id(&emu, case.platform);
        let kept: Vec<&String> = after.keys().collect();
        let had: Vec<&String> = before.keys().collect();
        assert_eq!(
            kept, had,
            "{}: every contact it had, none it made",
            case.platform
        );
    }
}

/// A contact without what differs between runs (generated ids, times).
fn comparable(c: &Value) -> Value {
    let mut c = c.clone();
    if let Some(o) = c.as_object_mut() {
        for k in ["id", "created_at", "updated_at", "seq", "last_contact_at"] {
            o.remove(k);
        }
    }
    c
}

/// The case's file plus `n` new people, so a faulty run meets faults.
fn with_more_rows(case: &Case, n: usize) -> String {
    let mut f = case.file.to_string();
    let header = case.file.lines().next().unwrap_or("");
    for i in 0..n {
        let phone = format!("+34633{i:06}");
        f.push_str(&match header {
            "first_name,last_name,phone" => format!("Nombre,Apellido {i},{phone}\n"),
            "name,phone,tags" => format!("Nombre {i},{phone},nuevo\n"),
            _ => format!("Nombre {i},{phone}\n"),
        });
    }
    f
}

#[test]
fn faults_end_where_a_clean_run_ends() {
    for case in cases() {
        let wd = Workdir::new();
        wd.write("f.csv", with_more_rows(&case, 30));
        let clean = start(&wd, &case, &[]);
        import(&wd, &clean, &case, &[]);
        let faulty = start(
            &wd,
            &case,
            &[
                "--fault-rate",
                "0.2",
                "--seed",
                "5",
                "--fault-delay-ms",
                "3000",
            ],
        );
        let out = wd.run_against(
            &faulty,
            &[
                "import",
                "f.csv",
                "--to",
                case.platform,
                "--json",
                "--rate",
                "1000",
                "--timeout",
                "2",
                "--max-attempts",
                "12",
                "--journal",
                "faulty.sqlite",
                "--batch-size",
                "5",
            ],
        );
        assert_eq!(code(&out), 0, "{}: {}", case.platform, stderr(&out));
        let j = json_of(&out);
        assert!(
            j["retries"].as_u64().unwrap_or(0) > 0,
            "{}: faults were met: {j}",
            case.platform
        );
        let sorted = |emu: &Emulator| {
            let mut v: Vec<String> = emu
                .contacts(case.platform)
                .iter()
                .map(|c| comparable(c).to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&clean), sorted(&faulty), "{}", case.platform);
    }
}

#[test]
fn update_mode_changes_existing_contacts_and_skips_the_rest() {
    for case in cases() {
        let wd = Workdir::new();
        wd.write("f.csv", case.file);
        let emu = start(&wd, &case, &[]);
        let before = by_id(&emu, case.platform);
        let out = wd.run_against(
            &emu,
            &[
                "import",
                "f.csv",
                "--to",
                case.platform,
                "--json",
                "--rate",
                "1000",
                "--mode",
                "update",
            ],
        );
        assert_eq!(
            code(&out),
            3,
            "{}: skipped rows exit 3: {}",
            case.platform,
            stderr(&out)
        );
        let j = json_of(&out);
        let rows = case.file.lines().count() - 1;
        assert_eq!(j["updated"], rows - case.new_rows, "{}: {j}", case.platform);
        assert_eq!(j["skipped"], case.new_rows, "{}: {j}", case.platform);
        assert_eq!(j["created"], 0, "{}: {j}", case.platform);
        assert_eq!(
            j["reasons"]["not_found"], case.new_rows,
            "{}: {j}",
            case.platform
        );
        assert_eq!(
            by_id(&emu, case.platform).len(),
            before.len(),
            "{}",
            case.platform
        );
    }
}

#[test]
fn rows_without_a_phone_need_an_identity() {
    let case = wipsy();
    let wd = Workdir::new();
    wd.write(
        "f.csv",
        "name,email,phone\nSolo Correo,solo@example.com,\nSin Nada,,\nCon Tel,,+34622000009\n",
    );
    let emu = start(&wd, &case, &[]);
    let n = by_id(&emu, "wipsy").len();
    let out = wd.run_against(
        &emu,
        &[
            "import", "f.csv", "--to", "wipsy", "--json", "--rate", "1000",
        ],
    );
    let j = json_of(&out);
    assert_eq!(j["invalid"], 2, "{j}");
    assert_eq!(j["reasons"]["no_identity"], 2, "{j}");
    assert_eq!(by_id(&emu, "wipsy").len(), n + 1);
    // Allowed: matched by e-mail, so a re-run (even without the journal)
    // finds it instead of creating it again.
    for _ in 0..2 {
        let out = wd.run_against(
            &emu,
            &[
                "import",
                "f.csv",
                "--to",
                "wipsy",
                "--json",
                "--rate",
                "1000",
                "--allow-without-phone",
            ],
        );
        let j = json_of(&out);
        assert_eq!(j["invalid"], 1, "a row with neither stays out: {j}");
        std::fs::remove_file(wd.path("journal.sqlite")).expect("journal deleted");
    }
    assert_eq!(
        by_id(&emu, "wipsy").len(),
        n + 2,
        "one contact for the e-mail row"
    );
}

#[test]
fn wipsy_rows_it_cannot_check_are_not_created_and_the_run_says_so() {
    // The listing as documented: the newest 500, `offset` ignored. The
    // account's oldest ten contacts are out of sight.
    let case = wipsy();
    let wd = Workdir::new();
    wd.write("f.csv", case.file);
    let emu = start(&wd, &case, &["--wipsy-no-offset"]);
    let out = wd.run_against(
        &emu,
        &[
            "import", "f.csv", "--to", "wipsy", "--json", "--rate", "1000",
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    // Row 3 (the newest contact) is found and updated; row 2 (the oldest)
    // and the two new people cannot be told apart from hidden contacts.
    assert_eq!(j["updated"], 1, "{j}");
    assert_eq!(j["created"], 0, "{j}");
    assert_eq!(j["skipped"], 3, "{j}");
    assert_eq!(j["reasons"]["unchecked"], 3, "{j}");
    let notes = j["notes"].to_string();
    assert!(notes.contains("rows 2, 4, 5"), "{notes}");
    assert!(
        stderr(&out).contains("note: Wipsy shows at most 500"),
        "{}",
        stderr(&out)
    );
    assert_eq!(by_id(&emu, "wipsy").len(), 510, "nothing doubled");
}
