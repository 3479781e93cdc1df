//! `waport import FILE --to PLATFORM`: the main job, as wiring of the write
//! half's stages (see [`crate::upload`]):
//!
//! ```text
//! read → map → normalize → dedupe ─▶ plan ─┬─▶ send ─▶ collect ─▶ report
//!            (pipeline thread)             └──────────▶ collect    + journal
//! ```
//!
//! The synchronous pipeline and the plan run on their own thread; the send
//! stage on the async runtime; the collect stage on this task puts every
//! row's outcome into the report (in input order) and the journal.

use crate::commands::validate::{
    RowsConfig, check_mapping, check_outputs, describe_source, load_mapping,
};
use crate::emulator::{self, EmulatorConfig, EmulatorHandle};
use crate::journal::{self, JobId, JobKind, JobState, Journal, NewJob, RowState};
use crate::model::ItemOutcome;
use crate::net::pace::{PaceSnapshot, format_rate};
use crate::pipeline::Pipeline;
use crate::platform::credentials::{Credentials, Secret};
use crate::platform::{AdapterOptions, Entity, Platform, PlatformKind, WriteMode, connect};
use crate::report::{Counts, ReportOptions, ReportWriter, Status, default_report_path};
use crate::source::{self, Source};
use crate::upload::collect::{Collector, JobLog, Planned};
use crate::upload::plan::{PlanOutput, Planner};
use crate::upload::retry::with_retries;
use crate::upload::{self, Cancel, UploadConfig, UploadHooks, UploadStats};
use crate::{Error, ExitStatus};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub use crate::upload::plan::content_hash;

/// Everything `import` needs, already checked by the binary.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    /// The rows and their report.
    pub rows: RowsConfig,
    /// Target platform.
    pub platform: PlatformKind,
    /// Contacts or users.
    pub entity: Entity,
    /// Create only, or create and update.
    pub mode: WriteMode,
    /// Read the platform, write nothing.
    pub dry_run: bool,
    /// Requests per second.
    pub rate: Option<f64>,
    /// Requests in flight.
    pub concurrency: usize,
    /// Items per request.
    pub batch_size: Option<usize>,
    /// Attempts per item.
    pub max_attempts: u32,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Import into an in-process emulator instead of the real platform.
    pub sandbox: bool,
    /// `--profile NAME` in `waport.toml`.
    pub profile: Option<String>,
    /// `--config PATH` (a `waport.toml`).
    pub config: Option<PathBuf>,
    /// Wazzup `responsibleUserId`.
    pub responsible_user: Option<String>,
    /// Whaapy bulk endpoint.
    pub whaapy_bulk: bool,
    /// `--journal PATH` (else `WAPORT_JOURNAL`, else the data dir).
    pub journal: Option<PathBuf>,
    /// Send every row even when unchanged since the last import.
    pub full: bool,
    /// Continue this job explicitly (`waport resume`).
    pub resume: Option<JobId>,
    /// The command line, for the journal (sanitized there).
    pub command_line: Vec<String>,
}

/// The account fingerprint a job records for these credentials: a hash of
/// the base URL and the secret, never the secret itself. The base URL is
/// part of the account: the same key against another host (an emulator on
/// another port) is another set of contacts.
pub fn account_fp(kind: PlatformKind, creds: &Credentials) -> String {
    let secret = match &creds.secret {
        Secret::ApiKey(k) => k.clone(),
        Secret::ClientPair { id, secret } => format!("{id}\n{secret}"),
    };
    journal::account_fingerprint(kind.name(), &format!("{}\n{secret}", creds.base_url))
}

/// The credentials an in-process emulator accepts, for `--sandbox`.
pub fn sandbox_credentials(kind: PlatformKind, base: &str, keys: &emulator::Keys) -> Credentials {
    let url = format!("{base}{}", emulator::prefix(kind));
    let first = |v: &[String]| v.first().cloned().unwrap_or_default();
    let secret = match kind {
        PlatformKind::Wazzup => Secret::ApiKey(first(&keys.wazzup)),
        PlatformKind::Whaapy => Secret::ApiKey(first(&keys.whaapy)),
        PlatformKind::Wipsy => Secret::ApiKey(first(&keys.wipsy)),
        PlatformKind::Wapiflow => {
            let (id, secret) = keys.wapiflow.first().cloned().unwrap_or_default();
            Secret::ClientPair { id, secret }
        }
    };
    Credentials::new(kind, &url, secret)
}

/// Opens the journal named by the flag, the environment or the default.
pub fn open_journal(path: Option<&PathBuf>) -> Result<Journal, Error> {
    Ok(match path {
        Some(p) => Journal::open(p),
        None => Journal::open_default(),
    }?)
}

/// A journal error as a command error.
pub fn jerr(e: journal::JournalError) -> Error {
    Error::from(e)
}

/// An input that is not a file (`migrate` streams another platform's
/// contacts), with a fingerprint standing in for the file's.
pub struct GivenSource {
    /// The records.
    pub source: Source,
    /// Content fingerprint, for resuming.
    pub fingerprint: String,
}

/// Runs `import` (and `resume`).
pub fn run(cfg: ImportConfig) -> Result<ExitStatus, Error> {
    run_with(cfg, None)
}

/// Runs an import of `given` records instead of `cfg.rows.input`'s file.
pub fn run_with(cfg: ImportConfig, given: Option<GivenSource>) -> Result<ExitStatus, Error> {
    crate::block_on(run_async(cfg, given))?
}

/// The platform an import writes to.
struct Target {
    platform: Arc<dyn Platform>,
    account_fp: String,
    /// The in-process emulator of `--sandbox`.
    sandbox: Option<EmulatorHandle>,
}

impl ImportConfig {
    /// The send stage's settings.
    fn upload_config(&self) -> UploadConfig {
        UploadConfig {
            entity: self.entity,
            mode: self.mode,
            rate: self.rate,
            concurrency: self.concurrency,
            batch_size: self.batch_size,
            max_attempts: self.max_attempts,
            dry_run: self.dry_run,
            ..UploadConfig::default()
        }
    }
}

/// Credentials (or the sandbox), the adapter, and its preflight check.
async fn connect_target(cfg: &ImportConfig) -> Result<Target, Error> {
    let mut sandbox = None;
    let creds = if cfg.sandbox {
        // The documented default keys, whatever the environment says: the
        // sandbox must never see a real key.
        let keys = emulator::Keys::defaults();
        let handle = emulator::start(EmulatorConfig {
            credentials: keys.clone(),
            ..EmulatorConfig::default()
        })
        .await?;
        let base = handle.base_url();
        if !cfg.rows.quiet {
            eprintln!("sandbox: emulator listening on {base}");
        }
        sandbox = Some(handle);
        sandbox_credentials(cfg.platform, &base, &keys)
    } else {
        Credentials::resolve(cfg.platform, cfg.profile.as_deref(), cfg.config.as_deref())?
    };
    let account_fp = account_fp(cfg.platform, &creds);
    let platform = connect(
        cfg.platform,
        creds,
        AdapterOptions {
            responsible_user: cfg.responsible_user.clone(),
            whaapy_bulk: cfg.whaapy_bulk,
            timeout: cfg.timeout,
            rate: cfg.rate,
        },
    )?;
    Ok(Target {
        platform,
        account_fp,
        sandbox,
    })
}

/// The journal side of a run that has one.
struct Job {
    log: Arc<JobLog>,
    lock: journal::TargetLock,
    planner: Planner,
}

impl Job {
    /// Ends the job by how the run went; a journal that failed during the
    /// run is the error (exit 1), whatever else happened.
    fn end(self, stats: &UploadStats, read_failed: bool, interrupted: bool) -> Result<(), Error> {
        let journal_failure = self.log.failure();
        let state = if stats.fatal().is_some() || read_failed || journal_failure.is_some() {
            JobState::Failed
        } else if interrupted {
            JobState::Interrupted
        } else {
            JobState::Finished
        };
        let ended = self.finish(state);
        if let Some(why) = journal_failure {
            // Ending the job may fail for the same reason; the cause is the
            // first failure.
            return Err(Error::JournalStopped(why));
        }
        ended
    }

    /// Ends the job in `state` and releases the account lock.
    fn finish(self, state: JobState) -> Result<(), Error> {
        self.log
            .with_journal(|j| j.end_job(self.log.job(), state))
            .transpose()?;
        // The lock file is removed on a best-effort basis: a stale one is
        // taken over by the next run (its process is gone).
        let _ = self.lock.release();
        Ok(())
    }
}

/// Opens the journal and starts or resumes this input's job; fills the
/// planner with what the journal knows. `cfg.mode` becomes the resumed
/// job's mode.
fn open_job(
    cfg: &mut ImportConfig,
    account_fp: &str,
    given_fp: Option<&str>,
) -> Result<Job, Error> {
    let mut j = open_journal(cfg.journal.as_ref())?;
    let fingerprint = match given_fp {
        Some(fp) => Some(fp.to_string()),
        None if cfg.rows.input == "-" => None,
        None => Some(journal::fingerprint_file(std::path::Path::new(
            &cfg.rows.input,
        ))?),
    };
    let entity = cfg.entity.name();
    let platform = cfg.platform.name();
    let resumable = match (cfg.resume, &fingerprint) {
        (Some(id), _) => Some(j.get_job(id)?),
        (None, Some(fp)) => j.find_resumable(fp, platform, account_fp, entity)?,
        (None, None) => None,
    };
    let lock = j.acquire_target_lock(platform, account_fp)?;
    let mut earlier: HashMap<u64, RowState> = HashMap::new();
    let job = match resumable {
        Some(job) => {
            let job = j.resume_job(job.id)?;
            earlier.extend(j.rows(job.id)?.into_iter().map(|r| (r.row, r)));
            // A resumed job keeps the mode it started with.
            cfg.mode = write_mode(job.mode);
            if !cfg.rows.quiet {
                eprintln!(
                    "resuming job {}: {} rows already recorded",
                    job.id,
                    earlier.len()
                );
            }
            job
        }
        None => {
            let job = j.start_job(&NewJob {
                kind: if given_fp.is_some() {
                    JobKind::Migrate
                } else {
                    JobKind::Import
                },
                command: journal::sanitize_args(&cfg.command_line),
                input_path: (cfg.rows.input != "-").then(|| cfg.rows.input.clone()),
                input_fingerprint: fingerprint,
                platform: platform.to_string(),
                account_fp: account_fp.to_string(),
                entity: entity.to_string(),
                mode: job_mode(cfg.mode),
                parent: None,
            })?;
            if !cfg.rows.quiet {
                eprintln!("job {}", job.id);
            }
            job
        }
    };
    lock.attach_job(job.id)?;
    // Loaded with --full too: what this account already had from waport
    // tells a create from an update.
    let deltas = j.last_sent_hashes(platform, account_fp, entity)?;
    Ok(Job {
        log: Arc::new(JobLog::new(j, job.id, cfg.mode)),
        lock,
        planner: Planner {
            earlier,
            deltas,
            full: cfg.full,
        },
    })
}

/// The journal's name for a write mode.
pub(crate) fn job_mode(m: WriteMode) -> journal::JobMode {
    match m {
        WriteMode::Create => journal::JobMode::Create,
        WriteMode::Upsert => journal::JobMode::Upsert,
        WriteMode::Update => journal::JobMode::Update,
    }
}

/// The write mode a journaled job ran in. A rollback job's `delete` has no
/// write mode; create is the one that never changes an existing contact.
pub(crate) fn write_mode(m: journal::JobMode) -> WriteMode {
    match m {
        journal::JobMode::Upsert => WriteMode::Upsert,
        journal::JobMode::Update => WriteMode::Update,
        journal::JobMode::Create | journal::JobMode::Delete => WriteMode::Create,
    }
}

/// Reads what the account already holds before the first write (see
/// [`Platform::prepare_writes`]), with a progress line at most once a
/// second, and prints the adapter's notes.
async fn read_account(cfg: &ImportConfig, platform: &dyn Platform) -> Result<(), Error> {
    let quiet = cfg.rows.quiet;
    let name = cfg.platform;
    let shown = std::sync::Mutex::new(Instant::now());
    let progress = move |done: u64, total: Option<u64>| {
        if quiet {
            return;
        }
        let mut last = shown.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= Duration::from_secs(1) || total == Some(done) {
            *last = Instant::now();
            let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
            eprintln!("{name}: reading the account's contacts: {done}{of}");
        }
    };
    let (notes, _) = with_retries(cfg.max_attempts, || platform.prepare_writes(&progress)).await?;
    if !quiet {
        for n in &notes {
            eprintln!("{name}: {n}");
        }
    }
    Ok(())
}

/// Raises `cancel` on Ctrl-C; the flag says it happened.
fn on_ctrl_c(cancel: &Cancel) -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let (cancel, flag) = (cancel.clone(), interrupted.clone());
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
            cancel.cancel();
            eprintln!(
                "\ninterrupted: sending stopped; waiting up to {} s for requests in flight, then writing the report (Ctrl-C again to quit now)",
                crate::upload::INTERRUPT_GRACE.as_secs()
            );
            // A second Ctrl-C quits at once. The journal stays consistent
            // (each write is one SQLite transaction): rows whose requests
            // were in flight stay `pending`, and the next run looks them up
            // before sending again.
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted again: quitting now; run the same command to resume");
                std::process::exit(i32::from(ExitStatus::Interrupted.code()));
            }
        }
    });
    interrupted
}

async fn run_async(mut cfg: ImportConfig, given: Option<GivenSource>) -> Result<ExitStatus, Error> {
    let started = Instant::now();
    // A report or rejects path that would destroy the input or the journal
    // is refused before anything else (a migrate's input is empty: only its
    // outputs and the journal are compared).
    check_outputs(&cfg.rows, cfg.journal.as_deref(), cfg.config.as_deref())?;
    let cancel = Cancel::new();
    let interrupted = on_ctrl_c(&cancel);
    // Credentials first: a missing key stops the run before the file is read.
    let target = connect_target(&cfg).await?;
    // Ctrl-C stops the preflight's reads too, not only the writes.
    target.platform.transport().set_cancel(cancel.clone());
    let (source, given_fp) = match given {
        Some(g) => (g.source, Some(g.fingerprint)),
        None => (source::open(&cfg.rows.input, &cfg.rows.read)?, None),
    };
    let mapping = load_mapping(&source.headers, cfg.rows.map_file.as_ref())?;
    check_mapping(&mapping, &cfg.rows.prepare)?;
    let platform = target.platform.clone();
    if let Err(e) = preflight(&cfg, platform.as_ref(), &source.info).await {
        if interrupted.load(Ordering::SeqCst) {
            eprintln!("interrupted before anything was sent");
            return Ok(ExitStatus::Interrupted);
        }
        return Err(e);
    }
    // The journal: not for dry runs (nothing is written to remember) nor for
    // the sandbox (its emulator starts empty every time).
    let mut job = if !cfg.dry_run && !cfg.sandbox {
        Some(open_job(&mut cfg, &target.account_fp, given_fp.as_deref())?)
    } else {
        None
    };
    let info = source.info.clone();
    let (mut writer, report_path) = open_report(&cfg, &source)?;
    // send
    let log = job.as_ref().map(|j| j.log.clone());
    let (item_tx, out_rx, sender) = start_send(&cfg, &platform, log.clone(), &cancel);
    // plan (with the read pipeline, on its own thread)
    let (planned_tx, planned_rx) = mpsc::channel(4096);
    let planner = job
        .as_mut()
        .map(|j| std::mem::take(&mut j.planner))
        .unwrap_or_default();
    let feeder = {
        let rows = Pipeline::new(source, mapping, cfg.rows.prepare.clone());
        let (stop, cancel) = (interrupted.clone(), cancel.clone());
        let out = PlanOutput {
            items: item_tx,
            planned: planned_tx,
            log: log.clone(),
        };
        std::thread::spawn(move || {
            let stopping = || stop.load(Ordering::SeqCst) || cancel.is_cancelled();
            crate::upload::plan::feed(rows, &planner, stopping, out)
        })
    };
    // collect
    collect(
        &cfg,
        platform.as_ref(),
        &mut writer,
        log.as_deref(),
        planned_rx,
        out_rx,
    )
    .await?;
    let stats: UploadStats = sender.await.map_err(Error::SendStage)?;
    let fed = feeder.join().map_err(|_| Error::ReaderPanicked)?;
    let counts = writer.finish()?;
    let was_interrupted = interrupted.load(Ordering::SeqCst) || stats.interrupted;
    if let Some(job) = job {
        job.end(&stats, fed.is_err(), was_interrupted)?;
    }
    fed?;
    if let Some(e) = stats.fatal() {
        return Err(Error::Platform(e.clone()));
    }
    let job_id = log.as_ref().map(|l| l.job());
    let run = RunFacts {
        elapsed: started.elapsed().as_secs_f64(),
        job: job_id,
        notes: platform.run_notes(),
    };
    summarize(&cfg, &counts, &stats, &run, &report_path, &info)?;
    if let Some(h) = target.sandbox {
        sandbox_summary(&cfg, h).await;
    }
    Ok(if was_interrupted {
        ExitStatus::Interrupted
    } else if counts.rejects_beyond(cfg.rows.max_invalid) {
        ExitStatus::RowsRejected
    } else {
        ExitStatus::Ok
    })
}

/// Starts the send stage on the runtime: items in, outcomes out, its
/// statistics when both channels are done.
fn start_send(
    cfg: &ImportConfig,
    platform: &Arc<dyn Platform>,
    log: Option<Arc<JobLog>>,
    cancel: &Cancel,
) -> (
    mpsc::Sender<crate::model::Item>,
    mpsc::Receiver<ItemOutcome>,
    tokio::task::JoinHandle<UploadStats>,
) {
    let (item_tx, item_rx) = mpsc::channel(2048);
    let (out_tx, out_rx) = mpsc::channel(2048);
    let hooks: Arc<dyn UploadHooks> = match log {
        Some(l) => l,
        None => Arc::new(upload::NoHooks),
    };
    let sender = tokio::spawn(upload::run(
        platform.clone(),
        cfg.upload_config(),
        item_rx,
        out_tx,
        hooks,
        cancel.clone(),
    ));
    (item_tx, out_rx, sender)
}

/// The platform's preflight (credentials; for Wazzup the responsible
/// user), then, for contacts, what the account already holds. The
/// preflight is a read: a passing 502 or dropped connection must not end
/// the run before it starts.
async fn preflight(
    cfg: &ImportConfig,
    platform: &dyn Platform,
    info: &crate::source::SourceInfo,
) -> Result<(), Error> {
    let check = async {
        let (notes, _) = with_retries(cfg.max_attempts, || platform.check()).await?;
        tracing::info!(
            "{}: credentials accepted; reading {} ({})",
            cfg.platform,
            cfg.rows.input,
            describe_source(info)
        );
        if !cfg.rows.quiet {
            for n in &notes {
                eprintln!("{}: {n}", cfg.platform);
            }
        }
        Ok::<(), Error>(())
    };
    // The account is read while the credentials are checked: both are
    // reads, and at 300 ms of latency a round trip saved is 3% of a 10 s
    // import (benches/upload.sh). The first error stops the other.
    let account = async {
        if cfg.entity == Entity::Contacts {
            read_account(cfg, platform).await?;
        }
        Ok::<(), Error>(())
    };
    tokio::try_join!(check, account)?;
    Ok(())
}

/// The report (and rejects) writer of this run, and the report's path.
fn open_report(cfg: &ImportConfig, source: &Source) -> Result<(ReportWriter, PathBuf), Error> {
    let report_path = cfg
        .rows
        .report
        .clone()
        .unwrap_or_else(|| default_report_path(&cfg.rows.input));
    let writer = ReportWriter::create(
        ReportOptions::for_input(
            report_path.clone(),
            cfg.rows.rejects.clone(),
            &source.info,
            cfg.rows.excel,
            true,
        ),
        &source.headers,
    )?;
    Ok((writer, report_path))
}

/// The collect stage's loop: every planned row and every outcome into the
/// report and journal, until both streams end.
async fn collect(
    cfg: &ImportConfig,
    platform: &dyn Platform,
    writer: &mut ReportWriter,
    log: Option<&JobLog>,
    mut planned: mpsc::Receiver<Planned>,
    mut outcomes: mpsc::Receiver<ItemOutcome>,
) -> Result<(), Error> {
    let progress = import_progress(cfg);
    let mut collector = Collector::new(writer, log, cfg.mode);
    let (mut planned_open, mut out_open) = (true, true);
    let mut shown = Instant::now();
    while planned_open || out_open {
        tokio::select! {
            p = planned.recv(), if planned_open => match p {
                Some(p) => collector.planned(p)?,
                None => planned_open = false,
            },
            o = outcomes.recv(), if out_open => match o {
                Some(o) => collector.outcome(o)?,
                None => out_open = false,
            },
        }
        if !progress.is_hidden() && shown.elapsed() >= Duration::from_millis(100) {
            shown = Instant::now();
            let pace = platform.transport().pace_snapshot();
            show_progress(&progress, collector.counts(), collector.in_flight(), &pace);
        }
    }
    collector.flush();
    progress.finish_and_clear();
    Ok(())
}

/// One progress line: rows done so far by status, rows in flight, and the
/// pace — with, after a 429, that waport slowed down because the platform
/// asked it to.
fn show_progress(
    progress: &indicatif::ProgressBar,
    c: &Counts,
    in_flight: usize,
    pace: &PaceSnapshot,
) {
    progress.set_position(c.rows);
    let elapsed = progress.elapsed().as_secs_f64();
    let rows_per_s = if elapsed > 0.0 {
        (c.rows as f64 / elapsed).round() as u64
    } else {
        0
    };
    progress.set_message(format!(
        "{rows_per_s} rows/s · pace {} · {in_flight} in flight · created {} · updated {} · unchanged {} · rejected {}",
        pace_text(pace),
        c.get(Status::Created),
        c.get(Status::Updated),
        c.get(Status::Unchanged),
        c.get(Status::Invalid) + c.get(Status::Failed) + c.get(Status::Skipped),
    ));
}

/// `98/s`, or `52/s (slowed down from 100/s: the platform answered 429 ×3)`.
pub fn pace_text(p: &PaceSnapshot) -> String {
    if p.slowed {
        format!(
            "{} (slowed down from {}: the platform answered 429 ×{})",
            format_rate(p.rate),
            format_rate(p.ceiling),
            p.throttled
        )
    } else {
        format_rate(p.rate)
    }
}

/// What the sandbox emulator holds after the run; then it stops.
async fn sandbox_summary(cfg: &ImportConfig, h: EmulatorHandle) {
    if !cfg.rows.quiet {
        let held = h.contacts(cfg.platform);
        let n = held.as_array().map(|a| a.len()).unwrap_or(0);
        eprintln!(
            "sandbox: the emulator now holds {n} {} contact(s); stats: {}",
            cfg.platform,
            h.stats()[cfg.platform.name()]
        );
    }
    let _ = h.shutdown().await;
}

/// The progress bar of an import: on a terminal only, never with
/// `--quiet` or `--json`. The row total is estimated from the CSV's line
/// count (a quick scan) so an ETA can be shown; spreadsheets and standard
/// input get a counter without one.
fn import_progress(cfg: &ImportConfig) -> indicatif::ProgressBar {
    use std::io::{IsTerminal, Read};
    if cfg.rows.quiet || cfg.rows.json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let lines = (|| {
        let lower = cfg.rows.input.to_ascii_lowercase();
        if cfg.rows.input == "-"
            || [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"]
                .iter()
                .any(|e| lower.ends_with(e))
        {
            return None;
        }
        let mut f = std::fs::File::open(&cfg.rows.input).ok()?;
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0u64;
        loop {
            let k = f.read(&mut buf).ok()?;
            if k == 0 {
                break;
            }
            n += buf[..k].iter().filter(|b| **b == b'\n').count() as u64;
        }
        Some(n.saturating_sub(1))
    })();
    let (pb, template) = match lines {
        Some(total) => (
            indicatif::ProgressBar::new(total),
            "{bar:30} {pos}/~{len} rows · ETA {eta} · {msg}",
        ),
        None => (
            indicatif::ProgressBar::no_length(),
            "{spinner} {pos} rows · {elapsed} · {msg}",
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        pb.set_style(style);
    }
    pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// What the summary says about the run beyond the counts.
struct RunFacts {
    elapsed: f64,
    job: Option<JobId>,
    /// The adapter's notes on the whole run ([`Platform::run_notes`]).
    notes: Vec<String>,
}

fn summarize(
    cfg: &ImportConfig,
    counts: &Counts,
    stats: &UploadStats,
    run: &RunFacts,
    report_path: &std::path::Path,
    info: &crate::source::SourceInfo,
) -> Result<(), Error> {
    let (elapsed, job) = (run.elapsed, run.job);
    if cfg.rows.json {
        let mut m = counts.to_json(Status::IMPORT);
        if cfg.dry_run {
            m.insert("valid".into(), json!(counts.get(Status::Valid)));
        }
        m.insert("requests".into(), json!(stats.requests));
        m.insert("retries".into(), json!(stats.retries));
        m.insert("rate_limited".into(), json!(stats.rate_limited));
        m.insert("slowdowns".into(), json!(stats.pace.slowdowns));
        m.insert("pace".into(), json!(format_rate(stats.pace.rate)));
        m.insert(
            "pace_per_min".into(),
            json!((stats.pace.rate * 60.0).round() as u64),
        );
        m.insert(
            "pace_ceiling_per_min".into(),
            json!((stats.pace.ceiling * 60.0).round() as u64),
        );
        m.insert(
            "elapsed_s".into(),
            json!((elapsed * 1000.0).round() / 1000.0),
        );
        m.insert("platform".into(), json!(cfg.platform.name()));
        m.insert("dry_run".into(), json!(cfg.dry_run));
        if let Some(j) = job {
            m.insert("job".into(), json!(j.to_string()));
        }
        if !run.notes.is_empty() {
            m.insert("notes".into(), json!(run.notes));
        }
        crate::print(&format!("{}\n", Value::Object(m)))?;
    }
    if cfg.rows.quiet {
        return Ok(());
    }
    let statuses: &[Status] = if cfg.dry_run {
        &[
            Status::Valid,
            Status::Exists,
            Status::Duplicate,
            Status::Invalid,
            Status::Failed,
            Status::Skipped,
        ]
    } else {
        Status::IMPORT
    };
    eprint!(
        "{} ({}) → {}{}\n{}{} requests, {} retries, {} rate-limited (waited out), {:.1} s\npace at the end: {}\nreport: {}\n",
        cfg.rows.input,
        describe_source(info),
        cfg.platform,
        if cfg.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        },
        counts.human(statuses),
        stats.requests,
        stats.retries,
        stats.rate_limited,
        elapsed,
        pace_text(&stats.pace),
        report_path.display()
    );
    if let Some(h) = &stats.halt {
        eprintln!("stopped early: {}", h.reason);
    }
    for n in &run.notes {
        eprintln!("note: {n}");
    }
    if let Some(r) = &cfg.rows.rejects {
        let style = crate::report::CsvStyle::rejects_for(info, cfg.rows.excel);
        eprintln!("{}", counts.rejects_line(r, &style));
    }
    Ok(())
}
