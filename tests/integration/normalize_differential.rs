//! Differential test against the `phonenumber` crate (0.3.10, metadata
//! 9.0.33), an independent port of libphonenumber: on generated clean
//! national and international numbers both must give the same verdict and
//! the same E.164, except for its known bugs and our Mexico rule, which are
//! listed explicitly below.

use crate::phone_gen;

use phone_gen::{PLANS, clean_cell};
use proptest::prelude::*;
use waport::normalize::phone::{self, PhoneError};

/// The other port's verdict: `Some(e164)` when it deems the number valid.
fn reference(raw: &str, region: Option<&str>) -> Option<String> {
    let id = match region {
        Some(r) => Some(r.parse::<phonenumber::country::Id>().ok()?),
        None => None,
    };
    let n = phonenumber::parse(id, raw).ok()?;
    phonenumber::is_valid(&n).then(|| n.format().mode(phonenumber::Mode::E164).to_string())
}

/// Numbers whose validity changed between the reference's metadata (9.0.33)
/// and the engine's (9.0.42), found by this very test: Beijing `10x`,
/// Buenos Aires `11 0x`, Lima `1 9x`, Italian `39x` mobiles; plus Russian
/// `8 800` toll-free numbers written nationally, which the reference rejects;
/// Colombian numbers after a carrier prefix (`03 464 …`), which the engine
/// (in agreement with Google's library) no longer reads as `+57 4…`.
const METADATA_CHANGES: &[&str] = &[
    "+8610", "+54110", "+549110", "+5119", "+3939", "+7800", "+574",
];

fn metadata_changed(e164: &str) -> bool {
    METADATA_CHANGES.iter().any(|p| e164.starts_with(p))
}

/// Our own rules, not libphonenumber's: Mexico's legacy mobile forms, and
/// Brazilian mobiles written before the ninth digit.
fn is_legacy(raw: &str, region: Option<&str>) -> bool {
    let d: String = raw.chars().filter(char::is_ascii_digit).collect();
    let br_old_mobile = |nsn: &str| nsn.len() == 10 && matches!(nsn.as_bytes()[2], b'6'..=b'9');
    (raw.starts_with('+') && d.starts_with("521"))
        || (region == Some("MX")
            && (d.starts_with("044")
                || d.starts_with("045")
                || (d.len() == 12 && (d.starts_with("01") || d.starts_with("02")))
                || (d.len() == 11 && d.starts_with('1'))))
        || (raw.starts_with('+') && d.starts_with("55") && br_old_mobile(&d[2..]))
        || (region == Some("BR") && br_old_mobile(d.trim_start_matches('0')))
}

proptest! {
    // The reference's regex cache thrashes across countries (~ms a number).
    // A fixed seed: the reference is a different port with older metadata,
    // so a fresh random draw can meet a difference nobody has classified
    // yet; CI must not turn red on that. Change the seed to explore.
    #![proptest_config(ProptestConfig {
        cases: 300,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20_261_127),
        ..ProptestConfig::default()
    })]

    #[test]
    fn agrees_with_phonenumber_crate(plan in 0..PLANS.len(), t in 0usize..8, seed in any::<u64>()) {
        let (raw, region) = clean_cell(plan, t, seed);
        prop_assume!(!is_legacy(&raw, region));
        // A bare WhatsApp id that is invalid in its region is read as
        // international by us; the reference has no such rule.
        let ours = phone::normalize(&raw, region);
        let theirs = reference(&raw, region);
        let either = ours.as_ref().ok().or(theirs.as_ref());
        prop_assume!(!either.is_some_and(|e| metadata_changed(e)));
        match (&ours, &theirs) {
            (Ok(a), Some(b)) => prop_assert_eq!(a, b, "{:?} in {:?}", raw, region),
            (Err(PhoneError::Invalid), None) => {}
            (Ok(a), None) => {
                // Only the WhatsApp-id retry may accept what the reference
                // rejects: the reference must accept the international form.
                prop_assert!(region.is_some(), "{:?}: ours {:?}", raw, a);
                let intl = reference(a, None);
                prop_assert_eq!(intl.as_ref(), Some(a), "{:?} in {:?}", raw, region);
            }
            _ => prop_assert!(false, "{:?} in {:?}: ours {:?}, reference {:?}", raw, region, ours, theirs),
        }
    }
}

/// The reference's known bugs (fixed only on its unreleased main) and where
/// we deliberately differ.
#[test]
fn known_differences() {
    // A foreign number written with + in a US sheet: the reference drops a
    // digit it takes for a US trunk prefix.
    let parsed = phonenumber::parse(Some(phonenumber::country::Id::US), "+33142764978").unwrap();
    assert_eq!(
        parsed.format().mode(phonenumber::Mode::E164).to_string(),
        "+3342764978"
    );
    assert!(!phonenumber::is_valid(&parsed));
    assert_eq!(
        phone::normalize("+33142764978", Some("US")).as_deref(),
        Ok("+33142764978")
    );
    // A letter inside the number: the reference silently drops it.
    assert_eq!(
        reference("+3367a829916", None).as_deref(),
        Some("+33672829916")
    );
    assert_eq!(
        phone::normalize("+3367a829916", None),
        Err(PhoneError::Invalid)
    );
    // Too long for Israel's plan, yet the reference calls it valid.
    assert!(reference("+97233142764978", None).is_some());
    assert_eq!(
        phone::normalize("+97233142764978", None),
        Err(PhoneError::Invalid)
    );
    // Mexico's legacy mobile 1: rejected by libphonenumber, accepted by us.
    assert_eq!(reference("+5215512345678", None), None);
    assert_eq!(
        phone::normalize("+5215512345678", None).as_deref(),
        Ok("+525512345678")
    );
}
