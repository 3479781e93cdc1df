//! The one HTTP client every adapter shares: connection pool, timeouts,
//! pacing, a pause after 429s, cancellation and counters.
//!
//! It never retries by itself: a transparent retry of a create is how
//! contacts get doubled. It reports what happened and whether the request
//! may have reached the platform; the uploader decides.

use super::error::{PlatformError, snippet};
use crate::net::{Cancel, Pacer, parse_retry_after};
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
    pacer: RwLock<Arc<Pacer>>,
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
            pacer: RwLock::new(Arc::new(Pacer::new(rate))),
            pause_until: Mutex::new(None),
            cancel: RwLock::new(None),
            counters: Counters::default(),
        })
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Replaces the pace (`--rate`).
    pub fn set_rate(&self, rate: f64) {
        let mut g = self.pacer.write().unwrap_or_else(|p| p.into_inner());
        *g = Arc::new(Pacer::new(rate));
    }

    /// The current pace in requests/s.
    pub fn rate(&self) -> f64 {
        self.pacer.read().unwrap_or_else(|p| p.into_inner()).rate()
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

    async fn wait_turn(&self, cancel: Option<&Cancel>) -> Result<(), Failure> {
        let pacer = self.pacer.read().unwrap_or_else(|p| p.into_inner()).clone();
        loop {
            let until = *self.pause_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(u) if u > Instant::now() => match cancel {
                    Some(c) => {
                        tokio::select! {
                            _ = tokio::time::sleep_until(u) => {}
                            _ = c.cancelled() => return Err(Failure::Cancelled),
                        }
                    }
                    None => tokio::time::sleep_until(u).await,
                },
                _ => break,
            }
        }
        match cancel {
            Some(c) => tokio::select! {
                _ = pacer.ready() => Ok(()),
                _ = c.cancelled() => Err(Failure::Cancelled),
            },
            None => {
                pacer.ready().await;
                Ok(())
            }
        }
    }

    /// Sends one request, paced, and reads the whole answer.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Reply, Failure> {
        let cancel = self.cancel();
        if cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(Failure::Cancelled);
        }
        self.wait_turn(cancel.as_ref()).await?;
        if cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(Failure::Cancelled);
        }
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
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
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
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
