//! `waport validate FILE`: what an import would accept and reject, and why.

use crate::mapping::{MapFile, Mapping};
use crate::pipeline::{Checker, PrepareOptions};
use crate::report::{ReportOptions, ReportWriter, Status, default_report_path, partial_path};
use crate::safety::{self, Named};
use crate::source::{self, Format, ReadOptions, SourceInfo};
use crate::{Error, ExitStatus};
use std::path::{Path, PathBuf};

/// Which rows a command reads, how it checks them and where it reports
/// them: what `validate` and `import` share.
#[derive(Debug, Clone, Default)]
pub struct RowsConfig {
    /// Input path, `-` for stdin.
    pub input: String,
    /// Reader overrides.
    pub read: ReadOptions,
    /// `--map FILE`.
    pub map_file: Option<PathBuf>,
    /// Normalization and dedupe rules (for an import, `platform` is the target).
    pub prepare: PrepareOptions,
    /// `--report PATH` (default `<stem>.report.csv`).
    pub report: Option<PathBuf>,
    /// `--rejects PATH`.
    pub rejects: Option<PathBuf>,
    /// `--json`: one summary object on stdout.
    pub json: bool,
    /// `--quiet`: no summary on stderr.
    pub quiet: bool,
    /// `--max-invalid`: invalid rows tolerated before exit code 3.
    pub max_invalid: Option<crate::report::MaxInvalid>,
    /// `--excel`: the report (and a workbook's rejects file) in UTF-8 with
    /// a BOM, `;` and CR LF, as `export --excel` writes.
    pub excel: bool,
}

/// Everything `validate` needs, already checked by the binary.
#[derive(Debug, Clone, Default)]
pub struct ValidateConfig {
    /// The rows and their report.
    pub rows: RowsConfig,
    /// `--show-mapping`: print the mapping and stop.
    pub show_mapping: bool,
}

/// Describes what the reader detected, for the summary.
pub fn describe_source(info: &SourceInfo) -> String {
    match info.format {
        Format::Csv => {
            let delim = match info.delimiter {
                Some(b'\t') => "tab".to_string(),
                Some(d) => format!("'{}'", d as char),
                None => "?".to_string(),
            };
            format!(
                "CSV, {}, delimiter {delim}",
                info.encoding.as_deref().unwrap_or("UTF-8")
            )
        }
        Format::Spreadsheet if info.workbook == Some("html") => {
            "HTML table saved as a spreadsheet (Bitrix24's Excel export)".to_string()
        }
        Format::Spreadsheet => format!(
            "spreadsheet, sheet \"{}\"",
            info.sheet.as_deref().unwrap_or("?")
        ),
        Format::VCard => format!(
            "vCard, {}; report rows are card numbers",
            info.encoding.as_deref().unwrap_or("UTF-8")
        ),
    }
}

/// Loads the mapping for an opened input.
pub fn load_mapping(headers: &[String], map_file: Option<&PathBuf>) -> Result<Mapping, Error> {
    let file = map_file.map(|p| MapFile::load(p)).transpose()?;
    Ok(Mapping::infer(headers, file.as_ref())?)
}

/// Refuses, before any row is read, a mapping that cannot give the run
/// what it needs: no phone column when rows need a phone, or no column
/// recognised at all. The message lists the headers with the nearest
/// known one and a ready `--map` line.
pub fn check_mapping(mapping: &Mapping, prepare: &PrepareOptions) -> Result<(), Error> {
    Ok(mapping.require(prepare.phone_required())?)
}

/// The statuses a validate summary shows: `valid`, `invalid`,
/// `duplicate`, and `skipped` when footer lines were skipped.
fn summary_statuses(counts: &crate::report::Counts) -> Vec<Status> {
    let mut statuses = Status::VALIDATE.to_vec();
    if counts.get(Status::Skipped) > 0 {
        statuses.push(Status::Skipped);
    }
    statuses
}

/// Checks every row of `source` into `writer` (the heart of `validate`,
/// without its files and messages). Returns the reading error that cut the
/// input short, if one did; the rows before it are written.
pub fn check(
    source: source::Source,
    mapping: Mapping,
    prepare: &PrepareOptions,
    writer: &mut ReportWriter,
) -> Result<Option<source::SourceError>, Error> {
    let prepare = PrepareOptions {
        keys_only: true,
        ..prepare.clone()
    };
    for chunk in Checker::new(source, mapping, prepare, writer.layout()) {
        match chunk {
            Ok(parts) => {
                for part in parts {
                    for (c, line) in part.rows.iter().zip(part.lines.iter()) {
                        writer.push_line(line, c.status, &c.reason, c.duplicate_of)?;
                    }
                }
            }
            Err(e) => return Ok(Some(e)),
        }
    }
    Ok(None)
}

/// Refuses `--report` / `--rejects` paths that name a file the run reads
/// (the input, the mapping file, `config`), the journal, or each other,
/// before anything is read or written (see [`crate::safety`]).
pub fn check_outputs(
    rows: &RowsConfig,
    journal: Option<&Path>,
    config: Option<&Path>,
) -> Result<(), Error> {
    let mut reads = vec![Named::new("the input", &rows.input)];
    if let Some(m) = &rows.map_file {
        reads.push(Named::new("the mapping file", m));
    }
    match config {
        Some(c) => reads.push(Named::new("the config file", c)),
        // The waport.toml an import would read its profiles from.
        None => reads.extend(
            crate::platform::credentials::config_candidates()
                .into_iter()
                .map(|c| Named::new("a config file", c)),
        ),
    }
    if let Some(j) = safety::journal_path(journal) {
        reads.extend(safety::journal_files(&j));
    }
    let report = rows
        .report
        .clone()
        .unwrap_or_else(|| default_report_path(&rows.input));
    let mut outputs = vec![
        Named::new("--report", &report),
        Named::new("the partial --report", partial_path(&report)),
    ];
    if let Some(r) = &rows.rejects {
        outputs.push(Named::new("--rejects", r));
        outputs.push(Named::new("the partial --rejects", partial_path(r)));
    }
    Ok(safety::check_outputs(&reads, &outputs)?)
}

/// Runs `validate`.
pub fn run(cfg: ValidateConfig) -> Result<ExitStatus, Error> {
    if !cfg.show_mapping {
        check_outputs(&cfg.rows, None, None)?;
    }
    let source = source::open(&cfg.rows.input, &cfg.rows.read)?;
    let mapping = load_mapping(&source.headers, cfg.rows.map_file.as_ref())?;
    if cfg.show_mapping {
        crate::print(&format!(
            "{} ({}): {} columns\n{}",
            cfg.rows.input,
            describe_source(&source.info),
            source.headers.len(),
            mapping.describe()
        ))?;
        if let Err(e) = check_mapping(&mapping, &cfg.rows.prepare) {
            crate::print(&format!("{e}\n"))?;
        }
        return Ok(ExitStatus::Ok);
    }
    check_mapping(&mapping, &cfg.rows.prepare)?;
    let info = source.info.clone();
    let headers = source.headers.clone();
    let report_path = cfg
        .rows
        .report
        .clone()
        .unwrap_or_else(|| default_report_path(&cfg.rows.input));
    let opts = ReportOptions::for_input(
        report_path.clone(),
        cfg.rows.rejects.clone(),
        &info,
        cfg.rows.excel,
        false,
    );
    let rejects_style = opts.rejects_style;
    let mut writer = ReportWriter::create(opts, &headers)?;
    let fatal = check(source, mapping, &cfg.rows.prepare, &mut writer)?;
    if let Some(e) = fatal {
        // The input could not be read to its end: the report of the rows
        // before the error must not look like the report of the file.
        let partial = writer.abandon()?;
        let shown: Vec<String> = partial.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::InputCutShort {
            source: e,
            partial: shown.join(" and "),
            report: report_path.to_path_buf(),
        });
    }
    let counts = writer.finish()?;
    if cfg.rows.json {
        crate::print(&format!(
            "{}\n",
            serde_json::Value::Object(counts.to_json(&summary_statuses(&counts)))
        ))?;
    }
    if !cfg.rows.quiet {
        eprint!(
            "{} ({})\n{}report: {}\n",
            cfg.rows.input,
            describe_source(&info),
            counts.human(&summary_statuses(&counts)),
            report_path.display()
        );
        if let Some(r) = &cfg.rows.rejects {
            eprintln!("{}", counts.rejects_line(r, &rejects_style));
        }
    }
    Ok(if counts.rejects_beyond(cfg.rows.max_invalid) {
        ExitStatus::RowsRejected
    } else {
        ExitStatus::Ok
    })
}
