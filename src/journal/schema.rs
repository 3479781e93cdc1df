//! The journal's tables and the migrations between their versions.
//!
//! `PRAGMA user_version` holds the schema version; `PRAGMA application_id`
//! marks the file as a waport journal so an unrelated SQLite database passed
//! as `--journal` is refused instead of being written into.

/// `application_id` of a waport journal: "WAPT" in ASCII.
pub const APPLICATION_ID: i32 = 0x5741_5054;

/// Migration `i` takes a journal from version `i` to `i + 1`. Append only:
/// a released migration is never edited, since journals in the field were
/// built by it.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1. Foreign keys are not declared: they would cost a lookup per
/// row write, and the code checks the job once per batch instead.
const V1: &str = r#"
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT    NOT NULL CHECK (kind IN ('import', 'migrate', 'rollback')),
    command           TEXT    NOT NULL,
    input_path        TEXT,
    input_fingerprint TEXT,
    platform          TEXT    NOT NULL,
    account_fp        TEXT    NOT NULL,
    entity            TEXT    NOT NULL,
    mode              TEXT    NOT NULL CHECK (mode IN ('create', 'upsert', 'delete')),
    parent_id         INTEGER,
    state             TEXT    NOT NULL CHECK (state IN ('running', 'interrupted', 'finished', 'failed')),
    pid               INTEGER,
    pid_start         INTEGER,
    host              TEXT,
    started_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    resumes           INTEGER NOT NULL DEFAULT 0,
    counts            TEXT
);
CREATE INDEX jobs_by_input ON jobs (input_fingerprint, platform, account_fp, entity, id);
CREATE INDEX jobs_by_parent ON jobs (parent_id);

CREATE TABLE rows (
    job_id       INTEGER NOT NULL,
    row_no       INTEGER NOT NULL,
    dedupe_key   TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'confirmed', 'failed',
                                                    'invalid', 'duplicate', 'skipped', 'unchanged')),
    outcome      TEXT    CHECK (outcome IN ('created', 'updated', 'exists', 'deleted', 'gone')),
    remote_id    TEXT,
    reason       TEXT,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (job_id, row_no)
) WITHOUT ROWID;

CREATE TABLE remote_state (
    platform     TEXT    NOT NULL,
    account_fp   TEXT    NOT NULL,
    entity       TEXT    NOT NULL,
    dedupe_key   TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    remote_id    TEXT    NOT NULL,
    job_id       INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (platform, account_fp, entity, dedupe_key)
) WITHOUT ROWID;
CREATE INDEX remote_state_by_id ON remote_state (platform, account_fp, entity, remote_id);

CREATE TABLE locks (
    platform     TEXT    NOT NULL,
    account_fp   TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    pid_start    INTEGER,
    host         TEXT    NOT NULL,
    job_id       INTEGER,
    acquired_at  INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    PRIMARY KEY (platform, account_fp)
);
"#;

/// Version 2: jobs may run in mode `update` (`--mode update`). SQLite
/// cannot change a CHECK constraint in place, so the jobs table is rebuilt
/// with the same columns and rows.
const V2: &str = r#"
CREATE TABLE jobs_v2 (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT    NOT NULL CHECK (kind IN ('import', 'migrate', 'rollback')),
    command           TEXT    NOT NULL,
    input_path        TEXT,
    input_fingerprint TEXT,
    platform          TEXT    NOT NULL,
    account_fp        TEXT    NOT NULL,
    entity            TEXT    NOT NULL,
    mode              TEXT    NOT NULL CHECK (mode IN ('create', 'upsert', 'update', 'delete')),
    parent_id         INTEGER,
    state             TEXT    NOT NULL CHECK (state IN ('running', 'interrupted', 'finished', 'failed')),
    pid               INTEGER,
    pid_start         INTEGER,
    host              TEXT,
    started_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    resumes           INTEGER NOT NULL DEFAULT 0,
    counts            TEXT
);
INSERT INTO jobs_v2 SELECT id, kind, command, input_path, input_fingerprint, platform, account_fp,
    entity, mode, parent_id, state, pid, pid_start, host, started_at, updated_at, finished_at,
    resumes, counts FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
CREATE INDEX jobs_by_input ON jobs (input_fingerprint, platform, account_fp, entity, id);
CREATE INDEX jobs_by_parent ON jobs (parent_id);
"#;

/// Version 3: whether the account held a row's contact when its job
/// started (`held_at_start`: 1 held, 0 not held, NULL unknown), recorded
/// the first time the row is marked pending and kept across resumes. A
/// contact found after this job's lost answer is the job's own creation
/// only when the account did not hold it before the job started; a resumed
/// run's own listing already shows what the interrupted run created, so
/// the evidence must come from the first run.
const V3: &str = r#"
ALTER TABLE rows ADD COLUMN held_at_start INTEGER;
"#;
