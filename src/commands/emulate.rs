//! `waport emulate`: run the platform emulator in the foreground.

use crate::ExitStatus;
use crate::emulator::EmulatorConfig;

/// Runs the emulator until Ctrl-C.
pub fn run(cfg: EmulatorConfig) -> Result<ExitStatus, std::io::Error> {
    let _ = cfg;
    Ok(ExitStatus::Ok)
}
