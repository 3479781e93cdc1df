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
//! The controller brackets the real limit between two rates it has seen:
//! **good**, the fastest rate held for a while ([`Pace`]'s hold time)
//! without a 429, and **refused**, the slowest rate a 429 answered.
//!
//! - On a 429 at rate `r` the rate falls back to `good` when that is known
//!   and below `r` (never below the cut of `r`); otherwise it is **cut**
//!   (multiplicative decrease: halved, or by [`TOLD_CUT`] when the 429
//!   said when to come back), and a `good` at or above `r` is forgotten:
//!   the limit fell under it.
//! - After a hold with no 429 the held rate is `good`, and the next rate
//!   is the midpoint of `good` and `refused` (bisection), until the two are
//!   within [`CONVERGED`] of each other; from there it probes up by
//!   [`PROBE_STEP`] of `refused` a hold (additive increase), so a limit
//!   that was raised is found again. A rate held at or above `refused`
//!   without a 429 proves `refused` stale, and it is forgotten.
//! - With no 429 seen yet it grows by [`PROBE_UNKNOWN`] of the ceiling per
//!   second (the probe of platforms that publish nothing).
//! - With no good rate to fall back to, a cut goes further than half when
//!   the answers say so: the requests admitted since the burst began,
//!   over the burst or the pause the 429 imposes, whichever is longer, is
//!   what a fixed-window limit lets through (Wazzup: 50 admitted in 0.5 s,
//!   then its documented 5 s reset, is 50 per 5 s). The rate drops to that, and the refused mark to
//!   [`ESTIMATE_MARGIN`] above it, so the bisection starts from a tight
//!   bracket instead of halving its way down a window at a time.
//!
//! Why bracketing rather than plain AIMD (tried first, measured by
//! `benches/upload.sh`): halving on a 429 and climbing back makes a
//! sawtooth between half the limit and the limit, about 75% of it on
//! average, and against a fixed-window limit without Retry-After (Wazzup
//! answers 429 with no header, and the counter resets every 5 s) every 429
//! also costs a pause of up to a whole window. Bisection reaches within a
//! few per cent of the limit in a handful of holds and then meets a 429
//! only once per probe.
//!
//! The hold lasts at least [`HOLD_MIN`] and twice the longest pause a 429
//! imposed (Retry-After, or the platform's documented wait): a rate over a
//! fixed-window limit is refused within one window, and the pause is the
//! best measure of the window waport has (a 60 s Retry-After says the
//! limit counts per minute), up to [`HOLD_MAX`].
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

/// The factor of a cut when no faster rate is known to be good.
pub const BURST_CUT: f64 = 0.5;
/// The least a cut after a 429 with Retry-After takes off (it goes down to
/// the admitted rate, but never by more than half). The platform said
/// when its window reopens, so a 429 costs at most the rest of that
/// window, and arrival jitter makes a few at the limit itself: a deep cut
/// on each would sink the pace far below the limit. But it is always a
/// cut: an admitted rate read high (answers of requests sent before the
/// pause) must not keep the pace where the 429 came from (measured: 148
/// 429s in a 150 s run when it could).
pub const TOLD_CUT: f64 = 0.9;
/// `good` and `refused` this close (as a share of `refused`) end the
/// bisection: the pace is within 2% of the limit.
pub const CONVERGED: f64 = 0.02;
/// The additive probe past convergence, as a share of `refused`, once a
/// hold.
pub const PROBE_STEP: f64 = 0.01;
/// Answers a burst needs before its admitted rate is trusted: a couple of
/// answers over a one-second pause say little (Whaapy at 1/s).
pub const ESTIMATE_SAMPLE: u64 = 10;
/// How far above the admitted rate a cut's estimate (see [`Pace`]) puts
/// the refused mark: room for a window that started before the burst did.
pub const ESTIMATE_MARGIN: f64 = 1.2;
/// How long the pace stays put once `good` and `refused` are within
/// [`CONVERGED`], before it probes above: each probe that finds the limit
/// costs a 429, so this bounds their cost to under 2% of a run (Wazzup:
/// one 5 s pause in five minutes; every two minutes cost 4%, measured by
/// the simulations below), at the price of finding a raised limit late.
pub const PROBE_EVERY: Duration = Duration::from_secs(300);
/// The shortest hold that makes a rate `good`.
pub const HOLD_MIN: Duration = Duration::from_secs(5);
/// The longest hold, whatever the pauses (a per-hour quota is not a
/// pace to find by waiting).
pub const HOLD_MAX: Duration = Duration::from_secs(120);
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
/// In-flight target before any latency is measured, and its floor after:
/// on a fast link the law asks for two or three, and one slow journal
/// write or a busy core then leaves the pacer's slot with no request to
/// take it (a slot is never saved up). Measured on loopback with the
/// emulator on the same 2 cores: Wazzup at 100 requests/s lost ~1 s of
/// slots in 20 s with 3–4 in flight.
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
    /// The fastest rate held for a hold without a 429.
    good: Option<f64>,
    /// The slowest rate a 429 answered (and not since proven stale).
    refused: Option<f64>,
    /// When the current rate started being held (the end of a 429's
    /// pause, or the last step).
    hold_from: Option<Instant>,
    /// The longest pause a 429 imposed: the measure of the limit's window.
    longest_pause: Duration,
    /// Since when answers count towards the current burst (the run's
    /// first request, or the end of the last pause), and how many were
    /// not 429.
    burst_from: Option<Instant>,
    burst_ok: u64,
    /// Growth is counted from here while no 429 has been seen.
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
    /// How long a rate must go without a 429 to be `good`.
    fn hold(&self) -> Duration {
        (self.longest_pause * 2).clamp(HOLD_MIN, HOLD_MAX)
    }

    /// Applies the growth or the bisection step due by `now`.
    fn grow(&mut self, now: Instant) {
        if self.spec.ceiling <= 0.0 {
            return;
        }
        let Some(b) = self.refused else {
            let Some(from) = self.grow_from else {
                self.grow_from = Some(now);
                return;
            };
            if now > from && self.rate < self.spec.ceiling {
                let dt = (now - from).as_secs_f64();
                self.rate =
                    (self.rate + PROBE_UNKNOWN * self.spec.ceiling * dt).min(self.spec.ceiling);
            }
            self.grow_from = Some(now);
            return;
        };
        // Once bracketed, a probe over the limit costs a 429 and its pause
        // (a whole window without Retry-After): probe rarely.
        let hold = if b - self.rate <= CONVERGED * b {
            self.hold().max(PROBE_EVERY)
        } else {
            self.hold()
        };
        let Some(from) = self.hold_from else {
            self.hold_from = Some(now);
            return;
        };
        if now < from + hold {
            return;
        }
        // The rate held: it is good, and the next one is tried.
        self.good = Some(self.good.map_or(self.rate, |g| g.max(self.rate)));
        self.hold_from = Some(now);
        if self.rate >= b {
            // Held at or above the refused rate: the limit rose.
            self.refused = None;
            self.grow_from = Some(now);
            return;
        }
        let gap = b - self.rate;
        let next = if gap > CONVERGED * b {
            self.rate + gap / 2.0
        } else {
            self.rate + PROBE_STEP * b
        };
        self.rate = next.min(self.spec.ceiling);
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
                good: None,
                refused: None,
                hold_from: None,
                longest_pause: Duration::ZERO,
                burst_from: None,
                burst_ok: 0,
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
        s.good = None;
        s.refused = None;
        s.hold_from = None;
        s.grow_from = None;
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
            s.burst_from.get_or_insert(now);
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
        let now = Instant::now();
        s.last_progress = now;
        if s.burst_from.is_some_and(|b| b <= now) {
            s.burst_ok += 1;
        }
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
    /// `resume_at` (when the pause it imposed ends); `told` says the pause
    /// came from the answer's Retry-After. Returns whether the rate was
    /// cut.
    pub fn throttled(&self, ticket: Ticket, resume_at: Instant, told: bool) -> bool {
        let mut s = self.state();
        s.throttled += 1;
        let now = Instant::now();
        let pause = resume_at.saturating_duration_since(now);
        s.longest_pause = s.longest_pause.max(pause);
        if ticket.generation != s.generation || s.spec.ceiling <= 0.0 {
            return false;
        }
        s.grow(now);
        let r = s.rate;
        let floor = FLOOR.min(s.spec.ceiling);
        let cut = if told { TOLD_CUT } else { BURST_CUT };
        let halved = (r * cut).max(floor);
        // What the platform admitted in the window just seen: the answers
        // since the burst began, over the burst or, when the quota ran out
        // sooner, over the pause (the window's length as far as waport
        // knows it: Retry-After, or the platform's documented reset).
        let window = now
            .saturating_duration_since(s.burst_from.unwrap_or(now))
            .max(pause);
        let admitted = (s.burst_ok >= ESTIMATE_SAMPLE && !window.is_zero())
            .then(|| s.burst_ok as f64 / window.as_secs_f64());
        let mut refused = r;
        s.rate = match s.good {
            Some(g) if g < r => g.max(halved),
            _ => {
                s.good = None;
                match admitted {
                    Some(a) => {
                        refused = refused.min(a * ESTIMATE_MARGIN);
                        // Told when to come back: to the admitted rate, by
                        // 10% to 50% (see TOLD_CUT). Not told, each 429
                        // costs a guessed pause: straight down to it.
                        if told {
                            a.clamp(r * BURST_CUT, r * TOLD_CUT).max(floor)
                        } else {
                            halved.min(a).max(floor)
                        }
                    }
                    None => halved,
                }
            }
        };
        s.refused = Some(s.refused.map_or(refused, |b| b.min(refused)));
        s.burst_from = Some(resume_at.max(now));
        s.burst_ok = 0;
        s.generation += 1;
        s.hold_from = Some(resume_at.max(now));
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
            (need as usize + 2).max(INITIAL_IN_FLIGHT).min(cap)
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
        // 20 ms at 100/s needs ~2 in flight by the law: the floor holds.
        assert_eq!(fast, INITIAL_IN_FLIGHT, "{fast}");
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
            .filter(|t| p.throttled(**t, later(NOW), false))
            .count();
        assert_eq!(cuts, 1, "one cut for one rate");
        assert!((p.rate() - 50.0).abs() < 1e-9, "{}", p.rate());
        // A 429 for a request sent at the new rate, soon after: halved again.
        let t = p.ticket();
        assert!(p.throttled(t, later(NOW), false));
        assert!((p.rate() - 25.0).abs() < 1e-9, "{}", p.rate());
        let snap = p.snapshot();
        assert_eq!((snap.slowdowns, snap.throttled), (2, 21));
        assert!(snap.slowed);
    }

    #[tokio::test(start_paused = true)]
    async fn never_exceeds_the_ceiling_and_bisects_back_towards_the_refused_rate() {
        let p = Pace::new(PaceSpec::at(20.0));
        p.ready().await;
        let t = p.ticket();
        p.throttled(t, later(Duration::from_secs(5)), false);
        assert!((p.rate() - 10.0).abs() < 1e-9);
        // Held during the pause and the hold after it (twice the pause).
        tokio::time::advance(Duration::from_secs(14)).await;
        assert!((p.rate() - 10.0).abs() < 1e-9, "{}", p.rate());
        // Then the midpoint of the good 10 and the refused 20.
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!((p.rate() - 15.0).abs() < 1e-9, "{}", p.rate());
        // Then on towards 20 by bisection and probing, never above --rate.
        let mut max: f64 = 0.0;
        for _ in 0..3600 {
            tokio::time::advance(Duration::from_secs(1)).await;
            max = max.max(p.rate());
        }
        assert!((max - 20.0).abs() < 1e-9, "{max}");
        assert!(!p.snapshot().slowed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_near_a_good_rate_falls_back_to_it_and_a_falling_limit_halves_again() {
        let p = Pace::new(PaceSpec::at(10.0));
        p.ready().await;
        p.throttled(p.ticket(), later(NOW), false);
        assert!((p.rate() - 5.0).abs() < 1e-9);
        tokio::time::advance(HOLD_MIN + Duration::from_millis(1)).await;
        assert!((p.rate() - 7.5).abs() < 1e-9, "{}", p.rate());
        tokio::time::advance(HOLD_MIN + Duration::from_millis(1)).await;
        assert!((p.rate() - 8.75).abs() < 1e-9, "{}", p.rate());
        // 8.75 refused: back to the good 7.5, not down to half.
        p.throttled(p.ticket(), later(NOW), false);
        assert!((p.rate() - 7.5).abs() < 1e-9, "{}", p.rate());
        // 7.5 refused now too: the limit fell under it, so it is halved.
        p.throttled(p.ticket(), later(NOW), false);
        assert!((p.rate() - 3.75).abs() < 1e-9, "{}", p.rate());
    }

    /// A fixed-window limit as the emulator and Wazzup count it: `limit`
    /// requests a window, the counter reset by the first request after
    /// the window ends.
    struct FixedWindow {
        limit: u32,
        window: Duration,
        start: Option<Instant>,
        count: u32,
    }

    impl FixedWindow {
        fn admit(&mut self, now: Instant) -> bool {
            match self.start {
                Some(s) if now.duration_since(s) < self.window => {}
                _ => {
                    self.start = Some(now);
                    self.count = 0;
                }
            }
            self.count += 1;
            self.count <= self.limit
        }
    }

    /// Drives `pace` for `secs` simulated seconds against `limit_at(t)`,
    /// one request at a time with 5 ms of latency, pausing after a 429 as
    /// the transport does (`retry_after`: until the window ends; else
    /// `wait`). Returns the admitted requests/s over the last `tail`
    /// seconds.
    async fn simulate(
        pace: &Pace,
        secs: u64,
        tail: u64,
        limit_at: impl Fn(Duration) -> (u32, Duration),
        retry_after: bool,
        wait: Duration,
    ) -> f64 {
        simulate_jittered(pace, secs, tail, limit_at, retry_after, wait, 0).await
    }

    /// [`simulate`] with each request reaching the limit up to
    /// `jitter_ms` late (seeded, so a run is repeatable).
    async fn simulate_jittered(
        pace: &Pace,
        secs: u64,
        tail: u64,
        limit_at: impl Fn(Duration) -> (u32, Duration),
        retry_after: bool,
        wait: Duration,
        jitter_ms: u64,
    ) -> f64 {
        let mut rng = fastrand::Rng::with_seed(7);
        let t0 = Instant::now();
        let (limit, window) = limit_at(Duration::ZERO);
        let mut server = FixedWindow {
            limit,
            window,
            start: None,
            count: 0,
        };
        let mut admitted_tail = 0u32;
        let tail_from = t0 + Duration::from_secs(secs - tail);
        while Instant::now() < t0 + Duration::from_secs(secs) {
            pace.ready().await;
            let ticket = pace.ticket();
            let (limit, window) = limit_at(Instant::now() - t0);
            server.limit = limit;
            server.window = window;
            let sent = Instant::now();
            let delay = Duration::from_millis(rng.u64(0..=jitter_ms));
            let ok = server.admit(sent + delay);
            tokio::time::advance(Duration::from_millis(5)).await;
            if ok {
                pace.answered(Duration::from_millis(5));
                if sent >= tail_from {
                    admitted_tail += 1;
                }
            } else {
                let until = match (retry_after, server.start) {
                    (true, Some(s)) => s + server.window,
                    _ => Instant::now() + wait,
                };
                pace.throttled(ticket, until, retry_after);
                tokio::time::sleep_until(until).await;
            }
        }
        f64::from(admitted_tail) / tail as f64
    }

    #[tokio::test(start_paused = true)]
    async fn converges_on_a_fixed_window_limit_ten_times_below_the_start() {
        // Wazzup's published 100/s, a plan that allows 50 per 5 s, 429s
        // without Retry-After (Wazzup's documented 5 s wait).
        let p = Pace::new(PaceSpec::at(100.0));
        let got = simulate(
            &p,
            700,
            300,
            |_| (50, Duration::from_secs(5)),
            false,
            Duration::from_secs(5),
        )
        .await;
        assert!((9.5..=10.0).contains(&got), "admitted {got}/s of 10/s");
        let end = p.rate();
        assert!((9.5..=10.5).contains(&end), "pace at the end {end}");
    }

    #[tokio::test(start_paused = true)]
    async fn converges_on_a_limit_lowered_mid_run() {
        let p = Pace::new(PaceSpec::at(100.0));
        let got = simulate(
            &p,
            700,
            300,
            |t| {
                if t < Duration::from_secs(30) {
                    (500, Duration::from_secs(5))
                } else {
                    (100, Duration::from_secs(5))
                }
            },
            false,
            Duration::from_secs(5),
        )
        .await;
        assert!((19.0..=20.0).contains(&got), "admitted {got}/s of 20/s");
    }

    #[tokio::test(start_paused = true)]
    async fn stays_near_a_retry_after_limit_despite_jittered_arrivals() {
        // Whaapy told 1 request/s while it publishes 100/min; arrivals
        // jitter by up to 100 ms, so a few 429s come even at the limit.
        let p = Pace::new(PaceSpec::at(100.0 / 60.0));
        let got = simulate_jittered(
            &p,
            600,
            300,
            |_| (1, Duration::from_secs(1)),
            true,
            Duration::from_secs(1),
            100,
        )
        .await;
        assert!((0.85..=1.0).contains(&got), "admitted {got}/s of 1/s");
    }

    #[tokio::test(start_paused = true)]
    async fn converges_on_a_per_second_limit_with_retry_after() {
        let p = Pace::new(PaceSpec::at(100.0));
        let got = simulate(
            &p,
            200,
            60,
            |_| (20, Duration::from_secs(1)),
            true,
            Duration::from_secs(1),
        )
        .await;
        assert!((19.0..=20.0).contains(&got), "admitted {got}/s of 20/s");
        assert!(p.rate() <= 100.0);
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
        p.throttled(t, later(NOW), false);
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
