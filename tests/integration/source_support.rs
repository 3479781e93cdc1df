//! Shared helpers for the reader tests: fixture paths and whole reads.

#![allow(dead_code)]

use std::path::PathBuf;

use waport::source::{ReadOptions, Record, Source, open};

/// Path of a file in `fixtures/`.
pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Every record of an opened source (each must read without error).
pub fn drain(mut src: Source) -> (Source, Vec<Record>) {
    let records: Vec<Record> = src.records.by_ref().map(Result::unwrap).collect();
    (src, records)
}

/// Opens `path` with `opts` and reads it whole.
pub fn read_with(path: &str, opts: &ReadOptions) -> (Source, Vec<Record>) {
    drain(open(path, opts).unwrap())
}

/// Reads a fixture whole with default options.
pub fn read_fixture(name: &str) -> (Source, Vec<Record>) {
    read_with(&fixture(name), &ReadOptions::default())
}
