//! The `waport` binary: parses the command line and calls the library.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use waport::ExitStatus;
use waport::commands::validate::ValidateConfig;
use waport::pipeline::PrepareOptions;
use waport::platform::PlatformKind;
use waport::source::ReadOptions;

/// Move contacts in and out of WhatsApp CRM platforms.
#[derive(Parser)]
#[command(name = "waport", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a contact file: what an import would accept, reject and why.
    ///
    /// Exit codes: 0 no row invalid, 3 some rows invalid, 1 fatal error,
    /// 2 usage error.
    Validate(ValidateArgs),
    /// Run a local emulator of the four platform APIs.
    Emulate(EmulateArgs),
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
    #[arg(long, value_name = "KEY", default_value = "phone", value_parser = ["phone", "email", "phone+email"])]
    dedupe_by: String,
    /// What to do with an invalid e-mail: reject the row, or drop the e-mail.
    #[arg(long, value_name = "POLICY", default_value = "reject", value_parser = ["reject", "drop"])]
    on_invalid_email: String,
}

/// Report flags shared by validate, import and migrate.
#[derive(clap::Args, Clone)]
struct ReportArgs {
    /// Per-row report (default: `<input-stem>.report.csv` here).
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Write only the rejected rows, in the input's own layout plus `waport_error`.
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    json: bool,
    /// No summary or progress on stderr.
    #[arg(long, short)]
    quiet: bool,
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
            dedupe_by: self.dedupe_by.parse().unwrap_or_default(),
            on_invalid_email: self.on_invalid_email.parse().unwrap_or_default(),
            platform,
        }
    }
}

#[derive(clap::Args)]
struct EmulateArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Seed for fault injection, making a run reproducible.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// At most N requests per second per platform and key.
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
    /// Fraction (0..1) of requests that fail with an injected fault.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    fault_rate: f64,
    /// Latency added to every response, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// JSON file to load stored data from at start and save it to at exit.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Wipsy free plan: 429 after 100 contacts created in the month.
    #[arg(long)]
    wipsy_free_plan: bool,
    /// Addresses or CIDR blocks WapiFlow accepts (default: loopback only).
    #[arg(long, value_name = "IP[/BITS]", value_delimiter = ',')]
    wapiflow_whitelist: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitStatus> = match cli.command {
        Command::Validate(a) => waport::commands::validate::run(ValidateConfig {
            input: a.input.file.clone(),
            read: a.input.read_options(),
            map_file: a.input.map_file.clone(),
            prepare: a.input.prepare_options(a.to),
            report: a.report.report,
            rejects: a.report.rejects,
            json: a.report.json,
            quiet: a.report.quiet,
            show_mapping: a.show_mapping,
        })
        .map_err(anyhow::Error::from),
        Command::Emulate(a) => waport::commands::emulate::run(waport::emulator::EmulatorConfig {
            listen: a.listen,
            seed: a.seed,
            rate_limit: a.rate_limit,
            fault_rate: a.fault_rate,
            latency_ms: a.latency_ms,
            state_file: a.state,
            wipsy_free_plan: a.wipsy_free_plan,
            wapiflow_whitelist: a.wapiflow_whitelist,
            ..Default::default()
        })
        .map_err(anyhow::Error::from),
    };
    match result {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) => {
            eprintln!("waport: {e:#}");
            ExitCode::from(ExitStatus::Fatal.code())
        }
    }
}
