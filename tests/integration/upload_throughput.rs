//! Pacing precision: with the emulator limiting to R requests/s and
//! `--rate R`, no request meets a 429 and every item is created. How close
//! to R it gets is a speed, measured by `benches/upload.sh`, not asserted
//! here with a clock (a loaded CI machine would make that flaky).

use crate::platform_support;

use platform_support::*;
use std::time::Instant;
use waport::emulator::EmulatorConfig;
use waport::platform::{AdapterOptions, PlatformKind, WriteMode};
use waport::upload::Cancel;

async fn measure(kind: PlatformKind, rate: u32, n: usize, batch: usize) -> (f64, u64) {
    let h = emulator(EmulatorConfig {
        rate_limit: Some(rate),
        ..EmulatorConfig::default()
    })
    .await;
    let p = adapter(&h, kind, AdapterOptions::default());
    // Preflight outside the measured window (Wazzup reads its users and
    // the account's contacts, as `import` does before sending).
    p.check().await.unwrap();
    p.prepare_writes(&|_, _| {}).await.unwrap();
    // Let the emulator's window of the preflight request pass.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let contacts: Vec<_> = (0..n)
        .map(|i| person("P", &format!("N{i}"), &format!("+346{i:08}"), ""))
        .collect();
    let mut cfg = config(WriteMode::Create);
    cfg.rate = Some(f64::from(rate));
    cfg.concurrency = 8;
    cfg.batch_size = Some(batch);
    let t0 = Instant::now();
    let (out, stats) = upload(p, cfg, contacts, Cancel::new()).await;
    let secs = t0.elapsed().as_secs_f64();
    assert!(out.iter().all(|o| o.status.as_str() == "created"));
    // n items over `requests` requests; the first leaves at t=0, so the
    // paced span covers requests - 1 periods.
    let achieved = (stats.requests as f64 - 1.0) / secs;
    eprintln!(
        "{kind}: {n} items in {secs:.2} s, {:.1}% of {rate} requests/s, {} 429s",
        achieved / f64::from(rate) * 100.0,
        stats.rate_limited
    );
    (achieved / f64::from(rate), stats.rate_limited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whaapy_at_the_limit_meets_no_429() {
    let (ratio, limited) = measure(PlatformKind::Whaapy, 50, 200, 1).await;
    assert_eq!(limited, 0, "429s at {:.1}% of the rate", ratio * 100.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wazzup_batches_of_100_at_the_limit_meet_no_429() {
    let (ratio, limited) = measure(PlatformKind::Wazzup, 20, 6000, 100).await;
    assert_eq!(limited, 0, "429s at {:.1}% of the rate", ratio * 100.0);
}
