//! The fast path: libphonenumber's parse and validity rules replayed on a
//! canonical digit string with the engine's own metadata (see `meta.rs`).
//!
//! The engine spends most of its ~2 µs per number on generic string regexes
//! (extension and punctuation scanning) and on checking every number type one
//! regex at a time. Our input is already cleaned to `[+]digits`, so this module
//! skips the string work and checks all number types of a region with a single
//! multi-pattern automaton per national-number length, which also tells the
//! number's type. It follows the engine's code step by
//! step (`parse_helper`, `maybe_extract_country_code`,
//! `maybe_strip_national_prefix_and_carrier_code`, `test_number_length`,
//! `get_region_for_number`, `get_number_type_helper`) and declines (`None`)
//! wherever it does not replicate the engine, such as non-geographic calling
//! codes or error paths; the caller then asks the engine. A number it parses
//! is parsed exactly as the engine parses it, so both its accepts and its
//! rejections are final (tests/integration/normalize_fastpath.rs checks both, in every
//! region of the metadata).

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::util::primitives::StateID;
use regex_automata::util::{start, syntax};
use regex_automata::{Anchored, MatchKind};

use super::Kind;
use super::meta::METADATA;
use super::meta_types::{D, M};

/// National significant numbers longer than this are rejected by the engine.
const MAX_NSN: usize = 17;
/// ... and shorter than this.
const MIN_NSN: usize = 2;

/// Patterns of one region, compiled on first use (most runs touch a handful
/// of regions, and compiling all 250 would cost a noticeable startup).
struct Compiled {
    general_full: Option<Pattern>,
    ld_start: Option<Pattern>,
    idd_start: Option<Pattern>,
    npfp_start: Option<Pattern>,
    /// The national-prefix-for-parsing regex again, for its capture groups,
    /// when it has any and the region has a transform rule: only then can
    /// the groups change the result.
    npfp_groups: Option<Regex>,
    /// For each NSN length, one automaton over the patterns of every number
    /// type allowing that length, telling which of them match (`None`: no
    /// type allows it; `Err`: it does not compile, so the fast path
    /// declines), built on first use.
    by_len: Vec<OnceLock<Result<Option<Types>, ()>>>,
}

struct Region {
    meta: &'static M,
    compiled: OnceLock<Option<Compiled>>,
}

struct Tables {
    regions: Vec<Region>,
    /// Calling code → regions, main country first (the engine's order),
    /// indexed by the code (at most three digits): looked up several times
    /// per number, where hashing cost more than the lookup.
    by_cc: Vec<Vec<usize>>,
    /// Alpha-2 id → region (geographic regions only), indexed by
    /// [`alpha2_index`].
    by_id: Vec<Option<usize>>,
}

/// Calling codes have at most three digits.
const CC_LIMIT: usize = 1000;

/// Dense index (below 676) of an upper-case alpha-2 code; `None` for
/// anything else.
pub(super) fn alpha2_index(id: &str) -> Option<usize> {
    match id.as_bytes() {
        &[a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
            Some(usize::from(a - b'A') * 26 + usize::from(b - b'A'))
        }
        _ => None,
    }
}

impl Tables {
    /// Regions sharing calling code `cc`, main country first; `None` when
    /// the code is not assigned.
    fn cc_regions(&self, cc: i32) -> Option<&[usize]> {
        let list = self.by_cc.get(usize::try_from(cc).ok()?)?;
        (!list.is_empty()).then_some(list.as_slice())
    }

    /// The geographic region with alpha-2 id `id`.
    fn region_index(&self, id: &str) -> Option<usize> {
        self.by_id[alpha2_index(id)?]
    }
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let regions: Vec<Region> = METADATA
        .iter()
        .map(|meta| Region {
            meta,
            compiled: OnceLock::new(),
        })
        .collect();
    let mut by_cc: Vec<Vec<usize>> = vec![Vec::new(); CC_LIMIT];
    let mut by_id = vec![None; 26 * 26];
    for (i, r) in regions.iter().enumerate() {
        // The generated metadata only has 1-3 digit codes and upper-case
        // alpha-2 ids (tests/integration/normalize_fastpath.rs checks it against the
        // engine, region by region).
        if let Some(list) = usize::try_from(r.meta.cc)
            .ok()
            .and_then(|cc| by_cc.get_mut(cc))
        {
            if r.meta.main {
                list.insert(0, i);
            } else {
                list.push(i);
            }
        }
        if let Some(slot) = alpha2_index(r.meta.id) {
            by_id[slot] = Some(i);
        }
    }
    Tables {
        regions,
        by_cc,
        by_id,
    }
});

/// The engine wraps every pattern as `^(?:…)$` and treats anything shorter
/// than that wrapper as the empty pattern; we decline those regions instead.
fn wrapped(p: &str) -> Option<&str> {
    (p.len() >= 6 && p.starts_with("^(?:") && p.ends_with(")$")).then_some(p)
}

/// Builds a metadata regex. Our haystacks are ASCII digits, so `\d` only
/// needs to mean `[0-9]`: Unicode mode would make every `\d` a large UTF-8
/// automaton, which cost most of a second and ~200 MB to compile.
fn regex(p: &str) -> Option<Regex> {
    RegexBuilder::new(p).unicode(false).build().ok()
}

/// Largest DFA we keep (and largest determinization we attempt): the big
/// per-length unions of a region fit in a few tens of KB with room to spare,
/// and this caps a pathological pattern's first use at a few milliseconds
/// before it falls back to the regex.
const DFA_LIMIT: usize = 1 << 20;

/// A metadata pattern (`^(?:…)`, with or without the closing `$`) compiled
/// for haystacks of at most 17 ASCII digits.
///
/// Each call through `Regex` pays for its generic machinery (a cache pool,
/// strategy dispatch, a lazy DFA filling itself in) that dwarfs walking 17
/// bytes, so patterns are fully determinized up front and walked in a plain
/// loop. A pattern whose DFA would be too large keeps the regex.
enum Pattern {
    Dfa {
        /// Boxed: the DFA's header is ten times the size of a `Regex`.
        dfa: Box<dense::DFA<Vec<u32>>>,
        /// The anchored start state at the beginning of the haystack (where
        /// `^` holds), the only one we ever start from.
        start: StateID,
    },
    Regex(Regex),
}

impl Pattern {
    /// `None` when the pattern does not compile at all (the regex decides
    /// that, exactly as before the DFA existed).
    fn new(p: &str) -> Option<Pattern> {
        match Self::dfa(p) {
            Some(pattern) => Some(pattern),
            None => regex(p).map(Pattern::Regex),
        }
    }

    fn dfa(p: &str) -> Option<Pattern> {
        // Same syntax as `regex()`: with UTF-8 mode on, a pattern the regex
        // rejects (one that could match invalid UTF-8) is rejected here too.
        // Unicode word boundaries are refused at build time rather than
        // turned into quit bytes, so the walk never meets a quit state.
        let dfa = dense::Builder::new()
            .syntax(syntax::Config::new().unicode(false))
            .configure(
                dense::Config::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .start_kind(StartKind::Anchored)
                    .accelerate(false)
                    .unicode_word_boundary(false)
                    .dfa_size_limit(Some(DFA_LIMIT))
                    .determinize_size_limit(Some(DFA_LIMIT)),
            )
            .build(p)
            .ok()?;
        let start = dfa
            .start_state(&start::Config::new().anchored(Anchored::Yes))
            .ok()?;
        Some(Pattern::Dfa {
            dfa: Box::new(dfa),
            start,
        })
    }

    /// Whether the pattern matches at the start of `h` (for a pattern ending
    /// in `$`: whether it matches all of `h`).
    fn is_match(&self, h: &str) -> bool {
        match self {
            Pattern::Dfa { dfa, start } => {
                let mut s = *start;
                for &b in h.as_bytes() {
                    s = dfa.next_state(s, b);
                    if dfa.is_special_state(s) {
                        // Matches show up one byte late, so this one ended
                        // before `b`; a dead state means no match can follow.
                        if dfa.is_match_state(s) {
                            return true;
                        }
                        if dfa.is_dead_state(s) || dfa.is_quit_state(s) {
                            return false;
                        }
                    }
                }
                dfa.is_match_state(dfa.next_eoi_state(s))
            }
            Pattern::Regex(re) => re.is_match(h),
        }
    }

    /// End of the leftmost-first match at the start of `h`, as `Regex::find`
    /// reports it.
    fn find_end(&self, h: &str) -> Option<usize> {
        match self {
            Pattern::Dfa { dfa, start } => {
                let mut s = *start;
                let mut end = None;
                for (i, &b) in h.as_bytes().iter().enumerate() {
                    s = dfa.next_state(s, b);
                    if dfa.is_special_state(s) {
                        if dfa.is_match_state(s) {
                            // Leftmost-first keeps going for a longer match
                            // of a preferred alternative.
                            end = Some(i);
                        } else if dfa.is_dead_state(s) || dfa.is_quit_state(s) {
                            return end;
                        }
                    }
                }
                if dfa.is_match_state(dfa.next_eoi_state(s)) {
                    end = Some(h.len());
                }
                end
            }
            Pattern::Regex(re) => re.find(h).map(|m| m.end()),
        }
    }
}

fn compile_full(p: Option<&'static str>) -> Result<Option<Pattern>, ()> {
    match p {
        None => Ok(None),
        Some(p) => Pattern::new(wrapped(p).ok_or(())?).map(Some).ok_or(()),
    }
}

/// The pattern without its closing `$`: it then matches a prefix.
fn start_pattern(p: Option<&'static str>) -> Result<Option<&'static str>, ()> {
    match p {
        None => Ok(None),
        Some(p) => {
            let p = wrapped(p).ok_or(())?;
            Ok(Some(&p[..p.len() - 1]))
        }
    }
}

/// Whether a pattern has capture groups; `None` when it does not parse.
fn has_groups(p: &str) -> Option<bool> {
    let hir = syntax::parse_with(p, &syntax::Config::new().unicode(false)).ok()?;
    Some(hir.properties().explicit_captures_len() > 0)
}

fn compile_start(p: Option<&'static str>) -> Result<Option<Pattern>, ()> {
    match start_pattern(p)? {
        None => Ok(None),
        Some(p) => Pattern::new(p).map(Some).ok_or(()),
    }
}

/// The descriptions `get_number_type_helper` tries, in its order.
fn type_descs(m: &M) -> Vec<&D> {
    let mut v = vec![
        &m.premium,
        &m.toll_free,
        &m.shared,
        &m.voip,
        &m.personal,
        &m.pager,
        &m.uan,
        &m.voicemail,
        &m.fixed,
    ];
    if !m.same_mf {
        v.push(&m.mobile);
    }
    v
}

/// The number types of [`type_descs`], by position: what a match of that
/// description means before the fixed/mobile rule is applied.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    Kind(Kind),
    Fixed,
    Mobile,
}

fn slots(m: &M) -> Vec<Slot> {
    let mut v = vec![
        Slot::Kind(Kind::PremiumRate),
        Slot::Kind(Kind::TollFree),
        Slot::Kind(Kind::SharedCost),
        Slot::Kind(Kind::Voip),
        Slot::Kind(Kind::PersonalNumber),
        Slot::Kind(Kind::Pager),
        Slot::Kind(Kind::Uan),
        Slot::Kind(Kind::Voicemail),
        Slot::Fixed,
    ];
    if !m.same_mf {
        v.push(Slot::Mobile);
    }
    v
}

/// The patterns of every number type allowing one NSN length, matched
/// together: one walk of the digits says which types match, so telling the
/// number's type costs no more than telling its validity did.
enum Multi {
    Dfa {
        /// Boxed: the DFA's header is ten times the size of a `Regex`.
        dfa: Box<dense::DFA<Vec<u32>>>,
        start: StateID,
    },
    Set(RegexSet),
}

/// A region's type patterns for one length, and which [`Slot`] each is.
struct Types {
    multi: Multi,
    slots: Vec<Slot>,
    same_mf: bool,
}

impl Types {
    /// Bit `i` set when pattern `i` matches all of `h`.
    fn matches(&self, h: &str) -> u32 {
        match &self.multi {
            Multi::Dfa { dfa, start } => {
                let mut s = *start;
                for &b in h.as_bytes() {
                    s = dfa.next_state(s, b);
                    if dfa.is_special_state(s) && (dfa.is_dead_state(s) || dfa.is_quit_state(s)) {
                        return 0;
                    }
                }
                // Every pattern ends in `$`, so matches only show at the end.
                let s = dfa.next_eoi_state(s);
                let mut mask = 0;
                if dfa.is_match_state(s) {
                    for i in 0..dfa.match_len(s) {
                        mask |= 1 << dfa.match_pattern(s, i).as_usize();
                    }
                }
                mask
            }
            Multi::Set(set) => set.matches(h).iter().fold(0, |m, i| m | (1 << i)),
        }
    }

    /// `get_number_type_helper` once the general description matched:
    /// the first special type in the engine's order, then the fixed-line
    /// and mobile rule; `None` for the engine's UNKNOWN (an invalid number).
    fn kind(&self, h: &str) -> Option<Kind> {
        let mask = self.matches(h);
        if mask == 0 {
            return None;
        }
        let hit = |want: Slot| {
            self.slots
                .iter()
                .enumerate()
                .any(|(i, s)| *s == want && mask & (1 << i) != 0)
        };
        for (i, s) in self.slots.iter().enumerate() {
            if let Slot::Kind(k) = s
                && mask & (1 << i) != 0
            {
                return Some(*k);
            }
        }
        if hit(Slot::Fixed) {
            return Some(if self.same_mf || hit(Slot::Mobile) {
                Kind::FixedLineOrMobile
            } else {
                Kind::FixedLine
            });
        }
        hit(Slot::Mobile).then_some(Kind::Mobile)
    }
}

/// The type patterns allowing NSN length `len`, or `None` when no type
/// allows it.
fn compile_len(m: &M, len: usize) -> Result<Option<Types>, ()> {
    let len = len as i32;
    // `is_number_matching_desc`: a type with listed lengths only matches
    // those lengths; a type without any inherits the general check.
    let mut pats = Vec::new();
    let mut kept = Vec::new();
    for (d, slot) in type_descs(m).into_iter().zip(slots(m)) {
        if let Some(p) = d.p
            && (d.l.is_empty() || d.l.contains(&len))
        {
            pats.push(wrapped(p).ok_or(())?);
            kept.push(slot);
        }
    }
    if pats.is_empty() {
        return Ok(None);
    }
    let dfa = dense::Builder::new()
        .syntax(syntax::Config::new().unicode(false))
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Anchored)
                .accelerate(false)
                .unicode_word_boundary(false)
                .dfa_size_limit(Some(DFA_LIMIT))
                .determinize_size_limit(Some(DFA_LIMIT)),
        )
        .build_many(&pats)
        .ok()
        .and_then(|dfa| {
            let start = dfa
                .start_state(&start::Config::new().anchored(Anchored::Yes))
                .ok()?;
            Some(Multi::Dfa {
                dfa: Box::new(dfa),
                start,
            })
        });
    let multi = match dfa {
        Some(d) => d,
        None => Multi::Set(
            RegexSetBuilder::new(&pats)
                .unicode(false)
                .build()
                .map_err(|_| ())?,
        ),
    };
    Ok(Some(Types {
        multi,
        slots: kept,
        same_mf: m.same_mf,
    }))
}

fn compile(m: &M) -> Option<Compiled> {
    // Patterns the engine would treat as empty make the whole region the
    // engine's; the per-length unions are built on first use (a file has
    // one or two lengths per region, not eighteen).
    for d in type_descs(m) {
        if let Some(p) = d.p {
            wrapped(p)?;
        }
    }
    let npfp_groups = match start_pattern(m.npfp).ok()? {
        Some(p) if m.tr.is_some_and(|tr| !tr.is_empty()) && has_groups(p)? => Some(regex(p)?),
        _ => None,
    };
    Some(Compiled {
        general_full: compile_full(m.general.p).ok()?,
        ld_start: compile_start(m.ld).ok()?,
        idd_start: compile_start(m.idd).ok()?,
        npfp_start: compile_start(m.npfp).ok()?,
        npfp_groups,
        by_len: (0..=MAX_NSN).map(|_| OnceLock::new()).collect(),
    })
}

impl Region {
    fn compiled(&self) -> Option<&Compiled> {
        self.compiled.get_or_init(|| compile(self.meta)).as_ref()
    }
}

/// `is_number_matching_desc` for the general description.
fn general_matches(r: &Region, c: &Compiled, nsn: &str) -> bool {
    let l = &r.meta.general.l;
    if !l.is_empty() && !l.contains(&(nsn.len() as i32)) {
        return false;
    }
    c.general_full.as_ref().is_some_and(|g| g.is_match(nsn))
}

/// `get_number_type_helper`, `Some(None)` for UNKNOWN; `None` when the
/// fast path cannot tell.
fn number_kind(r: &Region, c: &Compiled, nsn: &str) -> Option<Option<Kind>> {
    if !general_matches(r, c, nsn) {
        return Some(None);
    }
    let Some(slot) = c.by_len.get(nsn.len()) else {
        return Some(None);
    };
    match slot.get_or_init(|| compile_len(r.meta, nsn.len())) {
        Ok(t) => Some(t.as_ref().and_then(|t| t.kind(nsn))),
        Err(()) => None,
    }
}

/// Outcome of `test_number_length` with the unknown type.
#[derive(PartialEq)]
enum LenCheck {
    Possible,
    LocalOnly,
    TooShort,
    TooLong,
    InvalidLength,
}

fn mask(lengths: &[i32]) -> u64 {
    let mut m = 0u64;
    for &l in lengths {
        if (0..64).contains(&l) {
            m |= 1 << l;
        } else {
            m = 0;
        }
    }
    m
}

fn test_length(m: &M, nsn: &str) -> LenCheck {
    let possible = mask(m.general.l);
    let local = mask(m.general.lo);
    if possible == 0 {
        return LenCheck::InvalidLength;
    }
    let len = nsn.len() as u32;
    if len >= 64 {
        return LenCheck::TooLong;
    }
    let bit = 1u64 << len;
    if local & bit != 0 {
        return LenCheck::LocalOnly;
    }
    let min = possible.trailing_zeros();
    let max = 63 - possible.leading_zeros();
    if min == len {
        LenCheck::Possible
    } else if min > len {
        LenCheck::TooShort
    } else if max < len {
        LenCheck::TooLong
    } else if possible & bit != 0 {
        LenCheck::Possible
    } else {
        LenCheck::InvalidLength
    }
}

/// `maybe_strip_national_prefix_and_carrier_code`, returning the number to use.
fn strip_national_prefix<'a>(r: &Region, c: &Compiled, nsn: &Cow<'a, str>) -> Cow<'a, str> {
    let Some(pattern) = c.npfp_start.as_ref().filter(|_| !nsn.is_empty()) else {
        return nsn.clone();
    };
    let Some(end) = pattern.find_end(nsn) else {
        return nsn.clone();
    };
    let general = |s: &str| c.general_full.as_ref().is_some_and(|g| g.is_match(s));
    // The capture groups only matter with a transform rule, and only for a
    // non-empty match: an empty one has no non-empty group to transform.
    if let Some(re) = c.npfp_groups.as_ref().filter(|_| end > 0) {
        let tr = r.meta.tr.unwrap_or("");
        let Some(caps) = re.captures(nsn) else {
            return nsn.clone();
        };
        let first = caps.get(1);
        let second = caps.get(2);
        let transform = first.is_some_and(|f| {
            !tr.is_empty()
                && (second.is_some_and(|s| !s.is_empty()) || (!f.is_empty() && second.is_none()))
        });
        if transform {
            let replaced = re.replace(nsn, tr).into_owned();
            if general(nsn) && !general(&replaced) {
                return nsn.clone();
            }
            return Cow::Owned(replaced);
        }
    }
    if end == 0 || (!general(&nsn[end..]) && general(nsn)) {
        return nsn.clone();
    }
    // Borrowed from the caller's digits on the common path: no allocation.
    match nsn {
        Cow::Borrowed(s) => Cow::Borrowed(&s[end..]),
        Cow::Owned(s) => Cow::Owned(s[end..].to_owned()),
    }
}

/// A parsed number: calling code and national significant number digits
/// (borrowed from the input unless a transform rule rewrote them).
pub(super) struct Parsed<'a> {
    pub cc: i32,
    pub nsn: Cow<'a, str>,
}

/// `n` in decimal, in `buf` (no allocation).
fn decimal(n: i32, buf: &mut [u8; 11]) -> &str {
    let mut n = n.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

fn region_for_cc(t: &Tables, cc: i32) -> Option<&Region> {
    t.cc_regions(cc)
        .and_then(|l| l.first())
        .map(|&i| &t.regions[i])
}

/// Replays the engine's `parse` of `[+]digits` in `region`. `digits` must be
/// ASCII digits only. `None` means "ask the engine" (including every case the
/// engine would reject with a parse error).
pub(super) fn parse<'a>(digits: &'a str, plus: bool, region: Option<&str>) -> Option<Parsed<'a>> {
    let t = &*TABLES;
    // The engine first needs a viable number (three digits or more for our
    // canonical input) and, without a region, a leading plus.
    if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let default = match region {
        Some(id) => Some(&t.regions[t.region_index(id)?]),
        None if plus => None,
        None => return None,
    };
    let mut cc = 0;
    let mut national: Cow<'a, str>;
    let from_idd;
    let rest: &str = if plus {
        from_idd = true;
        digits
    } else {
        let d = default?;
        let c = d.compiled()?;
        match c.idd_start.as_ref().and_then(|p| p.find_end(digits)) {
            // The engine only strips an IDD that is not followed by a 0.
            Some(end) if !digits[end..].starts_with('0') => {
                from_idd = true;
                &digits[end..]
            }
            _ => {
                from_idd = false;
                digits
            }
        }
    };
    if from_idd {
        if rest.len() <= MIN_NSN || rest.starts_with('0') {
            return None;
        }
        let mut found = None;
        let mut code = 0;
        for (i, b) in rest.bytes().take(3).enumerate() {
            code = code * 10 + i32::from(b - b'0');
            if t.cc_regions(code).is_some() {
                found = Some((code, &rest[i + 1..]));
                break;
            }
        }
        let (code, nsn) = found?;
        cc = code;
        national = Cow::Borrowed(nsn);
    } else {
        national = Cow::Borrowed(rest);
        if let Some(d) = default {
            let c = d.compiled()?;
            let mut buf = [0u8; 11];
            let code = decimal(d.meta.cc, &mut buf);
            if let Some(potential) = rest.strip_prefix(code) {
                let potential = strip_national_prefix(d, c, &Cow::Borrowed(potential));
                let full = c.general_full.as_ref().is_some_and(|g| g.is_match(rest));
                let pot = c
                    .general_full
                    .as_ref()
                    .is_some_and(|g| g.is_match(&potential));
                if (!full && pot) || test_length(d.meta, rest) == LenCheck::TooLong {
                    cc = d.meta.cc;
                    national = potential;
                }
            }
        }
    }
    let meta_region = if cc != 0 {
        let r = region_for_cc(t, cc)?;
        if r.meta.id == "001" {
            // Non-geographic entities use a separate metadata map in the
            // engine; rare enough to leave to it.
            return None;
        }
        r
    } else {
        let d = default?;
        cc = d.meta.cc;
        d
    };
    if national.len() < MIN_NSN {
        return None;
    }
    let c = meta_region.compiled()?;
    let potential = strip_national_prefix(meta_region, c, &national);
    match test_length(meta_region.meta, &potential) {
        LenCheck::LocalOnly | LenCheck::TooShort | LenCheck::InvalidLength => {}
        LenCheck::Possible | LenCheck::TooLong => national = potential,
    }
    if national.len() < MIN_NSN || national.len() > MAX_NSN {
        return None;
    }
    // The engine stores the NSN as an integer plus a count of leading zeros
    // and caps that count when formatting; a single leading zero (Italy)
    // round-trips exactly, more are left to the engine.
    if national.starts_with("00") {
        return None;
    }
    Some(Parsed { cc, nsn: national })
}

/// The engine's `get_number_type` for a calling code and NSN, which is
/// also its `is_valid_number` (`Some(None)`: not valid). `None` means "ask
/// the engine" (non-geographic codes, uncompilable metadata).
pub(super) fn number_type(cc: i32, nsn: &str) -> Option<Option<Kind>> {
    let t = &*TABLES;
    let Some(list) = t.cc_regions(cc) else {
        return Some(None);
    };
    let mut chosen = None;
    // The chosen region's type when choosing it already told it (a shared
    // code such as +1 or +7): the type is not worked out a second time.
    let mut known = None;
    if list.len() == 1 {
        chosen = Some(&t.regions[list[0]]);
    } else {
        // `get_region_for_number_from_region_list`.
        for &i in list {
            let r = &t.regions[i];
            let c = r.compiled()?;
            if c.ld_start.as_ref().is_some_and(|p| p.is_match(nsn)) {
                chosen = Some(r);
                break;
            }
            let kind = number_kind(r, c, nsn)?;
            if kind.is_some() {
                chosen = Some(r);
                known = Some(kind);
                break;
            }
        }
    }
    let Some(r) = chosen else {
        return Some(None);
    };
    if r.meta.id == "001" {
        return None;
    }
    if known.is_some() {
        return known;
    }
    let c = r.compiled()?;
    number_kind(r, c, nsn)
}

/// The calling code of region `id` (an upper-case alpha-2 code).
pub(super) fn region_calling_code(id: &str) -> Option<i32> {
    TABLES.region_index(id).map(|i| TABLES.regions[i].meta.cc)
}

/// Whether the fast path knows `id` (an upper-case alpha-2 code).
pub(super) fn knows_region(id: &str) -> bool {
    TABLES.region_index(id).is_some()
}

/// The metadata's own copy of `id` when it is an upper-case alpha-2 code the
/// fast path knows.
pub(super) fn region_id(id: &str) -> Option<&'static str> {
    TABLES.region_index(id).map(|i| TABLES.regions[i].meta.id)
}

/// Whether `cc` is an assigned country calling code in the metadata.
pub(super) fn is_calling_code(cc: u32) -> bool {
    i32::try_from(cc).is_ok_and(|cc| TABLES.cc_regions(cc).is_some())
}

/// Number of regions and non-geographic entities in the metadata table.
pub(super) fn region_ids() -> impl Iterator<Item = (&'static str, i32)> {
    METADATA.iter().map(|m| (m.id, m.cc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pattern the fast path compiles, for every region and NSN length.
    fn all_patterns() -> Vec<String> {
        let mut out = Vec::new();
        for m in METADATA {
            if let Some(p) = m.general.p.and_then(wrapped) {
                out.push(p.to_owned());
            }
            for p in [m.ld, m.idd, m.npfp] {
                if let Ok(Some(p)) = start_pattern(p) {
                    out.push(p.to_owned());
                }
            }
            for len in 0..=MAX_NSN as i32 {
                let alts: Vec<&str> = type_descs(m)
                    .into_iter()
                    .filter(|d| d.l.is_empty() || d.l.contains(&len))
                    .filter_map(|d| d.p.and_then(wrapped))
                    .map(|p| &p[1..p.len() - 1])
                    .collect();
                if !alts.is_empty() {
                    out.push(format!("^(?:{})$", alts.join("|")));
                }
            }
        }
        out
    }

    /// The DFA walk answers exactly as the regex it replaces, on the
    /// metadata's own patterns and digit strings of every length the fast
    /// path can hand it.
    #[test]
    fn dfa_patterns_agree_with_regex() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut dfas = 0;
        for p in all_patterns() {
            let re = regex(&p).unwrap();
            let pattern = Pattern::new(&p).unwrap();
            if matches!(pattern, Pattern::Dfa { .. }) {
                dfas += 1;
            }
            for _ in 0..200 {
                let len = rng.usize(0..=MAX_NSN + 3);
                // Mostly digits, with the digits the pattern starts with
                // over-represented so that prefixes actually match.
                let h: String = (0..len)
                    .map(|_| match rng.u8(0..4) {
                        0 => '0',
                        1 => '1',
                        _ => rng.digit(10),
                    })
                    .collect();
                assert_eq!(pattern.is_match(&h), re.is_match(&h), "{p} on {h}");
                assert_eq!(
                    pattern.find_end(&h),
                    re.find(&h).map(|m| m.end()),
                    "{p} on {h}"
                );
            }
        }
        // The fallback must stay the exception, or the speed-up is gone.
        assert!(dfas > 1000, "only {dfas} patterns became DFAs");
    }

    /// Patterns that could match non-UTF-8 are rejected by both builds.
    #[test]
    fn pattern_rejects_what_regex_rejects() {
        assert!(regex("[^0-9]").is_none());
        assert!(Pattern::new("[^0-9]").is_none());
    }

    /// Empty and prefix matches report the regex's match end.
    #[test]
    fn find_end_is_leftmost_first() {
        let p = Pattern::new("^(?:0|01)").unwrap();
        assert_eq!(p.find_end("015"), Some(1));
        let p = Pattern::new("^(?:0?(?:(11)15)?)").unwrap();
        assert_eq!(p.find_end("2"), Some(0));
        assert_eq!(p.find_end("01115"), Some(5));
        assert!(Pattern::new("^(?:00)$").unwrap().is_match("00"));
        assert!(!Pattern::new("^(?:00)$").unwrap().is_match("001"));
    }
}
