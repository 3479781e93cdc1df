//! The phone-reading rules of issue 12, one test per rule and per legacy
//! form, with the issue's own examples; every case is also run through the
//! engine alone, which must agree (the fast path may never change a verdict).
//! The property tests at the end generate valid numbers of every region of
//! the metadata and check that no reading ever lands in a country the row
//! did not give.

use proptest::prelude::*;
use waport::normalize::phone::{
    self, Chosen, Kind, Label, Note, Phone, PhoneCandidate, PhoneError, Prefer, RowRegion, choose,
    read, read_with_engine,
};

/// Reads `raw` both ways; they must agree.
fn read2(raw: &str, region: RowRegion<'_>, prefer: Prefer) -> Result<Phone, PhoneError> {
    let ours = read(raw, region, prefer);
    assert_eq!(
        ours,
        read_with_engine(raw, region, prefer),
        "fast path and engine differ on {raw:?} in {region:?}"
    );
    ours
}

fn country(raw: &str, cc: &'static str) -> Result<Phone, PhoneError> {
    read2(raw, RowRegion::Country(cc), Prefer::Ask)
}

fn e164(r: &Result<Phone, PhoneError>) -> Result<&str, &PhoneError> {
    r.as_ref().map(|p| p.e164.as_str())
}

fn ok(r: Result<Phone, PhoneError>, want: &str) -> Phone {
    assert_eq!(e164(&r), Ok(want));
    r.unwrap()
}

#[test]
fn rule1_the_cell_says_international() {
    // Any country, whatever the row's.
    ok(country("+52 55 1234 5678", "US"), "+525512345678");
    ok(country("00 34 612 34 56 78", "MX"), "+34612345678");
    ok(country("tel:+34-612-345-678", "US"), "+34612345678");
    // The row region's own international prefix: 011 in the US, 810 in Russia.
    ok(country("011 34 612 345 678", "US"), "+34612345678");
    ok(country("810 34 612 345 678", "RU"), "+34612345678");
    // Another region's prefix is not this region's: 810 means nothing in
    // the US, and the national reading is not valid.
    assert_eq!(
        country("810 34 612 345 678", "US"),
        Err(PhoneError::Invalid)
    );
}

#[test]
fn rule2_national_in_the_rows_region() {
    ok(country("(201) 555-0123", "US"), "+12015550123");
    ok(country("321 1234567", "CO"), "+573211234567");
    ok(country("131 2345 6789", "CN"), "+8613123456789");
    // --default-region counts the same for national numbers.
    ok(
        read2("612 34 56 78", RowRegion::Default("ES"), Prefer::Ask),
        "+34612345678",
    );
}

#[test]
fn rule4_never_another_country_from_a_national_number() {
    // The examples: without a country these became Egyptian,
    // Belgian and US numbers.
    for raw in ["(201) 555-0123", "321 1234567", "131 2345 6789"] {
        assert_eq!(
            read2(raw, RowRegion::None, Prefer::Ask),
            Err(PhoneError::NeedsCountry),
            "{raw:?}"
        );
    }
    // A one-digit typo in Spain became Tokelau's +690 42182.
    assert_eq!(country("69042182", "ES"), Err(PhoneError::Invalid));
    assert_eq!(
        read2("69042182", RowRegion::Default("ES"), Prefer::Ask),
        Err(PhoneError::Invalid)
    );
    // With separators, a WhatsApp-id-length number is national only.
    assert_eq!(
        read2("57 318 877 9043", RowRegion::Default("ES"), Prefer::Ask),
        Err(PhoneError::Invalid)
    );
    assert_eq!(
        read2("57 318 877 9043", RowRegion::None, Prefer::Ask),
        Err(PhoneError::NeedsCountry)
    );
}

#[test]
fn rule3_bare_whatsapp_ids() {
    for raw in [
        "573188779043",
        "'573188779043",
        "573188779043.0",
        "  573188779043 ",
    ] {
        // No region, or a default region: the international reading.
        ok(read2(raw, RowRegion::None, Prefer::Ask), "+573188779043");
        ok(
            read2(raw, RowRegion::Default("ES"), Prefer::Ask),
            "+573188779043",
        );
        // The row's own country says Spain: a mismatch, named.
        let err = country(raw, "ES").unwrap_err();
        assert_eq!(err.code(), "phone_country_mismatch");
        assert_eq!(
            err.reason(raw),
            format!(
                "phone_country_mismatch: {:?} is not a valid ES number (as an international number it would be +573188779043 CO)",
                raw.trim()
            )
        );
    }
    // The row's own country and the reading agree: no mismatch.
    ok(country("573188779043", "CO"), "+573188779043");
    // Ten digits are no WhatsApp id; sixteen are too many.
    assert_eq!(
        read2("3188779043", RowRegion::None, Prefer::Ask),
        Err(PhoneError::NeedsCountry)
    );
    assert_eq!(
        read2("5731887790431234", RowRegion::None, Prefer::Ask),
        Err(PhoneError::NeedsCountry)
    );
}

#[test]
fn rule5_ambiguous_whatsapp_ids() {
    // A US WhatsApp id, or a Mexican number after the old mobile 1.
    let err = country("12015554462", "MX").unwrap_err();
    assert_eq!(
        err,
        PhoneError::Ambiguous {
            national: "+522015554462".into(),
            region: "MX",
            international: "+12015554462".into(),
            other: "US".into(),
        }
    );
    let reason = err.reason("12015554462");
    assert!(
        reason.starts_with("ambiguous_phone: \"12015554462\""),
        "{reason}"
    );
    assert!(reason.contains("--prefer-national"), "{reason}");
    let intl = read2(
        "12015554462",
        RowRegion::Country("MX"),
        Prefer::International,
    );
    ok(intl, "+12015554462");
    let national = ok(
        read2("12015554462", RowRegion::Country("MX"), Prefer::National),
        "+522015554462",
    );
    assert_eq!(national.notes, [Note::MxMobile1]);
    // Both readings give the same number: nothing to ask.
    ok(country("12015554462", "US"), "+12015554462");
    ok(country("34612345678", "ES"), "+34612345678");
    ok(country("5215512345678", "MX"), "+525512345678");
}

#[test]
fn rule6_unknown_country_cells() {
    for cell in ["Narnia", "Espaa", "ZZ"] {
        let region = RowRegion::of_row(cell, Some("MX"));
        assert_eq!(region, RowRegion::Unknown(cell));
        let err = read2("55 1234 5678", region, Prefer::Ask).unwrap_err();
        assert_eq!(err, PhoneError::UnknownCountry(cell.into()));
        assert_eq!(
            err.reason("55 1234 5678"),
            format!("unknown_country: {cell:?}")
        );
    }
    // Kosovo, Ascension and Tristan da Cunha are known, by code and name.
    for (cell, code) in [
        ("Kosovo", "XK"),
        ("XK", "XK"),
        ("Ascension Island", "AC"),
        ("AC", "AC"),
        ("Tristan da Cunha", "TA"),
        ("ta", "TA"),
    ] {
        assert_eq!(
            RowRegion::of_row(cell, None),
            RowRegion::Country(code),
            "{cell:?}"
        );
    }
    ok(
        read2(
            "044 123 456",
            RowRegion::of_row("Kosovo", None),
            Prefer::Ask,
        ),
        "+38344123456",
    );
    ok(
        read2(
            "6 2345",
            RowRegion::of_row("Ascension Island", None),
            Prefer::Ask,
        ),
        "+24762345",
    );
    ok(
        read2(
            "8123",
            RowRegion::of_row("Tristan da Cunha", None),
            Prefer::Ask,
        ),
        "+2908123",
    );
    // An empty cell falls back to the default region, or to none.
    assert_eq!(RowRegion::of_row(" ", Some("MX")), RowRegion::Default("MX"));
    assert_eq!(RowRegion::of_row("", None), RowRegion::None);
}

#[test]
fn a_leading_minus_is_not_punctuation() {
    for region in [RowRegion::Country("MX"), RowRegion::None] {
        assert_eq!(
            read2("-5512345675", region, Prefer::Ask),
            Err(PhoneError::Invalid)
        );
        assert_eq!(
            read2("\u{2212}5512345675", region, Prefer::Ask),
            Err(PhoneError::Invalid)
        );
    }
    // Inside the number a dash is a separator, as ever.
    ok(country("55-1234-5675", "MX"), "+525512345675");
}

fn noted(r: Result<Phone, PhoneError>, want: &str, notes: &[Note]) {
    let p = ok(r, want);
    assert_eq!(p.notes, notes, "{want}");
}

#[test]
fn mexico_legacy_forms() {
    noted(
        read2("+52 1 55 1234 5678", RowRegion::None, Prefer::Ask),
        "+525512345678",
        &[Note::MxMobile1],
    );
    noted(
        read2("5215512345678", RowRegion::None, Prefer::Ask),
        "+525512345678",
        &[Note::MxMobile1],
    );
    noted(
        country("5215512345678", "MX"),
        "+525512345678",
        &[Note::MxMobile1],
    );
    noted(
        country("044 55 1234 5678", "MX"),
        "+525512345678",
        &[Note::Mx044],
    );
    noted(
        country("045 33 1234 5678", "MX"),
        "+523312345678",
        &[Note::Mx044],
    );
    noted(
        country("01 55 1234 5678", "MX"),
        "+525512345678",
        &[Note::MxLongDistance],
    );
    noted(
        country("02 55 1234 5678", "MX"),
        "+525512345678",
        &[Note::MxLongDistance],
    );
    noted(
        country("1 55 1234 5678", "MX"),
        "+525512345678",
        &[Note::MxMobile1],
    );
    noted(country("55 1234 5678", "MX"), "+525512345678", &[]);
    // Only Mexican: 01 55… is no number in Spain.
    assert_eq!(country("01 55 1234 5678", "ES"), Err(PhoneError::Invalid));
    let p = ok(country("01 55 1234 5678", "MX"), "+525512345678");
    assert_eq!(
        p.notes[0].reason("01 55 1234 5678", &p.e164),
        "mx_long_distance_prefix_removed: \"01 55 1234 5678\" -> +525512345678"
    );
}

#[test]
fn brazil_ninth_digit_and_carrier_codes() {
    noted(
        read2("+55 11 8765-4321", RowRegion::None, Prefer::Ask),
        "+5511987654321",
        &[Note::BrNinthDigit],
    );
    noted(
        read2("551187654321", RowRegion::None, Prefer::Ask),
        "+5511987654321",
        &[Note::BrNinthDigit],
    );
    noted(
        country("(11) 8765-4321", "BR"),
        "+5511987654321",
        &[Note::BrNinthDigit],
    );
    noted(
        country("0 21 11 98765 4321", "BR"),
        "+5511987654321",
        &[Note::BrCarrierCode],
    );
    noted(
        country("(0xx11) 98765-4321", "BR"),
        "+5511987654321",
        &[Note::BrCarrierCode],
    );
    noted(
        country("(0XX11) 8765-4321", "BR"),
        "+5511987654321",
        &[Note::BrCarrierCode, Note::BrNinthDigit],
    );
    noted(country("(11) 98765-4321", "BR"), "+5511987654321", &[]);
    // A landline keeps its eight digits.
    let fixed = ok(country("(11) 3456-7890", "BR"), "+551134567890");
    assert_eq!(fixed.kind, Kind::FixedLine);
    assert!(fixed.notes.is_empty());
    // The placeholder is Brazilian only.
    assert_eq!(
        country("(0xx11) 98765-4321", "MX"),
        Err(PhoneError::Invalid)
    );
}

#[test]
fn chile_and_argentina() {
    noted(country("09 8765 4321", "CL"), "+56987654321", &[Note::Cl09]);
    noted(country("9 8765 4321", "CL"), "+56987654321", &[]);
    for raw in ["0 11 15 2345 6789", "011 15-2345-6789"] {
        noted(country(raw, "AR"), "+5491123456789", &[]);
    }
    noted(
        read2("+54 9 11 2345 6789", RowRegion::None, Prefer::Ask),
        "+5491123456789",
        &[],
    );
    noted(
        read2("+54 11 15 2345 6789", RowRegion::None, Prefer::Ask),
        "+5491123456789",
        &[],
    );
}

#[test]
fn number_types() {
    let kind = |raw: &str, region| read2(raw, region, Prefer::Ask).unwrap().kind;
    assert_eq!(kind("612 34 56 78", RowRegion::Country("ES")), Kind::Mobile);
    assert_eq!(
        kind("91 123 45 67", RowRegion::Country("ES")),
        Kind::FixedLine
    );
    assert_eq!(
        kind("(212) 555-0173", RowRegion::Country("US")),
        Kind::FixedLineOrMobile
    );
    assert_eq!(
        kind("800 234 5678", RowRegion::Country("US")),
        Kind::TollFree
    );
    assert_eq!(Kind::Mobile.as_str(), "mobile");
    assert!(Kind::FixedLineOrMobile.is_mobile_capable());
    assert!(!Kind::FixedLine.is_mobile_capable());
    assert!(!Kind::TollFree.is_mobile_capable());
}

fn cand(raw: &str, label: Label) -> PhoneCandidate<'_> {
    PhoneCandidate { raw, label }
}

fn chosen(c: &Result<Chosen, PhoneError>) -> (&str, Vec<&str>) {
    let c = c.as_ref().unwrap();
    (
        c.phone.e164.as_str(),
        c.others.iter().map(|p| p.e164.as_str()).collect(),
    )
}

#[test]
fn choosing_the_whatsapp_number() {
    let es = RowRegion::Country("ES");
    // Labels first: WhatsApp, then mobile, whatever the types.
    let c = choose(
        &[
            cand("612 34 56 78", Label::Mobile),
            cand("91 123 45 67", Label::WhatsApp),
        ],
        es,
        Prefer::Ask,
    );
    assert_eq!(chosen(&c), ("+34911234567", vec!["+34612345678"]));
    assert_eq!(c.as_ref().unwrap().index, 1);
    // Then the engine's type: a mobile before a landline in file order.
    let c = choose(
        &[
            cand("91 123 45 67", Label::Other),
            cand("612 34 56 78", Label::Other),
        ],
        es,
        Prefer::Ask,
    );
    assert_eq!(chosen(&c), ("+34612345678", vec!["+34911234567"]));
    assert_eq!(
        c.as_ref().unwrap().others_reason().as_deref(),
        Some("other_phones: +34911234567 (fixed_line)")
    );
    // Then file order.
    let c = choose(
        &[
            cand("611 11 11 11", Label::Other),
            cand("622 22 22 22", Label::Other),
        ],
        es,
        Prefer::Ask,
    );
    assert_eq!(chosen(&c), ("+34611111111", vec!["+34622222222"]));
    // Invalid ones are never chosen, and listed.
    let c = choose(
        &[
            cand("123", Label::WhatsApp),
            cand("612 34 56 78", Label::Other),
        ],
        es,
        Prefer::Ask,
    )
    .unwrap();
    assert_eq!(c.phone.e164, "+34612345678");
    assert_eq!(c.rejected, [(0, PhoneError::Invalid)]);
    // One candidate: its own result, error included.
    assert_eq!(
        choose(&[cand("123", Label::Other)], es, Prefer::Ask),
        Err(PhoneError::Invalid)
    );
    assert_eq!(choose(&[], es, Prefer::Ask), Err(PhoneError::Missing));
    // The same number twice is one number.
    let c = choose(
        &[
            cand("612 34 56 78", Label::Other),
            cand("+34612345678", Label::Other),
        ],
        es,
        Prefer::Ask,
    );
    assert_eq!(chosen(&c), ("+34612345678", vec![]));
}

#[test]
fn labels_from_headers() {
    for (h, want) in [
        ("WhatsApp", Label::WhatsApp),
        ("Número de WhatsApp", Label::WhatsApp),
        ("Celular", Label::Mobile),
        ("Cel. Personal", Label::Mobile),
        ("Móvil", Label::Mobile),
        ("Mobile Phone", Label::Mobile),
        ("Мобильный телефон", Label::Mobile),
        ("Teléfono", Label::Other),
        ("Phone", Label::Other),
        ("Home", Label::Other),
    ] {
        assert_eq!(Label::of(h), want, "{h:?}");
    }
}

/// A random valid number of `region` (a mobile, fixed-line or toll-free
/// one): the engine's example number of that type with its last digits
/// redrawn until the engine calls it valid. Returns its E.164 and national
/// forms.
fn example(region: &str, seed: u64) -> Option<(String, String)> {
    use rlibphonenumber::{
        PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat, PhoneNumberType, enums::Region,
    };
    let r = Region::from_code(region).ok()?;
    let t = [
        PhoneNumberType::Mobile,
        PhoneNumberType::FixedLine,
        PhoneNumberType::TollFree,
    ][(seed % 3) as usize];
    let base = PHONE_NUMBER_UTIL
        .get_example_number_for_type_and_region(r, t)
        .ok()
        .or_else(|| PHONE_NUMBER_UTIL.get_example_number(r).ok())?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut n: PhoneNumber = base.clone();
    for _ in 0..20 {
        let nsn = base.national_number.to_string();
        let keep = nsn.len().saturating_sub(rng.usize(1..=4));
        let redrawn: String = nsn[..keep]
            .chars()
            .chain((keep..nsn.len()).map(|_| rng.digit(10)))
            .collect();
        let mut candidate = base.clone();
        candidate.national_number = redrawn.parse().ok()?;
        if PHONE_NUMBER_UTIL.is_valid_number(&candidate) {
            n = candidate;
            break;
        }
    }
    let e164 = PHONE_NUMBER_UTIL
        .format(&n, PhoneNumberFormat::E164)
        .into_owned();
    let national = PHONE_NUMBER_UTIL
        .format(&n, PhoneNumberFormat::National)
        .into_owned();
    Some((e164, national))
}

fn regions() -> Vec<&'static str> {
    phone::metadata_regions()
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| *id != "001")
        .collect()
}

/// The calling code of an E.164 string.
fn cc(e164: &str) -> u32 {
    phone::split_e164(e164).map_or(0, |(cc, _)| cc)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// (a) A valid number of any region, written nationally (with its
    /// separators, or as bare digits), read with its region given: that
    /// number or an error, never another country's.
    #[test]
    fn with_the_region_never_another_country(
        i in 0usize..1000, seed in any::<u64>(), bare in any::<bool>(), own in any::<bool>()
    ) {
        let regions = regions();
        let region = regions[i % regions.len()];
        let Some((e164, national)) = example(region, seed) else { return Ok(()); };
        let raw = if bare {
            national.chars().filter(char::is_ascii_digit).collect()
        } else {
            national.clone()
        };
        let rr = if own { RowRegion::Country(region) } else { RowRegion::Default(region) };
        for prefer in [Prefer::Ask, Prefer::National] {
            if let Ok(p) = read(&raw, rr, prefer) {
                prop_assert_eq!(
                    cc(&p.e164), cc(&e164),
                    "{:?} in {}: {} is another country's (expected {})", raw, region, p.e164, e164
                );
            }
        }
        // The written number itself: exactly it, unless a bare WhatsApp-id
        // shape makes a second reading possible (rule 5: then an error).
        if !bare {
            prop_assert_eq!(
                read(&raw, rr, Prefer::Ask).map(|p| p.e164), Ok(e164.clone()),
                "{:?} in {}", raw, region
            );
        }
    }

    /// (b) Without a region: `phone_needs_country`, or for a bare 11–15
    /// digit string its international reading; never a number from a
    /// string with separators.
    #[test]
    fn without_a_region_never_a_guess(
        i in 0usize..1000, seed in any::<u64>(), bare in any::<bool>()
    ) {
        let regions = regions();
        let region = regions[i % regions.len()];
        let Some((_, national)) = example(region, seed) else { return Ok(()); };
        let digits: String = national.chars().filter(char::is_ascii_digit).collect();
        let raw = if bare { digits.clone() } else { national.clone() };
        let has_separators = raw != digits;
        match read(&raw, RowRegion::None, Prefer::Ask) {
            Err(PhoneError::NeedsCountry) => {}
            Ok(p) => {
                prop_assert!(!has_separators, "{:?} ({}) became {}", raw, region, p.e164);
                prop_assert!((11..=15).contains(&digits.len()), "{:?} became {}", raw, p.e164);
                prop_assert_eq!(
                    Some(p.e164.clone()), phone::normalize(&format!("+{digits}"), None).ok(),
                    "{:?}: not its international reading", raw
                );
            }
            Err(e) => prop_assert!(false, "{:?} ({}): {:?}", raw, region, e),
        }
    }
}
