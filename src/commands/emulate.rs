//! `waport emulate`: run the platform emulator in the foreground.

use crate::ExitStatus;
use crate::emulator::{self, EmulatorConfig, EmulatorError};
use std::io::Write;

/// Runs the emulator until Ctrl-C or SIGTERM, then saves the state file.
///
/// The first line on stdout is `listening on http://HOST:PORT`, flushed at
/// once, so scripts and tests can read the address (port 0 picks one).
pub fn run(cfg: EmulatorConfig) -> Result<ExitStatus, EmulatorError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(EmulatorError::Runtime)?;
    rt.block_on(async {
        let handle = emulator::start(cfg).await?;
        {
            let mut out = std::io::stdout().lock();
            // A closed stdout must not stop the server: the line is a
            // convenience for whoever reads it.
            let _ = writeln!(out, "listening on {}", handle.base_url());
            let _ = out.flush();
        }
        let waited = wait_for_stop().await;
        let saved = handle.shutdown().await;
        waited?;
        saved?;
        Ok(ExitStatus::Ok)
    })
}

/// Waits for Ctrl-C, or SIGTERM on Unix.
async fn wait_for_stop() -> Result<(), EmulatorError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(EmulatorError::Runtime)?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(EmulatorError::Runtime),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .map_err(EmulatorError::Runtime)
    }
}
