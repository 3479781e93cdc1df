//! Content and account fingerprints, and where the journal lives by default.

use super::JournalError;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Hex digits kept of an account fingerprint: 64 bits tell accounts apart
/// without making the fingerprint a stand-in for the key.
const ACCOUNT_FP_HEX: usize = 16;

/// SHA-256 of a file's content, as 64 lowercase hex digits.
///
/// Read in 64 KiB chunks so a multi-gigabyte export does not have to fit in
/// memory. Two files with the same bytes have the same fingerprint wherever
/// they are, which is what lets a resumed run find its job after the file was
/// moved or renamed.
pub fn fingerprint_file(path: &Path) -> Result<String, JournalError> {
    let read_err = |source| JournalError::ReadInput {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// A short, stable name for "this account on this platform" that never
/// reveals the key: the first 16 hex digits of SHA-256 over a domain tag,
/// the platform and the secret.
///
/// For platforms with several credential parts (WapiFlow's client id and
/// client secret) pass them joined, e.g. `"{id}:{secret}"`; the same parts
/// always give the same fingerprint.
pub fn account_fingerprint(platform: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    // The tag and the NUL separators keep ("ab", "c") and ("a", "bc") apart
    // and make this hash useless as a plain SHA-256 of the key.
    hasher.update(b"waport-account-v1\0");
    hasher.update(platform.as_bytes());
    hasher.update(b"\0");
    hasher.update(secret.as_bytes());
    let mut h = hex(&hasher.finalize());
    h.truncate(ACCOUNT_FP_HEX);
    h
}

/// The default journal path, with its parent directories created.
///
/// In order: `$WAPORT_JOURNAL` (a file path), `$XDG_DATA_HOME/waport/journal.sqlite`,
/// the OS data folder ([`crate::dirs::data_dir`]: `~/.local/share/waport` on
/// Linux, `~/Library/Application Support/waport` on macOS,
/// `%APPDATA%\waport\data` on Windows), then
/// `$HOME/.local/share/waport/journal.sqlite`. Empty variables count as
/// unset, and a relative `XDG_DATA_HOME` is ignored as the XDG spec says.
/// The `--journal PATH` flag is the caller's business: it wins over all of
/// these and goes straight to [`super::Journal::open`].
pub fn default_path() -> Result<PathBuf, JournalError> {
    let path = resolve_default_path_in(|name| std::env::var_os(name), crate::dirs::data_dir())?;
    ensure_parent(&path)?;
    Ok(path)
}

/// [`default_path`]'s rule over any environment and no OS folder, without
/// touching the disk (tests give it a map instead of the process
/// environment).
pub fn resolve_default_path(
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<PathBuf, JournalError> {
    resolve_default_path_in(env, None)
}

/// [`default_path`]'s rule over any environment and OS data folder.
pub fn resolve_default_path_in(
    env: impl Fn(&str) -> Option<OsString>,
    os_data_dir: Option<PathBuf>,
) -> Result<PathBuf, JournalError> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(p) = var("WAPORT_JOURNAL") {
        return Ok(PathBuf::from(p));
    }
    if let Some(d) = var("XDG_DATA_HOME").map(PathBuf::from)
        && d.is_absolute()
    {
        return Ok(d.join("waport").join("journal.sqlite"));
    }
    if let Some(d) = os_data_dir {
        return Ok(d.join("journal.sqlite"));
    }
    if let Some(h) = var("HOME") {
        return Ok(PathBuf::from(h)
            .join(".local")
            .join("share")
            .join("waport")
            .join("journal.sqlite"));
    }
    Err(JournalError::NoDataDir)
}

/// Creates the directory a journal file goes in.
pub(crate) fn ensure_parent(path: &Path) -> Result<(), JournalError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })
        }
        _ => Ok(()),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}
