//! The committed generated tables are what their generator
//! (examples/gen_tables) makes today: the phone metadata from the engine
//! waport links, for every region, and the ISO 3166 names from the
//! iso-codes release their header names. A dependency bump that changes the
//! data fails here with the command that regenerates the file.

#[path = "../../examples/gen_tables/tables.rs"]
mod tables;

use std::path::Path;

use rlibphonenumber::PHONE_NUMBER_UTIL;
use rlibphonenumber::enums::Region;
use rlibphonenumber::interfaces::AsOriginal;
use waport::normalize::phone;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// The first line where two texts differ, for a readable failure (the
/// tables are thousands of lines long).
fn first_difference(have: &str, want: &str) -> String {
    let mut have_lines = have.lines();
    let mut want_lines = want.lines();
    for n in 1.. {
        match (have_lines.next(), want_lines.next()) {
            (None, None) => break,
            (h, w) if h == w => {}
            (h, w) => {
                let show =
                    |l: Option<&str>| l.map_or("end of file".to_owned(), |l| format!("{l:?}"));
                return format!("line {n}: committed {}, generated {}", show(h), show(w));
            }
        }
    }
    "only in line endings".to_owned()
}

#[test]
fn phone_metadata_table_is_the_engines() {
    let engine = tables::engine_versions(root()).unwrap();
    let want = tables::phone_meta(&engine).unwrap();
    let have = committed(tables::PHONE_META_PATH);
    assert!(
        have == want,
        "{} is not the metadata of rlibphonenumber {} (libphonenumber metadata {}); \
         regenerate it with `{}`. First difference: {}",
        tables::PHONE_META_PATH,
        engine.version,
        engine.metadata,
        tables::PHONE_META_COMMAND,
        first_difference(&have, &want)
    );
}

/// The fast path lists a calling code's regions main country first, then in
/// table order (`fast.rs`, `TABLES`); the engine lists them main first, then
/// in the order of its metadata file, and tries them in that order to find a
/// number's region. The generator writes regions sorted by id, so this checks
/// that the two orders agree for every calling code.
#[test]
fn table_order_gives_each_calling_codes_regions_in_engine_order() {
    let util = PHONE_NUMBER_UTIL.as_original();
    let table = phone::metadata_regions();
    let mut codes: Vec<i32> = util.get_supported_calling_codes().collect();
    codes.sort_unstable();
    assert!(codes.len() > 200, "only {} calling codes", codes.len());
    for cc in codes {
        let engine: Vec<String> = util
            .get_regions_for_country_calling_code(cc)
            .unwrap()
            .map(|r| r.to_string())
            .collect();
        let mut ours: Vec<String> = Vec::new();
        for &(id, _) in table.iter().filter(|(_, c)| *c == cc) {
            let region = Region::from_code(id).unwrap();
            let main = region != Region::World
                && util
                    .get_metadata_for_region(region)
                    .unwrap()
                    .original
                    .main_country_for_code();
            if main {
                ours.insert(0, id.to_owned());
            } else {
                ours.push(id.to_owned());
            }
        }
        assert_eq!(ours, engine, "regions of +{cc}");
    }
}

#[test]
fn country_names_table_is_iso_codes() {
    let have = committed(tables::COUNTRY_NAMES_PATH);
    let named = have
        .lines()
        .find_map(|l| l.strip_prefix("// iso-codes version: "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the header names the iso-codes version");
    let prefix = Path::new(tables::DEFAULT_ISO_CODES_PREFIX);
    let pc = prefix.join("share/pkgconfig/iso-codes.pc");
    let installed = std::fs::read_to_string(&pc).ok().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("Version:"))
            .map(|v| v.trim().to_owned())
    });
    // The names come from a system package, not from a crate: only a
    // machine with the same release can check them.
    if installed.as_deref() != Some(named) {
        eprintln!(
            "skipped: {} was made from iso-codes {named}, and {} has {:?}",
            tables::COUNTRY_NAMES_PATH,
            pc.display(),
            installed
        );
        return;
    }
    let want = tables::country_names(prefix, tables::COUNTRY_NAMES_COMMAND).unwrap();
    assert!(
        have == want,
        "{} is not what iso-codes {named} gives; regenerate it with `{}`. First difference: {}",
        tables::COUNTRY_NAMES_PATH,
        tables::COUNTRY_NAMES_COMMAND,
        first_difference(&have, &want)
    );
}
