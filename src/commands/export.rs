//! `waport export --from PLATFORM --output FILE`: a platform's contacts to
//! CSV, XLSX or JSONL.
//!
//! Custom-field columns are only known once every contact has been read, so
//! pages are spooled to a temporary JSONL file first (memory stays flat
//! however large the account), then written in the chosen format.

use crate::commands::import::pace_text;
use crate::export::{Columns, ExportFormat, ExportRow, WriterOptions, create_writer};
use crate::model::Contact;
use crate::net::pace::format_rate;
use crate::platform::credentials::{Credentials, config_candidates};
use crate::platform::{AdapterOptions, Entity, Platform, PlatformKind, connect};
use crate::safety::{self, Named};
use crate::upload::retry::with_retries;
use crate::{Error, ExitStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything `export` needs, already checked by the binary.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// Source platform.
    pub platform: PlatformKind,
    /// Contacts, or (Wazzup) users.
    pub entity: Entity,
    /// Output path (`-` for standard output).
    pub output: PathBuf,
    /// `--format`, else from the extension.
    pub format: Option<ExportFormat>,
    /// `--columns a,b,c`.
    pub columns: Option<String>,
    /// `--excel`: BOM and `;` for Spanish-locale Excel.
    pub excel: bool,
    /// `--force`: replace an existing output file.
    pub force: bool,
    /// Requests per second.
    pub rate: Option<f64>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts per page.
    pub max_attempts: u32,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// No progress or summary.
    pub quiet: bool,
    /// One JSON summary object on stdout.
    pub json: bool,
}

/// One spooled contact (the parts of an [`ExportRow`]).
#[derive(Serialize, Deserialize)]
struct Spooled {
    id: String,
    contact: Contact,
    created_at: Option<String>,
    updated_at: Option<String>,
    raw: serde_json::Value,
}

/// Reads every page of `entity` from `platform`, calling `each` per contact.
/// Returns pages read, retries, and the platform's notes (e.g. a Wipsy
/// listing that may be partial).
pub async fn read_all(
    platform: &dyn Platform,
    entity: Entity,
    max_attempts: u32,
    progress: &ProgressBar,
    mut each: impl FnMut(ExportRow) -> Result<(), Error>,
) -> Result<(u64, u64, Vec<String>), Error> {
    let mut cursor: Option<String> = None;
    let mut pages = 0u64;
    let mut retries = 0u64;
    let mut notes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    loop {
        let (page, r) = with_retries(max_attempts, || {
            platform.list_page(entity, cursor.as_deref())
        })
        .await
        .map_err(Error::from)?;
        pages += 1;
        retries += u64::from(r);
        for item in page.items {
            // A listing that shifts while it is paged (a contact created
            // meanwhile) can repeat an item: write each contact once.
            if !item.remote_id.is_empty() && !seen.insert(item.remote_id.clone()) {
                continue;
            }
            progress.inc(1);
            each(ExportRow {
                remote_id: item.remote_id,
                contact: item.contact,
                created_at: item.created_at,
                updated_at: item.updated_at,
                raw: item.raw,
            })?;
        }
        if let Some(n) = page.note
            && !notes.contains(&n)
        {
            notes.push(n);
        }
        let pace = platform.transport().pace_snapshot();
        progress.set_message(format!("{pages} pages · pace {}", pace_text(&pace)));
        match page.next {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            _ => break,
        }
    }
    Ok((pages, retries, notes))
}

/// A progress bar on a terminal, hidden otherwise or when quiet.
pub fn progress_bar(quiet: bool, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} {{pos}} {what} · {{msg}} · {{elapsed}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_spinner());
    pb.set_style(style);
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// Connects to a platform with credentials from the environment or profile.
pub fn connect_platform(
    kind: PlatformKind,
    profile: Option<&str>,
    config: Option<&std::path::Path>,
    rate: Option<f64>,
    timeout: Duration,
) -> Result<Arc<dyn Platform>, Error> {
    let creds = Credentials::resolve(kind, profile, config).map_err(Error::from)?;
    connect(
        kind,
        creds,
        AdapterOptions {
            rate,
            timeout,
            ..AdapterOptions::default()
        },
    )
    .map_err(Error::from)
}

/// Writes every contact of `platform` to `output`; returns rows written.
pub async fn export_to(
    platform: &dyn Platform,
    cfg: &ExportConfig,
    format: ExportFormat,
) -> Result<(u64, u64, u64, Vec<String>), Error> {
    let io = |source: std::io::Error| Error::Write {
        what: "the export spool".into(),
        source,
    };
    let spool = tempfile::NamedTempFile::new().map_err(io)?;
    let mut out = BufWriter::new(spool.reopen().map_err(io)?);
    let progress = progress_bar(cfg.quiet, "contacts");
    let mut customs = std::collections::BTreeSet::new();
    let (pages, retries, mut notes) =
        read_all(platform, cfg.entity, cfg.max_attempts, &progress, |row| {
            customs.extend(row.contact.custom.keys().cloned());
            let line = serde_json::to_string(&Spooled {
                id: row.remote_id,
                contact: row.contact,
                created_at: row.created_at,
                updated_at: row.updated_at,
                raw: row.raw,
            })
            .map_err(|source| Error::Spool {
                what: "cannot spool a contact",
                source,
            })?;
            out.write_all(line.as_bytes())
                .and_then(|_| out.write_all(b"\n"))
                .map_err(io)
        })
        .await?;
    out.flush().map_err(io)?;
    drop(out);
    progress.finish_and_clear();

    let all = Columns::new(customs.iter().cloned());
    let columns = match &cfg.columns {
        Some(spec) => all.select(spec).map_err(Error::from)?,
        None => all,
    };
    let mut writer = create_writer(
        &cfg.output,
        format,
        columns,
        &WriterOptions {
            excel: cfg.excel,
            ..WriterOptions::default()
        },
    )
    .map_err(Error::from)?;
    let reader = BufReader::new(spool.reopen().map_err(io)?);
    for line in reader.lines() {
        let line = line.map_err(io)?;
        let s: Spooled = serde_json::from_str(&line).map_err(|source| Error::Spool {
            what: "cannot read the export spool",
            source,
        })?;
        writer
            .write(&ExportRow {
                remote_id: s.id,
                contact: s.contact,
                created_at: s.created_at,
                updated_at: s.updated_at,
                raw: s.raw,
            })
            .map_err(Error::from)?;
    }
    notes.extend(writer.warnings());
    let rows = writer.finish().map_err(Error::from)?;
    Ok((rows, pages, retries, notes))
}

/// Refuses an output that would destroy a file: an existing one without
/// `--force`, and whatever `--force` says, the journal or the config file
/// the credentials are read from.
fn check_output(cfg: &ExportConfig) -> Result<(), Error> {
    let mut keep = Vec::new();
    if let Some(j) = safety::journal_path(None) {
        keep.extend(safety::journal_files(&j));
    }
    match &cfg.config {
        Some(c) => keep.push(Named::new("the config file", c)),
        None => keep.extend(
            config_candidates()
                .into_iter()
                .map(|c| Named::new("a config file", c)),
        ),
    }
    safety::check_outputs(&keep, &[Named::new("--output", &cfg.output)])?;
    safety::check_new_file(&cfg.output, cfg.force)?;
    Ok(())
}

/// Runs `export`.
pub fn run(cfg: ExportConfig) -> Result<ExitStatus, Error> {
    check_output(&cfg)?;
    let format = match cfg.format {
        Some(f) => f,
        None => ExportFormat::from_path(&cfg.output).map_err(Error::from)?,
    };
    crate::block_on(async {
        let started = Instant::now();
        let platform = connect_platform(
            cfg.platform,
            cfg.profile.as_deref(),
            cfg.config.as_deref(),
            cfg.rate,
            cfg.timeout,
        )?;
        let (rows, pages, retries, notes) = export_to(platform.as_ref(), &cfg, format).await?;
        let elapsed = started.elapsed().as_secs_f64();
        let pace = platform.transport().pace_snapshot();
        if cfg.json {
            crate::print(&format!(
                "{}\n",
                serde_json::json!({
                    "platform": cfg.platform.name(),
                    "entity": cfg.entity.name(),
                    "rows": rows,
                    "pages": pages,
                    "retries": retries,
                    "rate_limited": pace.throttled,
                    "slowdowns": pace.slowdowns,
                    "pace": format_rate(pace.rate),
                    "pace_per_min": (pace.rate * 60.0).round() as u64,
                    "output": cfg.output.display().to_string(),
                    "format": format.extension(),
                    "notes": notes,
                    "elapsed_s": (elapsed * 1000.0).round() / 1000.0,
                })
            ))?;
        }
        if !cfg.quiet {
            for n in &notes {
                eprintln!("note: {n}");
            }
            eprintln!(
                "exported {rows} {} from {} to {} ({pages} pages, {retries} retries, {} rate-limited (waited out), pace {}, {elapsed:.1} s)",
                cfg.entity.name(),
                cfg.platform,
                if cfg.output.as_os_str() == "-" {
                    "standard output".to_string()
                } else {
                    cfg.output.display().to_string()
                },
                pace.throttled,
                pace_text(&pace),
            );
        }
        Ok(ExitStatus::Ok)
    })?
}
