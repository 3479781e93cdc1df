//! Wipsy CRM API 1.1.0 contacts (seed 000 and platforms.md).
//!
//! Wipsy runs on Supabase edge functions; answers are `{success, data}` or
//! `{success: false, error}`. The error texts and statuses other than the
//! documented 201 and 429 are marked "Assumption".
//!
//! No listing of tags, custom fields or pipeline stages is documented, so
//! the emulator offers none under the API prefix (waport must not depend on
//! one); the configured catalog is visible at `GET /_emulator/wipsy/catalog`
//! and is set through the `--state` file.
//!
//! No phone filter is documented either, and a real edge function ignores
//! unknown query parameters, so `api-get-contacts?phone=` is ignored here
//! too: to find a contact by phone, a client pages through the contacts.

use super::shared::{
    header_str, is_email, is_uuid, json, query_map, unix_now, uuid_from, year_month,
};
use super::{Emu, lock};
use crate::model::PlatformKind;
use crate::time::rfc3339;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Tag "cliente" of a fresh emulator.
pub const DEFAULT_WIPSY_TAG_CLIENTE: &str = "0c4a5f2e-6b1d-4c3a-9e8f-1a2b3c4d5e01";
/// Tag "premium" of a fresh emulator.
pub const DEFAULT_WIPSY_TAG_PREMIUM: &str = "0c4a5f2e-6b1d-4c3a-9e8f-1a2b3c4d5e02";
/// Custom field "company" of a fresh emulator.
pub const DEFAULT_WIPSY_FIELD_COMPANY: &str = "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e101";
/// Pipeline stage "Nuevo" of a fresh emulator (the id in seed 000's examples).
pub const DEFAULT_WIPSY_STAGE_NEW: &str = "16ac276d-82f6-4f2a-bbab-e2e260c45fe4";
/// The account's user id (seed 000's example).
const ACCOUNT_USER_ID: &str = "a169451c-8525-4352-b8ca-070dd449a1a5";
const ID_SALT: u64 = 0x0057_4950_5359; // "WIPSY"
/// Free plan: contacts created per calendar month (seed 000).
const FREE_PLAN_MONTHLY: u32 = 100;

/// A tag of the account.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Tag {
    id: String,
    name: String,
    #[serde(default)]
    color: Option<String>,
}

/// A custom field of the account.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Field {
    id: String,
    name: String,
    #[serde(default = "text_type")]
    field_type: String,
}

fn text_type() -> String {
    "text".into()
}

/// A pipeline stage of the account.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Stage {
    id: String,
    name: String,
    #[serde(default)]
    position: u32,
    #[serde(default)]
    color: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
struct Contact {
    id: String,
    name: String,
    last_name: Option<String>,
    phone: Option<String>,
    whatsapp_id: Option<String>,
    email: Option<String>,
    profile_picture_url: Option<String>,
    pipeline_stage_id: Option<String>,
    address: Option<String>,
    city: Option<String>,
    province: Option<String>,
    company: Option<String>,
    notes: Option<String>,
    /// Tag ids.
    tags: Vec<String>,
    /// Field id → value.
    custom_fields: BTreeMap<String, Value>,
    created_at: String,
    updated_at: String,
    seq: u64,
}

/// Contacts created in one month, for the free plan's quota.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
struct MonthCount {
    month: String,
    created: u32,
}

/// Wipsy's stored data: contacts (newest last) and the account's catalog.
#[derive(Serialize, Deserialize, Debug)]
#[serde(default)]
pub(crate) struct State {
    contacts: BTreeMap<u64, Contact>,
    next_seq: u64,
    id_counter: u64,
    tags: Vec<Tag>,
    custom_fields: Vec<Field>,
    pipeline_stages: Vec<Stage>,
    monthly: MonthCount,
    #[serde(skip)]
    by_id: HashMap<String, u64>,
    #[serde(skip)]
    seed: u64,
}

impl Default for State {
    fn default() -> Self {
        State::new(0)
    }
}

impl State {
    pub(crate) fn new(seed: u64) -> State {
        State {
            contacts: BTreeMap::new(),
            next_seq: 1,
            id_counter: 0,
            tags: vec![
                Tag {
                    id: DEFAULT_WIPSY_TAG_CLIENTE.into(),
                    name: "cliente".into(),
                    color: Some("#22c55e".into()),
                },
                Tag {
                    id: DEFAULT_WIPSY_TAG_PREMIUM.into(),
                    name: "premium".into(),
                    color: Some("#eab308".into()),
                },
            ],
            custom_fields: vec![Field {
                id: DEFAULT_WIPSY_FIELD_COMPANY.into(),
                name: "company".into(),
                field_type: text_type(),
            }],
            pipeline_stages: vec![Stage {
                id: DEFAULT_WIPSY_STAGE_NEW.into(),
                name: "Nuevo".into(),
                position: 0,
                color: None,
            }],
            monthly: MonthCount::default(),
            by_id: HashMap::new(),
            seed,
        }
    }

    pub(crate) fn after_load(&mut self, seed: u64) {
        self.seed = seed;
        self.by_id = self
            .contacts
            .iter()
            .map(|(s, c)| (c.id.clone(), *s))
            .collect();
        let max = self.contacts.keys().next_back().copied().unwrap_or(0);
        self.next_seq = self.next_seq.max(max + 1);
    }

    /// Clears contacts and the monthly count; the catalog is account
    /// configuration and stays.
    pub(crate) fn reset(&mut self) {
        self.contacts.clear();
        self.by_id.clear();
        self.next_seq = 1;
        self.id_counter = 0;
        self.monthly = MonthCount::default();
    }

    pub(crate) fn contacts_json(&self) -> Value {
        Value::Array(self.contacts.values().map(|c| self.render(c)).collect())
    }

    pub(crate) fn catalog_json(&self) -> Value {
        json!({
            "tags": self.tags,
            "custom_fields": self.custom_fields,
            "pipeline_stages": self.pipeline_stages,
        })
    }

    /// The Contact schema of seed 000. Assumption: tags are rendered as
    /// `{id, name, color}`, custom fields as `{field_id, name, value}`, and
    /// the create-only columns (address, city, ...) are included.
    fn render(&self, c: &Contact) -> Value {
        let stage = c
            .pipeline_stage_id
            .as_ref()
            .and_then(|id| self.pipeline_stages.iter().find(|s| &s.id == id));
        let tags: Vec<Value> = c
            .tags
            .iter()
            .filter_map(|id| self.tags.iter().find(|t| &t.id == id))
            .map(|t| json!({"id": t.id, "name": t.name, "color": t.color}))
            .collect();
        let fields: Vec<Value> = c
            .custom_fields
            .iter()
            .map(|(fid, v)| {
                let name = self
                    .custom_fields
                    .iter()
                    .find(|f| &f.id == fid)
                    .map(|f| f.name.clone());
                json!({"field_id": fid, "name": name, "value": v})
            })
            .collect();
        json!({
            "id": c.id,
            "user_id": ACCOUNT_USER_ID,
            "name": c.name,
            "last_name": c.last_name,
            "phone": c.phone,
            "whatsapp_id": c.whatsapp_id,
            "email": c.email,
            "profile_picture_url": c.profile_picture_url,
            "pipeline_stage_id": c.pipeline_stage_id,
            "pipeline_stage": stage,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "tags": tags,
            "custom_fields": fields,
            "address": c.address,
            "city": c.city,
            "province": c.province,
            "company": c.company,
            "notes": c.notes,
        })
    }

    fn new_id(&mut self) -> String {
        loop {
            self.id_counter += 1;
            let id = uuid_from(self.seed, ID_SALT, self.id_counter);
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }
}

fn fail(status: StatusCode, msg: &str) -> Response {
    json(status, json!({"success": false, "error": msg}))
}

/// `x-api-key` check. Assumption: the 401 bodies.
pub(crate) fn authenticate(emu: &Emu, headers: &HeaderMap) -> Result<String, Response> {
    match header_str(headers, "x-api-key") {
        None => Err(fail(StatusCode::UNAUTHORIZED, "Missing API key")),
        Some(k) if emu.cfg.credentials.wipsy.iter().any(|c| c == k) => Ok(k.to_string()),
        Some(_) => Err(fail(StatusCode::UNAUTHORIZED, "Invalid API key")),
    }
}

/// Assumption: the throttling body (only the plan quota's 429 is documented).
pub(crate) fn rate_limited(_retry_after: Option<u64>) -> Response {
    fail(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
}

async fn fallback() -> Response {
    // What Supabase's gateway answers for an unknown function.
    json(
        StatusCode::NOT_FOUND,
        json!({"code": "NOT_FOUND", "message": "Requested function was not found"}),
    )
}

pub(crate) fn routes() -> Router<Arc<Emu>> {
    Router::new()
        .route("/api-get-contacts", get(get_contacts))
        .route("/api-create-contact", post(create))
        .route("/api-update-contact", post(update))
        .fallback(fallback)
}

/// Seed 000: the phone "will be normalized automatically". Assumption: the
/// digits are kept with a leading `+`; fewer than 7 digits is an error.
fn normalize_phone(s: &str) -> Option<String> {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    (7..=15).contains(&d.len()).then(|| format!("+{d}"))
}

/// An optional string field: absent → `Ok(None)`, null → `Ok(Some(None))`.
fn opt(o: &Map<String, Value>, k: &str) -> Result<Option<Option<String>>, String> {
    match o.get(k) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(format!("{k} must be a string")),
    }
}

/// Validates and applies the fields common to create and update.
fn apply_common(st: &State, c: &mut Contact, o: &Map<String, Value>) -> Result<(), String> {
    if let Some(v) = opt(o, "last_name")? {
        c.last_name = v;
    }
    if let Some(v) = opt(o, "email")? {
        match v {
            Some(e) if !e.is_empty() && !is_email(&e) => return Err("Invalid email format".into()),
            Some(e) if e.is_empty() => c.email = None,
            other => c.email = other,
        }
    }
    if let Some(v) = opt(o, "phone")? {
        c.phone = match v {
            Some(p) if !p.trim().is_empty() => {
                Some(normalize_phone(&p).ok_or_else(|| "Invalid phone number".to_string())?)
            }
            _ => None,
        };
    }
    if let Some(v) = opt(o, "pipeline_stage_id")? {
        if let Some(id) = &v
            && !st.pipeline_stages.iter().any(|s| &s.id == id)
        {
            return Err(format!("Invalid pipeline_stage_id: {id}"));
        }
        c.pipeline_stage_id = v;
    }
    match o.get("custom_fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (fid, v) in m {
                // Assumption: an unknown field id fails the request, as a
                // foreign key would.
                if !st.custom_fields.iter().any(|f| &f.id == fid) {
                    return Err(format!("Invalid custom field id: {fid}"));
                }
                if v.is_null() {
                    c.custom_fields.remove(fid);
                } else {
                    c.custom_fields.insert(fid.clone(), v.clone());
                }
            }
        }
        Some(_) => return Err("custom_fields must be an object".into()),
    }
    Ok(())
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(fail(StatusCode::BAD_REQUEST, "Invalid JSON body")),
    }
}

async fn create(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let o = match parse_object(&body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let name = match o.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
        // Assumption: the text and the 400.
        _ => return fail(StatusCode::BAD_REQUEST, "Name is required"),
    };
    let mut st = lock(&emu.wipsy);
    let mut c = Contact {
        name,
        ..Contact::default()
    };
    if let Err(e) = apply_common(&st, &mut c, &o) {
        return fail(StatusCode::BAD_REQUEST, &e);
    }
    let extra = (|| -> Result<(), String> {
        for k in ["address", "city", "province", "company", "notes"] {
            let v = opt(&o, k)?.flatten();
            match k {
                "address" => c.address = v,
                "city" => c.city = v,
                "province" => c.province = v,
                "company" => c.company = v,
                _ => c.notes = v,
            }
        }
        if let Some(u) = opt(&o, "profile_picture_url")?.flatten() {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err("profile_picture_url must be a valid URL".into());
            }
            c.profile_picture_url = Some(u);
        }
        c.whatsapp_id = match opt(&o, "whatsapp_id")?.flatten() {
            Some(w) if !w.trim().is_empty() => Some(w),
            _ => c.phone.clone(),
        };
        match o.get("tags") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for t in a {
                    let Some(id) = t.as_str() else {
                        return Err("tags must be an array of tag ids".into());
                    };
                    // Assumption: an unknown tag id fails the request.
                    if !st.tags.iter().any(|x| x.id == id) {
                        return Err(format!("Invalid tag id: {id}"));
                    }
                    if !c.tags.iter().any(|x| x == id) {
                        c.tags.push(id.to_string());
                    }
                }
            }
            Some(_) => return Err("tags must be an array of tag ids".into()),
        }
        Ok(())
    })();
    if let Err(e) = extra {
        return fail(StatusCode::BAD_REQUEST, &e);
    }
    let now = unix_now();
    let month = year_month(now);
    if st.monthly.month != month {
        st.monthly = MonthCount { month, created: 0 };
    }
    if emu.cfg.wipsy_free_plan && st.monthly.created >= FREE_PLAN_MONTHLY {
        // Seed 000: free plan, 100 contacts a month, then 429. Assumption:
        // the text. A quota, not a throttle: no Retry-After.
        return fail(
            StatusCode::TOO_MANY_REQUESTS,
            "Monthly contact limit reached: the free plan allows 100 new contacts per month",
        );
    }
    st.monthly.created += 1;
    c.id = st.new_id();
    c.created_at = rfc3339(now);
    c.updated_at = c.created_at.clone();
    c.seq = st.next_seq.max(1);
    st.next_seq = c.seq + 1;
    st.by_id.insert(c.id.clone(), c.seq);
    let data = st.render(&c);
    st.contacts.insert(c.seq, c);
    drop(st);
    emu.stats(PlatformKind::Wipsy).add_created(1);
    json(
        StatusCode::CREATED,
        json!({"success": true, "data": data, "message": "Contact created successfully"}),
    )
}

async fn update(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let o = match parse_object(&body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(id) = o.get("contactId").and_then(Value::as_str) else {
        return fail(StatusCode::BAD_REQUEST, "contactId is required");
    };
    let mut st = lock(&emu.wipsy);
    let Some(seq) = st.by_id.get(id).copied() else {
        // Assumption: 404 for an unknown contact.
        return fail(StatusCode::NOT_FOUND, "Contact not found");
    };
    let Some(mut c) = st.contacts.get(&seq).cloned() else {
        return fail(StatusCode::NOT_FOUND, "Contact not found");
    };
    match o.get("name") {
        None => {}
        Some(Value::String(n)) if !n.trim().is_empty() => c.name = n.clone(),
        Some(_) => return fail(StatusCode::BAD_REQUEST, "Name cannot be empty"),
    }
    // Only the documented update fields are read; others are ignored.
    if let Err(e) = apply_common(&st, &mut c, &o) {
        return fail(StatusCode::BAD_REQUEST, &e);
    }
    c.updated_at = rfc3339(unix_now());
    let data = st.render(&c);
    st.contacts.insert(seq, c);
    drop(st);
    emu.stats(PlatformKind::Wipsy).add_updated(1);
    json(StatusCode::OK, json!({"success": true, "data": data}))
}

/// GET /api-get-contacts: one contact by `contactId`, else up to `limit`
/// (1..=500, default 100), newest first. Assumption: `offset` pages further
/// (undocumented; the real API may cap an export at 500).
async fn get_contacts(AxState(emu): AxState<Arc<Emu>>, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q.as_deref());
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=500).contains(&n) => n,
        // Assumption: out-of-range limits are refused rather than clamped.
        Some(_) => return fail(StatusCode::BAD_REQUEST, "limit must be between 1 and 500"),
    };
    let offset = match q.get("offset").map(|l| l.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "offset must be a non-negative integer",
            );
        }
    };
    // `--wipsy-no-offset`: only what seed 000 documents (no paging).
    let offset = if emu.cfg.wipsy_no_offset { 0 } else { offset };
    let st = lock(&emu.wipsy);
    if let Some(id) = q.get("contactId").filter(|s| !s.is_empty()) {
        if !is_uuid(id) {
            return fail(StatusCode::BAD_REQUEST, "Invalid contactId");
        }
        return match st.by_id.get(id).and_then(|s| st.contacts.get(s)) {
            Some(c) => json(
                StatusCode::OK,
                json!({"success": true, "data": st.render(c)}),
            ),
            None => fail(StatusCode::NOT_FOUND, "Contact not found"),
        };
    }
    let data: Vec<Value> = st
        .contacts
        .values()
        .rev()
        .skip(offset)
        .take(limit)
        .map(|c| st.render(c))
        .collect();
    json(StatusCode::OK, json!({"success": true, "data": data}))
}
