//! What the write half passes between its stages: an item to send and
//! the outcome that comes back for it.

use super::{Contact, Status};

/// A contact to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Position in the input (0-based).
    pub seq: u64,
    /// Row number as a spreadsheet user sees it.
    pub row: u64,
    /// The normalized contact.
    pub contact: Contact,
    /// An earlier attempt of this row may have been carried out (a resumed
    /// job's row that was in flight when the run died): the send stage must
    /// look before creating, never create blindly.
    pub maybe_applied: bool,
}

/// What happened to one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemOutcome {
    /// Position in the input.
    pub seq: u64,
    /// Row number.
    pub row: u64,
    /// Final status.
    pub status: Status,
    /// The platform's id, when known.
    pub remote_id: String,
    /// Codes with detail, `; `-separated.
    pub reason: String,
    /// The contact was found on the platform after an attempt whose answer
    /// was lost: this job's attempt may have made it, or it was there
    /// before. Never reported `created` in create mode (a rollback must not
    /// delete what the user had).
    pub in_doubt: bool,
}
