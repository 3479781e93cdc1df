//! The integration tests: one test binary (as xsv and ripgrep do), so CI
//! links once. `cli` drives the real `waport` binary; the other modules
//! test the library against the emulator and real files. The shared
//! harnesses are `*_support` and `phone_gen`.
//!
//! `tests/platform_credentials.rs` stays its own binary: it changes the
//! process environment, which is unsound while other tests spawn children.

mod cli;
mod emulator_cli;
mod emulator_faults;
mod emulator_support;
mod emulator_wapiflow;
mod emulator_wazzup;
mod emulator_whaapy;
mod emulator_wipsy;
mod export_writers;
mod generated_tables;
mod journal_concurrency;
mod journal_rows;
mod journal_sanitize;
mod journal_schema;
mod journal_throughput;
mod normalize_country;
mod normalize_differential;
mod normalize_fastpath;
mod normalize_phone;
mod phone_gen;
mod platform_support;
mod platform_wapiflow;
mod platform_wazzup;
mod platform_whaapy;
mod platform_wipsy;
mod report_props;
mod source_csv;
mod source_proptest;
mod source_spreadsheet;
mod source_support;
mod source_third_party;
mod upload_faults;
mod upload_retry;
mod upload_throughput;
mod vcard;
