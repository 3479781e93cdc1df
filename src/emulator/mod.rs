//! A local, faithful emulator of the Wazzup, Whaapy, Wipsy and WapiFlow APIs.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How to run the emulator (built from `waport emulate` flags or by `--sandbox`).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Seed for fault injection and generated ids.
    pub seed: u64,
    /// Requests per second per platform and key (`None`: platform defaults).
    pub rate_limit: Option<u32>,
    /// Fraction of requests that fail.
    pub fault_rate: f64,
    /// Latency added to every response.
    pub latency_ms: u64,
    /// JSON file to load the stored data from and save it to.
    pub state_file: Option<PathBuf>,
    /// Wipsy free plan: 429 after 100 contacts created in the month.
    pub wipsy_free_plan: bool,
    /// Addresses or CIDR blocks WapiFlow accepts (default: loopback).
    pub wapiflow_whitelist: Vec<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            rate_limit: None,
            fault_rate: 0.0,
            latency_ms: 0,
            state_file: None,
            wipsy_free_plan: false,
            wapiflow_whitelist: Vec::new(),
        }
    }
}
