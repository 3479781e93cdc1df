//! The WapiFlow adapter against the emulator.

use crate::platform_support;

use platform_support::*;
use waport::emulator::{EmulatorConfig, EmulatorHandle};
use waport::platform::{AdapterOptions, PlatformError, PlatformKind, WriteMode};
use waport::upload::Cancel;

fn rows() -> Vec<waport::model::Contact> {
    let mut a = person("John", "Doe", "+8801988123456", "");
    a.city = "Dhaka".into();
    vec![a, person("Ana", "López", "+34600111222", "")]
}

fn stored(h: &EmulatorHandle) -> Vec<serde_json::Value> {
    h.contacts(PlatformKind::Wapiflow)
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn clean_import_splits_the_phone() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wapiflow, AdapterOptions::default());
    p.check().await.unwrap();
    let (out, _) = upload(p, config(WriteMode::Create), rows(), Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "created"]);
    let all = stored(&h);
    assert_eq!(all.len(), 2);
    let john = all.iter().find(|c| c["firstname"] == "John").unwrap();
    assert_eq!(john["id"].to_string(), out[0].remote_id);
    assert_eq!(john["mobile_code"], "880");
    assert_eq!(john["mobile"], "1988123456");
    assert_eq!(john["lastname"], "Doe");
    assert_eq!(john["details"]["city"], "Dhaka");
}

#[tokio::test]
async fn taken_mobile_is_exists_then_upsert_updates() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wapiflow, AdapterOptions::default());
    let (first, _) = upload(p.clone(), config(WriteMode::Create), rows(), Cancel::new()).await;
    let (again, _) = upload(p.clone(), config(WriteMode::Create), rows(), Cancel::new()).await;
    assert_eq!(statuses(&again), ["exists", "exists"]);
    assert_eq!(again[0].remote_id, first[0].remote_id, "id found by search");
    let mut changed = rows();
    changed[1].last_name = "López Ruiz".into();
    let (up, _) = upload(p, config(WriteMode::Upsert), changed, Cancel::new()).await;
    assert_eq!(statuses(&up), ["updated", "updated"]);
    let all = stored(&h);
    assert_eq!(all.len(), 2, "no doubles");
    assert!(all.iter().any(|c| c["lastname"] == "López Ruiz"));
}

#[tokio::test]
async fn rows_without_last_name_or_with_long_names() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wapiflow, AdapterOptions::default());
    let mut no_last = person("Solo", "", "+34600999888", "");
    no_last.last_name.clear();
    let long = person(&"X".repeat(45), "Doe", "+34600999777", "");
    let (out, _) = upload(
        p,
        config(WriteMode::Create),
        vec![no_last, long],
        Cancel::new(),
    )
    .await;
    assert_eq!(statuses(&out), ["invalid", "created"]);
    assert_eq!(out[0].reason, "missing_field: last_name");
    assert_eq!(out[1].reason, "first_name_truncated: cut to 40 characters");
}

#[tokio::test]
async fn ip_whitelist_refusal_stops_the_run_with_instructions() {
    let h = emulator(EmulatorConfig {
        wapiflow_whitelist: vec!["10.0.0.0/8".into()],
        ..EmulatorConfig::default()
    })
    .await;
    let p = adapter(&h, PlatformKind::Wapiflow, AdapterOptions::default());
    let err = p.check().await.unwrap_err();
    assert!(matches!(err, PlatformError::IpNotWhitelisted { .. }));
    assert!(err.to_string().contains("IP Whitelist"));
    let (out, stats) = upload(p, config(WriteMode::Create), rows(), Cancel::new()).await;
    assert!(out.iter().all(|o| o.status.as_str() == "skipped"));
    assert!(matches!(
        stats.fatal(),
        Some(PlatformError::IpNotWhitelisted { .. })
    ));
    assert_eq!(stored(&h).len(), 0);
}

#[tokio::test]
async fn plan_limit_skips_the_rest() {
    let h = emulator(EmulatorConfig {
        wapiflow_contact_limit: Some(1),
        ..EmulatorConfig::default()
    })
    .await;
    let p = adapter(&h, PlatformKind::Wapiflow, AdapterOptions::default());
    let mut cfg = config(WriteMode::Create);
    cfg.concurrency = 1;
    let (out, stats) = upload(p, cfg, rows(), Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "skipped"]);
    assert!(out[1].reason.starts_with("plan_limit: "));
    assert!(stats.halt.is_some() && stats.fatal().is_none());
}

#[tokio::test]
async fn export_and_delete() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wapiflow, AdapterOptions::default());
    upload(p.clone(), config(WriteMode::Create), rows(), Cancel::new()).await;
    let page = p
        .list_page(waport::platform::Entity::Contacts, None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    let john = page
        .items
        .iter()
        .find(|c| c.contact.first_name == "John")
        .unwrap();
    assert_eq!(john.contact.phone, "+8801988123456");
    assert_eq!(john.contact.city, "Dhaka");
    p.delete(waport::platform::Entity::Contacts, &john.remote_id)
        .await
        .unwrap();
    assert_eq!(p.find_existing(&john.contact).await.unwrap(), None);
    assert_eq!(stored(&h).len(), 1);
}
