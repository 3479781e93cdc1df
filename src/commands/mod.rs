//! One file per subcommand. Each takes a validated config (built by the
//! binary from its flags) and returns the process exit status.

pub mod emulate;
pub mod export;
pub mod generate;
pub mod import;
pub mod jobs;
pub mod migrate;
pub mod sample;
pub mod validate;
