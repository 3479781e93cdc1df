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

/// Runs `op` until it succeeds, fails for good, or `max_attempts` run out,
/// waiting by [`Backoff`] between transient failures (the adapter's
/// transport already paces requests and honours 429 waits). Only for reads
/// and deletes, which are safe to repeat. Returns the value and the number
/// of retries.
pub async fn with_retries<T, Fut>(
    max_attempts: u32,
    mut op: impl FnMut() -> Fut,
) -> Result<(T, u32), crate::platform::PlatformError>
where
    Fut: std::future::Future<Output = Result<T, crate::platform::PlatformError>>,
{
    let backoff = Backoff::default();
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok((v, attempt - 1)),
            Err(e) if attempt < max_attempts && is_transient(&e) => {
                tokio::time::sleep(backoff.delay(attempt, None)).await;
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
}
