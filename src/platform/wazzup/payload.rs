//! Wazzup's pure half: the contact and user entities a row is sent as, the
//! merge of a row over a stored contact, and what an answer's error body
//! says about each item — no network, so unit-tested without a server. The
//! client (`mod.rs`) sends and reads through the common plumbing in
//! `platform/http.rs`.

use crate::model::{Contact, Field, Status};
use crate::platform::{ItemResult, cut, digits};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Longest contact id: "No more than 100 characters" (public docs,
/// docs/platforms.md#wazzup-request-and-answer-shapes).
pub const MAX_ID: usize = 100;
/// Longest `uri` (public docs: "Not more than 200 characters").
pub const MAX_URI: usize = 200;
/// Custom fields read as the contact's `uri` (the "open in CRM" link).
pub const URI_FIELDS: &[&str] = &["uri"];
/// Fields a Wazzup contact has no place for (docs/platforms.md
/// #wazzup-upsert): named in an updated row's reason.
const NOT_STORED: &[Field] = &[
    Field::Email,
    Field::Company,
    Field::Notes,
    Field::Address,
    Field::City,
    Field::State,
    Field::PostalCode,
    Field::Tags,
];
/// Longest name (public docs for contacts, seed 003 for users).
pub const MAX_NAME: usize = 200;
/// Longest user id (seed 003).
pub const MAX_USER_ID: usize = 200;
/// Custom fields read as a per-row responsible user (`custom:responsible_user_id`).
pub const RESPONSIBLE_FIELDS: &[&str] = &["responsible_user_id", "responsible_user"];

/// The contact id waport gives a contact: external id, else `waport-DIGITS`.
pub fn contact_id(c: &Contact) -> Result<String, String> {
    let ext = c.external_id.trim();
    if !ext.is_empty() {
        if ext.chars().count() > MAX_ID {
            return Err(format!(
                "external_id_too_long: Wazzup takes ids of up to {MAX_ID} characters"
            ));
        }
        return Ok(ext.to_string());
    }
    let d = digits(&c.phone);
    if d.is_empty() {
        return Err("missing_phone".into());
    }
    Ok(format!("waport-{d}"))
}

pub(super) fn user_id(c: &Contact) -> Result<String, String> {
    let ext = c.external_id.trim();
    if !ext.is_empty() {
        if ext.chars().count() > MAX_USER_ID {
            return Err(format!(
                "external_id_too_long: Wazzup user ids take {MAX_USER_ID} characters"
            ));
        }
        return Ok(ext.to_string());
    }
    let d = digits(&c.phone);
    if d.is_empty() {
        return Err("missing_field: external_id or phone (a user needs an id)".into());
    }
    Ok(format!("waport-{d}"))
}

fn display_name(c: &Contact) -> String {
    if !c.name.trim().is_empty() {
        c.name.trim().to_string()
    } else {
        format!("{} {}", c.first_name.trim(), c.last_name.trim())
            .trim()
            .to_string()
    }
}

/// The JSON of one contact for `POST /contacts`, and warnings for the
/// report. `responsible` is the account default.
pub fn contact_payload(c: &Contact, responsible: &str) -> Result<(Value, Vec<String>), String> {
    let id = contact_id(c)?;
    let chat = digits(&c.phone);
    if chat.is_empty() {
        return Err("missing_phone".into());
    }
    let name = display_name(c);
    if name.is_empty() {
        return Err("missing_field: name".into());
    }
    let mut warnings = Vec::new();
    let (name, was_cut) = cut(&name, MAX_NAME);
    if was_cut {
        warnings.push(format!("name_truncated: cut to {MAX_NAME} characters"));
    }
    let resp = row_responsible(c).unwrap_or(responsible);
    let mut v = json!({
        "id": id,
        "responsibleUserId": resp,
        "name": name,
        "contactData": [{"chatType": "whatsapp", "chatId": chat}],
    });
    if let Some(uri) = row_uri(c)? {
        v["uri"] = json!(uri);
    }
    Ok((v, warnings))
}

/// The row's own responsible user (`custom:responsible_user_id`), if any.
fn row_responsible(c: &Contact) -> Option<&str> {
    RESPONSIBLE_FIELDS
        .iter()
        .find_map(|f| c.custom.get(*f).map(|v| v.trim()).filter(|v| !v.is_empty()))
}

/// The row's `uri` (`custom:uri`), refused beyond the documented 200
/// characters rather than cut: a cut link opens the wrong page.
fn row_uri(c: &Contact) -> Result<Option<&str>, String> {
    match URI_FIELDS
        .iter()
        .find_map(|f| c.custom.get(*f).map(|v| v.trim()).filter(|v| !v.is_empty()))
    {
        Some(u) if u.chars().count() > MAX_URI => Err(format!(
            "uri_too_long: Wazzup takes {MAX_URI} characters, this one has {}",
            u.chars().count()
        )),
        other => Ok(other),
    }
}

/// The stored contact `stored` (as `GET /contacts/{id}` gives it) with
/// only what the row maps changed, to send back through `POST /contacts`
/// (which replaces the whole contact). `fresh` is the row's own payload.
///
/// Kept: every `contactData` entry (chats on other channels, other
/// numbers), the `uri` unless the row maps one, the responsible user unless
/// the row names one. Changed: the name when the row has one; the row's
/// WhatsApp number is added when the contact lacks it (never removed:
/// waport cannot tell a stale chat from a second phone).
pub fn merge_contact(stored: &Value, c: &Contact, fresh: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in ["id", "responsibleUserId", "name", "uri"] {
        if let Some(v) = stored.get(k).filter(|v| !v.is_null()) {
            out.insert(k.into(), v.clone());
        }
    }
    // Only the documented entry fields go back (public docs: chatType,
    // chatId, username, phone), whatever else a GET may carry.
    let mut chats: Vec<Value> = stored
        .get("contactData")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|d| {
                    let mut e = serde_json::Map::new();
                    for k in ["chatType", "chatId", "username", "phone"] {
                        if let Some(v) = d.get(k).filter(|v| !v.is_null()) {
                            e.insert(k.into(), v.clone());
                        }
                    }
                    Value::Object(e)
                })
                .collect()
        })
        .unwrap_or_default();
    let chat = digits(&c.phone);
    let has = chats.iter().any(|d| {
        d.get("chatType").and_then(Value::as_str) == Some("whatsapp")
            && d.get("chatId").and_then(Value::as_str).map(digits) == Some(chat.clone())
    });
    if !chat.is_empty() && !has {
        chats.push(json!({"chatType": "whatsapp", "chatId": chat}));
    }
    out.insert("contactData".into(), Value::Array(chats));
    if !display_name(c).is_empty() {
        out.insert("name".into(), fresh["name"].clone());
    }
    if row_responsible(c).is_some() || !out.contains_key("responsibleUserId") {
        out.insert(
            "responsibleUserId".into(),
            fresh["responsibleUserId"].clone(),
        );
    }
    if let Some(u) = fresh.get("uri") {
        out.insert("uri".into(), u.clone());
    }
    Value::Object(out)
}

/// The row's fields a Wazzup contact cannot hold, for an updated row's
/// reason.
pub(super) fn not_stored(c: &Contact) -> Option<String> {
    let names: Vec<&str> = NOT_STORED
        .iter()
        .filter(|&&f| c.is_filled(f))
        .map(|f| f.name())
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "not_updated: {} (Wazzup contacts have no such fields)",
            names.join(", ")
        )
    })
}

/// The JSON of one user for `POST /users`.
pub fn user_payload(c: &Contact) -> Result<(Value, Vec<String>), String> {
    let id = user_id(c)?;
    let name = display_name(c);
    if name.is_empty() {
        return Err("missing_field: name".into());
    }
    let mut warnings = Vec::new();
    let (name, was_cut) = cut(&name, MAX_NAME);
    if was_cut {
        warnings.push(format!("name_truncated: cut to {MAX_NAME} characters"));
    }
    let mut v = json!({"id": id, "name": name});
    let d = digits(&c.phone);
    if !d.is_empty() {
        v["phone"] = json!(d);
    }
    Ok((v, warnings))
}

/// `{index, fields}` entries of an `INVALID_*_DATA` answer.
pub fn invalid_indices(body: &Value) -> Option<Vec<(usize, Vec<String>)>> {
    let data = body.get("data")?.as_array()?;
    let mut out = Vec::new();
    for e in data {
        let idx = e.get("index")?.as_u64()? as usize;
        let fields = e
            .get("fields")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.push((idx, fields));
    }
    Some(out)
}

pub(super) fn error_code(v: &Value) -> String {
    v.get("error")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Whether sending `merged` would change nothing that `stored` holds.
pub(super) fn same_contact(stored: &Value, merged: &Value) -> bool {
    ["id", "responsibleUserId", "name", "uri", "contactData"]
        .iter()
        .all(|k| stored.get(*k).filter(|v| !v.is_null()) == merged.get(*k))
}

/// Claims `v`'s id for `row` within one request, or returns the result for
/// a row whose id an earlier row of the same array already uses.
///
/// Two rows with one id (the same external id, or phones that normalize
/// alike under a different dedupe key) are one Wazzup entity: sending both
/// in one array would let the later silently overwrite the earlier.
pub(super) fn claim_id(ids: &mut HashMap<String, u64>, v: &Value, row: u64) -> Option<ItemResult> {
    let id = v["id"].as_str().unwrap_or_default();
    if let Some(first) = ids.get(id) {
        return Some(ItemResult::done(
            Status::Duplicate,
            id,
            format!("same_remote_identity: row {first}"),
        ));
    }
    ids.insert(id.to_string(), row);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, phone: &str) -> Contact {
        Contact {
            name: name.into(),
            phone: phone.into(),
            ..Contact::default()
        }
    }

    #[test]
    fn payload_is_deterministic_from_the_phone() {
        let (v, w) = contact_payload(&c("Juan Pérez", "+5215512345678"), "u1").unwrap();
        assert_eq!(
            v,
            json!({"id": "waport-5215512345678", "responsibleUserId": "u1", "name": "Juan Pérez",
                   "contactData": [{"chatType": "whatsapp", "chatId": "5215512345678"}]})
        );
        assert!(w.is_empty());
    }

    #[test]
    fn external_id_and_row_responsible_user_win() {
        let mut x = c("Ana", "+34600111222");
        x.external_id = "crm-7".into();
        x.custom.insert("responsible_user_id".into(), "boss".into());
        let (v, _) = contact_payload(&x, "u1").unwrap();
        assert_eq!(v["id"], "crm-7");
        assert_eq!(v["responsibleUserId"], "boss");
    }

    #[test]
    fn long_names_are_cut_with_a_warning() {
        let long = "x".repeat(250);
        let (v, w) = contact_payload(&c(&long, "+34600111222"), "u").unwrap();
        assert_eq!(v["name"].as_str().unwrap().chars().count(), 200);
        assert_eq!(w, vec!["name_truncated: cut to 200 characters".to_string()]);
    }

    #[test]
    fn a_merge_changes_only_what_the_row_maps() {
        let stored = json!({"id": "crm-1", "responsibleUserId": "boss", "name": "Ana",
            "contactData": [{"chatType": "telegram", "chatId": "ana_tg", "username": "ana_tg"},
                            {"chatType": "whatsapp", "chatId": "34600111222"}],
            "uri": "https://crm.example/1", "createdAt": "not sent back"});
        let row = c("Ana María", "+34600111222");
        let (fresh, _) = contact_payload(&row, "default-user").unwrap();
        let merged = merge_contact(&stored, &row, &fresh);
        let mut want = stored.clone();
        want["name"] = json!("Ana María");
        want.as_object_mut().unwrap().remove("createdAt");
        assert_eq!(merged, want);
        // A new number is added beside the stored one, a mapped uri replaces.
        let mut row = c("", "+34600999888");
        row.custom
            .insert("uri".into(), "https://crm.example/2".into());
        let (fresh, _) = contact_payload(
            &Contact {
                name: "x".into(),
                ..row.clone()
            },
            "u",
        )
        .unwrap();
        let merged = merge_contact(&stored, &row, &fresh);
        assert_eq!(merged["name"], "Ana", "no name in the row: kept");
        assert_eq!(merged["contactData"].as_array().unwrap().len(), 3);
        assert_eq!(merged["uri"], "https://crm.example/2");
        assert_eq!(merged["responsibleUserId"], "boss");
    }

    #[test]
    fn ids_up_to_100_characters_and_uris_up_to_200() {
        let mut x = c("Ana", "+34600111222");
        x.external_id = "i".repeat(100);
        assert!(contact_payload(&x, "u").is_ok());
        x.external_id = "i".repeat(101);
        assert!(
            contact_payload(&x, "u")
                .unwrap_err()
                .starts_with("external_id_too_long")
        );
        x.external_id.clear();
        x.custom.insert("uri".into(), "u".repeat(201));
        assert!(
            contact_payload(&x, "u")
                .unwrap_err()
                .starts_with("uri_too_long")
        );
    }

    #[test]
    fn invalid_indices_are_read() {
        let body = json!({"error": "INVALID_CONTACTS_DATA", "description": "x",
            "data": [{"index": 2, "fields": ["name"]}, {"index": 0, "fields": ["contactData[0].chatId"]}]});
        assert_eq!(
            invalid_indices(&body).unwrap(),
            vec![
                (2, vec!["name".to_string()]),
                (0, vec!["contactData[0].chatId".to_string()])
            ]
        );
    }

    #[test]
    fn users_carry_the_phone_digits() {
        let mut u = c("Alex Salesman", "+79263334567");
        u.external_id = "2e0df379".into();
        let (v, _) = user_payload(&u).unwrap();
        assert_eq!(
            v,
            json!({"id": "2e0df379", "name": "Alex Salesman", "phone": "79263334567"})
        );
    }
}
