//! Errors of the platform layer. Every message is a sentence a user can act
//! on, and none ever contains a credential.

use thiserror::Error;

/// Why a platform call, or the setup for one, failed.
#[derive(Debug, Clone, Error)]
pub enum PlatformError {
    /// A credential is missing; `source` names the variable or profile key.
    #[error("missing credential: {0}")]
    MissingCredential(String),
    /// `waport.toml` could not be read or is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The platform refused the key (401/403).
    #[error("{platform} refused the credentials (HTTP {status}): {message}")]
    Auth {
        /// Platform name.
        platform: &'static str,
        /// HTTP status.
        status: u16,
        /// The platform's own words.
        message: String,
    },
    /// WapiFlow refused this machine's address.
    #[error(
        "WapiFlow accepts requests only from whitelisted IP addresses and refused this one ({message}). Add this machine's public IP under Developer Tools → IP Whitelist in the WapiFlow dashboard, then run again."
    )]
    IpNotWhitelisted {
        /// The platform's own words (they name the address).
        message: String,
    },
    /// The Wazzup responsible user does not exist.
    #[error("{0}")]
    ResponsibleUser(String),
    /// A plan quota or limit was reached: nothing more can be sent.
    #[error("{0}")]
    Quota(String),
    /// An answer waport could not act on (unexpected status or body).
    #[error("{platform}: HTTP {status}: {message}")]
    Http {
        /// Platform name.
        platform: &'static str,
        /// HTTP status.
        status: u16,
        /// What the body said (shortened).
        message: String,
    },
    /// The request did not complete (connection, timeout, TLS).
    #[error("{platform}: request failed: {message}")]
    Transport {
        /// Platform name.
        platform: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The platform has no endpoint for this operation.
    #[error("{platform} has no documented endpoint to {what}")]
    Unsupported {
        /// Platform name.
        platform: &'static str,
        /// The operation, as a verb phrase.
        what: &'static str,
    },
    /// The platform refused the operation on this record.
    #[error("{platform} refused: {message}")]
    Refused {
        /// Platform name.
        platform: &'static str,
        /// The platform's own words.
        message: String,
    },
    /// The run was interrupted before this request left.
    #[error("interrupted")]
    Interrupted,
}

impl PlatformError {
    /// Whether the whole run must stop (bad credentials, IP not
    /// whitelisted, unknown responsible user): every later request would
    /// fail the same way.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            PlatformError::MissingCredential(_)
                | PlatformError::Config(_)
                | PlatformError::Auth { .. }
                | PlatformError::IpNotWhitelisted { .. }
                | PlatformError::ResponsibleUser(_)
        )
    }
}

/// Shortens a response body for an error message: bodies can be whole HTML
/// pages, and a report cell should stay readable.
pub(crate) fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        let cut: String = flat.chars().take(200).collect();
        format!("{cut}…")
    } else if flat.is_empty() {
        "(empty body)".to_string()
    } else {
        flat
    }
}
