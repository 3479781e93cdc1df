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

/// Whether a platform error is worth another attempt: transport
/// failures and the transient statuses of [`crate::net::is_transient_status`]
/// (the same rule the adapters apply to answers).
pub fn is_transient(e: &crate::platform::PlatformError) -> bool {
    match e {
        crate::platform::PlatformError::Transport { .. } => true,
        crate::platform::PlatformError::Http { status, .. } => {
            crate::net::is_transient_status(*status)
        }
        _ => false,
    }
}

/// Whether a platform error is a 429: the transport has already paused
/// the account and slowed its pace, so it is waited out, not counted.
pub fn is_throttle(e: &crate::platform::PlatformError) -> bool {
    matches!(e, crate::platform::PlatformError::Http { status: 429, .. })
}

/// Runs `op` until it succeeds, fails for good, or `max_attempts` run out,
/// waiting by [`Backoff`] between transient failures (the adapter's
/// transport already paces requests and honours 429 waits). A 429 is not
/// an attempt: reads are throttled like writes and simply wait, until
/// [`STALL_LIMIT`](crate::net::pace::STALL_LIMIT) of nothing but 429s.
/// Only for reads and deletes, which are safe to repeat. Returns the value
/// and the number of retries.
pub async fn with_retries<T, Fut>(
    max_attempts: u32,
    op: impl FnMut() -> Fut,
) -> Result<(T, u32), crate::platform::PlatformError>
where
    Fut: std::future::Future<Output = Result<T, crate::platform::PlatformError>>,
{
    with_retries_until(max_attempts, crate::net::pace::STALL_LIMIT, op).await
}

/// [`with_retries`] with its own limit on a run of 429s.
pub async fn with_retries_until<T, Fut>(
    max_attempts: u32,
    stall_limit: Duration,
    mut op: impl FnMut() -> Fut,
) -> Result<(T, u32), crate::platform::PlatformError>
where
    Fut: std::future::Future<Output = Result<T, crate::platform::PlatformError>>,
{
    let backoff = Backoff::default();
    let mut attempt = 1;
    let mut retries = 0;
    let mut throttled_since: Option<tokio::time::Instant> = None;
    loop {
        match op().await {
            Ok(v) => return Ok((v, retries)),
            Err(e) if is_throttle(&e) => {
                let since = *throttled_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= stall_limit {
                    return Err(e);
                }
                // The transport holds the next request until the pause
                // ends; a short sleep keeps a platform that answers 429
                // without any pause from being asked in a tight loop.
                tokio::time::sleep(backoff.base / 5).await;
                retries += 1;
            }
            Err(e) if attempt < max_attempts && is_transient(&e) => {
                throttled_since = None;
                tokio::time::sleep(backoff.delay(attempt, None)).await;
                attempt += 1;
                retries += 1;
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

    #[tokio::test(start_paused = true)]
    async fn reads_wait_out_429s_until_the_stall_limit() {
        use crate::platform::PlatformError;
        let throttle = || PlatformError::Http {
            platform: "whaapy",
            status: 429,
            message: "slow down".into(),
        };
        // Twenty 429s, then an answer: far more than max_attempts, and fine.
        let mut n = 0;
        let r = with_retries(3, || {
            n += 1;
            let out = if n <= 20 { Err(throttle()) } else { Ok(n) };
            async move { out }
        })
        .await;
        assert_eq!(r.unwrap(), (21, 20));
        // Nothing but 429s: given up once the stall limit has passed.
        let t0 = tokio::time::Instant::now();
        let r: Result<((), u32), _> =
            with_retries_until(3, Duration::from_secs(60), || async { Err(throttle()) }).await;
        assert!(is_throttle(&r.unwrap_err()));
        assert!(t0.elapsed() >= Duration::from_secs(60));
        // A 500 still counts against max_attempts.
        let mut calls = 0;
        let r: Result<((), u32), _> = with_retries(3, || {
            calls += 1;
            async {
                Err(PlatformError::Http {
                    platform: "whaapy",
                    status: 500,
                    message: String::new(),
                })
            }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 3);
    }

    #[test]
    fn retry_after_is_a_floor() {
        let b = Backoff::default();
        for _ in 0..100 {
            let d = b.delay(1, Some(Duration::from_secs(5)));
            assert!(d >= Duration::from_secs(5) && d <= Duration::from_millis(5500));
        }
    }
}
