//! `sanitize_args` never lets a secret through.

use proptest::prelude::*;
use waport::journal::sanitize_args;

fn s(args: &[&str]) -> String {
    sanitize_args(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
}

#[test]
fn values_after_secret_flags_are_hidden() {
    let out = s(&[
        "waport",
        "import",
        "c.csv",
        "--to",
        "wazzup",
        "--api-key",
        "k-SECRET1",
        "--token",
        "t-SECRET2",
        "--secret",
        "s-SECRET3",
        "--password",
        "p-SECRET4",
    ]);
    for secret in ["SECRET1", "SECRET2", "SECRET3", "SECRET4"] {
        assert!(!out.contains(secret), "{out}");
    }
    assert_eq!(
        out,
        "waport import c.csv --to wazzup --api-key *** --token *** --secret *** --password ***"
    );
}

#[test]
fn equals_forms_and_variants_are_hidden() {
    let out = s(&[
        "--api-key=AAA1",
        "--apikey=BBB2",
        "--client-secret=CCC3",
        "--client-id=DDD4",
        "--access_token",
        "EEE5",
        "-p",
        "visible",
        "--auth-header",
        "FFF6",
        "--API_KEY",
        "GGG7",
    ]);
    for secret in ["AAA1", "BBB2", "CCC3", "DDD4", "EEE5", "FFF6", "GGG7"] {
        assert!(!out.contains(secret), "{out}");
    }
    assert!(out.contains("--api-key=***"), "{out}");
    assert!(out.contains("visible"), "{out}");
}

#[test]
fn env_style_assignments_are_hidden() {
    let out = s(&[
        "X_API_KEY=xyz-SECRET",
        "WAPORT_WAZZUP_KEY=abc",
        "--env",
        "TOKEN=zzz",
        "--map",
        "phone=Telefono",
    ]);
    assert!(
        !out.contains("SECRET") && !out.contains("abc") && !out.contains("zzz"),
        "{out}"
    );
    assert!(out.contains("X_API_KEY=***"), "{out}");
    // A lower-case mapping is kept: it is configuration, not a secret.
    assert!(out.contains("phone=Telefono"), "{out}");
}

#[test]
fn urls_headers_and_bare_tokens_are_hidden() {
    let out = s(&[
        "--base-url",
        "https://user:hunter2@api.example.test/v3?api_key=QQQ&page=2",
        "-H",
        "Authorization: Bearer abcdef123",
        "wha_9f8e7d6c5b4a",
        "3f9a7c2e1b8d4f6a0c5e9b7d2a4f6c8e",
    ]);
    for secret in ["hunter2", "QQQ", "abcdef123", "wha_9f8e", "3f9a7c2e"] {
        assert!(!out.contains(secret), "{secret} leaked: {out}");
    }
    assert!(out.contains("api.example.test"), "{out}");
    assert!(out.contains("page=2"), "{out}");
}

#[test]
fn a_switch_like_secret_flag_does_not_swallow_the_next_flag() {
    let out = s(&["--password-stdin", "--to", "wipsy", "c.csv"]);
    assert_eq!(out, "--password-stdin --to wipsy c.csv");
}

#[test]
fn author_is_not_a_secret_word_but_author_token_is() {
    assert_eq!(s(&["--author", "Ana"]), "--author Ana");
    assert_eq!(s(&["--author-token", "T0P"]), "--author-token ***");
    assert_eq!(s(&["--authorization", "xyz"]), "--authorization ***");
}

#[test]
fn a_secret_starting_with_a_dash_is_still_hidden() {
    let out = s(&["--api-key", "-Zx9_SECRET", "--to", "wazzup"]);
    assert_eq!(out, "--api-key *** --to wazzup");
}

#[test]
fn flags_naming_where_a_secret_is_keep_their_value() {
    let out = s(&[
        "--api-key-file",
        "/run/keys/wazzup",
        "--token-env",
        "WZ_TOKEN",
    ]);
    assert_eq!(out, "--api-key-file /run/keys/wazzup --token-env WZ_TOKEN");
}

#[test]
fn ordinary_arguments_survive_and_odd_ones_are_quoted() {
    let out = s(&[
        "waport",
        "import",
        "My Contacts.csv",
        "--dedupe-key",
        "phone",
        "--country",
        "MX",
        "--mode",
        "upsert",
    ]);
    assert_eq!(
        out,
        "waport import 'My Contacts.csv' --dedupe-key phone --country MX --mode upsert"
    );
}

proptest! {
    #[test]
    fn no_value_after_a_secret_flag_ever_leaks(
        flag in prop::sample::select(vec![
            "--api-key", "--token", "--secret", "--password", "--client-secret",
            "--wazzup-api-key", "--key", "--auth-token", "--passwd",
        ]),
        secret in "-?[A-Za-z0-9_]{6,40}",
        eq in any::<bool>(),
        before in prop::collection::vec("[a-z]{1,5}", 0..3),
    ) {
        let mut args: Vec<String> = before.clone();
        if eq {
            args.push(format!("{flag}={secret}"));
        } else {
            args.push(flag.to_string());
            args.push(secret.clone());
        }
        args.push("--to".into());
        args.push("wazzup".into());
        let out = sanitize_args(&args);
        let rest = out.replace(flag, "");
        // The secret is gone, unless it also occurs in the visible words.
        let visible = before.iter().any(|b| b.contains(&secret)) || "wazzup --to".contains(&secret);
        prop_assert!(visible || !rest.contains(&secret), "{} leaked in {}", secret, out);
    }

    #[test]
    fn no_env_style_value_ever_leaks(
        name in "[A-Z][A-Z0-9_]{0,12}",
        value in "[a-z0-9]{4,30}",
    ) {
        let out = sanitize_args(&[format!("{name}={value}")]);
        prop_assert_eq!(out, format!("{name}=***"));
    }
}
