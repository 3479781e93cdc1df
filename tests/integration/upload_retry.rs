//! The uploader's retry timing, attempt bound and cancellation, with tokio's
//! clock paused.
//!
//! A scripted platform stands in for the network here: the emulator's
//! sockets cannot run on a paused clock (the runtime would jump time while
//! a request is in flight). The adapters' own classification of real
//! answers is tested against the emulator in `platform_*.rs`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use waport::model::Contact;
use waport::model::Status;
use waport::platform::http::Transport;
use waport::platform::{
    BatchResult, BoxFuture, Entity, ItemResult, Page, Platform, PlatformError, PlatformKind,
    Transient, WriteMode,
};
use waport::upload::{self, Cancel, Item, ItemOutcome, NoHooks, UploadConfig, UploadStats};

/// Answers each call with the next scripted result (for every item), and
/// records when each call came and with which `maybe_applied` flags.
struct Scripted {
    t: Transport,
    script: Mutex<VecDeque<ItemResult>>,
    calls: Mutex<Vec<(Instant, Vec<bool>)>>,
    work: Duration,
}

impl Scripted {
    fn new(script: Vec<ItemResult>, work: Duration) -> Arc<Scripted> {
        Arc::new(Scripted {
            t: Transport::new("scripted", 0.0, Duration::from_secs(30)).unwrap(),
            script: Mutex::new(script.into()),
            calls: Mutex::new(Vec::new()),
            work,
        })
    }
}

fn retry(after: Option<u64>, maybe_applied: bool) -> ItemResult {
    ItemResult::Retry(Transient {
        error: format!("http_503: scripted (retry_after {after:?})"),
        retry_after: after.map(Duration::from_secs),
        maybe_applied,
        rate_limited: false,
    })
}

fn ok() -> ItemResult {
    ItemResult::done(Status::Created, "id-1", "")
}

impl Platform for Scripted {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Whaapy
    }
    fn batch_size(&self, _: Entity) -> usize {
        1
    }
    fn default_rate(&self) -> f64 {
        0.0
    }
    fn transport(&self) -> &Transport {
        &self.t
    }
    fn identity(&self, _: Entity, _: &Contact) -> Option<String> {
        None
    }
    fn precheck(&self, _: Entity, _: &Contact) -> Result<(), String> {
        Ok(())
    }
    fn send_batch<'a>(
        &'a self,
        _: Entity,
        _: WriteMode,
        items: &'a [Item],
        maybe_applied: &'a [bool],
    ) -> BoxFuture<'a, BatchResult> {
        Box::pin(async move {
            self.calls
                .lock()
                .unwrap()
                .push((Instant::now(), maybe_applied.to_vec()));
            tokio::time::sleep(self.work).await;
            let r = self.script.lock().unwrap().pop_front().unwrap_or_else(ok);
            BatchResult {
                results: vec![r; items.len()],
                halt: None,
            }
        })
    }
    fn find_existing<'a>(
        &'a self,
        _: &'a Contact,
    ) -> BoxFuture<'a, Result<Option<String>, PlatformError>> {
        Box::pin(async { Ok(None) })
    }
    fn list_page<'a>(
        &'a self,
        _: Entity,
        _: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page, PlatformError>> {
        Box::pin(async { Ok(Page::default()) })
    }
    fn delete<'a>(&'a self, _: Entity, _: &'a str) -> BoxFuture<'a, Result<(), PlatformError>> {
        Box::pin(async { Ok(()) })
    }
    fn check(&self) -> BoxFuture<'_, Result<Vec<String>, PlatformError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

fn cfg(max_attempts: u32) -> UploadConfig {
    UploadConfig {
        entity: Entity::Contacts,
        mode: WriteMode::Create,
        rate: None,
        concurrency: 1,
        batch_size: None,
        max_attempts,
        dry_run: false,
        stall_limit: waport::net::pace::STALL_LIMIT,
    }
}

async fn run(
    p: Arc<Scripted>,
    cfg: UploadConfig,
    n: usize,
    cancel: Cancel,
) -> (Vec<ItemOutcome>, UploadStats) {
    let (tx, rx) = tokio::sync::mpsc::channel(n.max(1));
    for i in 0..n {
        tx.send(Item {
            seq: i as u64,
            row: i as u64 + 2,
            contact: Contact::default(),
            maybe_applied: false,
            held_at_start: None,
        })
        .await
        .unwrap();
    }
    drop(tx);
    let (otx, mut orx) = tokio::sync::mpsc::channel(n.max(1));
    let stats = upload::run(p, cfg, rx, otx, Arc::new(NoHooks), cancel).await;
    let mut out = Vec::new();
    while let Some(o) = orx.recv().await {
        out.push(o);
    }
    out.sort_by_key(|o| o.seq);
    (out, stats)
}

fn gaps(p: &Scripted) -> Vec<Duration> {
    let calls = p.calls.lock().unwrap();
    calls.windows(2).map(|w| w[1].0 - w[0].0).collect()
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_waited_out_before_the_next_attempt() {
    let p = Scripted::new(
        vec![retry(Some(7), false), retry(Some(7), false)],
        Duration::ZERO,
    );
    let (out, stats) = run(p.clone(), cfg(5), 1, Cancel::new()).await;
    assert_eq!(out[0].status, Status::Created);
    assert_eq!(stats.retries, 2);
    for g in gaps(&p) {
        // Retry-After 7 s plus at most 10% jitter.
        assert!(
            g >= Duration::from_secs(7) && g <= Duration::from_millis(7700),
            "{g:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_exponentially_with_jitter() {
    let p = Scripted::new(vec![retry(None, false); 4], Duration::ZERO);
    let (out, _) = run(p.clone(), cfg(10), 1, Cancel::new()).await;
    assert_eq!(out[0].status, Status::Created);
    let g = gaps(&p);
    assert_eq!(g.len(), 4);
    for (i, gap) in g.iter().enumerate() {
        // Ceiling 0.5 s × 2^i; equal jitter keeps it within [ceil/2, ceil].
        let ceil = Duration::from_millis(500) * (1 << i);
        assert!(*gap >= ceil / 2 && *gap <= ceil, "attempt {i}: {gap:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded_then_failed_with_the_last_error() {
    let p = Scripted::new(vec![retry(Some(1), false); 10], Duration::ZERO);
    let (out, stats) = run(p.clone(), cfg(3), 1, Cancel::new()).await;
    assert_eq!(out[0].status, Status::Failed);
    assert_eq!(
        out[0].reason,
        "failed after 3 attempts: http_503: scripted (retry_after Some(1))"
    );
    assert_eq!(p.calls.lock().unwrap().len(), 3);
    assert_eq!(stats.retries, 2);
}

#[tokio::test(start_paused = true)]
async fn a_possibly_applied_attempt_is_flagged_on_every_later_one() {
    let p = Scripted::new(vec![retry(None, true), retry(None, false)], Duration::ZERO);
    run(p.clone(), cfg(5), 1, Cancel::new()).await;
    let flags: Vec<Vec<bool>> = p
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.1.clone())
        .collect();
    assert_eq!(flags, vec![vec![false], vec![true], vec![true]]);
}

#[tokio::test(start_paused = true)]
async fn cancel_lets_in_flight_finish_and_skips_the_rest() {
    let p = Scripted::new(Vec::new(), Duration::from_secs(1));
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        c2.cancel();
    });
    let (out, stats) = run(p.clone(), cfg(5), 10, cancel).await;
    assert_eq!(out.len(), 10);
    let created = out.iter().filter(|o| o.status == Status::Created).count();
    // Calls at 0 s, 1 s, 2 s; the third was in flight at 2.5 s and finished.
    assert_eq!(created, 3);
    assert!(
        out[3..]
            .iter()
            .all(|o| o.status == Status::Skipped && o.reason == "interrupted")
    );
    assert!(stats.interrupted);
}

#[tokio::test(start_paused = true)]
async fn cancel_during_backoff_skips_the_waiting_item() {
    let p = Scripted::new(vec![retry(Some(60), false)], Duration::ZERO);
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        c2.cancel();
    });
    let t0 = Instant::now();
    let (out, _) = run(p, cfg(5), 1, cancel).await;
    assert_eq!(out[0].status, Status::Skipped);
    assert_eq!(out[0].reason, "interrupted");
    assert!(t0.elapsed() < Duration::from_secs(2));
}
