//! The fast path against the engine: whatever the fast path accepts, the
//! engine accepts with the same E.164; and the full normalizer always agrees
//! with the engine-only normalizer.

use crate::phone_gen;

use phone_gen::{PLANS, cell};
use proptest::prelude::*;
use waport::normalize::phone::{self, Path, Prefer, RowRegion};

fn agree(raw: &str, region: Option<&str>) -> Result<Option<String>, TestCaseError> {
    let engine = phone::normalize_with_engine(raw, region);
    let fast = phone::fast_path(raw, region);
    if let Some(f) = &fast {
        prop_assert_eq!(
            Ok(f.clone()),
            engine.clone(),
            "fast path accepted {:?} in {:?}",
            raw,
            region
        );
    }
    prop_assert_eq!(
        phone::normalize(raw, region),
        engine,
        "normalize({:?}, {:?})",
        raw,
        region
    );
    // The whole reading too (number type and notes), with the region as
    // the row's own country and as a default.
    let rows = match region {
        Some(r) => vec![RowRegion::Country(r), RowRegion::Default(r)],
        None => vec![RowRegion::None],
    };
    for rr in rows {
        prop_assert_eq!(
            phone::read(raw, rr, Prefer::Ask),
            phone::read_with_engine(raw, rr, Prefer::Ask),
            "read({:?}, {:?})",
            raw,
            rr
        );
    }
    Ok(fast)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_never_disagrees_with_engine(
        plan in 0..PLANS.len(), t in 0usize..8, form in 0usize..12, seed in any::<u64>()
    ) {
        let (raw, region) = cell(plan, t, form, seed);
        agree(&raw, region)?;
    }

    #[test]
    fn arbitrary_digit_strings_agree(
        d in "[+]?[0-9]{3,18}", r in prop::sample::select(phone_gen::REGIONS.to_vec()), with_region in any::<bool>()
    ) {
        agree(&d, with_region.then_some(r))?;
    }
}

/// The fast path must carry the common forms, or it is not worth having:
/// over a fixed mixed set, it decides most valid numbers by itself.
#[test]
fn fast_path_hit_rate_on_valid_numbers() {
    let mut valid = 0;
    let mut fast = 0;
    for i in 0..6000u64 {
        let (raw, region) = cell(i as usize, (i / 16) as usize, (i / 7) as usize, i);
        let (res, path) = phone::normalize_traced(&raw, region);
        assert_eq!(
            res,
            phone::normalize_with_engine(&raw, region),
            "{raw:?} {region:?}"
        );
        if res.is_ok() {
            valid += 1;
            fast += usize::from(path == Path::Fast);
        }
    }
    assert!(valid > 2000, "only {valid} valid numbers generated");
    let rate = fast as f64 / valid as f64;
    assert!(
        rate > 0.9,
        "fast path decided only {:.1}% of valid numbers",
        rate * 100.0
    );
}

/// The metadata copied into the fast path is the engine's: same regions,
/// same calling codes.
#[test]
fn fast_path_metadata_matches_engine() {
    let regions = phone::metadata_regions();
    assert!(regions.len() > 240);
    for (id, cc) in regions {
        if id != "001" {
            assert_eq!(phone::engine_calling_code(id), Some(cc), "{id}");
        }
    }
}

/// The fast path's rejections are final too, so in every region of the
/// metadata (not only the 16 the generator knows) its verdicts on random
/// national numbers, trunk-prefixed numbers and WhatsApp ids must be the
/// engine's.
#[test]
fn verdicts_agree_with_engine_in_every_region() {
    let regions = phone::metadata_regions();
    let ccs: Vec<i32> = regions.iter().map(|r| r.1).collect();
    let mut rng = fastrand::Rng::with_seed(0x00fa_57a7);
    let mut checked = 0;
    for (id, cc) in &regions {
        if *id == "001" {
            continue;
        }
        for i in 0..200 {
            let n = rng.usize(4..14);
            let body: String = (0..n).map(|_| rng.digit(10)).collect();
            let other = ccs[rng.usize(0..ccs.len())];
            let raw = match i % 5 {
                0 => body,
                1 => format!("0{body}"),
                2 => format!("{cc}{body}"),
                3 => format!("+{cc}{body}"),
                _ => format!("{other}{body}"),
            };
            assert_eq!(
                phone::read(&raw, RowRegion::Country(id), Prefer::Ask),
                phone::read_with_engine(&raw, RowRegion::Country(id), Prefer::Ask),
                "{raw:?} in {id}"
            );
            checked += 1;
        }
    }
    assert!(checked > 40_000);
}
