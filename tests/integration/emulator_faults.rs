//! Injected faults: the seeded chooser's distribution over 10,000 requests,
//! and each kind as a real HTTP client sees it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use waport::emulator::faults::{FaultKind, FaultPlan};
use waport::emulator::{DEFAULT_WHAAPY_KEY, EmulatorConfig, Keys};
use waport::model::PlatformKind;

#[test]
fn chooser_distribution_over_10000_seeded_requests() {
    let plan = FaultPlan::new(42, 0.2);
    let mut kinds: HashMap<&str, u32> = HashMap::new();
    let mut statuses: HashMap<u16, u32> = HashMap::new();
    let mut html = 0;
    let mut total = 0;
    for n in 0..10_000 {
        if let Some(k) = plan.choose(n) {
            total += 1;
            *kinds.entry(k.name()).or_default() += 1;
            if let FaultKind::ServerError { status, html: h } = k {
                *statuses.entry(status).or_default() += 1;
                html += u32::from(h);
            }
        }
    }
    // 2,000 expected; sd = sqrt(10000 * 0.2 * 0.8) = 40. Allow 4 sd.
    assert!((1840..=2160).contains(&total), "total faults {total}");
    // Each of the four kinds gets a quarter (500; sd about 19; allow 5 sd).
    for k in [
        "server_error",
        "connection_closed",
        "delayed",
        "response_lost",
    ] {
        let c = kinds.get(k).copied().unwrap_or(0);
        assert!((400..=600).contains(&c), "{k}: {c} of {total}");
    }
    let se = kinds["server_error"];
    for s in [500, 502, 503] {
        let c = statuses.get(&s).copied().unwrap_or(0);
        assert!(c * 4 > se, "status {s}: {c} of {se}");
    }
    assert!(
        html * 3 > se && html * 3 < se * 2,
        "html bodies {html} of {se}"
    );

    // Reproducible with the seed, different with another one.
    let again = FaultPlan::new(42, 0.2);
    assert!((0..10_000).all(|n| plan.choose(n) == again.choose(n)));
    let other = FaultPlan::new(43, 0.2);
    assert!((0..10_000).any(|n| plan.choose(n) != other.choose(n)));
    // No faults at rate 0, all at rate 1.
    assert!((0..1000).all(|n| FaultPlan::new(1, 0.0).choose(n).is_none()));
    assert!((0..1000).all(|n| FaultPlan::new(1, 1.0).choose(n).is_some()));
}

/// Sends sequential creates and checks each outcome against the plan: the
/// emulator numbers platform requests in arrival order from 0.
#[tokio::test]
async fn each_fault_kind_as_a_client_sees_it() {
    let seed = 7;
    let rate = 0.6;
    let plan = FaultPlan::new(seed, rate);
    // Enough requests to meet every kind at least twice.
    let mut n_req = 0u64;
    let mut seen: HashMap<&str, u32> = HashMap::new();
    while n_req < 400 && (seen.len() < 5 || seen.values().any(|c| *c < 2)) {
        let k = plan.choose(n_req).map(|k| k.name()).unwrap_or("none");
        *seen.entry(k).or_default() += 1;
        n_req += 1;
    }
    assert_eq!(seen.len(), 5, "{seen:?}");

    let h = waport::emulator::start(EmulatorConfig {
        seed,
        fault_rate: rate,
        fault_delay_ms: 600,
        credentials: Keys::defaults(),
        ..Default::default()
    })
    .await
    .unwrap();
    let base = format!("{}/whaapy/contacts/v1", h.base_url());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for n in 0..n_req {
        let phone = format!("+5215500{n:06}");
        let res = client
            .post(&base)
            .bearer_auth(DEFAULT_WHAAPY_KEY)
            .json(&json!({"phone_number": phone}))
            .send()
            .await;
        let stored = h
            .contacts(PlatformKind::Whaapy)
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["phone_number"] == phone.as_str());
        match plan.choose(n) {
            None => {
                let r = res.unwrap();
                assert_eq!(r.status(), StatusCode::CREATED, "request {n}");
                assert!(stored);
            }
            Some(FaultKind::ServerError { status, html }) => {
                let r = res.unwrap();
                assert_eq!(r.status().as_u16(), status, "request {n}");
                let text = r.text().await.unwrap();
                assert_eq!(text.contains("<html>"), html, "request {n}: {text:?}");
                assert_eq!(text.is_empty(), !html);
                assert!(!stored, "a gateway error writes nothing");
            }
            Some(FaultKind::ConnectionClosed) => {
                let e = res.expect_err("connection closed must be a transport error");
                assert!(!e.is_timeout(), "request {n}: {e}");
                assert!(!stored, "closed before processing writes nothing");
            }
            Some(FaultKind::Delayed) => {
                let e = res.expect_err("delayed past the client timeout");
                assert!(e.is_timeout(), "request {n}: {e}");
                assert!(stored, "the write was committed before the delay");
            }
            Some(FaultKind::ResponseLost) => {
                let e = res.expect_err("response lost must be a transport error");
                assert!(!e.is_timeout(), "request {n}: {e}");
                assert!(stored, "the write was committed before the drop");
            }
        }
    }
    let s = h.stats();
    // No request was retried behind the client's back.
    assert_eq!(s["whaapy"]["requests"], n_req);
    let faults = (0..n_req).filter(|n| plan.choose(*n).is_some()).count();
    assert_eq!(s["whaapy"]["faults"], faults as u64);
}

/// While a delayed response is held back, the server keeps answering.
#[tokio::test]
async fn a_delayed_response_does_not_block_the_server() {
    // Find a seed whose first request is delayed and second is not faulted.
    let seed = (0..10_000u64)
        .find(|s| {
            let p = FaultPlan::new(*s, 0.5);
            p.choose(0) == Some(FaultKind::Delayed) && p.choose(1).is_none()
        })
        .unwrap();
    let h = waport::emulator::start(EmulatorConfig {
        seed,
        fault_rate: 0.5,
        fault_delay_ms: 3_000,
        credentials: Keys::defaults(),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = format!("{}/whaapy/contacts/v1", h.base_url());
    let c = reqwest::Client::new();
    let slow = {
        let (c, url) = (c.clone(), url.clone());
        tokio::spawn(async move {
            c.get(&url)
                .bearer_auth(DEFAULT_WHAAPY_KEY)
                .send()
                .await
                .map(|r| r.status())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = std::time::Instant::now();
    let r = c
        .get(&url)
        .bearer_auth(DEFAULT_WHAAPY_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(!slow.is_finished(), "the delayed one is still held");
    // Shutdown does not wait for the delayed response.
    let t = std::time::Instant::now();
    h.shutdown().await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[tokio::test]
async fn latency_is_added_to_every_response() {
    let h = waport::emulator::start(EmulatorConfig {
        latency_ms: 150,
        credentials: Keys::defaults(),
        ..Default::default()
    })
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let t = std::time::Instant::now();
    let r = c
        .get(format!("{}/whaapy/contacts/v1", h.base_url()))
        .bearer_auth(DEFAULT_WHAAPY_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(150));
    let stats: Value = c
        .get(format!("{}/_emulator/stats", h.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["whaapy"]["requests"], 1);
    for p in ["wazzup", "wipsy", "wapiflow"] {
        assert_eq!(
            stats[p],
            json!({"requests": 0, "created": 0, "updated": 0, "deleted": 0, "client_errors": 0, "rate_limited": 0, "faults": 0})
        );
    }
}
