//! Credentials and per-profile settings: from the environment, or from a
//! profile in `waport.toml`. Keys are never taken as arguments and never
//! printed: `Debug` redacts them and errors name variables, not values.

use super::PlatformKind;
use super::error::PlatformError;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The secret a platform authenticates with.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// One key (Wazzup, Whaapy bearer; Wipsy `x-api-key`).
    ApiKey(String),
    /// WapiFlow's `client-id` and `client-secret` headers.
    ClientPair {
        /// `client-id`.
        id: String,
        /// `client-secret`.
        secret: String,
    },
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Secret::ClientPair { .. } => f.write_str("ClientPair(<redacted>)"),
        }
    }
}

/// Wipsy names → UUIDs (`[wipsy.tags]`, `[wipsy.fields]`, `[wipsy.stages]`):
/// Wipsy documents no endpoint listing them, so the user supplies them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WipsyMaps {
    /// Tag name → tag UUID.
    pub tags: BTreeMap<String, String>,
    /// Custom-field name → field UUID.
    pub fields: BTreeMap<String, String>,
    /// Pipeline-stage name → stage UUID.
    pub stages: BTreeMap<String, String>,
}

/// Everything needed to talk to one platform account.
#[derive(Clone)]
pub struct Credentials {
    /// The platform.
    pub kind: PlatformKind,
    /// The API root as the seeds give it (no trailing slash).
    pub base_url: String,
    /// The secret.
    pub secret: Secret,
    /// Wipsy name → UUID maps (empty for other platforms).
    pub wipsy: WipsyMaps,
    /// Where the credentials came from, for messages (`environment` or
    /// `profile NAME in PATH`).
    pub origin: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("secret", &"<redacted>")
            .field("fingerprint", &self.fingerprint())
            .field("origin", &self.origin)
            .finish()
    }
}

/// The production API roots (seeds and platforms.md).
pub fn default_base_url(kind: PlatformKind) -> &'static str {
    match kind {
        PlatformKind::Wazzup => "https://api.wazzup24.com/v3",
        PlatformKind::Whaapy => "https://api.whaapy.com",
        PlatformKind::Wipsy => "https://api.getwipsy.com/functions/v1",
        PlatformKind::Wapiflow => "https://wapiflow.cloud/external-api",
    }
}

/// The environment variables a platform's secret comes from.
pub fn key_vars(kind: PlatformKind) -> &'static [&'static str] {
    match kind {
        PlatformKind::Wazzup => &["WAZZUP_API_KEY"],
        PlatformKind::Whaapy => &["WHAAPY_API_KEY"],
        PlatformKind::Wipsy => &["WIPSY_API_KEY"],
        PlatformKind::Wapiflow => &["WAPIFLOW_CLIENT_ID", "WAPIFLOW_CLIENT_SECRET"],
    }
}

/// The environment variable overriding a platform's base URL.
pub fn base_url_var(kind: PlatformKind) -> &'static str {
    match kind {
        PlatformKind::Wazzup => "WAZZUP_BASE_URL",
        PlatformKind::Whaapy => "WHAAPY_BASE_URL",
        PlatformKind::Wipsy => "WIPSY_BASE_URL",
        PlatformKind::Wapiflow => "WAPIFLOW_BASE_URL",
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Where `waport.toml` is looked for when no path is given: the current
/// folder, then `$XDG_CONFIG_HOME/waport/waport.toml`, then the OS config
/// folder ([`crate::dirs::config_dir`]: `~/.config/waport` on Linux,
/// `~/Library/Application Support/waport` on macOS, `%APPDATA%\waport\config`
/// on Windows).
pub fn config_candidates() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("waport.toml")];
    if let Some(dir) = env_var("XDG_CONFIG_HOME").map(PathBuf::from) {
        out.push(dir.join("waport").join("waport.toml"));
    }
    if let Some(dir) = crate::dirs::config_dir() {
        let p = dir.join("waport.toml");
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn load_config(path: Option<&Path>) -> Result<Option<(PathBuf, toml::Table)>, PlatformError> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => match config_candidates().into_iter().find(|p| p.is_file()) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| PlatformError::Config(format!("cannot read {}: {e}", path.display())))?;
    // toml's message quotes the offending line, which could hold a key:
    // keep only the position.
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].lines().count().max(1);
                format!(" near line {line}")
            })
            .unwrap_or_default();
        PlatformError::Config(format!("{} is not valid TOML{at}", path.display()))
    })?;
    Ok(Some((path, table)))
}

fn str_map(v: Option<&toml::Value>, what: &str) -> Result<BTreeMap<String, String>, PlatformError> {
    let mut out = BTreeMap::new();
    let Some(v) = v else { return Ok(out) };
    let t = v.as_table().ok_or_else(|| {
        PlatformError::Config(format!("{what} must be a table of name = \"uuid\""))
    })?;
    for (k, val) in t {
        let s = val.as_str().ok_or_else(|| {
            PlatformError::Config(format!("{what}.{k:?} must be a string (a UUID)"))
        })?;
        out.insert(k.clone(), s.trim().to_string());
    }
    Ok(out)
}

fn wipsy_maps(table: Option<&toml::Table>, into: &mut WipsyMaps) -> Result<(), PlatformError> {
    let Some(w) = table
        .and_then(|t| t.get("wipsy"))
        .and_then(|v| v.as_table())
    else {
        return Ok(());
    };
    // A profile's maps extend (and override) the top-level ones.
    into.tags.extend(str_map(w.get("tags"), "[wipsy.tags]")?);
    into.fields
        .extend(str_map(w.get("fields"), "[wipsy.fields]")?);
    into.stages
        .extend(str_map(w.get("stages"), "[wipsy.stages]")?);
    Ok(())
}

impl Credentials {
    /// Resolves the credentials of `kind`.
    ///
    /// With `profile`, the keys come from `[profiles.NAME.PLATFORM]` in
    /// `waport.toml` (`config_path`, else the first of
    /// [`config_candidates`]); without, from the environment variables of
    /// [`key_vars`]. The base URL comes from the profile, else the
    /// platform's `*_BASE_URL` variable, else production. A missing key is
    /// an error naming where it should be.
    pub fn resolve(
        kind: PlatformKind,
        profile: Option<&str>,
        config_path: Option<&Path>,
    ) -> Result<Credentials, PlatformError> {
        let config = load_config(config_path)?;
        if config.is_none() && (profile.is_some() || config_path.is_some()) {
            let looked: Vec<String> = match config_path {
                Some(p) => vec![p.display().to_string()],
                None => config_candidates()
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
            };
            return Err(PlatformError::Config(format!(
                "profile {:?} asked for, but no waport.toml was found (looked in {})",
                profile.unwrap_or_default(),
                looked.join(", ")
            )));
        }
        let mut wipsy = WipsyMaps::default();
        let top = config.as_ref().map(|(_, t)| t);
        wipsy_maps(top, &mut wipsy)?;
        let name = kind.name();
        let (secret, base, origin) = match profile {
            Some(p) => {
                let Some((path, table)) = config.as_ref() else {
                    return Err(PlatformError::Config("no waport.toml found".into()));
                };
                let prof = table
                    .get("profiles")
                    .and_then(|v| v.get(p))
                    .and_then(|v| v.as_table())
                    .ok_or_else(|| {
                        PlatformError::Config(format!("no [profiles.{p}] in {}", path.display()))
                    })?;
                wipsy_maps(Some(prof), &mut wipsy)?;
                let sect = prof.get(name).and_then(|v| v.as_table()).ok_or_else(|| {
                    PlatformError::MissingCredential(format!(
                        "no [profiles.{p}.{name}] in {}",
                        path.display()
                    ))
                })?;
                let get = |k: &str| -> Result<String, PlatformError> {
                    sect.get(k)
                        .and_then(|v| v.as_str())
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| {
                            PlatformError::MissingCredential(format!(
                                "{k} is not set in [profiles.{p}.{name}] of {}",
                                path.display()
                            ))
                        })
                };
                let secret = match kind {
                    PlatformKind::Wapiflow => Secret::ClientPair {
                        id: get("client_id")?,
                        secret: get("client_secret")?,
                    },
                    _ => Secret::ApiKey(get("api_key")?),
                };
                let base = sect
                    .get("base_url")
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                (secret, base, format!("profile {p} in {}", path.display()))
            }
            None => {
                let need = |v: &str| {
                    env_var(v).ok_or_else(|| {
                        PlatformError::MissingCredential(format!(
                            "set {v} in the environment (or use --profile with a waport.toml profile)"
                        ))
                    })
                };
                let secret = match kind {
                    PlatformKind::Wapiflow => Secret::ClientPair {
                        id: need("WAPIFLOW_CLIENT_ID")?,
                        secret: need("WAPIFLOW_CLIENT_SECRET")?,
                    },
                    PlatformKind::Wazzup => Secret::ApiKey(need("WAZZUP_API_KEY")?),
                    PlatformKind::Whaapy => Secret::ApiKey(need("WHAAPY_API_KEY")?),
                    PlatformKind::Wipsy => Secret::ApiKey(need("WIPSY_API_KEY")?),
                };
                (secret, None, "environment".to_string())
            }
        };
        let base_url = base
            .filter(|b| !b.trim().is_empty())
            .or_else(|| env_var(base_url_var(kind)))
            .unwrap_or_else(|| default_base_url(kind).to_string());
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(PlatformError::Config(format!(
                "the {name} base URL must start with http:// or https:// (got {base_url:?})"
            )));
        }
        Ok(Credentials {
            kind,
            base_url,
            secret,
            wipsy: if kind == PlatformKind::Wipsy {
                wipsy
            } else {
                WipsyMaps::default()
            },
            origin,
        })
    }

    /// Credentials built in code (tests, the sandbox).
    pub fn new(kind: PlatformKind, base_url: &str, secret: Secret) -> Credentials {
        Credentials {
            kind,
            base_url: base_url.trim_end_matches('/').to_string(),
            secret,
            wipsy: WipsyMaps::default(),
            origin: "code".into(),
        }
    }

    /// The one key of a platform that authenticates with a single key
    /// (Wazzup, Whaapy, Wipsy); `label` names it in the error.
    pub fn api_key(&self, label: &str) -> Result<String, PlatformError> {
        match &self.secret {
            Secret::ApiKey(k) => Ok(k.clone()),
            Secret::ClientPair { .. } => {
                Err(PlatformError::Config(format!("{label} needs an API key")))
            }
        }
    }

    /// A stable, non-reversible id of the account for the journal: the
    /// first 16 hex digits of sha256(platform, secret).
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.kind.name().as_bytes());
        h.update([0u8]);
        match &self.secret {
            Secret::ApiKey(k) => h.update(k.as_bytes()),
            Secret::ClientPair { id, secret } => {
                h.update(id.as_bytes());
                h.update([0u8]);
                h.update(secret.as_bytes());
            }
        }
        h.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
