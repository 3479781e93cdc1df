//! Injected faults (`--fault-rate 0.1`: gateway errors, closed connections,
//! answers held past the timeout, answers lost after the write) must leave
//! every platform exactly as a fault-free run does: no doubles, nothing
//! missing.

use crate::platform_support;

use platform_support::*;
use serde_json::Value;
use std::time::Duration;
use waport::emulator::EmulatorConfig;
use waport::platform::{AdapterOptions, PlatformKind, WriteMode};
use waport::upload::Cancel;

fn contacts() -> Vec<waport::model::Contact> {
    (0..40)
        .map(|i| person("Per", &format!("Son{i}"), &format!("+3460077{i:04}"), ""))
        .collect()
}

/// What must match between runs: the stored records without ids and times.
fn projection(kind: PlatformKind, stored: &Value) -> Vec<String> {
    let s = |c: &Value, k: &str| c[k].as_str().unwrap_or_default().to_string();
    let mut v: Vec<String> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|c| match kind {
            PlatformKind::Wazzup => format!("{} {} {}", s(c, "id"), s(c, "name"), c["contactData"]),
            PlatformKind::Whaapy => format!("{} {}", s(c, "phone_number"), s(c, "name")),
            PlatformKind::Wipsy => {
                format!("{} {} {}", s(c, "phone"), s(c, "name"), s(c, "last_name"))
            }
            PlatformKind::Wapiflow => format!(
                "{} {} {} {}",
                s(c, "mobile_code"),
                s(c, "mobile"),
                s(c, "firstname"),
                s(c, "lastname")
            ),
        })
        .collect();
    v.sort();
    v
}

async fn run(
    kind: PlatformKind,
    fault_rate: f64,
    seed: u64,
) -> (Vec<String>, waport::upload::UploadStats) {
    let h = emulator(EmulatorConfig {
        fault_rate,
        seed,
        fault_delay_ms: 1500,
        ..EmulatorConfig::default()
    })
    .await;
    let p = adapter(
        &h,
        kind,
        AdapterOptions {
            timeout: Duration::from_millis(700),
            ..AdapterOptions::default()
        },
    );
    let mut cfg = config(WriteMode::Create);
    cfg.max_attempts = 12;
    // Small Wazzup batches, so faults hit several requests.
    cfg.batch_size = Some(2);
    let (out, stats) = upload(p, cfg, contacts(), Cancel::new()).await;
    for o in &out {
        assert_eq!(o.status.as_str(), "created", "{kind}: {o:?}");
    }
    (projection(kind, &h.contacts(kind)), stats)
}

async fn same_state(kind: PlatformKind) {
    let (clean, _) = run(kind, 0.0, 1).await;
    assert_eq!(clean.len(), 40);
    // Seed 11 fails requests 3, 6, 11 and 22 in all four ways (closed,
    // delayed, response lost, gateway error) within the first two dozen.
    let (faulty, stats) = run(kind, 0.1, 11).await;
    assert!(
        stats.retries > 0,
        "{kind}: faults were injected and retried"
    );
    assert_eq!(
        faulty, clean,
        "{kind}: final state identical to the fault-free run"
    );
}

#[tokio::test]
async fn wazzup_faults_leave_the_same_state() {
    same_state(PlatformKind::Wazzup).await;
}

#[tokio::test]
async fn whaapy_faults_leave_the_same_state() {
    same_state(PlatformKind::Whaapy).await;
}

#[tokio::test]
async fn wipsy_faults_leave_the_same_state() {
    same_state(PlatformKind::Wipsy).await;
}

#[tokio::test]
async fn wapiflow_faults_leave_the_same_state() {
    same_state(PlatformKind::Wapiflow).await;
}
