//! Removing secrets from a command line before it is stored.
//!
//! The journal keeps the command that started a job so `waport jobs` can show
//! it, but a key typed on the command line must never reach the disk. The
//! rules err on the side of hiding too much: a hidden mapping is a nuisance,
//! a stored key is a leak.

/// What a hidden value is replaced with.
pub const REDACTED: &str = "***";

/// Name segments that mark a flag or variable as holding a secret.
const SECRET_SEGMENTS: &[&str] = &[
    "key",
    "apikey",
    "secret",
    "token",
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "bearer",
    "cookie",
    "session",
    "private",
    "signature",
    "jwt",
    "otp",
];

/// Substrings that mark a name as secret even when glued to other words
/// (`--accesstoken`, `MYAPIKEY`).
const SECRET_SUBSTRINGS: &[&str] = &[
    "apikey",
    "secret",
    "token",
    "passw",
    "credential",
    "auth",
    "bearer",
];

/// Names containing `key` that are known not to be secrets: waport's own
/// dedupe options. Kept short on purpose.
const NOT_SECRET: &[&str] = &[
    "dedupe-key",
    "dedupe_key",
    "match-key",
    "match_key",
    "key-column",
    "key-field",
];

/// Names that are half of a credential pair (WapiFlow's `client-id` goes with
/// `client-secret`): hidden too.
const PAIRED_IDS: &[&str] = &["client-id", "client_id", "clientid"];

/// Values that look like bearer tokens by their prefix.
const TOKEN_PREFIXES: &[&str] = &["wha_", "sk-", "sk_", "ghp_", "xox", "eyJ"];

/// Joins `args` into one shell-like line with the values of secret-looking
/// flags, `NAME=VALUE` pairs and token-looking words replaced by `***`.
///
/// Hidden: the value after `--api-key`, `--token`, `--secret`, `--password`
/// and any flag whose name contains such a word (separate or `--flag=value`);
/// the value of `NAME=VALUE` when `NAME` is an upper-case environment-style
/// name or contains a secret word; passwords in URLs and secret query
/// parameters; words starting with a known token prefix or long runs of
/// letters and digits with no path or dot in them. Arguments with spaces or
/// shell metacharacters are single-quoted so the line reads back unambiguously.
pub fn sanitize_args(args: &[String]) -> String {
    let mut out: Vec<String> = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for arg in args {
        if hide_next {
            // Hidden even when it starts with `-`: base64url keys can.
            hide_next = false;
            out.push(REDACTED.to_string());
            continue;
        }
        if let Some(flag) = arg.strip_prefix('-') {
            let flag = flag.trim_start_matches('-');
            match flag.split_once('=') {
                Some((name, value)) => {
                    let value = if is_secret_name(name) {
                        REDACTED.to_string()
                    } else {
                        clean_value(value)
                    };
                    out.push(quote(&format!(
                        "{}={value}",
                        &arg[..arg.len() - flag.len() + name.len()]
                    )));
                }
                None => {
                    hide_next = is_secret_name(flag) && !names_no_secret_value(flag);
                    out.push(quote(arg));
                }
            }
            continue;
        }
        out.push(quote(&clean_value(arg)));
    }
    out.join(" ")
}

/// Cleans one value that is not itself behind a secret flag.
fn clean_value(value: &str) -> String {
    if let Some((name, _)) = value.split_once('=')
        && !name.is_empty()
        && !name.contains(['/', ' ', ':', '?', '&'])
        && (is_env_name(name) || is_secret_name(name))
    {
        return format!("{name}={REDACTED}");
    }
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("bearer ") || lower.starts_with("basic ") {
        return format!(
            "{} {REDACTED}",
            &value[..value.find(' ').unwrap_or(value.len())]
        );
    }
    if let Some((name, _)) = value.split_once(':')
        && is_secret_name(name.trim())
        && !value.contains("://")
    {
        // An HTTP header given as a value: `Authorization: Bearer ...`.
        return format!("{name}: {REDACTED}");
    }
    if value.contains("://") {
        return clean_url(value);
    }
    if looks_like_token(value) {
        return REDACTED.to_string();
    }
    value.to_string()
}

/// Hides `user:password@` and secret query parameters in a URL.
fn clean_url(url: &str) -> String {
    let mut s = url.to_string();
    if let Some(scheme_end) = s.find("://") {
        let auth_start = scheme_end + 3;
        let host_end = s[auth_start..]
            .find(['/', '?', '#'])
            .map_or(s.len(), |i| auth_start + i);
        if let Some(at) = s[auth_start..host_end].rfind('@') {
            let at = auth_start + at;
            let userinfo = &s[auth_start..at];
            let user = userinfo.split(':').next().unwrap_or("");
            s = format!("{}{user}:{REDACTED}{}", &s[..auth_start], &s[at..]);
        }
    }
    if let Some(q) = s.find('?') {
        let (base, query) = s.split_at(q + 1);
        let cleaned: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret_name(name) => format!("{name}={REDACTED}"),
                _ => pair.to_string(),
            })
            .collect();
        s = format!("{base}{}", cleaned.join("&"));
    }
    s
}

/// Whether a flag, variable or parameter name says it holds a secret.
fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if NOT_SECRET.contains(&lower.as_str()) {
        return false;
    }
    if PAIRED_IDS.contains(&lower.as_str()) {
        return true;
    }
    // `author` contains `auth` but names no secret; `authorization` does.
    let scrubbed = lower
        .replace("authoriz", "\u{1}")
        .replace("author", "")
        .replace('\u{1}', "authoriz");
    if SECRET_SUBSTRINGS.iter().any(|s| scrubbed.contains(s)) {
        return true;
    }
    lower
        .split(['-', '_', '.'])
        .any(|seg| SECRET_SEGMENTS.contains(&seg))
}

/// A secret flag whose value is not the secret itself (`--api-key-file
/// PATH`, `--token-env NAME`) or that takes no value (`--password-stdin`).
fn names_no_secret_value(flag: &str) -> bool {
    let last = flag.rsplit(['-', '_']).next().unwrap_or("");
    ["stdin", "file", "env", "path", "prompt", "cmd", "command"]
        .contains(&last.to_ascii_lowercase().as_str())
}

/// `X_API_KEY`, `TOKEN`: an environment-variable-style name (upper case,
/// digits, underscores, starting with a letter or `_`).
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A word that is probably a key pasted on its own.
fn looks_like_token(value: &str) -> bool {
    if TOKEN_PREFIXES.iter().any(|p| value.starts_with(p)) && value.len() >= 12 {
        return true;
    }
    value.len() >= 24
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '=' | '~'))
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
}

/// Single-quotes an argument that a shell would otherwise split or expand.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./=:,@+%*^".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
