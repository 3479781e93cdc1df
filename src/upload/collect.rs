//! The collect stage of the write half: every row's final outcome into the
//! journal and the report, in input order, each row exactly once.
//!
//! Two streams arrive: rows the plan settled without a request, and the
//! send stage's outcomes (in completion order). [`Collector`] joins each
//! outcome to its row's report line; [`JobLog`] records intents before a
//! request leaves and outcomes after it returns.

use crate::journal::{
    JobId, Journal, JournalError, Outcome, RowIntent, RowOutcome, RowRecord as JRow,
};
use crate::model::{Item, ItemOutcome, Status, WriteMode};
use crate::report::{ReportError, ReportWriter, RowResult};
use crate::upload::UploadHooks;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the journal needs of a row handed to the send stage.
#[derive(Debug, Clone, Default)]
pub struct Intent {
    /// The row's dedupe key.
    pub key: String,
    /// Its content hash ([`crate::upload::plan::content_hash`]).
    pub hash: String,
    /// The remote id this account already had for the key, if any.
    pub known: String,
}

/// What an answer really means for the report and a rollback.
///
/// - A contact found after an attempt of this job that may have created it
///   (`in_doubt`) is this job's creation — `created`, and rolled back with
///   the job — when the account's listing read before the job's first
///   write showed it absent (`held_at_start == Some(false)`: Wazzup,
///   Wipsy; kept in the journal for a resumed run). Otherwise the lost
///   answer may have been an update's or a duplicate's: `exists` in create
///   mode, `updated` otherwise — never `created` without proof, since a
///   rollback would delete a contact the user had.
/// - For an id the journal already knew for the key, `created` is an
///   update (Wazzup's upsert answers the same for both) — except in create
///   mode, which never updates: there the adapter only creates what the
///   account did not hold, so `created` stands.
pub fn settle(o: &ItemOutcome, known: &str, mode: WriteMode) -> Status {
    let found = matches!(o.status, Status::Created | Status::Updated | Status::Exists)
        && !o.remote_id.is_empty();
    if found && o.in_doubt {
        // Only a listing that showed the contact absent proves it new: with
        // none (Whaapy, WapiFlow), a contact you had whose "duplicate"
        // answer was lost looks the same as one this job made.
        if o.held_at_start == Some(false) {
            return Status::Created;
        }
        return match (mode, o.status) {
            (WriteMode::Create, _) => Status::Exists,
            (_, Status::Created) => Status::Updated,
            (_, s) => s,
        };
    }
    if o.status == Status::Created
        && mode != WriteMode::Create
        && !known.is_empty()
        && known == o.remote_id
    {
        return Status::Updated;
    }
    o.status
}

/// The journal's record of a sent row: its settled status, or — when it
/// did not settle (failed, interrupted) after an attempt that may have
/// been carried out — `sent`, so the job's next run looks before sending.
fn journal_sent(o: &ItemOutcome, status: Status) -> Option<JRow> {
    if o.in_doubt && matches!(status, Status::Failed | Status::Skipped) {
        return Some(JRow::InDoubt {
            reason: o.reason.clone(),
        });
    }
    journal_result(status, &o.remote_id, &o.reason)
}

/// A sent row's report line with the send stage's outcome applied.
pub fn merge(mut base: RowResult, o: ItemOutcome, mode: WriteMode) -> RowResult {
    base.status = settle(&o, &base.remote_id, mode);
    base.remote_id = o.remote_id;
    if !o.reason.is_empty() {
        if base.reason.is_empty() {
            base.reason = o.reason;
        } else {
            base.reason = format!("{}; {}", base.reason, o.reason);
        }
    }
    if base.status == Status::Invalid {
        base.phone.clear();
    }
    base
}

/// The journal's form of a report status; `None` for dry-run answers.
pub fn journal_result(status: Status, remote_id: &str, reason: &str) -> Option<JRow> {
    let confirmed = |outcome| JRow::Confirmed {
        outcome,
        remote_id: remote_id.to_string(),
    };
    let reason = reason.to_string();
    Some(match status {
        Status::Created => confirmed(Outcome::Created),
        Status::Updated => confirmed(Outcome::Updated),
        Status::Exists => confirmed(Outcome::Exists),
        Status::Unchanged => JRow::Unchanged {
            remote_id: remote_id.to_string(),
        },
        Status::Invalid => JRow::Invalid { reason },
        Status::Duplicate => JRow::Duplicate { reason },
        Status::Failed => JRow::Failed { reason },
        Status::Skipped => JRow::Skipped { reason },
        Status::Valid => return None,
    })
}

/// The journal side of a run: the job, and the rows' keys and hashes until
/// their outcome is written.
pub struct JobLog {
    journal: Mutex<Journal>,
    job: JobId,
    /// Rows handed to the send stage, by seq.
    intents: Mutex<HashMap<u64, Intent>>,
    /// The first journal write that failed: from then on nothing more is
    /// sent (see [`UploadHooks::stopped`]).
    failure: Mutex<Option<String>>,
    /// Fault injection for tests (`WAPORT_FAULT_JOURNAL_WRITES=N`: writes
    /// after the N-th fail as a full disk would), so the stop path is
    /// tested through the binary.
    writes_left: Option<AtomicU64>,
    /// The run's write mode (see [`settle`]).
    mode: WriteMode,
}

impl JobLog {
    /// The journal of job `job`, written in `mode`.
    pub fn new(journal: Journal, job: JobId, mode: WriteMode) -> JobLog {
        JobLog {
            journal: Mutex::new(journal),
            job,
            intents: Mutex::new(HashMap::new()),
            failure: Mutex::new(None),
            writes_left: std::env::var("WAPORT_FAULT_JOURNAL_WRITES")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .map(AtomicU64::new),
            mode,
        }
    }

    /// Why the journal stopped the run, if it did: the first write that
    /// failed.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Runs one journal write; a failure is remembered (the first one) and
    /// stops the run.
    fn write(&self, f: impl FnOnce(&mut Journal) -> Result<(), JournalError>) -> bool {
        if self.failure().is_some() {
            return false;
        }
        let injected = self.writes_left.as_ref().is_some_and(|left| {
            left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err()
        });
        let mut j = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        let result = if injected {
            Err(JournalError::Sqlite {
                path: j.path().to_path_buf(),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                    Some("database or disk is full (injected)".into()),
                ),
            })
        } else {
            f(&mut j)
        };
        drop(j);
        match result {
            Ok(()) => true,
            Err(e) => {
                let mut g = self.failure.lock().unwrap_or_else(|e| e.into_inner());
                if g.is_none() {
                    *g = Some(format!("stopped: journal write failed: {e}"));
                }
                false
            }
        }
    }

    /// The job being written.
    pub fn job(&self) -> JobId {
        self.job
    }

    /// Remembers what to journal for row `seq` once it is sent.
    pub fn intend(&self, seq: u64, intent: Intent) {
        self.intents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(seq, intent);
    }

    /// Records outcomes decided without a request.
    pub fn record(&self, outcomes: &[RowOutcome]) {
        if outcomes.is_empty() {
            return;
        }
        self.write(|j| j.record_outcomes(self.job, outcomes).map(|_| ()));
    }

    /// Runs `f` on the journal (ending the job).
    pub fn with_journal<T>(&self, f: impl FnOnce(&mut Journal) -> T) -> Option<T> {
        self.journal.lock().ok().map(|mut j| f(&mut j))
    }
}

impl UploadHooks for JobLog {
    fn before_send(&self, items: &[Item]) -> bool {
        let intents: Vec<RowIntent> = {
            let map = self.intents.lock().unwrap_or_else(|p| p.into_inner());
            items
                .iter()
                .map(|it| {
                    let i = map.get(&it.seq).cloned().unwrap_or_default();
                    RowIntent {
                        row: it.row,
                        dedupe_key: i.key,
                        content_hash: i.hash,
                    }
                })
                .collect()
        };
        let held: Vec<Option<bool>> = items.iter().map(|it| it.held_at_start).collect();
        self.write(|j| j.mark_pending_held(self.job, &intents, &held).map(|_| ()))
    }

    fn stopped(&self) -> Option<String> {
        self.failure()
    }

    fn after(&self, outcomes: &[ItemOutcome]) {
        let rows: Vec<RowOutcome> = {
            let mut map = self.intents.lock().unwrap_or_else(|p| p.into_inner());
            outcomes
                .iter()
                .filter_map(|o| {
                    let known = map.remove(&o.seq).map(|i| i.known).unwrap_or_default();
                    let status = settle(o, &known, self.mode);
                    journal_sent(o, status).map(|r| RowOutcome::of_sent(o.row, r))
                })
                .collect()
        };
        self.record(&rows);
    }
}

/// A row the plan stage has dealt with.
pub enum Planned {
    /// A final result decided without a request, with its journal row.
    Done(RowResult, Option<RowOutcome>),
    /// A row handed to the send stage: its report line so far.
    Sent(RowResult),
}

/// Joins planned rows and send outcomes into the report, in input order.
pub struct Collector<'a> {
    writer: &'a mut ReportWriter,
    log: Option<&'a JobLog>,
    mode: WriteMode,
    /// Sent rows waiting for their outcome, by seq.
    waiting: HashMap<u64, RowResult>,
    /// Outcomes that arrived before their row's line.
    early: HashMap<u64, ItemOutcome>,
    /// Journal rows of decided rows, written in batches: one transaction a
    /// row would make a nightly load of an unchanged file slower than it
    /// needs to be, and a crash loses nothing (they are decided again).
    jbuf: Vec<RowOutcome>,
}

impl<'a> Collector<'a> {
    /// A collector writing to `writer` and `log`.
    pub fn new(writer: &'a mut ReportWriter, log: Option<&'a JobLog>, mode: WriteMode) -> Self {
        Collector {
            writer,
            log,
            mode,
            waiting: HashMap::new(),
            early: HashMap::new(),
            jbuf: Vec::new(),
        }
    }

    /// Takes a row from the plan stage.
    pub fn planned(&mut self, p: Planned) -> Result<(), ReportError> {
        match p {
            Planned::Done(result, jrow) => {
                if let (Some(l), Some(jrow)) = (self.log, jrow) {
                    self.jbuf.push(jrow);
                    if self.jbuf.len() >= 512 {
                        l.record(&self.jbuf);
                        self.jbuf.clear();
                    }
                }
                self.writer.push(result)
            }
            Planned::Sent(base) => match self.early.remove(&base.seq) {
                Some(o) => self.writer.push(merge(base, o, self.mode)),
                None => {
                    self.waiting.insert(base.seq, base);
                    Ok(())
                }
            },
        }
    }

    /// Takes an outcome from the send stage.
    pub fn outcome(&mut self, o: ItemOutcome) -> Result<(), ReportError> {
        tracing::debug!(
            row = o.row,
            status = o.status.as_str(),
            remote_id = %o.remote_id,
            in_doubt = o.in_doubt,
            "sent: {}",
            o.reason
        );
        match self.waiting.remove(&o.seq) {
            Some(base) => self.writer.push(merge(base, o, self.mode)),
            None => {
                self.early.insert(o.seq, o);
                Ok(())
            }
        }
    }

    /// Rows sent whose outcome has not come back yet.
    pub fn in_flight(&self) -> usize {
        self.waiting.len()
    }

    /// The report's counts so far.
    pub fn counts(&self) -> &crate::report::Counts {
        self.writer.counts()
    }

    /// Writes what is buffered for the journal.
    pub fn flush(&mut self) {
        if let Some(l) = self.log {
            l.record(&self.jbuf);
        }
        self.jbuf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(remote_id: &str, in_doubt: bool) -> ItemOutcome {
        ItemOutcome {
            seq: 0,
            row: 2,
            status: Status::Created,
            remote_id: remote_id.into(),
            reason: String::new(),
            in_doubt,
            held_at_start: None,
        }
    }

    #[test]
    fn created_is_only_claimed_when_it_can_be_true() {
        // An id the journal already knew: Wazzup's upsert, really an update.
        assert_eq!(
            settle(&created("w-1", false), "w-1", WriteMode::Upsert),
            Status::Updated
        );
        // Create mode never updates, even with --full on a known row.
        assert_eq!(
            settle(&created("w-1", false), "w-1", WriteMode::Create),
            Status::Created
        );
        // A new id: created.
        assert_eq!(
            settle(&created("w-2", false), "w-1", WriteMode::Upsert),
            Status::Created
        );
        assert_eq!(
            settle(&created("w-2", false), "", WriteMode::Create),
            Status::Created
        );
        // Found after this job's lost answer, the listing read before the
        // job showed it absent: the job made it.
        let mut lost = created("9", true);
        lost.held_at_start = Some(false);
        assert_eq!(settle(&lost, "", WriteMode::Create), Status::Created);
        assert_eq!(settle(&lost, "", WriteMode::Upsert), Status::Created);
        let mut exists = lost.clone();
        exists.status = Status::Exists;
        assert_eq!(settle(&exists, "", WriteMode::Create), Status::Created);
        // No listing (Whaapy, WapiFlow): no proof, never created.
        let mut unknown = lost.clone();
        unknown.held_at_start = None;
        assert_eq!(settle(&unknown, "", WriteMode::Create), Status::Exists);
        assert_eq!(settle(&unknown, "", WriteMode::Upsert), Status::Updated);
        // The listing read before the job held it: there before.
        let mut held = lost.clone();
        held.held_at_start = Some(true);
        assert_eq!(settle(&held, "", WriteMode::Create), Status::Exists);
        assert_eq!(settle(&held, "", WriteMode::Upsert), Status::Updated);
        // An earlier job's id, and a listing that shows the account did not
        // hold the contact at the start: deleted since, recreated by this job.
        assert_eq!(settle(&lost, "9", WriteMode::Create), Status::Created);
        // Other statuses pass through.
        let mut failed = created("", false);
        failed.status = Status::Failed;
        assert_eq!(settle(&failed, "x", WriteMode::Create), Status::Failed);
    }

    #[test]
    fn an_unsettled_row_after_a_possible_write_stays_in_doubt_in_the_journal() {
        let mut o = created("", true);
        o.status = Status::Failed;
        assert!(matches!(
            journal_sent(&o, Status::Failed),
            Some(JRow::InDoubt { .. })
        ));
        o.in_doubt = false;
        assert!(matches!(
            journal_sent(&o, Status::Failed),
            Some(JRow::Failed { .. })
        ));
    }
}
