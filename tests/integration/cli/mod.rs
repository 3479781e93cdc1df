//! Integration tests that drive the real `waport` binary, one module per
//! subcommand, sharing the [`workdir::Workdir`] harness (as xsv does).

mod conveniences;
mod excel;
mod export;
mod import;
mod jobs;
mod layouts;
mod migrate;
mod prefilled;
mod reader;
mod resume;
mod safety;
mod statuses;
mod validate;
pub(crate) mod workdir;
mod xlsx_reports;
