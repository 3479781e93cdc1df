//! The plan stage of the write half: what to do with each prepared row,
//! decided from the row and the journal alone — no network.
//!
//! ```text
//! prepared rows ─▶ plan ─┬─▶ send (items, with maybe_applied)  ─▶ collect
//!     journal ──────┘    └─▶ decided here (invalid, duplicate,    ─▶ collect
//!                             unchanged, confirmed earlier)
//! ```
//!
//! A row whose earlier request was in flight when a run died is *in
//! doubt*: the plan never settles it here (a look-up would say the contact
//! exists, but not whether this row's content reached it). It goes to the
//! send stage with `maybe_applied`, which looks before creating and sends
//! the content in upsert mode, so the journal only records a content hash
//! for content that was really sent.

use crate::journal::{Outcome, RowState, RowStatus};
use crate::model::{Contact, Status};
use crate::net::INTERRUPTED;
use crate::pipeline::Prepared;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Content hash of a normalized contact: what a nightly load compares.
pub fn content_hash(contact: &Contact) -> String {
    // Serializing a plain struct of strings cannot fail; an empty hash
    // would only make the row look changed, never unchanged.
    let bytes = serde_json::to_vec(contact).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What the plan decided for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Final without a request.
    Done {
        /// The row's status.
        status: Status,
        /// The platform's id, when known.
        remote_id: String,
        /// Codes with detail (added to the row's own reasons).
        reason: String,
    },
    /// Hand the row to the send stage.
    Send {
        /// The remote id this account already had for the row's key from
        /// an earlier job (empty if none): a "created" answer for that id
        /// is an update.
        known: String,
        /// An earlier run's request for this row may have been carried out.
        maybe_applied: bool,
        /// Whether the account held the contact when the job started, as
        /// the first run recorded it.
        held_at_start: Option<bool>,
    },
}

impl Decision {
    fn done(status: Status, remote_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Decision::Done {
            status,
            remote_id: remote_id.into(),
            reason: reason.into(),
        }
    }
}

/// What the plan knows from the journal.
#[derive(Debug, Default)]
pub struct Planner {
    /// The resumed job's rows, by row number (empty for a new job).
    pub earlier: HashMap<u64, RowState>,
    /// Dedupe key → (content hash, remote id) last sent to this account.
    pub deltas: HashMap<String, (String, String)>,
    /// `--full`: send rows even when unchanged.
    pub full: bool,
}

impl Planner {
    /// Decides one row. `stopping`: the run is being interrupted, so no
    /// new row is sent.
    pub fn decide(&self, p: &Prepared, stopping: bool) -> Decision {
        if p.status != Status::Valid {
            return Decision::done(p.status, "", "");
        }
        if stopping {
            return Decision::done(Status::Skipped, "", INTERRUPTED);
        }
        let key = p.key.as_ref().map(|k| k.to_string());
        let mut maybe_applied = false;
        let mut held_at_start = None;
        if let Some(r) = self.earlier.get(&p.row) {
            if let Some((status, remote, why)) = earlier_status(r) {
                return Decision::done(status, remote, why);
            }
            // In flight when the run died: the platform may hold it.
            maybe_applied = matches!(r.status, RowStatus::Pending | RowStatus::Sent);
            held_at_start = r.held_at_start;
        }
        let known = key.as_ref().and_then(|k| self.deltas.get(k));
        if !self.full
            && !maybe_applied
            && let Some((hash, remote)) = known
            && *hash == content_hash(&p.contact)
        {
            return Decision::done(Status::Unchanged, remote.clone(), "");
        }
        Decision::Send {
            known: known.map(|(_, r)| r.clone()).unwrap_or_default(),
            maybe_applied,
            held_at_start,
        }
    }
}

/// Status of an earlier run's confirmed row, for a resumed report.
fn earlier_status(r: &RowState) -> Option<(Status, String, String)> {
    let remote = r.remote_id.clone().unwrap_or_default();
    let why = |s: &str| format!("resumed: {s} by the interrupted run");
    Some(match (r.status, r.outcome) {
        (RowStatus::Confirmed, Some(Outcome::Created)) => (Status::Created, remote, why("created")),
        (RowStatus::Confirmed, Some(Outcome::Updated)) => (Status::Updated, remote, why("updated")),
        (RowStatus::Confirmed, Some(Outcome::Exists)) => {
            (Status::Exists, remote, why("found existing"))
        }
        (RowStatus::Unchanged, _) => (Status::Unchanged, remote, why("left unchanged")),
        _ => return None,
    })
}

/// Where the plan stage hands its rows.
pub struct PlanOutput {
    /// Rows to send, to the send stage.
    pub items: tokio::sync::mpsc::Sender<crate::model::Item>,
    /// Every row's report line (decided, or waiting for its outcome), to
    /// the collect stage.
    pub planned: tokio::sync::mpsc::Sender<crate::upload::collect::Planned>,
    /// The journal, to remember each sent row's key and hash.
    pub log: Option<std::sync::Arc<crate::upload::collect::JobLog>>,
}

/// The plan stage's thread: runs the read pipeline and decides every row.
/// `stopping` is polled per row (Ctrl-C). Returns when the input is done or
/// a receiver has gone.
pub fn feed(
    rows: crate::pipeline::Pipeline,
    planner: &Planner,
    stopping: impl Fn() -> bool,
    out: PlanOutput,
) -> Result<(), crate::Error> {
    use crate::upload::collect::{Intent, Planned, journal_result};
    for chunk in rows {
        for p in chunk? {
            let mut base = p.to_result(p.status);
            let key = p.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
            let decision = planner.decide(&p, stopping());
            tracing::debug!(row = p.row, "planned: {decision:?}");
            match decision {
                Decision::Done {
                    status,
                    remote_id,
                    reason,
                } => {
                    base.status = status;
                    base.remote_id = remote_id;
                    if !reason.is_empty() {
                        base.reason = if base.reason.is_empty() {
                            reason
                        } else {
                            format!("{}; {reason}", base.reason)
                        };
                    }
                    let jrow = journal_result(status, &base.remote_id, &base.reason).map(|r| {
                        let hash = if p.status == Status::Valid {
                            content_hash(&p.contact)
                        } else {
                            String::new()
                        };
                        crate::journal::RowOutcome::new(p.row, &key, &hash, r)
                    });
                    if out
                        .planned
                        .blocking_send(Planned::Done(base, jrow))
                        .is_err()
                    {
                        return Ok(());
                    }
                }
                Decision::Send {
                    known,
                    maybe_applied,
                    held_at_start,
                } => {
                    base.remote_id = known.clone();
                    if let Some(l) = &out.log {
                        let hash = content_hash(&p.contact);
                        l.intend(p.seq, Intent { key, hash, known });
                    }
                    if out.planned.blocking_send(Planned::Sent(base)).is_err() {
                        return Ok(());
                    }
                    let item = crate::model::Item {
                        seq: p.seq,
                        row: p.row,
                        contact: p.contact,
                        maybe_applied,
                        held_at_start,
                    };
                    if out.items.blocking_send(item).is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
    Ok(())
}
