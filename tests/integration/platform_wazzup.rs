//! The Wazzup adapter against the emulator.

use crate::platform_support;

use platform_support::*;
use serde_json::json;
use waport::emulator::{DEFAULT_WAZZUP_USER_ID, EmulatorConfig};
use waport::platform::{AdapterOptions, Entity, PlatformError, PlatformKind, WriteMode};
use waport::upload::Cancel;

fn three() -> Vec<waport::model::Contact> {
    vec![
        person("Juan", "Pérez", "+5215512345678", "juan@example.com"),
        person("Ana", "López", "+34600111222", ""),
        person("Li", "Wei", "+8613800138000", ""),
    ]
}

#[tokio::test]
async fn clean_import_stores_exactly_the_contacts() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wazzup, AdapterOptions::default());
    let notes = p.check().await.unwrap();
    assert!(notes[0].contains(DEFAULT_WAZZUP_USER_ID), "{notes:?}");
    // The account is read before the first write, as `import` does.
    let notes = p.prepare_writes(&|_, _| {}).await.unwrap();
    assert!(notes[0].contains("holds 0 contact(s)"), "{notes:?}");
    let (out, stats) = upload(p, config(WriteMode::Create), three(), Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "created", "created"]);
    assert_eq!(out[0].remote_id, "waport-5215512345678");
    assert_eq!(
        stats.requests, 1,
        "users read by check(), contacts by prepare_writes(): one batch request"
    );
    let stored = h.contacts(PlatformKind::Wazzup);
    assert_eq!(stored.as_array().unwrap().len(), 3);
    let juan = stored
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "waport-5215512345678")
        .unwrap();
    assert_eq!(
        *juan,
        json!({"id": "waport-5215512345678", "responsibleUserId": DEFAULT_WAZZUP_USER_ID,
               "name": "Juan Pérez",
               "contactData": [{"chatType": "whatsapp", "chatId": "5215512345678"}]})
    );
}

#[tokio::test]
async fn reimport_upserts_instead_of_doubling() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wazzup, AdapterOptions::default());
    upload(p.clone(), config(WriteMode::Create), three(), Cancel::new()).await;
    let mut again = three();
    again[1].name = "Ana María López".into();
    let (out, _) = upload(p, config(WriteMode::Upsert), again, Cancel::new()).await;
    // Held by the account: read, merged and written back (or left alone
    // when nothing differs), never reported as made.
    assert!(
        out.iter().all(|o| o.status.as_str() == "updated"),
        "{out:?}"
    );
    let stored = h.contacts(PlatformKind::Wazzup);
    let all = stored.as_array().unwrap();
    assert_eq!(all.len(), 3, "no doubles");
    assert!(all.iter().any(|c| c["name"] == "Ana María López"));
}

#[tokio::test]
async fn rows_wazzup_refuses_are_invalid_and_the_rest_is_sent() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wazzup, AdapterOptions::default());
    let mut rows = three();
    // 16 digits: the emulator (and WhatsApp) take at most 15.
    rows.insert(1, person("Too", "Long", "+1234567890123456", ""));
    let (out, _) = upload(p, config(WriteMode::Create), rows, Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "invalid", "created", "created"]);
    assert_eq!(
        out[1].reason,
        "platform_invalid: fields contactData[0].chatId"
    );
    assert_eq!(
        h.contacts(PlatformKind::Wazzup).as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn same_id_twice_in_a_run_is_sent_once() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wazzup, AdapterOptions::default());
    let mut rows = three();
    rows.push(person("Juan", "Otro", "+5215512345678", "otro@example.com"));
    let (out, _) = upload(p, config(WriteMode::Create), rows, Cancel::new()).await;
    assert_eq!(out[3].status.as_str(), "duplicate");
    assert_eq!(out[3].reason, "same_remote_identity: row 2");
    assert_eq!(
        h.contacts(PlatformKind::Wazzup).as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn unknown_responsible_user_stops_before_sending() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(
        &h,
        PlatformKind::Wazzup,
        AdapterOptions {
            responsible_user: Some("nobody".into()),
            ..AdapterOptions::default()
        },
    );
    let err = p.check().await.unwrap_err();
    assert!(matches!(err, PlatformError::ResponsibleUser(_)));
    assert!(err.to_string().contains("nobody") && err.to_string().contains(DEFAULT_WAZZUP_USER_ID));
    let (out, stats) = upload(p, config(WriteMode::Create), three(), Cancel::new()).await;
    assert!(out.iter().all(|o| o.status.as_str() == "skipped"));
    assert!(stats.fatal().is_some());
    assert_eq!(
        h.contacts(PlatformKind::Wazzup).as_array().unwrap().len(),
        0
    );
}

#[tokio::test]
async fn bad_key_halts_the_run_as_an_error() {
    let h = emulator(EmulatorConfig::default()).await;
    let mut c = creds(&h, PlatformKind::Wazzup);
    c.secret = waport::platform::Secret::ApiKey("wrong".into());
    let p = waport::platform::connect(PlatformKind::Wazzup, c, AdapterOptions::default()).unwrap();
    let (out, stats) = upload(p, config(WriteMode::Create), three(), Cancel::new()).await;
    assert!(out.iter().all(|o| o.status.as_str() == "skipped"));
    assert!(matches!(
        stats.fatal(),
        Some(PlatformError::Auth { status: 401, .. })
    ));
}

#[tokio::test]
async fn users_are_imported_in_arrays() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wazzup, AdapterOptions::default());
    let mut a = person("Alex", "Salesman", "+79263334567", "");
    a.external_id = "2e0df379-0e3c-470f-9b36-06b9e34c3bdb".into();
    let b = person("Kate", "Supportics", "+79261234567", "");
    // Same phone as Kate: Wazzup refuses it (DUPLICATE_PHONE_NUMBER).
    let mut c = person("Copy", "Cat", "+79261234567", "");
    c.external_id = "copy".into();
    let mut cfg = config(WriteMode::Upsert);
    cfg.entity = Entity::Users;
    let (out, _) = upload(p.clone(), cfg, vec![a, b, c], Cancel::new()).await;
    assert_eq!(statuses(&out), ["created", "created", "invalid"]);
    assert!(
        out[2].reason.starts_with("duplicate_phone"),
        "{}",
        out[2].reason
    );
    let users = h.wazzup_users();
    let ids: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"2e0df379-0e3c-470f-9b36-06b9e34c3bdb"));
    assert!(ids.contains(&"waport-79261234567"));
    assert!(!ids.contains(&"copy"));
    let page = p.list_page(Entity::Users, None).await.unwrap();
    assert_eq!(page.items.len(), 3);
}

#[tokio::test]
async fn export_pages_and_delete() {
    let h = emulator(EmulatorConfig::default()).await;
    let p = adapter(&h, PlatformKind::Wazzup, AdapterOptions::default());
    let rows: Vec<_> = (0..150)
        .map(|i| person("P", &format!("N{i}"), &format!("+3460000{i:04}"), ""))
        .collect();
    upload(p.clone(), config(WriteMode::Create), rows, Cancel::new()).await;
    let first = p.list_page(Entity::Contacts, None).await.unwrap();
    assert_eq!(first.items.len(), 100);
    let second = p
        .list_page(Entity::Contacts, first.next.as_deref())
        .await
        .unwrap();
    assert_eq!(second.items.len(), 50);
    assert!(second.next.is_none());
    let one = &first.items[0];
    assert!(one.contact.phone.starts_with("+3460000"));
    assert_eq!(
        p.find_existing(&one.contact).await.unwrap(),
        Some(one.remote_id.clone())
    );
    p.delete(Entity::Contacts, &one.remote_id).await.unwrap();
    assert_eq!(p.find_existing(&one.contact).await.unwrap(), None);
}
