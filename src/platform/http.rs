//! The one HTTP client every adapter shares: connection pool, timeouts,
//! the account's adaptive pace ([`crate::net::pace`]), a pause after 429s,
//! cancellation and counters. Every request of an adapter — writes,
//! look-ups, listing pages — goes through [`Transport::send`], so reads
//! and writes share one pace and one reaction to 429s.
//!
//! It never retries by itself: a transparent retry of a create is how
//! contacts get doubled. It reports what happened and whether the request
//! may have reached the platform; the uploader decides.

use super::error::{PlatformError, snippet};
use crate::net::pace::{Pace, PaceSnapshot, PaceSpec, Ticket};
use crate::net::{Cancel, parse_retry_after};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::time::Instant;

/// Connect timeout (the lead's default).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-request timeout by default.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After`, if the server sent a readable one.
    pub retry_after: Option<Duration>,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A request that did not produce an answer.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Cancelled before it left.
    Cancelled,
    /// No answer: `maybe_applied` is false only when the request certainly
    /// never reached the server (connection refused, DNS).
    NoAnswer {
        /// What went wrong.
        message: String,
        /// Whether the platform may have carried it out.
        maybe_applied: bool,
    },
}

/// Counters shared by every request of one adapter.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests sent.
    pub requests: AtomicU64,
    /// 429 answers.
    pub rate_limited: AtomicU64,
}

/// The shared client of one adapter (one platform, one key).
pub struct Transport {
    platform: &'static str,
    client: reqwest::Client,
    pace: Arc<Pace>,
    /// The platform's documented wait after a 429 without Retry-After.
    wait_429: RwLock<Duration>,
    pause_until: Mutex<Option<Instant>>,
    cancel: RwLock<Option<Cancel>>,
    counters: Counters,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("platform", &self.platform)
            .finish()
    }
}

impl Transport {
    /// A client with the given timeout, paced at `rate` requests/s.
    pub fn new(
        platform: &'static str,
        rate: f64,
        timeout: Duration,
    ) -> Result<Transport, PlatformError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("waport/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PlatformError::Transport {
                platform,
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Transport {
            platform,
            client,
            pace: Arc::new(Pace::new(PaceSpec::at(rate))),
            wait_429: RwLock::new(Duration::from_secs(1)),
            pause_until: Mutex::new(None),
            cancel: RwLock::new(None),
            counters: Counters::default(),
        })
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Starts the pace over at `rate` requests/s, which becomes its
    /// ceiling (`--rate`: the user's word on the account's limit).
    pub fn set_rate(&self, rate: f64) {
        self.pace.reset(PaceSpec::at(rate));
    }

    /// Sets where the pace starts and its ceiling, and the platform's
    /// documented wait after a 429 that carries no Retry-After.
    pub fn configure_pace(&self, spec: PaceSpec, wait_429: Duration) {
        self.pace.reset(spec);
        *self.wait_429.write().unwrap_or_else(|p| p.into_inner()) = wait_429;
    }

    /// The current pace in requests/s.
    pub fn rate(&self) -> f64 {
        self.pace.rate()
    }

    /// The account's pace: rate, in-flight target, stall time.
    pub fn pace(&self) -> &Pace {
        &self.pace
    }

    /// The pace and its counters, for progress and summaries.
    pub fn pace_snapshot(&self) -> PaceSnapshot {
        self.pace.snapshot()
    }

    /// How long until the pause a 429 imposed ends (zero when none).
    pub fn pause_left(&self) -> Duration {
        let g = self.pause_until.lock().unwrap_or_else(|p| p.into_inner());
        g.map(|u| u.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }

    /// After `cancel` fires, no request leaves.
    pub fn set_cancel(&self, cancel: Cancel) {
        *self.cancel.write().unwrap_or_else(|p| p.into_inner()) = Some(cancel);
    }

    fn cancel(&self) -> Option<Cancel> {
        self.cancel
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Counters so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Holds every request of this transport until `until` (after a 429,
    /// so concurrent workers do not all hit the limit again).
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut g = self.pause_until.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none_or(|u| u < until) {
            *g = Some(until);
        }
    }

    /// Waits out any pause, then the pace's next slot; a pause that began
    /// while waiting for the slot is waited out too (the slot was booked
    /// at the old rate), so no request leaves during a pause.
    async fn wait_turn(&self, cancel: Option<&Cancel>) -> Result<Ticket, Failure> {
        loop {
            loop {
                let until = *self.pause_until.lock().unwrap_or_else(|p| p.into_inner());
                match until {
                    Some(u) if u > Instant::now() => sleep_or_cancel(u, cancel).await?,
                    _ => break,
                }
            }
            match cancel {
                Some(c) => tokio::select! {
                    _ = self.pace.ready() => {}
                    _ = c.cancelled() => return Err(Failure::Cancelled),
                },
                None => self.pace.ready().await,
            }
            if self.pause_left().is_zero() {
                return Ok(self.pace.ticket());
            }
        }
    }

    /// Sends one request, paced, and reads the whole answer.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Reply, Failure> {
        let cancel = self.cancel();
        if cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(Failure::Cancelled);
        }
        let ticket = self.wait_turn(cancel.as_ref()).await?;
        if cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(Failure::Cancelled);
        }
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Err(classify(&e)),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        if status == 429 {
            // Every 429 is handled here, whoever sent the request: all
            // requests of the account wait (Retry-After, else the
            // platform's documented wait with up to 1 s of jitter), and
            // the pace slows down. A quota 429 (Wipsy's free plan) is
            // told apart by the adapter, which stops the run.
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            let wait = retry_after.unwrap_or_else(|| {
                *self.wait_429.read().unwrap_or_else(|p| p.into_inner())
                    + Duration::from_millis(fastrand::u64(0..1000))
            });
            self.pause(wait);
            self.pace
                .throttled(ticket, Instant::now() + wait, retry_after.is_some());
        } else {
            self.pace.answered(sent.elapsed());
        }
        // The status arrived, so the platform answered: a body cut short now
        // still leaves the outcome unknown.
        let body = resp.text().await.map_err(|e| Failure::NoAnswer {
            message: format!("HTTP {status}, body lost: {}", chain(&e)),
            maybe_applied: true,
        })?;
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// A `PlatformError` for a failure (for the non-batch calls).
    pub fn error(&self, f: Failure) -> PlatformError {
        match f {
            Failure::Cancelled => PlatformError::Interrupted,
            Failure::NoAnswer { message, .. } => PlatformError::Transport {
                platform: self.platform,
                message,
            },
        }
    }

    /// A `PlatformError` for an unexpected answer.
    pub fn http_error(&self, r: &Reply) -> PlatformError {
        PlatformError::Http {
            platform: self.platform,
            status: r.status,
            message: snippet(&r.body),
        }
    }
}

/// Sleeps until `until`, or fails with `Cancelled` when `cancel` fires.
async fn sleep_or_cancel(until: Instant, cancel: Option<&Cancel>) -> Result<(), Failure> {
    match cancel {
        Some(c) => tokio::select! {
            _ = tokio::time::sleep_until(until) => Ok(()),
            _ = c.cancelled() => Err(Failure::Cancelled),
        },
        None => {
            tokio::time::sleep_until(until).await;
            Ok(())
        }
    }
}

/// The error and its causes, joined: reqwest's top message alone is often
/// just "error sending request".
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = c.source();
    }
    s
}

fn classify(e: &reqwest::Error) -> Failure {
    let message = if e.is_timeout() {
        format!("timed out: {}", chain(e))
    } else {
        chain(e)
    };
    // Only a failed connect proves the request never left; a timeout or a
    // connection dropped mid-way may follow a committed write.
    Failure::NoAnswer {
        message,
        maybe_applied: !e.is_connect(),
    }
}

/// How an adapter proves who it is: the same header(s) on every request.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer KEY` (Wazzup, Whaapy).
    Bearer(String),
    /// Fixed headers (Wipsy's `x-api-key`, WapiFlow's `client-id` and
    /// `client-secret`).
    Headers(Vec<(&'static str, String)>),
}

/// Where an adapter's requests go and how they are signed: the one place
/// a request is built, so no adapter repeats the base URL or its key.
pub struct Endpoint {
    base: String,
    auth: Auth,
}

impl std::fmt::Debug for Endpoint {
    // Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base)
            .finish()
    }
}

impl Endpoint {
    /// Requests to `base` (the API's root URL, no trailing `/`), signed
    /// with `auth`.
    pub fn new(base: String, auth: Auth) -> Endpoint {
        Endpoint { base, auth }
    }

    /// A signed request to `base` + `path` (`path` starts with `/`), to be
    /// sent with [`Transport::send`].
    pub fn request(
        &self,
        t: &Transport,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let req = t.client().request(method, format!("{}{path}", self.base));
        match &self.auth {
            Auth::Bearer(key) => req.bearer_auth(key),
            Auth::Headers(headers) => headers
                .iter()
                .fold(req, |req, (name, value)| req.header(*name, value)),
        }
    }
}

/// Percent-encodes a path segment.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
