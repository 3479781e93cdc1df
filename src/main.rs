//! The `waport` binary: parses the command line and calls the library.

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use waport::ExitStatus;
use waport::commands::export::ExportConfig;
use waport::commands::generate::GenerateConfig;
use waport::commands::import::ImportConfig;
use waport::commands::jobs::{JobsConfig, RollbackConfig};
use waport::commands::migrate::MigrateConfig;
use waport::commands::validate::{RowsConfig, ValidateConfig};
use waport::dedupe::DedupeBy;
use waport::export::ExportFormat;
use waport::journal::JobId;
use waport::model::{Entity, WriteMode};
use waport::normalize::phone::Prefer;
use waport::pipeline::{EmailPolicy, PrepareOptions};
use waport::platform::PlatformKind;
use waport::source::ReadOptions;

/// Move contacts in and out of WhatsApp CRM platforms.
#[derive(Parser)]
#[command(
    name = "waport",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 every row went through; 3 some rows invalid, failed or skipped \
                  (see the report); 1 fatal error; 2 usage error; 130 interrupted.\n\
                  Start here: waport sample > contactos.csv && \
                  waport import contactos.csv --to wazzup --sandbox"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More logging on stderr: -v info, -vv debug, -vvv trace (WAPORT_LOG,
    /// e.g. `WAPORT_LOG=waport=debug`, wins when set). Keys are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Check a contact file: what an import would accept, reject and why.
    ///
    /// Exit codes: 0 no row invalid, 3 some rows invalid, 1 fatal error,
    /// 2 usage error.
    Validate(ValidateArgs),
    /// Import a contact file into a platform.
    ///
    /// Credentials come from the environment (WAZZUP_API_KEY,
    /// WHAAPY_API_KEY, WIPSY_API_KEY, WAPIFLOW_CLIENT_ID +
    /// WAPIFLOW_CLIENT_SECRET; base URLs from *_BASE_URL) or a profile in
    /// waport.toml, never from the command line. Exit codes: 0 all rows went
    /// through, 3 some invalid/failed/skipped, 1 fatal, 2 usage, 130
    /// interrupted.
    Import(ImportArgs),
    /// Export a platform's contacts to CSV, XLSX or JSONL.
    Export(ExportArgs),
    /// Move contacts from one platform to another (same pipeline, report and
    /// journal as import).
    Migrate(MigrateArgs),
    /// List jobs recorded in the journal.
    Jobs(JobsArgs),
    /// Continue an interrupted import job.
    Resume(ResumeArgs),
    /// Delete the contacts a job created (not those it updated).
    Rollback(RollbackArgs),
    /// Run a local emulator of the four platform APIs.
    Emulate(EmulateArgs),
    /// Print the sample contact file: `waport sample > contactos.csv`.
    Sample,
    /// Print shell completions: `waport completions bash > /etc/bash_completion.d/waport`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write man pages (roff): `waport man > waport.1`, or one page per
    /// command into a folder with `--dir`.
    Man {
        /// Write waport.1, waport-import.1, … into this folder.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Write a realistic messy contact file for benchmarks.
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// Reading and mapping flags shared by every command that reads a file.
#[derive(clap::Args, Clone)]
struct InputArgs {
    /// CSV, XLSX, XLSM, XLS, XLSB or ODS file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: String,
    /// Force the CSV encoding (utf-8, windows-1252, latin1, utf-16le, ...).
    #[arg(long, value_name = "NAME")]
    encoding: Option<String>,
    /// Force the CSV delimiter (`,` `;` `|` or `tab`).
    #[arg(long, value_name = "C", value_parser = parse_delimiter)]
    delimiter: Option<u8>,
    /// Sheet to read from a workbook, by name or 1-based position.
    #[arg(long, value_name = "NAME|INDEX")]
    sheet: Option<String>,
    /// TOML mapping file: `[columns] "Cel. Personal" = "phone"`.
    #[arg(long = "map", value_name = "FILE")]
    map_file: Option<PathBuf>,
    /// Region (ISO 3166 alpha-2) for national numbers in rows without a country.
    #[arg(long, value_name = "CC", value_parser = parse_region)]
    default_region: Option<String>,
    /// What makes two rows the same contact.
    #[arg(long, value_name = "KEY", value_enum, default_value_t = DedupeBy::Phone)]
    dedupe_by: DedupeBy,
    /// What to do with an invalid e-mail: reject the row, or drop the e-mail.
    #[arg(long, value_name = "POLICY", value_enum, default_value_t = EmailPolicy::Reject)]
    on_invalid_email: EmailPolicy,
    /// Send rows without a phone where the platform allows it (Wipsy),
    /// matched by their e-mail; without this flag they are `invalid`
    /// (`no_identity`), because nothing could find them again.
    #[arg(long)]
    allow_without_phone: bool,
    #[command(flatten)]
    phone: PhoneArgs,
}

/// How phone numbers are chosen and read (README "Phone numbers").
#[derive(clap::Args, Clone, Default)]
struct PhoneArgs {
    /// A bare WhatsApp id valid both as a national number of the row's
    /// country and as an international number: take the international one
    /// (default: reject the row as `ambiguous_phone`).
    #[arg(long, conflicts_with = "prefer_national")]
    prefer_international: bool,
    /// ... take the national one.
    #[arg(long)]
    prefer_national: bool,
    /// Reject rows whose phone is not a mobile (or fixed-line-or-mobile)
    /// number, as `not_mobile`: WhatsApp needs a mobile.
    #[arg(long)]
    require_mobile: bool,
}

impl PhoneArgs {
    fn prefer(&self) -> Prefer {
        if self.prefer_international {
            Prefer::International
        } else if self.prefer_national {
            Prefer::National
        } else {
            Prefer::Ask
        }
    }
}

/// Report flags shared by validate, import and migrate.
#[derive(clap::Args, Clone)]
struct ReportArgs {
    /// Per-row report (default: `<input-stem>.report.csv` here); a PATH
    /// ending in .xlsx writes an Excel workbook with a Summary sheet.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Write only the rejected rows, in the input's own layout plus
    /// `waport_error`: a CSV input's encoding, delimiter and line ends, so
    /// the file opens like the input, and reads back once fixed (.xlsx: as
    /// a workbook).
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    json: bool,
    /// No summary or progress on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Exit 0, not 3, while at most N rows (or P% of them) are invalid:
    /// for scheduled loads with a known share of bad rows. Failed or
    /// skipped rows still exit 3.
    #[arg(long, value_name = "N|P%")]
    max_invalid: Option<waport::report::MaxInvalid>,
    /// Report for Spanish-locale Excel: UTF-8 BOM, `;` and CRLF, as
    /// `export --excel` (without it the report follows the input's
    /// delimiter; the rejects file of a CSV always keeps the input's
    /// encoding, delimiter and line ends).
    #[arg(long)]
    excel: bool,
}

#[derive(clap::Args)]
struct ValidateArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    report: ReportArgs,
    /// Also check the fields this platform requires.
    #[arg(long, value_name = "PLATFORM")]
    to: Option<PlatformKind>,
    /// Print the inferred column mapping and exit.
    #[arg(long)]
    show_mapping: bool,
    /// With `--to wipsy`: the profile whose Wipsy tag/field/stage ids apply.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// With `--to wipsy`: the waport.toml to read Wipsy tag/field/stage ids from.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!(
            "delimiter must be one ASCII character or `tab`, not \"{s}\""
        )),
    }
}

fn parse_region(s: &str) -> Result<String, String> {
    waport::normalize::country::region_code(s)
        .map(str::to_string)
        .ok_or_else(|| format!("unknown region \"{s}\" (use an ISO 3166 code such as MX, ES, RU)"))
}

impl InputArgs {
    fn read_options(&self) -> ReadOptions {
        ReadOptions {
            encoding: self.encoding.clone(),
            delimiter: self.delimiter,
            sheet: self.sheet.clone(),
        }
    }

    fn prepare_options(&self, platform: Option<PlatformKind>) -> PrepareOptions {
        PrepareOptions {
            default_region: self.default_region.clone(),
            dedupe_by: self.dedupe_by,
            on_invalid_email: self.on_invalid_email,
            platform,
            keys_only: false,
            prefer: self.phone.prefer(),
            require_mobile: self.phone.require_mobile,
            allow_without_phone: self.allow_without_phone,
            wipsy_maps: None,
        }
    }
}

/// Upload flags shared by import and migrate.
#[derive(clap::Args, Clone)]
struct UploadArgs {
    /// What to import.
    #[arg(long, value_enum, default_value_t = Entity::Contacts)]
    entity: Entity,
    /// create: leave existing contacts alone (`exists`); upsert: update
    /// them; update: only existing ones [default: upsert, or the profile's
    /// `mode`].
    #[arg(long, value_enum)]
    mode: Option<WriteMode>,
    /// Read the platform and report what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The most requests in flight at once; how many are actually in flight
    /// follows the measured latency and the pace.
    #[arg(long, value_name = "N", default_value_t = waport::upload::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Contacts per request (capped at the platform's maximum, e.g. 100 for Wazzup).
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Wazzup responsibleUserId for new contacts (default: the first user).
    #[arg(long, value_name = "ID")]
    responsible_user: Option<String>,
    /// Whaapy: use the vendor's bulk endpoint (100 a call; undocumented).
    #[arg(long)]
    whaapy_bulk: bool,
    /// Job journal (default: $WAPORT_JOURNAL, else the data dir).
    #[arg(long, value_name = "PATH", env = "WAPORT_JOURNAL")]
    journal: Option<PathBuf>,
    /// Send every row, even those unchanged since the last import.
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// How to reach a platform: flags shared by every command that talks to one.
#[derive(clap::Args, Clone)]
struct ConnectArgs {
    /// The most requests per second (default: the platform's published limit,
    /// or a conservative start that probes upward); 429s slow the pace below it.
    #[arg(long, value_name = "N")]
    rate: Option<f64>,
    /// Attempts per request before giving up on it (an imported row is then `failed`).
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_attempts: u32,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    timeout: f64,
    /// Profile in waport.toml: its keys, and its saved run settings
    /// (default_region, rate, responsible_user, map, mode, …), which flags
    /// given here override.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// waport.toml to read profiles (and Wipsy tag/field/stage ids) from.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

impl ConnectArgs {
    /// At least one attempt.
    fn max_attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }

    /// The timeout, at least a tenth of a second.
    fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout.max(0.1))
    }
}

#[derive(clap::Args)]
struct ImportArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    upload: UploadArgs,
    /// Target platform.
    #[arg(long, value_name = "PLATFORM")]
    to: PlatformKind,
    /// Import into a built-in emulator on a random loopback port (no account needed).
    #[arg(long)]
    sandbox: bool,
}

impl ImportArgs {
    fn config(mut self) -> anyhow::Result<ImportConfig> {
        apply_profile(&mut self.input, &mut self.report, &mut self.upload)?;
        let mut cfg = self
            .upload
            .import_config(self.input.clone(), &self.report, self.to);
        cfg.sandbox = self.sandbox;
        Ok(cfg)
    }
}

#[derive(clap::Args)]
struct ExportArgs {
    /// Platform to read.
    #[arg(long, value_name = "PLATFORM")]
    from: PlatformKind,
    /// Output file: .csv, .xlsx, .jsonl or .vcf (`-` for standard output with --format).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// Format, when the extension does not say.
    #[arg(long, value_parser = ["csv", "xlsx", "jsonl", "vcf"])]
    format: Option<String>,
    /// Columns to write, in this order (e.g. `phone,name,email`).
    #[arg(long, value_name = "A,B,C")]
    columns: Option<String>,
    /// CSV for Spanish-locale Excel: UTF-8 BOM and `;`.
    #[arg(long)]
    excel: bool,
    /// Replace the output file if it exists (never the journal or the config file).
    #[arg(long)]
    force: bool,
    /// What to export (users: Wazzup only).
    #[arg(long, value_enum, default_value_t = Entity::Contacts)]
    entity: Entity,
    #[command(flatten)]
    connect: ConnectArgs,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    json: bool,
    /// No progress or summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
struct MigrateArgs {
    /// Platform to read.
    #[arg(long, value_name = "PLATFORM")]
    from: PlatformKind,
    /// Platform to write.
    #[arg(long, value_name = "PLATFORM")]
    to: PlatformKind,
    /// Credentials profile for the source (--profile is the target's).
    #[arg(long, value_name = "NAME")]
    from_profile: Option<String>,
    /// Requests per second when reading the source.
    #[arg(long, value_name = "N")]
    read_rate: Option<f64>,
    /// TOML mapping file (source field names → target fields, e.g. custom fields).
    #[arg(long = "map", value_name = "FILE")]
    map_file: Option<PathBuf>,
    /// Region for national numbers without a country.
    #[arg(long, value_name = "CC", value_parser = parse_region)]
    default_region: Option<String>,
    /// What makes two contacts the same.
    #[arg(long, value_name = "KEY", value_enum, default_value_t = DedupeBy::Phone)]
    dedupe_by: DedupeBy,
    /// What to do with an invalid e-mail.
    #[arg(long, value_name = "POLICY", value_enum, default_value_t = EmailPolicy::Reject)]
    on_invalid_email: EmailPolicy,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    upload: UploadArgs,
}

#[derive(clap::Args)]
struct JobsArgs {
    /// Job journal (default: $WAPORT_JOURNAL, else the data dir).
    #[arg(long, value_name = "PATH", env = "WAPORT_JOURNAL")]
    journal: Option<PathBuf>,
    /// How many recent jobs to list.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// One JSON object per job.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ResumeArgs {
    /// The job (`j-12` or `12`), from `waport jobs`.
    job: JobId,
    /// Force the CSV encoding, as in the original run.
    #[arg(long, value_name = "NAME")]
    encoding: Option<String>,
    /// Force the CSV delimiter, as in the original run.
    #[arg(long, value_name = "C", value_parser = parse_delimiter)]
    delimiter: Option<u8>,
    /// Sheet, as in the original run.
    #[arg(long, value_name = "NAME|INDEX")]
    sheet: Option<String>,
    /// Mapping file, as in the original run.
    #[arg(long = "map", value_name = "FILE")]
    map_file: Option<PathBuf>,
    /// Region, as in the original run.
    #[arg(long, value_name = "CC", value_parser = parse_region)]
    default_region: Option<String>,
    /// Phone flags, as in the original run.
    #[command(flatten)]
    phone: PhoneArgs,
    /// As for import: rows without a phone are matched by e-mail (give it
    /// again if the job was started with it).
    #[arg(long)]
    allow_without_phone: bool,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    upload: UploadArgs,
}

#[derive(clap::Args)]
struct RollbackArgs {
    /// The job (`j-12` or `12`) whose created contacts to delete.
    job: JobId,
    /// List what would be deleted; delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Report path (default: rollback-<job>.report.csv).
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    #[command(flatten)]
    connect: ConnectArgs,
    /// Job journal (default: $WAPORT_JOURNAL, else the data dir).
    #[arg(long, value_name = "PATH", env = "WAPORT_JOURNAL")]
    journal: Option<PathBuf>,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    json: bool,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// The rows settings `validate` and `import` share; `platform` is the
/// target whose required fields are checked.
fn rows_config(
    input: &InputArgs,
    report: &ReportArgs,
    platform: Option<PlatformKind>,
) -> RowsConfig {
    RowsConfig {
        input: input.file.clone(),
        read: input.read_options(),
        map_file: input.map_file.clone(),
        prepare: input.prepare_options(platform),
        report: report.report.clone(),
        rejects: report.rejects.clone(),
        json: report.json,
        quiet: report.quiet,
        max_invalid: report.max_invalid,
        excel: report.excel,
    }
}

/// Fills what the command line left unset from the run settings of
/// `--profile` (README "Profiles"): a flag given always wins.
fn apply_profile(
    input: &mut InputArgs,
    report: &mut ReportArgs,
    upload: &mut UploadArgs,
) -> anyhow::Result<()> {
    let Some(profile) = upload.connect.profile.as_deref() else {
        return Ok(());
    };
    let s = waport::platform::credentials::run_settings(profile, upload.connect.config.as_deref())?;
    input.default_region = input.default_region.take().or(s.default_region);
    input.map_file = input.map_file.take().or(s.map);
    input.allow_without_phone |= s.allow_without_phone;
    input.phone.require_mobile |= s.require_mobile;
    if !input.phone.prefer_international && !input.phone.prefer_national {
        match s.prefer {
            Some(Prefer::International) => input.phone.prefer_international = true,
            Some(Prefer::National) => input.phone.prefer_national = true,
            Some(Prefer::Ask) | None => {}
        }
    }
    report.max_invalid = report.max_invalid.or(s.max_invalid);
    upload.mode = upload.mode.or(s.mode);
    upload.responsible_user = upload.responsible_user.take().or(s.responsible_user);
    upload.batch_size = upload.batch_size.or(s.batch_size);
    upload.connect.rate = upload.connect.rate.or(s.rate);
    Ok(())
}

impl UploadArgs {
    /// The import settings these flags give, around `input`.
    fn import_config(
        &self,
        input: InputArgs,
        report: &ReportArgs,
        to: PlatformKind,
    ) -> ImportConfig {
        ImportConfig {
            rows: rows_config(&input, report, Some(to)),
            platform: to,
            entity: self.entity,
            mode: self.mode.unwrap_or(WriteMode::Upsert),
            dry_run: self.dry_run,
            rate: self.connect.rate,
            concurrency: self.concurrency.max(1),
            batch_size: self.batch_size,
            max_attempts: self.connect.max_attempts(),
            timeout: self.connect.timeout(),
            sandbox: false,
            profile: self.connect.profile.clone(),
            config: self.connect.config.clone(),
            responsible_user: self.responsible_user.clone(),
            whaapy_bulk: self.whaapy_bulk,
            journal: self.journal.clone(),
            full: self.full,
            resume: None,
            command_line: std::env::args().collect(),
        }
    }
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Number of data rows.
    #[arg(long, default_value_t = 200_000)]
    rows: u64,
    /// Output file (`-` for standard output).
    #[arg(long, short)]
    output: PathBuf,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// UTF-8 with `,` instead of Windows-1252 with `;`.
    #[arg(long)]
    utf8: bool,
}

#[derive(clap::Args)]
struct EmulateArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Seed for fault injection, making a run reproducible.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// At most N requests per second (or per window: `50/5s`, `100/min`)
    /// per platform and key, 429 with Retry-After beyond it. 0 switches
    /// every limit off, the documented defaults included (Wazzup 500 per
    /// 5 s, Whaapy 100 per minute).
    #[arg(long, value_name = "N[/WINDOW]")]
    rate_limit: Option<waport::emulator::LimitSpec>,
    /// A limit that changes during the run: `SECONDS:LIMIT,...` from the
    /// start, e.g. `0:500/5s,30:100/5s`; each platform answers a 429 its own
    /// way (Wazzup without Retry-After). Overrides --rate-limit.
    #[arg(long, value_name = "T:N[/WINDOW],...")]
    rate_limit_schedule: Option<waport::emulator::LimitSchedule>,
    /// Fraction (0..1) of requests that fail with an injected fault.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    fault_rate: f64,
    /// Latency added to every response, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// Up to this many milliseconds more or less latency, at random.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_jitter_ms: u64,
    /// JSON file to load stored data from at start and save it to at exit.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Wipsy free plan: 429 after 100 contacts created in the month.
    #[arg(long)]
    wipsy_free_plan: bool,
    /// Wipsy: serve the listing only as documented (at most 500, `offset`
    /// ignored), as an account with more contacts than it shows.
    #[arg(long)]
    wipsy_no_offset: bool,
    /// Addresses or CIDR blocks WapiFlow accepts (default: loopback only).
    #[arg(long, value_name = "IP[/BITS]", value_delimiter = ',')]
    wapiflow_whitelist: Vec<String>,
    /// How long a "delayed" fault holds its response back, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = waport::emulator::DEFAULT_FAULT_DELAY_MS)]
    fault_delay_ms: u64,
    /// Do not apply Wazzup's documented 500 requests per 5 s.
    #[arg(long)]
    no_wazzup_limit: bool,
    /// Do not apply Whaapy's published 100 requests per minute.
    #[arg(long)]
    no_whaapy_limit: bool,
    /// WapiFlow plan limit on stored contacts (then `contact_limit`).
    #[arg(long, value_name = "N")]
    wapiflow_contact_limit: Option<u32>,
}

fn run_export(a: ExportArgs) -> anyhow::Result<ExitStatus> {
    let format = match a.format.as_deref() {
        Some(f) => Some(f.parse::<ExportFormat>()?),
        None => None,
    };
    let entity = a.entity;
    Ok(waport::commands::export::run(ExportConfig {
        platform: a.from,
        entity,
        output: a.output,
        format,
        columns: a.columns,
        excel: a.excel,
        force: a.force,
        rate: a.connect.rate,
        timeout: a.connect.timeout(),
        max_attempts: a.connect.max_attempts(),
        profile: a.connect.profile,
        config: a.connect.config,
        quiet: a.quiet,
        json: a.json,
    })?)
}

/// Writes the man pages of `cmd` and its subcommands: the top page to
/// stdout, or every page into `dir`.
fn man_pages(dir: Option<&std::path::Path>) -> anyhow::Result<ExitStatus> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let Some(dir) = dir else {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut buf)?;
        waport::print(&String::from_utf8_lossy(&buf))?;
        return Ok(ExitStatus::Ok);
    };
    std::fs::create_dir_all(dir)?;
    let mut pages = vec![(String::from("waport"), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("waport-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().display_name(name)));
    }
    for (name, page) in pages {
        let mut buf = Vec::new();
        clap_mangen::Man::new(page).render(&mut buf)?;
        std::fs::write(dir.join(format!("{name}.1")), buf)?;
    }
    Ok(ExitStatus::Ok)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Warnings from the library (a late undecodable CSV field, a journal
    // hiccup) go to stderr; -v and WAPORT_LOG show more. No key is ever
    // logged.
    // -v raises waport's own logging only: the HTTP stack's trace output
    // is not ours to vouch for (headers carry keys).
    let level = match cli.verbose {
        0 => "warn",
        1 => "warn,waport=info",
        2 => "warn,waport=debug",
        _ => "warn,waport=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WAPORT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal())
        .without_time()
        .init();
    let result: anyhow::Result<ExitStatus> = match cli.command {
        Command::Validate(a) => (|| -> anyhow::Result<ExitStatus> {
            let mut rows = rows_config(&a.input, &a.report, a.to);
            if a.to == Some(PlatformKind::Wipsy) {
                rows.prepare.wipsy_maps = Some(waport::platform::WipsyMaps::resolve(
                    a.profile.as_deref(),
                    a.config.as_deref(),
                )?);
            }
            waport::commands::validate::run(ValidateConfig {
                rows,
                show_mapping: a.show_mapping,
            })
            .map_err(anyhow::Error::from)
        })(),
        Command::Import(a) => a
            .config()
            .and_then(|cfg| waport::commands::import::run(cfg).map_err(anyhow::Error::from)),
        Command::Export(a) => run_export(a),
        Command::Migrate(mut a) => {
            let mut input = InputArgs {
                file: String::new(),
                encoding: None,
                delimiter: None,
                sheet: None,
                map_file: a.map_file.clone(),
                default_region: a.default_region.clone(),
                dedupe_by: a.dedupe_by,
                on_invalid_email: a.on_invalid_email,
                phone: PhoneArgs::default(),
                allow_without_phone: false,
            };
            apply_profile(&mut input, &mut a.report, &mut a.upload).and_then(|()| {
                waport::commands::migrate::run(MigrateConfig {
                    from: a.from,
                    from_profile: a.from_profile.clone(),
                    read_rate: a.read_rate,
                    import: a.upload.import_config(input, &a.report, a.to),
                })
                .map_err(anyhow::Error::from)
            })
        }
        Command::Jobs(a) => waport::commands::jobs::list(JobsConfig {
            journal: a.journal,
            limit: a.limit,
            json: a.json,
        })
        .map_err(anyhow::Error::from),
        Command::Resume(mut a) => {
            let mut input = InputArgs {
                file: String::new(),
                encoding: a.encoding.clone(),
                delimiter: a.delimiter,
                sheet: a.sheet.clone(),
                map_file: a.map_file.clone(),
                default_region: a.default_region.clone(),
                dedupe_by: DedupeBy::Phone,
                on_invalid_email: EmailPolicy::Reject,
                phone: a.phone.clone(),
                allow_without_phone: a.allow_without_phone,
            };
            apply_profile(&mut input, &mut a.report, &mut a.upload).and_then(|()| {
                let base = a
                    .upload
                    .import_config(input, &a.report, PlatformKind::Wazzup);
                waport::commands::jobs::resume_config(base, a.job)
                    .and_then(waport::commands::import::run)
                    .map_err(anyhow::Error::from)
            })
        }
        Command::Rollback(a) => waport::commands::jobs::rollback(RollbackConfig {
            job: a.job,
            journal: a.journal,
            dry_run: a.dry_run,
            report: a.report,
            rate: a.connect.rate,
            timeout: a.connect.timeout(),
            max_attempts: a.connect.max_attempts(),
            profile: a.connect.profile,
            config: a.connect.config,
            json: a.json,
            quiet: a.quiet,
        })
        .map_err(anyhow::Error::from),
        Command::Sample => waport::commands::sample::run().map_err(anyhow::Error::from),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "waport", &mut buf);
            waport::print(&String::from_utf8_lossy(&buf))
                .map(|()| ExitStatus::Ok)
                .map_err(anyhow::Error::from)
        }
        Command::Man { dir } => man_pages(dir.as_deref()),
        Command::Generate(a) => waport::commands::generate::run(GenerateConfig {
            rows: a.rows,
            output: a.output,
            seed: a.seed,
            utf8: a.utf8,
        })
        .map_err(anyhow::Error::from),
        Command::Emulate(a) => waport::commands::emulate::run(waport::emulator::EmulatorConfig {
            listen: a.listen,
            seed: a.seed,
            rate_limit: a.rate_limit.map(|l| l.count),
            rate_limit_window: a.rate_limit.map_or(Duration::from_secs(1), |l| l.window),
            rate_limit_schedule: a.rate_limit_schedule.map(|s| s.0).unwrap_or_default(),
            fault_rate: a.fault_rate,
            latency_ms: a.latency_ms,
            latency_jitter_ms: a.latency_jitter_ms,
            state_file: a.state,
            wipsy_free_plan: a.wipsy_free_plan,
            wipsy_no_offset: a.wipsy_no_offset,
            wapiflow_whitelist: a.wapiflow_whitelist,
            fault_delay_ms: a.fault_delay_ms,
            wazzup_default_limit: !a.no_wazzup_limit,
            whaapy_default_limit: !a.no_whaapy_limit,
            wapiflow_contact_limit: a.wapiflow_contact_limit,
            ..Default::default()
        })
        .map_err(anyhow::Error::from),
    };
    match result {
        Ok(status) => ExitCode::from(status.code()),
        // The reader of our output went away (`waport jobs | head -1`):
        // not a failure, and nothing to say.
        Err(e) if waport::is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            // The cause chain, each cause once: many messages already quote
            // their source's text.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            eprintln!("waport: {msg}");
            // A refused output path is a mistake on the command line.
            let usage = matches!(
                e.downcast_ref::<waport::Error>(),
                Some(waport::Error::Refused(_))
            ) || e.downcast_ref::<waport::safety::SafetyError>().is_some();
            ExitCode::from(if usage {
                ExitStatus::Usage.code()
            } else {
                ExitStatus::Fatal.code()
            })
        }
    }
}

// The pipeline allocates on the reader thread and frees on the normalizer and
// writer threads; glibc's allocator spent ~40% of a validate run on that
// cross-thread traffic (perf, 1M rows), mimalloc's per-thread free lists ~15%.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
