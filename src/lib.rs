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
pub mod dedupe;
pub mod dirs;
pub mod emulator;
pub mod export;
pub mod journal;
pub mod mapping;
pub mod model;
pub mod net;
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

/// Writes `text` to standard output; an error (a closed pipe) is returned,
/// never a panic as `print!` would.
pub fn print(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Stdout)
}

/// Whether `e` (or any error it was caused by) is a closed pipe: the
/// reader of our output went away (`waport jobs | head -1`), which is not
/// a failure.
pub fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Runs `fut` on a multi-threaded tokio runtime of two workers: the one
/// runtime every networked command uses (the machine waport targets has two
/// cores, and the work is waiting on the network, not computing).
pub fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output, Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    Ok(rt.block_on(fut))
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
    /// The job journal failed.
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    /// A platform refused or could not be reached.
    #[error(transparent)]
    Platform(#[from] platform::PlatformError),
    /// An export could not be written.
    #[error(transparent)]
    Export(#[from] export::ExportError),
    /// A file waport writes (spool, report) could not be written or read
    /// back.
    #[error("cannot write {what}")]
    Write {
        /// What was being written, for the message.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The journal could not record a write, so sending stopped at once
    /// (the report still accounts for every row).
    #[error(
        "{0}; nothing more was sent. Free the space (or fix the journal's folder) and run the same command again: it resumes where this run stopped"
    )]
    JournalStopped(String),
    /// The emulator (`--sandbox`, `emulate`) could not start.
    #[error("cannot start the emulator")]
    Emulator(#[from] emulator::EmulatorError),
    /// The async runtime could not be built.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// Standard output could not be written (a closed pipe among others:
    /// the binary exits 0 quietly on that one, as ripgrep and xsv do).
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
    /// `resume` or `rollback` was asked of a job it cannot apply to.
    #[error(transparent)]
    Job(#[from] journal::JobRefused),
    /// `migrate` was given the same account as source and target.
    #[error(
        "--from and --to are the same {platform} account; give --from-profile or --profile to migrate between two accounts"
    )]
    SameAccount {
        /// The platform named by both.
        platform: model::PlatformKind,
    },
    /// A contact could not be written to or read back from a spool file.
    #[error("{what}")]
    Spool {
        /// What failed, for the message.
        what: &'static str,
        /// What the JSON encoder or parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A CSV report (`rollback`'s) could not be written.
    #[error("cannot write {}", path.display())]
    ReportCsv {
        /// The report file.
        path: std::path::PathBuf,
        /// What the CSV writer said.
        #[source]
        source: csv::Error,
    },
    /// The input could not be read to its end; the report of the rows
    /// before it was left aside, so it cannot pass for the file's.
    #[error(
        "{source} (the rows read before it are reported in {partial}, left incomplete; {} was not changed)",
        report.display()
    )]
    InputCutShort {
        /// Why reading stopped.
        #[source]
        source: source::SourceError,
        /// The incomplete report file(s), as shown to the user.
        partial: String,
        /// The report the run would have written.
        report: std::path::PathBuf,
    },
    /// The send stage's task failed (it panicked or was cancelled).
    #[error("the send stage failed")]
    SendStage(#[source] tokio::task::JoinError),
    /// The thread reading the input panicked (its panic message has been
    /// printed already; the payload carries nothing more).
    #[error("the reading thread panicked")]
    ReaderPanicked,
}
