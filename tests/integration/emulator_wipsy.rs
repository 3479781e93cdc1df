//! Wipsy contacts API against a running emulator: seed 000's requests, the
//! free-plan quota, and the state file.

use reqwest::StatusCode;
use serde_json::{Value, json};
use waport::emulator::{
    DEFAULT_WIPSY_FIELD_COMPANY, DEFAULT_WIPSY_KEY, DEFAULT_WIPSY_STAGE_NEW,
    DEFAULT_WIPSY_TAG_CLIENTE, EmulatorConfig, EmulatorHandle,
};
use waport::model::PlatformKind;

use crate::emulator_support;

/// This platform's API on a fresh emulator.
async fn start_with(cfg: EmulatorConfig) -> (EmulatorHandle, reqwest::Client, String) {
    emulator_support::start_with(cfg, "/wipsy/functions/v1").await
}

async fn start() -> (EmulatorHandle, reqwest::Client, String) {
    start_with(EmulatorConfig::default()).await
}

fn key(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.header("x-api-key", DEFAULT_WIPSY_KEY)
}

async fn create(c: &reqwest::Client, base: &str, body: Value) -> reqwest::Response {
    key(c.post(format!("{base}/api-create-contact")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn seed_create_get_update() {
    let (h, c, base) = start().await;
    // Seed 000's create example, verbatim but for the host.
    let r = c
        .post(format!("{base}/api-create-contact"))
        .header("Content-Type", "application/json")
        .header("x-api-key", "YOUR_API_KEY_HERE")
        .body(r#"{"name": "John", "last_name": "Doe", "phone": "+573188779043", "email": "john.doe@example.com"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["success"], true);
    assert_eq!(v["message"], "Contact created successfully");
    let d = &v["data"];
    assert_eq!(d["name"], "John");
    assert_eq!(d["phone"], "+573188779043");
    assert_eq!(d["whatsapp_id"], "+573188779043", "defaults to the phone");
    let id = d["id"].as_str().unwrap().to_string();

    // Seed 000's get example shape: one contact with contactId.
    let v: Value = key(c.get(format!("{base}/api-get-contacts?contactId={id}&limit=100")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["id"], id.as_str());
    let r = key(c.get(format!(
        "{base}/api-get-contacts?contactId=497f6eca-6276-4993-bfeb-53cbbbba6f08&limit=100"
    )))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = key(c.post(format!("{base}/api-update-contact")))
        .json(&json!({
            "contactId": id, "name": "Johnny", "email": "j@example.com",
            "pipeline_stage_id": DEFAULT_WIPSY_STAGE_NEW,
            "custom_fields": {DEFAULT_WIPSY_FIELD_COMPANY: "Acme"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["name"], "Johnny");
    assert_eq!(v["data"]["last_name"], "Doe", "unsent fields stay");
    assert_eq!(v["data"]["pipeline_stage"]["id"], DEFAULT_WIPSY_STAGE_NEW);
    assert_eq!(v["data"]["custom_fields"][0]["value"], "Acme");
    let s = h.stats();
    assert_eq!(s["wipsy"]["created"], 1);
    assert_eq!(s["wipsy"]["updated"], 1);

    let r = key(c.post(format!("{base}/api-update-contact")))
        .json(&json!({"contactId": "b5ec5d98-4bee-4da1-ad24-dde86346cb1d", "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["success"], false);
}

#[tokio::test]
async fn create_validates_name_tags_and_fields() {
    let (h, c, base) = start().await;
    let r = create(&c, &base, json!({"last_name": "Doe"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["success"], false);
    let r = create(&c, &base, json!({"name": "A", "tags": ["tag-uuid-1"]})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = create(
        &c,
        &base,
        json!({"name": "A", "custom_fields": {"field-uuid-1": "x"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = create(&c, &base, json!({"name": "A", "email": "nope"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = create(
        &c,
        &base,
        json!({"name": "A", "phone": "+57 318 877 9043", "tags": [DEFAULT_WIPSY_TAG_CLIENTE]}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["data"]["phone"], "+573188779043",
        "normalized by the server"
    );
    assert_eq!(v["data"]["tags"][0]["name"], "cliente");
    assert_eq!(h.contacts(PlatformKind::Wipsy).as_array().unwrap().len(), 1);
    assert_eq!(h.stats()["wipsy"]["client_errors"], 4);
}

#[tokio::test]
async fn list_limit_and_offset() {
    let (_h, c, base) = start().await;
    for i in 0..30 {
        create(&c, &base, json!({"name": format!("N{i:02}")})).await;
    }
    let v: Value = key(c.get(format!("{base}/api-get-contacts?limit=10")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "N29", "newest first");
    let v: Value = key(c.get(format!("{base}/api-get-contacts?limit=10&offset=25")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 5);
    let v: Value = key(c.get(format!("{base}/api-get-contacts")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 30, "default limit 100");
    for bad in ["0", "501", "x"] {
        let r = key(c.get(format!("{base}/api-get-contacts?limit={bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "limit={bad}");
    }
}

#[tokio::test]
async fn missing_or_wrong_key_is_401() {
    let (_h, c, base) = start().await;
    let r = c
        .get(format!("{base}/api-get-contacts"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["success"], false);
    let r = c
        .get(format!("{base}/api-get-contacts"))
        .header("x-api-key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn free_plan_refuses_the_101st_contact_of_the_month() {
    let (h, c, base) = start_with(EmulatorConfig {
        wipsy_free_plan: true,
        ..Default::default()
    })
    .await;
    for i in 0..100 {
        let r = create(&c, &base, json!({"name": format!("F{i}")})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "contact {i}");
    }
    let r = create(&c, &base, json!({"name": "one more"})).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.headers().get("retry-after").is_none(),
        "a quota, not a throttle"
    );
    assert_eq!(
        h.contacts(PlatformKind::Wipsy).as_array().unwrap().len(),
        100
    );
}

#[tokio::test]
async fn state_file_survives_a_restart_and_reset_saves_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let cfg = EmulatorConfig {
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let (h, c, base) = start_with(cfg.clone()).await;
    create(&c, &base, json!({"name": "Kept"})).await;
    h.shutdown().await.unwrap();
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(saved["wipsy"]["contacts"].is_object());

    let (h, c, base) = start_with(cfg).await;
    let v: Value = key(c.get(format!("{base}/api-get-contacts")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"][0]["name"], "Kept");
    // A new contact after a restart gets a fresh id even with the same seed.
    let r: Value = create(&c, &base, json!({"name": "Second"}))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(r["data"]["id"], v["data"][0]["id"]);

    let r = c
        .post(format!("{}/_emulator/reset", h.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["wipsy"]["contacts"], json!({}));
    assert!(
        !saved["wipsy"]["tags"].as_array().unwrap().is_empty(),
        "catalog kept"
    );
    let catalog: Value = c
        .get(format!("{}/_emulator/wipsy/catalog", h.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["tags"][0]["id"], DEFAULT_WIPSY_TAG_CLIENTE);
    h.shutdown().await.unwrap();
}
