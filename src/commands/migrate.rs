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
use crate::model::{Contact, Field};
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
/// sends): a source field outside this list is reported once. Custom
/// fields are told apart by `--map`, not by this list.
pub fn supported_fields(kind: PlatformKind) -> &'static [Field] {
    match kind {
        // Wazzup contacts: id, name, contactData (phone) only (public docs).
        PlatformKind::Wazzup => &[
            Field::Name,
            Field::FirstName,
            Field::LastName,
            Field::Phone,
            Field::ExternalId,
        ],
        // Whaapy POST /contacts/v1 (seed 001).
        PlatformKind::Whaapy => &[
            Field::Name,
            Field::FirstName,
            Field::LastName,
            Field::Phone,
            Field::Email,
            Field::Tags,
            Field::Notes,
            Field::Company,
            Field::Address,
            Field::City,
            Field::State,
            Field::PostalCode,
            Field::Country,
            Field::ExternalId,
        ],
        // Wipsy api-create-contact (seed 000): no country or postal code.
        PlatformKind::Wipsy => &[
            Field::Name,
            Field::FirstName,
            Field::LastName,
            Field::Phone,
            Field::Email,
            Field::Address,
            Field::City,
            Field::State,
            Field::Company,
            Field::Notes,
            Field::Tags,
        ],
        // WapiFlow contact/store (seed 002).
        PlatformKind::Wapiflow => &[
            Field::FirstName,
            Field::LastName,
            Field::Name,
            Field::Phone,
            Field::City,
            Field::State,
            Field::PostalCode,
            Field::Address,
        ],
    }
}

/// The canonical fields of `c` that hold something.
fn filled_fields(c: &Contact, into: &mut BTreeSet<Field>) {
    into.extend(Field::ALL.into_iter().filter(|&f| c.is_filled(f)));
}

/// Runs `migrate`.
pub fn run(cfg: MigrateConfig) -> Result<ExitStatus, Error> {
    let to = cfg.import.platform;
    if cfg.from == to && cfg.from_profile == cfg.import.profile {
        return Err(Error::SameAccount { platform: to });
    }
    // Both sets of credentials before anything is read.
    Credentials::resolve(
        to,
        cfg.import.profile.as_deref(),
        cfg.import.config.as_deref(),
    )?;
    let source = connect_platform(
        cfg.from,
        cfg.from_profile.as_deref(),
        cfg.import.config.as_deref(),
        cfg.read_rate,
        cfg.import.timeout,
    )?;
    let spool = Spool::read(&cfg, source.as_ref())?;
    if !cfg.import.rows.quiet {
        spool.tell_unmigrated(&cfg);
    }
    let given = spool.source(cfg.from)?;
    let mut import = cfg.import;
    import.rows.input = given.source.info.path.clone();
    if import.rows.report.is_none() {
        import.rows.report = Some(PathBuf::from(format!(
            "migrate-{}-to-{to}.report.csv",
            cfg.from
        )));
    }
    // The spool file stays alive until the import ends: the reader reopened
    // it, and the temp file is removed on drop.
    let source = GivenSource {
        source: given.source,
        fingerprint: given.fingerprint,
    };
    let status = run_with(import, Some(source));
    drop(given.spool);
    status
}

/// Platform A's contacts, spooled to a temporary JSON-lines file so that B's
/// import can read them as a file (resumable, fingerprinted).
struct Spool {
    file: tempfile::NamedTempFile,
    customs: BTreeSet<String>,
    filled: BTreeSet<Field>,
    read: u64,
    pages: u64,
    notes: Vec<String>,
    digest: String,
}

/// A spool turned into import input; `spool` must outlive the import.
struct Spooled {
    source: Source,
    fingerprint: String,
    spool: tempfile::NamedTempFile,
}

fn spool_io(e: std::io::Error) -> Error {
    Error::Write {
        what: "the migration spool".into(),
        source: e,
    }
}

impl Spool {
    /// Reads every contact of `source` into a spool.
    fn read(cfg: &MigrateConfig, source: &dyn crate::platform::Platform) -> Result<Spool, Error> {
        let io = spool_io;
        let file = tempfile::NamedTempFile::new().map_err(io)?;
        let mut out = BufWriter::new(file.reopen().map_err(io)?);
        let mut customs = BTreeSet::new();
        let mut filled = BTreeSet::new();
        let mut hasher = Sha256::new();
        let mut read = 0u64;
        let progress = progress_bar(cfg.import.rows.quiet, "contacts read");
        let (pages, _retries, notes) = crate::block_on(read_all(
            source,
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
                let line = serde_json::to_string(&c).map_err(|source| Error::Spool {
                    what: "cannot spool a contact",
                    source,
                })?;
                hasher.update(line.as_bytes());
                out.write_all(line.as_bytes())
                    .and_then(|_| out.write_all(b"\n"))
                    .map_err(io)
            },
        ))??;
        out.flush().map_err(io)?;
        drop(out);
        progress.finish_and_clear();
        let digest = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Spool {
            file,
            customs,
            filled,
            read,
            pages,
            notes,
            digest,
        })
    }

    /// Names, once and before the upload starts, the canonical fields B
    /// cannot store and A's custom fields no `--map` entry sends anywhere.
    fn tell_unmigrated(&self, cfg: &MigrateConfig) {
        let to = cfg.import.platform;
        let mut missing: Vec<&str> = self
            .filled
            .iter()
            .filter(|f| !supported_fields(to).contains(f))
            .map(|f| f.name())
            .collect();
        missing.sort_unstable();
        let mapped: BTreeSet<String> = cfg
            .import
            .rows
            .map_file
            .as_deref()
            .and_then(|p| MapFile::load(p).ok())
            .map(|m| m.columns.keys().map(|k| k.trim().to_lowercase()).collect())
            .unwrap_or_default();
        let unmapped: Vec<&str> = self
            .customs
            .iter()
            .map(String::as_str)
            .filter(|c| !mapped.contains(&c.trim().to_lowercase()))
            .collect();
        for n in &self.notes {
            eprintln!("note: {n}");
        }
        eprintln!(
            "read {} contacts from {} ({} pages)",
            self.read, cfg.from, self.pages
        );
        if !missing.is_empty() {
            eprintln!(
                "{to} has no place for these {} fields, which are not migrated: {}",
                cfg.from,
                missing.join(", ")
            );
        }
        if let Some(first) = unmapped.first() {
            eprintln!(
                "{} custom fields not migrated unless mapped with --map (e.g. \"{first}\" = \"custom:{first}\"): {}",
                cfg.from,
                unmapped.join(", ")
            );
        }
    }

    /// The spool as records under the canonical columns (without the
    /// export's remote id and dates), then one per custom field by name.
    fn source(self, from: PlatformKind) -> Result<Spooled, Error> {
        let columns = Columns::new(self.customs.iter().cloned());
        // Headers and the column each reads: a custom field named like a
        // fixed column is headed `custom:NAME`, so the header alone does
        // not say where its value lives.
        let (headers, kept): (Vec<String>, Vec<Column>) = columns
            .headers()
            .iter()
            .zip(columns.columns())
            .filter(|(_, c)| !matches!(c, Column::Id | Column::CreatedAt | Column::UpdatedAt))
            .map(|(h, c)| (h.clone(), c.clone()))
            .unzip();
        let reader = BufReader::new(self.file.reopen().map_err(spool_io)?);
        let label = format!("{from}:contacts");
        let label2 = label.clone();
        let unreadable = move |e: String| SourceError::Unreadable {
            path: label2.clone(),
            message: format!("spool could not be read back: {e}"),
        };
        let records = reader.lines().enumerate().map(move |(i, line)| {
            let line = line.map_err(|e| unreadable(e.to_string()))?;
            let c: Contact = serde_json::from_str(&line).map_err(|e| unreadable(e.to_string()))?;
            let fields = kept
                .iter()
                .map(|col| match col {
                    Column::Custom(name) => c.custom.get(name).cloned().unwrap_or_default(),
                    Column::Field(f) => c.get(*f).into_owned(),
                    _ => String::new(),
                })
                .collect();
            Ok(Record {
                row: i as u64 + 2,
                fields,
                problem: None,
            })
        });
        Ok(Spooled {
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
                    bom: false,
                    crlf: false,
                },
                records: Box::new(records),
            },
            fingerprint: format!("migrate:{from}:{}", self.digest),
            spool: self.file,
        })
    }
}
