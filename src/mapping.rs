//! Column mapping: which input column feeds which contact field.
//!
//! Headers are recognised case- and accent-insensitively in English,
//! Spanish, Portuguese and Russian, including the layouts CRM and contact
//! apps export (Google Contacts, Outlook, HubSpot, Salesforce, Zoho, Brevo,
//! Mailchimp, amoCRM/Kommo, Bitrix24, Dynamics 365; see `synonyms.rs`); a
//! TOML mapping file (`--map`) overrides any column.
//!
//! Phones get special care because a contact file often has several
//! (Mobile, Work, Home, `Phone 1..N` with a type label) and a cell can hold
//! several (`+52 55 1234 5678 ::: +52 55 8765 4321`). Every number becomes a
//! [`PhoneCandidate`] that knows where it came from; one is chosen (see
//! [`choose_interim`]) and the others are kept for the report.

mod synonyms;

use crate::model::{Contact, Field};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::LazyLock;
use thiserror::Error;

/// Where a column's values go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A canonical contact field.
    Field(Field),
    /// A custom field by name.
    Custom(String),
    /// Deliberately ignored.
    Skip,
}

impl Target {
    /// Whether this is the canonical field `field`.
    pub fn is_field(&self, field: Field) -> bool {
        *self == Target::Field(field)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Field(n) => f.write_str(n.name()),
            Target::Custom(n) => write!(f, "custom:{n}"),
            Target::Skip => f.write_str("skip"),
        }
    }
}

/// How a column got its target, for `--show-mapping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Recognised from the header text.
    Auto,
    /// Named in the mapping file.
    MapFile,
    /// Not recognised and not mapped: ignored.
    Unmapped,
}

/// What a phone column's header or a number's type label says about it:
/// the phone reader's [`Label`](crate::normalize::phone::Label), read here
/// from headers (one classifier for the mapping and the phone choice). The
/// order is the preference: WhatsApp, then mobile, then other.
pub use crate::normalize::phone::Label as PhoneKind;

impl PhoneKind {
    /// Reads a header or a type label ("Mobile", "* Celular", "WhatsApp").
    pub fn of(text: &str) -> PhoneKind {
        let folded = fold_header(text);
        let words: Vec<&str> = folded.split(' ').collect();
        let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
        if has(synonyms::WHATSAPP_WORDS) || folded.contains("whatsapp") {
            PhoneKind::WhatsApp
        } else if has(synonyms::MOBILE_WORDS)
            || words
                .iter()
                .any(|w| synonyms::MOBILE_PREFIXES.iter().any(|p| w.starts_with(p)))
        {
            PhoneKind::Mobile
        } else {
            PhoneKind::Other
        }
    }

    /// The word shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneKind::WhatsApp => "whatsapp",
            PhoneKind::Mobile => "mobile",
            PhoneKind::Other => "other",
        }
    }
}

/// The address a column belongs to, when the layout says: Outlook's
/// Business/Home/Other, Salesforce's Mailing/Other, Google's `Address N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Group {
    /// The header names no group.
    #[default]
    None,
    /// Business, work, office, рабочий.
    Business,
    /// Home, personal, casa, домашний.
    Home,
    /// Salesforce's mailing address (its primary one).
    Mailing,
    /// Other, otro, другой.
    Other,
    /// Google's `Address N - …` columns.
    Numbered(u16),
}

impl Group {
    fn of(folded: &str) -> Group {
        folded
            .split(' ')
            .find_map(|w| {
                synonyms::GROUP_WORDS
                    .iter()
                    .find(|(word, _)| *word == w)
                    .map(|(_, g)| *g)
            })
            .unwrap_or(Group::None)
    }
}

/// One input column and where it goes.
#[derive(Debug, Clone)]
pub struct Column {
    /// Position in the record.
    pub index: usize,
    /// Header text as read.
    pub header: String,
    /// Where its values go ([`Target::Skip`] for ignored columns).
    pub target: Target,
    /// Why.
    pub origin: Origin,
    /// A note shown with the mapping (e.g. "read as the full name").
    pub note: Option<String>,
    /// For a phone column: what its header says.
    pub kind: PhoneKind,
    /// The address group its header names, if any.
    pub group: Group,
    /// For Google's `Phone N - Value`: the column holding its type label.
    pub label: Option<usize>,
}

/// One phone number found in a record, with where it came from: what
/// chooses the contact's WhatsApp number needs to see every candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCandidate<'a> {
    /// The number as written (one piece of a multi-value cell, trimmed,
    /// formula guard undone).
    pub raw: &'a str,
    /// WhatsApp, mobile or other, from the column's header and the type
    /// label (the stronger of the two).
    pub kind: PhoneKind,
    /// The header of the column it came from.
    pub column: &'a str,
    /// The type label next to it (Google's `Phone N - Type/Label`), or "".
    pub label: &'a str,
    /// The address group of its column.
    pub group: Group,
}

/// Picks the contact's phone among `candidates` (in file order): a number
/// whose column or label says WhatsApp, else one that says mobile, else
/// the first. This is the interim rule until the phone reader chooses by
/// the number's type; it looks only at what the file says.
pub fn choose_interim(candidates: &[PhoneCandidate<'_>]) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .min_by_key(|(i, c)| (c.kind, *i))
        .map(|(i, _)| i)
}

/// The phone, e-mail and country cells of one record (see [`Mapping::keys`]),
/// trimmed and with the formula guard undone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys<'a> {
    /// The chosen phone.
    pub phone: &'a str,
    /// What the chosen phone's column or type label says it is.
    pub phone_kind: PhoneKind,
    /// The chosen phone's column header and type label ("" when none).
    pub phone_source: (&'a str, &'a str),
    /// The first e-mail (of the first non-empty e-mail cell).
    pub email: &'a str,
    /// The country: the chosen phone's group's country when the layout
    /// tells, else the first filled country cell.
    pub country: Cow<'a, str>,
    /// The phones not chosen, in file order (empty for a record with one
    /// number, without allocating).
    pub other_phones: Vec<PhoneCandidate<'a>>,
    /// The other e-mails of a multi-value e-mail cell.
    pub other_emails: Vec<&'a str>,
    /// The address group the country came from (or the phone's).
    pub group: Group,
}

/// The mapping for one input file.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// One entry per input column, in input order.
    pub columns: Vec<Column>,
    /// Phone columns (indexes into `columns`), in input order.
    phones: Vec<usize>,
    /// E-mail columns, in input order.
    emails: Vec<usize>,
    /// Country columns, in input order.
    countries: Vec<usize>,
    /// Whether some address column names a group (then only one group's
    /// address goes into a contact).
    grouped: bool,
}

/// A mapping file or header problem.
#[derive(Debug, Error)]
pub enum MappingError {
    /// The mapping file could not be read.
    #[error("cannot read mapping file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The mapping file is not valid TOML of the expected shape.
    #[error("mapping file {path} is not valid: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A target name that is not a field, `custom:NAME` or `skip`.
    #[error(
        "mapping file {path} maps column \"{column}\" to unknown field \"{target}\"; valid targets are: {}, custom:NAME, skip",
        Field::ALL.map(Field::name).join(", ")
    )]
    UnknownTarget {
        /// The file.
        path: String,
        /// The column named.
        column: String,
        /// The bad target.
        target: String,
    },
    /// The mapping file names a column the input does not have.
    #[error(
        "mapping file {path} names column \"{column}\", which the input does not have (its columns: {available})"
    )]
    UnknownColumn {
        /// The file.
        path: String,
        /// The column named.
        column: String,
        /// The input's columns, quoted and comma-separated.
        available: String,
    },
    /// No column maps to a phone and the run needs one: stopping before the
    /// rows beats a report where every row is `missing_phone`.
    #[error(
        "no phone column among: {found}; add  \"{suggest}\" = \"phone\"  under [columns] in a --map file"
    )]
    NoPhoneColumn {
        /// The headers found, each with what it maps to or the nearest
        /// known header.
        found: String,
        /// The column most likely to be the phone.
        suggest: String,
    },
    /// No column maps to anything.
    #[error(
        "no column is recognised among: {found}; add lines such as  \"{suggest}\" = \"phone\"  under [columns] in a --map file"
    )]
    NothingMapped {
        /// The headers found, each with the nearest known header.
        found: String,
        /// The column most likely to be the phone.
        suggest: String,
    },
}

/// The parsed `--map` file.
///
/// Other tables (platform settings such as Wipsy tag ids) may live in the
/// same file; they are read by whoever needs them and ignored here.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MapFile {
    /// Input header → target name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub path: String,
}

impl MapFile {
    /// Reads and parses a mapping file.
    pub fn load(path: &Path) -> Result<MapFile, MappingError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            path: shown.clone(),
            source,
        })?;
        let mut file: MapFile = toml::from_str(&text).map_err(|e| MappingError::Syntax {
            path: shown.clone(),
            message: e.message().to_string(),
        })?;
        file.path = shown;
        Ok(file)
    }
}

/// Undoes the formula-injection guard of CSV exports, reports and rejects
/// files (waport's own and other tools'): see [`crate::export::unguard`].
pub fn unguard(value: &str) -> &str {
    crate::export::unguard(value)
}

/// Parses a target name as written in a mapping file.
pub fn parse_target(name: &str) -> Option<Target> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("skip") {
        return Some(Target::Skip);
    }
    if let Some(custom) = name.strip_prefix("custom:") {
        let custom = custom.trim();
        return (!custom.is_empty()).then(|| Target::Custom(custom.to_string()));
    }
    name.parse::<Field>().ok().map(Target::Field)
}

/// Folds a header for comparison: lowercase, accents removed (`й` → `и`,
/// `ё` → `е` too), every run of non-alphanumeric characters turned into
/// one space. The synonym table is folded by this same function, so a
/// header and its table entry always fold alike.
pub fn fold_header(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut gap = false;
    for c in header.chars().flat_map(char::to_lowercase) {
        let c = fold_accent(c);
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'ē' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'ī' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'ū' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'ý' | 'ÿ' => 'y',
        'ё' => 'е',
        'й' => 'и',
        other => other,
    }
}

/// Folded spelling → field, built once from [`synonyms::SYNONYMS`].
static INDEX: LazyLock<HashMap<String, Field>> = LazyLock::new(|| {
    let mut index = HashMap::new();
    for (field, names) in synonyms::SYNONYMS {
        for name in *names {
            index.entry(fold_header(name)).or_insert(*field);
        }
    }
    index
});

/// Removes trailing record qualifiers: `Мобильный телефон (контакт)` →
/// `Мобильный телефон`, `Nombre completo (Contacto) (Contacto)` →
/// `Nombre completo`.
fn strip_qualifiers(header: &str) -> &str {
    let mut h = header.trim();
    while let Some(body) = h.strip_suffix(')')
        && let Some(open) = body.rfind('(')
    {
        let inner = fold_header(&body[open + 1..]);
        let rest = body[..open].trim_end();
        if rest.is_empty() || !synonyms::QUALIFIERS.contains(&inner.as_str()) {
            break;
        }
        h = rest;
    }
    h
}

/// What a header was recognised as.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recognised {
    target: Target,
    /// Google's `Phone N - Type`: the label of `Phone N - Value`.
    label_of: Option<String>,
    /// A numbered repeat (`E-mail 2 Address`, `Address 1 - Country`): its group.
    group: Option<Group>,
    note: Option<&'static str>,
}

impl Recognised {
    fn field(f: Field) -> Recognised {
        Recognised {
            target: Target::Field(f),
            label_of: None,
            group: None,
            note: None,
        }
    }
}

/// Recognises Google's numbered columns (`Phone 2 - Value`, `Phone 2 -
/// Type`, `Address 1 - Country`, `Organization 1 - Name`) and numbered
/// repeats of a known header (`E-mail 2 Address`, `Teléfono 2`).
fn recognise_numbered(folded: &str) -> Option<Recognised> {
    let words: Vec<&str> = folded.split(' ').collect();
    let at = words
        .iter()
        .position(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))?;
    let n: u16 = words[at].parse().ok()?;
    let prefix = words[..at].join(" ");
    let suffix = words[at + 1..].join(" ");
    // A type label: of the phone next to it, or of some other value.
    let label = |of_phone: bool| Recognised {
        target: Target::Skip,
        label_of: of_phone.then(|| format!("{prefix} {n} value")),
        group: None,
        note: Some(if of_phone {
            "type label of the phone next to it"
        } else {
            "type label"
        }),
    };
    match (prefix.as_str(), suffix.as_str()) {
        ("phone", "value") => Some(Recognised::field(Field::Phone)),
        ("phone", "type" | "label") => Some(label(true)),
        ("e mail" | "email", "value" | "address") => Some(Recognised::field(Field::Email)),
        (
            "e mail" | "email" | "address" | "website" | "organization" | "relation" | "event"
            | "im",
            "type" | "label",
        ) => Some(label(false)),
        ("address", rest) => {
            let field = match rest {
                "country" => Field::Country,
                "city" => Field::City,
                "region" => Field::State,
                "postal code" => Field::PostalCode,
                "street" => Field::Address,
                _ => return None,
            };
            Some(Recognised {
                group: Some(Group::Numbered(n)),
                ..Recognised::field(field)
            })
        }
        ("organization", "name") => Some(Recognised::field(Field::Company)),
        (known, "") => match INDEX.get(known).copied() {
            Some(f @ (Field::Phone | Field::Email)) => Some(Recognised::field(f)),
            _ => None,
        },
        _ => None,
    }
}

fn recognise_full(header: &str, context: &[String]) -> Option<Recognised> {
    if let Some(t) = header.trim().strip_prefix("custom:") {
        let t = t.trim();
        return (!t.is_empty()).then(|| Recognised {
            target: Target::Custom(t.to_string()),
            label_of: None,
            group: None,
            note: None,
        });
    }
    let folded = fold_header(strip_qualifiers(header));
    if let Some(&field) = INDEX.get(&folded) {
        return Some(Recognised::field(field));
    }
    for (name, field, signature) in synonyms::CONTEXTUAL {
        if fold_header(name) == folded
            && signature
                .iter()
                .any(|s| context.iter().any(|h| fold_header(h) == fold_header(s)))
        {
            return Some(Recognised::field(*field));
        }
    }
    recognise_numbered(&folded)
}

/// Recognises one header, or `None` when it means nothing to waport.
pub fn recognise(header: &str) -> Option<Target> {
    recognise_full(header, &[])
        .map(|r| r.target)
        .filter(|t| *t != Target::Skip)
}

/// Edit distance between two short strings, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != *cb)).min(row[j] + 1).min(up + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// Scores above this are too far to be worth suggesting ("Hobby" is not
/// "county").
const NEAR_ENOUGH: f32 = 0.45;

/// The known header closest to `header` (as the table spells it, folded)
/// and its field, with a score: the edit distance over the longer length
/// (0 is equal), halved when one contains the other as whole words. `None`
/// when nothing known is near enough.
pub fn nearest_known(header: &str) -> Option<(String, Field, f32)> {
    nearest_any(header).filter(|(_, _, score)| *score <= NEAR_ENOUGH)
}

fn nearest_any(header: &str) -> Option<(String, Field, f32)> {
    let folded = fold_header(strip_qualifiers(header));
    if folded.is_empty() {
        return None;
    }
    INDEX
        .iter()
        .map(|(name, field)| {
            let longest = folded.chars().count().max(name.chars().count()).max(1);
            let mut score = distance(&folded, name) as f32 / longest as f32;
            let words = |s: &str| format!(" {s} ");
            if name.chars().count() > 2
                && (words(&folded).contains(&words(name)) || words(name).contains(&words(&folded)))
            {
                score *= 0.5;
            }
            (name.clone(), *field, score)
        })
        .min_by(|a, b| a.2.total_cmp(&b.2).then_with(|| a.0.cmp(&b.0)))
}

/// Whether a cell may hold several values (Google's ` ::: `, Bitrix24's
/// `, `, `/`, `;`, a line break): a byte scan, so single values stay cheap.
/// A lone `:` (`tel:+34…`) separates nothing, so such a cell stays on the
/// single-value path.
#[inline]
fn has_separator(cell: &str) -> bool {
    // One table look-up per byte settles nearly every cell; the exact scan
    // runs only on a cell holding a byte that can start a separator.
    if !cell
        .bytes()
        .any(|b| MAY_SEPARATE[usize::from(b)] & PHONE != 0)
    {
        return false;
    }
    let mut colon = false;
    for b in cell.bytes() {
        match b {
            b',' | b';' | b'/' | b'\n' | b'\r' => return true,
            b':' => colon = true,
            _ => {}
        }
    }
    colon && cell.contains(":::")
}

/// [`MAY_SEPARATE`] bit: a byte [`has_separator`] looks at.
const PHONE: u8 = 1;
/// [`MAY_SEPARATE`] bit: a byte [`has_separator`] or [`has_inner_space`]
/// looks at (ASCII white space, and any byte of a non-ASCII character,
/// which may be white space).
const EMAIL: u8 = 2;

/// Per byte, which scans could find a separator there: a cell with none of
/// these bytes is one value, decided without the scans themselves.
static MAY_SEPARATE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if matches!(b, b',' | b';' | b'/' | b'\n' | b'\r' | b':') {
            t[i] = PHONE | EMAIL;
        } else if matches!(b, b' ' | b'\t' | b'\x0B' | b'\x0C') || b >= 0x80 {
            t[i] = EMAIL;
        }
        i += 1;
    }
    t
};

/// Whether an e-mail cell has whitespace inside (not at its ends), which
/// separates addresses: a byte scan for ASCII cells, the char scan only
/// for the rare non-ASCII one.
fn has_inner_space(cell: &str) -> bool {
    let t = cell.trim();
    if t.is_ascii() {
        t.bytes()
            .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r'))
    } else {
        t.contains(char::is_whitespace)
    }
}

/// Splits a multi-value cell; `None` when it is one value. Phone pieces
/// must each have 7 digits or more, so `089/1234567` (an area code written
/// with a slash) or `+7 900 123-45-67, доб. 12` stays one number.
fn split_values(cell: &str, phones: bool) -> Option<Vec<&str>> {
    // has_separator starts with the PHONE table scan itself; an e-mail
    // cell is first screened with the wider EMAIL one.
    let several = if phones {
        has_separator(cell)
    } else {
        cell.bytes()
            .any(|b| MAY_SEPARATE[usize::from(b)] & EMAIL != 0)
            && (has_separator(cell) || has_inner_space(cell))
    };
    if !several {
        return None;
    }
    let is_sep = |c: char| matches!(c, ',' | ';' | '/' | '\n' | '\r') || (!phones && c == ' ');
    let pieces: Vec<&str> = cell
        .split(":::")
        .flat_map(|p| p.split(is_sep))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if pieces.len() < 2 {
        return None;
    }
    if phones
        && pieces
            .iter()
            .any(|p| p.bytes().filter(u8::is_ascii_digit).count() < 7)
    {
        return None;
    }
    Some(pieces)
}

/// Google Contacts' system group, present in every exported contact's
/// labels: not a tag anyone chose.
fn is_system_label(tag: &str) -> bool {
    let t = tag.trim().trim_start_matches('*').trim();
    t.eq_ignore_ascii_case("myContacts")
}

/// Recognises the footer lines a Salesforce report adds after its data
/// (`Grand Totals (N records)`, `Confidential Information - Do Not
/// Distribute`, `Copyright (c) 2000-2026 salesforce.com, inc. All rights
/// reserved.`): a record whose only filled cell is one of those. These are
/// not contacts; the report lists them as `skipped`, reason `footer`.
pub fn is_footer(fields: &crate::source::Fields) -> bool {
    let mut filled = fields.iter().map(str::trim).filter(|f| !f.is_empty());
    let (Some(only), None) = (filled.next(), filled.next()) else {
        return false;
    };
    let lower = only.to_lowercase();
    let grand_totals = lower
        .strip_prefix("grand totals (")
        .or_else(|| lower.strip_prefix("grand total ("))
        .and_then(|r| {
            r.strip_suffix(" records)")
                .or_else(|| r.strip_suffix(" record)"))
        })
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b','));
    grand_totals
        || lower == "confidential information - do not distribute"
        || ((lower.starts_with("copyright (c)") || lower.starts_with("copyright ©"))
            && lower.contains("salesforce.com"))
}

/// Columns a reader of waport's writes for the report's sake (the vCard
/// reader's numbers and addresses not chosen as the contact's).
const KEPT_COLUMNS: [&str; 2] = ["Other Phones", "Other Emails"];

impl Mapping {
    /// Builds the mapping for `headers`, letting `map_file` override.
    pub fn infer(headers: &[String], map_file: Option<&MapFile>) -> Result<Mapping, MappingError> {
        let recognised: Vec<Option<Recognised>> =
            headers.iter().map(|h| recognise_full(h, headers)).collect();
        let mut columns: Vec<Column> = headers
            .iter()
            .zip(&recognised)
            .enumerate()
            .map(|(index, (header, r))| {
                let (target, origin, note) = match r {
                    Some(r) => (r.target.clone(), Origin::Auto, r.note.map(str::to_string)),
                    // The vCard reader's own columns of the numbers and
                    // addresses it did not choose: kept in the report on
                    // purpose, not a column the user must map.
                    None if KEPT_COLUMNS.iter().any(|k| header.eq_ignore_ascii_case(k)) => (
                        Target::Skip,
                        Origin::Auto,
                        Some("kept in the report, not sent".to_string()),
                    ),
                    None => (Target::Skip, Origin::Unmapped, None),
                };
                let folded = fold_header(strip_qualifiers(header));
                Column {
                    index,
                    header: header.clone(),
                    target,
                    origin,
                    note,
                    kind: PhoneKind::of(header),
                    group: r
                        .as_ref()
                        .and_then(|r| r.group)
                        .unwrap_or_else(|| Group::of(&folded)),
                    label: None,
                }
            })
            .collect();
        // Google's `Phone N - Type` belongs to `Phone N - Value`.
        for (i, r) in recognised.iter().enumerate() {
            if let Some(value) = r.as_ref().and_then(|r| r.label_of.as_ref())
                && let Some(v) = headers.iter().position(|h| fold_header(h) == *value)
            {
                columns[v].label = Some(i);
            }
        }
        if let Some(file) = map_file {
            for (column, target_name) in &file.columns {
                let target =
                    parse_target(target_name).ok_or_else(|| MappingError::UnknownTarget {
                        path: file.path.clone(),
                        column: column.clone(),
                        target: target_name.clone(),
                    })?;
                let wanted = fold_header(column);
                let exact = columns
                    .iter()
                    .position(|c| c.header.trim() == column.trim());
                let pos = exact.or_else(|| {
                    columns
                        .iter()
                        .position(|c| fold_header(&c.header) == wanted)
                });
                let Some(pos) = pos else {
                    return Err(MappingError::UnknownColumn {
                        path: file.path.clone(),
                        column: column.clone(),
                        available: headers
                            .iter()
                            .map(|h| format!("\"{h}\""))
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                columns[pos].target = target;
                columns[pos].origin = Origin::MapFile;
                columns[pos].note = None;
            }
        }
        let has = |cols: &[Column], f: Field| cols.iter().any(|c| c.target.is_field(f));
        // A bare "id" column (as in waport's own exports) is the source
        // system's id unless the file also has an explicit external id.
        if !has(&columns, Field::ExternalId)
            && let Some(c) = columns
                .iter_mut()
                .find(|c| c.origin == Origin::Unmapped && fold_header(&c.header) == "id")
        {
            c.target = Target::Field(Field::ExternalId);
            c.origin = Origin::Auto;
        }
        // Spanish and Portuguese files often have a single "Nombre"/"Nome"
        // column holding the whole name: with no last-name column, read it
        // as the full name so it can be split for platforms that need both.
        if !has(&columns, Field::LastName) && !has(&columns, Field::Name) {
            let firsts: Vec<usize> = columns
                .iter()
                .filter(|c| c.origin == Origin::Auto && c.target == Target::Field(Field::FirstName))
                .map(|c| c.index)
                .collect();
            if let [only] = firsts[..] {
                columns[only].target = Target::Field(Field::Name);
                columns[only].note = Some("no last-name column: read as the full name".into());
            }
        }
        let of = |field: Field| -> Vec<usize> {
            columns
                .iter()
                .filter(|c| c.target.is_field(field))
                .map(|c| c.index)
                .collect()
        };
        let (phones, emails, countries) = (of(Field::Phone), of(Field::Email), of(Field::Country));
        if phones.len() > 1 {
            for &i in &phones {
                let c = &mut columns[i];
                let label = if c.label.is_some() {
                    "kind from its type label".to_string()
                } else {
                    format!("{} number", c.kind.as_str())
                };
                c.note = Some(format!(
                    "{label}; one of {} phone columns: WhatsApp, then mobile, then the first is chosen",
                    phones.len()
                ));
            }
        }
        if emails.len() > 1 {
            for &i in &emails[1..] {
                columns[i].note = Some("used when the first email column is empty".into());
            }
        }
        let grouped = columns.iter().any(|c| {
            c.group != Group::None && matches!(c.target, Target::Field(f) if f.is_address())
        });
        Ok(Mapping {
            columns,
            phones,
            emails,
            countries,
            grouped,
        })
    }

    /// Whether some column feeds `field`.
    pub fn has_field(&self, field: Field) -> bool {
        self.columns.iter().any(|c| c.target.is_field(field))
    }

    /// Whether a record may yield several phone candidates (several phone
    /// columns); a single column can still hold a multi-value cell.
    pub fn has_several_phone_columns(&self) -> bool {
        self.phones.len() > 1
    }

    #[inline]
    fn cell(fields: &crate::source::Fields, index: usize) -> &str {
        fields.get(index).map_or("", |v| unguard(v).trim())
    }

    /// Every phone in the record, in file order, with where it came from.
    pub fn phone_candidates<'a>(
        &'a self,
        fields: &'a crate::source::Fields,
    ) -> Vec<PhoneCandidate<'a>> {
        let mut out = Vec::new();
        for &i in &self.phones {
            let col = &self.columns[i];
            let cell = Self::cell(fields, i);
            if cell.is_empty() {
                continue;
            }
            let label = col.label.map_or("", |l| Self::cell(fields, l));
            let kind = col.kind.min(if label.is_empty() {
                PhoneKind::Other
            } else {
                PhoneKind::of(label)
            });
            let pieces = split_values(cell, true).unwrap_or_else(|| vec![cell]);
            // Google joins same-label numbers with ` ::: ` and their labels
            // the same way: pair them when the counts agree.
            let labels: Vec<&str> = label.split(":::").map(str::trim).collect();
            for (k, raw) in pieces.into_iter().enumerate() {
                let (label, kind) = match labels.get(k) {
                    Some(l) if labels.len() > 1 => (*l, col.kind.min(PhoneKind::of(l))),
                    _ => (label, kind),
                };
                out.push(PhoneCandidate {
                    raw: unguard(raw),
                    kind,
                    column: &col.header,
                    label,
                    group: col.group,
                });
            }
        }
        out
    }

    /// What [`Mapping::apply`] puts in phone, e-mail and country, borrowed
    /// from the record, plus the phones and e-mails not chosen: all
    /// `validate` needs of a row without a platform. Copying the other
    /// fields into a [`Contact`] was a tenth of its run time, so a record
    /// with one phone column and a single number in it is read without
    /// allocating.
    pub fn keys<'a>(&'a self, fields: &'a crate::source::Fields) -> Keys<'a> {
        let mut keys = Keys::default();
        let single = match self.phones.as_slice() {
            [] => Some(""),
            [only] => Some(Self::cell(fields, *only)).filter(|c| !has_separator(c)),
            _ => None,
        };
        let mut phone_group = Group::None;
        match single {
            Some(phone) => {
                keys.phone = phone;
                if let [only] = self.phones.as_slice() {
                    phone_group = self.columns[*only].group;
                    keys.phone_kind = self.columns[*only].kind;
                    keys.phone_source = (&self.columns[*only].header, "");
                }
            }
            None => {
                let mut candidates = self.phone_candidates(fields);
                if let Some(chosen) = choose_interim(&candidates) {
                    let c = candidates.remove(chosen);
                    keys.phone = c.raw;
                    keys.phone_kind = c.kind;
                    keys.phone_source = (c.column, c.label);
                    phone_group = c.group;
                    keys.other_phones = candidates;
                }
            }
        }
        for &i in &self.emails {
            let cell = Self::cell(fields, i);
            if cell.is_empty() {
                continue;
            }
            match split_values(cell, false) {
                Some(mut pieces) => {
                    keys.email = pieces.remove(0);
                    keys.other_emails = pieces;
                }
                None => keys.email = cell,
            }
            break;
        }
        keys.group = phone_group;
        let filled = self
            .countries
            .iter()
            .map(|&i| (self.columns[i].group, Self::cell(fields, i)))
            .filter(|(_, v)| !v.is_empty());
        let mut first = None;
        for (group, value) in filled {
            if phone_group != Group::None && group == phone_group {
                first = Some((group, value));
                break;
            }
            first.get_or_insert((group, value));
        }
        if let Some((group, value)) = first {
            keys.country = Cow::Borrowed(value);
            if group != Group::None {
                keys.group = group;
            }
        }
        keys
    }

    /// Builds the (not yet normalized) contact for one record: phone,
    /// e-mail and country as [`Mapping::keys`] chooses them; with grouped
    /// address columns (Outlook's Business/Home, Salesforce's
    /// Mailing/Other) only the chosen group's city, state, postal code
    /// and street, so two addresses are never run together.
    pub fn apply(&self, fields: &crate::source::Fields) -> Contact {
        let keys = self.keys(fields);
        let mut contact = Contact {
            phone: keys.phone.to_string(),
            email: keys.email.to_string(),
            country: keys.country.to_string(),
            ..Contact::default()
        };
        let group = if self.grouped {
            self.address_group(fields, keys.group)
        } else {
            Group::None
        };
        for col in &self.columns {
            let Some(value) = fields.get(col.index) else {
                continue;
            };
            let value = unguard(value);
            match &col.target {
                Target::Skip | Target::Field(Field::Phone | Field::Email | Field::Country) => {}
                Target::Custom(name) => {
                    let v = value.trim();
                    if !v.is_empty() {
                        contact.custom.insert(name.clone(), v.to_string());
                    }
                }
                Target::Field(Field::Tags) => {
                    for tag in value.split(":::").filter(|t| !is_system_label(t)) {
                        contact.set(Field::Tags, tag);
                    }
                }
                // Another group's address: not this contact's.
                Target::Field(Field::City | Field::State | Field::PostalCode | Field::Address)
                    if self.grouped && col.group != Group::None && col.group != group => {}
                Target::Field(f) => {
                    contact.set(*f, value);
                }
            }
        }
        contact
    }

    /// The address group a contact's city, state and street come from:
    /// `preferred` (the country's or the phone's) when one of its cells is
    /// filled, else the first group with a filled cell.
    fn address_group(&self, fields: &crate::source::Fields, preferred: Group) -> Group {
        let filled = |g: Group| {
            self.columns.iter().any(|c| {
                c.group == g
                    && matches!(c.target, Target::Field(f) if f.is_address())
                    && !Self::cell(fields, c.index).is_empty()
            })
        };
        if preferred != Group::None && filled(preferred) {
            return preferred;
        }
        self.columns
            .iter()
            .filter(|c| c.group != Group::None)
            .map(|c| c.group)
            .find(|g| filled(*g))
            .unwrap_or(Group::None)
    }

    /// Stops a run that needs a phone when no column gives one (or when no
    /// column maps at all), with the headers found, the nearest known
    /// header for each one not recognised, and a ready `--map` line.
    pub fn require(&self, phone_needed: bool) -> Result<(), MappingError> {
        let nothing = !self
            .columns
            .iter()
            .any(|c| matches!(c.target, Target::Field(_) | Target::Custom(_)));
        if !nothing && (!phone_needed || !self.phones.is_empty()) {
            return Ok(());
        }
        let found = self
            .columns
            .iter()
            .map(|c| match (&c.target, c.origin) {
                (Target::Skip, Origin::Unmapped) => match nearest_known(&c.header) {
                    Some((name, field, _)) => {
                        format!(
                            "{} (not recognised; nearest: \"{name}\" = {field})",
                            c.header
                        )
                    }
                    None => format!("{} (not recognised)", c.header),
                },
                (t, _) => format!("{} ({t})", c.header),
            })
            .collect::<Vec<_>>();
        // A file of thousands of columns gets a message, not a page.
        const SHOWN: usize = 40;
        let more = found.len().saturating_sub(SHOWN);
        let mut found = found.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
        if more > 0 {
            found.push_str(&format!(", … and {more} more columns"));
        }
        // The column most like a phone: a phone-ish nearest header first.
        let suggest = self
            .columns
            .iter()
            .filter(|c| c.origin != Origin::MapFile)
            .filter_map(|c| nearest_any(&c.header).map(|(_, f, s)| (c, f, s)))
            .min_by(|a, b| {
                let rank = |f: Field| u8::from(f != Field::Phone);
                rank(a.1)
                    .cmp(&rank(b.1))
                    .then(a.2.total_cmp(&b.2))
                    .then(a.0.index.cmp(&b.0.index))
            })
            .map(|(c, _, _)| c.header.clone())
            .or_else(|| self.columns.first().map(|c| c.header.clone()))
            .unwrap_or_default();
        Err(if nothing {
            MappingError::NothingMapped { found, suggest }
        } else {
            MappingError::NoPhoneColumn { found, suggest }
        })
    }

    /// The mapping as a table for `--show-mapping`.
    pub fn describe(&self) -> String {
        let width = self
            .columns
            .iter()
            .map(|c| c.header.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        let mut out = String::new();
        let mut ignored = Vec::new();
        for c in &self.columns {
            if c.target == Target::Skip && c.origin != Origin::Auto {
                ignored.push(c);
                continue;
            }
            let how = match c.origin {
                Origin::Auto => "auto",
                Origin::MapFile => "map file",
                Origin::Unmapped => "",
            };
            let pad = width - c.header.chars().count();
            let target = if c.target == Target::Skip && c.note.is_some() {
                "(none)".to_string()
            } else if c.target == Target::Skip {
                "(label)".to_string()
            } else {
                c.target.to_string()
            };
            out.push_str(&format!(
                "  {}{} -> {target} ({how}{})\n",
                c.header,
                " ".repeat(pad),
                c.note
                    .as_deref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default()
            ));
        }
        if ignored.is_empty() {
            out.push_str("ignored columns: none\n");
        } else {
            out.push_str("ignored columns:\n");
            for c in ignored {
                let why = if c.origin == Origin::MapFile {
                    "skip in map file".to_string()
                } else {
                    match nearest_known(&c.header) {
                        Some((name, field, _)) => format!(
                            "not recognised; nearest known header: \"{name}\" ({field}); map it with --map"
                        ),
                        None => "not recognised; map it with --map".to_string(),
                    }
                };
                out.push_str(&format!("  {} ({why})\n", c.header));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_headers_in_four_languages() {
        for (header, field) in [
            ("Teléfono", "phone"),
            ("TELEFONO", "phone"),
            ("Tel.", "phone"),
            ("Celular", "phone"),
            ("Móvil", "phone"),
            ("WhatsApp", "phone"),
            ("Mobile", "phone"),
            ("Contact Phone Number", "phone"),
            ("Телефон", "phone"),
            ("Мобильный", "phone"),
            ("МОБИЛЬНЫЙ ТЕЛЕФОН", "phone"),
            ("Сотовый", "phone"),
            ("Край", "state"),
            ("Correo electrónico", "email"),
            ("E-mail", "email"),
            ("Nombre completo", "name"),
            ("Full name", "name"),
            ("Apellidos", "last_name"),
            ("Sobrenome", "last_name"),
            ("Фамилия", "last_name"),
            ("Имя", "first_name"),
            ("País", "country"),
            ("Ciudad", "city"),
            ("Empresa", "company"),
            ("Notas", "notes"),
            ("Etiquetas", "tags"),
        ] {
            assert_eq!(
                recognise(header),
                Some(Target::Field(field.parse().unwrap())),
                "{header}"
            );
        }
        assert_eq!(recognise("Puntaje"), None);
    }

    #[test]
    fn every_synonym_matches_itself_and_belongs_to_one_field() {
        let mut seen: HashMap<String, Field> = HashMap::new();
        for &(field, names) in synonyms::SYNONYMS {
            for name in names {
                for variant in [name.to_string(), name.to_uppercase(), name.to_lowercase()] {
                    assert_eq!(
                        recognise(&variant),
                        Some(Target::Field(field)),
                        "{variant:?} should be {field}"
                    );
                }
                if let Some(other) = seen.insert(fold_header(name), field) {
                    assert_eq!(other, field, "{name:?} is listed under {other} and {field}");
                }
            }
        }
    }

    #[test]
    fn record_qualifiers_are_noise() {
        for (header, field) in [
            ("Мобильный телефон (контакт)", "phone"),
            ("Полное имя (контакт)", "name"),
            ("Рабочий email (контакт)", "email"),
            ("Teléfono móvil (Contacto)", "phone"),
            ("Nombre completo (Contacto) (Contacto)", "name"),
            ("País (Contacto)", "country"),
            ("Mobile Phone (Contact)", "phone"),
        ] {
            assert_eq!(
                recognise(header),
                Some(Target::Field(field.parse().unwrap())),
                "{header}"
            );
        }
        // A qualifier naming another record is not noise.
        assert_eq!(recognise("Teléfono (Cuenta)"), None);
    }

    #[test]
    fn google_numbered_columns_pair_values_with_labels() {
        let m = Mapping::infer(
            &h(&[
                "Name",
                "Phone 1 - Type",
                "Phone 1 - Value",
                "Phone 2 - Label",
                "Phone 2 - Value",
                "E-mail 1 - Value",
                "Address 1 - Country",
            ]),
            None,
        )
        .unwrap();
        assert_eq!(m.columns[2].label, Some(1));
        assert_eq!(m.columns[4].label, Some(3));
        assert_eq!(m.columns[5].target, Target::Field(Field::Email));
        assert_eq!(m.columns[6].target, Target::Field(Field::Country));
        let row: crate::source::Fields = [
            "Ana",
            "Work",
            "+34 911 222 333",
            "Mobile",
            "+34 611 222 333 ::: +34 622 333 444",
            "ana@x.es",
            "ES",
        ]
        .into_iter()
        .collect();
        let k = m.keys(&row);
        assert_eq!(k.phone, "+34 611 222 333");
        let others: Vec<&str> = k.other_phones.iter().map(|c| c.raw).collect();
        assert_eq!(others, ["+34 911 222 333", "+34 622 333 444"]);
        assert_eq!(k.other_phones[0].label, "Work");
        assert_eq!(k.country, "ES");
    }

    #[test]
    fn interim_choice_prefers_whatsapp_then_mobile_then_file_order() {
        let c = |raw, kind| PhoneCandidate {
            raw,
            kind,
            column: "x",
            label: "",
            group: Group::None,
        };
        let list = [
            c("1", PhoneKind::Other),
            c("2", PhoneKind::Mobile),
            c("3", PhoneKind::Mobile),
        ];
        assert_eq!(choose_interim(&list), Some(1));
        let list = [c("1", PhoneKind::Mobile), c("2", PhoneKind::WhatsApp)];
        assert_eq!(choose_interim(&list), Some(1));
        assert_eq!(choose_interim(&[c("1", PhoneKind::Other)]), Some(0));
        assert_eq!(choose_interim(&[]), None);
        assert_eq!(PhoneKind::of("Teléfono móvil"), PhoneKind::Mobile);
        assert_eq!(PhoneKind::of("Мобильный телефон"), PhoneKind::Mobile);
        assert_eq!(PhoneKind::of("* Celular"), PhoneKind::Mobile);
        assert_eq!(PhoneKind::of("WHATSAPP"), PhoneKind::WhatsApp);
        assert_eq!(PhoneKind::of("Business Phone"), PhoneKind::Other);
    }

    #[test]
    fn multi_value_cells_split_only_into_whole_numbers() {
        assert_eq!(
            split_values("+7 900 123-45-67, +7 901 765-43-21", true),
            Some(vec!["+7 900 123-45-67", "+7 901 765-43-21"])
        );
        assert_eq!(
            split_values("5512345678\n5587654321", true),
            Some(vec!["5512345678", "5587654321"])
        );
        assert_eq!(split_values("089/1234567", true), None);
        assert_eq!(split_values("+52 55 1234 5678", true), None);
        assert_eq!(
            split_values("a@x.mx; b@y.mx", false),
            Some(vec!["a@x.mx", "b@y.mx"])
        );
    }

    #[test]
    fn every_separator_byte_reaches_the_exact_scan() {
        // The byte table in front of the scans must let each separator
        // through, or a multi-value cell would read as one value.
        for sep in [",", ";", "/", "\n", "\r", " ::: "] {
            let phones = format!("5512345678{sep}5587654321");
            assert_eq!(
                split_values(&phones, true),
                Some(vec!["5512345678", "5587654321"]),
                "{sep:?}"
            );
        }
        for blank in [" ", "\t", "\x0B", "\x0C"] {
            let emails = format!("a@x.mx{blank}b@y.mx");
            assert!(has_inner_space(&emails), "{blank:?}");
            assert_eq!(split_values(&emails, true), None, "{blank:?}");
        }
        assert_eq!(
            split_values("a@x.mx b@y.mx", false),
            Some(vec!["a@x.mx", "b@y.mx"])
        );
        assert!(has_separator("tel:+34 611 ::: 612"));
        assert!(!has_separator("tel:+34611222333"));
        assert_eq!(split_values("ana@x.mx", false), None);
    }

    #[test]
    fn country_follows_the_chosen_phone_group_else_the_first_filled() {
        let m = Mapping::infer(
            &h(&[
                "Business Phone",
                "Home Phone",
                "Business Country/Region",
                "Home Country/Region",
            ]),
            None,
        )
        .unwrap();
        let row = |v: [&str; 4]| -> crate::source::Fields { v.into_iter().collect() };
        let r = row(["", "612345678", "Mexico", "España"]);
        assert_eq!(m.keys(&r).country, "España");
        let r = row(["5512345678", "", "", "España"]);
        assert_eq!(m.keys(&r).country, "España");
        let r = row(["5512345678", "", "México", "España"]);
        assert_eq!(m.keys(&r).country, "México");
    }

    #[test]
    fn mailchimp_cc_is_a_country_only_in_a_mailchimp_file() {
        let m = Mapping::infer(&h(&["Email Address", "CC", "MEMBER_RATING"]), None).unwrap();
        assert_eq!(m.columns[1].target, Target::Field(Field::Country));
        let m = Mapping::infer(&h(&["Nombre", "CC", "Celular"]), None).unwrap();
        assert_eq!(m.columns[1].target, Target::Skip);
    }

    #[test]
    fn salesforce_footer_lines_are_recognised() {
        let f = |v: &[&str]| -> crate::source::Fields { v.iter().collect() };
        assert!(is_footer(&f(&["Grand Totals (5700 records)"])));
        assert!(is_footer(&f(&[
            "Confidential Information - Do Not Distribute",
            "",
            ""
        ])));
        assert!(is_footer(&f(&[
            "Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."
        ])));
        assert!(!is_footer(&f(&["Grand Totals (5700 records)", "x"])));
        assert!(!is_footer(&f(&["Ana", "", ""])));
    }

    #[test]
    fn missing_phone_column_fails_with_a_ready_map_line() {
        let m = Mapping::infer(&h(&["Nombre completo", "Tel Personal", "Notas"]), None).unwrap();
        let err = m.require(true).unwrap_err().to_string();
        assert!(err.starts_with("no phone column among: "), "{err}");
        assert!(err.contains("\"Tel Personal\" = \"phone\""), "{err}");
        assert!(m.require(false).is_ok());
        let m = Mapping::infer(&h(&["a", "b"]), None).unwrap();
        let err = m.require(false).unwrap_err().to_string();
        assert!(err.starts_with("no column is recognised"), "{err}");
    }

    #[test]
    fn lone_first_name_column_is_read_as_full_name() {
        let m = Mapping::infer(&h(&["Nombre", "Teléfono"]), None).unwrap();
        assert_eq!(m.columns[0].target, Target::Field(Field::Name));
        let m = Mapping::infer(&h(&["Nombre", "Apellido", "Teléfono"]), None).unwrap();
        assert_eq!(m.columns[0].target, Target::Field(Field::FirstName));
    }

    #[test]
    fn map_file_overrides_and_rejects_unknown_targets() {
        let mut file = MapFile::default();
        file.columns.insert("Cel. Personal".into(), "phone".into());
        file.columns.insert("Puntaje".into(), "custom:score".into());
        file.columns.insert("Email".into(), "skip".into());
        let m = Mapping::infer(&h(&["Cel. Personal", "Puntaje", "Email"]), Some(&file)).unwrap();
        assert_eq!(m.columns[0].target, Target::Field(Field::Phone));
        assert_eq!(m.columns[1].target, Target::Custom("score".into()));
        assert_eq!(m.columns[2].target, Target::Skip);
        file.columns.insert("Puntaje".into(), "telefono".into());
        let err =
            Mapping::infer(&h(&["Cel. Personal", "Puntaje", "Email"]), Some(&file)).unwrap_err();
        assert!(err.to_string().contains("first_name, last_name"), "{err}");
    }

    #[test]
    fn second_phone_column_is_a_candidate_not_lost() {
        let m = Mapping::infer(&h(&["Teléfono", "Celular", "Etiquetas"]), None).unwrap();
        let row: crate::source::Fields = h(&["", "5512345678", "vip; lead|frío"]).into();
        let c = m.apply(&row);
        assert_eq!(c.phone, "5512345678");
        assert_eq!(c.tags, vec!["vip", "lead", "frío"]);
        // The mobile column wins over the first one; the other is kept.
        let row: crate::source::Fields = h(&["111", "222", ""]).into();
        let k = m.keys(&row);
        assert_eq!(k.phone, "222");
        assert_eq!(k.other_phones.len(), 1);
        assert_eq!(k.other_phones[0].raw, "111");
    }

    #[test]
    fn keys_are_what_apply_puts_in_phone_email_and_country() {
        let m = Mapping::infer(
            &h(&[
                "Teléfono",
                "Celular",
                "País",
                "Email",
                "Correo",
                "Country",
                "Nombre",
            ]),
            None,
        )
        .unwrap();
        let rows: [&[&str]; 5] = [
            &[
                "",
                " '+5512345678",
                "México",
                " Ana@Example.com ",
                "",
                "",
                "Ana",
            ],
            &["111", "222", "", "", "b@x.io", "ES", "Luis"],
            &["  ", "", "", "", "", "", ""],
            &["'=1", "", "Perú", "x@y.pe", "z@y.pe", " PE ", "Eva"],
            &["5", "6"],
        ];
        for row in rows {
            let fields: crate::source::Fields = row.iter().collect();
            let c = m.apply(&fields);
            let k = m.keys(&fields);
            assert_eq!(
                (k.phone, k.email, &*k.country),
                (&*c.phone, &*c.email, &*c.country),
                "{row:?}"
            );
        }
    }

    #[test]
    fn nearest_known_header_is_close() {
        let (name, field, _) = nearest_known("Tel Movil Personal").unwrap();
        assert_eq!(field, Field::Phone, "{name}");
        let (_, field, _) = nearest_known("Correo Personal").unwrap();
        assert_eq!(field, Field::Email);
    }
}
