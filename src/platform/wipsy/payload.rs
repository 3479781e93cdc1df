//! Wipsy's pure half: the create and update bodies a contact is sent as
//! (names mapped to the account's UUIDs), the key a contact is found again
//! by, and a stored contact read back — no network, so unit-tested without
//! a server. The client (`mod.rs`) sends and reads through the common
//! plumbing in `platform/http.rs`.

use crate::model::Contact;
use crate::platform::{RemoteContact, WipsyMaps, digits};
use serde_json::{Map, Value, json};

/// Custom columns read as the pipeline stage.
pub const STAGE_FIELDS: &[&str] = &["pipeline_stage", "stage", "pipeline_stage_id"];

/// Whether `s` looks like a UUID (then it is sent as is, not mapped).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn lookup(map: &std::collections::BTreeMap<String, String>, name: &str) -> Option<String> {
    let n = name.trim();
    if is_uuid(n) {
        return Some(n.to_string());
    }
    map.get(n)
        .or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v)
        })
        .cloned()
}

/// The Wipsy payloads of one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Payloads {
    /// Body of `api-create-contact`.
    pub create: Value,
    /// Body of `api-update-contact` without `contactId`.
    pub update: Value,
    /// Fields the update endpoint cannot change (reported on `updated`).
    pub not_updatable: Vec<&'static str>,
    /// What the row carries that was not sent because `waport.toml` maps
    /// no Wipsy id for it, each with how to map it (`not_sent: ...`).
    pub not_sent: Vec<String>,
}

/// Builds the create and update bodies, mapping names to UUIDs. A tag,
/// custom field or stage with no Wipsy id is left out, never a reason to
/// refuse the contact: `Payloads::not_sent` says what and how to map it.
pub fn payloads(c: &Contact, maps: &WipsyMaps) -> Result<Payloads, String> {
    let (first, last) = if c.first_name.trim().is_empty() {
        (c.name.trim().to_string(), String::new())
    } else {
        (
            c.first_name.trim().to_string(),
            c.last_name.trim().to_string(),
        )
    };
    if first.is_empty() {
        return Err("missing_field: name".into());
    }
    let mut problems = Vec::new();
    let mut tags = Vec::new();
    for t in &c.tags {
        match lookup(&maps.tags, t) {
            Some(id) => tags.push(id),
            None => problems.push(format!(
                "not_sent: tag {t:?} has no Wipsy id (map it under [wipsy.tags] in waport.toml)"
            )),
        }
    }
    let mut fields = Map::new();
    let mut stage = None;
    for (k, v) in &c.custom {
        if STAGE_FIELDS.contains(&k.as_str()) {
            if v.trim().is_empty() {
                continue;
            }
            match lookup(&maps.stages, v) {
                Some(id) => stage = Some(id),
                None => problems.push(format!(
                    "not_sent: stage {v:?} has no Wipsy id (map it under [wipsy.stages] in waport.toml)"
                )),
            }
            continue;
        }
        match lookup(&maps.fields, k) {
            Some(id) => {
                fields.insert(id, json!(v));
            }
            None => problems.push(format!(
                "not_sent: custom field {k:?} has no Wipsy id (map it under [wipsy.fields] in waport.toml)"
            )),
        }
    }
    let mut create = Map::new();
    let mut update = Map::new();
    let mut both = |k: &str, v: Value| {
        create.insert(k.into(), v.clone());
        update.insert(k.into(), v);
    };
    both("name", json!(first));
    let opt = |s: &str| (!s.trim().is_empty()).then(|| json!(s.trim()));
    if let Some(v) = opt(&last) {
        both("last_name", v);
    }
    if let Some(v) = opt(&c.phone) {
        both("phone", v);
    }
    if let Some(v) = opt(&c.email) {
        both("email", v);
    }
    if let Some(s) = &stage {
        both("pipeline_stage_id", json!(s));
    }
    if !fields.is_empty() {
        both("custom_fields", Value::Object(fields));
    }
    let mut not_updatable = Vec::new();
    for (k, v, label) in [
        ("address", &c.address, "address"),
        ("city", &c.city, "city"),
        ("province", &c.state, "state"),
        ("company", &c.company, "company"),
        ("notes", &c.notes, "notes"),
    ] {
        if let Some(x) = opt(v) {
            create.insert(k.into(), x);
            not_updatable.push(label);
        }
    }
    if !tags.is_empty() {
        create.insert("tags".into(), json!(tags));
        not_updatable.push("tags");
    }
    Ok(Payloads {
        create: Value::Object(create),
        update: Value::Object(update),
        not_updatable,
        not_sent: problems,
    })
}

/// What an import would leave out of this contact for want of a Wipsy id
/// in `maps` (the `not_sent: ...` notes of [`Payloads::not_sent`]).
pub fn not_sent(c: &Contact, maps: &WipsyMaps) -> Vec<String> {
    payloads(c, maps).map(|p| p.not_sent).unwrap_or_default()
}

/// What finds a contact again: its phone digits, else its e-mail.
pub(super) fn key_of(c: &Contact) -> Option<(bool, String)> {
    let d = digits(&c.phone);
    if !d.is_empty() {
        return Some((true, d));
    }
    let e = c.email.trim().to_lowercase();
    (!e.is_empty()).then_some((false, e))
}

/// The reason of a row whose absence could not be established.
pub const UNCHECKED: &str = "unchecked: the Wipsy account holds more contacts than its listing shows (500), so waport could not tell whether this one exists; not created, to avoid a twin";

/// Gives names to the tags and custom fields a listing names only by id,
/// from waport.toml's maps, so an export is headed by names (and
/// re-imports through the same maps) rather than by UUIDs.
pub fn name_ids(c: &mut Contact, maps: &WipsyMaps) {
    let name_of = |map: &std::collections::BTreeMap<String, String>, id: &str| {
        map.iter()
            .find(|(_, v)| v.eq_ignore_ascii_case(id))
            .map(|(k, _)| k.clone())
    };
    let custom = std::mem::take(&mut c.custom);
    for (k, v) in custom {
        let k = if is_uuid(&k) {
            name_of(&maps.fields, &k).unwrap_or(k)
        } else {
            k
        };
        c.custom.insert(k, v);
    }
    for t in &mut c.tags {
        if is_uuid(t)
            && let Some(n) = name_of(&maps.tags, t)
        {
            *t = n;
        }
    }
}

/// A stored contact back to canonical form.
pub fn remote_contact(v: &Value) -> Option<RemoteContact> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let id = v.get("id")?.as_str()?.to_string();
    let mut c = Contact {
        first_name: s("name"),
        last_name: s("last_name"),
        phone: s("phone"),
        email: s("email"),
        // Create-only columns, when the listing carries them.
        address: s("address"),
        city: s("city"),
        state: s("province"),
        company: s("company"),
        notes: s("notes"),
        ..Contact::default()
    };
    if let Some(t) = v.get("tags").and_then(Value::as_array) {
        c.tags = t
            .iter()
            .filter_map(|x| {
                x.get("name")
                    .or_else(|| x.get("id"))
                    .and_then(Value::as_str)
                    .or_else(|| x.as_str())
                    .map(str::to_string)
            })
            .collect();
    }
    if let Some(cf) = v.get("custom_fields").and_then(Value::as_array) {
        for f in cf {
            let name = f
                .get("name")
                .or_else(|| f.get("field_id"))
                .and_then(Value::as_str);
            if let Some(n) = name {
                let val = f.get("value").cloned().unwrap_or(Value::Null);
                let val = val
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| val.to_string());
                c.custom.insert(n.to_string(), val);
            }
        }
    }
    if let Some(st) = v
        .get("pipeline_stage")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
    {
        c.custom.insert("pipeline_stage".into(), st.to_string());
    }
    c.complete_names();
    Some(RemoteContact::from_listing(id, c, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "11111111-2222-3333-4444-555555555555";
    const FIELD: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    fn maps() -> WipsyMaps {
        let mut m = WipsyMaps::default();
        m.tags.insert("VIP".into(), TAG.into());
        m.fields.insert("score".into(), FIELD.into());
        m
    }

    #[test]
    fn names_map_to_uuids() {
        let mut c = Contact {
            first_name: "John".into(),
            last_name: "Doe".into(),
            phone: "+573188779043".into(),
            email: "john.doe@example.com".into(),
            company: "Acme".into(),
            tags: vec!["vip".into()],
            ..Contact::default()
        };
        c.custom.insert("score".into(), "9".into());
        let p = payloads(&c, &maps()).unwrap();
        assert_eq!(
            p.create,
            json!({"name": "John", "last_name": "Doe", "phone": "+573188779043",
                   "email": "john.doe@example.com", "custom_fields": {FIELD: "9"},
                   "company": "Acme", "tags": [TAG]})
        );
        assert_eq!(
            p.update,
            json!({"name": "John", "last_name": "Doe", "phone": "+573188779043",
                   "email": "john.doe@example.com", "custom_fields": {FIELD: "9"}})
        );
        assert_eq!(p.not_updatable, vec!["company", "tags"]);
    }

    #[test]
    fn ids_without_names_in_a_listing_get_names_from_the_maps() {
        let v = json!({"id": "c1", "name": "Ana", "phone": "+34612345678",
            "tags": [{"id": TAG}], "custom_fields": [{"field_id": FIELD, "value": "7"},
            {"field_id": "ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee", "value": "x"}],
            "company": "Acme", "province": "Madrid"});
        let mut rc = remote_contact(&v).unwrap();
        name_ids(&mut rc.contact, &maps());
        assert_eq!(rc.contact.tags, vec!["VIP"]);
        assert_eq!(rc.contact.custom["score"], "7");
        // An id the maps do not know stays as it is.
        assert_eq!(
            rc.contact.custom["ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee"],
            "x"
        );
        assert_eq!(rc.contact.company, "Acme");
        assert_eq!(rc.contact.state, "Madrid");
    }

    #[test]
    fn unknown_names_are_left_out_with_a_note() {
        let mut c = Contact {
            name: "Ana".into(),
            tags: vec!["Gold".into(), "VIP".into()],
            ..Contact::default()
        };
        c.custom.insert("stage".into(), "Nuevo".into());
        let p = payloads(&c, &maps()).unwrap();
        assert_eq!(p.create["tags"], json!([TAG]));
        assert!(p.create.get("pipeline_stage_id").is_none());
        let notes = p.not_sent.join("; ");
        assert!(notes.contains("not_sent: tag \"Gold\""), "{notes}");
        assert!(notes.contains("not_sent: stage \"Nuevo\""), "{notes}");
        assert!(notes.contains("[wipsy.stages]"), "{notes}");
    }
}
