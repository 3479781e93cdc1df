//! Wazzup API v3: users (seed 003) and contacts (platforms.md).
//!
//! Errors use Wazzup's documented shape `{"error": CODE, "description": ...,
//! "data": ...}`. Statuses and codes not in the documents are marked
//! "Assumption".

use super::shared::{bearer, chars, json, query_map};
use super::{Emu, lock};
use crate::model::PlatformKind;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// The user every fresh emulator has, so contacts (whose `responsibleUserId`
/// must be an existing user) can be created out of the box.
pub const DEFAULT_WAZZUP_USER_ID: &str = "emulator-user-1";
const DEFAULT_WAZZUP_USER_NAME: &str = "Emulator Manager";

/// Entities per request on POST /users, POST /contacts and the bulk deletes.
const MAX_BATCH: usize = 100;
/// Users per account (seed 003).
const MAX_USERS: usize = 1000;
/// Contacts a page of GET /contacts (platforms.md).
const PAGE: usize = 100;
/// WhatsApp-style chat types Wazzup knows (platforms.md lists whatsapp,
/// whatsgroup, viber, instagram, telegram, "..."). Assumption: the rest of
/// the list is Wazzup's other channels.
const CHAT_TYPES: &[&str] = &[
    "whatsapp",
    "whatsgroup",
    "viber",
    "instagram",
    "telegram",
    "telegroup",
    "vk",
    "avito",
    "max",
];

#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct User {
    id: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct ContactData {
    chat_type: String,
    chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct Contact {
    id: String,
    responsible_user_id: String,
    name: String,
    contact_data: Vec<ContactData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
}

/// Wazzup's stored data: users and contacts, each keyed and ordered by id.
#[derive(Serialize, Deserialize, Debug)]
#[serde(default)]
pub(crate) struct State {
    users: BTreeMap<String, User>,
    contacts: BTreeMap<String, Contact>,
}

impl Default for State {
    fn default() -> Self {
        State::new(0)
    }
}

impl State {
    pub(crate) fn new(_seed: u64) -> State {
        let mut users = BTreeMap::new();
        users.insert(
            DEFAULT_WAZZUP_USER_ID.to_string(),
            User {
                id: DEFAULT_WAZZUP_USER_ID.into(),
                name: DEFAULT_WAZZUP_USER_NAME.into(),
                phone: None,
            },
        );
        State {
            users,
            contacts: BTreeMap::new(),
        }
    }

    pub(crate) fn after_load(&mut self, _seed: u64) {}

    pub(crate) fn reset(&mut self) {
        *self = State::new(0);
    }

    pub(crate) fn contacts_json(&self) -> Value {
        json!(self.contacts.values().collect::<Vec<_>>())
    }

    pub(crate) fn users_json(&self) -> Value {
        json!(self.users.values().collect::<Vec<_>>())
    }
}

fn error(status: StatusCode, code: &str, description: &str, data: Option<Value>) -> Response {
    let mut body = json!({"error": code, "description": description});
    if let Some(d) = data {
        body["data"] = d;
    }
    json(status, body)
}

/// Bearer key check; 401 body per Wazzup's common-errors page (Assumption:
/// the code `UNAUTHORIZED`, the page only names the status).
pub(crate) fn authenticate(emu: &Emu, headers: &HeaderMap) -> Result<String, Response> {
    match bearer(headers) {
        Some(k) if emu.cfg.credentials.wazzup.iter().any(|c| c == k) => Ok(k.to_string()),
        _ => Err(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Failed to pass the API key or passed the wrong key.",
            None,
        )),
    }
}

/// 429 without Retry-After (none is documented). Assumption: the code
/// `TOO_MANY_REQUESTS`; the page only names the status.
pub(crate) fn rate_limited() -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "TOO_MANY_REQUESTS",
        "The limit is no more than 500 requests every 5 seconds.",
        None,
    )
}

fn not_found(what: &str) -> Response {
    // Assumption: 404 with a `*_NOT_FOUND` code; undocumented.
    error(
        StatusCode::NOT_FOUND,
        &format!("{}_NOT_FOUND", what.to_ascii_uppercase()),
        &format!("{what} not found"),
        None,
    )
}

fn too_many() -> Response {
    // The seed's spelling, which is Wazzup's real code.
    error(
        StatusCode::BAD_REQUEST,
        "TOO_MACH_ENTITIES",
        "Too many entities in one request: at most 100.",
        Some(json!({"limit": MAX_BATCH})),
    )
}

fn ok_empty() -> Response {
    // Assumption: the success body of POST /contacts and /users is not
    // documented; 200 with an empty body.
    (StatusCode::OK, Body::empty()).into_response()
}

async fn fallback() -> Response {
    // Assumption: unknown routes answer 404 with Wazzup's error shape.
    error(StatusCode::NOT_FOUND, "NOT_FOUND", "Route not found", None)
}

pub(crate) fn routes() -> Router<Arc<Emu>> {
    Router::new()
        .route("/users", get(list_users).post(upsert_users))
        .route("/users/bulk_delete", patch(bulk_delete_users))
        .route("/users/{id}", get(get_user).delete(delete_user))
        .route("/contacts", get(list_contacts).post(upsert_contacts))
        .route("/contacts/bulk_delete", patch(bulk_delete_contacts))
        .route("/contacts/{id}", get(get_contact).delete(delete_contact))
        .fallback(fallback)
}

/// Parses the body as a JSON array; `None` if it is not one or is empty.
fn parse_array(body: &[u8]) -> Option<Vec<Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(a)) if !a.is_empty() => Some(a),
        _ => None,
    }
}

/// A required string of 1..=max characters.
fn req_str(o: &serde_json::Map<String, Value>, k: &str, max: usize) -> Option<String> {
    match o.get(k) {
        Some(Value::String(s)) if !s.trim().is_empty() && chars(s) <= max => Some(s.clone()),
        _ => None,
    }
}

/// Seed 003: "international format, e.g. 79261234567"; anything else is
/// dropped without error. Assumption: an optional leading `+` is tolerated
/// and removed, and 10 to 15 digits are required.
fn user_phone(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    let d = s.strip_prefix('+').unwrap_or(s);
    ((10..=15).contains(&d.len()) && d.bytes().all(|c| c.is_ascii_digit())).then(|| d.to_string())
}

async fn list_users(AxState(emu): AxState<Arc<Emu>>) -> Response {
    let st = lock(&emu.wazzup);
    let mut users: Vec<&User> = st.users.values().collect();
    // Seed 003: "ordered by name".
    users.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let out: Vec<Value> = users
        .iter()
        .map(|u| json!({"id": u.id, "name": u.name}))
        .collect();
    json(StatusCode::OK, Value::Array(out))
}

async fn get_user(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>) -> Response {
    match lock(&emu.wazzup).users.get(&id) {
        Some(u) => json(StatusCode::OK, json!(u)),
        None => not_found("user"),
    }
}

async fn upsert_users(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let Some(items) = parse_array(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_USERS_DATA",
            "Request body is empty or invalid",
            None,
        );
    };
    if items.len() > MAX_BATCH {
        return too_many();
    }
    let mut bad = Vec::new();
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Some(o) = item.as_object() else {
            bad.push(json!({"index": index, "fields": ["id", "name"]}));
            continue;
        };
        let id = req_str(o, "id", 200);
        let name = req_str(o, "name", 200);
        let mut fields = Vec::new();
        if id.is_none() {
            fields.push("id");
        }
        if name.is_none() {
            fields.push("name");
        }
        match (id, name) {
            (Some(id), Some(name)) => parsed.push((
                index,
                User {
                    id,
                    name,
                    phone: user_phone(o.get("phone")),
                },
            )),
            _ => bad.push(json!({"index": index, "fields": fields})),
        }
    }
    if !bad.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_USERS_DATA",
            "Request body contains invalid fields",
            Some(Value::Array(bad)),
        );
    }
    let stats = emu.stats(PlatformKind::Wazzup);
    let mut st = lock(&emu.wazzup);
    // Assumption: a repeated id within one users batch is an upsert of the
    // same user, the last one winning (only contacts are known to fail).
    let mut batch: BTreeMap<String, (usize, User)> = BTreeMap::new();
    for (index, u) in parsed {
        batch.insert(u.id.clone(), (index, u));
    }
    let mut seen_phones: HashSet<&str> = HashSet::new();
    let mut in_order: Vec<&(usize, User)> = batch.values().collect();
    in_order.sort_by_key(|(i, _)| *i);
    for (index, u) in in_order {
        let Some(p) = u.phone.as_deref() else {
            continue;
        };
        let taken_by_other = st
            .users
            .values()
            .any(|o| o.id != u.id && o.phone.as_deref() == Some(p) && !batch.contains_key(&o.id));
        if taken_by_other || !seen_phones.insert(p) {
            return error(
                StatusCode::BAD_REQUEST,
                "DUPLICATE_PHONE_NUMBER",
                &format!("User with phone number {p} already exists in the CRM."),
                Some(json!({"index": index, "phone": p})),
            );
        }
    }
    let new = batch
        .keys()
        .filter(|id| !st.users.contains_key(*id))
        .count();
    if st.users.len() + new > MAX_USERS {
        return error(
            StatusCode::BAD_REQUEST,
            "USER_LIMIT_EXCEEDED",
            "The limit of 1000 users has been exceeded.",
            Some(json!({"limit": MAX_USERS})),
        );
    }
    let updated = batch.len() - new;
    for (id, (_, u)) in batch {
        st.users.insert(id, u);
    }
    stats.add_created(new as u64);
    stats.add_updated(updated as u64);
    ok_empty()
}

async fn delete_user(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>) -> Response {
    let removed = lock(&emu.wazzup).users.remove(&id).is_some();
    if !removed {
        return not_found("user");
    }
    emu.stats(PlatformKind::Wazzup).add_deleted(1);
    ok_empty()
}

/// Parses an array of id strings for a bulk delete.
fn parse_ids(body: &[u8]) -> Option<Vec<String>> {
    let a = parse_array(body)?;
    a.into_iter()
        .map(|v| match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

async fn bulk_delete_users(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let Some(ids) = parse_ids(&body) else {
        // Assumption: an invalid bulk_delete body is INVALID_USERS_DATA.
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_USERS_DATA",
            "Request body must be an array of user ids",
            None,
        );
    };
    let mut st = lock(&emu.wazzup);
    let mut unknown = Vec::new();
    let mut deleted = 0;
    for id in ids {
        if st.users.remove(&id).is_some() {
            deleted += 1;
        } else {
            unknown.push(Value::String(id));
        }
    }
    drop(st);
    emu.stats(PlatformKind::Wazzup).add_deleted(deleted);
    json(StatusCode::OK, Value::Array(unknown))
}

/// Validates one contact; `Err` lists the bad fields.
fn parse_contact(item: &Value, st: &State) -> Result<Contact, Vec<String>> {
    let Some(o) = item.as_object() else {
        return Err(vec![
            "id".into(),
            "responsibleUserId".into(),
            "name".into(),
            "contactData".into(),
        ]);
    };
    let mut fields: Vec<String> = Vec::new();
    let id = req_str(o, "id", 100);
    if id.is_none() {
        fields.push("id".into());
    }
    // Assumption: an unknown responsible user is reported as a bad field of
    // INVALID_CONTACTS_DATA (platforms.md: it "must be an existing user").
    let responsible = req_str(o, "responsibleUserId", 100).filter(|r| st.users.contains_key(r));
    if responsible.is_none() {
        fields.push("responsibleUserId".into());
    }
    let name = req_str(o, "name", 200);
    if name.is_none() {
        fields.push("name".into());
    }
    let uri = match o.get("uri") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if chars(s) <= 200 => Some(s.clone()),
        Some(_) => {
            fields.push("uri".into());
            None
        }
    };
    let mut data = Vec::new();
    match o.get("contactData") {
        Some(Value::Array(a)) if !a.is_empty() => {
            for (i, cd) in a.iter().enumerate() {
                let Some(c) = cd.as_object() else {
                    fields.push(format!("contactData[{i}]"));
                    continue;
                };
                let chat_type = c
                    .get("chatType")
                    .and_then(Value::as_str)
                    .filter(|t| CHAT_TYPES.contains(t));
                if chat_type.is_none() {
                    fields.push(format!("contactData[{i}].chatType"));
                }
                // For WhatsApp the chatId is the number's digits without `+`
                // (platforms.md). Assumption: 7 to 15 digits.
                let chat_id = c
                    .get("chatId")
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty() && chars(s) <= 200)
                    .filter(|s| {
                        chat_type != Some("whatsapp")
                            || ((7..=15).contains(&s.len())
                                && s.bytes().all(|b| b.is_ascii_digit()))
                    });
                if chat_id.is_none() {
                    fields.push(format!("contactData[{i}].chatId"));
                }
                let opt = |k: &str, fields: &mut Vec<String>| match c.get(k) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(_) => {
                        fields.push(format!("contactData[{i}].{k}"));
                        None
                    }
                };
                let username = opt("username", &mut fields);
                let phone = opt("phone", &mut fields);
                if let (Some(t), Some(id)) = (chat_type, chat_id) {
                    data.push(ContactData {
                        chat_type: t.to_string(),
                        chat_id: id.to_string(),
                        username,
                        phone,
                    });
                }
            }
        }
        _ => fields.push("contactData".into()),
    }
    match (id, responsible, name) {
        (Some(id), Some(responsible_user_id), Some(name)) if fields.is_empty() => Ok(Contact {
            id,
            responsible_user_id,
            name,
            contact_data: data,
            uri,
        }),
        _ => Err(fields),
    }
}

async fn upsert_contacts(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let Some(items) = parse_array(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_CONTACTS_DATA",
            "Request body is empty or invalid",
            None,
        );
    };
    if items.len() > MAX_BATCH {
        return too_many();
    }
    let stats = emu.stats(PlatformKind::Wazzup);
    let mut st = lock(&emu.wazzup);
    let mut bad = Vec::new();
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match parse_contact(item, &st) {
            Ok(c) => parsed.push(c),
            Err(fields) => bad.push(json!({"index": index, "fields": fields})),
        }
    }
    if !bad.is_empty() {
        // A rejected batch is rejected whole.
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_CONTACTS_DATA",
            "Request body contains invalid contacts",
            Some(Value::Array(bad)),
        );
    }
    let mut ids = HashSet::new();
    if !parsed.iter().all(|c| ids.insert(c.id.as_str())) {
        drop(ids);
        // platforms.md (an n8n Wazzup node): two contacts with one id in a
        // request make Wazzup answer 500, and nothing is stored. Assumption:
        // the body of that 500.
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "Internal server error",
            None,
        );
    }
    drop(ids);
    let total = parsed.len() as u64;
    let mut created = 0;
    for c in parsed {
        if st.contacts.insert(c.id.clone(), c).is_none() {
            created += 1;
        }
    }
    let updated = total - created;
    drop(st);
    stats.add_created(created);
    stats.add_updated(updated);
    ok_empty()
}

async fn list_contacts(AxState(emu): AxState<Arc<Emu>>, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q.as_deref());
    let offset = match q.get("offset").map(|s| s.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            // Assumption: a malformed offset is a 400 in Wazzup's error shape.
            return error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "offset must be a non-negative integer",
                Some(json!({"fields": ["offset"]})),
            );
        }
    };
    let st = lock(&emu.wazzup);
    let data: Vec<&Contact> = st.contacts.values().skip(offset).take(PAGE).collect();
    json(
        StatusCode::OK,
        json!({"count": st.contacts.len(), "data": data}),
    )
}

async fn get_contact(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>) -> Response {
    match lock(&emu.wazzup).contacts.get(&id) {
        Some(c) => json(StatusCode::OK, json!(c)),
        None => not_found("contact"),
    }
}

async fn delete_contact(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>) -> Response {
    let removed = lock(&emu.wazzup).contacts.remove(&id).is_some();
    if !removed {
        return not_found("contact");
    }
    emu.stats(PlatformKind::Wazzup).add_deleted(1);
    ok_empty()
}

async fn bulk_delete_contacts(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let Some(ids) = parse_ids(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_CONTACTS_DATA",
            "Request body must be an array of contact ids",
            None,
        );
    };
    if ids.len() > MAX_BATCH {
        return too_many();
    }
    let mut st = lock(&emu.wazzup);
    let mut unknown = Vec::new();
    let mut deleted = 0;
    for id in ids {
        if st.contacts.remove(&id).is_some() {
            deleted += 1;
        } else {
            unknown.push(Value::String(id));
        }
    }
    drop(st);
    emu.stats(PlatformKind::Wazzup).add_deleted(deleted);
    json(StatusCode::OK, Value::Array(unknown))
}
