//! Shared setup of the adapter and uploader tests: an emulator with the
//! documented default keys, credentials pointing at it, and a helper that
//! runs an upload to the end.
#![allow(dead_code)]

use std::sync::Arc;
use waport::emulator::{self, EmulatorConfig, EmulatorHandle};
use waport::model::Contact;
use waport::platform::{
    AdapterOptions, Credentials, Entity, Platform, PlatformKind, Secret, WriteMode, connect,
};
use waport::upload::{self, Cancel, Item, ItemOutcome, NoHooks, UploadConfig, UploadStats};

/// An emulator independent of the environment's keys. Adapters here are
/// unpaced, so Whaapy's published 100 per minute is lifted unless the test
/// sets its own limit (it would otherwise wait out minutes).
pub async fn emulator(mut cfg: EmulatorConfig) -> EmulatorHandle {
    cfg.credentials = emulator::Keys::defaults();
    if cfg.rate_limit.is_none() && cfg.rate_limit_schedule.is_empty() {
        cfg.whaapy_default_limit = false;
    }
    emulator::start(cfg).await.unwrap()
}

/// The emulator's base URL of a platform.
pub fn base(h: &EmulatorHandle, kind: PlatformKind) -> String {
    let prefix = match kind {
        PlatformKind::Wazzup => "/wazzup/v3",
        PlatformKind::Whaapy => "/whaapy",
        PlatformKind::Wipsy => "/wipsy/functions/v1",
        PlatformKind::Wapiflow => "/wapiflow/external-api",
    };
    format!("{}{prefix}", h.base_url())
}

/// Credentials accepted by the emulator.
pub fn creds(h: &EmulatorHandle, kind: PlatformKind) -> Credentials {
    let secret = match kind {
        PlatformKind::Wazzup => Secret::ApiKey(emulator::DEFAULT_WAZZUP_KEY.into()),
        PlatformKind::Whaapy => Secret::ApiKey(emulator::DEFAULT_WHAAPY_KEY.into()),
        PlatformKind::Wipsy => Secret::ApiKey(emulator::DEFAULT_WIPSY_KEY.into()),
        PlatformKind::Wapiflow => Secret::ClientPair {
            id: emulator::DEFAULT_WAPIFLOW_CLIENT_ID.into(),
            secret: emulator::DEFAULT_WAPIFLOW_CLIENT_SECRET.into(),
        },
    };
    Credentials::new(kind, &base(h, kind), secret)
}

/// An adapter against the emulator, unpaced unless `rate` is given.
pub fn adapter(h: &EmulatorHandle, kind: PlatformKind, opts: AdapterOptions) -> Arc<dyn Platform> {
    let opts = AdapterOptions {
        rate: opts.rate.or(Some(0.0)),
        ..opts
    };
    connect(kind, creds(h, kind), opts).unwrap()
}

/// A contact with the fields most tests need.
pub fn person(first: &str, last: &str, phone: &str, email: &str) -> Contact {
    let mut c = Contact {
        first_name: first.into(),
        last_name: last.into(),
        phone: phone.into(),
        email: email.into(),
        ..Contact::default()
    };
    c.complete_names();
    c
}

/// A test upload configuration.
pub fn config(mode: WriteMode) -> UploadConfig {
    UploadConfig {
        entity: Entity::Contacts,
        mode,
        rate: None,
        concurrency: 4,
        batch_size: None,
        max_attempts: 5,
        dry_run: false,
        stall_limit: waport::net::pace::STALL_LIMIT,
    }
}

/// Uploads `contacts` (rows numbered from 2, as under a header) and returns
/// the outcomes in input order with the stats.
pub async fn upload(
    p: Arc<dyn Platform>,
    cfg: UploadConfig,
    contacts: Vec<Contact>,
    cancel: Cancel,
) -> (Vec<ItemOutcome>, UploadStats) {
    let n = contacts.len();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let (otx, mut orx) = tokio::sync::mpsc::channel(64);
    let feeder = tokio::spawn(async move {
        for (i, c) in contacts.into_iter().enumerate() {
            let item = Item {
                seq: i as u64,
                row: i as u64 + 2,
                contact: c,
                maybe_applied: false,
                held_at_start: None,
            };
            if tx.send(item).await.is_err() {
                break;
            }
        }
    });
    let collector = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(o) = orx.recv().await {
            out.push(o);
        }
        out
    });
    let stats = upload::run(p, cfg, rx, otx, Arc::new(NoHooks), cancel).await;
    feeder.await.unwrap();
    let mut out = collector.await.unwrap();
    out.sort_by_key(|o| o.seq);
    assert_eq!(out.len(), n, "one outcome per item");
    for (i, o) in out.iter().enumerate() {
        assert_eq!(o.seq, i as u64, "every item exactly once");
    }
    (out, stats)
}

/// The statuses of outcomes, as names.
pub fn statuses(out: &[ItemOutcome]) -> Vec<&'static str> {
    out.iter().map(|o| o.status.as_str()).collect()
}
