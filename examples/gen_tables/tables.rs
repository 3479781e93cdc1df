//! The generators of waport's committed tables: the phone fast path's copy
//! of the engine's metadata (`src/normalize/phone/meta.rs`) and the ISO 3166
//! names of `src/normalize/country_names.rs`.
//!
//! This file is the example's module and is also included by
//! tests/integration/generated_tables.rs, which renders the tables in-process
//! and compares them with the committed files: a dependency bump that changes
//! the data without regenerating fails there, naming the command to run.
//!
//! The output is laid out as `rustfmt` (default configuration) lays it out,
//! so `cargo fmt` leaves the generated files unchanged.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use rlibphonenumber::PHONE_NUMBER_UTIL;
use rlibphonenumber::enums::Region;
use rlibphonenumber::interfaces::AsOriginal;

/// Where the phone metadata table lives, relative to the crate root.
pub const PHONE_META_PATH: &str = "src/normalize/phone/meta.rs";
/// Where the ISO 3166 names table lives, relative to the crate root.
pub const COUNTRY_NAMES_PATH: &str = "src/normalize/country_names.rs";
/// The command that regenerates the phone metadata table.
pub const PHONE_META_COMMAND: &str = "cargo run --example gen_tables -- phone-meta";
/// The command that regenerates the country names table from the iso-codes
/// package installed under the default prefix.
pub const COUNTRY_NAMES_COMMAND: &str = "cargo run --example gen_tables -- country-names";
/// Where distributions install the iso-codes package (Debian's and Fedora's
/// `iso-codes`).
pub const DEFAULT_ISO_CODES_PREFIX: &str = "/usr";

/// rustfmt's default `max_width`.
const MAX_WIDTH: usize = 100;
/// rustfmt's default `fn_call_width`, which also bounds a tuple's contents.
const FN_CALL_WIDTH: usize = 60;
/// rustfmt's default `array_width`.
const ARRAY_WIDTH: usize = 60;

/// Versions of the phone engine the table is made from.
pub struct Engine {
    /// The `rlibphonenumber` package version in Cargo.lock.
    pub version: String,
    /// The libphonenumber metadata release it embeds.
    pub metadata: String,
}

/// Finds the locked `rlibphonenumber` version and the metadata release it
/// embeds. The crate exposes neither at run time: the version comes from
/// `cargo metadata` (the same lock file the generator was built with) and
/// the metadata release from the crate's README, its only statement of it.
pub fn engine_versions(manifest_dir: &Path) -> Result<Engine, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = run(Command::new(&rustc).arg("-vV"))?;
    let host = out
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or("`rustc -vV` printed no host triple")?
        .to_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // `--filter-platform`: without it cargo wants the manifests of every
    // platform's dependencies, which are not downloaded and `--offline`
    // would refuse to fetch.
    let out = run(Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host, "--manifest-path"])
        .arg(manifest_dir.join("Cargo.toml")))?;
    let json: serde_json::Value =
        serde_json::from_str(&out).map_err(|e| format!("cargo metadata: {e}"))?;
    let packages: Vec<&serde_json::Value> = json["packages"]
        .as_array()
        .ok_or("cargo metadata printed no packages")?
        .iter()
        .filter(|p| p["name"] == "rlibphonenumber")
        .collect();
    let [package] = packages[..] else {
        return Err(format!(
            "expected one rlibphonenumber package in the lock file, found {}",
            packages.len()
        ));
    };
    let version = package["version"]
        .as_str()
        .ok_or("rlibphonenumber has no version")?
        .to_owned();
    let manifest = package["manifest_path"]
        .as_str()
        .ok_or("rlibphonenumber has no manifest path")?;
    let readme =
        Path::new(manifest).with_file_name(package["readme"].as_str().unwrap_or("Readme.md"));
    let text = std::fs::read_to_string(&readme)
        .map_err(|e| format!("reading {}: {e}", readme.display()))?;
    // "**Used metadata version:** `v9.0.42`"
    let metadata = text
        .lines()
        .find_map(|l| l.split_once("Used metadata version:"))
        .and_then(|(_, rest)| rest.split('`').nth(1))
        .map(|v| v.trim_start_matches('v').to_owned())
        .ok_or_else(|| {
            format!(
                "{} no longer states its \"Used metadata version\"; find the \
                 libphonenumber release it embeds and update engine_versions",
                readme.display()
            )
        })?;
    Ok(Engine { version, metadata })
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{cmd:?} printed non-UTF-8: {e}"))
}

/// A `name: Some("…"),` / `name: None,` field line at `indent` spaces.
/// rustfmt keeps a one-argument call on its line while the line fits, and
/// otherwise moves the literal to its own line (even when that line is
/// still too long: it never splits a string).
fn opt_str_field(out: &mut String, indent: usize, name: &str, value: Option<&str>) {
    let pad = " ".repeat(indent);
    let Some(value) = value else {
        let _ = writeln!(out, "{pad}{name}: None,");
        return;
    };
    let value = lit(value);
    let line = format!("{pad}{name}: Some({value}),");
    if width(&line) <= MAX_WIDTH {
        out.push_str(&line);
        out.push('\n');
    } else {
        let _ = writeln!(out, "{pad}{name}: Some(\n{pad}    {value},\n{pad}),");
    }
}

/// A `name: &[1, 2],` field line. The lists are short; a longer one would
/// need rustfmt's vertical layout, which this generator does not write.
fn list_field(out: &mut String, indent: usize, name: &str, values: &[i32]) -> Result<(), String> {
    let items: Vec<String> = values.iter().map(i32::to_string).collect();
    let array = format!("[{}]", items.join(", "));
    let line = format!("{}{name}: &{array},", " ".repeat(indent));
    if width(&array) > ARRAY_WIDTH || width(&line) > MAX_WIDTH {
        return Err(format!(
            "`{}` is too long for one line: teach the generator rustfmt's vertical array layout",
            line.trim()
        ));
    }
    out.push_str(&line);
    out.push('\n');
    Ok(())
}

/// A line's width as rustfmt counts it: the tables hold Latin and Cyrillic
/// text, one column a character, and combining accents (the stress marks
/// of some Russian names), which take none.
fn width(s: &str) -> usize {
    s.chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .count()
}

/// A string literal as a person would write it: `{:?}` would also escape
/// combining accents (`\u{301}`), which rustfmt and readers take as they are.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders `src/normalize/phone/meta.rs` from the engine linked into this
/// program: every region the engine loads (by id) and every non-geographic
/// entity (by calling code), with the fields `fast.rs` replays.
pub fn phone_meta(engine: &Engine) -> Result<String, String> {
    let util = PHONE_NUMBER_UTIL.as_original();
    let mut geo: Vec<_> = util
        .get_supported_regions()
        .map(|r| {
            util.get_metadata_for_region(r)
                .ok_or_else(|| format!("the engine lists {r} but has no metadata for it"))
        })
        .collect::<Result<_, _>>()?;
    geo.sort_by(|a, b| a.original.id.cmp(&b.original.id));
    let mut codes: Vec<i32> = util.get_supported_global_network_calling_codes().collect();
    codes.sort_unstable();
    let non_geo: Vec<_> = codes
        .iter()
        .map(|&cc| {
            util.get_metadata_for_region_or_calling_code(cc, Region::World)
                .ok_or_else(|| format!("the engine lists +{cc} but has no metadata for it"))
        })
        .collect::<Result<_, _>>()?;

    let mut out = header(
        PHONE_META_COMMAND,
        &[
            &format!(
                "rlibphonenumber version: {} (libphonenumber metadata {}).",
                engine.version, engine.metadata
            ),
            "",
            "One entry per PhoneMetadata the engine loads: regions by id, then non-geographic",
            "entities by calling code. Patterns are kept verbatim (pre-anchored `^(?:…)$`).",
            "tests/integration/generated_tables.rs fails when this differs from the engine.",
        ],
    );
    out.push_str("use super::meta_types::{D, M};\n\n");
    out.push_str(
        "/// Every region's metadata needed to parse and validate national significant numbers.\n",
    );
    out.push_str("pub(super) static METADATA: &[M] = &[\n");
    for m in geo.into_iter().chain(non_geo) {
        let o = &m.original;
        let cc = o
            .country_code
            .ok_or_else(|| format!("{} has no calling code", o.id))?;
        out.push_str("    M {\n");
        let _ = writeln!(out, "        id: {},", lit(&o.id));
        let _ = writeln!(out, "        cc: {cc},");
        let _ = writeln!(out, "        main: {},", o.main_country_for_code());
        opt_str_field(
            &mut out,
            8,
            "ld",
            m.leading_digits().pattern_base.as_deref(),
        );
        opt_str_field(
            &mut out,
            8,
            "idd",
            m.international_prefix().pattern_base.as_deref(),
        );
        let npfp = m.national_prefix_for_parsing().pattern_base.as_deref();
        opt_str_field(&mut out, 8, "npfp", npfp);
        let tr = o.national_prefix_transform_rule.as_deref();
        opt_str_field(&mut out, 8, "tr", tr);
        let _ = writeln!(
            out,
            "        same_mf: {},",
            o.same_mobile_and_fixed_line_pattern()
        );
        // The wrapper types are not nameable outside the engine, so a macro
        // rather than a function writes each number type's description.
        macro_rules! desc {
            ($name:literal, $desc:expr) => {{
                let d = &$desc;
                out.push_str(concat!("        ", $name, ": D {\n"));
                let p = d.national_number_pattern().pattern_base.as_deref();
                opt_str_field(&mut out, 12, "p", p);
                list_field(&mut out, 12, "l", &d.original.possible_length)?;
                list_field(&mut out, 12, "lo", &d.original.possible_length_local_only)?;
                out.push_str("        },\n");
            }};
        }
        desc!("general", m.general_desc);
        desc!("fixed", m.fixed_line);
        desc!("mobile", m.mobile);
        desc!("toll_free", m.toll_free);
        desc!("premium", m.premium_rate);
        desc!("shared", m.shared_cost);
        desc!("personal", m.personal_number);
        desc!("voip", m.voip);
        desc!("pager", m.pager);
        desc!("uan", m.uan);
        desc!("voicemail", m.voicemail);
        out.push_str("    },\n");
    }
    out.push_str("];\n");
    Ok(out)
}

/// The header every generated file starts with, in the form regex-syntax's
/// Unicode tables use: the exact command, then what the data came from.
fn header(command: &str, about: &[&str]) -> String {
    let mut out = String::from(
        "// @generated DO NOT EDIT THIS FILE. IT WAS AUTOMATICALLY GENERATED BY:\n//\n",
    );
    let _ = writeln!(out, "//   {command}\n//");
    for line in about {
        if line.is_empty() {
            out.push_str("//\n");
        } else {
            let _ = writeln!(out, "// {line}");
        }
    }
    out.push('\n');
    out
}

/// The translations read, in priority order: Latin American Spanish and
/// Brazilian Portuguese are what waport's users write, so `pt_BR` comes
/// before European `pt` where the two disagree.
const LANGUAGES: [&str; 4] = ["es", "pt_BR", "pt", "ru"];

/// The English names of one ISO 3166-1 entry that are looked up in the
/// translation catalogs too.
const NAME_FIELDS: [&str; 3] = ["name", "official_name", "common_name"];

/// Renders `src/normalize/country_names.rs` from the iso-codes package
/// installed under `prefix` (its JSON data and compiled translations).
/// `command` is what the header names as the way to regenerate it.
pub fn country_names(prefix: &Path, command: &str) -> Result<String, String> {
    let share = prefix.join("share");
    let pc = share.join("pkgconfig/iso-codes.pc");
    let version = read(&pc)?
        .lines()
        .find_map(|l| l.strip_prefix("Version:"))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| format!("{} has no Version line", pc.display()))?;
    let json_path = share.join("iso-codes/json/iso_3166-1.json");
    let json: serde_json::Value = serde_json::from_str(&read(&json_path)?)
        .map_err(|e| format!("{}: {e}", json_path.display()))?;
    let entries = json["3166-1"]
        .as_array()
        .ok_or_else(|| format!("{} has no \"3166-1\" list", json_path.display()))?;
    let mut countries = Vec::with_capacity(entries.len());
    for e in entries {
        let field = |k: &str| e[k].as_str().map(str::to_owned);
        let (Some(a2), Some(a3)) = (field("alpha_2"), field("alpha_3")) else {
            return Err(format!(
                "{}: an entry lacks its codes: {e}",
                json_path.display()
            ));
        };
        let names: Vec<String> = NAME_FIELDS.iter().filter_map(|k| field(k)).collect();
        countries.push((a2, a3, names));
    }

    let mut names = Names::default();
    for (a2, _, english) in &countries {
        for n in english {
            names.add(n, a2);
        }
    }
    for lang in LANGUAGES {
        let mo = share.join(format!("locale/{lang}/LC_MESSAGES/iso_3166-1.mo"));
        let catalog = read_mo(&mo)?;
        for (a2, _, english) in &countries {
            for n in english {
                if let Some(t) = catalog.get(n.as_str()) {
                    names.add(t, a2);
                }
            }
        }
    }
    // "Bonaire, Sint Eustatius and Saba" is also written "Bonaire"; but
    // "Korea, Republic of" and "Korea, Democratic People's Republic of"
    // share their first part, which then names neither.
    let firsts: Vec<(String, String)> = names
        .list
        .iter()
        .filter_map(|(n, a2)| {
            n.split_once(',')
                .map(|(first, _)| (first.trim().to_owned(), a2.clone()))
        })
        .collect();
    let mut codes_of: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (first, a2) in &firsts {
        codes_of.entry(first).or_default().insert(a2);
    }
    for (first, a2) in &firsts {
        if codes_of[first.as_str()].len() == 1 {
            names.add(first, a2);
        }
    }

    let mut out = header(
        command,
        &[
            &format!(
                "iso-codes version: {version} (ISO 3166-1 names, official and common names, and their"
            ),
            &format!(
                "{} translations from {}).",
                LANGUAGES.join(", "),
                share.display()
            ),
            "",
            "Hand-written aliases are in country_aliases.rs; they are looked up first.",
        ],
    );
    out.push_str("/// ISO 3166-1 alpha-2 and alpha-3 codes.\n");
    out.push_str("pub(super) static CODES: &[(&str, &str)] = &[\n");
    for (a2, a3, _) in &countries {
        tuple(&mut out, a2, a3);
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// ISO 3166-1 names to alpha-2, first wins: English, then the translations\n\
         /// (es, pt_BR, pt, ru), then the part before a comma where it names one country.\n",
    );
    out.push_str("pub(super) static NAMES: &[(&str, &str)] = &[\n");
    for (n, a2) in &names.list {
        tuple(&mut out, n, a2);
    }
    out.push_str("];\n");
    Ok(out)
}

/// Names in the order they were added, each (name, code) pair once.
#[derive(Default)]
struct Names {
    list: Vec<(String, String)>,
    seen: HashSet<(String, String)>,
}

impl Names {
    fn add(&mut self, name: &str, a2: &str) {
        let pair = (name.to_owned(), a2.to_owned());
        if !name.is_empty() && self.seen.insert(pair.clone()) {
            self.list.push(pair);
        }
    }
}

/// A `("a", "b"),` array element: rustfmt writes a tuple on one line while
/// its contents fit `fn_call_width`, and otherwise one element a line.
fn tuple(out: &mut String, a: &str, b: &str) {
    let (a, b) = (lit(a), lit(b));
    let inner = format!("{a}, {b}");
    if width(&inner) <= FN_CALL_WIDTH && width(&inner) + 7 <= MAX_WIDTH {
        let _ = writeln!(out, "    ({inner}),");
    } else {
        let _ = writeln!(out, "    (\n        {a},\n        {b},\n    ),");
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// Reads a compiled gettext catalog (GNU `.mo`: a header, then two tables
/// of (length, offset) pairs for the original and translated strings) into
/// msgid → msgstr. Untranslated and empty entries are left out.
fn read_mo(path: &Path) -> Result<HashMap<String, String>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let bad = || format!("{} is not a valid .mo file", path.display());
    let word = |at: usize, big_endian: bool| -> Option<usize> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        let v = if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        usize::try_from(v).ok()
    };
    let big_endian = match word(0, false) {
        Some(0x9504_12de) => false,
        Some(0xde12_0495) => true,
        _ => return Err(bad()),
    };
    let word = |at: usize| word(at, big_endian).ok_or_else(bad);
    let count = word(8)?;
    let (originals, translations) = (word(12)?, word(16)?);
    let string = |table: usize, i: usize| -> Result<String, String> {
        let len = word(table + 8 * i)?;
        let off = word(table + 8 * i + 4)?;
        let raw = bytes.get(off..off + len).ok_or_else(bad)?;
        String::from_utf8(raw.to_vec()).map_err(|_| bad())
    };
    let mut catalog = HashMap::with_capacity(count);
    for i in 0..count {
        let (id, text) = (string(originals, i)?, string(translations, i)?);
        if !id.is_empty() && !text.is_empty() {
            catalog.insert(id, text);
        }
    }
    Ok(catalog)
}
