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
//! 2. **Reading**: the number is read in the caller's region, and, when that
//!    fails, as an international number (a WhatsApp id is the international
//!    number without `+`). Two rules of our own apply on top of
//!    libphonenumber: Mexico's legacy mobile forms (see [`normalize`]).
//! 3. **Validation**: only numbers libphonenumber deems valid are accepted.
//!
//! Reading and validation have two implementations: the engine itself, and a
//! fast path (`phone/fast.rs`) that replays the engine's rules on the digits
//! with the engine's own metadata (`phone/meta.rs`). When the fast path
//! parses a number, its verdict (valid or not) is final; whenever it
//! declines, the engine decides.

mod fast;
mod meta;

use std::sync::LazyLock;

use regex::Regex;
use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat, enums::Region};

/// Why a phone was rejected; the `code` is the stable reason in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
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
}

impl PhoneError {
    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            PhoneError::Missing => "missing_phone",
            PhoneError::Invalid => "invalid_phone",
            PhoneError::NeedsCountry => "phone_needs_country",
        }
    }
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

/// Normalizes `raw` to E.164, reading national numbers in `region`.
///
/// `region` is the row's country, else the default region: an ISO alpha-2
/// code, or anything [`crate::normalize::country::region_code`] understands
/// ("México", "ESP"). An unknown region counts as none.
///
/// Rules:
/// - Noise: spaces (including non-breaking and zero-width ones), dots,
///   dashes, slashes, parentheses and brackets are ignored; a leading `'`
///   (Excel's text marker), a `tel:` prefix and a trailing `.0` (a number
///   that went through a float) are removed; `00` is an international
///   prefix like `+`. An extension (`ext`, `ext.`, `x`, `#`, `;ext=`,
///   `extension`, `anexo`, `доб`) is dropped, since E.164 has none.
/// - Letters anywhere else make the phone [`PhoneError::Invalid`].
/// - `+`/`00` numbers are read as international, whatever the region.
/// - Bare digits are read in `region`; if they are not valid there but are
///   valid as an international number, they are that number (WhatsApp ids
///   such as `573188779043` in a Spanish sheet). Without a region they must
///   be a valid international number, else [`PhoneError::NeedsCountry`].
/// - Mexico: `+52 1` + 10 digits (the pre-2019 mobile form, still used by
///   WhatsApp ids) and, in region MX, `044`/`045` + 10 digits become
///   `+52` + the 10 digits.
///
/// Thread-safe; the engine and the fast path's regexes are shared statics.
pub fn normalize(raw: &str, region: Option<&str>) -> Result<String, PhoneError> {
    run(raw, region, Mode::Auto).0
}

/// [`normalize`], also telling which implementation decided.
pub fn normalize_traced(raw: &str, region: Option<&str>) -> (Result<String, PhoneError>, Path) {
    run(raw, region, Mode::Auto)
}

/// [`normalize`] using the engine alone (no fast path): the reference the
/// fast path is tested and benchmarked against.
pub fn normalize_with_engine(raw: &str, region: Option<&str>) -> Result<String, PhoneError> {
    run(raw, region, Mode::EngineOnly).0
}

/// [`normalize`] using the fast path alone: `Some` only when the fast path
/// accepts the number by itself, `None` when it would defer to the engine.
pub fn fast_path(raw: &str, region: Option<&str>) -> Option<String> {
    match run(raw, region, Mode::FastOnly) {
        (Ok(e164), Path::Fast) => Some(e164),
        _ => None,
    }
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
/// the phone (Whaapy) is told when the file has no country column.
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

/// A cleaned cell: digits only, and whether it was written internationally.
struct Cleaned {
    intl: bool,
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

fn clean(raw: &str) -> Result<Cleaned, PhoneError> {
    let mut s = trim(raw);
    s = trim(s.strip_prefix(['\'', '\u{2019}']).unwrap_or(s));
    if s.is_empty() {
        return Err(PhoneError::Missing);
    }
    if s.len() >= 4 && s.as_bytes()[..4].eq_ignore_ascii_case(b"tel:") {
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
    // Every extension marker has a letter, `#` or `;`: a cell of digits and
    // punctuation (nearly all of them) skips the regex.
    if s.bytes()
        .any(|b| b.is_ascii_alphabetic() || b == b'#' || b == b';' || b >= 0x80)
    {
        s = strip_extension(s);
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
            digits: rest.to_owned(),
        });
    }
    Ok(Cleaned { intl: plus, digits })
}

/// Upper-case alpha-2 codes that both the country table and the metadata
/// know: exactly the codes [`resolve_region`] resolves to themselves.
/// Indexed by `fast::alpha2_index`: looked up once per row, where hashing
/// the key cost more than the lookup.
static KNOWN_CODES: LazyLock<Vec<Option<&'static str>>> = LazyLock::new(|| {
    let mut known = vec![None; 26 * 26];
    for &(a2, _) in super::country_names::CODES {
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

fn run(raw: &str, region: Option<&str>, mode: Mode) -> (Result<String, PhoneError>, Path) {
    let cleaned = match clean(raw) {
        Ok(c) => c,
        Err(e) => return (Err(e), Path::Fast),
    };
    let mut path = Path::Fast;
    let region = resolve_region(region);
    let digits = cleaned.digits.as_str();
    let result = if cleaned.intl {
        read(digits, true, None, mode, &mut path).ok_or(PhoneError::Invalid)
    } else if let Some(r) = region {
        let national = if r == "MX" {
            strip_mx_044(digits)
        } else {
            digits
        };
        read(national, false, Some(r), mode, &mut path)
            .or_else(|| read(digits, true, None, mode, &mut path))
            .ok_or(PhoneError::Invalid)
    } else {
        read(digits, true, None, mode, &mut path).ok_or(PhoneError::NeedsCountry)
    };
    if mode == Mode::FastOnly && path == Path::Engine {
        return (Err(PhoneError::Invalid), Path::Engine);
    }
    (result, path)
}

/// Mexico's old national mobile prefixes: 044 (local) and 045 (long
/// distance) before the 10-digit number.
fn strip_mx_044(digits: &str) -> &str {
    if digits.len() == 13 && (digits.starts_with("044") || digits.starts_with("045")) {
        &digits[3..]
    } else {
        digits
    }
}

/// Mexico's old international mobile form `+52 1` + 10 digits: libphonenumber
/// dropped it (metadata 8.13.38) but WhatsApp ids still carry the 1.
fn strip_mx_1(cc: i32, nsn: &str) -> Option<&str> {
    (cc == 52 && nsn.len() == 11 && nsn.starts_with('1')).then(|| &nsn[1..])
}

/// One reading of `digits` (international when `plus`, else national in
/// `region`), giving the E.164 string when valid. Marks `path` when the
/// engine had to be asked; in fast-only mode that is where it stops.
fn read(
    digits: &str,
    plus: bool,
    region: Option<&str>,
    mode: Mode,
    path: &mut Path,
) -> Option<String> {
    if mode != Mode::EngineOnly
        && let Some(p) = fast::parse(digits, plus, region)
    {
        let nsn = strip_mx_1(p.cc, &p.nsn).unwrap_or(&p.nsn);
        // When the fast path parsed the number it parsed it as the engine
        // does, so its validity verdict is the engine's either way
        // (tests/integration/normalize_fastpath.rs checks both verdicts in every region).
        match fast::is_valid(p.cc, nsn) {
            Some(true) => return Some(e164(p.cc, nsn)),
            Some(false) => return None,
            None => {}
        }
    }
    *path = Path::Engine;
    if mode == Mode::FastOnly {
        return None;
    }
    engine_read(digits, plus, region)
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

fn engine_read(digits: &str, plus: bool, region: Option<&str>) -> Option<String> {
    let region = match region {
        Some(r) => Some(Region::from_code(r).ok()?),
        None => None,
    };
    let mut number = if plus {
        PHONE_NUMBER_UTIL.parse(format!("+{digits}"), region).ok()?
    } else {
        PHONE_NUMBER_UTIL.parse(digits, region).ok()?
    };
    let nsn = rlibphonenumber::get_national_significant_number_owned(&number);
    if let Some(short) = strip_mx_1(number.country_code, &nsn) {
        number = PhoneNumber {
            country_code: number.country_code,
            national_number: short.parse().ok()?,
            italian_leading_zero: short.starts_with('0').then_some(true),
            ..Default::default()
        };
    }
    if !PHONE_NUMBER_UTIL.is_valid_number(&number) {
        return None;
    }
    Some(
        PHONE_NUMBER_UTIL
            .format(&number, PhoneNumberFormat::E164)
            .into_owned(),
    )
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
    fn region_of_reads_the_country_of_a_number() {
        assert_eq!(region_of("+34612345678").as_deref(), Some("ES"));
        assert_eq!(region_of("+525512345678").as_deref(), Some("MX"));
        assert_eq!(region_of("+14155552671").as_deref(), Some("US"));
        assert_eq!(region_of("garbage"), None);
    }
}
