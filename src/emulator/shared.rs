//! Machinery shared by the four platforms: statistics, rate limits, fault
//! injection and latency (one middleware), and small parsing helpers.

use super::Emu;
use super::faults::FaultKind;
use super::net::ConnInfo;
use crate::model::PlatformKind;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Counters of one platform, read by `GET /_emulator/stats`.
#[derive(Default, Debug)]
pub(crate) struct PlatformStats {
    pub(crate) requests: AtomicU64,
    pub(crate) created: AtomicU64,
    pub(crate) updated: AtomicU64,
    pub(crate) deleted: AtomicU64,
    pub(crate) client_errors: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) faults: AtomicU64,
}

impl PlatformStats {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "requests": g(&self.requests),
            "created": g(&self.created),
            "updated": g(&self.updated),
            "deleted": g(&self.deleted),
            "client_errors": g(&self.client_errors),
            "rate_limited": g(&self.rate_limited),
            "faults": g(&self.faults),
        })
    }

    pub(crate) fn reset(&self) {
        for a in [
            &self.requests,
            &self.created,
            &self.updated,
            &self.deleted,
            &self.client_errors,
            &self.rate_limited,
            &self.faults,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn add_created(&self, n: u64) {
        self.created.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_updated(&self, n: u64) {
        self.updated.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_deleted(&self, n: u64) {
        self.deleted.fetch_add(n, Ordering::Relaxed);
    }
}

/// Marks a response as a client error although its status is 200
/// (WapiFlow answers errors with 200, as the script it runs on does).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SoftClientError;

/// What the rate limiter decided.
pub(crate) enum Throttle {
    Pass,
    /// Over the limit; `Some(secs)` is sent as Retry-After, `None` sends none
    /// (Wazzup documents no Retry-After).
    Limited(Option<u64>),
}

struct Window {
    start: Instant,
    count: u32,
}

/// A request limit in a platform's own shape: `count` requests per
/// fixed `window` (Wazzup: 500 per 5 s; Whaapy: 100 per minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSpec {
    /// Requests admitted per window; 0 means no limit.
    pub count: u32,
    /// The window; its counter resets when a request comes after it ends.
    pub window: Duration,
}

impl std::str::FromStr for LimitSpec {
    type Err = String;
    /// `N` (per second), `N/s`, `N/min`, `N/5s`, `N/60s`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid limit {s:?} (expected N, N/s, N/min or N/5s)");
        let (n, w) = s.trim().split_once('/').unwrap_or((s.trim(), "s"));
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        let w = w.trim();
        let window = match w {
            "min" | "m" => Duration::from_secs(60),
            _ => {
                let digits = w.strip_suffix('s').ok_or_else(bad)?;
                let secs: u64 = if digits.is_empty() {
                    1
                } else {
                    digits.parse().map_err(|_| bad())?
                };
                if secs == 0 {
                    return Err(bad());
                }
                Duration::from_secs(secs)
            }
        };
        Ok(LimitSpec { count, window })
    }
}

/// A limit that changes during a run: `(seconds after start, limit)`
/// pairs, e.g. `0:500/5s,30:100/5s` (the limit drops to a fifth after
/// 30 s).
pub fn parse_schedule(s: &str) -> Result<Vec<(Duration, LimitSpec)>, String> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (at, spec) = part
            .split_once(':')
            .ok_or_else(|| format!("invalid schedule entry {part:?} (expected SECONDS:LIMIT)"))?;
        let at: u64 = at
            .trim()
            .parse()
            .map_err(|_| format!("invalid schedule time {at:?}"))?;
        out.push((Duration::from_secs(at), spec.parse()?));
    }
    out.sort_by_key(|(at, _)| *at);
    Ok(out)
}

/// A parsed `--rate-limit-schedule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSchedule(pub Vec<(Duration, LimitSpec)>);

impl std::str::FromStr for LimitSchedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_schedule(s).map(LimitSchedule)
    }
}

/// Fixed-window counters per platform and credential.
pub(crate) struct RateLimiter {
    per_second: Option<u32>,
    window: Duration,
    schedule: Vec<(Duration, LimitSpec)>,
    wazzup_default: bool,
    whaapy_default: bool,
    started: Instant,
    windows: Mutex<HashMap<(PlatformKind, String), Window>>,
}

/// Wazzup's documented limit: 500 requests per 5 seconds, counter reset every 5 s.
pub(crate) const WAZZUP_LIMIT: u32 = 500;
/// The window of Wazzup's documented limit.
pub(crate) const WAZZUP_WINDOW: Duration = Duration::from_secs(5);
/// Whaapy's published limit: 100 requests per minute (API overview,
/// docs/platforms.md#whaapy-rate-limit; fixed window **assumed**).
pub(crate) const WHAAPY_LIMIT: u32 = 100;
/// The window of Whaapy's published limit.
pub(crate) const WHAAPY_WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    pub(crate) fn new(cfg: &super::EmulatorConfig) -> Self {
        RateLimiter {
            per_second: cfg.rate_limit,
            window: cfg.rate_limit_window.max(Duration::from_millis(1)),
            schedule: cfg.rate_limit_schedule.clone(),
            wazzup_default: cfg.wazzup_default_limit,
            whaapy_default: cfg.whaapy_default_limit,
            started: Instant::now(),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// The limit in force now: `(count, window, send Retry-After)`.
    fn limit_for(&self, platform: PlatformKind) -> Option<(u32, Duration, bool)> {
        if !self.schedule.is_empty() {
            let t = self.started.elapsed();
            let spec = self
                .schedule
                .iter()
                .rev()
                .find(|(at, _)| *at <= t)
                .map(|(_, s)| *s)?;
            // In the platform's own answer: Wazzup documents no Retry-After.
            return (spec.count > 0).then_some((
                spec.count,
                spec.window,
                platform != PlatformKind::Wazzup,
            ));
        }
        match self.per_second {
            // `--rate-limit 0` switches every limit off, the defaults included.
            Some(0) => None,
            Some(n) => Some((n, self.window, true)),
            None if platform == PlatformKind::Wazzup && self.wazzup_default => {
                Some((WAZZUP_LIMIT, WAZZUP_WINDOW, false))
            }
            None if platform == PlatformKind::Whaapy && self.whaapy_default => {
                Some((WHAAPY_LIMIT, WHAAPY_WINDOW, true))
            }
            None => None,
        }
    }

    pub(crate) fn check(&self, platform: PlatformKind, key: &str) -> Throttle {
        let Some((limit, window, retry_after)) = self.limit_for(platform) else {
            return Throttle::Pass;
        };
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let w = match map.get_mut(&(platform, key.to_string())) {
            Some(w) => w,
            None => map.entry((platform, key.to_string())).or_insert(Window {
                start: now,
                count: 0,
            }),
        };
        if now.duration_since(w.start) >= window {
            w.start = now;
            w.count = 0;
        }
        if w.count < limit {
            w.count += 1;
            return Throttle::Pass;
        }
        if !retry_after {
            return Throttle::Limited(None);
        }
        let left = window.saturating_sub(now.duration_since(w.start));
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        Throttle::Limited(Some(secs.max(1)))
    }

    pub(crate) fn clear(&self) {
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The latency of one answer: `latency_ms` ± up to `jitter_ms`, uniformly.
pub(crate) fn latency(latency_ms: u64, jitter_ms: u64) -> Duration {
    let spread = if jitter_ms > 0 {
        fastrand::u64(0..=2 * jitter_ms)
    } else {
        jitter_ms
    };
    Duration::from_millis((latency_ms + spread).saturating_sub(jitter_ms))
}

/// A 500/502/503 as a gateway in front of the platform would send it.
fn gateway_error(status: u16, html: bool) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !html {
        return (code, Body::empty()).into_response();
    }
    let reason = code.canonical_reason().unwrap_or("Error");
    let page = format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    (code, [(header::CONTENT_TYPE, "text/html")], page).into_response()
}

/// The middleware in front of every platform route: counts, adds latency,
/// injects faults, authenticates, rate-limits, and classifies the answer.
pub(crate) async fn platform_layer(
    State((emu, platform)): State<(Arc<Emu>, PlatformKind)>,
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    req: Request,
    next: Next,
) -> Response {
    let stats = emu.stats(platform);
    stats.requests.fetch_add(1, Ordering::Relaxed);
    // The round trip is split between the request's way in and the
    // answer's way out, as on a real network: the limiter sees arrivals
    // jittered by half the round trip's jitter, not all of it.
    let delay = latency(emu.cfg.latency_ms, emu.cfg.latency_jitter_ms);
    let way_in = delay / 2;
    if !way_in.is_zero() {
        tokio::time::sleep(way_in).await;
    }
    let resp = platform_answer(&emu, platform, conn, req, next).await;
    let way_out = delay - way_in;
    if !way_out.is_zero() {
        tokio::time::sleep(way_out).await;
    }
    resp
}

/// Everything [`platform_layer`] does between the two halves of the
/// latency.
async fn platform_answer(
    emu: &Arc<Emu>,
    platform: PlatformKind,
    conn: ConnInfo,
    req: Request,
    next: Next,
) -> Response {
    let stats = emu.stats(platform);
    let n = emu.request_counter.fetch_add(1, Ordering::Relaxed);
    let fault = emu.faults.choose(n);
    match fault {
        Some(FaultKind::ServerError { status, html }) => {
            stats.faults.fetch_add(1, Ordering::Relaxed);
            return gateway_error(status, html);
        }
        Some(FaultKind::ConnectionClosed) => {
            stats.faults.fetch_add(1, Ordering::Relaxed);
            conn.sever();
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        _ => {}
    }
    let key = match super::authenticate(platform, emu, req.headers(), conn.remote.ip()) {
        Ok(k) => k,
        Err(resp) => {
            stats.client_errors.fetch_add(1, Ordering::Relaxed);
            return resp;
        }
    };
    if let Throttle::Limited(retry) = emu.limiter.check(platform, &key) {
        stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut resp = super::rate_limited(platform, retry);
        if let Some(secs) = retry {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return resp;
    }
    let resp = next.run(req).await;
    let status = resp.status();
    if (status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS)
        || resp.extensions().get::<SoftClientError>().is_some()
    {
        stats.client_errors.fetch_add(1, Ordering::Relaxed);
    }
    match fault {
        Some(FaultKind::Delayed) => {
            stats.faults.fetch_add(1, Ordering::Relaxed);
            // Only this task sleeps; the server keeps answering others.
            tokio::time::sleep(Duration::from_millis(emu.cfg.fault_delay_ms)).await;
            resp
        }
        Some(FaultKind::ResponseLost) => {
            stats.faults.fetch_add(1, Ordering::Relaxed);
            conn.sever();
            resp
        }
        _ => resp,
    }
}

/// The bearer token of an `Authorization` header, if well formed.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// A header's value as text, if present and non-empty.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Decodes `application/x-www-form-urlencoded` text (also query strings).
pub(crate) fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Query parameters as a map; the last value of a repeated name wins.
pub(crate) fn query_map(q: Option<&str>) -> HashMap<String, String> {
    q.map(parse_urlencoded)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The text fields of a `multipart/form-data` body (file parts are reported
/// with their field name and an empty value), or `None` if it is malformed.
pub(crate) fn parse_multipart(body: &[u8], content_type: &str) -> Option<Vec<(String, String)>> {
    let boundary = content_type.split(';').find_map(|p| {
        let p = p.trim();
        p.strip_prefix("boundary=")
            .map(|b| b.trim_matches('"').to_string())
    })?;
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let mut fields = Vec::new();
    let mut pos = find(body, d, 0)? + d.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Some(fields);
        }
        // Skip the CRLF after the delimiter.
        if body.get(pos..pos + 2) == Some(b"\r\n") {
            pos += 2;
        }
        let end = find(body, d, pos)?;
        let part = &body[pos..end];
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let hdr_end = find(part, b"\r\n\r\n", 0)?;
        let headers = String::from_utf8_lossy(&part[..hdr_end]);
        let content = &part[hdr_end + 4..];
        let mut name = None;
        let mut is_file = false;
        for line in headers.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for attr in line.split(';').skip(1) {
                    let attr = attr.trim();
                    if let Some(v) = attr.strip_prefix("name=") {
                        name = Some(v.trim_matches('"').to_string());
                    } else if attr.starts_with("filename=") {
                        is_file = true;
                    }
                }
            }
        }
        if let Some(name) = name {
            let value = if is_file {
                String::new()
            } else {
                String::from_utf8_lossy(content).into_owned()
            };
            fields.push((name, value));
        }
        pos = end + d.len();
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// A deterministic RFC 4122 version-4 UUID from the seed, a salt and a counter.
pub(crate) fn uuid_from(seed: u64, salt: u64, counter: u64) -> String {
    let a = super::faults::mix64(seed ^ salt ^ super::faults::mix64(counter));
    let b = super::faults::mix64(a ^ counter.rotate_left(17));
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

/// Whether `s` looks like a UUID (8-4-4-4-12 hex digits).
pub(crate) fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2026-01` for a Unix time: the key of a monthly quota.
pub(crate) fn year_month(t: i64) -> String {
    let (y, mo, _) = crate::time::civil_from_days(t.div_euclid(86_400));
    format!("{y:04}-{mo:02}")
}

/// The usual E.164 check of web APIs: `+`, a non-zero digit, at most 15 digits.
pub(crate) fn is_e164(s: &str) -> bool {
    let Some(d) = s.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&d.len()) && d.bytes().all(|c| c.is_ascii_digit()) && !d.starts_with('0')
}

/// An e-mail check in the spirit of common validators (zod, Laravel's
/// `email`): one `@`, a non-empty local part without spaces, a dotted domain
/// of letters, digits and hyphens, a top-level label of two or more letters.
pub(crate) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.contains('@')
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || local.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let ok_label = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let tld = labels[labels.len() - 1];
    labels.iter().all(ok_label) && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// A JSON response with a status.
pub(crate) fn json(status: StatusCode, v: serde_json::Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// Length in characters (limits are documented in characters, not bytes).
pub(crate) fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Encodes bytes as lowercase hex (opaque cursors).
pub(crate) fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decodes lowercase or uppercase hex; `None` if malformed.
pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_in_the_platforms_shapes() {
        let p = |s: &str| s.parse::<LimitSpec>();
        let secs = Duration::from_secs;
        assert_eq!(
            p("500/5s"),
            Ok(LimitSpec {
                count: 500,
                window: secs(5)
            })
        );
        assert_eq!(
            p("100/min"),
            Ok(LimitSpec {
                count: 100,
                window: secs(60)
            })
        );
        assert_eq!(
            p("20"),
            Ok(LimitSpec {
                count: 20,
                window: secs(1)
            })
        );
        assert_eq!(
            p("20/s"),
            Ok(LimitSpec {
                count: 20,
                window: secs(1)
            })
        );
        assert!(p("20/0s").is_err() && p("x/s").is_err() && p("5/h").is_err());
        let s = parse_schedule("10:5/s,0:100/5s").unwrap();
        assert_eq!(s[0].0, secs(0));
        assert_eq!(
            s[1],
            (
                secs(10),
                LimitSpec {
                    count: 5,
                    window: secs(1)
                }
            )
        );
        assert!(parse_schedule("10").is_err());
    }

    #[test]
    fn latency_jitter_stays_in_its_band() {
        for _ in 0..200 {
            let d = latency(300, 100);
            assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(400));
        }
        assert_eq!(latency(50, 0), Duration::from_millis(50));
        assert!(latency(10, 50) <= Duration::from_millis(60));
    }

    #[test]
    fn monthly_quota_key() {
        assert_eq!(year_month(1_769_601_600), "2026-01");
    }

    #[test]
    fn urlencoded_decoding() {
        let v = parse_urlencoded("a=1&b=J%C3%B3se+P&c");
        assert_eq!(v[1], ("b".into(), "Jóse P".into()));
        assert_eq!(v[2], ("c".into(), String::new()));
    }

    #[test]
    fn multipart_fields() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"firstname\"\r\n\r\nJohn\r\n--XX\r\nContent-Disposition: form-data; name=\"mobile\"\r\n\r\n01988\r\n--XX--\r\n";
        let f = parse_multipart(body, "multipart/form-data; boundary=XX").unwrap();
        assert_eq!(
            f,
            vec![
                ("firstname".into(), "John".into()),
                ("mobile".into(), "01988".into())
            ]
        );
    }

    #[test]
    fn uuid_shape() {
        let u = uuid_from(1, 2, 3);
        assert!(is_uuid(&u), "{u}");
        assert_ne!(u, uuid_from(1, 2, 4));
    }

    #[test]
    fn e164_and_email() {
        assert!(is_e164("+5215512345678"));
        assert!(!is_e164("5215512345678"));
        assert!(!is_e164("+0123"));
        assert!(is_email("juan@email.com"));
        assert!(!is_email("juan@email"));
        assert!(!is_email("ju an@email.com"));
    }
}
