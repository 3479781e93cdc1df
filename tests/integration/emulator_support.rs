//! Shared start-up for the emulator API tests: an emulator on a random
//! loopback port with the default credentials, a client, and the base URL
//! of one platform's API.

use waport::emulator::{EmulatorConfig, EmulatorHandle, Keys};

/// Starts an emulator configured by `cfg` (credentials forced to the
/// defaults the tests authenticate with); the URL ends in `prefix`.
pub async fn start_with(
    cfg: EmulatorConfig,
    prefix: &str,
) -> (EmulatorHandle, reqwest::Client, String) {
    let h = waport::emulator::start(EmulatorConfig {
        credentials: Keys::defaults(),
        ..cfg
    })
    .await
    .unwrap();
    let base = format!("{}{prefix}", h.base_url());
    (h, reqwest::Client::new(), base)
}
