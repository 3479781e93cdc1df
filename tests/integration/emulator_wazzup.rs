//! Wazzup API v3 against a running emulator: seed 003's requests and errors,
//! and the contacts API of platforms.md.

use reqwest::StatusCode;
use serde_json::{Value, json};
use waport::emulator::{
    DEFAULT_WAZZUP_KEY, DEFAULT_WAZZUP_USER_ID, EmulatorConfig, EmulatorHandle,
};
use waport::model::PlatformKind;

use crate::emulator_support;

/// This platform's API on a fresh emulator.
async fn start_with(cfg: EmulatorConfig) -> (EmulatorHandle, reqwest::Client, String) {
    emulator_support::start_with(cfg, "/wazzup/v3").await
}

async fn start() -> (EmulatorHandle, reqwest::Client, String) {
    start_with(EmulatorConfig::default()).await
}

fn auth(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.bearer_auth(DEFAULT_WAZZUP_KEY)
}

fn contact(id: &str, name: &str, phone: &str) -> Value {
    json!({
        "id": id,
        "responsibleUserId": DEFAULT_WAZZUP_USER_ID,
        "name": name,
        "contactData": [{"chatType": "whatsapp", "chatId": phone}],
    })
}

#[tokio::test]
async fn seed_users_requests_work() {
    let (h, c, base) = start().await;
    // Seed 003's POST /users example, verbatim but for the host.
    let r = c
        .post(format!("{base}/users"))
        .header("Authorization", "Bearer c8cf90444023482f909520d454368d27")
        .header("Content-Type", "application/json")
        .body(
            r#"[
{"id": "2e0df379-0e3c-470f-9b36-06b9e34c3bdb", "name": "Alex Salesman", "phone": "79263334567"},
{"id": "111-2e0df379-0e3c-470f-9b36", "name": "Kate Supportics", "phone": "79261234567"}
]"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Seed 003's GET /users example (another key of the seed).
    let list: Value = c
        .get(format!("{base}/users"))
        .header("Authorization", "Bearer c8cf90444442348we909520d454368d27")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Alex Salesman", "Emulator Manager", "Kate Supportics"]
    );
    let u: Value = auth(c.get(format!("{base}/users/2e0df379-0e3c-470f-9b36-06b9e34c3bdb")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(u["phone"], "79263334567");
    // Seed 003's DELETE example.
    let r = auth(c.delete(format!("{base}/users/111-2e0df379-0e3c-470f-9b36")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = auth(c.get(format!("{base}/users/111-2e0df379-0e3c-470f-9b36")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Bulk delete answers the ids that did not exist.
    let r: Value = auth(c.patch(format!("{base}/users/bulk_delete")))
        .json(&json!(["2e0df379-0e3c-470f-9b36-06b9e34c3bdb", "nobody"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!(["nobody"]));
    let stats = h.stats();
    assert_eq!(stats["wazzup"]["created"], 2);
    assert_eq!(stats["wazzup"]["deleted"], 2);
}

#[tokio::test]
async fn users_errors_are_the_documented_ones() {
    let (h, c, base) = start().await;
    let post = |body: Value| auth(c.post(format!("{base}/users"))).json(&body).send();

    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"id": format!("u{i}"), "name": "N"}))
        .collect();
    let r = post(json!(too_many)).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "TOO_MACH_ENTITIES"
    );

    let r = post(json!([])).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "INVALID_USERS_DATA"
    );

    let long = "x".repeat(201);
    let r = post(json!([{"id": "ok", "name": "A"}, {"id": "b"}, {"id": long, "name": "C"}]))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "INVALID_USERS_DATA");
    assert_eq!(
        v["data"],
        json!([{"index": 1, "fields": ["name"]}, {"index": 2, "fields": ["id"]}])
    );
    // The batch was rejected whole.
    assert_eq!(h.wazzup_users().as_array().unwrap().len(), 1);

    // A malformed phone is dropped without an error.
    let r = post(json!([{"id": "p1", "name": "P", "phone": "not a phone"}]))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let u: Value = auth(c.get(format!("{base}/users/p1")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(u.get("phone").is_none(), "{u}");

    post(json!([{"id": "a", "name": "A", "phone": "79261234567"}]))
        .await
        .unwrap();
    let r = post(json!([{"id": "b", "name": "B", "phone": "79261234567"}]))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "DUPLICATE_PHONE_NUMBER");
    assert!(v["description"].as_str().unwrap().contains("79261234567"));

    // 3 users exist; fill up to 1,000, then one more is refused.
    for b in 0..10 {
        let n = if b == 9 { 97 } else { 100 };
        let batch: Vec<Value> = (0..n)
            .map(|i| json!({"id": format!("fill-{b}-{i}"), "name": "F"}))
            .collect();
        let r = post(json!(batch)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "batch {b}");
    }
    assert_eq!(h.wazzup_users().as_array().unwrap().len(), 1000);
    let r = post(json!([{"id": "one-too-many", "name": "X"}]))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "USER_LIMIT_EXCEEDED"
    );
    // Updating an existing user is still allowed at the limit.
    let r = post(json!([{"id": "a", "name": "A renamed"}]))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn contacts_upsert_list_get_delete() {
    let (h, c, base) = start().await;
    for b in 0..3 {
        let batch: Vec<Value> = (0..100)
            .filter(|i| b * 100 + i < 250)
            .map(|i| {
                let n = b * 100 + i;
                contact(
                    &format!("c{n:04}"),
                    &format!("Name {n}"),
                    &format!("7901111{n:04}"),
                )
            })
            .collect();
        let r = auth(c.post(format!("{base}/contacts")))
            .json(&batch)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let mut seen = Vec::new();
    for offset in [0, 100, 200, 300] {
        let v: Value = auth(c.get(format!("{base}/contacts?offset={offset}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["count"], 250);
        for x in v["data"].as_array().unwrap() {
            seen.push(x["id"].as_str().unwrap().to_string());
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen.len(), 250);
    assert_eq!(seen, sorted, "pages are sorted by id");

    // Upsert: same id updates.
    let r = auth(c.post(format!("{base}/contacts")))
        .json(&json!([contact("c0001", "Renamed", "79011110001")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = auth(c.get(format!("{base}/contacts/c0001")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["name"], "Renamed");
    assert_eq!(v["contactData"][0]["chatId"], "79011110001");
    let s = h.stats();
    assert_eq!(s["wazzup"]["created"], 250);
    assert_eq!(s["wazzup"]["updated"], 1);

    let r = auth(c.delete(format!("{base}/contacts/c0001")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = auth(c.get(format!("{base}/contacts/c0001")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = auth(c.patch(format!("{base}/contacts/bulk_delete")))
        .json(&json!(["c0002", "c0001", "c0003"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!(["c0001"]));
    assert_eq!(
        h.contacts(PlatformKind::Wazzup).as_array().unwrap().len(),
        247
    );
}

#[tokio::test]
async fn contacts_errors() {
    let (h, c, base) = start().await;
    // Two contacts with one id: 500, nothing stored.
    let r = auth(c.post(format!("{base}/contacts")))
        .json(&json!([
            contact("d", "A", "79011112233"),
            contact("d", "B", "79011112234")
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(h.contacts(PlatformKind::Wazzup), json!([]));

    // Bad entities are named by index; the valid one is not stored either.
    let mut unknown_user = contact("u", "U", "79011112235");
    unknown_user["responsibleUserId"] = json!("no-such-user");
    let mut plus = contact("p", "P", "79011112236");
    plus["contactData"][0]["chatId"] = json!("+79011112236");
    let r = auth(c.post(format!("{base}/contacts")))
        .json(&json!([
            contact("ok", "OK", "79011112237"),
            contact("long", &"n".repeat(201), "79011112238"),
            unknown_user,
            plus,
            {"id": "x".repeat(101), "responsibleUserId": DEFAULT_WAZZUP_USER_ID, "name": "X", "contactData": []},
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "INVALID_CONTACTS_DATA");
    assert_eq!(
        v["data"],
        json!([
            {"index": 1, "fields": ["name"]},
            {"index": 2, "fields": ["responsibleUserId"]},
            {"index": 3, "fields": ["contactData[0].chatId"]},
            {"index": 4, "fields": ["id", "contactData"]},
        ])
    );
    assert_eq!(h.contacts(PlatformKind::Wazzup), json!([]));

    let batch: Vec<Value> = (0..101)
        .map(|i| contact(&format!("t{i}"), "T", "79011112233"))
        .collect();
    let r = auth(c.post(format!("{base}/contacts")))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "TOO_MACH_ENTITIES"
    );
    let ids: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    let r = auth(c.patch(format!("{base}/contacts/bulk_delete")))
        .json(&ids)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.stats()["wazzup"]["client_errors"], 3);
}

#[tokio::test]
async fn missing_or_wrong_key_is_401() {
    let (_h, c, base) = start().await;
    let r = c.get(format!("{base}/users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "UNAUTHORIZED");
    let r = c
        .get(format!("{base}/users"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn default_limit_is_500_per_5_seconds_without_retry_after() {
    let (h, c, base) = start().await;
    for i in 0..500 {
        let r = auth(c.get(format!("{base}/users"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "request {i}");
    }
    let r = auth(c.get(format!("{base}/users"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "TOO_MANY_REQUESTS"
    );
    assert_eq!(h.stats()["wazzup"]["rate_limited"], 1);
}

#[tokio::test]
async fn rate_limit_flag_replaces_the_default_with_retry_after() {
    let (_h, c, base) = start_with(EmulatorConfig {
        rate_limit: Some(3),
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        let r = auth(c.get(format!("{base}/users"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = auth(c.get(format!("{base}/users"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
}
