//! Phone numbers to E.164. The only file that imports a phone crate
//! (`rlibphonenumber`, libphonenumber metadata 9.0.42).
//!
//! A raw cell goes through three stages:
//!
//! 1. **Cleaning** (ours): spreadsheet and CRM noise is removed and the cell
//!    becomes a canonical `[+]digits` string. Anything that is not a digit,
//!    a separator or one of the accepted markers (leading `'`, `tel:`,
//!    trailing `.0`, an `ext`/`x`/`#` extension) makes the phone invalid: no
//!    letter is ever silently dropped or mapped to a keypad digit.
//! 2. **Reading**, by the rules of [`read`]: a number is international only
//!    when the cell says so (or when it is a bare WhatsApp id that is no
//!    valid national number); everything else is national in the row's
//!    region. A national number is never "rescued" as some other country's
//!    number: a CRM that messages the wrong person is worse than a rejected
//!    row. Legacy forms (Mexico, Brazil, Chile) are rewritten to today's
//!    numbers with a [`Note`] saying so.
//! 3. **Validation**: only numbers libphonenumber deems valid are accepted,
//!    and each gets libphonenumber's number type ([`Kind`]).
//!
//! Parsing and validation have two implementations: the engine itself, and a
//! fast path (`phone/fast.rs`) that replays the engine's rules on the digits
//! with the engine's own metadata (`phone/meta.rs`). When the fast path
//! parses a number, its verdict (valid or not, and the type) is final;
//! whenever it declines, the engine decides.

mod fast;
mod meta;
mod meta_types;

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use rlibphonenumber::{
    PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat, PhoneNumberType, enums::Region,
};

/// Why a phone was rejected; [`PhoneError::code`] is the stable reason in
/// reports, [`PhoneError::reason`] the whole reason with its detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The phone cell is empty.
    #[error("phone is empty")]
    Missing,
    /// Not a valid number for libphonenumber's metadata.
    #[error("not a valid phone number")]
    Invalid,
    /// A national number with no region to read it in.
    #[error("national phone number without a country")]
    NeedsCountry,
    /// The row's country cell is filled but names no country waport knows
    /// (the cell is kept for the message).
    #[error("unknown country {0:?}")]
    UnknownCountry(String),
    /// A bare WhatsApp id that is no valid number of the country the row's
    /// own country column names, but a valid international number of
    /// another country (rule 3 of [`read`]).
    #[error("not a valid {region} number (as an international number it would be {e164} {other})")]
    CountryMismatch {
        /// The row's region.
        region: &'static str,
        /// The international reading.
        e164: String,
        /// The international reading's region.
        other: String,
    },
    /// A bare WhatsApp id valid both as a national number of the row's
    /// region and as an international number, with different results
    /// (rule 5 of [`read`]).
    #[error("reads as {national} ({region}, national) or {international} ({other}, international)")]
    Ambiguous {
        /// The national reading.
        national: String,
        /// The row's region.
        region: &'static str,
        /// The international reading.
        international: String,
        /// The international reading's region.
        other: String,
    },
}

impl PhoneError {
    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            PhoneError::Missing => "missing_phone",
            PhoneError::Invalid => "invalid_phone",
            PhoneError::NeedsCountry => "phone_needs_country",
            PhoneError::UnknownCountry(_) => "unknown_country",
            PhoneError::CountryMismatch { .. } => "phone_country_mismatch",
            PhoneError::Ambiguous { .. } => "ambiguous_phone",
        }
    }

    /// The report's reason for this error on phone cell `cell`: the code,
    /// the cell (or the country cell, for an unknown country) and what the
    /// user can do about it.
    pub fn reason(&self, cell: &str) -> String {
        let cell = cell.trim();
        match self {
            PhoneError::Missing => self.code().to_owned(),
            PhoneError::Invalid | PhoneError::NeedsCountry => {
                format!("{}: {cell:?}", self.code())
            }
            PhoneError::UnknownCountry(country) => {
                format!("{}: {:?}", self.code(), country.trim())
            }
            PhoneError::CountryMismatch { .. } => format!("{}: {cell:?} is {self}", self.code()),
            PhoneError::Ambiguous { .. } => format!(
                "{}: {cell:?} {self}; choose with --prefer-national or --prefer-international",
                self.code()
            ),
        }
    }
}

/// libphonenumber's number type of a valid number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A mobile number.
    Mobile,
    /// A landline.
    FixedLine,
    /// Either: the plan does not tell them apart (the US, Canada, …).
    FixedLineOrMobile,
    /// Toll-free.
    TollFree,
    /// Premium rate.
    PremiumRate,
    /// Shared cost.
    SharedCost,
    /// Voice over IP.
    Voip,
    /// A personal (follow-me) number.
    PersonalNumber,
    /// A pager.
    Pager,
    /// A universal access number.
    Uan,
    /// A voicemail access number.
    Voicemail,
}

impl Kind {
    /// The name in the report's `phone_type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Mobile => "mobile",
            Kind::FixedLine => "fixed_line",
            Kind::FixedLineOrMobile => "fixed_line_or_mobile",
            Kind::TollFree => "toll_free",
            Kind::PremiumRate => "premium_rate",
            Kind::SharedCost => "shared_cost",
            Kind::Voip => "voip",
            Kind::PersonalNumber => "personal_number",
            Kind::Pager => "pager",
            Kind::Uan => "uan",
            Kind::Voicemail => "voicemail",
        }
    }

    /// Whether the number may be a mobile (and so have WhatsApp): MOBILE or
    /// FIXED_LINE_OR_MOBILE (`--require-mobile`).
    pub fn is_mobile_capable(self) -> bool {
        matches!(self, Kind::Mobile | Kind::FixedLineOrMobile)
    }

    fn from_engine(t: PhoneNumberType) -> Option<Kind> {
        Some(match t {
            PhoneNumberType::Mobile => Kind::Mobile,
            PhoneNumberType::FixedLine => Kind::FixedLine,
            PhoneNumberType::FixedLineOrMobile => Kind::FixedLineOrMobile,
            PhoneNumberType::TollFree => Kind::TollFree,
            PhoneNumberType::PremiumRate => Kind::PremiumRate,
            PhoneNumberType::SharedCost => Kind::SharedCost,
            PhoneNumberType::VoIP => Kind::Voip,
            PhoneNumberType::PersonalNumber => Kind::PersonalNumber,
            PhoneNumberType::Pager => Kind::Pager,
            PhoneNumberType::UAN => Kind::Uan,
            PhoneNumberType::VoiceMail => Kind::Voicemail,
            PhoneNumberType::Unknown => return None,
        })
    }
}

/// A legacy or WhatsApp form that was rewritten to today's number; the
/// pipeline puts [`Note::reason`] on the (valid) row so the change is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Mexico's pre-2019 mobile `1` after the country code (`+52 1 55…`,
    /// WhatsApp ids `521…`, national `1 55…`) was removed.
    MxMobile1,
    /// Mexico's old national mobile prefix `044`/`045` was removed.
    Mx044,
    /// Mexico's old long-distance prefix `01`/`02` was removed.
    MxLongDistance,
    /// A Brazilian mobile written with eight subscriber digits gained the
    /// ninth digit (`+55 11 8765-4321` → `+55 11 98765-4321`).
    BrNinthDigit,
    /// A Brazilian carrier-selection code (`0 21 11 …`, `(0xx11) …`) was
    /// removed.
    BrCarrierCode,
    /// Chile's pre-2012 mobile form `09 …` became `+56 9 …`.
    Cl09,
}

impl Note {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Note::MxMobile1 => "mx_mobile_1_removed",
            Note::Mx044 => "mx_044_removed",
            Note::MxLongDistance => "mx_long_distance_prefix_removed",
            Note::BrNinthDigit => "br_ninth_digit_added",
            Note::BrCarrierCode => "br_carrier_code_removed",
            Note::Cl09 => "cl_mobile_09_rewritten",
        }
    }

    /// The note as a report reason: code, the cell, and the number stored.
    pub fn reason(self, cell: &str, e164: &str) -> String {
        format!("{}: {:?} -> {e164}", self.code(), cell.trim())
    }
}

/// A valid phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// E.164 (`+525512345678`).
    pub e164: String,
    /// libphonenumber's number type.
    pub kind: Kind,
    /// Legacy forms rewritten on the way (empty for nearly every number).
    pub notes: Vec<Note>,
}

/// Where a row's region comes from: it decides which reading rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowRegion<'a> {
    /// The row's own country column, understood: an alpha-2 code, or
    /// anything [`crate::normalize::country::region_code`] understands.
    Country(&'a str),
    /// `--default-region` (the row has no country): a bare WhatsApp id of
    /// another country is not a mismatch.
    Default(&'a str),
    /// The row's country cell is filled but not understood (the cell).
    Unknown(&'a str),
    /// No region at all.
    None,
}

impl<'a> RowRegion<'a> {
    /// The region a row is read in: its country cell when filled (known or
    /// not), else the default region.
    pub fn of_row(country_cell: &'a str, default_region: Option<&'a str>) -> RowRegion<'a> {
        let cell = country_cell.trim();
        if !cell.is_empty() {
            return match super::country::region_code(cell) {
                Some(code) => RowRegion::Country(code),
                None => RowRegion::Unknown(cell),
            };
        }
        match default_region {
            Some(r) => RowRegion::Default(r),
            None => RowRegion::None,
        }
    }
}

/// Which reading wins when a bare WhatsApp id is valid both nationally and
/// internationally with different results (rule 5 of [`read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    /// Neither: the row is `ambiguous_phone`.
    #[default]
    Ask,
    /// `--prefer-national`.
    National,
    /// `--prefer-international`.
    International,
}

/// Which implementation decided a number (see [`normalize_traced`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Decided without the engine: cleaning rejected it, or the fast path
    /// accepted or rejected every reading tried.
    Fast,
    /// The engine was consulted at least once.
    Engine,
}

/// Reads a phone cell in the row's region.
///
/// The rules, in order (README "Phone numbers" lists them with examples):
///
/// 1. A cell that says it is international — a leading `+`, `00`, the
///    region's own international prefix (`011` in the US, `810` in
///    Russia), `tel:+…` — is read as international, of any country.
/// 2. Otherwise it is a national number of the row's region; if valid,
///    that is the number.
/// 3. A bare WhatsApp id — ASCII digits only (a trailing `.0`, a leading
///    `'` and surrounding spaces allowed), 11 to 15 of them — that is no
///    valid national number is read as international. When the region is
///    the row's own country ([`RowRegion::Country`]) and the reading has
///    another calling code: [`PhoneError::CountryMismatch`].
/// 4. Nothing else is read as international: an invalid national number is
///    [`PhoneError::Invalid`], one without a region
///    [`PhoneError::NeedsCountry`].
/// 5. A bare WhatsApp id valid both nationally and internationally, with
///    different results, is [`PhoneError::Ambiguous`] unless `prefer` says
///    which to take.
/// 6. A country cell that is not understood is
///    [`PhoneError::UnknownCountry`] for any number that needs a region.
///
/// Legacy forms become today's numbers, with a [`Note`]: Mexico's `+52 1`,
/// `521…`, `1 …`, `044`/`045` and `01`/`02`; Brazil's eight-digit mobiles
/// and carrier codes; Chile's `09 …` mobiles. A leading minus is not phone
/// punctuation: `-5512345675` is invalid.
///
/// Thread-safe; the engine and the fast path's tables are shared statics.
pub fn read(raw: &str, region: RowRegion<'_>, prefer: Prefer) -> Result<Phone, PhoneError> {
    run(raw, region, prefer, Mode::Auto).0
}

/// [`read`], also telling which implementation decided.
pub fn read_traced(
    raw: &str,
    region: RowRegion<'_>,
    prefer: Prefer,
) -> (Result<Phone, PhoneError>, Path) {
    run(raw, region, prefer, Mode::Auto)
}

/// [`read`] using the engine alone (no fast path): the reference the fast
/// path is tested against.
pub fn read_with_engine(
    raw: &str,
    region: RowRegion<'_>,
    prefer: Prefer,
) -> Result<Phone, PhoneError> {
    run(raw, region, prefer, Mode::EngineOnly).0
}

fn default_region(region: Option<&str>) -> RowRegion<'_> {
    region.map_or(RowRegion::None, RowRegion::Default)
}

/// Normalizes `raw` to E.164: [`read`] with `region` as a default region
/// (an ISO alpha-2 code, or anything
/// [`crate::normalize::country::region_code`] understands; an unknown one
/// counts as none) and no preference for ambiguous WhatsApp ids.
pub fn normalize(raw: &str, region: Option<&str>) -> Result<String, PhoneError> {
    read(raw, default_region(region), Prefer::Ask).map(|p| p.e164)
}

/// [`normalize`], also telling which implementation decided.
pub fn normalize_traced(raw: &str, region: Option<&str>) -> (Result<String, PhoneError>, Path) {
    let (r, path) = run(raw, default_region(region), Prefer::Ask, Mode::Auto);
    (r.map(|p| p.e164), path)
}

/// [`normalize`] using the engine alone (no fast path).
pub fn normalize_with_engine(raw: &str, region: Option<&str>) -> Result<String, PhoneError> {
    read_with_engine(raw, default_region(region), Prefer::Ask).map(|p| p.e164)
}

/// [`normalize`] using the fast path alone: `Some` only when the fast path
/// accepts the number by itself, `None` when it would defer to the engine.
pub fn fast_path(raw: &str, region: Option<&str>) -> Option<String> {
    match run(raw, default_region(region), Prefer::Ask, Mode::FastOnly) {
        (Ok(p), Path::Fast) => Some(p.e164),
        _ => None,
    }
}

/// What a phone column or a value's type label says the number is: the
/// first rule of [`choose`]. Read from a header or label by `Label::of`
/// (with the mapping's header folding and word lists, in `mapping.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Label {
    /// The column or label says WhatsApp.
    WhatsApp,
    /// The column or label says mobile (cell, celular, móvil, мобильный…).
    Mobile,
    /// Anything else (phone, home, work, no label).
    #[default]
    Other,
}

/// One phone number of a row, as the file gives it: the cell (or one value
/// of a cell holding several) and what its column or type label says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneCandidate<'a> {
    /// The raw text of this one number.
    pub raw: &'a str,
    /// What its column header or type label says ([`Label::of`]).
    pub label: Label,
}

/// The number [`choose`] picked, and the row's other numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The contact's phone (its WhatsApp number).
    pub phone: Phone,
    /// Index of the chosen candidate in the input slice.
    pub index: usize,
    /// The other valid numbers, best first, each once and never the
    /// chosen one: for the reason detail ([`Chosen::others_reason`]) and a
    /// platform field the user maps.
    pub others: Vec<Phone>,
    /// Candidates that were not valid numbers: their index and why.
    pub rejected: Vec<(usize, PhoneError)>,
    /// Each candidate's E.164 reading, by index (`None`: not a valid
    /// number), so a caller describing the other numbers does not read
    /// them again. Empty when there was one candidate.
    pub readings: Vec<Option<String>>,
}

impl Chosen {
    /// `other_phones: +34911234567 (fixed_line), …`, or `None` when the
    /// row had one number.
    pub fn others_reason(&self) -> Option<String> {
        if self.others.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .others
            .iter()
            .map(|p| format!("{} ({})", p.e164, p.kind.as_str()))
            .collect();
        Some(format!("other_phones: {}", list.join(", ")))
    }
}

/// Chooses a row's WhatsApp number among its candidates, each read with
/// [`read`] in the row's region:
///
/// 1. numbers whose column or type label says WhatsApp, then mobile
///    ([`Label`]);
/// 2. among the rest, numbers the engine types MOBILE or
///    FIXED_LINE_OR_MOBILE before FIXED_LINE, VOIP, TOLL_FREE and others;
/// 3. then file order (the order of `candidates`).
///
/// Candidates that are not valid numbers are never chosen. When none is
/// valid the error is the best-ranked candidate's by label, then file
/// order (for one candidate: its own error); [`PhoneError::Missing`] when
/// there are no candidates or all are empty.
///
/// Callers with one phone column pass one candidate; a row with several
/// phone columns, or a cell holding several numbers, passes them all, in
/// file order, labelled by [`Label::of`] their header or type label.
pub fn choose(
    candidates: &[PhoneCandidate<'_>],
    region: RowRegion<'_>,
    prefer: Prefer,
) -> Result<Chosen, PhoneError> {
    // The common row: one number, no sorting, no allocation besides it.
    if let [only] = candidates {
        let phone = read(only.raw, region, prefer)?;
        return Ok(Chosen {
            phone,
            index: 0,
            others: Vec::new(),
            rejected: Vec::new(),
            readings: Vec::new(),
        });
    }
    let mut valid: Vec<(usize, Label, Phone)> = Vec::new();
    let mut rejected = Vec::new();
    let mut readings = Vec::with_capacity(candidates.len());
    for (i, c) in candidates.iter().enumerate() {
        match read(c.raw, region, prefer) {
            Ok(p) => {
                readings.push(Some(p.e164.clone()));
                valid.push((i, c.label, p));
            }
            Err(e) => {
                readings.push(None);
                if e != PhoneError::Missing {
                    rejected.push((i, e));
                }
            }
        }
    }
    // Stable: equal ranks keep file order.
    valid.sort_by_key(|(_, label, p)| (*label, !p.kind.is_mobile_capable()));
    let mut ranked = valid.into_iter();
    let Some((index, _, phone)) = ranked.next() else {
        let first = rejected
            .iter()
            .min_by_key(|(i, _)| (candidates[*i].label, *i))
            .map(|(_, e)| e.clone());
        return Err(first.unwrap_or(PhoneError::Missing));
    };
    let mut others: Vec<Phone> = Vec::new();
    for (_, _, p) in ranked {
        if p.e164 != phone.e164 && !others.iter().any(|o| o.e164 == p.e164) {
            others.push(p);
        }
    }
    Ok(Chosen {
        phone,
        index,
        others,
        rejected,
        readings,
    })
}

/// Splits an E.164 string into its country calling code and national
/// significant number (WapiFlow's `mobile_code` and `mobile`).
pub fn split_e164(e164: &str) -> Option<(u32, String)> {
    let digits = e164.strip_prefix('+')?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Calling codes are prefix-free, so the first known prefix is the code.
    (1..=3.min(digits.len() - 1)).find_map(|i| {
        let cc: u32 = digits[..i].parse().ok()?;
        fast::is_calling_code(cc).then(|| (cc, digits[i..].to_owned()))
    })
}

/// The region (ISO 3166-1 alpha-2) an E.164 number belongs to, by
/// libphonenumber's metadata: what a platform that stores a country beside
/// the phone (Whaapy) is told when the file has no country column, and the
/// country a rejected row's message names. Uses the engine.
pub fn region_of(e164: &str) -> Option<String> {
    let n = PHONE_NUMBER_UTIL.parse(e164, None).ok()?;
    let r = PHONE_NUMBER_UTIL.get_region_for_number(&n)?;
    let code = r.to_string();
    // `001` is libphonenumber's id for non-geographic numbers: no country.
    (code.len() == 2).then_some(code)
}

/// A compact dedupe key: the E.164 digits as an integer. Distinct E.164
/// numbers give distinct keys (the leading `+` pins the digit string, and
/// E.164 numbers never start with 0).
pub fn e164_key(e164: &str) -> Option<u64> {
    let digits = e164.strip_prefix('+')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Auto,
    EngineOnly,
    FastOnly,
}

/// A cleaned cell: digits only, and how it was written.
struct Cleaned {
    /// Written as international (`+`, `00`).
    intl: bool,
    /// ASCII digits and nothing else in the cell (besides a leading `'`, a
    /// trailing `.0` and surrounding spaces): a WhatsApp id's shape.
    bare: bool,
    /// Brazil's `(0xx11)` carrier placeholder was removed.
    carrier_placeholder: bool,
    digits: String,
}

/// Extension markers libphonenumber also recognises, followed by the
/// extension digits at the end of the cell.
static EXTENSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:;\s*ext=|\s*(?:extension|extn|ext\.?|x|#|anexo|доб\.?|доп\.?)\s*[:.]?)\s*\d{1,7}#?\s*$",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Characters that only lay a number out.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | '-'
                | '('
                | ')'
                | '['
                | ']'
                | '/'
                | '\u{2010}'..='\u{2015}'
                | '\u{2212}'
                | '\u{30FC}'
                | '\u{FF0D}'
                | '\u{FF0E}'
                | '\u{FF08}'
                | '\u{FF09}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'
                | '\u{FEFF}'
        )
}

/// ASCII, full-width and Arabic-Indic digits, as libphonenumber reads them.
fn digit_value(c: char) -> Option<u8> {
    let base = match c {
        '0'..='9' => '0',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        _ => return None,
    };
    Some((c as u32 - base as u32) as u8)
}

/// Trims white space and the invisible marks copy-paste brings along.
fn trim(s: &str) -> &str {
    // A cell that starts and ends with a visible ASCII character (nearly
    // every one) has nothing to trim: white space is `\t`..`\r` or a space
    // in ASCII, and the marks are not ASCII.
    if let (Some(&a), Some(&z)) = (s.as_bytes().first(), s.as_bytes().last())
        && a.is_ascii()
        && z.is_ascii()
        && !matches!(a, b' ' | b'\t'..=b'\r')
        && !matches!(z, b' ' | b'\t'..=b'\r')
    {
        return s;
    }
    s.trim_matches(|c: char| {
        c.is_whitespace() || ('\u{200B}'..='\u{200F}').contains(&c) || c == '\u{FEFF}'
    })
}

/// Drops a trailing extension (never the whole cell).
fn strip_extension(s: &str) -> &str {
    match EXTENSION.find(s) {
        Some(m) if m.start() > 0 => &s[..m.start()],
        _ => s,
    }
}

/// Dashes and minus signs: separators inside a number, but never its first
/// character (`-5512345675` is a negative number, not a phone).
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF0D}')
}

/// Whether `s` starts with Brazil's carrier placeholder `0xx` (`(0xx11)`:
/// "dial 0, your carrier's code, then area code 11"), after an optional
/// parenthesis.
fn has_carrier_placeholder(s: &str) -> bool {
    let t = s.strip_prefix('(').unwrap_or(s).as_bytes();
    t.len() > 3 && t[0] == b'0' && t[1..3].eq_ignore_ascii_case(b"xx") && t[3].is_ascii_digit()
}

fn clean(raw: &str) -> Result<Cleaned, PhoneError> {
    let mut s = trim(raw);
    s = trim(s.strip_prefix(['\'', '\u{2019}']).unwrap_or(s));
    if s.is_empty() {
        return Err(PhoneError::Missing);
    }
    let mut tel = false;
    if s.len() >= 4 && s.as_bytes()[..4].eq_ignore_ascii_case(b"tel:") {
        tel = true;
        s = trim(&s[4..]);
        // RFC 3966 parameters other than an extension (isub, phone-context)
        // describe a different number than the digits alone.
        if let Some((num, params)) = s.split_once(';') {
            let all_ext = params.split(';').all(|p| {
                p.len() > 4
                    && p[..4].eq_ignore_ascii_case("ext=")
                    && p[4..].bytes().all(|b| b.is_ascii_digit())
            });
            if !all_ext {
                return Err(PhoneError::Invalid);
            }
            s = num;
        }
    }
    if s.starts_with(is_dash) {
        return Err(PhoneError::Invalid);
    }
    let placeholder_free;
    let carrier_placeholder = has_carrier_placeholder(s);
    if carrier_placeholder {
        // Only the two placeholder letters go: any other letter still
        // makes the cell invalid below.
        let at = s.find(['x', 'X']).unwrap_or(0);
        placeholder_free = format!("{}{}", &s[..at], &s[at + 2..]);
        s = &placeholder_free;
    }
    // Every extension marker has a letter, `#` or `;`: a cell of digits and
    // punctuation (nearly all of them) skips the regex.
    let mut extension = false;
    if s.bytes()
        .any(|b| b.is_ascii_alphabetic() || b == b'#' || b == b';' || b >= 0x80)
    {
        let before = s.len();
        s = strip_extension(s);
        extension = s.len() != before;
    }
    s = trim(s);
    // A number stored as a float shows up as "5215512345678.0".
    if let Some(int) = s.strip_suffix(".0")
        && int.len() > 1
        && int
            .trim_start_matches('+')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        s = int;
    }
    let bare = !tel && !extension && !carrier_placeholder && s.bytes().all(|b| b.is_ascii_digit());
    let mut digits = String::with_capacity(s.len());
    let mut plus = false;
    for c in s.chars() {
        if let Some(d) = digit_value(c) {
            digits.push((b'0' + d) as char);
        } else if matches!(c, '+' | '\u{FF0B}') && !plus && digits.is_empty() {
            plus = true;
        } else if !is_separator(c) {
            return Err(PhoneError::Invalid);
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::Invalid);
    }
    if !plus && let Some(rest) = digits.strip_prefix("00") {
        return Ok(Cleaned {
            intl: true,
            bare: false,
            carrier_placeholder,
            digits: rest.to_owned(),
        });
    }
    Ok(Cleaned {
        intl: plus,
        bare,
        carrier_placeholder,
        digits,
    })
}

/// Upper-case alpha-2 codes that both the country table and the metadata
/// know: exactly the codes [`resolve_region`] resolves to themselves.
/// Indexed by `fast::alpha2_index`: looked up once per row, where hashing
/// the key cost more than the lookup.
static KNOWN_CODES: LazyLock<Vec<Option<&'static str>>> = LazyLock::new(|| {
    let mut known = vec![None; 26 * 26];
    let codes = super::country_names::CODES.iter().map(|&(a2, _)| a2);
    for a2 in codes.chain(super::country_aliases::EXTRA_CODES.iter().copied()) {
        if let (Some(i), Some(id)) = (fast::alpha2_index(a2), fast::region_id(a2)) {
            known[i] = Some(id);
        }
    }
    known
});

/// Upper-case alpha-2 region the metadata knows, from a code or a name.
fn resolve_region(region: Option<&str>) -> Option<&'static str> {
    let region = region?;
    // The pipeline already passes a resolved code: skip the name lookup.
    if let Some(id) = fast::alpha2_index(region).and_then(|i| KNOWN_CODES[i]) {
        return Some(id);
    }
    let code = super::country::region_code(region)?;
    fast::knows_region(code).then_some(code)
}

/// One valid reading of a cell.
struct Found {
    e164: String,
    cc: i32,
    kind: Kind,
    note: Option<Note>,
}

impl Found {
    fn into_phone(self, extra: Option<Note>) -> Phone {
        Phone {
            e164: self.e164,
            kind: self.kind,
            notes: extra.into_iter().chain(self.note).collect(),
        }
    }
}

/// Shortest and longest WhatsApp id (rule 3 of [`read`]): E.164 allows 15
/// digits, and 11 keeps out the 10-digit national numbers of the big plans
/// (US, Mexico, India, Colombia).
const WHATSAPP_ID: std::ops::RangeInclusive<usize> = 11..=15;

fn run(
    raw: &str,
    row_region: RowRegion<'_>,
    prefer: Prefer,
    mode: Mode,
) -> (Result<Phone, PhoneError>, Path) {
    let cleaned = match clean(raw) {
        Ok(c) => c,
        Err(e) => return (Err(e), Path::Fast),
    };
    let mut path = Path::Fast;
    let result = decide(&cleaned, row_region, prefer, mode, &mut path);
    if mode == Mode::FastOnly && path == Path::Engine {
        return (Err(PhoneError::Invalid), Path::Engine);
    }
    (result, path)
}

/// The rules of [`read`] on a cleaned cell.
fn decide(
    cleaned: &Cleaned,
    row_region: RowRegion<'_>,
    prefer: Prefer,
    mode: Mode,
    path: &mut Path,
) -> Result<Phone, PhoneError> {
    let digits = cleaned.digits.as_str();
    // Rule 1: the cell says it is international.
    if cleaned.intl {
        return read_once(digits, true, None, mode, path)
            .map(|f| f.into_phone(None))
            .ok_or(PhoneError::Invalid);
    }
    let (region, own_country) = match row_region {
        RowRegion::Country(c) => match resolve_region(Some(c)) {
            Some(r) => (Some(r), true),
            None => return Err(PhoneError::UnknownCountry(c.to_owned())),
        },
        RowRegion::Default(r) => (resolve_region(Some(r)), false),
        RowRegion::Unknown(cell) => return Err(PhoneError::UnknownCountry(cell.to_owned())),
        RowRegion::None => (None, false),
    };
    let whatsapp_id = cleaned.bare && WHATSAPP_ID.contains(&digits.len());
    let Some(region) = region else {
        // Rules 3 and 4 without a region: only a WhatsApp id can be read.
        if whatsapp_id && let Some(f) = read_once(digits, true, None, mode, path) {
            return Ok(f.into_phone(None));
        }
        return Err(PhoneError::NeedsCountry);
    };
    if cleaned.carrier_placeholder && region != "BR" {
        return Err(PhoneError::Invalid);
    }
    // Rule 2: national in the row's region (with its legacy forms).
    match read_national(digits, region, cleaned.carrier_placeholder, mode, path) {
        Some((national, note)) => {
            // Rule 5. When the national reading is the cell read as
            // international, both readings agree and there is nothing to ask.
            let literal = national.e164.len() == digits.len() + 1 && national.e164[1..] == *digits;
            if whatsapp_id
                && !literal
                && prefer != Prefer::National
                && let Some(intl) = read_once(digits, true, None, mode, path)
                && intl.e164 != national.e164
            {
                if prefer == Prefer::International {
                    return Ok(intl.into_phone(None));
                }
                return Err(PhoneError::Ambiguous {
                    region,
                    other: region_of(&intl.e164).unwrap_or_default(),
                    national: national.e164,
                    international: intl.e164,
                });
            }
            Ok(national.into_phone(note))
        }
        // Rule 3: a WhatsApp id that is no national number.
        None if whatsapp_id => {
            let intl = read_once(digits, true, None, mode, path).ok_or(PhoneError::Invalid)?;
            if own_country && fast::region_calling_code(region) != Some(intl.cc) {
                return Err(PhoneError::CountryMismatch {
                    region,
                    other: region_of(&intl.e164).unwrap_or_default(),
                    e164: intl.e164,
                });
            }
            Ok(intl.into_phone(None))
        }
        // Rule 4.
        None => Err(PhoneError::Invalid),
    }
}

/// Rule 2: `digits` as a national number of `region`, after rewriting the
/// region's legacy national forms; the note says which rewrite applied.
fn read_national(
    digits: &str,
    region: &'static str,
    carrier_placeholder: bool,
    mode: Mode,
    path: &mut Path,
) -> Option<(Found, Option<Note>)> {
    let (national, note) = match region {
        "MX" => legacy_mx(digits),
        // Chile's mobiles lost their 0 in 2012: `09 8765 4321`.
        "CL" if digits.len() == 10 && digits.starts_with("09") => (&digits[1..], Some(Note::Cl09)),
        _ => (digits, None),
    };
    let found = read_once(national, false, Some(region), mode, path)?;
    // Brazil's carrier codes are read by libphonenumber's own rule
    // (`0 21 11 9…`, trunk 0 then a two-digit carrier); say that one went.
    let note = note.or_else(|| {
        (region == "BR"
            && found.cc == 55
            && (carrier_placeholder
                || (digits.len() >= 13 && (digits.starts_with('0') || digits.starts_with("90")))))
        .then_some(Note::BrCarrierCode)
    });
    Some((found, note))
}

/// Mexico's national legacy forms: `044`/`045` + 10 digits (mobile, until
/// 2019), `01`/`02` + 10 digits (long distance, until 2019), `1` + 10
/// digits (the mobile 1, as in `+52 1`). Today every number is 10 digits.
fn legacy_mx(digits: &str) -> (&str, Option<Note>) {
    match digits.len() {
        13 if digits.starts_with("044") || digits.starts_with("045") => {
            (&digits[3..], Some(Note::Mx044))
        }
        12 if digits.starts_with("01") || digits.starts_with("02") => {
            (&digits[2..], Some(Note::MxLongDistance))
        }
        11 if digits.starts_with('1') => (&digits[1..], Some(Note::MxMobile1)),
        _ => (digits, None),
    }
}

/// Mexico's old international mobile form `+52 1` + 10 digits: libphonenumber
/// dropped it (metadata 8.13.38) but WhatsApp ids still carry the 1.
fn strip_mx_1(cc: i32, nsn: &str) -> Option<&str> {
    (cc == 52 && nsn.len() == 11 && nsn.starts_with('1')).then(|| &nsn[1..])
}

/// A Brazilian mobile written before the ninth digit (2012-2016): area code
/// and eight digits starting 6-9 (landlines start 2-5). WhatsApp still
/// reports many Brazilian ids this way.
fn br_ninth_digit(cc: i32, nsn: &str) -> Option<String> {
    (cc == 55 && nsn.len() == 10 && matches!(nsn.as_bytes()[2], b'6'..=b'9'))
        .then(|| format!("{}9{}", &nsn[..2], &nsn[2..]))
}

/// One reading of `digits` (international when `plus`, else national in
/// `region`): the valid number, its type and any legacy rewrite. Marks
/// `path` when the engine had to be asked; in fast-only mode that is where
/// it stops.
fn read_once(
    digits: &str,
    plus: bool,
    region: Option<&str>,
    mode: Mode,
    path: &mut Path,
) -> Option<Found> {
    // No calling code starts with 0, and an unassigned code is the engine's
    // "invalid country code": both are settled without asking it.
    if plus && (digits.starts_with('0') || split_e164_digits(digits).is_none()) {
        return None;
    }
    let parsed = match (mode != Mode::EngineOnly)
        .then(|| fast::parse(digits, plus, region))
        .flatten()
    {
        Some(p) => (p.cc, p.nsn),
        None => {
            *path = Path::Engine;
            if mode == Mode::FastOnly {
                return None;
            }
            let (cc, nsn) = engine_parse(digits, plus, region)?;
            (cc, Cow::Owned(nsn))
        }
    };
    let (cc, nsn) = parsed;
    if let Some(short) = strip_mx_1(cc, &nsn) {
        let kind = verdict(cc, short, mode, path)?;
        return Some(Found {
            e164: e164(cc, short),
            cc,
            kind,
            note: Some(Note::MxMobile1),
        });
    }
    if let Some(kind) = verdict(cc, &nsn, mode, path) {
        return Some(Found {
            e164: e164(cc, &nsn),
            cc,
            kind,
            note: None,
        });
    }
    let nine = br_ninth_digit(cc, &nsn)?;
    match verdict(cc, &nine, mode, path)? {
        Kind::Mobile => Some(Found {
            e164: e164(cc, &nine),
            cc,
            kind: Kind::Mobile,
            note: Some(Note::BrNinthDigit),
        }),
        _ => None,
    }
}

/// Whether `digits` (without `+`) start with an assigned calling code.
fn split_e164_digits(digits: &str) -> Option<usize> {
    (1..=3.min(digits.len())).find(|&i| digits[..i].parse::<u32>().is_ok_and(fast::is_calling_code))
}

/// The type of the number `cc` + `nsn`, `None` when it is not valid: the
/// fast path's verdict when it has one, else the engine's.
fn verdict(cc: i32, nsn: &str, mode: Mode, path: &mut Path) -> Option<Kind> {
    if mode != Mode::EngineOnly
        && let Some(v) = fast::number_type(cc, nsn)
    {
        // When the fast path knows the region it answers as the engine
        // does (tests/integration/normalize_fastpath.rs checks both
        // verdicts and the type in every region).
        return v;
    }
    *path = Path::Engine;
    if mode == Mode::FastOnly {
        return None;
    }
    engine_verdict(cc, nsn)
}

/// `+{cc}{nsn}` without the formatting machinery (one allocation).
fn e164(cc: i32, nsn: &str) -> String {
    let mut out = String::with_capacity(4 + nsn.len());
    out.push('+');
    let cc = cc.unsigned_abs();
    for div in [100, 10, 1] {
        if cc >= div || div == 1 {
            out.push(char::from(b'0' + (cc / div % 10) as u8));
        }
    }
    out.push_str(nsn);
    out
}

/// The engine's parse: calling code and national significant number.
fn engine_parse(digits: &str, plus: bool, region: Option<&str>) -> Option<(i32, String)> {
    let region = match region {
        Some(r) => Some(Region::from_code(r).ok()?),
        None => None,
    };
    let number = if plus {
        PHONE_NUMBER_UTIL.parse(format!("+{digits}"), region).ok()?
    } else {
        PHONE_NUMBER_UTIL.parse(digits, region).ok()?
    };
    let nsn = rlibphonenumber::get_national_significant_number_owned(&number);
    Some((number.country_code, nsn))
}

/// The engine's validity and type of `cc` + `nsn`.
fn engine_verdict(cc: i32, nsn: &str) -> Option<Kind> {
    let zeros = nsn.bytes().take_while(|&b| b == b'0').count();
    let number = PhoneNumber {
        country_code: cc,
        national_number: nsn.parse().ok()?,
        italian_leading_zero: (zeros > 0).then_some(true),
        number_of_leading_zeros: (zeros > 1).then_some(zeros as i32),
        ..Default::default()
    };
    if !PHONE_NUMBER_UTIL.is_valid_number(&number) {
        return None;
    }
    // The engine's E.164 of the number must be ours, or the leading zeros
    // were not carried over: then it is not a number we can store.
    if PHONE_NUMBER_UTIL.format(&number, PhoneNumberFormat::E164) != e164(cc, nsn) {
        return None;
    }
    Kind::from_engine(PHONE_NUMBER_UTIL.get_number_type(&number))
}

/// Alpha-2 ids and calling codes of every region in the fast path's copy of
/// the metadata (non-geographic entities have id `001`); used to check that
/// copy against the engine.
pub fn metadata_regions() -> Vec<(&'static str, i32)> {
    fast::region_ids().collect()
}

/// The engine's calling code for an alpha-2 region, if it knows the region.
pub fn engine_calling_code(region: &str) -> Option<i32> {
    PHONE_NUMBER_UTIL.get_country_code_for_region(Region::from_code(region).ok()?)
}

#[cfg(test)]
mod region_tests {
    use super::region_of;

    #[test]
    fn trim_takes_the_shortcut_only_when_nothing_is_to_trim() {
        let full = |s: &str| {
            s.trim_matches(|c: char| {
                c.is_whitespace() || ('\u{200B}'..='\u{200F}').contains(&c) || c == '\u{FEFF}'
            })
            .to_string()
        };
        for cell in [
            "+34 611 22 33 44",
            " 611",
            "611\x0B",
            "\x0C611",
            "\t611\r\n",
            "\u{200B}611",
            "611\u{FEFF}",
            "\u{A0}611\u{3000}",
            "(611)",
            "",
            " ",
        ] {
            assert_eq!(super::trim(cell), full(cell), "{cell:?}");
        }
    }

    #[test]
    fn region_of_reads_the_country_of_a_number() {
        assert_eq!(region_of("+34612345678").as_deref(), Some("ES"));
        assert_eq!(region_of("+525512345678").as_deref(), Some("MX"));
        assert_eq!(region_of("+14155552671").as_deref(), Some("US"));
        assert_eq!(region_of("garbage"), None);
    }
}
