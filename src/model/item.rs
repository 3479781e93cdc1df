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
    /// Whether the account held this contact when the job started, as far
    /// as anything read before sending shows (`None`: nothing shows
    /// either way). A resumed row carries what its first run recorded;
    /// the send stage fills the rest from the adapter's listing.
    pub held_at_start: Option<bool>,
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
    /// An attempt of this job that may have created the contact was
    /// carried out without a readable answer (a lost answer, a timeout, a
    /// run that died with the request in flight), or the adapter found the
    /// contact after such an attempt. A contact found then is this job's
    /// creation unless something read before the job started shows it
    /// (`held_at_start`, or an earlier job's remote id): see
    /// [`crate::upload::collect::settle`].
    pub in_doubt: bool,
    /// Whether the account held the contact when the job started (see
    /// [`Item::held_at_start`]).
    pub held_at_start: Option<bool>,
}
