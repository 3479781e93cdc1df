//! Why `resume` or `rollback` refuses a job the journal holds. Here, not
//! in `commands`, so the crate's `Error` can carry it without pointing up
//! to the commands.

use super::{JobId, JobKind};
use crate::model::PlatformKind;

/// Why `resume` or `rollback` refuses the job it was given.
#[derive(Debug, thiserror::Error)]
pub enum JobRefused {
    /// Only imports resume.
    #[error(
        "job {job} is a {kind} job; only imports can be resumed (run the migrate again: it continues where it stopped)"
    )]
    NotAnImport {
        /// The job named.
        job: JobId,
        /// What it is instead.
        kind: JobKind,
    },
    /// The job has nothing left to do.
    #[error("job {job} already finished; nothing to resume")]
    Finished {
        /// The job named.
        job: JobId,
    },
    /// The job's input was standard input, gone once read.
    #[error(
        "job {job} read standard input, which cannot be read again; run the import again instead"
    )]
    ReadStandardInput {
        /// The job named.
        job: JobId,
    },
    /// A rollback deletes; there is nothing to undo it with.
    #[error("job {job} is itself a rollback; it cannot be rolled back")]
    RollbackOfRollback {
        /// The job named.
        job: JobId,
    },
    /// The credentials in use reach another account than the job's.
    #[error(
        "the {platform} credentials in use are for another account (or base URL) than job {job} used; set the same credentials and try again"
    )]
    OtherAccount {
        /// The job named.
        job: JobId,
        /// Its platform.
        platform: PlatformKind,
    },
    /// The journal names a platform this build does not know (a journal
    /// written by another version, or edited by hand).
    #[error("unknown platform \"{stored}\" (expected wazzup, whaapy, wipsy or wapiflow)")]
    UnknownPlatform {
        /// The name in the journal.
        stored: String,
    },
    /// The journal names an entity this build does not know.
    #[error("unknown entity \"{stored}\" (expected contacts or users)")]
    UnknownEntity {
        /// The name in the journal.
        stored: String,
    },
}
