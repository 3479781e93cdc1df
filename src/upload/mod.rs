//! The uploader: batches, paces, sends, retries, and accounts for every
//! item it was given.
//!
//! Items arrive on a channel; each comes back exactly once on the outcome
//! channel, whatever happens (sent, refused, failed after retries, skipped
//! because of a quota, an interruption or a repeat).

pub mod collect;
pub mod plan;
pub mod retry;

use crate::model::{Entity, Status, WriteMode};
pub use crate::model::{Item, ItemOutcome};
use crate::net::pace::{PaceSnapshot, STALL_LIMIT};
pub use crate::net::{Cancel, INTERRUPTED};
use crate::platform::{BatchResult, Halt, ItemResult, Platform, PlatformError};
use retry::Backoff;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// How to upload.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// Contacts or users.
    pub entity: Entity,
    /// Create only, or create and update.
    pub mode: WriteMode,
    /// Requests per second (`--rate`); `None`: the platform's default.
    pub rate: Option<f64>,
    /// The most requests in flight at once (`--concurrency`), at least 1.
    /// The number actually in flight follows the measured latency (see
    /// [`crate::net::pace`]); this only caps it.
    pub concurrency: usize,
    /// Items per request; capped at the platform's maximum.
    pub batch_size: Option<usize>,
    /// Attempts per item before it is `failed` (at least 1).
    pub max_attempts: u32,
    /// Look, do not write (see [`run`]).
    pub dry_run: bool,
    /// How long the platform may answer nothing but 429 before a row
    /// fails for rate reasons ([`crate::net::pace::STALL_LIMIT`]).
    pub stall_limit: Duration,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            entity: Entity::Contacts,
            mode: WriteMode::Create,
            rate: None,
            concurrency: DEFAULT_CONCURRENCY,
            batch_size: None,
            max_attempts: 5,
            dry_run: false,
            stall_limit: STALL_LIMIT,
        }
    }
}

/// The default cap on requests in flight: Wazzup's full 100 requests/s at
/// up to ~400 ms of latency (100 × 0.4 s × 1.25 + 2 = 52), with room.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Callbacks around each batch (the journal).
pub trait UploadHooks: Send + Sync {
    /// Called synchronously before the first request of a batch leaves.
    /// `false`: the intent could not be recorded, so the batch must not be
    /// sent (nothing may reach a platform that the journal cannot account
    /// for).
    fn before_send(&self, items: &[Item]) -> bool;
    /// Called with a batch's final outcomes before they are handed on.
    fn after(&self, outcomes: &[ItemOutcome]);
    /// Why sending must stop now (the journal failed), if it must.
    fn stopped(&self) -> Option<String> {
        None
    }
}

/// Hooks that do nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl UploadHooks for NoHooks {
    fn before_send(&self, _items: &[Item]) -> bool {
        true
    }
    fn after(&self, _outcomes: &[ItemOutcome]) {}
}

/// What the upload did.
#[derive(Debug, Clone, Default)]
pub struct UploadStats {
    /// HTTP requests sent (lookups and updates included).
    pub requests: u64,
    /// Write requests sent again after a failed attempt (a 5xx, a lost
    /// answer, a 429): one per request, so a batch of 100 contacts sent
    /// again in one request counts 1, not 100.
    pub retries: u64,
    /// 429 answers (all waited out unless a row says `failed` with
    /// `rate_limited`).
    pub rate_limited: u64,
    /// The pace at the end, its ceiling and how often it was lowered.
    pub pace: PaceSnapshot,
    /// Why the run stopped early, if it did. `halt.error` set means the
    /// run must end as an error (exit 1); otherwise the skipped rows carry
    /// the reason (exit 3).
    pub halt: Option<Halt>,
    /// Whether cancellation cut the run short.
    pub interrupted: bool,
}

impl UploadStats {
    /// The fatal error, if the run must end as one.
    pub fn fatal(&self) -> Option<&PlatformError> {
        self.halt.as_ref().and_then(|h| h.error.as_ref())
    }
}

/// Shared state of one run.
struct Shared {
    platform: Arc<dyn Platform>,
    cfg: UploadConfig,
    hooks: Arc<dyn UploadHooks>,
    cancel: Cancel,
    outcomes: mpsc::Sender<ItemOutcome>,
    halt: Mutex<Option<Halt>>,
    retries: AtomicU64,
    backoff: Backoff,
    /// The adapter sends a whole batch in one request (its batch size is
    /// above 1), so a batch sent again is one retry.
    one_request_per_batch: bool,
    /// Items handed to a batch task whose outcome has not been handed on,
    /// by seq, with whether a request for them may have left: what a
    /// Ctrl-C that cannot wait any longer reports.
    in_flight: Mutex<HashMap<u64, (Item, bool)>>,
}

impl Shared {
    fn halt(&self) -> Option<Halt> {
        self.halt.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_halt(&self, h: Halt) {
        let mut g = self.halt.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            *g = Some(h);
        }
    }

    /// The reason for items that will not be sent, if the run is stopping.
    fn stop_reason(&self) -> Option<String> {
        if let Some(h) = self.halt() {
            return Some(h.reason);
        }
        if let Some(why) = self.hooks.stopped() {
            return Some(why);
        }
        self.cancel.is_cancelled().then(|| INTERRUPTED.to_string())
    }

    async fn emit(&self, outs: Vec<ItemOutcome>) {
        if outs.is_empty() {
            return;
        }
        self.hooks.after(&outs);
        for o in outs {
            let seq = o.seq;
            // A closed receiver means the caller stopped listening; the
            // remaining outcomes have nowhere to go.
            let _ = self.outcomes.send(o).await;
            self.in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&seq);
        }
    }

    /// Notes that requests for `items` may leave from now on.
    fn leaving(&self, items: &[Item]) {
        let mut g = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        for i in items {
            if let Some(e) = g.get_mut(&i.seq) {
                e.1 = true;
            }
        }
    }
}

fn outcome(item: &Item, status: Status, remote_id: String, reason: String) -> ItemOutcome {
    ItemOutcome {
        seq: item.seq,
        row: item.row,
        status,
        remote_id,
        reason,
        in_doubt: false,
        held_at_start: item.held_at_start,
    }
}

/// An outcome that keeps whether an attempt of this job may have written
/// the contact (see [`ItemOutcome::in_doubt`]).
fn outcome_after(
    item: &Item,
    maybe: bool,
    status: Status,
    remote_id: String,
    reason: String,
) -> ItemOutcome {
    ItemOutcome {
        in_doubt: maybe,
        ..outcome(item, status, remote_id, reason)
    }
}

/// How long an interrupted run waits for requests already in flight
/// before it stops waiting and reports them in doubt (the journal keeps
/// them `sent`, so the next run looks them up before sending again).
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(5);

/// The reason of a row `--mode update` leaves alone (the platform's
/// constant: the adapters give it too).
pub use crate::platform::NOT_FOUND;

/// How long to wait for more items before sending a part-full batch: the
/// producer normally fills a batch in microseconds, and a slow one should
/// not hold finished rows back.
const FILL_WAIT: Duration = Duration::from_millis(20);

/// Uploads every item from `items`, sending one outcome per item to
/// `outcomes` (in completion order, not input order).
///
/// - Batches hold at most the platform's batch size; as many are in flight
///   as the account's pace needs at the measured latency (Little's law),
///   at most `concurrency`; every request is paced by the account's
///   adaptive pace (`cfg.rate` is its start and ceiling).
/// - An item whose platform identity (Wazzup id, phone, mobile) repeats an
///   earlier item of the run is not sent: `duplicate`, reason
///   `same_remote_identity: row N`.
/// - Transient failures (5xx, timeouts, lost connections) are retried
///   with exponential backoff and jitter, honouring Retry-After, up to
///   `max_attempts`; then the item is `failed` with the last error. A 429
///   is not a failed attempt: it is waited out (the pace slows down) for
///   as long as the platform makes progress; only after `stall_limit` of
///   nothing but 429s is the item `failed` (`rate_limited: ...`). An item
///   whose earlier attempt may have been applied is re-sent through the
///   adapter's duplicate-safe path.
/// - A halt (quota, bad credentials) stops sending: the remaining items are
///   `skipped` with its reason; `UploadStats::halt` says why.
/// - After `cancel`, no new request starts; the rest are `skipped`
///   (`interrupted`).
/// - Dry run: nothing is written. Each item is checked with the adapter's
///   precheck and `find_existing`: `invalid` (would be refused), `exists`
///   (create mode, already there), or `valid` with reason
///   `dry_run: would create` / `dry_run: would update <id>`. It never
///   claims `created` or `updated`.
pub async fn run(
    platform: Arc<dyn Platform>,
    cfg: UploadConfig,
    mut items: mpsc::Receiver<Item>,
    outcomes: mpsc::Sender<ItemOutcome>,
    hooks: Arc<dyn UploadHooks>,
    cancel: Cancel,
) -> UploadStats {
    let transport = platform.transport();
    if let Some(r) = cfg.rate {
        transport.set_rate(r);
    }
    transport.set_cancel(cancel.clone());
    let counters = transport.counters();
    let (req0, rl0) = (
        counters.requests.load(Ordering::Relaxed),
        counters.rate_limited.load(Ordering::Relaxed),
    );
    let max_batch = platform.batch_size(cfg.entity).max(1);
    let batch_size = cfg.batch_size.unwrap_or(max_batch).clamp(1, max_batch);
    let cap = cfg.concurrency.max(1);
    let entity = cfg.entity;
    let shared = Arc::new(Shared {
        platform: platform.clone(),
        cfg,
        hooks,
        cancel: cancel.clone(),
        outcomes,
        halt: Mutex::new(None),
        retries: AtomicU64::new(0),
        backoff: Backoff::default(),
        one_request_per_batch: max_batch > 1,
        in_flight: Mutex::new(HashMap::new()),
    });
    let gate = Arc::new(Gate::default());
    let mut tasks = tokio::task::JoinSet::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<Item> = Vec::with_capacity(batch_size);
    let mut open = true;
    while open {
        // Fill a batch: wait for the first item, then take what comes
        // quickly.
        while batch.len() < batch_size {
            let next = if batch.is_empty() {
                items.recv().await
            } else {
                match tokio::time::timeout(FILL_WAIT, items.recv()).await {
                    Ok(n) => n,
                    Err(_) => break,
                }
            };
            let Some(item) = next else {
                open = false;
                break;
            };
            if let Some(reason) = shared.stop_reason() {
                shared
                    .emit(vec![outcome(&item, Status::Skipped, String::new(), reason)])
                    .await;
                continue;
            }
            if let Some(key) = platform.identity(entity, &item.contact) {
                if let Some(first) = seen.get(&key) {
                    let o = outcome(
                        &item,
                        Status::Duplicate,
                        String::new(),
                        format!("same_remote_identity: row {first}"),
                    );
                    shared.emit(vec![o]).await;
                    continue;
                }
                seen.insert(key, item.row);
            }
            batch.push(item);
        }
        if batch.is_empty() {
            continue;
        }
        let b = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
        if !gate.enter(platform.transport().pace(), cap, &cancel).await {
            skip_all(&shared, &b, INTERRUPTED.to_string()).await;
            continue;
        }
        if let Some(reason) = shared.stop_reason() {
            gate.leave();
            skip_all(&shared, &b, reason).await;
            continue;
        }
        {
            let mut g = shared.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            for i in &b {
                g.insert(i.seq, (i.clone(), false));
            }
        }
        let (sh, g) = (shared.clone(), gate.clone());
        tasks.spawn(async move {
            process(&sh, b).await;
            g.leave();
        });
        // Reap finished tasks so the set stays small on long runs.
        while tasks.try_join_next().is_some() {}
    }
    drain(&shared, &mut tasks, &cancel).await;
    UploadStats {
        requests: counters.requests.load(Ordering::Relaxed) - req0,
        retries: shared.retries.load(Ordering::Relaxed),
        rate_limited: counters.rate_limited.load(Ordering::Relaxed) - rl0,
        pace: transport.pace_snapshot(),
        halt: shared.halt(),
        interrupted: cancel.is_cancelled(),
    }
}

/// Waits for the batch tasks to end; after `cancel`, at most
/// [`INTERRUPT_GRACE`]. Tasks still running then are dropped (their
/// requests with them) and their items reported `skipped`, in doubt when
/// a request for them may have left.
async fn drain(shared: &Shared, tasks: &mut tokio::task::JoinSet<()>, cancel: &Cancel) {
    let finished = {
        let all = async { while tasks.join_next().await.is_some() {} };
        tokio::pin!(all);
        let done = tokio::select! {
            _ = &mut all => true,
            _ = cancel.cancelled() => false,
        };
        done || tokio::time::timeout(INTERRUPT_GRACE, &mut all)
            .await
            .is_ok()
    };
    if finished {
        return;
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    let left: Vec<(Item, bool)> = {
        let mut g = shared.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = g.drain().map(|(_, e)| e).collect();
        v.sort_by_key(|(i, _)| i.seq);
        v
    };
    tracing::debug!(
        "interrupted: {} item(s) still in flight after {:?}",
        left.len(),
        INTERRUPT_GRACE
    );
    let outs = left
        .iter()
        .map(|(i, sent)| {
            let reason = if *sent {
                format!(
                    "{INTERRUPTED}: the request was in flight; the next run looks the contact up before sending again"
                )
            } else {
                INTERRUPTED.to_string()
            };
            outcome_after(i, *sent, Status::Skipped, String::new(), reason)
        })
        .collect();
    shared.emit(outs).await;
}

/// Batches in flight, against a limit that moves with the pace and the
/// latency: a semaphore whose size is recomputed each time a batch wants
/// to start.
#[derive(Debug, Default)]
struct Gate {
    in_flight: AtomicUsize,
    left: Notify,
}

impl Gate {
    /// Waits until fewer batches are in flight than the pace needs (at
    /// most `cap`), then counts one more. `false` when cancelled first.
    async fn enter(&self, pace: &crate::net::pace::Pace, cap: usize, cancel: &Cancel) -> bool {
        loop {
            if cancel.is_cancelled() {
                return false;
            }
            let limit = pace.in_flight_target(cap);
            let n = self.in_flight.load(Ordering::SeqCst);
            if n < limit {
                self.in_flight.fetch_add(1, Ordering::SeqCst);
                return true;
            }
            // The limit may also grow without a batch ending (the pace
            // recovering): look again now and then.
            tokio::select! {
                _ = self.left.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = cancel.cancelled() => return false,
            }
        }
    }

    fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.left.notify_one();
    }
}

async fn skip_all(shared: &Shared, items: &[Item], reason: String) {
    let outs = items
        .iter()
        .map(|i| outcome(i, Status::Skipped, String::new(), reason.clone()))
        .collect();
    shared.emit(outs).await;
}

/// Sends one batch until every item has a final outcome.
async fn process(shared: &Shared, items: Vec<Item>) {
    if shared.cfg.dry_run {
        let outs = dry_run(shared, &items).await;
        shared.emit(outs).await;
        return;
    }
    // What the account held before the job, as the adapter's listing shows
    // it; a resumed row keeps what its first run recorded.
    let items: Vec<Item> = items
        .into_iter()
        .map(|mut i| {
            if i.held_at_start.is_none() {
                i.held_at_start = shared.platform.held_at_start(shared.cfg.entity, &i.contact);
            }
            i
        })
        .collect();
    if !shared.hooks.before_send(&items) {
        let reason = shared
            .stop_reason()
            .unwrap_or_else(|| "stopped: the journal could not record this batch".into());
        skip_all(shared, &items, reason).await;
        return;
    }
    shared.leaving(&items);
    // (item, may have been applied, failed attempts so far)
    let mut pending: Vec<(Item, bool, u32)> = items
        .into_iter()
        .map(|i| {
            let maybe = i.maybe_applied;
            (i, maybe, 0)
        })
        .collect();
    let max_attempts = shared.cfg.max_attempts.max(1);
    let transport = shared.platform.transport();
    let mut round = 0u32;
    loop {
        if let Some(reason) = shared.stop_reason() {
            let outs = pending
                .iter()
                .map(|(i, m, _)| {
                    outcome_after(i, *m, Status::Skipped, String::new(), reason.clone())
                })
                .collect();
            shared.emit(outs).await;
            return;
        }
        if round > 0 {
            let resent = if shared.one_request_per_batch {
                1
            } else {
                pending.len() as u64
            };
            shared.retries.fetch_add(resent, Ordering::Relaxed);
        }
        round += 1;
        let batch: Vec<Item> = pending.iter().map(|(i, _, _)| i.clone()).collect();
        let flags: Vec<bool> = pending.iter().map(|(_, m, _)| *m).collect();
        let BatchResult { results, halt } = shared
            .platform
            .send_batch(shared.cfg.entity, shared.cfg.mode, &batch, &flags)
            .await;
        if let Some(h) = halt {
            shared.set_halt(h);
        }
        let mut outs = Vec::new();
        let mut again = Vec::new();
        let mut wait: Option<Duration> = None;
        let mut worst = 0;
        for (idx, (item, maybe, failed)) in pending.into_iter().enumerate() {
            // An adapter that returns too few results leaves items without
            // an answer: they are failed, never lost.
            let res = results.get(idx).cloned().unwrap_or(ItemResult::done(
                Status::Failed,
                "",
                "internal: no result for this item",
            ));
            match res {
                ItemResult::Done {
                    status,
                    remote_id,
                    reason,
                    in_doubt,
                } => outs.push(outcome_after(
                    &item,
                    in_doubt || maybe,
                    status,
                    remote_id,
                    reason,
                )),
                ItemResult::NotSent => {
                    let reason = shared
                        .stop_reason()
                        .unwrap_or_else(|| INTERRUPTED.to_string());
                    outs.push(outcome_after(
                        &item,
                        maybe,
                        Status::Skipped,
                        String::new(),
                        reason,
                    ));
                }
                ItemResult::Retry(t) => {
                    // A throttle is not a failed attempt: the pace slows
                    // down and the row waits, unless the platform has made
                    // no progress at all for `stall_limit`.
                    let stalled = transport.pace().stalled_for();
                    let failed = failed + u32::from(!t.rate_limited);
                    if t.rate_limited && stalled >= shared.cfg.stall_limit {
                        let reason = format!(
                            "{} (no answer but 429 for {} s: the platform made no progress)",
                            t.error,
                            stalled.as_secs()
                        );
                        let maybe = maybe || t.maybe_applied;
                        outs.push(outcome_after(
                            &item,
                            maybe,
                            Status::Failed,
                            String::new(),
                            reason,
                        ));
                    } else if failed >= max_attempts {
                        let reason = format!("failed after {failed} attempts: {}", t.error);
                        let maybe = maybe || t.maybe_applied;
                        outs.push(outcome_after(
                            &item,
                            maybe,
                            Status::Failed,
                            String::new(),
                            reason,
                        ));
                    } else {
                        if let Some(ra) = t.retry_after {
                            wait = Some(wait.map_or(ra, |w| w.max(ra)));
                        }
                        worst = worst.max(failed);
                        again.push((item, maybe || t.maybe_applied, failed));
                    }
                }
            }
        }
        shared.emit(outs).await;
        if again.is_empty() {
            return;
        }
        let delay = shared.backoff.delay(worst.max(1), wait);
        tracing::debug!(
            "{} item(s) will be retried in {:?} (failed attempts: {worst})",
            again.len(),
            delay
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shared.cancel.cancelled() => {}
        }
        pending = again;
    }
}

async fn dry_run(shared: &Shared, items: &[Item]) -> Vec<ItemOutcome> {
    let p = &shared.platform;
    let entity = shared.cfg.entity;
    let mut outs = Vec::with_capacity(items.len());
    for item in items {
        if let Some(reason) = shared.stop_reason() {
            outs.push(outcome(item, Status::Skipped, String::new(), reason));
            continue;
        }
        if let Err(reason) = p.precheck(entity, &item.contact) {
            outs.push(outcome(item, Status::Invalid, String::new(), reason));
            continue;
        }
        if entity == Entity::Users {
            outs.push(outcome(
                item,
                Status::Valid,
                String::new(),
                "dry_run: would upsert".into(),
            ));
            continue;
        }
        let found = retry::with_retries(shared.cfg.max_attempts, || p.find_existing(&item.contact))
            .await
            .map(|(found, _)| found);
        match found {
            Ok(Some(id)) => match shared.cfg.mode {
                WriteMode::Create => outs.push(outcome(item, Status::Exists, id, "dry_run".into())),
                WriteMode::Upsert | WriteMode::Update => {
                    let reason = format!("dry_run: would update {id}");
                    outs.push(outcome(item, Status::Valid, id, reason));
                }
            },
            Ok(None) if shared.cfg.mode == WriteMode::Update => outs.push(outcome(
                item,
                Status::Skipped,
                String::new(),
                NOT_FOUND.into(),
            )),
            Ok(None) => outs.push(outcome(
                item,
                Status::Valid,
                String::new(),
                "dry_run: would create".into(),
            )),
            Err(PlatformError::Interrupted) => outs.push(outcome(
                item,
                Status::Skipped,
                String::new(),
                INTERRUPTED.into(),
            )),
            Err(e) if e.is_fatal() => {
                shared.set_halt(Halt {
                    reason: format!("stopped: {e}"),
                    error: Some(e),
                });
                let reason = shared.stop_reason().unwrap_or_default();
                outs.push(outcome(item, Status::Skipped, String::new(), reason));
            }
            Err(e) => outs.push(outcome(
                item,
                Status::Failed,
                String::new(),
                format!("dry_run: lookup failed: {e}"),
            )),
        }
    }
    outs
}
