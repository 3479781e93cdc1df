//! The `waport` binary: parses the command line and calls the library.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use waport::ExitStatus;

/// Move contacts in and out of WhatsApp CRM platforms.
#[derive(Parser)]
#[command(name = "waport", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a local emulator of the four platform APIs.
    Emulate(EmulateArgs),
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
