//! `waport import` end to end against the emulator on a random port.

use crate::cli::workdir::{Emulator, Workdir, code, json_of, stderr, stdout};
use serde_json::Value;
use std::collections::BTreeSet;

fn contacts_file(n: usize, start: u64) -> String {
    let mut s = String::from("Nombre,Apellido,Teléfono,Correo\n");
    for i in 0..n as u64 {
        s.push_str(&format!(
            "Cliente{},Prueba,+52 55 {:04} {:04},c{}@ejemplo.mx\n",
            start + i,
            (start + i) / 10_000 % 10_000 + 1000,
            (start + i) % 10_000,
            start + i
        ));
    }
    s
}

fn phones(contacts: &[Value], pointer: &str) -> BTreeSet<String> {
    contacts
        .iter()
        .map(|c| {
            c.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{pointer} missing in {c}"))
                .to_string()
        })
        .collect()
}

#[test]
fn sandbox_runs_the_whole_pipeline_without_an_account() {
    let wd = Workdir::new();
    let fixture = wd.fixture("contacts_es.csv");
    let out = wd.run(&[
        "import",
        fixture.to_str().unwrap(),
        "--to",
        "wazzup",
        "--sandbox",
        "--json",
    ]);
    // The fixture has an incomplete phone and a mistyped e-mail on purpose.
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("listening on http://127.0.0.1:"), "{err}");
    assert!(err.contains("now holds 11 wazzup contact"), "{err}");
    let j = json_of(&out);
    assert_eq!(j["rows"], 14);
    assert_eq!(j["created"], 11);
    assert_eq!(j["invalid"], 2);
    assert_eq!(j["duplicate"], 1);
    for k in [
        "updated",
        "unchanged",
        "exists",
        "failed",
        "skipped",
        "requests",
        "retries",
        "rate_limited",
        "elapsed_s",
    ] {
        assert!(j.get(k).is_some(), "{k} missing from {j}");
    }
}

#[test]
fn wazzup_import_creates_exactly_the_valid_contacts_and_reimport_doubles_nothing() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    let mut file = contacts_file(150, 0);
    file.push_str("Malo,Número,55-12,x@ejemplo.mx\n");
    file.push_str("Repetido,Dos,+52 55 1000 0003,r@ejemplo.mx\n");
    wd.write("c.csv", &file);
    let out = wd.run_against(&emu, &["import", "c.csv", "--to", "wazzup", "--json"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["created"], 150, "{j}");
    assert_eq!(j["invalid"], 1);
    assert_eq!(j["duplicate"], 1);
    assert!(
        j["requests"].as_u64().unwrap() >= 2,
        "150 contacts need two requests of ≤100: {j}"
    );
    let held = emu.contacts("wazzup");
    assert_eq!(held.len(), 150);
    let chat_ids = phones(&held, "/contactData/0/chatId");
    assert!(
        chat_ids.contains("525510000003"),
        "chatId is the digits without +"
    );
    let one = held
        .iter()
        .find(|c| c["contactData"][0]["chatId"] == "525510000003")
        .unwrap();
    assert_eq!(one["name"], "Cliente3 Prueba");
    assert_eq!(one["contactData"][0]["chatType"], "whatsapp");

    // The report: every row once, with the remote id of created rows.
    let (head, rows) = wd.read_csv("c.report.csv");
    assert_eq!(head[7], "remote_id");
    assert_eq!(rows.len(), 152);
    assert!(
        rows.iter()
            .filter(|r| r[1] == "created")
            .all(|r| !r[7].is_empty())
    );

    // Nightly re-run of the same file: nothing sent, nothing doubled.
    let out = wd.run_against(&emu, &["import", "c.csv", "--to", "wazzup", "--json"]);
    let j = json_of(&out);
    assert_eq!(j["unchanged"], 150, "{j}");
    assert_eq!(
        j["requests"], 0,
        "an unchanged file makes no API calls: {j}"
    );
    assert_eq!(emu.contacts("wazzup").len(), 150);

    // --full sends everything again: Wazzup upserts by the deterministic id.
    let out = wd.run_against(
        &emu,
        &["import", "c.csv", "--to", "wazzup", "--json", "--full"],
    );
    let j = json_of(&out);
    assert_eq!(
        j["created"].as_u64().unwrap() + j["updated"].as_u64().unwrap(),
        150,
        "{j}"
    );
    assert_eq!(emu.contacts("wazzup").len(), 150);
}

#[test]
fn whaapy_duplicates_are_exists_in_create_mode_and_updated_in_upsert_mode() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write(
        "a.csv",
        "name,phone,email\nAna,+525512345678,ana@x.mx\nBob,+34612345678,bob@x.es\n",
    );
    let out = wd.run_against(&emu, &["import", "a.csv", "--to", "whaapy", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["created"], 2);
    wd.write(
        "b.csv",
        "name,phone,email\nAna María,+52 55 1234 5678,ana@x.mx\n",
    );
    let out = wd.run_against(
        &emu,
        &[
            "import", "b.csv", "--to", "whaapy", "--json", "--mode", "create",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["exists"], 1);
    let ana = |emu: &Emulator| {
        emu.contacts("whaapy")
            .into_iter()
            .find(|c| c["phone_number"] == "+525512345678")
            .unwrap()
    };
    assert_eq!(ana(&emu)["name"], "Ana");
    let out = wd.run_against(
        &emu,
        &[
            "import", "b.csv", "--to", "whaapy", "--json", "--mode", "upsert",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["updated"], 1);
    assert_eq!(ana(&emu)["name"], "Ana María");
    assert_eq!(emu.contacts("whaapy").len(), 2);
}

#[test]
fn wapiflow_splits_the_phone_and_requires_both_names() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write(
        "w.csv",
        "Nombre,Apellido,Celular,Ciudad\nAna,Ruiz,+52 55 1234 5678,CDMX\nSolo,,+34612345678,Madrid\n",
    );
    let out = wd.run_against(&emu, &["import", "w.csv", "--to", "wapiflow", "--json"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["created"], 1);
    assert_eq!(j["reasons"]["missing_field"], 1);
    let held = emu.contacts("wapiflow");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["mobile_code"].to_string().trim_matches('"'), "52");
    assert_eq!(
        held[0]["mobile"].to_string().trim_matches('"'),
        "5512345678"
    );
    assert_eq!(held[0]["firstname"], "Ana");
}

#[test]
fn wipsy_free_plan_quota_skips_the_rest_and_exits_three() {
    let wd = Workdir::new();
    let emu = Emulator::start(&["--wipsy-free-plan"]);
    wd.write("q.csv", contacts_file(105, 500));
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "q.csv",
            "--to",
            "wipsy",
            "--json",
            "--concurrency",
            "1",
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["created"], 100, "{j}");
    assert_eq!(j["skipped"], 5, "{j}");
    assert_eq!(emu.contacts("wipsy").len(), 100);
    let (_, rows) = wd.read_csv("q.report.csv");
    assert!(
        rows.iter()
            .filter(|r| r[1] == "skipped")
            .all(|r| r[2].contains("quota") || r[2].contains("limit")),
        "{rows:?}"
    );
}

#[test]
fn rate_limited_answers_are_waited_out_and_nothing_is_lost() {
    let wd = Workdir::new();
    let emu = Emulator::start(&["--rate-limit", "20"]);
    wd.write("r.csv", contacts_file(40, 900));
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "r.csv",
            "--to",
            "whaapy",
            "--json",
            "--rate",
            "200",
            "--concurrency",
            "8",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["created"], 40, "{j}");
    assert!(
        j["rate_limited"].as_u64().unwrap() > 0,
        "the emulator answered 429: {j}"
    );
    assert_eq!(emu.contacts("whaapy").len(), 40);
}

#[test]
fn faults_with_lost_responses_leave_the_same_state_as_a_clean_run() {
    for (platform, pointer, n) in [
        ("wazzup", "/contactData/0/chatId", 300),
        ("whaapy", "/phone_number", 80),
        ("wapiflow", "/mobile", 60),
        ("wipsy", "/phone", 60),
    ] {
        let wd = Workdir::new();
        wd.write("f.csv", contacts_file(n, 2000));
        let clean = Emulator::start(&[]);
        let out = wd.run_against(&clean, &["import", "f.csv", "--to", platform, "--quiet"]);
        assert_eq!(code(&out), 0, "{platform} clean: {}", stderr(&out));
        let faulty = Emulator::start(&[
            "--fault-rate",
            "0.1",
            "--seed",
            "11",
            "--fault-delay-ms",
            "3000",
        ]);
        // Batches of 10 so Wazzup makes enough requests to meet faults.
        let out = wd.run_against(
            &faulty,
            &[
                "import",
                "f.csv",
                "--to",
                platform,
                "--json",
                "--timeout",
                "2",
                "--max-attempts",
                "8",
                "--journal",
                "other.sqlite",
                "--batch-size",
                "10",
            ],
        );
        assert_eq!(code(&out), 0, "{platform} faulty: {}", stderr(&out));
        let j = json_of(&out);
        assert!(
            j["retries"].as_u64().unwrap() > 0,
            "{platform}: faults were injected: {j}"
        );
        let a = phones(&clean.contacts(platform), pointer);
        let b = phones(&faulty.contacts(platform), pointer);
        assert_eq!(a.len(), n, "{platform}");
        assert_eq!(
            faulty.contacts(platform).len(),
            n,
            "{platform}: nothing doubled"
        );
        assert_eq!(a, b, "{platform}: same contacts with and without faults");
    }
}

#[test]
fn missing_credentials_stop_before_reading_and_name_the_variable() {
    let wd = Workdir::new();
    let out = wd.run(&["import", "does-not-exist.csv", "--to", "whaapy"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("WHAAPY_API_KEY"), "{err}");
    assert!(
        !err.contains("does-not-exist"),
        "credentials are checked first: {err}"
    );
}

#[test]
fn a_refused_key_is_never_echoed() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("k.csv", "name,phone\nAna,+525512345678\n");
    let secret = "wha_SUPERSECRET_4242";
    let mut cmd = wd.command(&["import", "k.csv", "--to", "whaapy"]);
    emu.env(&mut cmd);
    cmd.env("WHAAPY_API_KEY", secret);
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(!stderr(&out).contains("SUPERSECRET"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("SUPERSECRET"));
    for f in ["k.report.csv", "journal.sqlite"] {
        if let Ok(bytes) = std::fs::read(wd.path(f)) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains("SUPERSECRET"),
                "{f}"
            );
        }
    }
}

#[test]
fn dry_run_reads_the_platform_and_writes_nothing() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("a.csv", "name,phone\nAna,+525512345678\n");
    let out = wd.run_against(&emu, &["import", "a.csv", "--to", "whaapy", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    wd.write(
        "b.csv",
        "name,phone\nAna,+525512345678\nBob,+34612345678\nMal,12\n",
    );
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "b.csv",
            "--to",
            "whaapy",
            "--dry-run",
            "--mode",
            "create",
            "--json",
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["dry_run"], true);
    assert_eq!(j["exists"], 1, "{j}");
    assert_eq!(j["valid"], 1, "{j}");
    assert_eq!(j["invalid"], 1, "{j}");
    assert_eq!(j["created"], 0);
    assert_eq!(emu.contacts("whaapy").len(), 1, "nothing written");
    let (_, rows) = wd.read_csv("b.report.csv");
    assert!(rows[1][2].contains("would create"), "{:?}", rows[1]);
}

#[test]
fn wazzup_users_import() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write(
        "u.csv",
        "external_id,name,phone\nagent-1,Laura Vendedora,+525511112222\nagent-2,Pedro Soporte,+34611223344\n",
    );
    let out = wd.run_against(
        &emu,
        &[
            "import", "u.csv", "--to", "wazzup", "--entity", "users", "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let users = match emu.get("/_emulator/wazzup/users") {
        Value::Array(a) => a,
        other => panic!("{other}"),
    };
    let ids: BTreeSet<&str> = users.iter().filter_map(|u| u["id"].as_str()).collect();
    assert!(
        ids.contains("agent-1") && ids.contains("agent-2"),
        "{users:?}"
    );
}
