//! Whaapy contacts API against a running emulator: seed 001's requests and
//! errors, and the endpoints of platforms.md.

use reqwest::StatusCode;
use serde_json::{Value, json};
use waport::emulator::{DEFAULT_WHAAPY_KEY, EmulatorConfig, EmulatorHandle};
use waport::model::PlatformKind;

use crate::emulator_support;

/// This platform's API on a fresh emulator.
async fn start_with(cfg: EmulatorConfig) -> (EmulatorHandle, reqwest::Client, String) {
    emulator_support::start_with(cfg, "/whaapy").await
}

/// An emulator without Whaapy's published 100 requests per minute: these
/// tests are about the API, and some make more requests than that.
async fn start() -> (EmulatorHandle, reqwest::Client, String) {
    start_with(EmulatorConfig {
        whaapy_default_limit: false,
        ..EmulatorConfig::default()
    })
    .await
}

fn auth(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.bearer_auth(DEFAULT_WHAAPY_KEY)
}

async fn create(c: &reqwest::Client, base: &str, body: Value) -> reqwest::Response {
    auth(c.post(format!("{base}/contacts/v1")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn seed_create_then_duplicate() {
    let (h, c, base) = start().await;
    // Seed 001's curl example, verbatim but for the host.
    let r = c
        .post(format!("{base}/contacts/v1"))
        .header("Authorization", "Bearer wha_TU_API_KEY")
        .header("Content-Type", "application/json")
        .body(r#"{"phone_number": "+5215512345678", "name": "Juan Pérez"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let ct = &v["contact"];
    assert_eq!(ct["phone_number"], "+5215512345678");
    assert_eq!(ct["name"], "Juan Pérez");
    assert_eq!(ct["source"], "api");
    assert_eq!(ct["country"], "MX");
    for k in [
        "id",
        "email",
        "avatar_url",
        "tags",
        "custom_fields",
        "external_ids",
        "notes",
        "funnel_stage",
        "company",
        "address",
        "city",
        "state",
        "postal_code",
        "last_contact_at",
        "created_at",
        "updated_at",
    ] {
        assert!(ct.get(k).is_some(), "missing {k}");
    }
    let id = ct["id"].as_str().unwrap().to_string();

    let r = create(
        &c,
        &base,
        json!({"phone_number": "+5215512345678", "name": "Otro"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "duplicate_contact");
    assert_eq!(
        v["message"],
        "Ya existe un contacto con este número de teléfono"
    );
    assert_eq!(v["existing_contact_id"], id.as_str());
    assert_eq!(
        h.contacts(PlatformKind::Whaapy).as_array().unwrap().len(),
        1
    );

    // The seed's "Contacto Completo" body.
    let r = create(
        &c,
        &base,
        json!({
            "phone_number": "+5215512345679", "name": "Juan Pérez", "email": "juan@email.com",
            "tags": ["cliente", "premium"],
            "custom_fields": {"company": "Acme Inc", "role": "CEO", "contract_value": 50000},
            "external_ids": {"hubspot": "abc123"}, "notes": "Contacto referido por María García",
            "source": "api", "company": "Acme Inc", "city": "Ciudad de México", "country": "MX"
        }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["contact"]["custom_fields"]["contract_value"], 50000);
    assert_eq!(v["contact"]["tags"], json!(["cliente", "premium"]));
}

#[tokio::test]
async fn validation_errors_name_each_field() {
    let (h, c, base) = start().await;
    let r = create(
        &c,
        &base,
        json!({"phone_number": "5512345678", "email": "juan@"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "validation_error");
    assert_eq!(v["message"], "Datos inválidos");
    assert_eq!(
        v["details"]["phone_number"],
        json!(["Formato inválido. Usar E.164: +5215512345678"])
    );
    assert_eq!(v["details"]["email"], json!(["Email inválido"]));

    let r = create(&c, &base, json!({"name": "No phone", "country": "MEX"})).await;
    let v: Value = r.json().await.unwrap();
    assert!(v["details"]["phone_number"].is_array());
    assert!(v["details"]["country"].is_array());
    assert_eq!(h.contacts(PlatformKind::Whaapy), json!([]));
    assert_eq!(h.stats()["whaapy"]["client_errors"], 2);
}

#[tokio::test]
async fn patch_get_delete_and_check_phone() {
    let (h, c, base) = start().await;
    let a: Value = create(
        &c,
        &base,
        json!({"phone_number": "+5215500000001", "tags": ["a"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = a["contact"]["id"].as_str().unwrap().to_string();
    create(&c, &base, json!({"phone_number": "+5215500000002"})).await;

    let r = auth(c.patch(format!("{base}/contacts/v1/{id}")))
        .json(&json!({"name": "Ana", "add_tags": ["b"], "email": "ana@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["contact"]["name"], "Ana");
    assert_eq!(v["contact"]["tags"], json!(["a", "b"]));
    assert_eq!(v["contact"]["phone_number"], "+5215500000001");

    let r = auth(c.patch(format!("{base}/contacts/v1/{id}")))
        .json(&json!({"phone_number": "+5215500000002"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let v: Value = auth(c.get(format!("{base}/contacts/v1/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["contact"]["email"], "ana@example.com");

    let v: Value = auth(c.get(format!("{base}/contacts/check-phone")))
        .query(&[("phone", "+5215500000001")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["exists"], true);
    assert_eq!(v["contact"]["id"], id.as_str());
    let v: Value = auth(c.get(format!(
        "{base}/contacts/check-phone?phone=%2B5215599999999"
    )))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(v, json!({"exists": false, "contact": null}));

    let r = auth(c.delete(format!("{base}/contacts/v1/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = auth(c.get(format!("{base}/contacts/v1/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "not_found");
    let s = h.stats();
    assert_eq!(s["whaapy"]["created"], 2);
    assert_eq!(s["whaapy"]["updated"], 1);
    assert_eq!(s["whaapy"]["deleted"], 1);
}

#[tokio::test]
async fn cursor_pagination_covers_everything_once() {
    let (_h, c, base) = start().await;
    for i in 0..120 {
        let r = create(&c, &base, json!({"phone_number": format!("+52155{i:08}")})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let mut phones = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = vec![("limit", "50".to_string())];
        if let Some(cur) = &cursor {
            q.push(("cursor", cur.clone()));
        }
        let v: Value = auth(c.get(format!("{base}/contacts/v1")))
            .query(&q)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        for x in v["data"].as_array().unwrap() {
            phones.push(x["phone_number"].as_str().unwrap().to_string());
        }
        if v["pagination"]["has_more"] == false {
            assert!(v["pagination"]["next_cursor"].is_null());
            break;
        }
        cursor = Some(v["pagination"]["next_cursor"].as_str().unwrap().to_string());
    }
    assert_eq!(pages, 3);
    assert_eq!(phones.len(), 120);
    assert_eq!(phones[0], "+5215500000119", "newest first");
    let mut dedup = phones.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 120);
    let r = auth(c.get(format!("{base}/contacts/v1?limit=101")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bulk_create_reports_each_item() {
    let (h, c, base) = start().await;
    create(&c, &base, json!({"phone_number": "+5215511111111"})).await;
    let v: Value = auth(c.post(format!("{base}/contacts/v1/bulk")))
        .json(&json!({"operation": "create", "contacts": [
            {"phone_number": "+5215522222222", "name": "Nuevo"},
            {"phone_number": "+5215511111111"},
            {"phone_number": "bad"},
        ]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = v["results"].as_array().unwrap();
    assert_eq!(res[0]["success"], true);
    assert!(res[0]["id"].is_string());
    assert_eq!(res[1]["error"], "duplicate_contact");
    assert!(res[1]["existing_contact_id"].is_string());
    assert_eq!(res[2]["error"], "validation_error");
    assert_eq!(
        v["summary"],
        json!({"total": 3, "succeeded": 1, "failed": 2})
    );
    assert_eq!(
        h.contacts(PlatformKind::Whaapy).as_array().unwrap().len(),
        2
    );

    let many: Vec<Value> = (0..101)
        .map(|i| json!({"phone_number": format!("+52133{i:08}")}))
        .collect();
    let r = auth(c.post(format!("{base}/contacts/v1/bulk")))
        .json(&json!({"operation": "create", "contacts": many}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        h.contacts(PlatformKind::Whaapy).as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn keys_must_be_wha_bearer_tokens() {
    let (_h, c, base) = start().await;
    let r = c.get(format!("{base}/contacts/v1")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(format!("{base}/contacts/v1"))
        .bearer_auth("TU_API_KEY")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unauthorized");
}

#[tokio::test]
async fn published_100_per_minute_by_default_and_retry_after_with_the_flag() {
    let (_h, c, base) = start_with(EmulatorConfig::default()).await;
    for _ in 0..100 {
        let r = auth(c.get(format!("{base}/contacts/v1")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // The 101st within the minute: 429, told to wait for the window's end.
    let r = auth(c.get(format!("{base}/contacts/v1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((55..=60).contains(&wait), "{wait}");
    let (h, c, base) = start_with(EmulatorConfig {
        rate_limit: Some(5),
        ..Default::default()
    })
    .await;
    for _ in 0..5 {
        auth(c.get(format!("{base}/contacts/v1")))
            .send()
            .await
            .unwrap();
    }
    let r = auth(c.get(format!("{base}/contacts/v1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "rate_limit_exceeded"
    );
    assert_eq!(h.stats()["whaapy"]["rate_limited"], 1);
}
