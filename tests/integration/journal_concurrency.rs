//! Several writers on one journal, and the one-job-per-target lock, with real
//! threads and real processes (this test binary re-run as a child).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use waport::journal::{
    JobId, JobKind, JobMode, JobState, Journal, JournalError, NewJob, Outcome, RowIntent,
    RowOutcome, RowRecord,
};

const CHILD_ROLE: &str = "WAPORT_JOURNAL_TEST_ROLE";
const CHILD_PATH: &str = "WAPORT_JOURNAL_TEST_PATH";

fn spec(account: &str) -> NewJob {
    NewJob {
        kind: JobKind::Import,
        command: "waport import c.csv".into(),
        input_path: Some("c.csv".into()),
        input_fingerprint: Some("fp".into()),
        platform: "wazzup".into(),
        account_fp: account.into(),
        entity: "contacts".into(),
        mode: JobMode::Create,
        parent: None,
    }
}

/// Writes `rows` rows to a new job in batches of `batch`, the full protocol.
fn write_job(path: &Path, account: &str, rows: u64, batch: usize) -> JobId {
    let mut j = Journal::open(path).unwrap();
    let job = j.start_job(&spec(account)).unwrap();
    let intents: Vec<RowIntent> = (1..=rows)
        .map(|n| RowIntent {
            row: n,
            dedupe_key: format!("{account}-{n}"),
            content_hash: format!("h{n}"),
        })
        .collect();
    for chunk in intents.chunks(batch) {
        j.mark_pending(job.id, chunk).unwrap();
        let nums: Vec<u64> = chunk.iter().map(|i| i.row).collect();
        j.mark_sent(job.id, &nums).unwrap();
        let outcomes: Vec<RowOutcome> = nums
            .iter()
            .map(|&n| {
                RowOutcome::of_sent(
                    n,
                    RowRecord::Confirmed {
                        outcome: Outcome::Created,
                        remote_id: format!("{account}-r{n}"),
                    },
                )
            })
            .collect();
        j.record_outcomes(job.id, &outcomes).unwrap();
    }
    j.end_job(job.id, JobState::Finished).unwrap();
    job.id
}

/// Entry point of the child processes; a no-op in a normal test run.
#[test]
fn child_process_entry() {
    let Ok(role) = std::env::var(CHILD_ROLE) else {
        return;
    };
    let path = PathBuf::from(std::env::var(CHILD_PATH).unwrap());
    match role.as_str() {
        "hold_lock" => {
            let mut j = Journal::open(&path).unwrap();
            let lock = j.acquire_target_lock("wazzup", "acct").unwrap();
            let job = j.start_job(&spec("acct")).unwrap();
            lock.attach_job(job.id).unwrap();
            println!("LOCKED {}", job.id.0);
            // Wait to be killed.
            std::thread::sleep(std::time::Duration::from_secs(120));
        }
        writer => {
            let account = writer.strip_prefix("write:").unwrap();
            write_job(&path, account, 5000, 100);
            println!("WROTE");
        }
    }
}

fn spawn_child(role: &str, path: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "journal_concurrency::child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ROLE, role)
        .env(CHILD_PATH, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Reads the child's stdout until a line starting with `prefix`.
fn wait_for_line(child: &mut Child, prefix: &str) -> String {
    let out = child.stdout.as_mut().unwrap();
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "child ended before printing {prefix}");
        if let Some(pos) = line.find(prefix) {
            return line[pos..].trim().to_string();
        }
    }
}

#[test]
fn threads_write_concurrently_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Not created yet: the threads also race to create and migrate it.
    let path = dir.path().join("journal.sqlite");
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                write_job(&path, &format!("t{t}"), 3000, 50)
            })
        })
        .collect();
    let ids: Vec<JobId> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let j = Journal::open(&path).unwrap();
    for (t, id) in ids.iter().enumerate() {
        let c = j.counts(*id).unwrap();
        assert_eq!(c.created, 3000, "thread {t}");
        let m = j
            .last_sent_hashes("wazzup", &format!("t{t}"), "contacts")
            .unwrap();
        assert_eq!(m.len(), 3000);
    }
}

#[test]
fn processes_write_concurrently_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    drop(Journal::open(&path).unwrap());
    let mut children: Vec<Child> = (0..2)
        .map(|p| spawn_child(&format!("write:p{p}"), &path))
        .collect();
    // This process writes at the same time.
    let mine = write_job(&path, "parent", 5000, 100);
    for c in &mut children {
        wait_for_line(c, "WROTE");
        assert!(c.wait().unwrap().success());
    }
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.counts(mine).unwrap().created, 5000);
    for p in 0..2 {
        let m = j
            .last_sent_hashes("wazzup", &format!("p{p}"), "contacts")
            .unwrap();
        assert_eq!(m.len(), 5000);
    }
    assert_eq!(j.list_jobs(10).unwrap().len(), 3);
}

#[test]
fn lock_held_by_a_live_process_is_refused_then_taken_over_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    drop(Journal::open(&path).unwrap());
    let mut child = spawn_child("hold_lock", &path);
    let line = wait_for_line(&mut child, "LOCKED");
    let job = JobId(line.trim_start_matches("LOCKED ").parse().unwrap());

    let j = Journal::open(&path).unwrap();
    let err = j.acquire_target_lock("wazzup", "acct").unwrap_err();
    assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&job.to_string()), "{msg}");
    assert!(msg.contains(&child.id().to_string()), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert_eq!(j.get_job(job).unwrap().state, JobState::Running);
    // Another account on the same platform is free.
    drop(j.acquire_target_lock("wazzup", "other-acct").unwrap());

    // SIGKILL: no destructor runs, the lock row stays behind. The child is
    // not reaped yet, so it lingers as a zombie: that must count as dead.
    child.kill().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let lock = j.acquire_target_lock("wazzup", "acct").unwrap();
    child.wait().unwrap();
    assert_eq!(j.get_job(job).unwrap().state, JobState::Interrupted);
    assert_eq!(
        j.find_resumable("fp", "wazzup", "acct", "contacts")
            .unwrap()
            .map(|j| j.id),
        Some(job)
    );
    drop(lock);
}

#[test]
fn lock_is_released_on_drop_and_exclusive_within_a_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    let mut j = Journal::open(&path).unwrap();
    let lock = j.acquire_target_lock("whaapy", "acct").unwrap();
    let job = j.start_job(&spec("acct")).unwrap();
    lock.attach_job(job.id).unwrap();
    lock.heartbeat().unwrap();
    let err = j.acquire_target_lock("whaapy", "acct").unwrap_err();
    assert!(err.to_string().contains(&job.id.to_string()), "{err}");
    drop(lock);
    let again = j.acquire_target_lock("whaapy", "acct").unwrap();
    again.release().unwrap();
    drop(j.acquire_target_lock("whaapy", "acct").unwrap());
}

// A pid and Linux's /proc host name: the liveness check this exercises
// reads /proc (elsewhere the heartbeat decides).
#[cfg(target_os = "linux")]
#[test]
fn stale_lock_of_a_reused_or_vanished_pid_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    let j = Journal::open(&path).unwrap();
    // A process that has come and gone: its pid is free (or reused).
    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute(
        "INSERT INTO locks (platform, account_fp, token, pid, pid_start, host, job_id, \
         acquired_at, heartbeat_at) VALUES ('wipsy', 'acct', 'x', ?1, 1, ?2, 9, 0, 0)",
        rusqlite::params![gone_pid, host],
    )
    .unwrap();
    // The parent of this test runs, but with another start time: a reused pid.
    c.execute(
        "INSERT INTO locks (platform, account_fp, token, pid, pid_start, host, job_id, \
         acquired_at, heartbeat_at) VALUES ('wipsy', 'acct2', 'y', ?1, 1, ?2, 9, 0, 0)",
        rusqlite::params![std::os::unix::process::parent_id(), host],
    )
    .unwrap();
    // Another host with an old heartbeat: stale by age.
    c.execute(
        "INSERT INTO locks (platform, account_fp, token, pid, pid_start, host, job_id, \
         acquired_at, heartbeat_at) VALUES ('wipsy', 'acct3', 'z', 1, NULL, 'elsewhere', 9, 0, 0)",
        [],
    )
    .unwrap();
    // Another host with a fresh heartbeat: must be respected.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    c.execute(
        "INSERT INTO locks (platform, account_fp, token, pid, pid_start, host, job_id, \
         acquired_at, heartbeat_at) VALUES ('wipsy', 'acct4', 'w', 1, NULL, 'elsewhere', 9, ?1, ?1)",
        [now],
    )
    .unwrap();
    drop(j.acquire_target_lock("wipsy", "acct").unwrap());
    drop(j.acquire_target_lock("wipsy", "acct2").unwrap());
    drop(j.acquire_target_lock("wipsy", "acct3").unwrap());
    let err = j.acquire_target_lock("wipsy", "acct4").unwrap_err();
    assert!(err.to_string().contains("j-9"), "{err}");
}
