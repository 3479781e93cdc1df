//! Crash safety: kill -9 the importer at random points, re-run, and the
//! platform holds every valid contact exactly once while the final report
//! has every row exactly once.

use crate::cli::workdir::{Emulator, Workdir, code, stderr, stdout};
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

/// The account lock covers the account, not one journal: a second import
/// into the same account with another journal is refused while the first
/// holds it, and goes through once it is released.
#[test]
fn a_second_journal_cannot_write_to_a_locked_account() {
    use waport::journal::Journal;
    use waport::platform::PlatformKind;
    use waport::platform::credentials::{Credentials, Secret};

    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("a.csv", "name,phone\nAna,+34 612 345 679\n");
    let creds = Credentials::new(
        PlatformKind::Whaapy,
        &format!("{}/whaapy", emu.base),
        Secret::ApiKey(waport::emulator::DEFAULT_WHAAPY_KEY.into()),
    );
    let account = waport::commands::import::account_fp(PlatformKind::Whaapy, &creds);
    let first = Journal::open(wd.path("first.sqlite")).unwrap();
    let lock = first.acquire_target_lock("whaapy", &account).unwrap();

    let import = || {
        wd.run_against(
            &emu,
            &[
                "import",
                "a.csv",
                "--to",
                "whaapy",
                "--journal",
                "second.sqlite",
            ],
        )
    };
    let out = import();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("in use by"), "{}", stderr(&out));
    assert!(
        emu.contacts("whaapy").is_empty(),
        "nothing sent while locked"
    );

    drop(lock);
    let out = import();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(emu.contacts("whaapy").len(), 1);
}

/// A machine with no `HOME` (a Windows scheduled task, a bare service
/// account) still imports: the journal and the account locks go to the OS
/// data folder, which the OS names without `HOME`.
#[test]
fn import_works_without_home() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("h.csv", "name,phone\nHugo,+34 612 345 680\n");
    let mut cmd = wd.command(&["import", "h.csv", "--to", "whaapy"]);
    emu.env(&mut cmd);
    for var in ["HOME", "WAPORT_JOURNAL", "XDG_DATA_HOME", "XDG_CONFIG_HOME"] {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("job j-"),
        "journaled: {}",
        stderr(&out)
    );
    assert_eq!(emu.contacts("whaapy").len(), 1);
}

/// A journal that cannot be written (a full disk) stops sending at once:
/// nothing reaches the platform that the journal cannot account for, the
/// run exits 1 with the cause, every row is still in the report once, and
/// the next run, with space back, finishes exactly once per contact.
#[test]
fn a_journal_write_failure_stops_sending_and_the_next_run_resumes() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    let n = 300;
    wd.write("k.csv", file(n));
    let args = [
        "import",
        "k.csv",
        "--to",
        "whaapy",
        "--rate",
        "500",
        "--journal",
        "j.sqlite",
    ];
    let mut cmd = wd.command(&args);
    emu.env(&mut cmd);
    cmd.env("WAPORT_FAULT_JOURNAL_WRITES", "6");
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("journal write failed"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("run the same command again"),
        "{}",
        stderr(&out)
    );
    let (_, rows) = wd.read_csv("k.report.csv");
    assert_eq!(rows.len(), n + 1, "every row reported once");
    let sent_at_most = rows.iter().filter(|r| r[1] == "created").count();
    let held = emu.contacts("whaapy").len();
    assert!(held < 30, "sending stopped at once: {held} contacts sent");
    assert!(sent_at_most <= held, "{sent_at_most} created, {held} held");
    assert!(
        rows.iter()
            .filter(|r| r[1] == "skipped")
            .all(|r| r[2].contains("journal write failed")),
        "{rows:?}"
    );

    let out = wd.run_against(&emu, &args);
    assert_eq!(code(&out), 3, "only the bad row: {}", stderr(&out));
    let held = emu.contacts("whaapy");
    assert_eq!(held.len(), n, "one contact per person after the resume");
    let phones: BTreeSet<String> = held.iter().map(|c| c["phone_number"].to_string()).collect();
    assert_eq!(phones.len(), n);
}

/// Ctrl-C twice quits at once, without waiting for requests in flight; the
/// journal stays consistent (rows in flight stay pending for the next run
/// to look up, as after a kill -9: see the tests above).
#[cfg(unix)]
#[test]
fn a_second_ctrl_c_quits_at_once_and_leaves_the_journal_consistent() {
    let wd = Workdir::new();
    // Every answer takes 4 s: a run that waited for its requests in
    // flight could not end sooner.
    let slow = Emulator::start(&["--latency-ms", "4000"]);
    wd.write("k.csv", file(20));
    let args = ["import", "k.csv", "--to", "whaapy", "--journal", "j.sqlite"];
    let mut cmd = wd.command(&args);
    slow.env(&mut cmd);
    let mut child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
    // Past the preflight (one 4 s answer): the job is started and its
    // first requests are in flight.
    std::thread::sleep(Duration::from_millis(5500));
    let int = || {
        let st = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    };
    int();
    std::thread::sleep(Duration::from_millis(300));
    let second = std::time::Instant::now();
    int();
    let status = child.wait().unwrap();
    assert!(
        second.elapsed() < Duration::from_millis(3500),
        "quit without waiting for the 4 s answers: {:?}",
        second.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("quitting now"), "{err}");
    // The journal is consistent: the job is listed, as interrupted.
    let out = wd.run(&["jobs", "--journal", "j.sqlite"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("interrupted"), "{}", stdout(&out));
}
