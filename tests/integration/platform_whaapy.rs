//! The Whaapy adapter against the emulator.

use crate::platform_support;

use platform_support::*;
use waport::emulator::EmulatorConfig;
use waport::platform::{AdapterOptions, PlatformKind, WriteMode};
use waport::upload::Cancel;

fn rows() -> Vec<waport::model::Contact> {
    let mut a = person("Juan", "Pérez", "+5215512345678", "juan@email.com");
    a.tags = vec!["cliente".into(), "premium".into()];
    a.company = "Acme Inc".into();
    a.city = "Ciudad de México".into();
    a.country = "MX".into();
    a.external_id = "abc123".into();
    a.notes = "Referido".into();
    a.custom.insert("role".into(), "CEO".into());
    vec![
        a,
        person("Ana", "López", "+34600111222", ""),
        person("Li", "Wei", "+8613800138000", ""),
    ]
}

fn stored(h: &waport::emulator::EmulatorHandle) -> Vec<serde_json::Value> {
    h.contacts(PlatformKind::Whaapy).as_array().unwrap().clone()
}

#[tokio::test]
async fn clean_import_maps_every_field() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Whaapy, AdapterOptions::default());
    p.check().await.unwrap();
    let (out, stats) = upload(p, config(WriteMode::Create), rows(), Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "created", "created"]);
    assert_eq!(stats.requests, 3);
    let all = stored(&h);
    assert_eq!(all.len(), 3);
    let juan = all
        .iter()
        .find(|c| c["phone_number"] == "+5215512345678")
        .unwrap();
    assert_eq!(juan["id"], out[0].remote_id.as_str());
    assert_eq!(juan["name"], "Juan Pérez");
    assert_eq!(juan["email"], "juan@email.com");
    assert_eq!(juan["tags"], serde_json::json!(["cliente", "premium"]));
    assert_eq!(juan["custom_fields"], serde_json::json!({"role": "CEO"}));
    assert_eq!(
        juan["external_ids"],
        serde_json::json!({"import": "abc123"})
    );
    assert_eq!(juan["company"], "Acme Inc");
    assert_eq!(juan["city"], "Ciudad de México");
    assert_eq!(juan["notes"], "Referido");
    assert_eq!(juan["source"], "import");
}

#[tokio::test]
async fn reimport_reports_exists_then_upsert_patches() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Whaapy, AdapterOptions::default());
    let (first, _) = upload(p.clone(), config(WriteMode::Create), rows(), Cancel::new()).await;
    let (again, _) = upload(p.clone(), config(WriteMode::Create), rows(), Cancel::new()).await;
    assert_eq!(statuses(&again), ["exists", "exists", "exists"]);
    assert_eq!(again[0].remote_id, first[0].remote_id);
    let mut changed = rows();
    changed[1].name = "Ana María López".into();
    let (up, _) = upload(p, config(WriteMode::Upsert), changed, Cancel::new()).await;
    assert_eq!(statuses(&up), ["updated", "updated", "updated"]);
    let all = stored(&h);
    assert_eq!(all.len(), 3, "no doubles");
    let ana = all
        .iter()
        .find(|c| c["phone_number"] == "+34600111222")
        .unwrap();
    assert_eq!(ana["name"], "Ana María López");
    assert_eq!(ana["source"], "import", "source is not patched");
}

#[tokio::test]
async fn platform_validation_is_reported_per_field() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Whaapy, AdapterOptions::default());
    let mut bad = rows();
    bad[1].email = "not-an-email".into();
    let (out, _) = upload(p, config(WriteMode::Create), bad, Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "invalid", "created"]);
    assert_eq!(out[1].reason, "platform_invalid: email: Email inválido");
    assert_eq!(stored(&h).len(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let h = emulator(EmulatorConfig {
        rate_limit: Some(2),
        ..EmulatorConfig::default()
    })
    .await;
    let p = adapter(&h, PlatformKind::Whaapy, AdapterOptions::default());
    let contacts: Vec<_> = (0..6)
        .map(|i| person("P", &format!("N{i}"), &format!("+3460011{i:04}"), ""))
        .collect();
    let mut cfg = config(WriteMode::Create);
    cfg.concurrency = 1;
    cfg.max_attempts = 10;
    let t0 = std::time::Instant::now();
    let (out, stats) = upload(p, cfg, contacts, Cancel::new()).await;
    assert!(
        out.iter().all(|o| o.status.as_str() == "created"),
        "{out:?}"
    );
    assert!(stats.rate_limited >= 1 && stats.retries >= 1, "{stats:?}");
    // Two per second: six need at least two more windows.
    assert!(t0.elapsed() >= std::time::Duration::from_secs(2));
    assert_eq!(stored(&h).len(), 6);
}

#[tokio::test]
async fn paced_under_the_limit_meets_no_429() {
    let h = emulator(EmulatorConfig {
        rate_limit: Some(20),
        ..EmulatorConfig::default()
    })
    .await;
    let p = adapter(&h, PlatformKind::Whaapy, AdapterOptions::default());
    let contacts: Vec<_> = (0..30)
        .map(|i| person("P", &format!("N{i}"), &format!("+3460022{i:04}"), ""))
        .collect();
    let mut cfg = config(WriteMode::Create);
    cfg.rate = Some(20.0);
    cfg.concurrency = 8;
    let t0 = std::time::Instant::now();
    let (out, stats) = upload(p, cfg, contacts, Cancel::new()).await;
    let secs = t0.elapsed().as_secs_f64();
    assert!(out.iter().all(|o| o.status.as_str() == "created"));
    assert_eq!(stats.rate_limited, 0);
    // 30 requests at 20/s: 29 gaps of 50 ms.
    assert!(secs >= 1.4, "paced: {secs}");
}

#[tokio::test]
async fn bulk_flag_sends_100_a_call() {
    let h = emulator(EmulatorConfig::default()).await;
    let opts = AdapterOptions {
        whaapy_bulk: true,
        ..AdapterOptions::default()
    };
    let p = adapter(&h, PlatformKind::Whaapy, opts);
    let contacts: Vec<_> = (0..150)
        .map(|i| person("P", &format!("N{i}"), &format!("+3460033{i:04}"), ""))
        .collect();
    let (out, stats) = upload(
        p.clone(),
        config(WriteMode::Create),
        contacts.clone(),
        Cancel::new(),
    )
    .await;
    assert!(out.iter().all(|o| o.status.as_str() == "created"));
    assert_eq!(stats.requests, 2);
    let (again, stats) = upload(p, config(WriteMode::Upsert), contacts, Cancel::new()).await;
    assert!(again.iter().all(|o| o.status.as_str() == "updated"));
    assert_eq!(stats.requests, 4, "create then update, per batch");
    assert_eq!(stored(&h).len(), 150);
}

#[tokio::test]
async fn dry_run_writes_nothing_and_keeps_statuses_honest() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Whaapy, AdapterOptions::default());
    upload(
        p.clone(),
        config(WriteMode::Create),
        rows()[..1].to_vec(),
        Cancel::new(),
    )
    .await;
    let mut cfg = config(WriteMode::Create);
    cfg.dry_run = true;
    let (out, _) = upload(p.clone(), cfg.clone(), rows(), Cancel::new()).await;
    assert_eq!(statuses(&out), ["exists", "valid", "valid"]);
    assert_eq!(out[1].reason, "dry_run: would create");
    cfg.mode = WriteMode::Upsert;
    let (out, _) = upload(p, cfg, rows(), Cancel::new()).await;
    assert_eq!(out[0].status.as_str(), "valid");
    assert!(out[0].reason.starts_with("dry_run: would update "));
    assert_eq!(stored(&h).len(), 1);
}

#[tokio::test]
async fn export_follows_the_cursor() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Whaapy, AdapterOptions::default());
    let contacts: Vec<_> = (0..120)
        .map(|i| person("P", &format!("N{i}"), &format!("+3460044{i:04}"), ""))
        .collect();
    let mut cfg = config(WriteMode::Create);
    cfg.concurrency = 8;
    upload(p.clone(), cfg, contacts, Cancel::new()).await;
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = p
            .list_page(waport::platform::Entity::Contacts, cursor.as_deref())
            .await
            .unwrap();
        for c in page.items {
            assert!(seen.insert(c.contact.phone.clone()));
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
}
