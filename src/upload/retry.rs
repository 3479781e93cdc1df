//! Retry timing: exponential backoff with full jitter, floored by the
//! server's Retry-After.

use std::time::Duration;

/// When to try again.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Delay before the first retry (before jitter).
    pub base: Duration,
    /// Upper bound of any computed delay (Retry-After may exceed it).
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The ceiling of the delay after failed attempt number `attempt`
    /// (1-based): base × 2^(attempt-1), capped at `max`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        self.base.saturating_mul(1u32 << exp).min(self.max)
    }

    /// The delay after failed attempt `attempt`.
    ///
    /// Without Retry-After: "equal jitter", uniformly between half the
    /// ceiling and the ceiling, so concurrent workers that failed together
    /// spread out but none retries almost at once. With Retry-After: that
    /// long plus up to 10% (at most 1 s) of jitter, never less: the server
    /// said when.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(ra) => {
                let spread = (ra / 10).min(Duration::from_secs(1));
                ra + spread.mul_f64(fastrand::f64())
            }
            None => {
                let c = self.ceiling(attempt);
                c / 2 + (c / 2).mul_f64(fastrand::f64())
            }
        }
    }
}

/// Reads a Retry-After value: delay-seconds, or an HTTP date (RFC 9110)
/// turned into a delay from now. Unreadable values are ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(3600)));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(3600.0)));
    }
    let at = parse_http_date(v)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(at.saturating_sub(now).min(3600)))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
fn parse_http_date(s: &str) -> Option<u64> {
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let day: u64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let m: u64 = hms.next()?.parse().ok()?;
    let sec: u64 = hms.next()?.parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let days = u64::try_from(days).ok()?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

/// Whether a platform error is worth another attempt: transport
/// failures, 408, 429 and 5xx.
pub fn is_transient(e: &crate::platform::PlatformError) -> bool {
    match e {
        crate::platform::PlatformError::Transport { .. } => true,
        crate::platform::PlatformError::Http { status, .. } => {
            *status == 429 || *status == 408 || *status >= 500
        }
        _ => false,
    }
}

/// Runs `op` until it succeeds, fails for good, or `max_attempts` run out,
/// waiting with exponential backoff and jitter between transient failures
/// (the adapter's transport already paces requests and honours 429 waits).
/// Only for reads and deletes, which are safe to repeat. Returns the value
/// and the number of retries.
pub async fn with_retries<T, Fut>(
    max_attempts: u32,
    mut op: impl FnMut() -> Fut,
) -> Result<(T, u32), crate::platform::PlatformError>
where
    Fut: std::future::Future<Output = Result<T, crate::platform::PlatformError>>,
{
    let mut attempt = 1;
    let mut wait = std::time::Duration::from_millis(250);
    loop {
        match op().await {
            Ok(v) => return Ok((v, attempt - 1)),
            Err(e) if attempt < max_attempts && is_transient(&e) => {
                let jitter = std::time::Duration::from_millis(fastrand::u64(
                    0..=wait.as_millis() as u64 / 2,
                ));
                tokio::time::sleep(wait + jitter).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(30));
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(1), Duration::from_millis(500));
        assert_eq!(b.ceiling(2), Duration::from_secs(1));
        assert_eq!(b.ceiling(4), Duration::from_secs(4));
        assert_eq!(b.ceiling(30), Duration::from_secs(30));
    }

    #[test]
    fn delay_stays_between_half_and_full_ceiling() {
        let b = Backoff::default();
        for attempt in 1..8 {
            for _ in 0..100 {
                let d = b.delay(attempt, None);
                assert!(d >= b.ceiling(attempt) / 2 && d <= b.ceiling(attempt));
            }
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let b = Backoff::default();
        for _ in 0..100 {
            let d = b.delay(1, Some(Duration::from_secs(5)));
            assert!(d >= Duration::from_secs(5) && d <= Duration::from_millis(5500));
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 1.5 "),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
