//! Credentials and per-profile settings: from the environment, or from a
//! profile in `waport.toml`. Keys are never taken as arguments and never
//! printed: `Debug` redacts them and errors name variables, not values.

use super::PlatformKind;
use super::error::PlatformError;
use crate::model::WriteMode;
use crate::normalize::phone::Prefer;
use crate::report::MaxInvalid;
use serde::Deserialize;
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

impl WipsyMaps {
    /// The maps `waport.toml` gives (`config_path`, else the first of
    /// [`config_candidates`]): its top-level `[wipsy.*]` tables, extended
    /// by `[profiles.NAME.wipsy.*]` with `profile`. No file: empty maps.
    /// Needs no key: `validate --to wipsy` reads them to say which tags,
    /// fields and stages an import would leave out.
    pub fn resolve(
        profile: Option<&str>,
        config_path: Option<&Path>,
    ) -> Result<Self, PlatformError> {
        let mut maps = WipsyMaps::default();
        let Some((path, file)) = load_config(config_path)? else {
            return Ok(maps);
        };
        file.wipsy.extend(&mut maps);
        if let Some(p) = profile {
            let prof = file.profiles.get(p).ok_or_else(|| {
                PlatformError::Config(format!("no [profiles.{p}] in {}", path.display()))
            })?;
            if let Some(w) = &prof.wipsy {
                w.maps().extend(&mut maps);
            }
        }
        Ok(maps)
    }
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

/// `waport.toml`, typed. Every table denies unknown keys: a mistyped
/// `base_ur` or a `base_url = 7` that was silently ignored once sent a
/// user's test run to production.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// `[profiles.NAME.PLATFORM]` sections.
    #[serde(default)]
    profiles: BTreeMap<String, ProfileFile>,
    /// Top-level `[wipsy.tags]`, `[wipsy.fields]`, `[wipsy.stages]`.
    #[serde(default)]
    wipsy: WipsyMapsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    wazzup: Option<KeySection>,
    whaapy: Option<KeySection>,
    wipsy: Option<WipsySection>,
    wapiflow: Option<PairSection>,
    // Run settings (see [`RunSettings`]); flags win over them.
    default_region: Option<String>,
    rate: Option<f64>,
    responsible_user: Option<String>,
    map: Option<PathBuf>,
    mode: Option<String>,
    allow_without_phone: Option<bool>,
    require_mobile: Option<bool>,
    prefer: Option<String>,
    max_invalid: Option<String>,
    batch_size: Option<usize>,
}

impl ProfileFile {
    /// Whether the profile holds keys for some platform: a profile of run
    /// settings alone takes its keys from the environment.
    fn has_keys(&self) -> bool {
        self.wazzup.is_some()
            || self.whaapy.is_some()
            || self.wipsy.is_some()
            || self.wapiflow.is_some()
    }
}

/// Run settings saved in a profile (`[profiles.NAME]` in `waport.toml`) so
/// a scheduled load is one short command: `waport import nightly.csv --to
/// wazzup --profile acme`. A flag given on the command line wins over the
/// profile's value. Keys are never run settings: they stay in the
/// profile's platform sections or the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSettings {
    /// `default_region = "MX"` (`--default-region`).
    pub default_region: Option<String>,
    /// `rate = 20` requests per second (`--rate`).
    pub rate: Option<f64>,
    /// `responsible_user = "ID"` (`--responsible-user`, Wazzup).
    pub responsible_user: Option<String>,
    /// `map = "acme-map.toml"` (`--map`), relative to the `waport.toml`
    /// that names it.
    pub map: Option<PathBuf>,
    /// `mode = "create"` (`--mode`).
    pub mode: Option<WriteMode>,
    /// `allow_without_phone = true` (`--allow-without-phone`).
    pub allow_without_phone: bool,
    /// `require_mobile = true` (`--require-mobile`).
    pub require_mobile: bool,
    /// `prefer = "international"` or `"national"` (`--prefer-*`).
    pub prefer: Option<Prefer>,
    /// `max_invalid = "1%"` or `"25"` (`--max-invalid`).
    pub max_invalid: Option<MaxInvalid>,
    /// `batch_size = 50` (`--batch-size`).
    pub batch_size: Option<usize>,
}

/// The run settings of `profile` in `waport.toml` (`config_path`, else the
/// first of [`config_candidates`]). A missing file or profile is an error,
/// as for keys; a value of the wrong kind names the key and the profile.
pub fn run_settings(
    profile: &str,
    config_path: Option<&Path>,
) -> Result<RunSettings, PlatformError> {
    let Some((path, file)) = load_config(config_path)? else {
        let looked: Vec<String> = match config_path {
            Some(p) => vec![p.display().to_string()],
            None => config_candidates()
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        };
        return Err(PlatformError::Config(format!(
            "profile {profile:?} asked for, but no waport.toml was found (looked in {})",
            looked.join(", ")
        )));
    };
    let prof = file.profiles.get(profile).ok_or_else(|| {
        PlatformError::Config(format!("no [profiles.{profile}] in {}", path.display()))
    })?;
    let bad = |key: &str, why: String| {
        PlatformError::Config(format!(
            "{key} in [profiles.{profile}] of {}: {why}",
            path.display()
        ))
    };
    let default_region = match &prof.default_region {
        Some(r) => Some(
            crate::normalize::country::region_code(r)
                .ok_or_else(|| {
                    bad(
                        "default_region",
                        format!("unknown region {r:?} (use an ISO 3166 code such as MX, ES, RU)"),
                    )
                })?
                .to_string(),
        ),
        None => None,
    };
    let mode = match &prof.mode {
        Some(m) => Some(m.parse::<WriteMode>().map_err(|e| bad("mode", e))?),
        None => None,
    };
    let prefer = match prof.prefer.as_deref().map(str::trim) {
        None => None,
        Some("international") => Some(Prefer::International),
        Some("national") => Some(Prefer::National),
        Some(other) => {
            return Err(bad(
                "prefer",
                format!("{other:?} is neither \"international\" nor \"national\""),
            ));
        }
    };
    let max_invalid = match &prof.max_invalid {
        Some(m) => Some(m.parse::<MaxInvalid>().map_err(|e| bad("max_invalid", e))?),
        None => None,
    };
    if let Some(r) = prof.rate
        && !(r.is_finite() && r > 0.0)
    {
        return Err(bad(
            "rate",
            "must be a number of requests per second above 0".into(),
        ));
    }
    if prof.batch_size == Some(0) {
        return Err(bad("batch_size", "must be at least 1".into()));
    }
    // A relative mapping file is found beside the waport.toml naming it,
    // wherever the scheduler starts waport.
    let map = prof.map.as_ref().map(|m| match path.parent() {
        Some(dir) if m.is_relative() => dir.join(m),
        _ => m.clone(),
    });
    Ok(RunSettings {
        default_region,
        rate: prof.rate,
        responsible_user: prof
            .responsible_user
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string),
        map,
        mode,
        allow_without_phone: prof.allow_without_phone.unwrap_or(false),
        require_mobile: prof.require_mobile.unwrap_or(false),
        prefer,
        max_invalid,
        batch_size: prof.batch_size,
    })
}

/// A platform that authenticates with one key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySection {
    api_key: Option<String>,
    base_url: Option<String>,
}

/// WapiFlow's id and secret.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PairSection {
    client_id: Option<String>,
    client_secret: Option<String>,
    base_url: Option<String>,
}

/// A profile's Wipsy section: its key, and maps that extend the top-level
/// ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WipsySection {
    api_key: Option<String>,
    base_url: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    stages: BTreeMap<String, String>,
}

impl WipsySection {
    /// Its maps, which extend the top-level ones.
    fn maps(&self) -> WipsyMapsFile {
        WipsyMapsFile {
            tags: self.tags.clone(),
            fields: self.fields.clone(),
            stages: self.stages.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WipsyMapsFile {
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    stages: BTreeMap<String, String>,
}

impl WipsyMapsFile {
    /// Adds (overriding) these maps to `into`.
    fn extend(&self, into: &mut WipsyMaps) {
        let trimmed = |m: &BTreeMap<String, String>| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.trim().to_string()))
                .collect::<Vec<_>>()
        };
        into.tags.extend(trimmed(&self.tags));
        into.fields.extend(trimmed(&self.fields));
        into.stages.extend(trimmed(&self.stages));
    }
}

/// A TOML or type error in `waport.toml`, without any value from the file:
/// toml's own message quotes the offending line, and serde's quotes a
/// string it did not expect, either of which could be a key.
fn config_error(path: &Path, text: &str, e: &toml::de::Error) -> PlatformError {
    let at = e
        .span()
        .map(|s| {
            let line = text[..s.start.min(text.len())].lines().count().max(1);
            format!(" near line {line}")
        })
        .unwrap_or_default();
    let message = redact_quoted(e.message());
    PlatformError::Config(format!("{}{at}: {message}", path.display()))
}

/// `message` with every double-quoted string replaced by `"…"` (key names
/// are quoted with backticks by serde and stay).
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    let mut escaped = false;
    for c in message.chars() {
        if inside {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    inside = false;
                    out.push_str("…\"");
                }
                _ => escaped = false,
            }
        } else {
            out.push(c);
            if c == '"' {
                inside = true;
            }
        }
    }
    if inside {
        out.push_str("…\"");
    }
    out
}

fn load_config(path: Option<&Path>) -> Result<Option<(PathBuf, ConfigFile)>, PlatformError> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => match config_candidates().into_iter().find(|p| p.is_file()) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| PlatformError::Config(format!("cannot read {}: {e}", path.display())))?;
    // Syntax first, with only the position: toml's message could quote
    // the offending line, which could hold a key.
    toml::from_str::<toml::Table>(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].lines().count().max(1);
                format!(" near line {line}")
            })
            .unwrap_or_default();
        PlatformError::Config(format!("{} is not valid TOML{at}", path.display()))
    })?;
    let config: ConfigFile = toml::from_str(&text).map_err(|e| config_error(&path, &text, &e))?;
    Ok(Some((path, config)))
}

/// Refuses a base URL with a query string or fragment (waport appends
/// paths to it, so `?token=...` would end up inside a path or be sent
/// where it should not) and one that is not http(s). The URL is not
/// echoed: a query string is where keys hide.
fn check_base_url(kind: PlatformKind, url: &str, from: &str) -> Result<(), PlatformError> {
    let name = kind.name();
    if url.contains(['?', '#']) {
        return Err(PlatformError::Config(format!(
            "the {name} base URL from {from} has a query string or fragment ('?' or '#'): give only the API root, e.g. {}",
            default_base_url(kind)
        )));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(PlatformError::Config(format!(
            "the {name} base URL from {from} must start with http:// or https://"
        )));
    }
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
        if let Some((_, c)) = &config {
            c.wipsy.extend(&mut wipsy);
        }
        let name = kind.name();
        // A profile of run settings alone names no account: its keys come
        // from the environment. One with any platform section is an
        // account's profile, and a platform missing from it is an error
        // rather than a silent switch to whatever the environment holds.
        let keyed_profile = profile.filter(|p| {
            config
                .as_ref()
                .and_then(|(_, c)| c.profiles.get(*p))
                .is_none_or(ProfileFile::has_keys)
        });
        let (secret, base, origin) = match keyed_profile {
            Some(p) => {
                let Some((path, file)) = config.as_ref() else {
                    return Err(PlatformError::Config("no waport.toml found".into()));
                };
                let prof = file.profiles.get(p).ok_or_else(|| {
                    PlatformError::Config(format!("no [profiles.{p}] in {}", path.display()))
                })?;
                if let Some(w) = &prof.wipsy {
                    w.maps().extend(&mut wipsy);
                }
                let missing_section = || {
                    PlatformError::MissingCredential(format!(
                        "no [profiles.{p}.{name}] in {}",
                        path.display()
                    ))
                };
                let get = |k: &str, v: &Option<String>| -> Result<String, PlatformError> {
                    v.as_deref()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| {
                            PlatformError::MissingCredential(format!(
                                "{k} is not set in [profiles.{p}.{name}] of {}",
                                path.display()
                            ))
                        })
                };
                let (secret, base) = match kind {
                    PlatformKind::Wapiflow => {
                        let s = prof.wapiflow.as_ref().ok_or_else(missing_section)?;
                        (
                            Secret::ClientPair {
                                id: get("client_id", &s.client_id)?,
                                secret: get("client_secret", &s.client_secret)?,
                            },
                            s.base_url.clone(),
                        )
                    }
                    PlatformKind::Wipsy => {
                        let s = prof.wipsy.as_ref().ok_or_else(missing_section)?;
                        (
                            Secret::ApiKey(get("api_key", &s.api_key)?),
                            s.base_url.clone(),
                        )
                    }
                    PlatformKind::Wazzup | PlatformKind::Whaapy => {
                        let s = if kind == PlatformKind::Wazzup {
                            &prof.wazzup
                        } else {
                            &prof.whaapy
                        };
                        let s = s.as_ref().ok_or_else(missing_section)?;
                        (
                            Secret::ApiKey(get("api_key", &s.api_key)?),
                            s.base_url.clone(),
                        )
                    }
                };
                (secret, base, format!("profile {p} in {}", path.display()))
            }
            None => {
                let need = |v: &str| {
                    env_var(v).ok_or_else(|| {
                        PlatformError::MissingCredential(match profile {
                            Some(p) => format!(
                                "set {v} in the environment (profile {p} holds run settings but no [profiles.{p}.{name}] keys)"
                            ),
                            None => format!(
                                "set {v} in the environment (or use --profile with a waport.toml profile)"
                            ),
                        })
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
        let from_profile = base.as_deref().is_some_and(|b| !b.trim().is_empty());
        let (base_url, from) = if from_profile {
            (base.unwrap_or_default(), origin.clone())
        } else if let Some(v) = env_var(base_url_var(kind)) {
            (v, base_url_var(kind).to_string())
        } else {
            (
                default_base_url(kind).to_string(),
                "the default".to_string(),
            )
        };
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        check_base_url(kind, &base_url, &from)?;
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
