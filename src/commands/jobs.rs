//! `waport jobs`, `waport resume JOB`, `waport rollback JOB`: the journal's
//! commands.

use crate::commands::export::connect_platform;
use crate::commands::import::{ImportConfig, account_fp, jerr, open_journal};
use crate::journal::{
    self, JobId, JobKind, JobRefused, JobState, NewJob, Outcome, RowOutcome, RowRecord as JRow,
};
use crate::platform::credentials::Credentials;
use crate::platform::{Entity, PlatformError, PlatformKind};
use crate::safety;
use crate::upload::retry::with_retries;
use crate::{Error, ExitStatus};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// `waport jobs`.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Journal path override.
    pub journal: Option<PathBuf>,
    /// Most recent jobs to show.
    pub limit: usize,
    /// JSON lines instead of a table.
    pub json: bool,
}

/// Lists jobs, newest first.
pub fn list(cfg: JobsConfig) -> Result<ExitStatus, Error> {
    // Listing only reads: open read-only, so it works on a read-only file
    // system and never creates a journal where there was none.
    let path = match &cfg.journal {
        Some(p) => p.clone(),
        None => crate::journal::resolve_default_path_in(
            |name| std::env::var_os(name),
            crate::dirs::data_dir(),
        )?,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let w = Error::Stdout;
    let Some(j) = journal::Journal::open_read_only(&path)? else {
        if !cfg.json {
            writeln!(out, "no jobs in {}", path.display()).map_err(w)?;
        }
        return Ok(ExitStatus::Ok);
    };
    let jobs = j.list_jobs(cfg.limit)?;
    if cfg.json {
        for s in &jobs {
            writeln!(out, "{}", json!({"job": s.job, "counts": s.counts})).map_err(w)?;
        }
        return Ok(ExitStatus::Ok);
    }
    if jobs.is_empty() {
        writeln!(out, "no jobs in {}", j.path().display()).map_err(w)?;
        return Ok(ExitStatus::Ok);
    }
    writeln!(
        out,
        "{:<6} {:<8} {:<11} {:<9} {:<8} {:<19} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7}  input",
        "job",
        "kind",
        "state",
        "platform",
        "entity",
        "started (UTC)",
        "rows",
        "created",
        "updated",
        "unchanged",
        "invalid",
        "failed"
    )
    .map_err(w)?;
    for s in &jobs {
        let c = &s.counts;
        writeln!(
            out,
            "{:<6} {:<8} {:<11} {:<9} {:<8} {:<19} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7}  {}",
            s.job.id.to_string(),
            s.job.kind.as_str(),
            s.job.state.as_str(),
            s.job.platform,
            s.job.entity,
            crate::time::rfc3339(s.job.started_at),
            c.total(),
            c.created,
            c.updated,
            c.unchanged,
            c.invalid,
            c.failed + c.skipped,
            s.job
                .input_path
                .clone()
                .or_else(|| s.job.parent.map(|p| format!("(rollback of {p})")))
                .unwrap_or_default()
        )
        .map_err(w)?;
    }
    Ok(ExitStatus::Ok)
}

/// The entity a journaled job wrote.
fn entity_of(stored: &str) -> Result<Entity, JobRefused> {
    stored.parse().map_err(|_| JobRefused::UnknownEntity {
        stored: stored.trim().to_ascii_lowercase(),
    })
}

/// The platform a journaled job names.
fn platform_of(stored: &str) -> Result<PlatformKind, JobRefused> {
    stored.parse().map_err(|_| JobRefused::UnknownPlatform {
        stored: stored.to_string(),
    })
}

/// Builds the import that continues `job`, keeping its input, target,
/// entity and mode; `base` carries the reading and upload flags given now.
pub fn resume_config(mut base: ImportConfig, job: JobId) -> Result<ImportConfig, Error> {
    let j = open_journal(base.journal.as_ref())?;
    let stored = j.get_job(job).map_err(jerr)?;
    if stored.kind != JobKind::Import {
        return Err(JobRefused::NotAnImport {
            job,
            kind: stored.kind,
        }
        .into());
    }
    if stored.state == JobState::Finished {
        return Err(JobRefused::Finished { job }.into());
    }
    let Some(input) = stored.input_path.clone() else {
        return Err(JobRefused::ReadStandardInput { job }.into());
    };
    base.platform = platform_of(&stored.platform)?;
    base.entity = entity_of(&stored.entity)?;
    base.mode = crate::commands::import::write_mode(stored.mode);
    base.rows.prepare.platform = Some(base.platform);
    base.rows.input = input;
    base.resume = Some(job);
    Ok(base)
}

/// `waport rollback JOB`.
#[derive(Debug, Clone)]
pub struct RollbackConfig {
    /// The job whose creations to delete.
    pub job: JobId,
    /// Journal path override.
    pub journal: Option<PathBuf>,
    /// Show what would be deleted; delete nothing.
    pub dry_run: bool,
    /// Report path (default `rollback-<job>.report.csv`).
    pub report: Option<PathBuf>,
    /// Requests per second.
    pub rate: Option<f64>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts per delete.
    pub max_attempts: u32,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// One JSON summary on stdout.
    pub json: bool,
    /// No summary on stderr.
    pub quiet: bool,
}

/// Deletes what a job created (not what it updated).
pub fn rollback(cfg: RollbackConfig) -> Result<ExitStatus, Error> {
    if let (Some(report), Some(journal)) =
        (&cfg.report, safety::journal_path(cfg.journal.as_deref()))
    {
        safety::check_outputs(
            &safety::journal_files(&journal),
            &[safety::Named::new("--report", report)],
        )?;
    }
    let mut j = open_journal(cfg.journal.as_ref())?;
    let job = j.get_job(cfg.job).map_err(jerr)?;
    if job.kind == JobKind::Rollback {
        return Err(JobRefused::RollbackOfRollback { job: job.id }.into());
    }
    let kind = platform_of(&job.platform)?;
    let creds = Credentials::resolve(kind, cfg.profile.as_deref(), cfg.config.as_deref())
        .map_err(Error::from)?;
    if account_fp(kind, &creds) != job.account_fp {
        return Err(JobRefused::OtherAccount {
            job: job.id,
            platform: kind,
        }
        .into());
    }
    let created: Vec<_> = j
        .created_by(job.id)
        .map_err(jerr)?
        .into_iter()
        .filter(|c| !c.rolled_back)
        .collect();
    let report_path = cfg
        .report
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("rollback-{}.report.csv", job.id)));
    let werr = |source: csv::Error| Error::ReportCsv {
        path: report_path.clone(),
        source,
    };
    let mut report = csv::Writer::from_path(&report_path).map_err(werr)?;
    report
        .write_record(["row", "status", "reason", "remote_id", "dedupe_key"])
        .map_err(werr)?;
    let mut counts = std::collections::BTreeMap::<&'static str, u64>::new();
    if cfg.dry_run {
        for c in &created {
            report
                .write_record([
                    c.row.to_string().as_str(),
                    "would_delete",
                    "dry_run",
                    &c.remote_id,
                    &c.dedupe_key,
                ])
                .map_err(werr)?;
            *counts.entry("would_delete").or_default() += 1;
        }
    } else if !created.is_empty() {
        delete_created(&mut j, &job, &cfg, &created, &mut |row, status, reason| {
            *counts.entry(status).or_default() += 1;
            report
                .write_record([
                    row.row.to_string().as_str(),
                    status,
                    reason,
                    &row.remote_id,
                    &row.dedupe_key,
                ])
                .map_err(werr)
        })?;
    }
    report.flush().map_err(|e| werr(e.into()))?;
    rollback_summary(&cfg, &job, kind, created.len(), &counts, &report_path)?;
    Ok(if counts.contains_key("failed") {
        ExitStatus::RowsRejected
    } else {
        ExitStatus::Ok
    })
}

/// Deletes, one by one, the contacts job `job` created (rollback's write
/// half): starts the rollback job under the account lock, journals each
/// outcome, and hands each row's status to `on_row` for the report.
fn delete_created(
    j: &mut journal::Journal,
    job: &journal::Job,
    cfg: &RollbackConfig,
    created: &[journal::CreatedRow],
    on_row: &mut dyn FnMut(&journal::CreatedRow, &'static str, &str) -> Result<(), Error>,
) -> Result<(), Error> {
    let kind = platform_of(&job.platform)?;
    let entity = entity_of(&job.entity)?;
    let lock = j
        .acquire_target_lock(kind.name(), &job.account_fp)
        .map_err(jerr)?;
    let rb = j
        .start_job(&NewJob {
            kind: JobKind::Rollback,
            command: format!("waport rollback {}", job.id),
            input_path: None,
            input_fingerprint: None,
            platform: job.platform.clone(),
            account_fp: job.account_fp.clone(),
            entity: job.entity.clone(),
            mode: journal::JobMode::Delete,
            parent: Some(job.id),
        })
        .map_err(jerr)?;
    lock.attach_job(rb.id).map_err(jerr)?;
    let platform = connect_platform(
        kind,
        cfg.profile.as_deref(),
        cfg.config.as_deref(),
        cfg.rate,
        cfg.timeout,
    )?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let mut failed = false;
    let mut outcomes = Vec::new();
    let mut unsupported: Option<String> = None;
    // Wazzup deletes up to 100 ids a call (`PATCH /contacts/bulk_delete`);
    // the others one at a time. Either way only ids the journal recorded as
    // `created` by this job are sent (`created_by`), never one it found.
    let per_call = platform.delete_batch(entity).max(1);
    for chunk in created.chunks(per_call) {
        let answers: Vec<Result<bool, PlatformError>> = if unsupported.is_some() {
            Vec::new()
        } else if per_call == 1 {
            chunk
                .iter()
                .map(|c| {
                    rt.block_on(with_retries(cfg.max_attempts, || {
                        platform.delete(entity, &c.remote_id)
                    }))
                    .map(|_| true)
                })
                .collect()
        } else {
            let ids: Vec<String> = chunk.iter().map(|c| c.remote_id.clone()).collect();
            match rt.block_on(with_retries(cfg.max_attempts, || {
                platform.delete_many(entity, &ids)
            })) {
                Ok((known, _)) => chunk
                    .iter()
                    .enumerate()
                    .map(|(k, _)| Ok(known.get(k).copied().unwrap_or(false)))
                    .collect(),
                Err(e) => chunk.iter().map(|_| Err(e.clone())).collect(),
            }
        };
        for (k, c) in chunk.iter().enumerate() {
            let (status, reason, jrow) =
                delete_outcome(&c.remote_id, answers.get(k), &mut unsupported);
            failed |= status == "failed";
            on_row(c, status, &reason)?;
            outcomes.push(RowOutcome::new(c.row, &c.dedupe_key, "", jrow));
            if outcomes.len() >= 200 {
                j.record_outcomes(rb.id, &outcomes).map_err(jerr)?;
                outcomes.clear();
            }
        }
    }
    j.record_outcomes(rb.id, &outcomes).map_err(jerr)?;
    let state = if failed {
        JobState::Failed
    } else {
        JobState::Finished
    };
    j.end_job(rb.id, state).map_err(jerr)?;
    let _ = lock.release();
    Ok(())
}

/// A rollback row's status, reason and journal record from the delete's
/// answer (`None`: no answer for this id). An `Unsupported` answer is
/// remembered in `unsupported`, so the remaining rows are not sent.
fn delete_outcome(
    remote_id: &str,
    answer: Option<&Result<bool, PlatformError>>,
    unsupported: &mut Option<String>,
) -> (&'static str, String, JRow) {
    let failed = |why: String| ("failed", why.clone(), JRow::Failed { reason: why });
    if let Some(why) = unsupported {
        return failed(why.clone());
    }
    let confirmed = |outcome| JRow::Confirmed {
        outcome,
        remote_id: remote_id.to_string(),
    };
    match answer {
        None => failed("delete_failed: no answer for this id".into()),
        Some(Ok(true)) => ("deleted", String::new(), confirmed(Outcome::Deleted)),
        Some(Ok(false) | Err(PlatformError::Http { status: 404, .. })) => (
            "gone",
            "already deleted on the platform".to_string(),
            confirmed(Outcome::Gone),
        ),
        Some(Err(e @ PlatformError::Unsupported { .. })) => {
            let why = format!("cannot_delete: {e}");
            *unsupported = Some(why.clone());
            failed(why)
        }
        Some(Err(e)) => failed(format!("delete_failed: {e}")),
    }
}

/// The rollback's summary: one JSON object on stdout with `--json`, one
/// line on stderr unless `--quiet`.
fn rollback_summary(
    cfg: &RollbackConfig,
    job: &journal::Job,
    kind: PlatformKind,
    total: usize,
    counts: &std::collections::BTreeMap<&'static str, u64>,
    report_path: &std::path::Path,
) -> Result<(), Error> {
    if cfg.json {
        let mut m = serde_json::Map::new();
        m.insert("job".into(), json!(job.id.to_string()));
        m.insert("contacts".into(), json!(total));
        for k in ["deleted", "gone", "failed", "would_delete"] {
            m.insert(k.into(), json!(counts.get(k).copied().unwrap_or(0)));
        }
        m.insert("dry_run".into(), json!(cfg.dry_run));
        crate::print(&format!("{}\n", serde_json::Value::Object(m)))?;
    }
    if !cfg.quiet {
        let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        eprintln!(
            "rollback of {} on {kind}: {total} contact(s) it created{}{}\nreport: {}",
            job.id,
            if parts.is_empty() {
                String::new()
            } else {
                format!(": {}", parts.join(", "))
            },
            if cfg.dry_run {
                " (dry run: nothing deleted)"
            } else {
                ""
            },
            report_path.display()
        );
    }
    Ok(())
}
