//! A local, faithful emulator of the Wazzup, Whaapy, Wipsy and WapiFlow APIs.
//!
//! Each platform lives under a prefix and keeps its real paths below it, so a
//! client switches between production and the emulator by base URL alone:
//!
//! | platform | emulator base | real base |
//! |---|---|---|
//! | Wazzup | `/wazzup/v3` | `https://api.wazzup24.com/v3` |
//! | Whaapy | `/whaapy` | `https://api.whaapy.com` |
//! | Wipsy | `/wipsy/functions/v1` | `https://api.getwipsy.com/functions/v1` |
//! | WapiFlow | `/wapiflow/external-api` | `https://wapiflow.cloud/external-api` |
//!
//! `/_emulator/...` holds introspection for tests and rehearsals. Behaviour
//! the documents do not pin down is marked "Assumption" in the platform files.

// Handlers return `Err(Response)` for the answer to send on an error path;
// the size of a `Response` does not matter there.
#![allow(clippy::result_large_err)]

pub mod faults;
mod net;
mod shared;
mod wapiflow;
mod wazzup;
mod whaapy;
mod wipsy;

pub use wazzup::DEFAULT_WAZZUP_USER_ID;
pub use wipsy::{
    DEFAULT_WIPSY_FIELD_COMPANY, DEFAULT_WIPSY_STAGE_NEW, DEFAULT_WIPSY_TAG_CLIENTE,
    DEFAULT_WIPSY_TAG_PREMIUM,
};

use crate::model::PlatformKind;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use faults::FaultPlan;
use serde::{Deserialize, Serialize};
pub use shared::{LimitSchedule, LimitSpec, parse_schedule};
use shared::{PlatformStats, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Wazzup key accepted when `WAZZUP_API_KEY` is unset: the key of seed 003's
/// POST /users example, so that example works with only the host changed.
pub const DEFAULT_WAZZUP_KEY: &str = "c8cf90444023482f909520d454368d27";
/// Second Wazzup key accepted when `WAZZUP_API_KEY` is unset: the one in
/// seed 003's GET /users example.
pub const DEFAULT_WAZZUP_KEY_ALT: &str = "c8cf90444442348we909520d454368d27";
/// Whaapy key accepted when `WHAAPY_API_KEY` is unset (seed 001's example).
pub const DEFAULT_WHAAPY_KEY: &str = "wha_TU_API_KEY";
/// Wipsy key accepted when `WIPSY_API_KEY` is unset (seed 000's example).
pub const DEFAULT_WIPSY_KEY: &str = "YOUR_API_KEY_HERE";
/// WapiFlow client id accepted when `WAPIFLOW_CLIENT_ID` is unset (seed 002).
pub const DEFAULT_WAPIFLOW_CLIENT_ID: &str = "YOUR-CLIENT-ID";
/// WapiFlow client secret accepted when `WAPIFLOW_CLIENT_SECRET` is unset (seed 002).
pub const DEFAULT_WAPIFLOW_CLIENT_SECRET: &str = "YOUR-CLIENT-SECRET";
/// Default delay of a `Delayed` fault: past common 30 s client timeouts.
pub const DEFAULT_FAULT_DELAY_MS: u64 = 35_000;

/// The credentials each platform accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// Wazzup bearer keys.
    pub wazzup: Vec<String>,
    /// Whaapy bearer keys (`wha_...`).
    pub whaapy: Vec<String>,
    /// Wipsy `x-api-key` values.
    pub wipsy: Vec<String>,
    /// WapiFlow `(client-id, client-secret)` pairs.
    pub wapiflow: Vec<(String, String)>,
}

impl Keys {
    /// The documented defaults (the keys printed in the seed examples).
    pub fn defaults() -> Keys {
        Keys {
            wazzup: vec![DEFAULT_WAZZUP_KEY.into(), DEFAULT_WAZZUP_KEY_ALT.into()],
            whaapy: vec![DEFAULT_WHAAPY_KEY.into()],
            wipsy: vec![DEFAULT_WIPSY_KEY.into()],
            wapiflow: vec![(
                DEFAULT_WAPIFLOW_CLIENT_ID.into(),
                DEFAULT_WAPIFLOW_CLIENT_SECRET.into(),
            )],
        }
    }

    /// The keys in the environment variables the client reads
    /// (`WAZZUP_API_KEY`, `WHAAPY_API_KEY`, `WIPSY_API_KEY`,
    /// `WAPIFLOW_CLIENT_ID`, `WAPIFLOW_CLIENT_SECRET`); each unset or empty
    /// one falls back to its default.
    pub fn from_env() -> Keys {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        let d = Keys::defaults();
        Keys {
            wazzup: var("WAZZUP_API_KEY").map(|k| vec![k]).unwrap_or(d.wazzup),
            whaapy: var("WHAAPY_API_KEY").map(|k| vec![k]).unwrap_or(d.whaapy),
            wipsy: var("WIPSY_API_KEY").map(|k| vec![k]).unwrap_or(d.wipsy),
            wapiflow: vec![(
                var("WAPIFLOW_CLIENT_ID").unwrap_or_else(|| DEFAULT_WAPIFLOW_CLIENT_ID.into()),
                var("WAPIFLOW_CLIENT_SECRET")
                    .unwrap_or_else(|| DEFAULT_WAPIFLOW_CLIENT_SECRET.into()),
            )],
        }
    }
}

/// How to run the emulator (built from `waport emulate` flags or by `--sandbox`).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Seed for fault injection and generated ids.
    pub seed: u64,
    /// Requests per [`EmulatorConfig::rate_limit_window`] per platform and
    /// key, answered with Retry-After beyond it (`None`: each platform's
    /// documented limit — Wazzup 500 per 5 s, Whaapy 100 per minute;
    /// `Some(0)`: no limit at all).
    pub rate_limit: Option<u32>,
    /// The window of `rate_limit` (1 s by default).
    pub rate_limit_window: Duration,
    /// A limit that changes during the run: from each `(time after start,
    /// limit)` on, that limit applies to every platform, answered in the
    /// platform's own way (Wazzup without Retry-After). Overrides
    /// `rate_limit` when not empty; a count of 0 lifts the limit.
    pub rate_limit_schedule: Vec<(Duration, LimitSpec)>,
    /// Fraction of requests that fail.
    pub fault_rate: f64,
    /// Latency added to every response.
    pub latency_ms: u64,
    /// Up to this much more or less latency, uniformly at random.
    pub latency_jitter_ms: u64,
    /// JSON file to load the stored data from and save it to.
    pub state_file: Option<PathBuf>,
    /// Wipsy free plan: 429 after 100 contacts created in the month.
    pub wipsy_free_plan: bool,
    /// Wipsy: ignore `offset` on the listing, as the documentation allows
    /// (docs/platforms.md#wipsy-endpoints: no paging is documented), so an
    /// account shows only its newest 500 contacts.
    pub wipsy_no_offset: bool,
    /// Addresses or CIDR blocks WapiFlow accepts (default: loopback).
    pub wapiflow_whitelist: Vec<String>,
    /// How long a `Delayed` fault holds its response back, in milliseconds.
    pub fault_delay_ms: u64,
    /// Whether Wazzup's documented 500 requests per 5 s apply when
    /// `rate_limit` is `None` (switch off for benchmarks of other stages).
    pub wazzup_default_limit: bool,
    /// Whether Whaapy's published 100 requests per minute apply when
    /// `rate_limit` is `None`.
    pub whaapy_default_limit: bool,
    /// WapiFlow plan limit on stored contacts (`None`: unlimited); beyond it,
    /// `contact/store` answers `contact_limit`.
    pub wapiflow_contact_limit: Option<u32>,
    /// The keys each platform accepts. `Default` reads them from the
    /// environment (see [`Keys::from_env`]); tests should set
    /// [`Keys::defaults`] to be independent of the environment.
    pub credentials: Keys,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            rate_limit: None,
            rate_limit_window: Duration::from_secs(1),
            rate_limit_schedule: Vec::new(),
            fault_rate: 0.0,
            latency_ms: 0,
            latency_jitter_ms: 0,
            state_file: None,
            wipsy_free_plan: false,
            wipsy_no_offset: false,
            wapiflow_whitelist: Vec::new(),
            fault_delay_ms: DEFAULT_FAULT_DELAY_MS,
            wazzup_default_limit: true,
            whaapy_default_limit: true,
            wapiflow_contact_limit: None,
            credentials: Keys::from_env(),
        }
    }
}

/// Why the emulator could not start, save or stop.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The state file could not be read or written.
    #[error("state file {path}: {source}")]
    StateIo {
        /// The state file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The state file is not valid emulator state.
    #[error("state file {path} is not valid emulator state: {source}")]
    StateFormat {
        /// The state file.
        path: PathBuf,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// A `--wapiflow-whitelist` entry is neither an address nor a CIDR block.
    #[error("invalid WapiFlow whitelist entry {0:?} (expected an IP address or IP/BITS)")]
    Whitelist(String),
    /// The async runtime could not be built or a signal handler installed.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// How platform `p`'s emulated API authenticates a request: the key it
/// presents, or the answer that refuses it.
fn authenticate(
    p: PlatformKind,
    emu: &Emu,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Result<String, Response> {
    match p {
        PlatformKind::Wazzup => wazzup::authenticate(emu, headers),
        PlatformKind::Whaapy => whaapy::authenticate(emu, headers),
        PlatformKind::Wipsy => wipsy::authenticate(emu, headers),
        PlatformKind::Wapiflow => wapiflow::authenticate(emu, headers, peer),
    }
}

/// Platform `p`'s own "too many requests" answer.
fn rate_limited(p: PlatformKind, retry_after: Option<u64>) -> Response {
    match p {
        PlatformKind::Wazzup => wazzup::rate_limited(),
        PlatformKind::Whaapy => whaapy::rate_limited(retry_after),
        PlatformKind::Wipsy => wipsy::rate_limited(retry_after),
        PlatformKind::Wapiflow => wapiflow::rate_limited(retry_after),
    }
}

/// Everything stored, as saved to the state file.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct Persisted {
    wazzup: wazzup::State,
    whaapy: whaapy::State,
    wipsy: wipsy::State,
    wapiflow: wapiflow::State,
}

/// An IP network of the WapiFlow whitelist.
#[derive(Debug, Clone, Copy)]
struct IpNet {
    addr: IpAddr,
    bits: u8,
}

impl IpNet {
    fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (a, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(IpNet { addr, bits })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The shared state behind every handler: one lock per platform.
pub(crate) struct Emu {
    pub(crate) cfg: EmulatorConfig,
    pub(crate) wazzup: Mutex<wazzup::State>,
    pub(crate) whaapy: Mutex<whaapy::State>,
    pub(crate) wipsy: Mutex<wipsy::State>,
    pub(crate) wapiflow: Mutex<wapiflow::State>,
    stats: [PlatformStats; 4],
    pub(crate) request_counter: AtomicU64,
    pub(crate) faults: FaultPlan,
    pub(crate) limiter: RateLimiter,
    whitelist: Vec<IpNet>,
    /// Serializes saves so two resets cannot interleave their writes.
    save_lock: Mutex<()>,
}

/// Locks a mutex, carrying on if a panicking handler poisoned it: the data
/// is plain values that each handler leaves consistent before it can panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Emu {
    pub(crate) fn stats(&self, p: PlatformKind) -> &PlatformStats {
        // `stats` has one slot per platform, in `PlatformKind`'s order.
        &self.stats[p as usize]
    }

    pub(crate) fn ip_allowed(&self, ip: IpAddr) -> bool {
        self.whitelist.iter().any(|n| n.contains(ip))
    }

    fn stats_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for p in PlatformKind::ALL {
            m.insert(p.name().into(), self.stats(p).to_json());
        }
        serde_json::Value::Object(m)
    }

    fn contacts_json(&self, p: PlatformKind) -> serde_json::Value {
        match p {
            PlatformKind::Wazzup => lock(&self.wazzup).contacts_json(),
            PlatformKind::Whaapy => lock(&self.whaapy).contacts_json(),
            PlatformKind::Wipsy => lock(&self.wipsy).contacts_json(),
            PlatformKind::Wapiflow => lock(&self.wapiflow).contacts_json(),
        }
    }

    fn reset(&self) {
        lock(&self.wazzup).reset();
        lock(&self.whaapy).reset();
        lock(&self.wipsy).reset();
        lock(&self.wapiflow).reset();
        for s in &self.stats {
            s.reset();
        }
        self.limiter.clear();
    }

    fn save(&self) -> Result<(), EmulatorError> {
        let Some(path) = &self.cfg.state_file else {
            return Ok(());
        };
        let _guard = lock(&self.save_lock);
        // Serialize each platform under its own lock, one at a time, so a
        // save never holds two locks.
        let mut doc = serde_json::Map::new();
        let fmt_err = |source| EmulatorError::StateFormat {
            path: path.clone(),
            source,
        };
        doc.insert(
            "wazzup".into(),
            serde_json::to_value(&*lock(&self.wazzup)).map_err(fmt_err)?,
        );
        doc.insert(
            "whaapy".into(),
            serde_json::to_value(&*lock(&self.whaapy)).map_err(fmt_err)?,
        );
        doc.insert(
            "wipsy".into(),
            serde_json::to_value(&*lock(&self.wipsy)).map_err(fmt_err)?,
        );
        doc.insert(
            "wapiflow".into(),
            serde_json::to_value(&*lock(&self.wapiflow)).map_err(fmt_err)?,
        );
        let text = serde_json::to_vec_pretty(&serde_json::Value::Object(doc)).map_err(fmt_err)?;
        // Write then rename: a crash mid-save leaves the old file intact.
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let io_err = |source| EmulatorError::StateIo {
            path: path.clone(),
            source,
        };
        std::fs::write(&tmp, text).map_err(io_err)?;
        std::fs::rename(&tmp, path).map_err(io_err)
    }
}

fn load_state(path: Option<&FsPath>, seed: u64) -> Result<Persisted, EmulatorError> {
    let fresh = || Persisted {
        wazzup: wazzup::State::new(seed),
        whaapy: whaapy::State::new(seed),
        wipsy: wipsy::State::new(seed),
        wapiflow: wapiflow::State::new(),
    };
    let Some(path) = path else {
        return Ok(fresh());
    };
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(fresh()),
        Err(source) => {
            return Err(EmulatorError::StateIo {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(fresh());
    }
    let mut p: Persisted =
        serde_json::from_slice(&text).map_err(|source| EmulatorError::StateFormat {
            path: path.to_path_buf(),
            source,
        })?;
    p.wazzup.after_load(seed);
    p.whaapy.after_load(seed);
    p.wipsy.after_load(seed);
    p.wapiflow.after_load();
    Ok(p)
}

/// A running emulator.
pub struct EmulatorHandle {
    addr: SocketAddr,
    emu: Arc<Emu>,
    shutdown_tx: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl EmulatorHandle {
    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, the base to which the platform prefixes are added.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The counters, as `GET /_emulator/stats` returns them.
    pub fn stats(&self) -> serde_json::Value {
        self.emu.stats_json()
    }

    /// Everything a platform stores, in its own representation
    /// (as `GET /_emulator/{platform}/contacts` returns it).
    pub fn contacts(&self, platform: PlatformKind) -> serde_json::Value {
        self.emu.contacts_json(platform)
    }

    /// Wazzup's users (as `GET /_emulator/wazzup/users` returns them).
    pub fn wazzup_users(&self) -> serde_json::Value {
        lock(&self.emu.wazzup).users_json()
    }

    /// Clears the stored data and counters (as `POST /_emulator/reset`), then
    /// saves the state file if one is configured.
    pub fn reset(&self) -> Result<(), EmulatorError> {
        self.emu.reset();
        self.emu.save()
    }

    /// Writes the state file now, if one is configured.
    pub fn save(&self) -> Result<(), EmulatorError> {
        self.emu.save()
    }

    /// Stops accepting connections, lets in-flight requests finish for up to
    /// a second (a delayed fault does not hold the shutdown), and saves the
    /// state file if one is configured.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        if tokio::time::timeout(Duration::from_secs(1), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
        self.emu.save()
    }
}

fn platform_router(emu: &Arc<Emu>, p: PlatformKind) -> Router<Arc<Emu>> {
    let routes = match p {
        PlatformKind::Wazzup => wazzup::routes(),
        PlatformKind::Whaapy => whaapy::routes(),
        PlatformKind::Wipsy => wipsy::routes(),
        PlatformKind::Wapiflow => wapiflow::routes(),
    };
    routes.layer(axum::middleware::from_fn_with_state(
        (emu.clone(), p),
        shared::platform_layer,
    ))
}

async fn introspect_stats(State(emu): State<Arc<Emu>>) -> Response {
    axum::Json(emu.stats_json()).into_response()
}

async fn introspect_contacts(State(emu): State<Arc<Emu>>, Path(p): Path<String>) -> Response {
    match p.parse::<PlatformKind>() {
        Ok(p) => axum::Json(emu.contacts_json(p)).into_response(),
        Err(e) => (StatusCode::NOT_FOUND, e).into_response(),
    }
}

async fn introspect_users(State(emu): State<Arc<Emu>>) -> Response {
    axum::Json(lock(&emu.wazzup).users_json()).into_response()
}

async fn introspect_wipsy_catalog(State(emu): State<Arc<Emu>>) -> Response {
    axum::Json(lock(&emu.wipsy).catalog_json()).into_response()
}

async fn introspect_reset(State(emu): State<Arc<Emu>>) -> Response {
    emu.reset();
    match emu.save() {
        Ok(()) => axum::Json(serde_json::json!({"reset": true})).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Where the emulator serves `p`'s API: the path of the real base URL, so
/// a client changes only the host. The one place these prefixes are
/// written; clients build their base URLs from it.
pub fn prefix(p: PlatformKind) -> &'static str {
    match p {
        PlatformKind::Wazzup => "/wazzup/v3",
        PlatformKind::Whaapy => "/whaapy",
        PlatformKind::Wipsy => "/wipsy/functions/v1",
        PlatformKind::Wapiflow => "/wapiflow/external-api",
    }
}

fn app(emu: Arc<Emu>) -> Router {
    let mut router = Router::new();
    for p in PlatformKind::ALL {
        router = router.nest(prefix(p), platform_router(&emu, p));
    }
    router
        .route("/_emulator/stats", get(introspect_stats))
        .route("/_emulator/reset", post(introspect_reset))
        .route("/_emulator/wazzup/users", get(introspect_users))
        .route("/_emulator/wipsy/catalog", get(introspect_wipsy_catalog))
        .route("/_emulator/{platform}/contacts", get(introspect_contacts))
        .with_state(emu)
}

/// Binds `cfg.listen`, loads the state file if configured, and serves in a
/// background task of the current tokio runtime.
pub async fn start(cfg: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
    let whitelist = if cfg.wapiflow_whitelist.is_empty() {
        vec![
            IpNet {
                addr: IpAddr::from([127, 0, 0, 0]),
                bits: 8,
            },
            IpNet {
                addr: IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
                bits: 128,
            },
        ]
    } else {
        cfg.wapiflow_whitelist
            .iter()
            .flat_map(|s| s.split(','))
            .filter(|s| !s.trim().is_empty())
            .map(|s| IpNet::parse(s).ok_or_else(|| EmulatorError::Whitelist(s.to_string())))
            .collect::<Result<Vec<_>, _>>()?
    };
    let state = load_state(cfg.state_file.as_deref(), cfg.seed)?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| EmulatorError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let emu = Arc::new(Emu {
        faults: FaultPlan::new(cfg.seed, cfg.fault_rate),
        limiter: RateLimiter::new(&cfg),
        wazzup: Mutex::new(state.wazzup),
        whaapy: Mutex::new(state.whaapy),
        wipsy: Mutex::new(state.wipsy),
        wapiflow: Mutex::new(state.wapiflow),
        stats: Default::default(),
        request_counter: AtomicU64::new(0),
        whitelist,
        save_lock: Mutex::new(()),
        cfg,
    });
    let router = app(emu.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let listener = net::KillableListener::new(listener);
    let task = tokio::spawn(async move {
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<net::ConnInfo>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!("emulator server stopped: {e}");
        }
    });
    Ok(EmulatorHandle {
        addr,
        emu,
        shutdown_tx: Some(tx),
        task,
    })
}
