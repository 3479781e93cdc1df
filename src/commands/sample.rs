//! `waport sample`: prints the sample contact file of the README's first
//! example, so "Start here" works after `cargo install` too (the fixture
//! itself lives only in the source tree).

use crate::{Error, ExitStatus};

/// The README's sample: 14 Spanish-layout rows (`;`, Spanish headers), with
/// one repeat, an incomplete phone and a mistyped e-mail.
pub const SAMPLE_CSV: &str = include_str!("../../fixtures/contacts_es.csv");

/// Writes the sample to standard output.
pub fn run() -> Result<ExitStatus, Error> {
    crate::print(SAMPLE_CSV)?;
    Ok(ExitStatus::Ok)
}
