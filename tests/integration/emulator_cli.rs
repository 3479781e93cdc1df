//! The real binary: `waport emulate --listen 127.0.0.1:0` prints its address
//! first and serves a seed document's request.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Kills the child even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_address_and_serves_seed_request() {
    let mut child = Child(
        Command::new(assert_cmd::cargo::cargo_bin!("waport"))
            .args(["emulate", "--listen", "127.0.0.1:0"])
            // The seed's default keys, whatever the caller's environment says.
            .env_remove("WHAAPY_API_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    // Seed 001's curl example, only the host changed.
    let r = reqwest::Client::new()
        .post(format!("{base}/whaapy/contacts/v1"))
        .header("Authorization", "Bearer wha_TU_API_KEY")
        .header("Content-Type", "application/json")
        .body(r#"{"phone_number": "+5215512345678", "name": "Juan Pérez"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["contact"]["phone_number"], "+5215512345678");
}
