//! Whaapy's pure half: the JSON a contact is created or updated with, and
//! what an answer (a validation error, a bulk item, a stored contact) means
//! — no network, so unit-tested without a server. The client (`mod.rs`)
//! sends and reads through the common plumbing in `platform/http.rs`.

use crate::model::{Contact, Status};
use crate::normalize::{country, phone};
use crate::platform::{ItemResult, RemoteContact, Transient};
use serde_json::{Map, Value, json};

/// The key under which the file's external id is kept in `external_ids`.
pub const EXTERNAL_ID_KEY: &str = "import";
/// Value of `source` on contacts waport creates (a documented example).
pub const SOURCE: &str = "import";

fn put(o: &mut Map<String, Value>, k: &str, v: &str) {
    let v = v.trim();
    if !v.is_empty() {
        o.insert(k.into(), json!(v));
    }
}

/// The JSON of a create (`update == false`) or of an update (no
/// `phone_number`, no `source`).
pub fn payload(c: &Contact, update: bool) -> Result<Value, String> {
    if c.phone.trim().is_empty() {
        return Err("missing_phone".into());
    }
    let mut o = Map::new();
    if !update {
        o.insert("phone_number".into(), json!(c.phone.trim()));
    }
    let name = if c.name.trim().is_empty() {
        format!("{} {}", c.first_name.trim(), c.last_name.trim())
    } else {
        c.name.clone()
    };
    put(&mut o, "name", &name);
    put(&mut o, "email", &c.email);
    if !c.tags.is_empty() {
        // `tags` on a PATCH replaces the list; `add_tags` adds to it
        // (docs/platforms.md#whaapy-upsert).
        let k = if update { "add_tags" } else { "tags" };
        o.insert(k.into(), json!(c.tags));
    }
    if !c.custom.is_empty() {
        o.insert("custom_fields".into(), json!(c.custom));
    }
    if !c.external_id.trim().is_empty() {
        o.insert(
            "external_ids".into(),
            json!({EXTERNAL_ID_KEY: c.external_id.trim()}),
        );
    }
    put(&mut o, "notes", &c.notes);
    put(&mut o, "company", &c.company);
    put(&mut o, "address", &c.address);
    put(&mut o, "city", &c.city);
    put(&mut o, "state", &c.state);
    put(&mut o, "postal_code", &c.postal_code);
    if !c.country.trim().is_empty() {
        // Whaapy takes only ISO alpha-2; a country waport cannot read is
        // left out rather than sent to be refused.
        if let Some(cc) = country::region_code(&c.country) {
            o.insert("country".into(), json!(cc));
        }
    } else if !update && let Some(cc) = phone::region_of(c.phone.trim()) {
        // Without it Whaapy stores "MX" whatever the number (seed 001). An
        // update leaves the stored country: the file does not map one.
        o.insert("country".into(), json!(cc));
    }
    if !update {
        o.insert("source".into(), json!(SOURCE));
    }
    Ok(Value::Object(o))
}

/// The pre-2019 WhatsApp form of a Mexican mobile (`+52` + 10 digits →
/// `+521` + 10 digits), which an account may hold: Whaapy's own example is
/// `+5215512345678` (seed 001; docs/platforms.md#phone-numbers).
pub fn mx_legacy(e164: &str) -> Option<String> {
    let rest = e164.trim().strip_prefix("+52")?;
    (rest.len() == 10 && rest.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+521{rest}"))
}

/// The reason for a `validation_error` answer: `platform_invalid:` and the
/// per-field messages.
pub fn validation_reason(v: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(d) = v.get("details").and_then(Value::as_object) {
        for (field, msgs) in d {
            let m: Vec<String> = match msgs {
                Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect(),
                Value::String(s) => vec![s.clone()],
                other => vec![other.to_string()],
            };
            parts.push(format!("{field}: {}", m.join(", ")));
        }
    }
    if parts.is_empty() {
        parts.push(
            v.get("message")
                .and_then(Value::as_str)
                .unwrap_or("validation_error")
                .to_string(),
        );
    }
    format!("platform_invalid: {}", parts.join("; "))
}

pub(super) fn contact_id(v: &Value) -> String {
    v.get("contact")
        .and_then(|c| c.get("id"))
        .or_else(|| v.get("id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A stored contact back to canonical form.
pub fn remote_contact(v: &Value) -> Option<RemoteContact> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let id = v.get("id")?.as_str()?.to_string();
    let mut c = Contact {
        name: s("name"),
        phone: s("phone_number"),
        email: s("email"),
        country: s("country"),
        city: s("city"),
        state: s("state"),
        postal_code: s("postal_code"),
        address: s("address"),
        company: s("company"),
        notes: s("notes"),
        ..Contact::default()
    };
    if let Some(t) = v.get("tags").and_then(Value::as_array) {
        c.tags = t
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect();
    }
    if let Some(e) = v.get("external_ids").and_then(|e| e.get(EXTERNAL_ID_KEY)) {
        c.external_id = e
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
    }
    if let Some(cf) = v.get("custom_fields").and_then(Value::as_object) {
        for (k, x) in cf {
            let val = x
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| x.to_string());
            c.custom.insert(k.clone(), val);
        }
    }
    c.complete_names();
    Some(RemoteContact::from_listing(id, c, v))
}

/// Adds `note` to a final result's reason.
pub(super) fn with_note(r: ItemResult, note: &str) -> ItemResult {
    match r {
        ItemResult::Done {
            status,
            remote_id,
            reason,
            in_doubt,
        } if !note.is_empty() => ItemResult::Done {
            status,
            remote_id,
            reason: if reason.is_empty() {
                note.to_string()
            } else {
                format!("{reason}; {note}")
            },
            in_doubt,
        },
        other => other,
    }
}

pub(super) fn bulk_item_error(r: &Value) -> ItemResult {
    let status = r.get("status").and_then(Value::as_u64).unwrap_or(0);
    let code = r.get("error").and_then(Value::as_str).unwrap_or_default();
    if code == "validation_error" {
        return ItemResult::done(Status::Invalid, "", validation_reason(r));
    }
    let msg = r
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no result for this item");
    if status == 429 || status >= 500 {
        return ItemResult::Retry(Transient {
            error: format!("http_{status}: {msg}"),
            retry_after: None,
            maybe_applied: status >= 500,
            rate_limited: status == 429,
        });
    }
    ItemResult::done(Status::Failed, "", format!("{code}: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_payload_maps_every_field() {
        let mut c = Contact {
            name: "Juan Pérez".into(),
            phone: "+5215512345678".into(),
            email: "juan@email.com".into(),
            tags: vec!["cliente".into(), "premium".into()],
            external_id: "abc123".into(),
            notes: "Referido".into(),
            company: "Acme Inc".into(),
            city: "Ciudad de México".into(),
            country: "Mexico".into(),
            ..Contact::default()
        };
        c.custom.insert("role".into(), "CEO".into());
        let v = payload(&c, false).unwrap();
        assert_eq!(
            v,
            json!({"phone_number": "+5215512345678", "name": "Juan Pérez", "email": "juan@email.com",
                   "tags": ["cliente", "premium"], "custom_fields": {"role": "CEO"},
                   "external_ids": {"import": "abc123"}, "notes": "Referido", "company": "Acme Inc",
                   "city": "Ciudad de México", "country": "MX", "source": "import"})
        );
        let u = payload(&c, true).unwrap();
        assert!(u.get("phone_number").is_none() && u.get("source").is_none());
        assert_eq!(u["name"], "Juan Pérez");
    }

    #[test]
    fn updates_add_tags_and_creates_carry_the_phone_country() {
        let c = Contact {
            name: "Ana".into(),
            phone: "+34612345678".into(),
            tags: vec!["nuevo".into()],
            ..Contact::default()
        };
        let create = payload(&c, false).unwrap();
        assert_eq!(create["country"], "ES");
        assert_eq!(create["tags"], json!(["nuevo"]));
        let update = payload(&c, true).unwrap();
        assert!(update.get("tags").is_none() && update.get("country").is_none());
        assert_eq!(update["add_tags"], json!(["nuevo"]));
    }

    #[test]
    fn mexican_mobiles_have_a_legacy_form() {
        assert_eq!(
            mx_legacy("+525512345678").as_deref(),
            Some("+5215512345678")
        );
        assert_eq!(mx_legacy("+34612345678"), None);
        assert_eq!(mx_legacy("+5215512345678"), None);
    }

    #[test]
    fn validation_details_become_the_reason() {
        let v = json!({"error": "validation_error", "message": "Datos inválidos",
            "details": {"email": ["Email inválido"], "phone_number": ["Formato inválido. Usar E.164: +5215512345678"]}});
        assert_eq!(
            validation_reason(&v),
            "platform_invalid: email: Email inválido; phone_number: Formato inválido. Usar E.164: +5215512345678"
        );
    }
}
