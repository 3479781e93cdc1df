//! Credentials: environment, waport.toml profiles, redaction, fingerprint.
//!
//! Environment variables are process-wide, so every case that touches them
//! runs inside one test, in order, in a test binary of its own (changing
//! the environment is `unsafe` while other threads may read it).
#![allow(unsafe_code)]

use std::io::Write;
use waport::platform::{Credentials, PlatformError, PlatformKind, Secret};

const TOML: &str = r#"
[wipsy.tags]
"VIP" = "11111111-2222-3333-4444-555555555555"

[profiles.prod.wazzup]
api_key = "prod-wazzup-secret"
base_url = "http://127.0.0.1:8787/wazzup/v3/"

[profiles.prod.wapiflow]
client_id = "cid"
client_secret = "csecret"

[profiles.prod.wipsy]
api_key = "wipsy-secret"

[profiles.prod.wipsy.stages]
"Nuevo" = "16ac276d-82f6-4f2a-bbab-e2e260c45fe4"

[profiles.half.whaapy]
base_url = "http://127.0.0.1:1/whaapy"
"#;

fn config() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(TOML.as_bytes()).unwrap();
    f
}

#[test]
fn profiles_and_environment() {
    let f = config();
    let path = Some(f.path());

    // A profile: key from the file, base URL without its trailing slash.
    let c = Credentials::resolve(PlatformKind::Wazzup, Some("prod"), path).unwrap();
    assert_eq!(c.secret, Secret::ApiKey("prod-wazzup-secret".into()));
    assert_eq!(c.base_url, "http://127.0.0.1:8787/wazzup/v3");
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("prod-wazzup-secret"),
        "Debug redacts: {shown}"
    );
    assert!(shown.contains("<redacted>"));

    // Fingerprint: stable, 16 hex digits, different per platform and key.
    let fp = c.fingerprint();
    assert_eq!(fp.len(), 16);
    assert!(fp.chars().all(|ch| ch.is_ascii_hexdigit()));
    assert_eq!(
        fp,
        Credentials::resolve(PlatformKind::Wazzup, Some("prod"), path)
            .unwrap()
            .fingerprint()
    );
    let other = Credentials::new(
        PlatformKind::Whaapy,
        "http://x",
        Secret::ApiKey("prod-wazzup-secret".into()),
    );
    assert_ne!(fp, other.fingerprint());

    // WapiFlow pair; Wipsy maps merged from top level and profile.
    let w = Credentials::resolve(PlatformKind::Wapiflow, Some("prod"), path).unwrap();
    assert_eq!(
        w.secret,
        Secret::ClientPair {
            id: "cid".into(),
            secret: "csecret".into()
        }
    );
    assert_eq!(w.base_url, "https://wapiflow.cloud/external-api");
    let wy = Credentials::resolve(PlatformKind::Wipsy, Some("prod"), path).unwrap();
    assert_eq!(wy.wipsy.tags["VIP"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(
        wy.wipsy.stages["Nuevo"],
        "16ac276d-82f6-4f2a-bbab-e2e260c45fe4"
    );

    // A profile without the key names the key and the file, not a value.
    let e = Credentials::resolve(PlatformKind::Whaapy, Some("half"), path).unwrap_err();
    assert!(matches!(e, PlatformError::MissingCredential(_)));
    assert!(
        e.to_string()
            .contains("api_key is not set in [profiles.half.whaapy]"),
        "{e}"
    );
    let e = Credentials::resolve(PlatformKind::Whaapy, Some("nope"), path).unwrap_err();
    assert!(e.to_string().contains("no [profiles.nope]"), "{e}");

    // The environment, with a base URL override.
    // SAFETY: this is the only test of this binary touching these variables.
    unsafe {
        std::env::remove_var("WHAAPY_API_KEY");
        std::env::remove_var("WAPIFLOW_CLIENT_SECRET");
        std::env::set_var("WAPIFLOW_CLIENT_ID", "id-from-env");
    }
    let e = Credentials::resolve(PlatformKind::Whaapy, None, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "missing credential: set WHAAPY_API_KEY in the environment (or use --profile with a waport.toml profile)"
    );
    let e = Credentials::resolve(PlatformKind::Wapiflow, None, None).unwrap_err();
    assert!(e.to_string().contains("WAPIFLOW_CLIENT_SECRET"), "{e}");
    unsafe {
        std::env::set_var("WHAAPY_API_KEY", "wha_from_env");
        std::env::set_var("WHAAPY_BASE_URL", "http://127.0.0.1:8787/whaapy");
    }
    let c = Credentials::resolve(PlatformKind::Whaapy, None, None).unwrap();
    assert_eq!(c.secret, Secret::ApiKey("wha_from_env".into()));
    assert_eq!(c.base_url, "http://127.0.0.1:8787/whaapy");
    unsafe {
        std::env::remove_var("WHAAPY_BASE_URL");
    }
    let c = Credentials::resolve(PlatformKind::Whaapy, None, None).unwrap();
    assert_eq!(c.base_url, "https://api.whaapy.com");
}

#[test]
fn broken_toml_does_not_echo_its_content() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"[profiles.x.wazzup]\napi_key = \"s3cr3t\" oops\n")
        .unwrap();
    let e = Credentials::resolve(PlatformKind::Wazzup, Some("x"), Some(f.path())).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("is not valid TOML near line 2"), "{msg}");
    assert!(!msg.contains("s3cr3t"));
}
