//! The pace of one account: how fast requests leave (a rate that adapts to
//! the platform's 429s) and how many may be in flight (from the measured
//! latency, by Little's law). One `Pace` per adapter, shared by every
//! request of it — writes, look-ups and listing pages alike — so the
//! platform sees one client, not one per worker.
//!
//! # The rate
//!
//! It starts at the platform's published limit (or at `--rate`), or, where
//! nothing is published, at a conservative [`UNPUBLISHED_START`] from which
//! it probes upward. It never exceeds its ceiling: `--rate` when given,
//! else the published limit (or the assumed one).
//!
//! A 429 is a congestion signal (like a lost packet to TCP). Only the first
//! 429 of requests sent at the current rate lowers it: answers to requests
//! that left before the last cut say nothing about the new rate (TCP's
//! "one reduction per window"), so a burst of 429s from the requests in
//! flight costs one cut, not twenty.
//!
//! - A 429 that comes within [`CALM`] of the run's start or of the previous
//!   cut means the rate is far off: it is **halved** (multiplicative
//!   decrease).
//! - A 429 after a calm stretch means the rate just crept over the limit
//!   while probing: it is cut by [`CALM_CUT`].
//! - After the cut (and after the pause the 429 imposed, which the
//!   transport keeps), the rate recovers within [`RECOVER`] to
//!   [`RECOVER_TO`] of the rate that was refused, then grows
//!   **additively**, by [`PROBE`] of that rate per second, so a limit that
//!   was raised is found again, slowly. With no 429 seen yet it grows by
//!   [`PROBE_UNKNOWN`] of the ceiling per second (the probe of platforms
//!   that publish nothing).
//!
//! Why these numbers: against a fixed-window limit (Wazzup's 500 per 5 s)
//! each 429 costs a pause of up to one window, so probing must be slow for
//! the pauses to cost little (one 429 per ~50 s of probing loses ≤ 10% of a
//! 5 s window's worth); recovering to 95% of the refused rate keeps the
//! dip after a cut short. `benches/upload.sh` measures the result.
//!
//! # In flight
//!
//! Little's law: requests in flight = rate × latency. The latency is
//! smoothed as TCP does (RFC 6298: `srtt`, `rttvar`), and the target is
//! `rate × (srtt + 2·rttvar) × HEADROOM + 2`, capped by `--concurrency`:
//! enough requests in flight that a slot of the pacer never waits for a
//! free worker, even when the latency jitters, and no more (fewer rows in
//! doubt after a crash, no pile of requests queued at a slow server).

use super::pacer::Pacer;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A 429 within this long of the previous cut (or of the start) is part of
/// a burst: the rate is halved.
pub const CALM: Duration = Duration::from_secs(30);
/// The factor of a burst's cut.
pub const BURST_CUT: f64 = 0.5;
/// The factor of a cut after a calm stretch.
pub const CALM_CUT: f64 = 0.9;
/// The share of the refused rate the pace recovers to after a cut.
pub const RECOVER_TO: f64 = 0.95;
/// How long the recovery to [`RECOVER_TO`] takes after a halving.
pub const RECOVER: Duration = Duration::from_secs(5);
/// Additive growth past the recovery, per second, as a share of the
/// refused rate (0.1%: from 95% to 100% in 50 s).
pub const PROBE: f64 = 0.001;
/// Growth per second, as a share of the ceiling, while no 429 has been
/// seen and the pace is below its ceiling (from the conservative start of
/// an unpublished limit: 1/s to 5/s in 40 s).
pub const PROBE_UNKNOWN: f64 = 0.02;
/// Where a platform that publishes no limit starts: 1 request/s, the
/// lowest limit commonly applied by web frameworks (Laravel's default 60
/// per minute, docs/platforms.md#wapiflow-rate-limit).
pub const UNPUBLISHED_START: f64 = 1.0;
/// The slowest pace ever used: one request a minute.
pub const FLOOR: f64 = 1.0 / 60.0;
/// Extra room in the in-flight target over Little's law.
pub const HEADROOM: f64 = 1.25;
/// In-flight target before any latency is measured.
pub const INITIAL_IN_FLIGHT: usize = 8;
/// A row fails for rate reasons only when the platform has answered
/// nothing but 429 for this long: a throttle is waited out, never counted
/// as failed attempts.
pub const STALL_LIMIT: Duration = Duration::from_secs(600);

/// Where a pace starts and how far it may go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaceSpec {
    /// Requests/s at the start.
    pub start: f64,
    /// Requests/s it never exceeds (0: unpaced, never adapted).
    pub ceiling: f64,
}

impl PaceSpec {
    /// A fixed starting point at the ceiling: a published limit, or the
    /// user's `--rate`.
    pub fn at(rate: f64) -> PaceSpec {
        PaceSpec {
            start: rate,
            ceiling: rate,
        }
    }

    /// A platform that publishes no limit: start at
    /// [`UNPUBLISHED_START`] (or the ceiling, if lower) and probe up to
    /// `ceiling`.
    pub fn probing(ceiling: f64) -> PaceSpec {
        PaceSpec {
            start: UNPUBLISHED_START.min(ceiling),
            ceiling,
        }
    }
}

/// A look at the pace, for progress lines and summaries.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PaceSnapshot {
    /// The current rate in requests/s (0: unpaced).
    pub rate: f64,
    /// The most it may reach.
    pub ceiling: f64,
    /// Times the rate was lowered because of 429s.
    pub slowdowns: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Whether the current rate is below where it would be without 429s.
    pub slowed: bool,
}

/// Proof that a request left at a given rate: its 429 may lower only that
/// rate (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    generation: u64,
}

#[derive(Debug)]
struct State {
    spec: PaceSpec,
    rate: f64,
    /// Bumped at each cut.
    generation: u64,
    /// The rate the last 429 refused.
    refused: Option<f64>,
    /// Rate at the end of the last cut's recovery start (for the linear
    /// recovery).
    recover_from: f64,
    /// When the run started (first request).
    started: Option<Instant>,
    /// When the rate was last cut.
    last_cut: Option<Instant>,
    /// Growth is counted from here (the end of a 429's pause).
    grow_from: Option<Instant>,
    slowdowns: u64,
    throttled: u64,
    /// Smoothed latency and its variation, in seconds.
    srtt: Option<f64>,
    rttvar: f64,
    /// The last answer that was not a 429.
    last_progress: Instant,
}

impl State {
    /// Applies the growth due since the last call.
    fn grow(&mut self, now: Instant) {
        let Some(from) = self.grow_from else {
            self.grow_from = Some(now);
            return;
        };
        if now <= from || self.spec.ceiling <= 0.0 {
            return;
        }
        let dt = (now - from).as_secs_f64();
        self.grow_from = Some(now);
        if self.rate >= self.spec.ceiling {
            return;
        }
        self.rate = match self.refused {
            None => self.rate + PROBE_UNKNOWN * self.spec.ceiling * dt,
            Some(b) => {
                let target = RECOVER_TO * b;
                if self.rate < target {
                    let step = (target - self.recover_from).max(0.0) * dt / RECOVER.as_secs_f64();
                    (self.rate + step.max(PROBE * b * dt)).min(target)
                } else {
                    self.rate + PROBE * b * dt
                }
            }
        }
        .min(self.spec.ceiling);
    }
}

/// The adaptive pace of one account (see the module notes).
#[derive(Debug)]
pub struct Pace {
    pacer: Pacer,
    state: Mutex<State>,
}

impl Pace {
    /// A pace starting at `spec.start`.
    pub fn new(spec: PaceSpec) -> Pace {
        let rate = spec.start.min(spec.ceiling).max(0.0);
        Pace {
            pacer: Pacer::new(rate),
            state: Mutex::new(State {
                spec,
                rate,
                generation: 0,
                refused: None,
                recover_from: rate,
                started: None,
                last_cut: None,
                grow_from: None,
                slowdowns: 0,
                throttled: 0,
                srtt: None,
                rttvar: 0.0,
                last_progress: Instant::now(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts over from `spec` (a new `--rate`); measurements are kept.
    pub fn reset(&self, spec: PaceSpec) {
        let mut s = self.state();
        let rate = spec.start.min(spec.ceiling).max(0.0);
        s.spec = spec;
        s.rate = rate;
        s.recover_from = rate;
        s.refused = None;
        s.generation += 1;
        self.pacer.set_rate(rate);
    }

    /// The current rate in requests/s (0: unpaced).
    pub fn rate(&self) -> f64 {
        let mut s = self.state();
        s.grow(Instant::now());
        s.rate
    }

    /// The rate, ceiling and counters.
    pub fn snapshot(&self) -> PaceSnapshot {
        let mut s = self.state();
        s.grow(Instant::now());
        PaceSnapshot {
            rate: s.rate,
            ceiling: s.spec.ceiling,
            slowdowns: s.slowdowns,
            throttled: s.throttled,
            slowed: s.slowdowns > 0 && s.rate < s.spec.ceiling,
        }
    }

    /// Waits for the next slot at the current rate.
    pub async fn ready(&self) {
        {
            let mut s = self.state();
            let now = Instant::now();
            s.started.get_or_insert(now);
            s.grow(now);
            self.pacer.set_rate(s.rate);
        }
        self.pacer.ready().await;
    }

    /// The ticket of a request leaving now.
    pub fn ticket(&self) -> Ticket {
        Ticket {
            generation: self.state().generation,
        }
    }

    /// An answer other than 429 arrived after `rtt`: the platform made
    /// progress, and the latency estimate learns.
    pub fn answered(&self, rtt: Duration) {
        let mut s = self.state();
        s.last_progress = Instant::now();
        let r = rtt.as_secs_f64();
        match s.srtt {
            None => {
                s.srtt = Some(r);
                s.rttvar = r / 2.0;
            }
            Some(srtt) => {
                // RFC 6298's gains: 1/4 for the variation, 1/8 for the mean.
                s.rttvar = 0.75 * s.rttvar + 0.25 * (srtt - r).abs();
                s.srtt = Some(0.875 * srtt + 0.125 * r);
            }
        }
    }

    /// A 429 arrived for a request sent with `ticket`; growth resumes at
    /// `resume_at` (when the pause it imposed ends). Returns whether the
    /// rate was cut.
    pub fn throttled(&self, ticket: Ticket, resume_at: Instant) -> bool {
        let mut s = self.state();
        s.throttled += 1;
        if ticket.generation != s.generation || s.spec.ceiling <= 0.0 {
            return false;
        }
        let now = Instant::now();
        s.grow(now);
        let since = s.last_cut.or(s.started).unwrap_or(now);
        let factor = if now.saturating_duration_since(since) >= CALM {
            CALM_CUT
        } else {
            BURST_CUT
        };
        let refused = s.rate;
        s.refused = Some(refused);
        s.rate = (refused * factor).max(FLOOR.min(s.spec.ceiling));
        s.recover_from = s.rate;
        s.generation += 1;
        s.last_cut = Some(now);
        s.grow_from = Some(resume_at.max(now));
        s.slowdowns += 1;
        self.pacer.set_rate(s.rate);
        true
    }

    /// How long the platform has answered nothing but 429s.
    pub fn stalled_for(&self) -> Duration {
        self.state().last_progress.elapsed()
    }

    /// How many requests should be in flight to keep the current rate at
    /// the measured latency, between 1 and `cap`.
    pub fn in_flight_target(&self, cap: usize) -> usize {
        let cap = cap.max(1);
        let mut s = self.state();
        s.grow(Instant::now());
        if s.rate <= 0.0 {
            return cap;
        }
        let Some(srtt) = s.srtt else {
            return INITIAL_IN_FLIGHT.min(cap);
        };
        let latency = srtt + 2.0 * s.rttvar;
        let need = (s.rate * latency * HEADROOM).ceil();
        // Two more than the law asks: one request waiting at the pacer for
        // its slot, one whose task is busy with the journal and report
        // rather than the network (not counted in the latency).
        if need.is_finite() && need < cap as f64 {
            (need as usize + 2).min(cap)
        } else {
            cap
        }
    }
}

/// A rate as people read it, in whole numbers: `266/s`, or `100/min`
/// below 10 requests/s (so Whaapy's 100 per minute does not read `2/s`).
pub fn format_rate(rate: f64) -> String {
    if rate <= 0.0 || !rate.is_finite() {
        "unpaced".to_string()
    } else if rate >= 10.0 {
        format!("{}/s", rate.round() as u64)
    } else {
        format!("{}/min", (rate * 60.0).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::ZERO;

    fn later(d: Duration) -> Instant {
        Instant::now() + d
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_grows_with_latency_and_follows_littles_law() {
        let p = Pace::new(PaceSpec::at(100.0));
        p.ready().await;
        for _ in 0..50 {
            p.answered(Duration::from_millis(20));
        }
        let fast = p.in_flight_target(1000);
        for _ in 0..50 {
            p.answered(Duration::from_millis(300));
        }
        let slow = p.in_flight_target(1000);
        assert!(fast <= 5, "20 ms at 100/s needs ~2 in flight, got {fast}");
        // 100/s × 0.3 s = 30 in flight, plus headroom.
        assert!(
            (30..=60).contains(&slow),
            "300 ms at 100/s needs 30+ in flight, got {slow}"
        );
        assert_eq!(p.in_flight_target(16), 16, "--concurrency caps it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_429s_halves_the_pace_once_per_rate() {
        let p = Pace::new(PaceSpec::at(100.0));
        p.ready().await;
        // Twenty requests in flight at the old rate all come back 429.
        let tickets: Vec<Ticket> = (0..20).map(|_| p.ticket()).collect();
        let cuts = tickets
            .iter()
            .filter(|t| p.throttled(**t, later(NOW)))
            .count();
        assert_eq!(cuts, 1, "one cut for one rate");
        assert!((p.rate() - 50.0).abs() < 1e-9, "{}", p.rate());
        // A 429 for a request sent at the new rate, soon after: halved again.
        let t = p.ticket();
        assert!(p.throttled(t, later(NOW)));
        assert!((p.rate() - 25.0).abs() < 1e-9, "{}", p.rate());
        let snap = p.snapshot();
        assert_eq!((snap.slowdowns, snap.throttled), (2, 21));
        assert!(snap.slowed);
    }

    #[tokio::test(start_paused = true)]
    async fn never_exceeds_the_ceiling_and_recovers_towards_the_refused_rate() {
        let p = Pace::new(PaceSpec::at(20.0));
        p.ready().await;
        let t = p.ticket();
        p.throttled(t, later(Duration::from_secs(5)));
        assert!((p.rate() - 10.0).abs() < 1e-9);
        // Held during the pause.
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!((p.rate() - 10.0).abs() < 1e-9, "{}", p.rate());
        // Recovered to 95% of 20 within RECOVER after the pause.
        tokio::time::advance(Duration::from_secs(1) + RECOVER).await;
        assert!((p.rate() - 19.0).abs() < 1e-6, "{}", p.rate());
        // Then slow additive probing, never above --rate.
        let mut max: f64 = 0.0;
        for _ in 0..3600 {
            tokio::time::advance(Duration::from_secs(1)).await;
            max = max.max(p.rate());
        }
        assert!((max - 20.0).abs() < 1e-9, "{max}");
        assert!(!p.snapshot().slowed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_calm_429_cuts_gently() {
        let p = Pace::new(PaceSpec::at(10.0));
        p.ready().await;
        tokio::time::advance(CALM + Duration::from_secs(1)).await;
        let t = p.ticket();
        assert!(p.throttled(t, later(NOW)));
        assert!((p.rate() - 9.0).abs() < 1e-9, "{}", p.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn unpublished_limits_start_low_and_probe_up() {
        let p = Pace::new(PaceSpec::probing(5.0));
        p.ready().await;
        assert!((p.rate() - UNPUBLISHED_START).abs() < 1e-9);
        tokio::time::advance(Duration::from_secs(20)).await;
        let mid = p.rate();
        assert!(mid > 2.5 && mid < 5.0, "{mid}");
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!((p.rate() - 5.0).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_follows_the_cut() {
        let p = Pace::new(PaceSpec::at(10.0));
        p.ready().await;
        let t = p.ticket();
        p.throttled(t, later(NOW));
        // At 5/s (sent at 98%): ten slots take ~2 s, not ~1 s.
        let t0 = Instant::now();
        for _ in 0..11 {
            p.ready().await;
        }
        let took = Instant::now() - t0;
        assert!(took >= Duration::from_millis(1900), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn stall_is_time_without_a_non_429_answer() {
        let p = Pace::new(PaceSpec::at(10.0));
        tokio::time::advance(Duration::from_secs(90)).await;
        assert!(p.stalled_for() >= Duration::from_secs(90));
        p.answered(Duration::from_millis(5));
        assert!(p.stalled_for() < Duration::from_secs(1));
    }

    #[test]
    fn rates_read_as_whole_numbers() {
        assert_eq!(format_rate(266.0482), "266/s");
        assert_eq!(format_rate(100.0 / 60.0), "100/min");
        assert_eq!(format_rate(0.0), "unpaced");
    }
}
