//! WapiFlow's pure half: the form a contact is sent as, the envelope every
//! answer comes in, and what an answer means for a row — no network, so
//! unit-tested without a server. The client (`mod.rs`) sends and reads
//! through the common plumbing in `platform/http.rs`.

use crate::model::{Contact, Status};
use crate::platform::{Halt, ItemResult, RemoteContact, Transient, cut};
use serde_json::Value;

/// Longest first or last name (inferred from the script WapiFlow runs on).
pub const MAX_NAME: usize = 40;
/// Page size used for listings and searches.
pub const PAGE: usize = 100;
/// The duplicate-mobile message (inferred, platforms.md).
pub const TAKEN: &str = "The mobile has already been taken.";

/// Two-digit country calling codes (ITU-T E.164 assignments); `1` and `7`
/// are the one-digit ones, every other code has three digits.
const TWO_DIGIT: &[u32] = &[
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

/// Splits an E.164 number into calling code and national number.
///
/// A local stand-in for `normalize::phone::split_e164` (being written on
/// another branch with the same signature): calling codes are prefix-free,
/// so the ITU table above decides the split without phone metadata.
pub fn split_e164(e164: &str) -> Option<(u32, String)> {
    let d = e164.strip_prefix('+')?;
    if d.len() < 4 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len = match d.as_bytes()[0] {
        b'1' | b'7' => 1,
        _ => {
            let two: u32 = d[..2].parse().ok()?;
            if TWO_DIGIT.contains(&two) { 2 } else { 3 }
        }
    };
    let code: u32 = d[..len].parse().ok()?;
    Some((code, d[len..].to_string()))
}

/// Form fields, in the order they are sent.
pub type Form = Vec<(&'static str, String)>;

/// The form fields of one contact, and warnings for the report.
pub fn form(c: &Contact) -> Result<(Form, Vec<String>), String> {
    let first = c.first_name.trim();
    let last = c.last_name.trim();
    let mut missing = Vec::new();
    if first.is_empty() {
        missing.push("first_name");
    }
    if last.is_empty() {
        missing.push("last_name");
    }
    if !missing.is_empty() {
        return Err(format!("missing_field: {}", missing.join(", ")));
    }
    let (code, mobile) = split_e164(c.phone.trim())
        .ok_or_else(|| "missing_phone: WapiFlow needs a mobile".to_string())?;
    let mut warnings = Vec::new();
    let (first, a) = cut(first, MAX_NAME);
    let (last, b) = cut(last, MAX_NAME);
    if a {
        warnings.push(format!(
            "first_name_truncated: cut to {MAX_NAME} characters"
        ));
    }
    if b {
        warnings.push(format!("last_name_truncated: cut to {MAX_NAME} characters"));
    }
    let mut f = vec![
        ("firstname", first),
        ("lastname", last),
        ("mobile_code", code.to_string()),
        ("mobile", mobile),
    ];
    for (k, v) in [
        ("city", &c.city),
        ("state", &c.state),
        ("post_code", &c.postal_code),
        ("address", &c.address),
    ] {
        if !v.trim().is_empty() {
            f.push((k, v.trim().to_string()));
        }
    }
    Ok((f, warnings))
}

/// The envelope of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `status == "success"`.
    pub success: bool,
    /// `remark`.
    pub remark: String,
    /// `message`, joined.
    pub messages: Vec<String>,
    /// `data`.
    pub data: Value,
}

impl Envelope {
    /// Reads the envelope (`None` when the body is not one).
    pub fn parse(body: &str) -> Option<Envelope> {
        let v: Value = serde_json::from_str(body).ok()?;
        let status = v.get("status")?.as_str()?;
        let messages = match v.get("message") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|m| {
                    m.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| m.to_string())
                })
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        Some(Envelope {
            success: status == "success",
            remark: v
                .get("remark")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            messages,
            data: v.get("data").cloned().unwrap_or(Value::Null),
        })
    }

    /// The messages as one line.
    pub fn text(&self) -> String {
        self.messages.join(" ")
    }

    /// Whether this is the IP-whitelist refusal.
    pub fn is_ip_refusal(&self) -> bool {
        self.text().to_ascii_lowercase().contains("whitelist")
            || self.text().to_ascii_lowercase().contains("white list")
    }

    /// Whether this is the duplicate-mobile refusal.
    pub fn is_taken(&self) -> bool {
        self.messages.iter().any(|m| {
            m.contains("has already been taken") && m.to_ascii_lowercase().contains("mobile")
        })
    }
}

/// A stored contact back to canonical form.
pub fn remote_contact(v: &Value) -> Option<RemoteContact> {
    let s = |k: &str| match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let id = s("id");
    if id.is_empty() {
        return None;
    }
    // The address fields sit under `details` (platforms.md); older
    // answers may carry them at the top level.
    let detail = |k: &str| {
        v.get("details")
            .and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| s(k))
    };
    let mut c = Contact {
        first_name: s("firstname"),
        last_name: s("lastname"),
        city: detail("city"),
        state: detail("state"),
        postal_code: detail("post_code"),
        address: detail("address"),
        ..Contact::default()
    };
    let (code, mobile) = (s("mobile_code"), s("mobile"));
    if !mobile.is_empty() {
        c.phone = format!("+{code}{mobile}");
    }
    if let Some(t) = v.get("tags").and_then(Value::as_array) {
        c.tags = t
            .iter()
            .filter_map(|x| {
                x.get("name")
                    .and_then(Value::as_str)
                    .or_else(|| x.as_str())
                    .map(str::to_string)
            })
            .collect();
    }
    c.complete_names();
    Some(RemoteContact::from_listing(id, c, v))
}

/// What an answer means once the envelope is read.
pub(super) enum Answer {
    Ok(Envelope),
    /// An envelope with `status: error` (HTTP 200 or 4xx).
    Refused(Envelope),
    /// Stop the run.
    Halt(Halt),
    /// Transient or unexpected.
    Other(ItemResult),
}

/// The row's fields WapiFlow's API has no place for (docs/platforms.md
/// #wapiflow-upsert), for an updated row's reason; empty when none.
pub(super) fn not_updatable(c: &Contact) -> String {
    let mut names: Vec<&str> = [
        ("email", &c.email),
        ("company", &c.company),
        ("notes", &c.notes),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, _)| k)
    .collect();
    if !c.tags.is_empty() {
        names.push("tags");
    }
    if names.is_empty() {
        String::new()
    } else {
        format!(
            "not_updated: {} (WapiFlow's API has no such fields)",
            names.join(", ")
        )
    }
}

pub(super) fn answer_to_result(a: Answer) -> (ItemResult, Option<Halt>) {
    match a {
        Answer::Halt(h) => (ItemResult::NotSent, Some(h)),
        Answer::Other(r) => (r, None),
        Answer::Refused(env) => (
            ItemResult::done(
                Status::Failed,
                "",
                format!("{}: {}", env.remark, env.text()),
            ),
            None,
        ),
        Answer::Ok(_) => (
            ItemResult::Retry(Transient {
                error: "unexpected success".into(),
                retry_after: None,
                maybe_applied: true,
                rate_limited: false,
            }),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_splits_by_calling_code() {
        assert_eq!(
            split_e164("+5215512345678"),
            Some((52, "15512345678".into()))
        );
        assert_eq!(split_e164("+14155550100"), Some((1, "4155550100".into())));
        assert_eq!(
            split_e164("+8801711223344"),
            Some((880, "1711223344".into()))
        );
        assert_eq!(split_e164("+34600111222"), Some((34, "600111222".into())));
        assert_eq!(split_e164("5215512345678"), None);
    }

    #[test]
    fn form_fields_and_name_cut() {
        let c = Contact {
            first_name: "J".repeat(45),
            last_name: "Doe".into(),
            phone: "+8801988123456".into(),
            city: "Dhaka".into(),
            ..Contact::default()
        };
        let (f, w) = form(&c).unwrap();
        assert_eq!(f[0].1.chars().count(), 40);
        assert_eq!(
            &f[1..],
            &[
                ("lastname", "Doe".to_string()),
                ("mobile_code", "880".to_string()),
                ("mobile", "1988123456".to_string()),
                ("city", "Dhaka".to_string()),
            ]
        );
        assert_eq!(
            w,
            vec!["first_name_truncated: cut to 40 characters".to_string()]
        );
    }

    #[test]
    fn envelope_errors_with_200_are_read() {
        let e = Envelope::parse(
            r#"{"status":"error","remark":"validation_error","message":["The mobile has already been taken."]}"#,
        )
        .unwrap();
        assert!(!e.success && e.is_taken() && !e.is_ip_refusal());
        let ip = Envelope::parse(
            r#"{"remark":"Unauthorized","status":"error","message":["Access to this API endpoint is restricted to IP addresses that have been explicitly whitelisted.","In order to access this API endpoint, please add your IP address (::1) to the white list from the user dashboard."]}"#,
        )
        .unwrap();
        assert!(ip.is_ip_refusal());
    }
}
