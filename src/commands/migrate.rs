//! `waport migrate --from A --to B`: A's contacts into B through the same
//! normalize → dedupe → batch → upload → report pipeline and journal as an
//! import.
//!
//! A's pages are spooled to a JSONL file as they arrive (memory stays flat),
//! then read back as records whose columns are waport's canonical field
//! names, so the import's automatic mapping applies and `--map` can send
//! A's custom fields to B's. The spool's fingerprint stands in for a file's:
//! an interrupted migrate run again continues its job when A has not
//! changed in between.

use crate::commands::export::{connect_platform, progress_bar, read_all};
use crate::commands::import::{GivenSource, ImportConfig, run_with};
use crate::export::{Column, Columns};
use crate::mapping::MapFile;
use crate::model::Contact;
use crate::platform::credentials::Credentials;
use crate::platform::{Entity, PlatformKind};
use crate::source::{Format, Record, Source, SourceError, SourceInfo};
use crate::{Error, ExitStatus};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

/// Everything `migrate` needs.
#[derive(Debug, Clone)]
pub struct MigrateConfig {
    /// Source platform.
    pub from: PlatformKind,
    /// Profile for the source's credentials.
    pub from_profile: Option<String>,
    /// Read pace for the source (requests/s).
    pub read_rate: Option<f64>,
    /// The import into the target (`platform`, upload and report flags).
    pub import: ImportConfig,
}

/// Fields each platform can store, in canonical names (what its adapter
/// sends): a source field outside this list is reported once.
pub fn supported_fields(kind: PlatformKind) -> &'static [&'static str] {
    match kind {
        // Wazzup contacts: id, name, contactData (phone) only (public docs).
        PlatformKind::Wazzup => &["name", "first_name", "last_name", "phone", "external_id"],
        // Whaapy POST /contacts/v1 (seed 001).
        PlatformKind::Whaapy => &[
            "name",
            "first_name",
            "last_name",
            "phone",
            "email",
            "tags",
            "notes",
            "company",
            "address",
            "city",
            "state",
            "postal_code",
            "country",
            "external_id",
            "custom",
        ],
        // Wipsy api-create-contact (seed 000): no country or postal code.
        PlatformKind::Wipsy => &[
            "name",
            "first_name",
            "last_name",
            "phone",
            "email",
            "address",
            "city",
            "state",
            "company",
            "notes",
            "tags",
            "custom",
        ],
        // WapiFlow contact/store (seed 002).
        PlatformKind::Wapiflow => &[
            "first_name",
            "last_name",
            "name",
            "phone",
            "city",
            "state",
            "postal_code",
            "address",
        ],
    }
}

/// The canonical fields of `c` that hold something.
fn filled_fields(c: &Contact, into: &mut BTreeSet<String>) {
    for f in crate::model::contact::FIELDS {
        if c.get(f).is_some_and(|v| !v.trim().is_empty()) {
            into.insert((*f).to_string());
        }
    }
    if !c.custom.is_empty() {
        into.insert("custom".to_string());
    }
}

/// Runs `migrate`.
pub fn run(cfg: MigrateConfig) -> Result<ExitStatus, Error> {
    let to = cfg.import.platform;
    if cfg.from == to && cfg.from_profile == cfg.import.profile {
        return Err(Error::Message(format!(
            "--from and --to are the same {to} account; give --from-profile or --profile to migrate between two accounts"
        )));
    }
    // Both sets of credentials before anything is read.
    Credentials::resolve(
        to,
        cfg.import.profile.as_deref(),
        cfg.import.config.as_deref(),
    )
    .map_err(|e| Error::Message(e.to_string()))?;
    let source = connect_platform(
        cfg.from,
        cfg.from_profile.as_deref(),
        cfg.import.config.as_deref(),
        cfg.read_rate,
        cfg.import.timeout,
    )?;
    let io = |e: std::io::Error| Error::Message(format!("cannot write the migration spool: {e}"));
    let spool = tempfile::NamedTempFile::new().map_err(io)?;
    let mut out = BufWriter::new(spool.reopen().map_err(io)?);
    let mut customs = BTreeSet::new();
    let mut filled = BTreeSet::new();
    let mut hasher = Sha256::new();
    let mut read = 0u64;
    let progress = progress_bar(cfg.import.rows.quiet, "contacts read");
    let (pages, _retries, notes) = crate::block_on(read_all(
        source.as_ref(),
        Entity::Contacts,
        cfg.import.max_attempts,
        &progress,
        |row| {
            read += 1;
            customs.extend(row.contact.custom.keys().cloned());
            filled_fields(&row.contact, &mut filled);
            let mut c = row.contact;
            if c.external_id.is_empty() {
                // B learns where the contact came from.
                c.external_id = row.remote_id;
            }
            let line = serde_json::to_string(&c)
                .map_err(|e| Error::Message(format!("cannot spool a contact: {e}")))?;
            hasher.update(line.as_bytes());
            out.write_all(line.as_bytes())
                .and_then(|_| out.write_all(b"\n"))
                .map_err(io)
        },
    ))??;
    out.flush().map_err(io)?;
    drop(out);
    progress.finish_and_clear();

    // Canonical fields B cannot store, and A's custom fields no --map
    // entry sends anywhere: each named once, before the upload starts.
    let missing: Vec<&str> = filled
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "custom" && !supported_fields(to).contains(f))
        .collect();
    let mapped: BTreeSet<String> = cfg
        .import
        .rows
        .map_file
        .as_deref()
        .and_then(|p| MapFile::load(p).ok())
        .map(|m| m.columns.keys().map(|k| k.trim().to_lowercase()).collect())
        .unwrap_or_default();
    let unmapped: Vec<&str> = customs
        .iter()
        .map(String::as_str)
        .filter(|c| !mapped.contains(&c.trim().to_lowercase()))
        .collect();
    if !cfg.import.rows.quiet {
        for n in &notes {
            eprintln!("note: {n}");
        }
        eprintln!("read {read} contacts from {} ({pages} pages)", cfg.from);
        if !missing.is_empty() {
            eprintln!(
                "{to} has no place for these {} fields, which are not migrated: {}",
                cfg.from,
                missing.join(", ")
            );
        }
        if !unmapped.is_empty() {
            eprintln!(
                "{} custom fields not migrated unless mapped with --map (e.g. \"{}\" = \"custom:{}\"): {}",
                cfg.from,
                unmapped[0],
                unmapped[0],
                unmapped.join(", ")
            );
        }
    }

    // Canonical columns (without the export's remote id and dates), then
    // one per custom field by its name.
    let columns = Columns::new(customs.iter().cloned());
    // Headers and the column each reads: a custom field named like a fixed
    // column is headed `custom:NAME`, so the header alone does not say
    // where its value lives.
    let (headers, kept): (Vec<String>, Vec<Column>) = columns
        .headers()
        .iter()
        .zip(columns.columns())
        .filter(|(_, c)| !matches!(c, Column::Id | Column::CreatedAt | Column::UpdatedAt))
        .map(|(h, c)| (h.clone(), c.clone()))
        .unzip();
    let reader = BufReader::new(spool.reopen().map_err(io)?);
    let label = format!("{}:contacts", cfg.from);
    let label2 = label.clone();
    let records = reader.lines().enumerate().map(move |(i, line)| {
        let line = line.map_err(|e| SourceError::Unreadable {
            path: label2.clone(),
            message: format!("spool could not be read back: {e}"),
        })?;
        let c: Contact = serde_json::from_str(&line).map_err(|e| SourceError::Unreadable {
            path: label2.clone(),
            message: format!("spool could not be read back: {e}"),
        })?;
        let fields = kept
            .iter()
            .map(|col| match col {
                Column::Custom(name) => c.custom.get(name).cloned().unwrap_or_default(),
                Column::Field(f) => c.get(f).unwrap_or_default(),
                _ => String::new(),
            })
            .collect();
        Ok(Record {
            row: i as u64 + 2,
            fields,
            problem: None,
        })
    });
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let fingerprint = format!("migrate:{}:{digest}", cfg.from);
    let mut import = cfg.import;
    import.rows.input = label.clone();
    if import.rows.report.is_none() {
        import.rows.report = Some(PathBuf::from(format!(
            "migrate-{}-to-{to}.report.csv",
            cfg.from
        )));
    }
    let given = GivenSource {
        source: Source {
            headers,
            info: SourceInfo {
                path: label,
                format: Format::Csv,
                encoding: Some("UTF-8".into()),
                delimiter: Some(b','),
                sheet: None,
                workbook: None,
                header_row: 1,
            },
            records: Box::new(records),
        },
        fingerprint,
    };
    // The spool must outlive the reading: it is moved into the closure's
    // file handle already; keep the temp path alive until the import ends.
    let status = run_with(import, Some(given));
    drop(spool);
    status
}
