//! `waport migrate` end to end: one emulator holds both platforms.

use crate::cli::export::{Filler, held, people, seed_failing_early};
use crate::cli::workdir::{Emulator, Workdir, code, json_of, stderr};
use serde_json::Value;
use std::collections::BTreeSet;

/// E.164 phones the emulator holds for `platform`.
fn phones(emu: &Emulator, platform: &str) -> BTreeSet<String> {
    held(&emu.contacts(platform), platform)
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

#[cfg(unix)]
/// A faulty emulator loaded with what `fill` imported into a clean one.
fn faulty_with(wd: &Workdir, fill: impl FnOnce(&Filler)) -> Emulator {
    let state = wd.path("state.json");
    let filler = Filler::start(&state);
    fill(&filler);
    filler.stop();
    Emulator::start(&[
        "--state",
        state.to_str().unwrap(),
        "--fault-rate",
        "0.1",
        "--seed",
        &seed_failing_early(),
        "--fault-delay-ms",
        "1500",
    ])
}

const FAULT_FLAGS: [&str; 6] = ["--timeout", "1", "--max-attempts", "8", "--rate", "300"];

#[cfg(unix)]
#[test]
fn wazzup_to_whaapy_moves_every_contact_under_faults_and_dry_run_writes_nothing() {
    let wd = Workdir::new();
    wd.write("a.csv", people(150, 7000));
    let emu = faulty_with(&wd, |f| f.import(&wd, "a.csv", "wazzup", &[]));
    let source = phones(&emu, "wazzup");
    assert_eq!(source.len(), 150);

    let mut args = vec![
        "migrate",
        "--from",
        "wazzup",
        "--to",
        "whaapy",
        "--json",
        "--dry-run",
    ];
    args.extend_from_slice(&FAULT_FLAGS);
    let out = wd.run_against(&emu, &args);
    // Exit 0 unless a lookup met a fault: the dry run's lookups are not
    // retried (upload::dry_run), which is the upload's business, not
    // migrate's; what matters here is that nothing is written.
    assert!(matches!(code(&out), 0 | 3), "dry run: {}", stderr(&out));
    assert!(stderr(&out).contains("dry run"), "{}", stderr(&out));
    assert!(
        emu.contacts("whaapy").is_empty(),
        "--dry-run writes nothing"
    );
    let (_, rows) = wd.read_csv("migrate-wazzup-to-whaapy.report.csv");
    assert_eq!(rows.len(), 150, "dry run reports every contact");

    let mut args = vec!["migrate", "--from", "wazzup", "--to", "whaapy", "--json"];
    args.extend_from_slice(&FAULT_FLAGS);
    let out = wd.run_against(&emu, &args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        !err.contains("has no place"),
        "Whaapy stores all Wazzup has: {err}"
    );
    let customs: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("custom fields not migrated"))
        .collect();
    assert_eq!(customs.len(), 1, "{err}");
    assert!(customs[0].contains("responsible_user_id"), "{err}");
    let j = json_of(&out);
    assert_eq!(j["rows"], 150, "{j}");
    // A create whose answer a fault lost is found on retry and reported
    // `updated`; the state below shows each contact exists once.
    assert_eq!(
        j["created"].as_u64().unwrap() + j["updated"].as_u64().unwrap(),
        150,
        "{j}"
    );
    assert!(j["retries"].as_u64().unwrap() > 0, "{j}");
    assert!(
        emu.stats()["wazzup"]["faults"].as_u64().unwrap()
            + emu.stats()["whaapy"]["faults"].as_u64().unwrap()
            > 0,
        "faults were injected: {}",
        emu.stats()
    );
    assert_eq!(emu.contacts("whaapy").len(), 150, "nothing doubled");
    assert_eq!(phones(&emu, "whaapy"), source);
    // Names travel with the phones.
    let a_names: BTreeSet<String> = emu
        .contacts("wazzup")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let b_names: BTreeSet<String> = emu
        .contacts("whaapy")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(a_names, b_names);

    // The report: one line per source contact, in the import's format.
    let (head, rows) = wd.read_csv("migrate-wazzup-to-whaapy.report.csv");
    assert_eq!(head[1], "status");
    assert_eq!(rows.len(), 150);
    assert!(
        rows.iter().all(|r| r[1] == "created" || r[1] == "updated"),
        "{rows:?}"
    );
    let remote: BTreeSet<&String> = rows.iter().map(|r| &r[7]).collect();
    let b_ids: BTreeSet<String> = emu
        .contacts("whaapy")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(remote, b_ids.iter().collect());
}

#[cfg(unix)]
#[test]
fn whaapy_to_wapiflow_names_the_fields_wapiflow_lacks_once() {
    let wd = Workdir::new();
    let mut file = String::from("first_name,last_name,phone,email,company,notes,tags,city\n");
    for i in 0..40u64 {
        file.push_str(&format!(
            "Ana{i},Ruiz{i},+34 612 {:03} {:03},a{i}@x.es,Acme,nota {i},vip,Madrid\n",
            i / 1000,
            i % 1000
        ));
    }
    // One name WapiFlow cannot split into first and last: invalid there.
    file.push_str("Solo,,+34 699 000 001,solo@x.es,,,,\n");
    wd.write("a.csv", &file);
    let emu = faulty_with(&wd, |f| f.import(&wd, "a.csv", "whaapy", &[]));
    assert_eq!(emu.contacts("whaapy").len(), 41);

    let mut args = vec![
        "migrate",
        "--from",
        "whaapy",
        "--to",
        "wapiflow",
        "--dry-run",
    ];
    args.extend_from_slice(&FAULT_FLAGS);
    let out = wd.run_against(&emu, &args);
    assert_eq!(code(&out), 3, "one invalid contact: {}", stderr(&out));
    assert!(
        emu.contacts("wapiflow").is_empty(),
        "--dry-run writes nothing"
    );
    let (_, rows) = wd.read_csv("migrate-whaapy-to-wapiflow.report.csv");
    assert_eq!(rows.len(), 41, "dry run reports every contact");

    let mut args = vec!["migrate", "--from", "whaapy", "--to", "wapiflow", "--json"];
    args.extend_from_slice(&FAULT_FLAGS);
    let out = wd.run_against(&emu, &args);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    let lacks: Vec<&str> = err.lines().filter(|l| l.contains("has no place")).collect();
    assert_eq!(lacks.len(), 1, "reported once: {err}");
    for f in ["email", "company", "notes", "tags"] {
        assert!(lacks[0].contains(f), "{f} named: {}", lacks[0]);
    }
    for f in ["phone", "city", "first_name"] {
        assert!(
            !lacks[0].contains(&format!(" {f}")),
            "{f} is stored: {}",
            lacks[0]
        );
    }
    let j = json_of(&out);
    assert_eq!(j["rows"], 41, "{j}");
    // A create whose answer a fault lost is found on retry and reported
    // `updated`: the state below shows it was created exactly once.
    assert_eq!(
        j["created"].as_u64().unwrap() + j["updated"].as_u64().unwrap(),
        40,
        "{j}"
    );
    assert_eq!(j["invalid"], 1, "{j}");
    let want: BTreeSet<String> = phones(&emu, "whaapy")
        .into_iter()
        .filter(|p| p != "+34699000001")
        .collect();
    assert_eq!(emu.contacts("wapiflow").len(), 40, "nothing doubled");
    assert_eq!(phones(&emu, "wapiflow"), want);
    let (_, rows) = wd.read_csv("migrate-whaapy-to-wapiflow.report.csv");
    assert_eq!(rows.len(), 41);
    let bad: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[1] != "created" && r[1] != "updated")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0][1], "invalid");
    assert!(bad[0][2].contains("last_name"), "{:?}", bad[0]);

    // Run again: the journal knows, and nothing is doubled.
    let out = wd.run_against(
        &emu,
        &["migrate", "--from", "whaapy", "--to", "wapiflow", "--json"],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert_eq!(json_of(&out)["created"], 0);
    assert_eq!(emu.contacts("wapiflow").len(), 40);
}

#[test]
fn map_sends_a_field_the_target_lacks_to_a_custom_field() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("a.csv", people(20, 100));
    let out = wd.run_against(&emu, &["import", "a.csv", "--to", "wazzup", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Wazzup gives each contact a responsible user, which Whaapy has no
    // field for: without --map it is not sent.
    wd.write(
        "map.toml",
        "[columns]\nresponsible_user_id = \"custom:responsable\"\n",
    );
    let out = wd.run_against(
        &emu,
        &[
            "migrate", "--from", "wazzup", "--to", "whaapy", "--map", "map.toml", "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("not migrated"),
        "everything is mapped: {}",
        stderr(&out)
    );
    assert_eq!(json_of(&out)["created"], 20);
    let b = emu.contacts("whaapy");
    assert_eq!(b.len(), 20);
    for c in &b {
        assert_eq!(
            c["custom_fields"]["responsable"],
            Value::from(waport::emulator::DEFAULT_WAZZUP_USER_ID),
            "{c}"
        );
    }
}

#[test]
fn migrate_refuses_the_same_account_on_both_sides() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    let out = wd.run_against(&emu, &["migrate", "--from", "whaapy", "--to", "whaapy"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("same"), "{}", stderr(&out));
}
