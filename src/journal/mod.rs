//! The job journal: what waport sent where, so a run can be resumed, repeated
//! as a nightly delta, or rolled back.
//!
//! One SQLite file (WAL mode, `synchronous=NORMAL`) holds four tables:
//!
//! - `jobs`: one row per `import`, `migrate` or `rollback` run, with the
//!   sanitized command, the input's content fingerprint, the target
//!   (platform, account fingerprint, entity), the mode and the state.
//! - `rows`: one row per input row of a job: dedupe key, content hash of the
//!   normalized contact and where it got to (see [`RowStatus`]).
//! - `remote_state`: per target and dedupe key, what waport last knew to be on
//!   the platform (content hash and remote id). It is what nightly deltas and
//!   rollback consult, and is kept up to date as outcomes are recorded.
//! - `locks`: at most one job per target at a time ([`TargetLock`]).
//!
//! # The write protocol
//!
//! For each batch: [`Journal::mark_pending`] (the intent), then
//! [`Journal::mark_sent`] right *before* the request leaves, then
//! [`Journal::record_outcomes`] once it returns. Each call is one transaction,
//! so the cost is one WAL commit a batch, not one a row. If the process dies,
//! a `pending` row was certainly never sent and can be sent again; a `sent`
//! row is in doubt and must be looked up on the platform (reconciled) first.
//! Rows that never reach the network (invalid, duplicate, skipped, unchanged)
//! are recorded with [`Journal::record_outcomes`] directly so that a resumed
//! job can reproduce the full report.
//!
//! # What `remote_state` means
//!
//! An entry is written the moment a row is recorded `confirmed`, whatever
//! later happens to its job: the platform acknowledged that content under
//! that id, so a job that was interrupted, resumed and finished (or never
//! finished) still counts. Precisely, for a confirmed row of any job to a
//! target:
//!
//! - `created` / `updated`: the entry becomes (content hash, remote id, job).
//! - `exists` (the platform already had it and nothing was written): the
//!   remote id is recorded; the content hash is kept if the entry already had
//!   that same remote id, otherwise it is empty, meaning "content unknown",
//!   so a later upsert run will send it again.
//! - `deleted` / `gone` (a rollback): every entry of that target with that
//!   remote id is removed (by dedupe key when the id is empty).
//! - A confirmed row with an empty remote id leaves `remote_state` alone:
//!   there is nothing to find the contact by later.
//!
//! Failed, pending and sent rows never touch it: the platform's state is
//! unknown for them.
//!
//! The journal never stores API keys, only [`account_fingerprint`]s, and
//! never request or response bodies.

mod fingerprint;
mod lock;
mod process;
mod refused;
mod sanitize;
mod schema;

pub use fingerprint::{
    account_fingerprint, default_path, fingerprint_file, resolve_default_path,
    resolve_default_path_in,
};
pub use lock::TargetLock;
pub use refused::JobRefused;
pub use sanitize::{REDACTED, sanitize_args};
pub use schema::CURRENT_VERSION;

use process::ProcessId;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// How long a writer waits for another process's transaction to end before
/// giving up. Batches commit in milliseconds, so ten seconds means something
/// is really stuck.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything that can go wrong with the journal. Each message is one
/// sentence that names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file is not an SQLite database, or its pages are damaged.
    #[error(
        "journal {path} is corrupt or not an SQLite database; move it aside (waport will start a new one) or pass --journal with another path"
    )]
    Corrupt {
        /// The journal file.
        path: PathBuf,
    },
    /// The file was written by a newer waport with a schema this one does not know.
    #[error(
        "journal {path} has schema version {found}, newer than the {supported} this waport understands; upgrade waport or pass --journal with another path"
    )]
    TooNew {
        /// The journal file.
        path: PathBuf,
        /// Version found in the file.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// The file is a valid SQLite database that belongs to something else.
    #[error(
        "{path} is an SQLite database but not a waport journal; pass --journal with another path"
    )]
    NotAJournal {
        /// The file.
        path: PathBuf,
    },
    /// The target is locked by a live job.
    #[error(
        "{platform} account {account_fp} is in use by {holder} (journal {path}); wait for it to end or stop it"
    )]
    Locked {
        /// The journal file.
        path: PathBuf,
        /// Target platform.
        platform: String,
        /// Target account fingerprint.
        account_fp: String,
        /// Who holds it, e.g. `job j-12 (pid 4242, since 2026-11-27T10:00:00Z)`.
        holder: String,
    },
    /// The schema is not what its version says (version 0 with tables in
    /// it, or a migration that fails): damaged or edited by hand.
    #[error(
        "journal {path} has a damaged schema ({detail}); move it aside (waport will start a new one) or pass --journal with another path"
    )]
    BadSchema {
        /// The journal file.
        path: PathBuf,
        /// What was found, in one line (never the schema's SQL).
        detail: String,
    },
    /// The account's lock file could not be created or locked.
    #[error("cannot lock the account with {path}")]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No job with that id.
    #[error("journal {path} has no job {id}")]
    NoSuchJob {
        /// The journal file.
        path: PathBuf,
        /// The id asked for.
        id: JobId,
    },
    /// A value that cannot be stored or was not understood when read back.
    #[error("journal {path}: {what}")]
    BadValue {
        /// The journal file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// No environment variable gives a place for the journal.
    #[error(
        "cannot find a place for the journal: set WAPORT_JOURNAL, XDG_DATA_HOME or HOME, or pass --journal"
    )]
    NoDataDir,
    /// The journal's directory could not be created.
    #[error("cannot create journal directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An input file could not be read for its fingerprint.
    #[error("cannot read {path}: {source}")]
    ReadInput {
        /// The input file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Any other SQLite failure (disk full, permissions, lock timeout).
    #[error("journal {path}: {source}")]
    Sqlite {
        /// The journal file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}

/// Result type of this module.
pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// Maps an SQLite error to a [`JournalError`] naming `path`, recognising
/// damage wherever it shows up rather than only at open.
pub(crate) fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
    move |e| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => JournalError::Corrupt {
            path: path.to_path_buf(),
        },
        _ => JournalError::Sqlite {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// A job's id: a small integer shown as `j-<n>`, so it is easy to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "j-{}", self.0)
    }
}

impl FromStr for JobId {
    type Err = String;

    /// Accepts `j-12`, `J-12` and plain `12`.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let digits = t
            .strip_prefix("j-")
            .or_else(|| t.strip_prefix("J-"))
            .unwrap_or(t);
        match digits.parse::<i64>() {
            Ok(n) if n > 0 => Ok(JobId(n)),
            _ => Err(format!(
                "invalid job id {s:?}: expected j-<number>, e.g. j-12"
            )),
        }
    }
}

/// Declares a plain enum stored as lowercase text.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// The stored (and displayed) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$v),)+
                    _ => Err(format!("unknown {} {s:?}", stringify!($name))),
                }
            }
        }
    };
}

text_enum!(
    /// What a job does.
    JobKind {
        /// Rows from a file to a platform.
        Import => "import",
        /// Contacts from one platform to another.
        Migrate => "migrate",
        /// Deleting what an earlier job created.
        Rollback => "rollback",
    }
);

text_enum!(
    /// How rows are written to the platform.
    JobMode {
        /// Only create; existing contacts are left alone.
        Create => "create",
        /// Create or update.
        Upsert => "upsert",
        /// Update existing contacts only.
        Update => "update",
        /// Delete (rollback jobs).
        Delete => "delete",
    }
);

text_enum!(
    /// Where a job is.
    JobState {
        /// Its process is alive and working.
        Running => "running",
        /// Stopped before the end (Ctrl-C, or the process died: a `running`
        /// job whose process is gone is reported as interrupted).
        Interrupted => "interrupted",
        /// Went through every row.
        Finished => "finished",
        /// Stopped by a fatal error (bad key, quota).
        Failed => "failed",
    }
);

text_enum!(
    /// Where a row is. `pending`, `sent` are transient; the rest are final.
    RowStatus {
        /// Chosen to be sent; the request has not left yet.
        Pending => "pending",
        /// The request left; its answer is not recorded (in doubt after a crash).
        Sent => "sent",
        /// The platform acknowledged it; see [`Outcome`].
        Confirmed => "confirmed",
        /// The platform refused it or it could not be sent.
        Failed => "failed",
        /// Rejected before sending (bad phone, missing field).
        Invalid => "invalid",
        /// Same dedupe key as an earlier row of the input.
        Duplicate => "duplicate",
        /// Deliberately not sent (e.g. the run stopped on a quota).
        Skipped => "skipped",
        /// Same content as last sent to this target (nightly deltas).
        Unchanged => "unchanged",
    }
);

impl RowStatus {
    /// A status a row does not leave by itself.
    pub fn is_final(self) -> bool {
        !matches!(self, RowStatus::Pending | RowStatus::Sent)
    }
}

text_enum!(
    /// What the platform did with a confirmed row.
    Outcome {
        /// A new contact was created.
        Created => "created",
        /// An existing contact was changed.
        Updated => "updated",
        /// It was already there and nothing was written.
        Exists => "exists",
        /// Deleted (rollback).
        Deleted => "deleted",
        /// Already gone when a rollback came to delete it.
        Gone => "gone",
    }
);

/// What a job is about, to start it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// import, migrate or rollback.
    pub kind: JobKind,
    /// The command line, already passed through [`sanitize_args`].
    pub command: String,
    /// The input file as given, if any.
    pub input_path: Option<String>,
    /// [`fingerprint_file`] of the input (or of the source, for a migrate).
    pub input_fingerprint: Option<String>,
    /// Target platform name (`wazzup`, `whaapy`, ...).
    pub platform: String,
    /// [`account_fingerprint`] of the target key.
    pub account_fp: String,
    /// `contacts` or `users`.
    pub entity: String,
    /// Write mode.
    pub mode: JobMode,
    /// For a rollback: the job being rolled back.
    pub parent: Option<JobId>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// import, migrate or rollback.
    pub kind: JobKind,
    /// The sanitized command line.
    pub command: String,
    /// The input file as given.
    pub input_path: Option<String>,
    /// Content fingerprint of the input.
    pub input_fingerprint: Option<String>,
    /// Target platform.
    pub platform: String,
    /// Target account fingerprint.
    pub account_fp: String,
    /// `contacts` or `users`.
    pub entity: String,
    /// Write mode.
    pub mode: JobMode,
    /// For a rollback: the job rolled back.
    pub parent: Option<JobId>,
    /// State; a stored `running` whose process is gone reads as `interrupted`.
    pub state: JobState,
    /// Process that last ran it.
    pub pid: Option<u32>,
    /// Unix seconds when first started.
    pub started_at: i64,
    /// Unix seconds of the last write (doubles as a heartbeat).
    pub updated_at: i64,
    /// Unix seconds when it ended (finished, failed or interrupted cleanly).
    pub finished_at: Option<i64>,
    /// How many times it was resumed.
    pub resumes: u32,
}

/// Row counts of a job by status, and of confirmed rows by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Rows pending.
    pub pending: u64,
    /// Rows sent without a recorded answer.
    pub sent: u64,
    /// Rows confirmed (sum of the outcomes below).
    pub confirmed: u64,
    /// Rows failed.
    pub failed: u64,
    /// Rows invalid.
    pub invalid: u64,
    /// Rows duplicate.
    pub duplicate: u64,
    /// Rows skipped.
    pub skipped: u64,
    /// Rows unchanged.
    pub unchanged: u64,
    /// Confirmed as created.
    pub created: u64,
    /// Confirmed as updated.
    pub updated: u64,
    /// Confirmed as already existing.
    pub exists: u64,
    /// Confirmed as deleted.
    pub deleted: u64,
    /// Confirmed as already gone.
    pub gone: u64,
}

impl StatusCounts {
    /// All rows recorded.
    pub fn total(&self) -> u64 {
        self.pending
            + self.sent
            + self.confirmed
            + self.failed
            + self.invalid
            + self.duplicate
            + self.skipped
            + self.unchanged
    }

    fn add(&mut self, status: RowStatus, outcome: Option<Outcome>, n: u64) {
        let slot = match status {
            RowStatus::Pending => &mut self.pending,
            RowStatus::Sent => &mut self.sent,
            RowStatus::Confirmed => &mut self.confirmed,
            RowStatus::Failed => &mut self.failed,
            RowStatus::Invalid => &mut self.invalid,
            RowStatus::Duplicate => &mut self.duplicate,
            RowStatus::Skipped => &mut self.skipped,
            RowStatus::Unchanged => &mut self.unchanged,
        };
        *slot += n;
        if status == RowStatus::Confirmed {
            match outcome {
                Some(Outcome::Created) => self.created += n,
                Some(Outcome::Updated) => self.updated += n,
                Some(Outcome::Exists) => self.exists += n,
                Some(Outcome::Deleted) => self.deleted += n,
                Some(Outcome::Gone) => self.gone += n,
                None => {}
            }
        }
    }
}

/// A job with its counts, for `waport jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobSummary {
    /// The job.
    pub job: Job,
    /// Its rows by status.
    pub counts: StatusCounts,
}

/// A row about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIntent {
    /// Row number in the input (as the report numbers it).
    pub row: u64,
    /// Dedupe key of the normalized contact.
    pub dedupe_key: String,
    /// Content hash of the normalized contact.
    pub content_hash: String,
}

/// How a row ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRecord {
    /// The platform acknowledged it. `remote_id` may be empty when the
    /// platform does not say (then `remote_state` is not updated).
    Confirmed {
        /// What the platform did.
        outcome: Outcome,
        /// The platform's id for the contact.
        remote_id: String,
    },
    /// Refused by the platform or not sendable.
    Failed {
        /// Why, for the report.
        reason: String,
    },
    /// Rejected before sending.
    Invalid {
        /// Why.
        reason: String,
    },
    /// A repeat within the input.
    Duplicate {
        /// Of what (e.g. "same phone as row 12").
        reason: String,
    },
    /// Not sent on purpose.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Same content as already on the platform.
    Unchanged {
        /// The contact's id there, from `remote_state`.
        remote_id: String,
    },
    /// Not settled, and an attempt of this job may have been carried out
    /// (its answer was lost, or the run stopped while it was in flight):
    /// kept `sent`, so the next run of the job looks before sending again.
    InDoubt {
        /// What the report said for the row.
        reason: String,
    },
}

impl RowRecord {
    fn columns(&self) -> (RowStatus, Option<Outcome>, Option<&str>, Option<&str>) {
        match self {
            RowRecord::Confirmed { outcome, remote_id } => {
                (RowStatus::Confirmed, Some(*outcome), Some(remote_id), None)
            }
            RowRecord::Failed { reason } => (RowStatus::Failed, None, None, Some(reason)),
            RowRecord::Invalid { reason } => (RowStatus::Invalid, None, None, Some(reason)),
            RowRecord::Duplicate { reason } => (RowStatus::Duplicate, None, None, Some(reason)),
            RowRecord::Skipped { reason } => (RowStatus::Skipped, None, None, Some(reason)),
            RowRecord::Unchanged { remote_id } => {
                (RowStatus::Unchanged, None, Some(remote_id), None)
            }
            RowRecord::InDoubt { reason } => (RowStatus::Sent, None, None, Some(reason)),
        }
    }
}

/// The end of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowOutcome {
    /// Row number in the input.
    pub row: u64,
    /// Dedupe key; `None` keeps the one given to [`Journal::mark_pending`]
    /// (empty if the row was never marked).
    pub dedupe_key: Option<String>,
    /// Content hash; `None` keeps the one given to [`Journal::mark_pending`].
    pub content_hash: Option<String>,
    /// What happened.
    pub result: RowRecord,
}

impl RowOutcome {
    /// The outcome of a row that was marked pending: key and hash are kept.
    pub fn of_sent(row: u64, result: RowRecord) -> Self {
        RowOutcome {
            row,
            dedupe_key: None,
            content_hash: None,
            result,
        }
    }

    /// The outcome of a row that never went through `mark_pending`.
    pub fn new(row: u64, dedupe_key: &str, content_hash: &str, result: RowRecord) -> Self {
        RowOutcome {
            row,
            dedupe_key: Some(dedupe_key.to_string()),
            content_hash: Some(content_hash.to_string()),
            result,
        }
    }
}

/// A row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowState {
    /// Row number in the input.
    pub row: u64,
    /// Dedupe key.
    pub dedupe_key: String,
    /// Content hash.
    pub content_hash: String,
    /// Where it is.
    pub status: RowStatus,
    /// For confirmed rows, what the platform did.
    pub outcome: Option<Outcome>,
    /// The platform's id, once known.
    pub remote_id: Option<String>,
    /// Why it failed or was not sent.
    pub reason: Option<String>,
    /// Unix seconds of the last change.
    pub updated_at: i64,
    /// Whether the account held the contact when the job started, as the
    /// first run that sent the row knew it (`None`: unknown).
    pub held_at_start: Option<bool>,
}

/// A contact a job created, for rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedRow {
    /// Row number in the job's input.
    pub row: u64,
    /// Dedupe key.
    pub dedupe_key: String,
    /// The platform's id.
    pub remote_id: String,
    /// Whether a rollback job of this job already confirmed it deleted (or gone).
    pub rolled_back: bool,
}

/// The journal: one open SQLite connection.
///
/// Not `Sync`: one thread at a time uses it (wrap it in a mutex or give it to
/// one task). Several processes may open the same file: SQLite's locking and
/// the busy timeout serialise their writes.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    me: ProcessId,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

const JOB_COLUMNS: &str = "id, kind, command, input_path, input_fingerprint, platform, account_fp, \
     entity, mode, parent_id, state, pid, pid_start, host, started_at, updated_at, finished_at, \
     resumes, counts";

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Opens a connection with the journal's settings, without touching the
/// schema. Shared by [`Journal::open`] and [`TargetLock`].
pub(crate) fn connect(path: &Path) -> Result<Connection> {
    let e = sql_err(path);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(&e)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(&e)?;
    // Upserts and RETURNING use statement journals and ephemeral tables; in
    // temporary files (the default) they made each row cost ~200 µs, in
    // memory ~10 µs. They are small: at most one batch.
    conn.execute_batch("PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;")
        .map_err(&e)?;
    Ok(conn)
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`, creating its
    /// directory and bringing its schema up to date.
    ///
    /// Fails with [`JournalError::Corrupt`] for a damaged file,
    /// [`JournalError::TooNew`] for a journal from a newer waport and
    /// [`JournalError::NotAJournal`] for another program's database; none of
    /// these is modified.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        // Two processes opening a new journal at once can both try to switch
        // it to WAL; SQLite answers one of them SQLITE_BUSY at once, without
        // calling the busy handler (it would deadlock). Opening again after
        // a moment succeeds, so retry within the usual busy timeout.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match Self::open_once(path.as_ref()) {
                Err(JournalError::Sqlite { source, .. })
                    if source.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20 + fastrand::u64(0..30)));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self> {
        let path = path.to_path_buf();
        fingerprint::ensure_parent(&path)?;
        create_private(&path);
        let conn = connect(&path)?;
        let e = sql_err(&path);

        // Read the header first: a file that is not a database fails here,
        // before anything tries to write to it.
        let (app_id, version): (i32, i64) = conn
            .query_row(
                "SELECT application_id, user_version FROM pragma_application_id, pragma_user_version",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(&e)?;
        check_header(&path, app_id, version)?;

        // WAL lets readers (`waport jobs`) run beside a writer, and with
        // synchronous=NORMAL a commit costs no fsync, which is what makes a
        // transaction per batch cheap. A crash may lose the last commits but
        // never corrupts the file.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(&e)?;
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;")
            .map_err(&e)?;
        conn.set_prepared_statement_cache_capacity(32);

        let mut journal = Journal {
            conn,
            path: path.clone(),
            me: ProcessId::current(),
        };
        if version < CURRENT_VERSION {
            journal.migrate()?;
        }
        Ok(journal)
    }

    /// Opens the journal at `path` for reading only (`waport jobs`): never
    /// creates the file or its directory, never changes its schema or mode,
    /// and works on a read-only file system. `Ok(None)` when there is no
    /// journal there yet, or an empty one.
    ///
    /// A WAL journal normally needs its `-shm` file, which a read-only file
    /// system cannot create; then the file is opened as immutable (SQLite's
    /// `immutable=1`), which is right because nothing can write to it there.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Option<Self>> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Ok(None);
        }
        let shown = path.clone();
        let e = sql_err(&shown);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let header = |conn: &Connection| -> rusqlite::Result<(i32, i64)> {
            conn.query_row(
                "SELECT application_id, user_version FROM pragma_application_id, pragma_user_version",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        };
        let opened =
            Connection::open_with_flags(&path, flags).and_then(|c| header(&c).map(|h| (c, h)));
        let (conn, (app_id, version)) = match opened {
            Ok(found) => found,
            Err(err) if err.sqlite_error_code() == Some(ErrorCode::CannotOpen) => {
                let uri = immutable_uri(&path);
                let c = Connection::open_with_flags(&uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .map_err(&e)?;
                let h = header(&c).map_err(&e)?;
                (c, h)
            }
            Err(err) => return Err(e(err)),
        };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(&e)?;
        check_header(&path, app_id, version)?;
        if version == 0 {
            let tables: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
                    [],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            if tables == 0 {
                return Ok(None);
            }
            return Err(if app_id == schema::APPLICATION_ID {
                JournalError::BadSchema {
                    path,
                    detail: format!("schema version 0, yet it already has {tables} tables"),
                }
            } else {
                JournalError::NotAJournal { path }
            });
        }
        if version < CURRENT_VERSION {
            return Err(JournalError::BadSchema {
                path,
                detail: format!(
                    "schema version {version}: run an import once to bring it to {CURRENT_VERSION}"
                ),
            });
        }
        Ok(Some(Journal {
            conn,
            path,
            me: ProcessId::current(),
        }))
    }

    /// Opens the journal at [`default_path`].
    pub fn open_default() -> Result<Self> {
        Journal::open(default_path()?)
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql_err(&self.path))
    }

    /// Brings the schema to [`CURRENT_VERSION`] in one immediate transaction,
    /// re-reading the version inside it because another process may have
    /// migrated the file in the meantime.
    fn migrate(&mut self) -> Result<()> {
        let path = self.path.clone();
        let e = sql_err(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        let (app_id, version): (i32, i64) = tx
            .query_row(
                "SELECT application_id, user_version FROM pragma_application_id, pragma_user_version",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(&e)?;
        check_header(&path, app_id, version)?;
        if version == 0 && app_id == 0 {
            // An SQLite file that was never a journal may hold someone
            // else's data: only an empty one is adopted.
            let tables: i64 = tx
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
                    [],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            if tables > 0 {
                return Err(JournalError::NotAJournal { path: path.clone() });
            }
        }
        if version == 0 && app_id == schema::APPLICATION_ID {
            // Marked as a journal but at version 0: only a journal whose
            // version was reset (by hand, or damage) has tables here, and
            // running the first migration on it would fail with the whole
            // schema's SQL as its message.
            let tables: i64 = tx
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
                    [],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            if tables > 0 {
                return Err(JournalError::BadSchema {
                    path: path.clone(),
                    detail: format!("schema version 0, yet it already has {tables} tables"),
                });
            }
        }
        let start = usize::try_from(version).unwrap_or(0);
        for (i, sql) in schema::MIGRATIONS[start..].iter().enumerate() {
            let from = start + i;
            tx.execute_batch(sql)
                .map_err(|err| JournalError::BadSchema {
                    path: path.clone(),
                    detail: format!(
                        "moving it from schema version {from} to {} failed: {}",
                        from + 1,
                        short_sqlite_message(&err)
                    ),
                })?;
        }
        tx.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .map_err(&e)?;
        tx.pragma_update(None, "user_version", CURRENT_VERSION)
            .map_err(&e)?;
        tx.commit().map_err(&e)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
        sql_err(&self.path)
    }

    fn no_such_job(&self, id: JobId) -> JournalError {
        JournalError::NoSuchJob {
            path: self.path.clone(),
            id,
        }
    }

    /// Records a new job in state `running`, owned by this process.
    ///
    /// `spec.command` should come from [`sanitize_args`]; as a second line
    /// of defence it is checked again, and stored re-sanitized if that hides
    /// anything more.
    pub fn start_job(&mut self, spec: &NewJob) -> Result<Job> {
        let t = now();
        let command = resanitize(&spec.command);
        let id: i64 = self
            .conn
            .query_row(
                "INSERT INTO jobs (kind, command, input_path, input_fingerprint, platform, \
                 account_fp, entity, mode, parent_id, state, pid, pid_start, host, started_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'running', ?10, ?11, \
                 ?12, ?13, ?13) RETURNING id",
                params![
                    spec.kind.as_str(),
                    command,
                    spec.input_path,
                    spec.input_fingerprint,
                    spec.platform,
                    spec.account_fp,
                    spec.entity,
                    spec.mode.as_str(),
                    spec.parent.map(|p| p.0),
                    self.me.pid,
                    self.me.start,
                    self.me.host,
                    t,
                ],
                |r| r.get(0),
            )
            .map_err(self.err())?;
        self.get_job(JobId(id))
    }

    /// Takes over an unfinished job: state `running`, this process, one more
    /// resume counted.
    pub fn resume_job(&mut self, id: JobId) -> Result<Job> {
        let n = self
            .conn
            .execute(
                "UPDATE jobs SET state = 'running', pid = ?2, pid_start = ?3, host = ?4, \
                 updated_at = ?5, finished_at = NULL, counts = NULL, resumes = resumes + 1 \
                 WHERE id = ?1",
                params![id.0, self.me.pid, self.me.start, self.me.host, now()],
            )
            .map_err(self.err())?;
        if n == 0 {
            return Err(self.no_such_job(id));
        }
        self.get_job(id)
    }

    /// Ends a job as `finished`, `failed` or `interrupted`, storing its final
    /// counts so `waport jobs` need not count rows again.
    pub fn end_job(&mut self, id: JobId, state: JobState) -> Result<Job> {
        if state == JobState::Running {
            return Err(JournalError::BadValue {
                path: self.path.clone(),
                what: format!("job {id} cannot end in state running"),
            });
        }
        let counts = self.live_counts(id)?;
        let json = serde_json::to_string(&counts).map_err(|e| JournalError::BadValue {
            path: self.path.clone(),
            what: format!("cannot encode counts: {e}"),
        })?;
        let t = now();
        let n = self
            .conn
            .execute(
                "UPDATE jobs SET state = ?2, finished_at = ?3, updated_at = ?3, counts = ?4 \
                 WHERE id = ?1",
                params![id.0, state.as_str(), t, json],
            )
            .map_err(self.err())?;
        if n == 0 {
            return Err(self.no_such_job(id));
        }
        self.get_job(id)
    }

    /// One job, or [`JournalError::NoSuchJob`].
    pub fn get_job(&self, id: JobId) -> Result<Job> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
        let raw = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([id.0], RawJob::read).optional())
            .map_err(self.err())?;
        match raw {
            Some(raw) => self.job_from(raw).map(|(job, _)| job),
            None => Err(self.no_such_job(id)),
        }
    }

    /// The latest `limit` jobs, newest first, with their counts.
    pub fn list_jobs(&self, limit: usize) -> Result<Vec<JobSummary>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?1");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let raws = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map([limit], RawJob::read)?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(self.err())?;
        let mut out = Vec::with_capacity(raws.len());
        for raw in raws {
            let (job, stored) = self.job_from(raw)?;
            let counts = match stored {
                Some(c) => c,
                None => self.live_counts(job.id)?,
            };
            out.push(JobSummary { job, counts });
        }
        Ok(out)
    }

    /// A job's rows counted now.
    pub fn counts(&self, id: JobId) -> Result<StatusCounts> {
        self.get_job(id)?;
        self.live_counts(id)
    }

    fn live_counts(&self, id: JobId) -> Result<StatusCounts> {
        let mut counts = StatusCounts::default();
        let groups = self
            .conn
            .prepare_cached(
                "SELECT status, outcome, count(*) FROM rows WHERE job_id = ?1 \
                 GROUP BY status, outcome",
            )
            .and_then(|mut s| {
                s.query_map([id.0], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(self.err())?;
        for (status, outcome, n) in groups {
            let status = self.parse::<RowStatus>(&status)?;
            let outcome = outcome.map(|o| self.parse::<Outcome>(&o)).transpose()?;
            counts.add(status, outcome, u64::try_from(n).unwrap_or(0));
        }
        Ok(counts)
    }

    fn parse<T: FromStr<Err = String>>(&self, s: &str) -> Result<T> {
        s.parse().map_err(|what| JournalError::BadValue {
            path: self.path.clone(),
            what,
        })
    }

    /// Turns a stored job into a [`Job`], reporting a `running` job whose
    /// process is gone as `interrupted`; also returns the stored counts when
    /// they are final.
    fn job_from(&self, raw: RawJob) -> Result<(Job, Option<StatusCounts>)> {
        let mut state = self.parse::<JobState>(&raw.state)?;
        if state == JobState::Running {
            let alive = match raw.pid {
                Some(pid) => self.me.holder_alive(
                    pid,
                    raw.pid_start,
                    raw.host.as_deref().unwrap_or(""),
                    raw.updated_at,
                    now(),
                ),
                None => false,
            };
            if !alive {
                state = JobState::Interrupted;
            }
        }
        let stored = match (&raw.counts, raw.state.as_str()) {
            (Some(json), s) if s != "running" => serde_json::from_str(json).ok(),
            _ => None,
        };
        let job = Job {
            id: JobId(raw.id),
            kind: self.parse(&raw.kind)?,
            command: raw.command,
            input_path: raw.input_path,
            input_fingerprint: raw.input_fingerprint,
            platform: raw.platform,
            account_fp: raw.account_fp,
            entity: raw.entity,
            mode: self.parse(&raw.mode)?,
            parent: raw.parent_id.map(JobId),
            state,
            pid: raw.pid.and_then(|p| u32::try_from(p).ok()),
            started_at: raw.started_at,
            updated_at: raw.updated_at,
            finished_at: raw.finished_at,
            resumes: u32::try_from(raw.resumes).unwrap_or(0),
        };
        Ok((job, stored))
    }

    /// Records the intent to send `rows`, in one transaction. A row already
    /// `confirmed` in this job is left as it is (its remote id is what a
    /// rollback needs); any other is (re)set to `pending`. Returns how many
    /// rows were marked.
    pub fn mark_pending(&mut self, job: JobId, rows: &[RowIntent]) -> Result<usize> {
        self.mark_pending_held(job, rows, &[])
    }

    /// [`Journal::mark_pending`], recording for each row whether the
    /// account held its contact when the job started (`held[i]` for
    /// `rows[i]`; missing or `None`: unknown). The first value recorded for
    /// a row is kept: a resumed run cannot know better than the run that
    /// read the account before anything was sent.
    pub fn mark_pending_held(
        &mut self,
        job: JobId,
        rows: &[RowIntent],
        held: &[Option<bool>],
    ) -> Result<usize> {
        let path = self.path.clone();
        let e = sql_err(&path);
        let t = now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        touch(&tx, job, t, &path)?;
        let mut marked = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO rows (job_id, row_no, dedupe_key, content_hash, status, updated_at, \
                     held_at_start) \
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6) \
                     ON CONFLICT (job_id, row_no) DO UPDATE SET \
                     dedupe_key = excluded.dedupe_key, content_hash = excluded.content_hash, \
                     status = 'pending', outcome = NULL, reason = NULL, \
                     updated_at = excluded.updated_at, \
                     held_at_start = coalesce(rows.held_at_start, excluded.held_at_start) \
                     WHERE rows.status <> 'confirmed'",
                )
                .map_err(&e)?;
            for (i, r) in rows.iter().enumerate() {
                let row = self_row_no(&path, r.row)?;
                let h = held.get(i).copied().flatten().map(i64::from);
                marked += stmt
                    .execute(params![job.0, row, r.dedupe_key, r.content_hash, t, h])
                    .map_err(&e)?;
            }
        }
        tx.commit().map_err(&e)?;
        Ok(marked)
    }

    /// Records that the requests for `rows` are about to leave, in one
    /// transaction: `pending` → `sent`. Rows in any other status are left
    /// alone; returns how many changed.
    pub fn mark_sent(&mut self, job: JobId, rows: &[u64]) -> Result<usize> {
        let path = self.path.clone();
        let e = sql_err(&path);
        let t = now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        touch(&tx, job, t, &path)?;
        let mut changed = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE rows SET status = 'sent', updated_at = ?3 \
                     WHERE job_id = ?1 AND row_no = ?2 AND status = 'pending'",
                )
                .map_err(&e)?;
            for &row in rows {
                let row = self_row_no(&path, row)?;
                changed += stmt.execute(params![job.0, row, t]).map_err(&e)?;
            }
        }
        tx.commit().map_err(&e)?;
        Ok(changed)
    }

    /// Records how `outcomes` ended, in one transaction, and keeps
    /// `remote_state` in step (see the module docs for the exact rules).
    ///
    /// Rows not marked before are inserted (invalid, duplicate, unchanged
    /// rows are never sent). A confirmed `exists` does not overwrite a
    /// `created` with the same remote id: when a resumed run reconciles a row
    /// its crashed predecessor had created, the creation still belongs to
    /// this job and rollback must find it.
    pub fn record_outcomes(&mut self, job: JobId, outcomes: &[RowOutcome]) -> Result<()> {
        let path = self.path.clone();
        let e = sql_err(&path);
        let t = now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        let (platform, account, entity) = touch(&tx, job, t, &path)?;
        {
            // Plain UPDATE first and INSERT only when nothing matched: most
            // rows were marked pending, and an UPDATE costs SQLite about
            // half of what an upsert does.
            let mut update = tx
                .prepare_cached(
                    "UPDATE rows SET \
                     dedupe_key = coalesce(?3, dedupe_key), \
                     content_hash = coalesce(?4, content_hash), \
                     status = ?5, \
                     outcome = CASE WHEN outcome = 'created' AND ?6 = 'exists' \
                                     AND remote_id IS ?7 THEN 'created' ELSE ?6 END, \
                     remote_id = coalesce(?7, remote_id), \
                     reason = ?8, updated_at = ?9 \
                     WHERE job_id = ?1 AND row_no = ?2",
                )
                .map_err(&e)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO rows (job_id, row_no, dedupe_key, content_hash, status, outcome, \
                     remote_id, reason, updated_at) \
                     VALUES (?1, ?2, coalesce(?3, ''), coalesce(?4, ''), ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(&e)?;
            let mut stored = tx
                .prepare_cached(
                    "SELECT dedupe_key, content_hash FROM rows WHERE job_id = ?1 AND row_no = ?2",
                )
                .map_err(&e)?;
            let mut put = tx
                .prepare_cached(
                    "UPDATE remote_state SET \
                     content_hash = CASE WHEN ?3 AND remote_id = ?4 THEN content_hash ELSE ?2 END, \
                     remote_id = ?4, job_id = ?5, updated_at = ?6 \
                     WHERE platform = ?7 AND account_fp = ?8 AND entity = ?9 AND dedupe_key = ?1",
                )
                .map_err(&e)?;
            let mut put_new = tx
                .prepare_cached(
                    "INSERT INTO remote_state (platform, account_fp, entity, dedupe_key, \
                     content_hash, remote_id, job_id, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(&e)?;
            let mut del_by_id = tx
                .prepare_cached(
                    "DELETE FROM remote_state WHERE platform = ?1 AND account_fp = ?2 \
                     AND entity = ?3 AND remote_id = ?4",
                )
                .map_err(&e)?;
            let mut del_by_key = tx
                .prepare_cached(
                    "DELETE FROM remote_state WHERE platform = ?1 AND account_fp = ?2 \
                     AND entity = ?3 AND dedupe_key = ?4",
                )
                .map_err(&e)?;
            for o in outcomes {
                let row = self_row_no(&path, o.row)?;
                let (status, outcome, remote_id, reason) = o.result.columns();
                let p = params![
                    job.0,
                    row,
                    o.dedupe_key,
                    o.content_hash,
                    status.as_str(),
                    outcome.map(Outcome::as_str),
                    remote_id,
                    reason,
                    t
                ];
                if update.execute(p).map_err(&e)? == 0 {
                    insert.execute(p).map_err(&e)?;
                }
                let remote_id = remote_id.unwrap_or("");
                // The key and hash as stored (given now or at mark_pending).
                let mut key_hash = || -> Result<(String, String)> {
                    match (&o.dedupe_key, &o.content_hash) {
                        (Some(k), Some(h)) => Ok((k.clone(), h.clone())),
                        _ => stored
                            .query_row(params![job.0, row], |r| Ok((r.get(0)?, r.get(1)?)))
                            .map_err(&e),
                    }
                };
                match outcome {
                    Some(Outcome::Deleted | Outcome::Gone) if !remote_id.is_empty() => {
                        del_by_id
                            .execute(params![platform, account, entity, remote_id])
                            .map_err(&e)?;
                    }
                    Some(Outcome::Deleted | Outcome::Gone) => {
                        let (key, _) = key_hash()?;
                        del_by_key
                            .execute(params![platform, account, entity, key])
                            .map_err(&e)?;
                    }
                    Some(oc) if !remote_id.is_empty() => {
                        let (key, hash) = key_hash()?;
                        let exists = oc == Outcome::Exists;
                        let hash = if exists { "" } else { hash.as_str() };
                        let n = put
                            .execute(params![
                                key, hash, exists, remote_id, job.0, t, platform, account, entity
                            ])
                            .map_err(&e)?;
                        if n == 0 {
                            put_new
                                .execute(params![
                                    platform, account, entity, key, hash, remote_id, job.0, t
                                ])
                                .map_err(&e)?;
                        }
                    }
                    _ => {}
                }
            }
        }
        tx.commit().map_err(&e)
    }

    /// Every recorded row of a job, in row order. On resume: `confirmed` and
    /// the other final statuses are done; `sent` rows must be reconciled
    /// with the platform before sending again; `pending` rows never left
    /// (if the caller follows the write protocol); rows absent here never
    /// started.
    pub fn rows(&self, job: JobId) -> Result<Vec<RowState>> {
        self.get_job(job)?;
        let raws = self
            .conn
            .prepare_cached(
                "SELECT row_no, dedupe_key, content_hash, status, outcome, remote_id, reason, \
                 updated_at, held_at_start FROM rows WHERE job_id = ?1 ORDER BY row_no",
            )
            .and_then(|mut s| {
                s.query_map([job.0], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, i64>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(self.err())?;
        raws.into_iter()
            .map(
                |(row, key, hash, status, outcome, remote_id, reason, at, held)| {
                    Ok(RowState {
                        row: u64::try_from(row).unwrap_or(0),
                        dedupe_key: key,
                        content_hash: hash,
                        status: self.parse(&status)?,
                        outcome: outcome.map(|o| self.parse(&o)).transpose()?,
                        remote_id,
                        reason,
                        updated_at: at,
                        held_at_start: held.map(|h| h != 0),
                    })
                },
            )
            .collect()
    }

    /// The job a new run with the same input, target and account should
    /// resume: the latest `import` or `migrate` job for them, if it is not
    /// finished (interrupted, failed, or `running` with its process gone).
    ///
    /// Only the latest job counts: once a later run finished, an older
    /// interrupted one is superseded and is not offered again. The mode is
    /// not compared; the caller decides whether a job started as `create`
    /// may be resumed as `upsert`. A job still running in a live process is
    /// returned with state `running`: take the [`TargetLock`] first and that
    /// cannot happen.
    pub fn find_resumable(
        &self,
        input_fingerprint: &str,
        platform: &str,
        account_fp: &str,
        entity: &str,
    ) -> Result<Option<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE input_fingerprint = ?1 AND platform = ?2 \
             AND account_fp = ?3 AND entity = ?4 AND kind IN ('import', 'migrate') \
             ORDER BY id DESC LIMIT 1"
        );
        let raw = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row(
                    params![input_fingerprint, platform, account_fp, entity],
                    RawJob::read,
                )
                .optional()
            })
            .map_err(self.err())?;
        match raw {
            None => Ok(None),
            Some(raw) => {
                let (job, _) = self.job_from(raw)?;
                Ok((job.state != JobState::Finished).then_some(job))
            }
        }
    }

    /// For nightly deltas: dedupe key → (content hash, remote id) of what
    /// waport last knew to be on the target (see the module docs). An empty
    /// hash means the content there is unknown: send it again in upsert mode.
    pub fn last_sent_hashes(
        &self,
        platform: &str,
        account_fp: &str,
        entity: &str,
    ) -> Result<HashMap<String, (String, String)>> {
        let mut map = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT dedupe_key, content_hash, remote_id FROM remote_state \
                 WHERE platform = ?1 AND account_fp = ?2 AND entity = ?3",
            )
            .map_err(self.err())?;
        let mut rows = stmt
            .query(params![platform, account_fp, entity])
            .map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            map.insert(
                r.get(0).map_err(self.err())?,
                (r.get(1).map_err(self.err())?, r.get(2).map_err(self.err())?),
            );
        }
        Ok(map)
    }

    /// One `remote_state` entry: (content hash, remote id), for reconciling a
    /// single row.
    pub fn remote_entry(
        &self,
        platform: &str,
        account_fp: &str,
        entity: &str,
        dedupe_key: &str,
    ) -> Result<Option<(String, String)>> {
        self.conn
            .prepare_cached(
                "SELECT content_hash, remote_id FROM remote_state WHERE platform = ?1 \
                 AND account_fp = ?2 AND entity = ?3 AND dedupe_key = ?4",
            )
            .and_then(|mut s| {
                s.query_row(params![platform, account_fp, entity, dedupe_key], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(self.err())
    }

    /// The contacts `job` created (confirmed with outcome `created`, not
    /// `updated` or `exists`), in row order, each flagged if a rollback job
    /// of `job` (`parent` = `job`) already confirmed it deleted or gone.
    ///
    /// A rollback job records its rows under the original row numbers, so
    /// resuming a half-done rollback only needs the rows not yet flagged.
    pub fn created_by(&self, job: JobId) -> Result<Vec<CreatedRow>> {
        self.get_job(job)?;
        let raws = self
            .conn
            .prepare_cached(
                "SELECT r.row_no, r.dedupe_key, r.remote_id, EXISTS ( \
                   SELECT 1 FROM jobs j JOIN rows d ON d.job_id = j.id AND d.row_no = r.row_no \
                   WHERE j.parent_id = r.job_id AND j.kind = 'rollback' \
                     AND d.status = 'confirmed' AND d.outcome IN ('deleted', 'gone') \
                     AND d.remote_id = r.remote_id) \
                 FROM rows r WHERE r.job_id = ?1 AND r.status = 'confirmed' \
                   AND r.outcome = 'created' AND r.remote_id IS NOT NULL \
                 ORDER BY r.row_no",
            )
            .and_then(|mut s| {
                s.query_map([job.0], |r| {
                    Ok(CreatedRow {
                        row: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        dedupe_key: r.get(1)?,
                        remote_id: r.get(2)?,
                        rolled_back: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(self.err())?;
        Ok(raws)
    }

    /// Takes the lock that allows one job at a time per target (platform and
    /// account). Fails with [`JournalError::Locked`], naming the holder, if a
    /// live process holds it; takes it over from a dead one. Released when
    /// the returned guard is dropped.
    pub fn acquire_target_lock(&self, platform: &str, account_fp: &str) -> Result<TargetLock> {
        TargetLock::acquire(&self.path, &self.me, platform, account_fp)
    }
}

/// Runs an already joined command line through [`sanitize_args`] again,
/// word by word. Quoting may come out mangled, so the result is used only if
/// it hides more than the original did.
fn resanitize(command: &str) -> String {
    let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    let again = sanitize_args(&words);
    if again.matches(REDACTED).count() > command.matches(REDACTED).count() {
        again
    } else {
        command.to_string()
    }
}

/// Marks `job` written to now, and returns its target; fails if it does not exist.
fn touch(
    tx: &rusqlite::Transaction<'_>,
    job: JobId,
    t: i64,
    path: &Path,
) -> Result<(String, String, String)> {
    tx.prepare_cached(
        "UPDATE jobs SET updated_at = ?2 WHERE id = ?1 RETURNING platform, account_fp, entity",
    )
    .and_then(|mut s| {
        s.query_row(params![job.0, t], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
    })
    .map_err(sql_err(path))?
    .ok_or_else(|| JournalError::NoSuchJob {
        path: path.to_path_buf(),
        id: job,
    })
}

fn self_row_no(path: &Path, row: u64) -> Result<i64> {
    i64::try_from(row).map_err(|_| JournalError::BadValue {
        path: path.to_path_buf(),
        what: format!("row number {row} is too large"),
    })
}

/// SQLite's message for `err` without the SQL it ran (rusqlite puts a
/// whole statement batch in the message of a syntax error).
fn short_sqlite_message(err: &rusqlite::Error) -> String {
    match err {
        rusqlite::Error::SqliteFailure(f, Some(msg)) => format!("{msg} ({:?})", f.code),
        rusqlite::Error::SqliteFailure(f, None) => format!("{:?}", f.code),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// Refuses a file that is another program's, or a newer journal.
fn check_header(path: &Path, app_id: i32, version: i64) -> Result<()> {
    if app_id != 0 && app_id != schema::APPLICATION_ID {
        return Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
        });
    }
    if version > CURRENT_VERSION {
        return Err(JournalError::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: CURRENT_VERSION,
        });
    }
    if version < 0 || (version > 0 && app_id == 0) {
        // A positive version without our id is some other program's schema.
        return Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// A `file:` URI opening `path` as immutable, with the characters URIs
/// reserve escaped.
fn immutable_uri(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::from("file:");
    for b in abs.to_string_lossy().bytes() {
        match b {
            b'?' | b'#' | b'%' => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out.push_str("?immutable=1");
    out
}

/// Creates a missing journal file readable by its owner only: it holds
/// command lines and contact keys (phones, e-mails). Failure is left to the
/// SQLite open that follows, which reports it with the path.
fn create_private(path: &Path) {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let _ = opts.open(path);
}

/// A `jobs` row as read, before validation.
struct RawJob {
    id: i64,
    kind: String,
    command: String,
    input_path: Option<String>,
    input_fingerprint: Option<String>,
    platform: String,
    account_fp: String,
    entity: String,
    mode: String,
    parent_id: Option<i64>,
    state: String,
    pid: Option<i64>,
    pid_start: Option<i64>,
    host: Option<String>,
    started_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
    resumes: i64,
    counts: Option<String>,
}

impl RawJob {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawJob {
            id: r.get(0)?,
            kind: r.get(1)?,
            command: r.get(2)?,
            input_path: r.get(3)?,
            input_fingerprint: r.get(4)?,
            platform: r.get(5)?,
            account_fp: r.get(6)?,
            entity: r.get(7)?,
            mode: r.get(8)?,
            parent_id: r.get(9)?,
            state: r.get(10)?,
            pid: r.get(11)?,
            pid_start: r.get(12)?,
            host: r.get(13)?,
            started_at: r.get(14)?,
            updated_at: r.get(15)?,
            finished_at: r.get(16)?,
            resumes: r.get(17)?,
            counts: r.get(18)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_read_back() {
        assert_eq!("j-12".parse::<JobId>(), Ok(JobId(12)));
        assert_eq!(" J-3 ".parse::<JobId>(), Ok(JobId(3)));
        assert_eq!("7".parse::<JobId>(), Ok(JobId(7)));
        assert!("j-0".parse::<JobId>().is_err());
        assert!("job".parse::<JobId>().is_err());
        assert_eq!(JobId(42).to_string(), "j-42");
    }
}
