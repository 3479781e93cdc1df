//! Regenerates waport's generated tables:
//!
//! ```text
//! cargo run --example gen_tables -- phone-meta
//! cargo run --example gen_tables -- country-names [--iso-codes-prefix DIR]
//! ```
//!
//! `phone-meta` writes `src/normalize/phone/meta.rs` from the metadata of the
//! `rlibphonenumber` in Cargo.lock; `country-names` writes
//! `src/normalize/country_names.rs` from the iso-codes package installed
//! under DIR (default `/usr`). Each file's header names the command and the
//! versions it was made from.
//!
//! Why an example: a `src/bin/` program would be installed by `cargo
//! install` next to `waport`, and a hidden subcommand would ship the
//! generator (and an iso-codes reader) in every user's binary. An example
//! is built only by `cargo test` and `cargo run --example`, links the very
//! `rlibphonenumber` the lock file gives the binary, and keeps the crate one
//! package (no workspace, no xtask). Its logic is in `tables.rs`, which
//! tests/integration/generated_tables.rs also compiles to check the
//! committed tables.
//!
//! The program writes the files itself rather than printing them: a shell
//! redirection would empty `meta.rs` before cargo compiled the library that
//! includes it.

mod tables;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: cargo run --example gen_tables -- \
                     (phone-meta | country-names [--iso-codes-prefix DIR])";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_tables: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (path, text) = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["phone-meta"] => {
            let engine = tables::engine_versions(root)?;
            (tables::PHONE_META_PATH, tables::phone_meta(&engine)?)
        }
        ["country-names"] => (
            tables::COUNTRY_NAMES_PATH,
            tables::country_names(
                Path::new(tables::DEFAULT_ISO_CODES_PREFIX),
                tables::COUNTRY_NAMES_COMMAND,
            )?,
        ),
        ["country-names", "--iso-codes-prefix", prefix] => {
            let command = format!(
                "{} --iso-codes-prefix {prefix}",
                tables::COUNTRY_NAMES_COMMAND
            );
            let prefix = PathBuf::from(prefix);
            (
                tables::COUNTRY_NAMES_PATH,
                tables::country_names(&prefix, &command)?,
            )
        }
        _ => return Err(USAGE.to_owned()),
    };
    let dest = root.join(path);
    std::fs::write(&dest, text).map_err(|e| format!("writing {}: {e}", dest.display()))?;
    eprintln!("gen_tables: wrote {}", dest.display());
    Ok(())
}
