//! Normalizer throughput: phones on a mixed 16-country, many-format set
//! (full normalizer, fast path alone, engine alone) and e-mail validation.
//! `cargo bench --bench normalize -- --quick`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use waport::normalize::{email, phone};

/// (region, international template, national template, WhatsApp ok) with `#`
/// for random digits. Templates are real numbering plans of each country.
const PLANS: &[(&str, &str, &str)] = &[
    ("MX", "+52 55 #### ####", "55 #### ####"),
    ("MX", "+52 1 33 #### ####", "044 33 #### ####"),
    ("BR", "+55 11 9#### ####", "(11) 9####-####"),
    ("AR", "+54 9 11 #### ####", "011 15-####-####"),
    ("CO", "+57 31# ### ####", "31# ### ####"),
    ("CL", "+56 9 #### ####", "9 #### ####"),
    ("PE", "+51 9## ### ###", "9## ### ###"),
    ("ES", "+34 6## ## ## ##", "6## ## ## ##"),
    ("US", "+1 (212) 5##-####", "(415) 5##-####"),
    ("RU", "+7 912 ###-##-##", "8 (912) ###-##-##"),
    ("DE", "+49 151 ########", "0151 ########"),
    ("FR", "+33 6 ## ## ## ##", "06 ## ## ## ##"),
    ("GB", "+44 7911 ######", "07911 ######"),
    ("IT", "+39 3## ### ####", "06 #### ####"),
    ("IN", "+91 98### #####", "098### #####"),
    ("CN", "+86 138 #### ####", "138 #### ####"),
    ("VE", "+58 412-#######", "0412-#######"),
];

fn fill(template: &str, rng: &mut fastrand::Rng) -> String {
    template
        .chars()
        .map(|c| if c == '#' { rng.digit(10) } else { c })
        .collect()
}

/// A reproducible mix of formats: international, national, WhatsApp id
/// (digits only), `00` prefix, spreadsheet `.0`, apostrophe, `tel:`.
pub fn mixed_set(n: usize) -> Vec<(String, Option<&'static str>)> {
    let mut rng = fastrand::Rng::with_seed(42);
    (0..n)
        .map(|i| {
            let (region, intl, national) = PLANS[i % PLANS.len()];
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            match rng.usize(0..8) {
                0 | 1 => (fill(intl, &mut rng), None),
                2 | 3 => (fill(national, &mut rng), Some(region)),
                4 => (digits(&fill(intl, &mut rng)), Some("ES")),
                5 => (format!("00{}", digits(&fill(intl, &mut rng))), Some(region)),
                6 => (format!("{}.0", digits(&fill(intl, &mut rng))), None),
                _ => (format!("'{}", fill(intl, &mut rng)), Some(region)),
            }
        })
        .collect()
}

fn report_hit_rate(set: &[(String, Option<&'static str>)]) {
    let mut fast = 0;
    let mut ok = 0;
    for (raw, region) in set {
        let (res, path) = phone::normalize_traced(raw, *region);
        ok += usize::from(res.is_ok());
        fast += usize::from(path == phone::Path::Fast);
    }
    let t = Instant::now();
    for (raw, region) in set {
        black_box(phone::normalize(raw, *region).ok());
    }
    let full = t.elapsed();
    let t = Instant::now();
    for (raw, region) in set {
        black_box(phone::normalize_with_engine(raw, *region).ok());
    }
    let engine = t.elapsed();
    let n = set.len() as f64;
    eprintln!(
        "mixed set: {} numbers, {:.1}% valid, fast path decided {:.1}%; \
         normalize {:.0} ns/number ({:.2} M/s), engine only {:.0} ns/number ({:.2} M/s)",
        set.len(),
        100.0 * ok as f64 / n,
        100.0 * fast as f64 / n,
        full.as_nanos() as f64 / n,
        n / full.as_secs_f64() / 1e6,
        engine.as_nanos() as f64 / n,
        n / engine.as_secs_f64() / 1e6,
    );
}

fn phones(c: &mut Criterion) {
    let set = mixed_set(10_000);
    // Warm the lazily compiled regexes before anything is timed.
    for (raw, region) in &set {
        black_box(phone::normalize(raw, *region).ok());
        black_box(phone::normalize_with_engine(raw, *region).ok());
    }
    report_hit_rate(&set);
    let mut g = c.benchmark_group("phone_mixed_10k");
    g.throughput(Throughput::Elements(set.len() as u64));
    g.bench_function("normalize", |b| {
        b.iter(|| {
            for (raw, region) in &set {
                black_box(phone::normalize(raw, *region).ok());
            }
        })
    });
    g.bench_function("fast_path_only", |b| {
        b.iter(|| {
            for (raw, region) in &set {
                black_box(phone::fast_path(raw, *region));
            }
        })
    });
    g.bench_function("engine_only", |b| {
        b.iter(|| {
            for (raw, region) in &set {
                black_box(phone::normalize_with_engine(raw, *region).ok());
            }
        })
    });
    g.finish();
}

fn emails(c: &mut Criterion) {
    let set: Vec<String> = (0..10_000)
        .map(|i| match i % 4 {
            0 => format!("user{i}@example.com"),
            1 => format!(" First.Last+{i}@Mail.Example.CO.UK "),
            2 => format!("josé{i}@correo.es"),
            _ => format!("bad..{i}@example"),
        })
        .collect();
    let mut g = c.benchmark_group("email_10k");
    g.throughput(Throughput::Elements(set.len() as u64));
    g.bench_function("normalize", |b| {
        b.iter(|| {
            for e in &set {
                black_box(email::normalize(e).ok());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, phones, emails);
criterion_main!(benches);
