//! The seeded fault chooser: which request fails, and how.
//!
//! The choice for request number `n` is a pure function of `(seed, rate, n)`,
//! so a run with the same seed and the same request order fails the same
//! requests the same way, and the distribution can be tested without HTTP.

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// A 500, 502 or 503 from "the gateway", with an HTML page or an empty body;
    /// the request never reaches the platform, so nothing is written.
    ServerError {
        /// 500, 502 or 503.
        status: u16,
        /// An HTML error page (true) or an empty body (false).
        html: bool,
    },
    /// The connection is closed before any response; nothing is written.
    ConnectionClosed,
    /// The request is processed (the write is committed), then the response is
    /// held back for the configured fault delay, past a client's timeout.
    Delayed,
    /// The request is processed (the write is committed), then the connection
    /// drops before any response: the case that reveals double creations.
    ResponseLost,
}

impl FaultKind {
    /// A stable name, used in tests and logs.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::ServerError { .. } => "server_error",
            FaultKind::ConnectionClosed => "connection_closed",
            FaultKind::Delayed => "delayed",
            FaultKind::ResponseLost => "response_lost",
        }
    }
}

/// Decides, per request number, whether and how a request fails.
#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    seed: u64,
    rate: f64,
}

/// SplitMix64 finalizer: a cheap, well-mixed 64-bit hash.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl FaultPlan {
    /// A plan failing `rate` (clamped to 0..=1) of requests, seeded by `seed`.
    pub fn new(seed: u64, rate: f64) -> FaultPlan {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        FaultPlan { seed, rate }
    }

    /// The fault for request number `n` (counting from 0), if any.
    ///
    /// Faults are spread evenly over the four kinds; within `ServerError`
    /// the status is spread evenly over 500/502/503 and the body over HTML
    /// and empty.
    pub fn choose(&self, n: u64) -> Option<FaultKind> {
        if self.rate <= 0.0 {
            return None;
        }
        let h = mix64(self.seed ^ mix64(n));
        // 53 random bits give a uniform f64 in [0, 1).
        let u = (h >> 11) as f64 / (1u64 << 53) as f64;
        if u >= self.rate {
            return None;
        }
        let k = mix64(h);
        Some(match k % 4 {
            0 => FaultKind::ServerError {
                status: [500, 502, 503][((k >> 8) % 3) as usize],
                html: (k >> 16) & 1 == 1,
            },
            1 => FaultKind::ConnectionClosed,
            2 => FaultKind::Delayed,
            _ => FaultKind::ResponseLost,
        })
    }
}
