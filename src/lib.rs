//! waport moves contacts in and out of WhatsApp CRM platforms (Wazzup, Whaapy,
//! Wipsy, WapiFlow).
//!
//! The library is a streaming pipeline, one stage a module, in the order the
//! data flows:
//!
//! read ([`source`]) → map columns ([`mapping`]) → normalize phone and email
//! ([`normalize`]) → find repeats ([`dedupe`]) → batch, rate-limit and send
//! ([`upload`] over [`platform`]) → account for every row ([`report`]).
//!
//! The way back is [`export`]. [`emulator`] is a local, faithful stand-in for
//! the four platform APIs. [`commands`] holds one file per subcommand; the
//! binary only parses the command line and calls into it.

pub mod commands;
pub mod contact;
pub mod dedupe;
pub mod emulator;
pub mod export;
pub mod journal;
pub mod mapping;
pub mod normalize;
pub mod pipeline;
pub mod platform;
pub mod report;
pub mod safety;
pub mod source;
pub mod time;
pub mod upload;

/// Process exit codes, documented in README and `--help`.
///
/// Kept in one place so scripts can rely on them: they are part of the
/// command-line interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Everything went through: no row invalid, failed or skipped.
    Ok = 0,
    /// A fatal error: unreadable input, missing credentials, bad config.
    Fatal = 1,
    /// The command line itself was wrong (clap's own code).
    Usage = 2,
    /// The run finished but some rows were invalid, failed or skipped.
    RowsRejected = 3,
    /// Interrupted by Ctrl-C after writing the report.
    Interrupted = 130,
}

impl ExitStatus {
    /// The numeric code handed to the operating system.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Any error that ends a command. Each message is one sentence a user can
/// act on; none ever contains a credential.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be read.
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// The mapping file or headers are wrong.
    #[error(transparent)]
    Mapping(#[from] mapping::MappingError),
    /// A report could not be written.
    #[error(transparent)]
    Report(#[from] report::ReportError),
    /// The run would overwrite a file it must not (a usage error: exit 2).
    #[error(transparent)]
    Refused(#[from] safety::SafetyError),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Message(String),
}
