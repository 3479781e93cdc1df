//! Request pacing: one governor limiter per platform and key.

use governor::clock::DefaultClock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

type Direct = RateLimiter<NotKeyed, InMemoryState, DefaultClock, NoOpMiddleware>;

/// Paces requests at a steady rate.
///
/// Burst 1: requests leave one period apart and never bunch, so a server
/// counting in fixed windows (the emulator, Wazzup's 500 per 5 s) never
/// sees more than `rate` in a second. governor's GCRA schedules each
/// request from the moment the previous one actually left, so wake-up
/// latency only ever lowers the rate (by well under 1% at 100/s with
/// futures-timer's precision): it never overshoots.
pub struct Pacer {
    rate: f64,
    limiter: Option<Direct>,
}

impl Pacer {
    /// A pacer at `rate` requests per second; `rate` ≤ 0 or not finite
    /// means unpaced.
    pub fn new(rate: f64) -> Pacer {
        if !(rate.is_finite() && rate > 0.0) {
            return Pacer {
                rate: 0.0,
                limiter: None,
            };
        }
        // Periods below 1 µs are as good as unpaced.
        let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_micros(1));
        let limiter =
            Quota::with_period(period).map(|q| RateLimiter::direct(q.allow_burst(NonZeroU32::MIN)));
        Pacer { rate, limiter }
    }

    /// Requests per second (0 when unpaced).
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Waits for the next slot.
    pub async fn ready(&self) {
        if let Some(l) = &self.limiter {
            l.until_ready().await;
        }
    }
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pacer({}/s)", self.rate)
    }
}
