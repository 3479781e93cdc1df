//! Table-driven checks of the phone rules: noise, WhatsApp ids, Mexico's
//! legacy forms, `tel:`, `.0`, `00`, missing region, invalid input, and a few
//! national plans (Argentina, Brazil, Russia, Spain). Every case is run
//! through the full normalizer and through the engine alone: both must agree.

use waport::normalize::phone::{
    self, PhoneError, e164_key, normalize, normalize_with_engine, split_e164,
};

fn check(raw: &str, region: Option<&str>, want: Result<&str, PhoneError>) {
    let want = want.map(str::to_owned);
    assert_eq!(
        normalize(raw, region),
        want,
        "normalize({raw:?}, {region:?})"
    );
    assert_eq!(
        normalize_with_engine(raw, region),
        want,
        "engine({raw:?}, {region:?})"
    );
}

#[test]
fn noise_is_ignored() {
    for (raw, region, want) in [
        ("+52 55 1234 5678", None, "+525512345678"),
        ("+52 (55) 1234-5678", None, "+525512345678"),
        ("+52.55.1234.5678", None, "+525512345678"),
        (
            "\u{a0}+52\u{a0}55\u{202f}1234\u{2009}5678\u{200b} ",
            None,
            "+525512345678",
        ),
        ("'+52 55 1234 5678", None, "+525512345678"),
        ("'5512345678", Some("MX"), "+525512345678"),
        ("tel:+52-55-1234-5678", None, "+525512345678"),
        ("TEL:+1-212-555-0173", None, "+12125550173"),
        ("5215512345678.0", None, "+525512345678"),
        ("34612345678.0", Some("ES"), "+34612345678"),
        ("0052 55 1234 5678", None, "+525512345678"),
        ("00 34 612 34 56 78", Some("US"), "+34612345678"),
        ("+1 212 555 0173 ext. 12", None, "+12125550173"),
        ("+1 212 555 0173 x12", None, "+12125550173"),
        ("(212) 555-0173 #4", Some("US"), "+12125550173"),
        ("tel:+1-212-555-0173;ext=99", None, "+12125550173"),
        ("+34 612\u{2013}345\u{2013}678", None, "+34612345678"),
        ("＋３４ ６１２ ３４５ ６７８", None, "+34612345678"),
    ] {
        check(raw, region, Ok(want));
    }
}

#[test]
fn whatsapp_ids_are_international() {
    for (raw, region, want) in [
        ("5215512345678", None, "+525512345678"),
        ("5215512345678", Some("ES"), "+525512345678"),
        ("5215512345678", Some("MX"), "+525512345678"),
        ("573188779043", Some("ES"), "+573188779043"),
        ("573188779043", None, "+573188779043"),
        ("34612345678", Some("ES"), "+34612345678"),
        ("34612345678", None, "+34612345678"),
        ("79123456789", Some("RU"), "+79123456789"),
        ("5511987654321", Some("AR"), "+5511987654321"),
    ] {
        check(raw, region, Ok(want));
    }
}

#[test]
fn region_reading_wins_when_valid() {
    // Valid in Spain as a national number, so not read as a WhatsApp id.
    check("612345678", Some("ES"), Ok("+34612345678"));
    // The region may be a name.
    check("612 34 56 78", Some("España"), Ok("+34612345678"));
    check("55 1234 5678", Some("México"), Ok("+525512345678"));
}

#[test]
fn mexico_legacy_mobile_forms() {
    for (raw, region) in [
        ("+52 1 55 1234 5678", None),
        ("+5215512345678", Some("US")),
        ("044 55 1234 5678", Some("MX")),
        ("045 55 1234 5678", Some("MX")),
        ("55 1234 5678", Some("MX")),
        ("0052 1 55 1234 5678", None),
    ] {
        check(raw, region, Ok("+525512345678"));
    }
    // 044 is only a Mexican national prefix.
    check("044 55 1234 5678", None, Err(PhoneError::NeedsCountry));
}

#[test]
fn national_plans() {
    for (raw, region, want) in [
        // Argentina: mobiles carry a 9 internationally, "15" nationally.
        ("+54 9 11 2345-6789", None, "+5491123456789"),
        ("011 15-2345-6789", Some("AR"), "+5491123456789"),
        ("11 2345-6789", Some("AR"), "+541123456789"),
        // Brazil: mobiles have nine digits after the area code.
        ("+55 11 98765-4321", None, "+5511987654321"),
        ("(11) 98765-4321", Some("BR"), "+5511987654321"),
        ("011 98765 4321", Some("BR"), "+5511987654321"),
        // Russia: trunk prefix 8.
        ("8 (912) 345-67-89", Some("RU"), "+79123456789"),
        ("+7 912 345 67 89", None, "+79123456789"),
        // Spain.
        ("612 34 56 78", Some("ES"), "+34612345678"),
        ("91 123 45 67", Some("ES"), "+34911234567"),
        // United States, with the US international prefix.
        ("(212) 555-0173", Some("US"), "+12125550173"),
        ("1-212-555-0173", Some("US"), "+12125550173"),
        ("011 34 612 345 678", Some("US"), "+34612345678"),
        // Italy keeps its leading zero.
        ("06 1234 5678", Some("IT"), "+390612345678"),
        ("+39 06 1234 5678", None, "+390612345678"),
        // Germany, France, United Kingdom: trunk prefix 0.
        ("0151 23456789", Some("DE"), "+4915123456789"),
        ("06 12 34 56 78", Some("FR"), "+33612345678"),
        ("07911 123456", Some("GB"), "+447911123456"),
        // India, China, Venezuela, Colombia, Chile, Peru.
        ("098765 43210", Some("IN"), "+919876543210"),
        ("138 0013 8000", Some("CN"), "+8613800138000"),
        ("0412-1234567", Some("VE"), "+584121234567"),
        ("318 877 9043", Some("CO"), "+573188779043"),
        ("9 6123 4567", Some("CL"), "+56961234567"),
        ("912 345 678", Some("PE"), "+51912345678"),
    ] {
        check(raw, region, Ok(want));
    }
    // Brazil's old eight-digit mobiles gain their ninth digit (see
    // normalize_rules.rs for the note that says so).
    check("+55 11 8765-4321", None, Ok("+5511987654321"));
    // Eight-digit landlines (2-5) stay as they are.
    check("+55 11 3456-7890", None, Ok("+551134567890"));
}

#[test]
fn needs_country() {
    for raw in [
        "612 34 56 78",
        "(212) 555-0173",
        "8 (912) 345-67-89",
        "5512345678",
    ] {
        check(raw, None, Err(PhoneError::NeedsCountry));
    }
    // An unknown region counts as none.
    check(
        "612 34 56 78",
        Some("Atlantis"),
        Err(PhoneError::NeedsCountry),
    );
}

#[test]
fn missing_and_invalid() {
    for raw in ["", "   ", "\u{a0}", "'"] {
        check(raw, Some("MX"), Err(PhoneError::Missing));
    }
    for (raw, region) in [
        ("+3367a829916", None),
        ("+33 67a829916", Some("FR")),
        ("1-800-FLOWERS", Some("US")),
        ("call me", Some("US")),
        ("N/A", Some("MX")),
        ("-", Some("MX")),
        ("+", None),
        ("123", Some("ES")),
        ("+52 55 1234", None),
        ("+52 55 1234 5678 9999 1234", None),
        ("+999 1234 5678", None),
        ("+34 612 34 56 78 +34 611 11 11 11", None),
        ("5.21551E+12", None),
        ("tel:612345678;phone-context=+34", None),
        ("+1 555 555 5555", None),
        ("612 34 56 78", Some("MX")),
    ] {
        check(raw, region, Err(PhoneError::Invalid));
    }
}

#[test]
fn error_codes_are_stable() {
    assert_eq!(PhoneError::Missing.code(), "missing_phone");
    assert_eq!(PhoneError::Invalid.code(), "invalid_phone");
    assert_eq!(PhoneError::NeedsCountry.code(), "phone_needs_country");
}

#[test]
fn split_and_key() {
    assert_eq!(
        split_e164("+525512345678"),
        Some((52, "5512345678".to_owned()))
    );
    assert_eq!(
        split_e164("+12125550173"),
        Some((1, "2125550173".to_owned()))
    );
    assert_eq!(
        split_e164("+79123456789"),
        Some((7, "9123456789".to_owned()))
    );
    assert_eq!(
        split_e164("+5491123456789"),
        Some((54, "91123456789".to_owned()))
    );
    assert_eq!(
        split_e164("+8613800138000"),
        Some((86, "13800138000".to_owned()))
    );
    assert_eq!(
        split_e164("+35312345678"),
        Some((353, "12345678".to_owned()))
    );
    assert_eq!(split_e164("525512345678"), None);
    assert_eq!(split_e164("+52 55"), None);
    assert_eq!(split_e164("+"), None);
    assert_eq!(e164_key("+525512345678"), Some(525_512_345_678));
    assert_eq!(e164_key("+12125550173"), Some(12_125_550_173));
    assert_eq!(e164_key("525512345678"), None);
    assert_eq!(e164_key("+0123"), None);
}

#[test]
fn runs_concurrently() {
    let inputs = [
        ("+52 55 1234 5678", None, "+525512345678"),
        ("612 34 56 78", Some("ES"), "+34612345678"),
        ("8 (912) 345-67-89", Some("RU"), "+79123456789"),
        ("011 15-2345-6789", Some("AR"), "+5491123456789"),
    ];
    std::thread::scope(|s| {
        for t in 0..8 {
            s.spawn(move || {
                for i in 0..200 {
                    let (raw, region, want) = inputs[(i + t) % inputs.len()];
                    assert_eq!(phone::normalize(raw, region).as_deref(), Ok(want));
                }
            });
        }
    });
}
