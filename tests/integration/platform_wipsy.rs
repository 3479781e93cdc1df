//! The Wipsy adapter against the emulator.

use crate::platform_support;

use platform_support::*;
use std::sync::Arc;
use waport::emulator::{
    DEFAULT_WIPSY_FIELD_COMPANY, DEFAULT_WIPSY_STAGE_NEW, DEFAULT_WIPSY_TAG_CLIENTE,
    EmulatorConfig, EmulatorHandle,
};
use waport::platform::{AdapterOptions, Platform, PlatformKind, WriteMode, connect};
use waport::upload::Cancel;

/// An adapter whose waport.toml maps names to the emulator's UUIDs.
fn mapped(h: &EmulatorHandle) -> Arc<dyn Platform> {
    let mut c = creds(h, PlatformKind::Wipsy);
    c.wipsy
        .tags
        .insert("Cliente".into(), DEFAULT_WIPSY_TAG_CLIENTE.into());
    c.wipsy
        .fields
        .insert("empresa".into(), DEFAULT_WIPSY_FIELD_COMPANY.into());
    c.wipsy
        .stages
        .insert("Nuevo".into(), DEFAULT_WIPSY_STAGE_NEW.into());
    let opts = AdapterOptions {
        rate: Some(0.0),
        ..AdapterOptions::default()
    };
    connect(PlatformKind::Wipsy, c, opts).unwrap()
}

fn rows() -> Vec<waport::model::Contact> {
    let mut a = person("John", "Doe", "+573188779043", "john.doe@example.com");
    a.tags = vec!["Cliente".into()];
    a.custom.insert("empresa".into(), "Acme".into());
    a.custom.insert("pipeline_stage".into(), "Nuevo".into());
    a.company = "Acme".into();
    vec![a, person("Ana", "López", "+34600111222", "")]
}

fn stored(h: &EmulatorHandle) -> Vec<serde_json::Value> {
    h.contacts(PlatformKind::Wipsy).as_array().unwrap().clone()
}

#[tokio::test]
async fn clean_import_sends_uuids_for_names() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = mapped(&h);
    p.check().await.unwrap();
    let (out, _) = upload(p, config(WriteMode::Create), rows(), Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "created"]);
    let all = stored(&h);
    assert_eq!(all.len(), 2);
    let john = all.iter().find(|c| c["phone"] == "+573188779043").unwrap();
    assert_eq!(john["id"], out[0].remote_id.as_str());
    assert_eq!(john["name"], "John");
    assert_eq!(john["last_name"], "Doe");
    assert_eq!(john["company"], "Acme");
    assert_eq!(john["tags"][0]["id"], DEFAULT_WIPSY_TAG_CLIENTE);
    assert_eq!(john["pipeline_stage_id"], DEFAULT_WIPSY_STAGE_NEW);
    assert_eq!(
        john["custom_fields"][0]["field_id"],
        DEFAULT_WIPSY_FIELD_COMPANY
    );
    assert_eq!(john["custom_fields"][0]["value"], "Acme");
}

#[tokio::test]
async fn unknown_names_are_left_out_and_the_contact_created() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = mapped(&h);
    let mut r = rows();
    r[1].tags = vec!["VIP".into()];
    let (out, _) = upload(p, config(WriteMode::Create), r, Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "created"]);
    assert!(
        out[1].reason.starts_with("not_sent: tag \"VIP\"")
            && out[1].reason.contains("[wipsy.tags]"),
        "{}",
        out[1].reason
    );
    assert_eq!(stored(&h).len(), 2);
}

#[tokio::test]
async fn upsert_finds_by_phone_and_updates() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = mapped(&h);
    upload(p.clone(), config(WriteMode::Create), rows(), Cancel::new()).await;
    let mut changed = rows();
    changed[1].email = "ana@example.com".into();
    let fresh = mapped(&h);
    let (out, _) = upload(fresh, config(WriteMode::Upsert), changed, Cancel::new()).await;
    assert_eq!(statuses(&out), ["updated", "updated"]);
    assert!(
        out[0].reason.contains("not_updated: company, tags"),
        "{}",
        out[0].reason
    );
    let all = stored(&h);
    assert_eq!(all.len(), 2, "no doubles");
    let ana = all.iter().find(|c| c["phone"] == "+34600111222").unwrap();
    assert_eq!(ana["email"], "ana@example.com");
}

#[tokio::test]
async fn free_plan_quota_skips_the_rest() {
    let h = emulator(EmulatorConfig {
        wipsy_free_plan: true,
        ..EmulatorConfig::default()
    })
    .await;
    let p = mapped(&h);
    let contacts: Vec<_> = (0..103)
        .map(|i| person("P", &format!("N{i}"), &format!("+3460055{i:04}"), ""))
        .collect();
    let mut cfg = config(WriteMode::Create);
    cfg.concurrency = 1;
    let (out, stats) = upload(p, cfg, contacts, Cancel::new()).await;
    let created = out
        .iter()
        .filter(|o| o.status.as_str() == "created")
        .count();
    let skipped: Vec<_> = out
        .iter()
        .filter(|o| o.status.as_str() == "skipped")
        .collect();
    assert_eq!(created, 100);
    assert_eq!(skipped.len(), 3);
    assert!(skipped.iter().all(|o| o.reason.starts_with("quota: ")));
    let halt = stats.halt.expect("halted");
    assert!(halt.error.is_none(), "a quota is not a fatal error");
    assert_eq!(stats.retries, 0, "a quota is never retried");
    assert_eq!(stored(&h).len(), 100);
}

#[tokio::test]
async fn export_pages_past_500() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = mapped(&h);
    let contacts: Vec<_> = (0..520)
        .map(|i| person("P", &format!("N{i}"), &format!("+3460066{i:04}"), ""))
        .collect();
    let mut cfg = config(WriteMode::Create);
    cfg.concurrency = 8;
    upload(p.clone(), cfg, contacts, Cancel::new()).await;
    let first = p
        .list_page(waport::platform::Entity::Contacts, None)
        .await
        .unwrap();
    assert_eq!(first.items.len(), 500);
    let second = p
        .list_page(waport::platform::Entity::Contacts, first.next.as_deref())
        .await
        .unwrap();
    assert_eq!(second.items.len(), 20);
    assert!(second.next.is_none() && second.note.is_none());
}
