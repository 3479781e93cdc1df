//! Where waport keeps its files on each operating system.
//!
//! | what | Linux | macOS | Windows |
//! |---|---|---|---|
//! | data (journal, locks) | `$XDG_DATA_HOME/waport` or `~/.local/share/waport` | `~/Library/Application Support/waport` | `%APPDATA%\waport\data` |
//! | config (`waport.toml`) | `$XDG_CONFIG_HOME/waport` or `~/.config/waport` | `~/Library/Application Support/waport` | `%APPDATA%\waport\config` |
//!
//! The `directories` crate asks the OS (on Unix it falls back to the
//! password database when `HOME` is unset), so nothing here requires
//! `HOME`: a scheduled task on Windows has none.

use std::path::PathBuf;

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "waport")
}

/// The folder for the journal and the account locks, if the OS names one.
pub fn data_dir() -> Option<PathBuf> {
    project().map(|p| p.data_dir().to_path_buf())
}

/// The folder a `waport.toml` is looked up in after the current folder.
pub fn config_dir() -> Option<PathBuf> {
    project().map(|p| p.config_dir().to_path_buf())
}

/// The folder for the per-account lock files: one for every journal on the
/// machine, so two runs into one account are refused whichever journal each
/// uses. `WAPORT_LOCK_DIR` overrides it; the temporary folder is the last
/// resort.
pub fn lock_dir() -> PathBuf {
    std::env::var_os("WAPORT_LOCK_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| data_dir().map(|d| d.join("locks")))
        .unwrap_or_else(|| std::env::temp_dir().join("waport-locks"))
}
