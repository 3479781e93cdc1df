//! A row's status: the one vocabulary of the report, the journal and the
//! upload stages.

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Would be accepted (validate).
    Valid,
    /// Rejected by waport or the platform; `reason` says why.
    Invalid,
    /// Same key as an earlier row; `duplicate_of` names it.
    Duplicate,
    /// Created on the platform.
    Created,
    /// Updated on the platform.
    Updated,
    /// Identical to what the last import sent: nothing sent.
    Unchanged,
    /// Already on the platform (create mode): left alone.
    Exists,
    /// Could not be sent after retries.
    Failed,
    /// Not attempted (quota reached, interrupted).
    Skipped,
}

impl Status {
    /// Statuses `validate` reports.
    pub const VALIDATE: &'static [Status] = &[Status::Valid, Status::Invalid, Status::Duplicate];
    /// Statuses an import reports (with their JSON counts always present).
    pub const IMPORT: &'static [Status] = &[
        Status::Created,
        Status::Updated,
        Status::Unchanged,
        Status::Exists,
        Status::Duplicate,
        Status::Invalid,
        Status::Failed,
        Status::Skipped,
    ];

    /// The name written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Duplicate => "duplicate",
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::Exists => "exists",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    /// Parses a name written by [`Status::as_str`].
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Valid,
            Status::Invalid,
            Status::Duplicate,
            Status::Created,
            Status::Updated,
            Status::Unchanged,
            Status::Exists,
            Status::Failed,
            Status::Skipped,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Whether this status makes the run exit with code 3.
    pub fn is_rejection(self) -> bool {
        matches!(self, Status::Invalid | Status::Failed | Status::Skipped)
    }
}
