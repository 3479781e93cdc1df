//! Country names and codes to ISO 3166 alpha-2 regions.
//!
//! A cell can hold an alpha-2 or alpha-3 code or a name in English, Spanish,
//! Portuguese or Russian, in any case and with or without accents
//! ("México", "mexico", "MEX", "MX", "Estados Unidos", "España", "Россия",
//! "Brasil"). Names come from the iso-codes package's translations plus
//! common short forms (`country_names.rs`), and the regions with their own
//! numbering plan that ISO 3166-1 does not list: Kosovo (`XK`), Ascension
//! (`AC`) and Tristan da Cunha (`TA`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use super::country_names::{CODES, EXTRA_CODES, NAMES};

/// Folded name → alpha-2; alpha-2 and alpha-3 → alpha-2.
struct Index {
    names: HashMap<String, &'static str>,
    codes: HashMap<&'static str, &'static str>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut codes = HashMap::with_capacity(CODES.len() * 2);
    for &(a2, a3) in CODES {
        codes.insert(a2, a2);
        codes.insert(a3, a2);
    }
    for &a2 in EXTRA_CODES {
        codes.insert(a2, a2);
    }
    let mut names = HashMap::with_capacity(NAMES.len());
    for &(name, a2) in NAMES {
        // Earlier entries have priority (aliases and English first).
        names.entry(fold(name)).or_insert(a2);
    }
    Index { names, codes }
});

thread_local! {
    /// Cells already read on this thread. A file's country column holds a
    /// handful of distinct values over and over, and folding a name costs
    /// more than finding it here.
    static SEEN: RefCell<HashMap<Box<str>, Option<&'static str>>> = RefCell::new(HashMap::new());
}

/// Distinct cells remembered per thread before the memory starts over.
const SEEN_MAX: usize = 4096;

/// Reads a country cell (alpha-2, alpha-3, or an English, Spanish,
/// Portuguese or Russian name) as an ISO 3166 alpha-2 code.
pub fn region_code(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        return None;
    }
    SEEN.with_borrow_mut(|seen| {
        if let Some(known) = seen.get(text) {
            return *known;
        }
        let found = look_up(text);
        if seen.len() >= SEEN_MAX {
            seen.clear();
        }
        seen.insert(text.into(), found);
        found
    })
}

fn look_up(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if (2..=3).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphabetic()) {
        let upper = t.to_ascii_uppercase();
        if let Some(&a2) = INDEX.codes.get(upper.as_str()) {
            return Some(a2);
        }
    }
    let key = fold(t);
    if key.is_empty() {
        return None;
    }
    INDEX
        .names
        .get(&key)
        .or_else(|| key.strip_prefix("the ").and_then(|k| INDEX.names.get(k)))
        .copied()
}

/// Lower-cases, removes accents and turns punctuation into single spaces,
/// so "Perú", "PERU" and "peru" meet, as do "EE.UU." and "EE UU".
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        let mapped: &str = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'é' | 'è' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
            'í' | 'ì' | 'î' | 'ï' | 'ī' | 'ı' | 'į' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' | 'ő' => "o",
            'ú' | 'ù' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
            'ñ' | 'ń' | 'ň' => "n",
            'ç' | 'ć' | 'č' => "c",
            'ś' | 'š' | 'ş' | 'ș' => "s",
            'ž' | 'ź' | 'ż' => "z",
            'ý' | 'ÿ' => "y",
            'ř' => "r",
            'ł' => "l",
            'ğ' => "g",
            'ť' | 'ţ' | 'ț' => "t",
            'ď' | 'đ' => "d",
            'æ' => "ae",
            'œ' => "oe",
            'ß' => "ss",
            'ё' => "е",
            _ => {
                if c.is_alphanumeric() {
                    if space && !out.is_empty() {
                        out.push(' ');
                    }
                    space = false;
                    out.push(c);
                } else {
                    space = true;
                }
                continue;
            }
        };
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push_str(mapped);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_removes_accents_case_and_punctuation() {
        assert_eq!(fold("  Perú "), "peru");
        assert_eq!(fold("EE.UU."), "ee uu");
        assert_eq!(fold("Côte d'Ivoire"), "cote d ivoire");
        assert_eq!(fold("Соединённые"), "соединенные");
    }
}
