//! Crash safety: kill -9 the importer at random points, re-run, and the
//! platform holds every valid contact exactly once while the final report
//! has every row exactly once.

use crate::cli::workdir::{Emulator, Workdir, code, stderr};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn file(n: usize) -> String {
    let mut s = String::from("name,phone\n");
    for i in 0..n {
        s.push_str(&format!(
            "Cliente {i},+52 55 {:04} {:04}\n",
            3000 + i / 10_000,
            i % 10_000
        ));
    }
    s.push_str("Malo,55-12\n");
    s
}

fn kill_and_resume(platform: &str, pointer: &str, n: usize, rate: &str) {
    let wd = Workdir::new();
    wd.write("k.csv", file(n));
    let emu = Emulator::start(&[
        "--fault-rate",
        "0.05",
        "--seed",
        "11",
        "--fault-delay-ms",
        "1500",
    ]);
    let mut rng = fastrand::Rng::with_seed(42);
    for _ in 0..20 {
        let mut cmd = wd.command(&[
            "import",
            "k.csv",
            "--to",
            platform,
            "--quiet",
            "--rate",
            rate,
            "--timeout",
            "1",
        ]);
        emu.env(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(20..400)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "k.csv",
            "--to",
            platform,
            "--rate",
            rate,
            "--timeout",
            "1",
            "--max-attempts",
            "10",
        ],
    );
    assert_eq!(
        code(&out),
        3,
        "only the bad row is rejected: {}",
        stderr(&out)
    );
    let held = emu.contacts(platform);
    let mut per_phone: BTreeMap<String, usize> = BTreeMap::new();
    for c in &held {
        let p = c
            .pointer(pointer)
            .map(|v| v.to_string())
            .unwrap_or_default();
        *per_phone.entry(p).or_default() += 1;
    }
    let doubles: Vec<_> = per_phone.iter().filter(|(_, k)| **k > 1).collect();
    assert!(
        doubles.is_empty(),
        "{platform}: contacts created twice: {doubles:?}"
    );
    let (_, rows) = wd.read_csv("k.report.csv");
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        *statuses
            .entry(format!("{} {}", r[1], r[2].split(':').next().unwrap_or("")))
            .or_default() += 1;
    }
    assert_eq!(
        held.len(),
        n,
        "{platform}: every valid contact is there; report: {statuses:?}"
    );
    let numbers: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let unique: BTreeSet<u64> = numbers.iter().copied().collect();
    assert_eq!(numbers.len(), n + 1, "{platform}: one report line per row");
    assert_eq!(unique.len(), n + 1);
    assert!(
        rows.iter()
            .filter(|r| r[0] != (n as u64 + 2).to_string())
            .all(|r| matches!(
                r[1].as_str(),
                "created" | "updated" | "exists" | "unchanged"
            )),
        "{platform}: {rows:?}"
    );
}

#[test]
fn kill_9_twenty_times_then_resume_whaapy() {
    kill_and_resume("whaapy", "/phone_number", 120, "150");
}

#[test]
fn kill_9_twenty_times_then_resume_wazzup() {
    kill_and_resume("wazzup", "/contactData/0/chatId", 600, "20");
}

#[test]
fn kill_9_twenty_times_then_resume_wipsy() {
    kill_and_resume("wipsy", "/phone", 100, "150");
}

/// A row journaled `pending` (its request may or may not have left when the
/// run died) whose phone the account already holds: in upsert mode the
/// resumed run must send the row's content, not call the row `updated`
/// and record its hash — or every later nightly run would call it
/// `unchanged` and the new content would never reach the platform.
#[test]
fn a_pending_row_found_on_the_platform_is_sent_not_assumed_updated() {
    use waport::journal::{JobKind, JobMode, JobState, Journal, NewJob, RowIntent};
    use waport::platform::PlatformKind;
    use waport::platform::credentials::{Credentials, Secret};

    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    // The account holds the person under an old name (made by another
    // journal: to this one, a contact it never saw).
    wd.write("old.csv", "name,phone\nNombre Viejo,+34 612 345 678\n");
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "old.csv",
            "--to",
            "whaapy",
            "--journal",
            "other.sqlite",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // This file's job died with row 2 in flight.
    let file = wd.write("p.csv", "name,phone\nNombre Nuevo,+34 612 345 678\n");
    let creds = Credentials::new(
        PlatformKind::Whaapy,
        &format!("{}/whaapy", emu.base),
        Secret::ApiKey(waport::emulator::DEFAULT_WHAAPY_KEY.into()),
    );
    let account = waport::commands::import::account_fp(PlatformKind::Whaapy, &creds);
    {
        let mut j = Journal::open(wd.path("j.sqlite")).unwrap();
        let job = j
            .start_job(&NewJob {
                kind: JobKind::Import,
                command: "waport import p.csv --to whaapy".into(),
                input_path: Some("p.csv".into()),
                input_fingerprint: Some(waport::journal::fingerprint_file(&file).unwrap()),
                platform: "whaapy".into(),
                account_fp: account,
                entity: "contacts".into(),
                mode: JobMode::Upsert,
                parent: None,
            })
            .unwrap();
        j.mark_pending(
            job.id,
            &[RowIntent {
                row: 2,
                dedupe_key: "34612345678".into(),
                content_hash: "whatever-was-planned".into(),
            }],
        )
        .unwrap();
        j.end_job(job.id, JobState::Interrupted).unwrap();
    }

    let run = || {
        wd.run_against(
            &emu,
            &["import", "p.csv", "--to", "whaapy", "--journal", "j.sqlite"],
        )
    };
    let out = run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming job"), "{}", stderr(&out));
    let held = emu.contacts("whaapy");
    assert_eq!(held.len(), 1, "one person, one contact: {held:?}");
    assert_eq!(
        held[0]["name"], "Nombre Nuevo",
        "the row's content reached the platform: {held:?}"
    );
    let (_, rows) = wd.read_csv("p.report.csv");
    assert_eq!(rows[0][1], "updated", "{rows:?}");

    // The nightly re-run: now it is truly unchanged.
    let out = run();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (_, rows) = wd.read_csv("p.report.csv");
    assert_eq!(rows[0][1], "unchanged", "{rows:?}");
}
