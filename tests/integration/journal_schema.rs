//! Opening journals: creation, reopening, migration, and refusing files that
//! are damaged, newer or someone else's, with a message naming the file.

use rusqlite::Connection;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use waport::journal::{
    CURRENT_VERSION, JobKind, JobMode, Journal, JournalError, NewJob, account_fingerprint,
    fingerprint_file, resolve_default_path,
};

fn spec() -> NewJob {
    NewJob {
        kind: JobKind::Import,
        command: "waport import contacts.csv --to wazzup".into(),
        input_path: Some("contacts.csv".into()),
        input_fingerprint: Some("ab".repeat(32)),
        platform: "wazzup".into(),
        account_fp: account_fingerprint("wazzup", "secret-key"),
        entity: "contacts".into(),
        mode: JobMode::Upsert,
        parent: None,
    }
}

#[test]
fn creates_schema_in_new_directories_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("journal.sqlite");
    let id = {
        let mut j = Journal::open(&path).unwrap();
        assert_eq!(j.schema_version().unwrap(), CURRENT_VERSION);
        j.start_job(&spec()).unwrap().id
    };
    assert!(path.exists());
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), CURRENT_VERSION);
    let job = j.get_job(id).unwrap();
    assert_eq!(job.platform, "wazzup");
    assert_eq!(job.command, "waport import contacts.csv --to wazzup");
    // WAL mode is persistent in the file.
    let c = Connection::open(&path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[cfg(unix)]
#[test]
fn new_journal_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    Journal::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

#[test]
fn migrates_a_version_0_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    {
        // A valid, empty SQLite database at user_version 0, in rollback mode.
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA user_version = 0; VACUUM;").unwrap();
    }
    let mut j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), CURRENT_VERSION);
    j.start_job(&spec()).unwrap();
    drop(j);
    let c = Connection::open(&path).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in ["jobs", "locks", "remote_state", "rows"] {
        assert!(
            tables.iter().any(|x| x == t),
            "missing table {t}: {tables:?}"
        );
    }
}

#[test]
fn adopts_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    std::fs::write(&path, b"").unwrap();
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), CURRENT_VERSION);
}

#[test]
fn newer_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    drop(Journal::open(&path).unwrap());
    {
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", CURRENT_VERSION + 5)
            .unwrap();
    }
    let err = Journal::open(&path).unwrap_err();
    assert!(
        matches!(err, JournalError::TooNew { found, .. } if found == CURRENT_VERSION + 5),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("newer"), "{msg}");
    // Left untouched.
    let c = Connection::open(&path).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, CURRENT_VERSION + 5);
}

#[test]
fn random_bytes_are_reported_as_corrupt_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    let mut rng = fastrand::Rng::with_seed(7);
    let bytes: Vec<u8> = (0..8192).map(|_| rng.u8(..)).collect();
    std::fs::write(&path, &bytes).unwrap();
    let err = Journal::open(&path).unwrap_err();
    assert!(matches!(err, JournalError::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("corrupt"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn damaged_pages_are_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    {
        let mut j = Journal::open(&path).unwrap();
        j.start_job(&spec()).unwrap();
        drop(j);
        // Fold the WAL into the main file so the damage below hits real pages.
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;")
            .unwrap();
    }
    // Keep the 100-byte header valid, trash every page after the first.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4096);
    for b in &mut bytes[4096..] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let result = Journal::open(&path).and_then(|j| j.list_jobs(10));
    let err = result.unwrap_err();
    assert!(matches!(err, JournalError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);")
            .unwrap();
    }
    let err = Journal::open(&path).unwrap_err();
    assert!(matches!(err, JournalError::NotAJournal { .. }), "{err:?}");
    assert!(err.to_string().contains("other.db"));
    let c = Connection::open(&path).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "nothing was added");
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn default_path_honours_waport_journal_then_xdg_then_home() {
    let all = [
        ("WAPORT_JOURNAL", "/tmp/x/j.sqlite"),
        ("XDG_DATA_HOME", "/data"),
        ("HOME", "/home/u"),
    ];
    assert_eq!(
        resolve_default_path(env(&all)).unwrap(),
        PathBuf::from("/tmp/x/j.sqlite")
    );
    assert_eq!(
        resolve_default_path(env(&all[1..])).unwrap(),
        PathBuf::from("/data/waport/journal.sqlite")
    );
    assert_eq!(
        resolve_default_path(env(&all[2..])).unwrap(),
        PathBuf::from("/home/u/.local/share/waport/journal.sqlite")
    );
    // Empty and relative values do not count.
    assert_eq!(
        resolve_default_path(env(&[
            ("WAPORT_JOURNAL", ""),
            ("XDG_DATA_HOME", "rel/dir"),
            ("HOME", "/home/u")
        ]))
        .unwrap(),
        PathBuf::from("/home/u/.local/share/waport/journal.sqlite")
    );
    let err = resolve_default_path(env(&[])).unwrap_err();
    assert!(matches!(err, JournalError::NoDataDir));
}

#[test]
fn file_fingerprint_is_sha256_of_content_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    std::fs::write(&a, b"abc").unwrap();
    assert_eq!(
        fingerprint_file(&a).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // Larger than one read buffer, and independent of the file's name.
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let b = dir.path().join("b.csv");
    let c = dir.path().join("renamed.csv");
    std::fs::write(&b, &big).unwrap();
    std::fs::write(&c, &big).unwrap();
    assert_eq!(fingerprint_file(&b).unwrap(), fingerprint_file(&c).unwrap());
    assert_ne!(fingerprint_file(&a).unwrap(), fingerprint_file(&b).unwrap());
    let err = fingerprint_file(&dir.path().join("missing.csv")).unwrap_err();
    assert!(err.to_string().contains("missing.csv"));
}

#[test]
fn account_fingerprint_is_short_stable_and_hides_the_key() {
    let key = "wha_0123456789abcdef0123456789";
    let fp = account_fingerprint("whaapy", key);
    assert_eq!(fp.len(), 16);
    assert!(fp.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(fp, account_fingerprint("whaapy", key));
    assert_ne!(fp, account_fingerprint("wazzup", key));
    assert_ne!(fp, account_fingerprint("whaapy", "other"));
    assert!(!fp.contains("0123456789abcdef"));
}

#[test]
fn version_1_journals_are_migrated_with_their_jobs_and_take_update_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    let id = Journal::open(&path).unwrap().start_job(&spec()).unwrap().id;
    {
        // Back to version 1's jobs table: its CHECK knew no `update` mode.
        let c = Connection::open(&path).unwrap();
        let ddl: String = c
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'jobs'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        // SQLite keeps the DDL of a renamed table with the name quoted.
        let ddl = ddl.replace("CREATE TABLE \"jobs\"", "CREATE TABLE jobs");
        let v1 = ddl
            .replace(
                "'create', 'upsert', 'update', 'delete'",
                "'create', 'upsert', 'delete'",
            )
            .replace("CREATE TABLE jobs", "CREATE TABLE jobs_v1");
        assert_ne!(v1, ddl.replace("CREATE TABLE jobs", "CREATE TABLE jobs_v1"));
        c.execute_batch(&format!(
            "{v1}; INSERT INTO jobs_v1 SELECT * FROM jobs; DROP TABLE jobs; \
             ALTER TABLE jobs_v1 RENAME TO jobs; \
             ALTER TABLE rows DROP COLUMN held_at_start; PRAGMA user_version = 1;"
        ))
        .unwrap();
        let refused = c.execute("UPDATE jobs SET mode = 'update'", []);
        assert!(refused.is_err(), "version 1 refuses mode update");
    }
    let mut j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), CURRENT_VERSION);
    assert_eq!(
        j.get_job(id).unwrap().platform,
        "wazzup",
        "the job survives"
    );
    let update = NewJob {
        mode: JobMode::Update,
        input_fingerprint: Some("cd".repeat(32)),
        ..spec()
    };
    let u = j.start_job(&update).unwrap().id;
    assert_eq!(j.get_job(u).unwrap().mode, JobMode::Update);
}
