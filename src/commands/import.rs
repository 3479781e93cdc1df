//! `waport import FILE --to PLATFORM`: the main job.
//!
//! The synchronous pipeline (read → map → normalize → dedupe) runs on its
//! own thread and feeds the asynchronous uploader; a collector on the main
//! thread puts every row's outcome into the report (in input order) and the
//! journal. Rows that need no request (invalid, duplicate, unchanged since
//! the last import, already confirmed by an interrupted run) never reach
//! the uploader.

use crate::commands::validate::{RowsConfig, check_outputs, describe_source, load_mapping};
use crate::emulator::{self, EmulatorConfig, EmulatorHandle};
use crate::journal::{
    self, JobId, JobKind, JobState, Journal, NewJob, Outcome, RowIntent, RowOutcome,
    RowResult as JRow, RowState, RowStatus,
};
use crate::pipeline::{Pipeline, PrepareOptions, Prepared};
use crate::platform::credentials::{Credentials, Secret};
use crate::platform::{AdapterOptions, Entity, Mode, Platform, PlatformKind, connect};
use crate::report::{Counts, ReportOptions, ReportWriter, RowResult, Status, default_report_path};
use crate::source::{self, Source};
use crate::upload::retry::with_retries;
use crate::upload::{self, Cancel, Item, ItemOutcome, UploadConfig, UploadHooks, UploadStats};
use crate::{Error, ExitStatus};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

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
    pub mode: Mode,
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

/// Content hash of a normalized contact: what a nightly load compares.
pub fn content_hash(contact: &crate::contact::Contact) -> String {
    let bytes = serde_json::to_vec(contact).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
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
pub fn sandbox_credentials(
    kind: PlatformKind,
    base: &str,
    keys: &emulator::Credentials,
) -> Credentials {
    let first = |v: &[String]| v.first().cloned().unwrap_or_default();
    match kind {
        PlatformKind::Wazzup => Credentials::new(
            kind,
            &format!("{base}/wazzup/v3"),
            Secret::ApiKey(first(&keys.wazzup)),
        ),
        PlatformKind::Whaapy => Credentials::new(
            kind,
            &format!("{base}/whaapy"),
            Secret::ApiKey(first(&keys.whaapy)),
        ),
        PlatformKind::Wipsy => Credentials::new(
            kind,
            &format!("{base}/wipsy/functions/v1"),
            Secret::ApiKey(first(&keys.wipsy)),
        ),
        PlatformKind::Wapiflow => {
            Credentials::new(kind, &format!("{base}/wapiflow/external-api"), {
                let (id, secret) = keys.wapiflow.first().cloned().unwrap_or_default();
                Secret::ClientPair { id, secret }
            })
        }
    }
}

/// Opens the journal named by the flag, the environment or the default.
pub fn open_journal(path: Option<&PathBuf>) -> Result<Journal, Error> {
    let j = match path {
        Some(p) => Journal::open(p),
        None => Journal::open_default(),
    };
    j.map_err(|e| Error::Message(e.to_string()))
}

/// A journal error as a command error.
pub fn jerr(e: journal::JournalError) -> Error {
    Error::Message(e.to_string())
}

/// What the journal needs of a row handed to the uploader.
#[derive(Debug, Clone, Default)]
struct Intent {
    key: String,
    hash: String,
    /// The remote id this account already had for the key, if any.
    known: String,
}

/// What an answer of `created` really means.
///
/// - For an id the journal already knew for the key, it is an update
///   (Wazzup's upsert answers the same for both).
/// - In create mode, a contact found after a lost answer (`lost_answer`)
///   was made by the earlier attempt, or was there before with only the
///   "duplicate" answer lost: no answer tells which. It is reported
///   `exists`, never `created`, so a rollback cannot delete a contact the
///   user had before; at worst it leaves one an earlier attempt made.
fn settle(o: &ItemOutcome, known: &str, mode: Mode) -> Status {
    if o.status != Status::Created {
        o.status
    } else if !known.is_empty() && known == o.remote_id {
        Status::Updated
    } else if mode == Mode::Create && o.reason.starts_with("lost_answer") {
        Status::Exists
    } else {
        o.status
    }
}

/// The journal side of a run: the job, and the rows' keys and hashes until
/// their outcome is written.
struct JobLog {
    journal: Mutex<Journal>,
    job: JobId,
    /// Rows handed to the uploader, by seq.
    intents: Mutex<HashMap<u64, Intent>>,
    failed: AtomicBool,
    /// The run's write mode (see [`settle`]).
    mode: Mode,
}

impl JobLog {
    fn record(&self, outcomes: &[RowOutcome]) {
        if outcomes.is_empty() {
            return;
        }
        if let Ok(mut j) = self.journal.lock()
            && let Err(e) = j.record_outcomes(self.job, outcomes)
            && !self.failed.swap(true, Ordering::SeqCst)
        {
            eprintln!("waport: warning: journal write failed: {e}");
        }
    }
}

impl UploadHooks for JobLog {
    fn before_send(&self, items: &[Item]) {
        let intents: Vec<RowIntent> = {
            let map = self.intents.lock().unwrap_or_else(|p| p.into_inner());
            items
                .iter()
                .map(|it| {
                    let i = map.get(&it.seq).cloned().unwrap_or_default();
                    RowIntent {
                        row: it.row,
                        dedupe_key: i.key,
                        content_hash: i.hash,
                    }
                })
                .collect()
        };
        if let Ok(mut j) = self.journal.lock()
            && let Err(e) = j.mark_pending(self.job, &intents)
            && !self.failed.swap(true, Ordering::SeqCst)
        {
            eprintln!("waport: warning: journal write failed: {e}");
        }
    }

    fn after(&self, outcomes: &[ItemOutcome]) {
        let rows: Vec<RowOutcome> = {
            let mut map = self.intents.lock().unwrap_or_else(|p| p.into_inner());
            outcomes
                .iter()
                .filter_map(|o| {
                    let known = map.remove(&o.seq).map(|i| i.known).unwrap_or_default();
                    let status = settle(o, &known, self.mode);
                    journal_result(status, &o.remote_id, &o.reason)
                        .map(|r| RowOutcome::of_sent(o.row, r))
                })
                .collect()
        };
        self.record(&rows);
    }
}

/// The journal's form of a report status; `None` for dry-run answers.
fn journal_result(status: Status, remote_id: &str, reason: &str) -> Option<JRow> {
    let confirmed = |outcome| JRow::Confirmed {
        outcome,
        remote_id: remote_id.to_string(),
    };
    let reason = reason.to_string();
    Some(match status {
        Status::Created => confirmed(Outcome::Created),
        Status::Updated => confirmed(Outcome::Updated),
        Status::Exists => confirmed(Outcome::Exists),
        Status::Unchanged => JRow::Unchanged {
            remote_id: remote_id.to_string(),
        },
        Status::Invalid => JRow::Invalid { reason },
        Status::Duplicate => JRow::Duplicate { reason },
        Status::Failed => JRow::Failed { reason },
        Status::Skipped => JRow::Skipped { reason },
        Status::Valid => return None,
    })
}

/// A row's report line before its outcome is known.
struct Pending {
    base: RowResult,
}

enum Direct {
    /// A final result decided without a request.
    Done(RowResult, Option<RowOutcome>),
    /// A row handed to the uploader: its report base.
    Sent(RowResult),
}

/// What the feeder decided for one valid row.
enum Plan {
    Send,
    Done(Status, String, String),
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Message(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(run_async(cfg, given))
}

async fn run_async(mut cfg: ImportConfig, given: Option<GivenSource>) -> Result<ExitStatus, Error> {
    let started = Instant::now();
    // A report or rejects path that would destroy the input or the journal
    // is refused before anything else (a migrate's input is empty: only its
    // outputs and the journal are compared).
    check_outputs(&cfg.rows, cfg.journal.as_deref(), cfg.config.as_deref())?;
    // Credentials first: a missing key stops the run before the file is read.
    let mut sandbox: Option<EmulatorHandle> = None;
    let creds = if cfg.sandbox {
        // The documented default keys, whatever the environment says: the
        // sandbox must never see a real key.
        let keys = emulator::Credentials::defaults();
        let handle = emulator::start(EmulatorConfig {
            credentials: keys.clone(),
            ..EmulatorConfig::default()
        })
        .await
        .map_err(|e| Error::Message(format!("cannot start the sandbox emulator: {e}")))?;
        let base = handle.base_url();
        if !cfg.rows.quiet {
            eprintln!("sandbox: emulator listening on {base}");
        }
        sandbox = Some(handle);
        sandbox_credentials(cfg.platform, &base, &keys)
    } else {
        Credentials::resolve(cfg.platform, cfg.profile.as_deref(), cfg.config.as_deref())
            .map_err(|e| Error::Message(e.to_string()))?
    };
    let (source, given_fp) = match given {
        Some(g) => (g.source, Some(g.fingerprint)),
        None => (source::open(&cfg.rows.input, &cfg.rows.read)?, None),
    };
    let mapping = load_mapping(&source.headers, cfg.rows.map_file.as_ref())?;
    let platform = connect(
        cfg.platform,
        creds.clone(),
        AdapterOptions {
            responsible_user: cfg.responsible_user.clone(),
            whaapy_bulk: cfg.whaapy_bulk,
            timeout: cfg.timeout,
            rate: cfg.rate,
        },
    )
    .map_err(|e| Error::Message(e.to_string()))?;
    // The preflight is a read: a passing 502 or dropped connection must not
    // end the run before it starts.
    let (notes, _) = with_retries(cfg.max_attempts, || platform.check())
        .await
        .map_err(|e| Error::Message(e.to_string()))?;
    if !cfg.rows.quiet {
        for n in &notes {
            eprintln!("{}: {n}", cfg.platform);
        }
    }
    let account_fp = account_fp(cfg.platform, &creds);

    // The journal: not for dry runs (nothing is written to remember) nor for
    // the sandbox (its emulator starts empty every time).
    let use_journal = !cfg.dry_run && !cfg.sandbox;
    let mut log: Option<Arc<JobLog>> = None;
    let mut lock = None;
    let mut earlier: HashMap<u64, RowState> = HashMap::new();
    let mut deltas: HashMap<String, (String, String)> = HashMap::new();
    let mut resumed_job = None;
    if use_journal {
        let mut j = open_journal(cfg.journal.as_ref())?;
        let fingerprint = if given_fp.is_some() {
            given_fp.clone()
        } else if cfg.rows.input == "-" {
            None
        } else {
            Some(journal::fingerprint_file(std::path::Path::new(&cfg.rows.input)).map_err(jerr)?)
        };
        let entity = cfg.entity.name();
        let resumable = match (cfg.resume, &fingerprint) {
            (Some(id), _) => Some(j.get_job(id).map_err(jerr)?),
            (None, Some(fp)) => j
                .find_resumable(fp, cfg.platform.name(), &account_fp, entity)
                .map_err(jerr)?,
            (None, None) => None,
        };
        let l = j
            .acquire_target_lock(cfg.platform.name(), &account_fp)
            .map_err(jerr)?;
        let job = match resumable {
            Some(job) => {
                let job = j.resume_job(job.id).map_err(jerr)?;
                for r in j.rows(job.id).map_err(jerr)? {
                    earlier.insert(r.row, r);
                }
                // A resumed job keeps the mode it started with.
                cfg.mode = match job.mode {
                    journal::Mode::Upsert => Mode::Upsert,
                    _ => Mode::Create,
                };
                resumed_job = Some(job.id);
                job
            }
            None => j
                .start_job(&NewJob {
                    kind: if given_fp.is_some() {
                        JobKind::Migrate
                    } else {
                        JobKind::Import
                    },
                    command: journal::sanitize_args(&cfg.command_line),
                    input_path: (cfg.rows.input != "-").then(|| cfg.rows.input.clone()),
                    input_fingerprint: fingerprint.clone(),
                    platform: cfg.platform.name().to_string(),
                    account_fp: account_fp.clone(),
                    entity: entity.to_string(),
                    mode: match cfg.mode {
                        Mode::Create => journal::Mode::Create,
                        Mode::Upsert => journal::Mode::Upsert,
                    },
                    parent: None,
                })
                .map_err(jerr)?,
        };
        l.attach_job(job.id).map_err(jerr)?;
        // Loaded with --full too: what this account already had from
        // waport tells a create from an update (below).
        deltas = j
            .last_sent_hashes(cfg.platform.name(), &account_fp, entity)
            .map_err(jerr)?;
        lock = Some(l);
        if !cfg.rows.quiet {
            match resumed_job {
                Some(id) => eprintln!("resuming job {id}: {} rows already recorded", earlier.len()),
                None => eprintln!("job {}", job.id),
            }
        }
        log = Some(Arc::new(JobLog {
            journal: Mutex::new(j),
            job: job.id,
            intents: Mutex::new(HashMap::new()),
            failed: AtomicBool::new(false),
            mode: cfg.mode,
        }));
    }

    let info = source.info.clone();
    let headers = source.headers.clone();
    let report_path = cfg
        .rows
        .report
        .clone()
        .unwrap_or_else(|| default_report_path(&cfg.rows.input));
    let mut writer = ReportWriter::create(
        ReportOptions {
            report: report_path.clone(),
            rejects: cfg.rows.rejects.clone(),
            rejects_delimiter: info.delimiter.unwrap_or(b','),
            remote_id: true,
        },
        &headers,
    )?;

    let cancel = Cancel::new();
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, Ordering::SeqCst);
                cancel.cancel();
                eprintln!("\ninterrupted: finishing requests in flight, then writing the report");
            }
        });
    }

    let (item_tx, item_rx) = mpsc::channel::<Item>(2048);
    let (out_tx, mut out_rx) = mpsc::channel::<ItemOutcome>(2048);
    let (direct_tx, mut direct_rx) = mpsc::channel::<Direct>(4096);

    let hooks: Arc<dyn UploadHooks> = match &log {
        Some(l) => l.clone(),
        None => Arc::new(upload::NoHooks),
    };
    let upload_cfg = UploadConfig {
        entity: cfg.entity,
        mode: cfg.mode,
        rate: cfg.rate,
        concurrency: cfg.concurrency,
        batch_size: cfg.batch_size,
        max_attempts: cfg.max_attempts,
        dry_run: cfg.dry_run,
    };
    let uploader = tokio::spawn(upload::run(
        platform.clone(),
        upload_cfg,
        item_rx,
        out_tx,
        hooks,
        cancel.clone(),
    ));

    let feeder = {
        let ctx = FeedContext {
            platform: platform.clone(),
            earlier,
            full: cfg.full,
            mode: cfg.mode,
            deltas,
            log: log.clone(),
            interrupted: interrupted.clone(),
            cancel: cancel.clone(),
            handle: tokio::runtime::Handle::current(),
            resumed: resumed_job.is_some(),
            max_attempts: cfg.max_attempts,
        };
        let prepare = cfg.rows.prepare.clone();
        std::thread::spawn(move || feed(source, mapping, prepare, ctx, item_tx, direct_tx))
    };

    // Collect until both the feeder and the uploader are done.
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut direct_open = true;
    let mut out_open = true;
    let mut early: HashMap<u64, ItemOutcome> = HashMap::new();
    // Outcomes decided without a request are journaled in batches: one
    // transaction per row would make a nightly load of an unchanged file
    // slower than it needs to be. A crash loses nothing: they are decided
    // again from the file.
    let mut jbuf: Vec<RowOutcome> = Vec::new();
    let progress = import_progress(&cfg);
    let mut shown = Instant::now();
    while direct_open || out_open {
        tokio::select! {
            d = direct_rx.recv(), if direct_open => match d {
                Some(Direct::Done(result, jrow)) => {
                    if let (Some(l), Some(jrow)) = (&log, jrow) {
                        jbuf.push(jrow);
                        if jbuf.len() >= 512 {
                            l.record(&jbuf);
                            jbuf.clear();
                        }
                    }
                    writer.push(result)?;
                }
                Some(Direct::Sent(base)) => {
                    let seq = base.seq;
                    if let Some(o) = early.remove(&seq) {
                        writer.push(merge(base, o, cfg.mode))?;
                    } else {
                        pending.insert(seq, Pending { base });
                    }
                }
                None => direct_open = false,
            },
            o = out_rx.recv(), if out_open => match o {
                Some(o) => match pending.remove(&o.seq) {
                    Some(p) => writer.push(merge(p.base, o, cfg.mode))?,
                    None => { early.insert(o.seq, o); }
                },
                None => out_open = false,
            },
        }
        if !progress.is_hidden() && shown.elapsed() >= Duration::from_millis(100) {
            shown = Instant::now();
            let c = writer.counts();
            progress.set_position(c.rows);
            progress.set_message(format!(
                "{} in flight · created {} · updated {} · unchanged {} · rejected {}",
                pending.len(),
                c.get(Status::Created),
                c.get(Status::Updated),
                c.get(Status::Unchanged),
                c.get(Status::Invalid) + c.get(Status::Failed) + c.get(Status::Skipped),
            ));
        }
    }
    if let Some(l) = &log {
        l.record(&jbuf);
    }
    progress.finish_and_clear();
    let stats: UploadStats = uploader
        .await
        .map_err(|e| Error::Message(format!("upload task failed: {e}")))?;
    let fed = feeder
        .join()
        .map_err(|_| Error::Message("the reading thread panicked".into()))?;
    let counts = writer.finish()?;
    let was_interrupted = interrupted.load(Ordering::SeqCst) || stats.interrupted;

    if let Some(l) = &log {
        let state = if stats.fatal().is_some() || fed.is_err() {
            JobState::Failed
        } else if was_interrupted {
            JobState::Interrupted
        } else {
            JobState::Finished
        };
        if let Ok(mut j) = l.journal.lock() {
            j.end_job(l.job, state).map_err(jerr)?;
        }
    }
    if let Some(l) = lock {
        let _ = l.release();
    }
    fed?;
    if let Some(e) = stats.fatal() {
        return Err(Error::Message(e.to_string()));
    }

    let elapsed = started.elapsed().as_secs_f64();
    summarize(
        &cfg,
        &counts,
        &stats,
        elapsed,
        &report_path,
        &info,
        log.as_ref().map(|l| l.job),
    );
    if let Some(h) = sandbox {
        if !cfg.rows.quiet {
            let held = h.contacts(sandbox_platform(cfg.platform));
            let n = held.as_array().map(|a| a.len()).unwrap_or(0);
            eprintln!(
                "sandbox: the emulator now holds {n} {} contact(s); stats: {}",
                cfg.platform,
                h.stats()[cfg.platform.name()]
            );
        }
        let _ = h.shutdown().await;
    }
    Ok(if was_interrupted {
        ExitStatus::Interrupted
    } else if counts.has_rejections() {
        ExitStatus::RowsRejected
    } else {
        ExitStatus::Ok
    })
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
            "{bar:30} {pos}/~{len} rows · {per_sec} · ETA {eta} · {msg}",
        ),
        None => (
            indicatif::ProgressBar::no_length(),
            "{spinner} {pos} rows · {per_sec} · {elapsed} · {msg}",
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        pb.set_style(style);
    }
    pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// The emulator's name for a platform.
pub fn sandbox_platform(kind: PlatformKind) -> emulator::Platform {
    match kind {
        PlatformKind::Wazzup => emulator::Platform::Wazzup,
        PlatformKind::Whaapy => emulator::Platform::Whaapy,
        PlatformKind::Wipsy => emulator::Platform::Wipsy,
        PlatformKind::Wapiflow => emulator::Platform::Wapiflow,
    }
}

fn merge(mut base: RowResult, o: ItemOutcome, mode: Mode) -> RowResult {
    base.status = settle(&o, &base.remote_id, mode);
    base.remote_id = o.remote_id;
    if !o.reason.is_empty() {
        if base.reason.is_empty() {
            base.reason = o.reason;
        } else {
            base.reason = format!("{}; {}", base.reason, o.reason);
        }
    }
    if base.status == Status::Invalid {
        base.phone.clear();
    }
    base
}

fn summarize(
    cfg: &ImportConfig,
    counts: &Counts,
    stats: &UploadStats,
    elapsed: f64,
    report_path: &std::path::Path,
    info: &crate::source::SourceInfo,
    job: Option<JobId>,
) {
    if cfg.rows.json {
        let mut m = counts.to_json(Status::IMPORT);
        if cfg.dry_run {
            m.insert("valid".into(), json!(counts.get(Status::Valid)));
        }
        m.insert("requests".into(), json!(stats.requests));
        m.insert("retries".into(), json!(stats.retries));
        m.insert("rate_limited".into(), json!(stats.rate_limited));
        m.insert(
            "elapsed_s".into(),
            json!((elapsed * 1000.0).round() / 1000.0),
        );
        m.insert("platform".into(), json!(cfg.platform.name()));
        m.insert("dry_run".into(), json!(cfg.dry_run));
        if let Some(j) = job {
            m.insert("job".into(), json!(j.to_string()));
        }
        println!("{}", Value::Object(m));
    }
    if cfg.rows.quiet {
        return;
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
        "{} ({}) → {}{}\n{}{} requests, {} retries, {} rate-limited, {:.1} s\nreport: {}\n",
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
        report_path.display()
    );
    if let Some(h) = &stats.halt {
        eprintln!("stopped early: {}", h.reason);
    }
    if let Some(r) = &cfg.rows.rejects {
        eprintln!("rejects: {}", r.display());
    }
}

struct FeedContext {
    platform: Arc<dyn Platform>,
    earlier: HashMap<u64, RowState>,
    full: bool,
    mode: Mode,
    deltas: HashMap<String, (String, String)>,
    log: Option<Arc<JobLog>>,
    interrupted: Arc<AtomicBool>,
    cancel: Cancel,
    handle: tokio::runtime::Handle,
    resumed: bool,
    max_attempts: u32,
}

/// Status of an earlier run's confirmed row, for a resumed report.
fn earlier_status(r: &RowState) -> Option<(Status, String, String)> {
    let remote = r.remote_id.clone().unwrap_or_default();
    let why = |s: &str| format!("resumed: {s} by the interrupted run");
    Some(match (r.status, r.outcome) {
        (RowStatus::Confirmed, Some(Outcome::Created)) => (Status::Created, remote, why("created")),
        (RowStatus::Confirmed, Some(Outcome::Updated)) => (Status::Updated, remote, why("updated")),
        (RowStatus::Confirmed, Some(Outcome::Exists)) => {
            (Status::Exists, remote, why("found existing"))
        }
        (RowStatus::Unchanged, _) => (Status::Unchanged, remote, why("left unchanged")),
        _ => return None,
    })
}

/// The pipeline thread: decides each row's fate and feeds the uploader.
fn feed(
    source: Source,
    mapping: crate::mapping::Mapping,
    prepare: PrepareOptions,
    ctx: FeedContext,
    items: mpsc::Sender<Item>,
    direct: mpsc::Sender<Direct>,
) -> Result<(), Error> {
    for chunk in Pipeline::new(source, mapping, prepare) {
        let chunk = chunk?;
        for p in chunk {
            let plan = plan_row(&p, &ctx);
            let mut base = p.to_result(p.status);
            match plan {
                Plan::Done(status, remote_id, reason) => {
                    base.status = status;
                    base.remote_id = remote_id.clone();
                    if !reason.is_empty() {
                        base.reason = if base.reason.is_empty() {
                            reason.clone()
                        } else {
                            format!("{}; {reason}", base.reason)
                        };
                    }
                    let jrow = journal_result(status, &remote_id, &base.reason).map(|r| {
                        let key = p.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
                        let hash = if p.status == Status::Valid {
                            content_hash(&p.contact)
                        } else {
                            String::new()
                        };
                        RowOutcome::new(p.row, &key, &hash, r)
                    });
                    if direct.blocking_send(Direct::Done(base, jrow)).is_err() {
                        return Ok(());
                    }
                }
                Plan::Send => {
                    // The id this account already had from waport for the
                    // key: a "created" answer for it is really an update
                    // (Wazzup's upsert cannot tell them apart).
                    if let Some(key) = &p.key
                        && let Some((_, remote)) = ctx.deltas.get(&key.to_string())
                    {
                        base.remote_id = remote.clone();
                    }
                    if let Some(l) = &ctx.log {
                        let key = p.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
                        l.intents.lock().unwrap_or_else(|e| e.into_inner()).insert(
                            p.seq,
                            Intent {
                                key,
                                hash: content_hash(&p.contact),
                                known: base.remote_id.clone(),
                            },
                        );
                    }
                    if direct.blocking_send(Direct::Sent(base)).is_err() {
                        return Ok(());
                    }
                    let item = Item {
                        seq: p.seq,
                        row: p.row,
                        contact: p.contact,
                    };
                    if items.blocking_send(item).is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
    Ok(())
}

fn plan_row(p: &Prepared, ctx: &FeedContext) -> Plan {
    if p.status != Status::Valid {
        return Plan::Done(p.status, String::new(), String::new());
    }
    if ctx.interrupted.load(Ordering::SeqCst) || ctx.cancel.is_cancelled() {
        return Plan::Done(Status::Skipped, String::new(), "interrupted".into());
    }
    // A resumed job: rows confirmed earlier are not sent again.
    if ctx.resumed
        && let Some(r) = ctx.earlier.get(&p.row)
    {
        if let Some((status, remote, why)) = earlier_status(r) {
            return Plan::Done(status, remote, why);
        }
        if matches!(r.status, RowStatus::Pending | RowStatus::Sent) {
            // In flight when the run died: the platform may hold it. Look
            // before sending again, so nothing is created twice. The
            // request that died carried this very content (same input), so
            // a contact found there is this row's: created by that run,
            // unless this account already had the key before (updated).
            let found = ctx.handle.block_on(with_retries(ctx.max_attempts, || {
                ctx.platform.find_existing(&p.contact)
            }));
            match found {
                Ok((Some(id), _)) => {
                    // Created by the run that died, or there before it: no
                    // answer says which. Never claim `created` here, so a
                    // rollback can never delete a contact the user had
                    // before; at worst it leaves one the dead run made.
                    let status = if ctx.mode == Mode::Create {
                        Status::Exists
                    } else {
                        Status::Updated
                    };
                    return Plan::Done(
                        status,
                        id,
                        "resumed: found on the platform after the interruption".into(),
                    );
                }
                Ok((None, _)) => {}
                Err(e) => {
                    return Plan::Done(
                        Status::Failed,
                        String::new(),
                        format!("reconcile_failed: {e}"),
                    );
                }
            }
        }
    }
    // Nightly deltas: the same content as last sent to this account.
    if !ctx.full
        && let Some(key) = &p.key
        && let Some((hash, remote)) = ctx.deltas.get(&key.to_string())
        && *hash == content_hash(&p.contact)
    {
        return Plan::Done(Status::Unchanged, remote.clone(), String::new());
    }
    Plan::Send
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(remote_id: &str, reason: &str) -> ItemOutcome {
        ItemOutcome {
            seq: 0,
            row: 2,
            status: Status::Created,
            remote_id: remote_id.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn created_is_only_claimed_when_it_can_be_true() {
        // An id the journal already knew: Wazzup's upsert, really an update.
        assert_eq!(
            settle(&created("w-1", ""), "w-1", Mode::Upsert),
            Status::Updated
        );
        // A new id: created.
        assert_eq!(
            settle(&created("w-2", ""), "w-1", Mode::Upsert),
            Status::Created
        );
        assert_eq!(
            settle(&created("w-2", ""), "", Mode::Create),
            Status::Created
        );
        // Found after a lost answer in create mode: maybe there before.
        let lost = created(
            "9",
            "lost_answer: found on the platform after an attempt whose answer was lost",
        );
        assert_eq!(settle(&lost, "", Mode::Create), Status::Exists);
        assert_eq!(settle(&lost, "", Mode::Upsert), Status::Created);
        // Other statuses pass through.
        let mut failed = created("", "boom");
        failed.status = Status::Failed;
        assert_eq!(settle(&failed, "x", Mode::Create), Status::Failed);
    }
}
