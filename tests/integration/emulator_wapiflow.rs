//! WapiFlow external API against a running emulator: seed 002's requests,
//! its envelope with HTTP 200 errors, credentials and the IP whitelist.

use reqwest::StatusCode;
use serde_json::{Value, json};
use waport::emulator::{
    DEFAULT_WAPIFLOW_CLIENT_ID, DEFAULT_WAPIFLOW_CLIENT_SECRET, EmulatorConfig, EmulatorHandle,
    Keys,
};
use waport::model::PlatformKind;

use crate::emulator_support;

/// This platform's API on a fresh emulator.
async fn start_with(cfg: EmulatorConfig) -> (EmulatorHandle, reqwest::Client, String) {
    emulator_support::start_with(cfg, "/wapiflow/external-api").await
}

async fn start() -> (EmulatorHandle, reqwest::Client, String) {
    start_with(EmulatorConfig::default()).await
}

fn creds(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.header("client-id", DEFAULT_WAPIFLOW_CLIENT_ID)
        .header("client-secret", DEFAULT_WAPIFLOW_CLIENT_SECRET)
}

async fn store(c: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> Value {
    let r = creds(c.post(format!("{base}/contact/store")))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "WapiFlow answers 200 even for errors"
    );
    r.json().await.unwrap()
}

/// A multipart body as PHP's curl sends `CURLOPT_POSTFIELDS => array(...)`.
fn multipart(fields: &[(&str, &str)]) -> (String, String) {
    let b = "------------------------waportboundary";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{b}--\r\n"));
    (format!("multipart/form-data; boundary={b}"), body)
}

#[tokio::test]
async fn seed_store_as_multipart_then_duplicate_mobile() {
    let (h, c, base) = start().await;
    // Seed 002's store example: PHP curl posts the array as multipart.
    let (ct, body) = multipart(&[
        ("firstname", "John"),
        ("lastname", "Doe"),
        ("mobile_code", "880"),
        ("mobile", "01988"),
    ]);
    let v: Value = creds(c.post(format!("{base}/contact/store")))
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "success");
    assert!(v["message"].is_array());
    let ct = &v["data"]["contact"];
    assert_eq!(ct["firstname"], "John");
    assert_eq!(ct["full_name"], "John Doe");
    assert_eq!(ct["mobile_code"], "880");
    assert_eq!(ct["mobile"], "01988");

    let v = store(
        &c,
        &base,
        &[
            ("firstname", "Jane"),
            ("lastname", "Doe"),
            ("mobile_code", "880"),
            ("mobile", "01988"),
        ],
    )
    .await;
    assert_eq!(
        v,
        json!({"status": "error", "remark": "validation_error", "message": ["The mobile has already been taken."]})
    );
    // Same mobile under another country code is another contact.
    let v = store(
        &c,
        &base,
        &[
            ("firstname", "Jane"),
            ("lastname", "Doe"),
            ("mobile_code", "1"),
            ("mobile", "01988"),
        ],
    )
    .await;
    assert_eq!(v["status"], "success");
    let s = h.stats();
    assert_eq!(s["wapiflow"]["created"], 2);
    assert_eq!(
        s["wapiflow"]["client_errors"], 1,
        "a 200 error envelope is a client error"
    );
}

#[tokio::test]
async fn store_validation_messages() {
    let (h, c, base) = start().await;
    let long = "x".repeat(41);
    let v = store(
        &c,
        &base,
        &[
            ("firstname", &long),
            ("mobile_code", "+880"),
            ("mobile", "01-988"),
        ],
    )
    .await;
    assert_eq!(v["status"], "error");
    assert_eq!(v["remark"], "validation_error");
    assert_eq!(
        v["message"],
        json!([
            "The firstname field must not be greater than 40 characters.",
            "The lastname field is required.",
            "The mobile code field must be a number.",
            "The mobile field must be a number.",
        ])
    );
    assert_eq!(h.contacts(PlatformKind::Wapiflow), json!([]));
}

#[tokio::test]
async fn list_paginates_and_searches() {
    let (_h, c, base) = start().await;
    for i in 0..45 {
        let m = format!("17{i:03}");
        let first = if i == 7 {
            "Zelda".to_string()
        } else {
            format!("F{i}")
        };
        store(
            &c,
            &base,
            &[
                ("firstname", &first),
                ("lastname", "L"),
                ("mobile_code", "1"),
                ("mobile", &m),
            ],
        )
        .await;
    }
    let v: Value = creds(c.get(format!("{base}/contact/list")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["remark"], "contact_list");
    let p = &v["data"]["contacts"];
    assert_eq!(p["current_page"], 1);
    assert_eq!(p["per_page"], 20);
    assert_eq!(p["total"], 45);
    assert_eq!(p["last_page"], 3);
    assert_eq!(p["from"], 1);
    assert_eq!(p["to"], 20);
    assert_eq!(p["data"][0]["mobile"], "17044", "newest first");
    assert!(
        p["next_page_url"]
            .as_str()
            .unwrap()
            .ends_with("/wapiflow/external-api/contact/list?page=2")
    );
    assert!(p["prev_page_url"].is_null());

    let v: Value = creds(c.get(format!("{base}/contact/list?page=3&paginate=20")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p = &v["data"]["contacts"];
    assert_eq!(p["data"].as_array().unwrap().len(), 5);
    assert!(p["next_page_url"].is_null());

    let v: Value = creds(c.get(format!("{base}/contact/list")))
        .query(&[("search", "zel")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["contacts"]["total"], 1);
    assert_eq!(v["data"]["contacts"]["data"][0]["firstname"], "Zelda");
    let v: Value = creds(c.get(format!("{base}/contact/list?search=17010")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["contacts"]["total"], 1);
}

#[tokio::test]
async fn update_is_partial_and_delete_removes() {
    let (h, c, base) = start().await;
    let v = store(
        &c,
        &base,
        &[
            ("firstname", "John"),
            ("lastname", "Doe"),
            ("mobile_code", "880"),
            ("mobile", "01988"),
        ],
    )
    .await;
    let id = v["data"]["contact"]["id"].as_u64().unwrap();
    store(
        &c,
        &base,
        &[
            ("firstname", "B"),
            ("lastname", "B"),
            ("mobile_code", "880"),
            ("mobile", "01989"),
        ],
    )
    .await;

    let v: Value = creds(c.post(format!("{base}/contact/update/{id}")))
        .form(&[("city", "Dhaka"), ("firstname", "Johnny")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["contact"]["firstname"], "Johnny");
    assert_eq!(v["data"]["contact"]["lastname"], "Doe");
    assert_eq!(v["data"]["contact"]["details"]["city"], "Dhaka");

    let v: Value = creds(c.post(format!("{base}/contact/update/{id}")))
        .form(&[("mobile", "01989")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["message"], json!(["The mobile has already been taken."]));

    let v: Value = creds(c.post(format!("{base}/contact/update/9999")))
        .form(&[("city", "X")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["remark"], "not_found");

    let r = creds(c.delete(format!("{base}/contact/delete/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "success");
    let v: Value = creds(c.delete(format!("{base}/contact/delete/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["remark"], "not_found");
    assert_eq!(
        h.contacts(PlatformKind::Wapiflow).as_array().unwrap().len(),
        1
    );
    assert_eq!(h.stats()["wapiflow"]["deleted"], 1);
}

#[tokio::test]
async fn plan_limit_answers_contact_limit() {
    let (_h, c, base) = start_with(EmulatorConfig {
        wapiflow_contact_limit: Some(2),
        ..Default::default()
    })
    .await;
    for m in ["1", "2"] {
        let v = store(
            &c,
            &base,
            &[
                ("firstname", "A"),
                ("lastname", "B"),
                ("mobile_code", "1"),
                ("mobile", m),
            ],
        )
        .await;
        assert_eq!(v["status"], "success");
    }
    let v = store(
        &c,
        &base,
        &[
            ("firstname", "A"),
            ("lastname", "B"),
            ("mobile_code", "1"),
            ("mobile", "3"),
        ],
    )
    .await;
    assert_eq!(v["status"], "error");
    assert_eq!(v["remark"], "contact_limit");
}

#[tokio::test]
async fn credentials_are_checked_with_the_documented_bodies() {
    let (_h, c, base) = start().await;
    let r = c
        .get(format!("{base}/contact/list"))
        .header("client-id", DEFAULT_WAPIFLOW_CLIENT_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"remark": "Unauthorized", "status": "error", "message": ["The client secret is required"]})
    );
    let r = c
        .get(format!("{base}/contact/list"))
        .header("client-id", DEFAULT_WAPIFLOW_CLIENT_ID)
        .header("client-secret", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = creds(c.get(format!("{base}/contact/nothing-here")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ip_outside_the_whitelist_is_refused() {
    let (_h, c, base) = start_with(EmulatorConfig {
        wapiflow_whitelist: vec!["10.0.0.0/8".into()],
        ..Default::default()
    })
    .await;
    let r = creds(c.get(format!("{base}/contact/list")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["remark"], "Unauthorized");
    assert_eq!(
        v["message"][0],
        "Access to this API endpoint is restricted to IP addresses that have been explicitly whitelisted."
    );
    assert_eq!(
        v["message"][1],
        "In order to access this API endpoint, please add your IP address (127.0.0.1) to the white list from the user dashboard."
    );
    let (_h, c, base) = start_with(EmulatorConfig {
        wapiflow_whitelist: vec!["10.0.0.0/8".into(), "127.0.0.1".into()],
        ..Default::default()
    })
    .await;
    let r = creds(c.get(format!("{base}/contact/list")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "success");
    let bad = waport::emulator::start(EmulatorConfig {
        wapiflow_whitelist: vec!["not-an-ip".into()],
        credentials: Keys::defaults(),
        ..Default::default()
    })
    .await;
    assert!(bad.is_err());
}
