//! Platform adapters: one file per platform behind one trait.
//!
//! The trait speaks the canonical [`Contact`]; each adapter owns its
//! payload, batch size, pagination, error mapping and duplicate semantics.
//! Per-item problems are outcomes, never errors: a batch always comes back
//! with one result per item, in order.

pub mod credentials;
pub mod error;
pub mod http;
pub mod wapiflow;
pub mod wazzup;
pub mod whaapy;
pub mod wipsy;

pub use credentials::{Credentials, Secret, WipsyMaps};
pub use error::PlatformError;

use crate::model::Contact;
pub use crate::model::{Entity, PlatformKind, WriteMode};
use crate::model::{Item, Status};
use crate::net::pace::PaceSpec;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A contact as a platform stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteContact {
    /// The platform's id.
    pub remote_id: String,
    /// Mapped back to the canonical form.
    pub contact: Contact,
    /// Creation time as the platform gives it.
    pub created_at: Option<String>,
    /// Last update as the platform gives it.
    pub updated_at: Option<String>,
    /// The platform's own representation.
    pub raw: serde_json::Value,
}

impl RemoteContact {
    /// A contact read from a listing whose objects carry `created_at` and
    /// `updated_at` (Whaapy, Wipsy, WapiFlow); `v` is kept as the raw object.
    pub fn from_listing(remote_id: String, contact: Contact, v: &serde_json::Value) -> Self {
        let text = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        RemoteContact {
            remote_id,
            contact,
            created_at: text("created_at"),
            updated_at: text("updated_at"),
            raw: v.clone(),
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// The contacts of this page.
    pub items: Vec<RemoteContact>,
    /// Opaque cursor of the next page; `None` on the last.
    pub next: Option<String>,
    /// Something the user must know (e.g. Wipsy: "may be partial").
    pub note: Option<String>,
}

/// What happened to one item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemResult {
    /// A final outcome.
    Done {
        /// Created, Updated, Exists, Invalid, Failed or Skipped.
        status: Status,
        /// The platform's id, when known.
        remote_id: String,
        /// Codes with detail, `; `-separated; warnings on successes too.
        reason: String,
        /// Found on the platform after an attempt whose answer was lost (see
        /// [`ItemOutcome::in_doubt`](crate::model::ItemOutcome::in_doubt)).
        in_doubt: bool,
    },
    /// A transient failure: try again later.
    Retry(Transient),
    /// Not attempted: the batch stopped first (see [`BatchResult::halt`],
    /// or cancellation).
    NotSent,
}

impl ItemResult {
    /// A final outcome.
    pub fn done(status: Status, remote_id: impl Into<String>, reason: impl Into<String>) -> Self {
        ItemResult::Done {
            status,
            remote_id: remote_id.into(),
            reason: reason.into(),
            in_doubt: false,
        }
    }

    /// A contact found on the platform after an attempt whose answer was
    /// lost: that attempt may have made it, or it was there before. The
    /// flag, not the reason's text, is what the collect stage decides on.
    pub fn found_after_lost_answer(
        remote_id: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ItemResult::Done {
            status: Status::Created,
            remote_id: remote_id.into(),
            reason: reason.into(),
            in_doubt: true,
        }
    }
}

/// A failure worth retrying.
#[derive(Debug, Clone, PartialEq)]
pub struct Transient {
    /// The last error, for the report if retries run out.
    pub error: String,
    /// The server's (or the platform's documented) wait.
    pub retry_after: Option<Duration>,
    /// Whether the platform may have carried out the request anyway (a
    /// timeout, a lost answer): the next attempt must check before
    /// creating again.
    pub maybe_applied: bool,
    /// Whether this was a 429.
    pub rate_limited: bool,
}

/// A condition that stops the whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct Halt {
    /// Reason given to every item not sent (`quota: ...`).
    pub reason: String,
    /// Set when the run must end as an error (bad credentials, IP not
    /// whitelisted): exit 1 with this message. A quota is not an error:
    /// the rows are `skipped` and the run exits 3.
    pub error: Option<PlatformError>,
}

impl PartialEq for PlatformError {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

/// The answer to one batch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchResult {
    /// One result per item, in order.
    pub results: Vec<ItemResult>,
    /// Set when nothing more should be sent in this run.
    pub halt: Option<Halt>,
}

impl BatchResult {
    /// Every item failed the same transient way.
    pub fn all_retry(n: usize, t: Transient) -> BatchResult {
        BatchResult {
            results: vec![ItemResult::Retry(t); n],
            halt: None,
        }
    }

    /// The batch stopped before sending anything.
    pub fn halted(n: usize, halt: Halt) -> BatchResult {
        BatchResult {
            results: vec![ItemResult::NotSent; n],
            halt: Some(halt),
        }
    }
}

/// A boxed future, so the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One platform account.
pub trait Platform: Send + Sync {
    /// Which platform.
    fn kind(&self) -> PlatformKind;

    /// Items per request (the most the API takes).
    fn batch_size(&self, entity: Entity) -> usize;

    /// Default pace in requests/s, with its source in the adapter's docs.
    fn default_rate(&self) -> f64;

    /// The shared HTTP client (pace, cancellation, counters).
    fn transport(&self) -> &http::Transport;

    /// The platform's identity of a contact (Wazzup id, phone, mobile):
    /// two items with the same identity in one run are the same remote
    /// record. `None` when the platform has none (the item is never
    /// treated as a repeat).
    fn identity(&self, entity: Entity, contact: &Contact) -> Option<String>;

    /// Checks a contact against the platform's own rules without sending
    /// it: `Err(reason)` when it would be refused (dry-run uses this).
    fn precheck(&self, entity: Entity, contact: &Contact) -> Result<(), String>;

    /// Sends one batch (at most [`Platform::batch_size`] items).
    /// `maybe_applied[i]` says an earlier attempt of item `i` may have been
    /// carried out, so it must not be created blindly again. One result per
    /// item, in order; never an error for per-item problems.
    fn send_batch<'a>(
        &'a self,
        entity: Entity,
        mode: WriteMode,
        items: &'a [Item],
        maybe_applied: &'a [bool],
    ) -> BoxFuture<'a, BatchResult>;

    /// The remote id of the contact the platform already holds for this one
    /// (by the platform's identity), if any.
    fn find_existing<'a>(
        &'a self,
        contact: &'a Contact,
    ) -> BoxFuture<'a, Result<Option<String>, PlatformError>>;

    /// One page of the account's records; `cursor` from the previous page.
    fn list_page<'a>(
        &'a self,
        entity: Entity,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page, PlatformError>>;

    /// Deletes one record; `Unsupported` where there is no endpoint.
    fn delete<'a>(
        &'a self,
        entity: Entity,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PlatformError>>;

    /// Reads what the account already holds before a write run (Wazzup:
    /// the phone → id index, 100 contacts a page; Wipsy: its listing), so
    /// every row is matched against it before anything is written.
    /// `progress(done, total)` is called after each page. Returns notes to
    /// show the user. The default reads nothing: the adapter looks each
    /// contact up when it is sent.
    fn prepare_writes<'a>(
        &'a self,
        _progress: &'a (dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, PlatformError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Whether the account held this contact before anything was written,
    /// by the listing [`Platform::prepare_writes`] read (`None`: the
    /// adapter read none, or it cannot tell). A contact found after a lost
    /// answer is the job's own creation only when this is not `Some(true)`.
    fn held_at_start(&self, _entity: Entity, _contact: &Contact) -> Option<bool> {
        None
    }

    /// What the user must know about the whole run once it is over (Wipsy:
    /// the account holds more contacts than its listing shows, and which
    /// rows could therefore not be checked). Said once, in the summary and
    /// the JSON.
    fn run_notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Ids a rollback deletes in one call: 1 unless the platform has a
    /// bulk delete ([`Platform::delete_many`]).
    fn delete_batch(&self, _entity: Entity) -> usize {
        1
    }

    /// Deletes up to [`Platform::delete_batch`] records in one call; per
    /// id, `true` if it was deleted, `false` if the platform did not know
    /// it (already gone). An error is for the whole call (retried as one).
    fn delete_many<'a>(
        &'a self,
        entity: Entity,
        remote_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<bool>, PlatformError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(remote_ids.len());
            for id in remote_ids {
                self.delete(entity, id).await?;
                out.push(true);
            }
            Ok(out)
        })
    }

    /// Preflight: the credentials work (and, for Wazzup, the responsible
    /// user exists). Returns notes to show the user (e.g. which
    /// responsible user was picked).
    fn check(&self) -> BoxFuture<'_, Result<Vec<String>, PlatformError>>;
}

/// Adapter settings that are not credentials.
#[derive(Debug, Clone)]
pub struct AdapterOptions {
    /// Wazzup `responsibleUserId` (`--responsible-user`); `None` picks the
    /// first user of `GET /users`.
    pub responsible_user: Option<String>,
    /// Whaapy: use the vendor's `POST /contacts/v1/bulk` (100 a call),
    /// known only from its integration code.
    pub whaapy_bulk: bool,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Pace in requests/s; `None`: the platform's default.
    pub rate: Option<f64>,
}

impl Default for AdapterOptions {
    fn default() -> Self {
        AdapterOptions {
            responsible_user: None,
            whaapy_bulk: false,
            timeout: http::REQUEST_TIMEOUT,
            rate: None,
        }
    }
}

/// Builds the adapter of `kind`.
pub fn connect(
    kind: PlatformKind,
    creds: Credentials,
    opts: AdapterOptions,
) -> Result<Arc<dyn Platform>, PlatformError> {
    if creds.kind != kind {
        return Err(PlatformError::Config(format!(
            "credentials for {} given to the {} adapter",
            creds.kind, kind
        )));
    }
    let rate = opts.rate;
    let p: Arc<dyn Platform> = match kind {
        PlatformKind::Wazzup => Arc::new(wazzup::Wazzup::new(creds, opts)?),
        PlatformKind::Whaapy => Arc::new(whaapy::Whaapy::new(creds, opts)?),
        PlatformKind::Wipsy => Arc::new(wipsy::Wipsy::new(creds, opts)?),
        PlatformKind::Wapiflow => Arc::new(wapiflow::Wapiflow::new(creds, opts)?),
    };
    p.transport()
        .configure_pace(pace_spec(kind, rate, p.default_rate()), wait_429(kind));
    Ok(p)
}

/// Whether the platform publishes its request limit (docs/platforms.md,
/// "Rate limits at a glance"): Wazzup's 500 per 5 s and Whaapy's 100 per
/// minute are published; Wipsy and WapiFlow publish none.
pub fn publishes_limit(kind: PlatformKind) -> bool {
    matches!(kind, PlatformKind::Wazzup | PlatformKind::Whaapy)
}

/// Where an account's pace starts and its ceiling: `--rate` when given
/// (start and ceiling); else the published limit; else a conservative
/// start probing up to the adapter's assumed pace.
pub fn pace_spec(kind: PlatformKind, rate: Option<f64>, default_rate: f64) -> PaceSpec {
    match rate {
        Some(r) => PaceSpec::at(r),
        None if publishes_limit(kind) => PaceSpec::at(default_rate),
        None => PaceSpec::probing(default_rate),
    }
}

/// The wait after a 429 without Retry-After: Wazzup documents a counter
/// reset every 5 s (docs/platforms.md#wazzup-rate-limit); the others
/// document nothing (1 s, assumed).
pub fn wait_429(kind: PlatformKind) -> Duration {
    match kind {
        PlatformKind::Wazzup => wazzup::WAIT_429,
        PlatformKind::Whaapy => whaapy::WAIT_429,
        PlatformKind::Wipsy | PlatformKind::Wapiflow => Duration::from_secs(1),
    }
}

/// The reason of a row `--mode update` leaves alone because the platform
/// holds no contact for it.
pub const NOT_FOUND: &str = "not_found: the platform holds no contact for this row (--mode update changes only existing contacts)";

/// The reason given with [`ItemResult::found_after_lost_answer`].
pub const LOST_ANSWER: &str =
    "lost_answer: found on the platform after an attempt whose answer was lost";

/// A users batch on a platform that has no users API: every item invalid.
pub(crate) fn no_users_api(platform: &str, n: usize) -> BatchResult {
    BatchResult {
        results: vec![
            ItemResult::done(
                Status::Invalid,
                "",
                format!("unsupported_entity: {platform} has no users API")
            );
            n
        ],
        halt: None,
    }
}

/// Sends a batch one contact at a time, for APIs without a batch endpoint:
/// once one answer halts the run, the items after it are not sent.
pub(crate) async fn send_each<'a, F, Fut>(
    items: &'a [Item],
    maybe_applied: &[bool],
    mut send_one: F,
) -> BatchResult
where
    F: FnMut(&'a Item, bool) -> Fut,
    Fut: Future<Output = (ItemResult, Option<Halt>)>,
{
    let mut out = BatchResult::default();
    for (i, item) in items.iter().enumerate() {
        if out.halt.is_some() {
            out.results.push(ItemResult::NotSent);
            continue;
        }
        let (res, halt) = send_one(item, maybe_applied.get(i).copied().unwrap_or(false)).await;
        out.results.push(res);
        out.halt = halt;
    }
    out
}

/// Maps a failed request to a per-item result: a cancellation is
/// `NotSent`, anything else a transient failure.
pub(crate) fn failure_result(f: http::Failure) -> ItemResult {
    match f {
        http::Failure::Cancelled => ItemResult::NotSent,
        http::Failure::NoAnswer {
            message,
            maybe_applied,
        } => ItemResult::Retry(Transient {
            error: message,
            retry_after: None,
            maybe_applied,
            rate_limited: false,
        }),
    }
}

/// Classifies an answer that is neither success nor a known per-item error:
/// 429, 5xx and 408 are transient; other 4xx final. `default_429` is the
/// platform's documented wait when no Retry-After comes (the transport has
/// normally set the pause already).
pub(crate) fn status_result(
    r: &http::Reply,
    transport: &http::Transport,
    default_429: Duration,
    message: &str,
) -> ItemResult {
    let text = if message.is_empty() {
        error::snippet(&r.body)
    } else {
        message.to_string()
    };
    match r.status {
        429 => {
            // The transport already paused every request of the account and
            // slowed its pace; this item waits for the same pause.
            let left = transport.pause_left();
            let wait = if left.is_zero() {
                r.retry_after.unwrap_or(default_429)
            } else {
                left
            };
            ItemResult::Retry(Transient {
                error: format!("rate_limited: HTTP 429: {text}"),
                retry_after: Some(wait),
                maybe_applied: false,
                rate_limited: true,
            })
        }
        // A gateway error may come after the platform did the work.
        s if crate::net::is_transient_status(s) => ItemResult::Retry(Transient {
            error: format!("http_{}: {text}", r.status),
            retry_after: r.retry_after,
            maybe_applied: true,
            rate_limited: false,
        }),
        s => ItemResult::done(Status::Failed, "", format!("http_{s}: {text}")),
    }
}

/// A failed look-up of one row: retried later (keeping `maybe_applied`),
/// or the run stops (bad key).
pub(crate) fn lookup_failure(e: PlatformError, maybe_applied: bool) -> (ItemResult, Option<Halt>) {
    match e {
        PlatformError::Interrupted => (ItemResult::NotSent, None),
        e if e.is_fatal() => (
            ItemResult::NotSent,
            Some(Halt {
                reason: format!("stopped: {e}"),
                error: Some(e),
            }),
        ),
        e => (
            ItemResult::Retry(Transient {
                error: format!("lookup failed: {e}"),
                retry_after: None,
                maybe_applied,
                rate_limited: false,
            }),
            None,
        ),
    }
}

/// The result of an update request: a failure of it may be retried, but it
/// cannot have created a contact (the contact was there to be updated), so
/// it does not make the row's next attempt a possible creation.
pub(crate) fn update_result(r: ItemResult) -> ItemResult {
    match r {
        ItemResult::Retry(t) => ItemResult::Retry(Transient {
            maybe_applied: false,
            ..t
        }),
        other => other,
    }
}

/// The halt for a 401/403 answer.
pub(crate) fn auth_halt(platform: &'static str, r: &http::Reply, message: String) -> Halt {
    let err = PlatformError::Auth {
        platform,
        status: r.status,
        message,
    };
    Halt {
        reason: format!("stopped: {err}"),
        error: Some(err),
    }
}

/// Cuts `s` to `max` characters; the bool says whether it was cut.
pub(crate) fn cut(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        (s.to_string(), false)
    } else {
        (s.chars().take(max).collect(), true)
    }
}

/// The digits of an E.164 phone (`+5215512345678` → `5215512345678`).
pub(crate) fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}
