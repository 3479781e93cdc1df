//! Whaapy contacts API (seed 001 and platforms.md).
//!
//! Errors are `{"error": code, "message": ..., ...}`; validation errors carry
//! per-field `details` (the shape of zod's `flatten().fieldErrors`). What the
//! documents leave open is marked "Assumption".

use super::shared::{
    bearer, hex_decode, hex_encode, is_e164, is_email, is_uuid, json, query_map, unix_now,
    uuid_from,
};
use super::{Emu, lock};
use crate::model::PlatformKind;
use crate::time::rfc3339;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const ID_SALT: u64 = 0x5748_4141_5059; // "WHAAPY"
/// Assumption: default and maximum page size of GET /contacts/v1.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;
/// Items per POST /contacts/v1/bulk (platforms.md).
const MAX_BULK: usize = 100;
const E164_MSG: &str = "Formato inválido. Usar E.164: +5215512345678";

/// A stored contact. Every field has a default so a `--state` file can
/// pre-fill an account the way Whaapy's own screens would (a phone and a
/// name, tags, `+521…` numbers) without spelling out every field.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
struct Contact {
    id: String,
    phone_number: String,
    name: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
    tags: Vec<String>,
    custom_fields: Map<String, Value>,
    external_ids: Map<String, Value>,
    notes: Option<String>,
    funnel_stage_id: Option<String>,
    source: String,
    company: Option<String>,
    address: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: String,
    deal_value: Option<Value>,
    assigned_agent_id: Option<String>,
    last_contact_at: Option<String>,
    created_at: String,
    updated_at: String,
    /// Creation order; the key of the default sort and of cursors.
    seq: u64,
}

impl Contact {
    /// The representation of seed 001's "Respuesta Exitosa", plus the two
    /// fields the vendor's n8n node sends (deal_value, assigned_agent_id).
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "phone_number": self.phone_number,
            "name": self.name,
            "email": self.email,
            "avatar_url": self.avatar_url,
            "tags": self.tags,
            "custom_fields": self.custom_fields,
            "external_ids": self.external_ids,
            "notes": self.notes,
            // Assumption: a set stage is shown as an object with its id.
            "funnel_stage": self.funnel_stage_id.as_ref().map(|id| json!({"id": id})),
            "source": self.source,
            "company": self.company,
            "address": self.address,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
            "country": self.country,
            "deal_value": self.deal_value,
            "assigned_agent_id": self.assigned_agent_id,
            "last_contact_at": self.last_contact_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Whaapy's stored contacts, in creation order, with lookup indexes.
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(default)]
pub(crate) struct State {
    contacts: BTreeMap<u64, Contact>,
    next_seq: u64,
    id_counter: u64,
    #[serde(skip)]
    by_id: HashMap<String, u64>,
    #[serde(skip)]
    by_phone: HashMap<String, u64>,
    #[serde(skip)]
    seed: u64,
}

impl State {
    pub(crate) fn new(seed: u64) -> State {
        State {
            seed,
            ..State::default()
        }
    }

    pub(crate) fn after_load(&mut self, seed: u64) {
        self.seed = seed;
        self.by_id.clear();
        self.by_phone.clear();
        for (seq, c) in &self.contacts {
            self.by_id.insert(c.id.clone(), *seq);
            self.by_phone.insert(c.phone_number.clone(), *seq);
        }
        let max = self.contacts.keys().next_back().copied().unwrap_or(0);
        self.next_seq = self.next_seq.max(max + 1);
    }

    pub(crate) fn reset(&mut self) {
        *self = State::new(self.seed);
    }

    pub(crate) fn contacts_json(&self) -> Value {
        Value::Array(self.contacts.values().map(Contact::to_json).collect())
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

    fn get(&self, id: &str) -> Option<&Contact> {
        self.by_id.get(id).and_then(|s| self.contacts.get(s))
    }
}

/// An error of the contacts API.
enum ApiError {
    /// Assumption: the status of validation_error is 400 (the seed shows
    /// the body only).
    Validation(Map<String, Value>),
    /// 409 with the id of the contact that has the phone.
    Duplicate(String),
    /// Assumption: 404 with the same error shape.
    NotFound,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::BAD_REQUEST,
            ApiError::Duplicate(_) => StatusCode::CONFLICT,
            ApiError::NotFound => StatusCode::NOT_FOUND,
        }
    }

    fn body(&self) -> Value {
        match self {
            ApiError::Validation(d) => {
                json!({"error": "validation_error", "message": "Datos inválidos", "details": d})
            }
            ApiError::Duplicate(existing) => json!({
                "error": "duplicate_contact",
                "message": "Ya existe un contacto con este número de teléfono",
                "existing_contact_id": existing,
            }),
            ApiError::NotFound => {
                json!({"error": "not_found", "message": "Contacto no encontrado"})
            }
        }
    }

    fn response(&self) -> Response {
        json(self.status(), self.body())
    }
}

fn validation(d: Map<String, Value>) -> Response {
    ApiError::Validation(d).response()
}

/// Bearer `wha_...` check. Assumption: the 401 body.
pub(crate) fn authenticate(emu: &Emu, headers: &HeaderMap) -> Result<String, Response> {
    match bearer(headers) {
        Some(k) if k.starts_with("wha_") && emu.cfg.credentials.whaapy.iter().any(|c| c == k) => {
            Ok(k.to_string())
        }
        _ => Err(json(
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "message": "API key inválida o faltante"}),
        )),
    }
}

/// Assumption (platforms.md: nothing found): 429 with Retry-After.
pub(crate) fn rate_limited(_retry_after: Option<u64>) -> Response {
    json(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": "rate_limit_exceeded", "message": "Demasiadas solicitudes, intenta más tarde"}),
    )
}

async fn fallback() -> Response {
    json(
        StatusCode::NOT_FOUND,
        json!({"error": "not_found", "message": "Ruta no encontrada"}),
    )
}

pub(crate) fn routes() -> Router<Arc<Emu>> {
    Router::new()
        .route("/contacts/v1", get(list).post(create))
        .route("/contacts/v1/bulk", post(bulk))
        .route(
            "/contacts/v1/{id}",
            get(get_one).patch(update).delete(delete_one),
        )
        .route("/contacts/check-phone", get(check_phone))
        .fallback(fallback)
}

/// The fields of a create or update, validated.
#[derive(Default)]
struct Input {
    fields: Map<String, Value>,
}

fn push(details: &mut Map<String, Value>, field: &str, msg: &str) {
    let e = details
        .entry(field.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = e {
        a.push(Value::String(msg.to_string()));
    }
}

const STRING_FIELDS: &[&str] = &[
    "name",
    "notes",
    "source",
    "company",
    "address",
    "city",
    "state",
    "postal_code",
    "assigned_agent_id",
];

/// Validates a create (`partial == false`) or an update body.
fn validate(body: &Value, partial: bool) -> Result<Input, Map<String, Value>> {
    let mut d = Map::new();
    let Some(o) = body.as_object() else {
        push(&mut d, "body", "Se esperaba un objeto JSON");
        return Err(d);
    };
    let mut out = Map::new();
    match o.get("phone_number") {
        None | Some(Value::Null) if !partial => push(&mut d, "phone_number", "Requerido"),
        None | Some(Value::Null) => {}
        Some(Value::String(p)) if is_e164(p) => {
            out.insert("phone_number".into(), json!(p));
        }
        Some(_) => push(&mut d, "phone_number", E164_MSG),
    }
    for &k in STRING_FIELDS {
        match o.get(k) {
            None => {}
            Some(v @ (Value::String(_) | Value::Null)) => {
                out.insert(k.into(), v.clone());
            }
            Some(_) => push(&mut d, k, "Debe ser un texto"),
        }
    }
    match o.get("email") {
        None => {}
        Some(Value::Null) => {
            out.insert("email".into(), Value::Null);
        }
        Some(Value::String(e)) if is_email(e) => {
            out.insert("email".into(), json!(e));
        }
        Some(_) => push(&mut d, "email", "Email inválido"),
    }
    match o.get("avatar_url") {
        None => {}
        Some(Value::Null) => {
            out.insert("avatar_url".into(), Value::Null);
        }
        Some(Value::String(u)) if u.starts_with("http://") || u.starts_with("https://") => {
            out.insert("avatar_url".into(), json!(u));
        }
        Some(_) => push(&mut d, "avatar_url", "URL inválida"),
    }
    for k in ["tags", "add_tags", "remove_tags"] {
        match o.get(k) {
            None => {}
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                out.insert(k.into(), Value::Array(a.clone()));
            }
            Some(_) => push(&mut d, k, "Debe ser un arreglo de textos"),
        }
    }
    for k in ["custom_fields", "external_ids"] {
        match o.get(k) {
            None => {}
            Some(v @ Value::Object(_)) => {
                out.insert(k.into(), v.clone());
            }
            Some(_) => push(&mut d, k, "Debe ser un objeto"),
        }
    }
    match o.get("funnel_stage_id") {
        None => {}
        Some(Value::Null) => {
            out.insert("funnel_stage_id".into(), Value::Null);
        }
        Some(Value::String(s)) if is_uuid(s) => {
            out.insert("funnel_stage_id".into(), json!(s));
        }
        Some(_) => push(&mut d, "funnel_stage_id", "UUID inválido"),
    }
    match o.get("country") {
        None | Some(Value::Null) => {}
        Some(Value::String(c)) if c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()) => {
            out.insert("country".into(), json!(c.to_ascii_uppercase()));
        }
        Some(_) => push(
            &mut d,
            "country",
            "Código de país inválido (ISO 3166-1 alpha-2)",
        ),
    }
    match o.get("deal_value") {
        None => {}
        Some(v @ (Value::Number(_) | Value::Null)) => {
            out.insert("deal_value".into(), v.clone());
        }
        Some(_) => push(&mut d, "deal_value", "Debe ser un número"),
    }
    if d.is_empty() {
        Ok(Input { fields: out })
    } else {
        Err(d)
    }
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(opt_str).collect())
        .unwrap_or_default()
}

/// Applies validated fields to a contact (a new one or an update).
fn apply(c: &mut Contact, input: &Input) {
    for (k, v) in &input.fields {
        match k.as_str() {
            "phone_number" => c.phone_number = opt_str(v).unwrap_or_default(),
            "name" => c.name = opt_str(v),
            "email" => c.email = opt_str(v),
            "avatar_url" => c.avatar_url = opt_str(v),
            "notes" => c.notes = opt_str(v),
            "source" => c.source = opt_str(v).unwrap_or_else(|| "api".into()),
            "company" => c.company = opt_str(v),
            "address" => c.address = opt_str(v),
            "city" => c.city = opt_str(v),
            "state" => c.state = opt_str(v),
            "postal_code" => c.postal_code = opt_str(v),
            "assigned_agent_id" => c.assigned_agent_id = opt_str(v),
            "funnel_stage_id" => c.funnel_stage_id = opt_str(v),
            "country" => c.country = opt_str(v).unwrap_or_else(|| "MX".into()),
            "deal_value" => c.deal_value = (!v.is_null()).then(|| v.clone()),
            "tags" => c.tags = str_list(v),
            "custom_fields" => c.custom_fields = v.as_object().cloned().unwrap_or_default(),
            "external_ids" => c.external_ids = v.as_object().cloned().unwrap_or_default(),
            _ => {}
        }
    }
    if let Some(add) = input.fields.get("add_tags") {
        for t in str_list(add) {
            if !c.tags.contains(&t) {
                c.tags.push(t);
            }
        }
    }
    if let Some(rm) = input.fields.get("remove_tags") {
        let rm = str_list(rm);
        c.tags.retain(|t| !rm.contains(t));
    }
}

/// Creates a contact; `Err` is the error response.
fn create_in(st: &mut State, body: &Value) -> Result<Contact, ApiError> {
    let input = validate(body, false).map_err(ApiError::Validation)?;
    let phone = input
        .fields
        .get("phone_number")
        .and_then(opt_str)
        .unwrap_or_default();
    if let Some(existing) = st.by_phone.get(&phone).and_then(|s| st.contacts.get(s)) {
        return Err(ApiError::Duplicate(existing.id.clone()));
    }
    let now = rfc3339(unix_now());
    let seq = st.next_seq.max(1);
    st.next_seq = seq + 1;
    let mut c = Contact {
        id: st.new_id(),
        source: "api".into(),
        country: "MX".into(),
        created_at: now.clone(),
        updated_at: now,
        seq,
        ..Contact::default()
    };
    apply(&mut c, &input);
    st.by_id.insert(c.id.clone(), seq);
    st.by_phone.insert(c.phone_number.clone(), seq);
    st.contacts.insert(seq, c.clone());
    Ok(c)
}

/// Updates contact `id`; `Err` is the error response.
fn update_in(st: &mut State, id: &str, body: &Value) -> Result<Contact, ApiError> {
    let input = validate(body, true).map_err(ApiError::Validation)?;
    let Some(&seq) = st.by_id.get(id) else {
        return Err(ApiError::NotFound);
    };
    if let Some(p) = input.fields.get("phone_number").and_then(opt_str)
        && let Some(&other) = st.by_phone.get(&p)
        && other != seq
    {
        let existing = st
            .contacts
            .get(&other)
            .map(|c| c.id.clone())
            .unwrap_or_default();
        return Err(ApiError::Duplicate(existing));
    }
    let Some(c) = st.contacts.get_mut(&seq) else {
        return Err(ApiError::NotFound);
    };
    let old_phone = c.phone_number.clone();
    apply(c, &input);
    c.updated_at = rfc3339(unix_now());
    let (new_phone, out) = (c.phone_number.clone(), c.clone());
    if new_phone != old_phone {
        st.by_phone.remove(&old_phone);
        st.by_phone.insert(new_phone, seq);
    }
    Ok(out)
}

fn delete_in(st: &mut State, id: &str) -> bool {
    let Some(seq) = st.by_id.remove(id) else {
        return false;
    };
    if let Some(c) = st.contacts.remove(&seq) {
        st.by_phone.remove(&c.phone_number);
    }
    true
}

fn parse_body(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| {
        let mut d = Map::new();
        push(&mut d, "body", "JSON inválido");
        validation(d)
    })
}

async fn create(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let res = create_in(&mut lock(&emu.whaapy), &v);
    match res {
        Ok(c) => {
            emu.stats(PlatformKind::Whaapy).add_created(1);
            // Assumption: 201 Created (the seed shows the body only).
            json(StatusCode::CREATED, json!({"contact": c.to_json()}))
        }
        Err(e) => e.response(),
    }
}

async fn update(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>, body: Bytes) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let res = update_in(&mut lock(&emu.whaapy), &id, &v);
    match res {
        Ok(c) => {
            emu.stats(PlatformKind::Whaapy).add_updated(1);
            json(StatusCode::OK, json!({"contact": c.to_json()}))
        }
        Err(e) => e.response(),
    }
}

async fn get_one(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>) -> Response {
    match lock(&emu.whaapy).get(&id) {
        Some(c) => json(StatusCode::OK, json!({"contact": c.to_json()})),
        None => ApiError::NotFound.response(),
    }
}

async fn delete_one(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>) -> Response {
    if !delete_in(&mut lock(&emu.whaapy), &id) {
        return ApiError::NotFound.response();
    }
    emu.stats(PlatformKind::Whaapy).add_deleted(1);
    // Assumption: 200 with a confirmation body.
    json(StatusCode::OK, json!({"success": true, "id": id}))
}

/// The sort key of a contact for `sort_by`.
fn sort_key(c: &Contact, sort_by: &str) -> String {
    match sort_by {
        "updated_at" => c.updated_at.clone(),
        "name" => c.name.clone().unwrap_or_default().to_lowercase(),
        _ => String::new(),
    }
}

/// GET /contacts/v1: keyset pagination with an opaque cursor (platforms.md:
/// `{data, pagination: {next_cursor, has_more}}`). Assumption: the default
/// order is newest first; the cursor encodes the last item's sort key.
async fn list(AxState(emu): AxState<Arc<Emu>>, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q.as_deref());
    let mut d = Map::new();
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            push(&mut d, "limit", "Debe ser un entero entre 1 y 100");
            0
        }
    };
    let sort_by = q.get("sort_by").map(String::as_str).unwrap_or("created_at");
    if !["created_at", "updated_at", "name"].contains(&sort_by) {
        push(&mut d, "sort_by", "Valor inválido");
    }
    let desc = match q.get("sort_order").map(String::as_str) {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(_) => {
            push(&mut d, "sort_order", "Valor inválido");
            true
        }
    };
    let cursor: Option<(String, u64)> = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match hex_decode(c).and_then(|b| serde_json::from_slice(&b).ok()) {
            Some(v) => Some(v),
            None => {
                push(&mut d, "cursor", "Cursor inválido");
                None
            }
        },
    };
    if !d.is_empty() {
        return validation(d);
    }
    let stage = q.get("funnel_stage_id");
    let st = lock(&emu.whaapy);
    let mut rows: Vec<(String, u64, &Contact)> = st
        .contacts
        .values()
        .filter(|c| stage.is_none() || c.funnel_stage_id.as_ref() == stage)
        .map(|c| (sort_key(c, sort_by), c.seq, c))
        .collect();
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    if desc {
        rows.reverse();
    }
    let start = match &cursor {
        None => 0,
        Some((k, s)) => rows
            .iter()
            .position(|(rk, rs, _)| {
                let ord = (rk, *rs).cmp(&(k, *s));
                if desc { ord.is_lt() } else { ord.is_gt() }
            })
            .unwrap_or(rows.len()),
    };
    let page: Vec<&(String, u64, &Contact)> = rows.iter().skip(start).take(limit).collect();
    let has_more = start + page.len() < rows.len();
    let next_cursor = match (has_more, page.last()) {
        (true, Some((k, s, _))) => {
            let raw = serde_json::to_vec(&(k, s)).unwrap_or_default();
            Value::String(hex_encode(&raw))
        }
        _ => Value::Null,
    };
    let data: Vec<Value> = page.iter().map(|(_, _, c)| c.to_json()).collect();
    json(
        StatusCode::OK,
        json!({"data": data, "pagination": {"next_cursor": next_cursor, "has_more": has_more}}),
    )
}

/// GET /contacts/check-phone?phone= → `{exists, contact}` (platforms.md).
async fn check_phone(AxState(emu): AxState<Arc<Emu>>, RawQuery(q): RawQuery) -> Response {
    let q = query_map(q.as_deref());
    let raw = q.get("phone").map(|p| p.trim()).unwrap_or("");
    // Assumption: an unencoded `+` in the query decodes to a space (as any
    // form decoder does), so a bare run of digits is read as `+digits`.
    let phone = if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        format!("+{raw}")
    } else {
        raw.to_string()
    };
    if !is_e164(&phone) {
        let mut d = Map::new();
        push(
            &mut d,
            "phone",
            if raw.is_empty() {
                "Requerido"
            } else {
                E164_MSG
            },
        );
        return validation(d);
    }
    let st = lock(&emu.whaapy);
    let c = st.by_phone.get(&phone).and_then(|s| st.contacts.get(s));
    json(
        StatusCode::OK,
        json!({"exists": c.is_some(), "contact": c.map(Contact::to_json)}),
    )
}

/// A failed item of a bulk request.
fn item_error(index: usize, e: &ApiError) -> Value {
    let mut v = json!({"index": index, "success": false, "status": e.status().as_u16()});
    if let Value::Object(o) = e.body() {
        for (k, val) in o {
            v[k] = val;
        }
    }
    v
}

/// POST /contacts/v1/bulk (platforms.md: up to 100 items). Assumption: each
/// item succeeds or fails on its own, and the answer is 200 with
/// `{"operation", "results": [{"index", "success", "id"} | {"index",
/// "success": false, "status", "error", "message", ...}], "summary"}` in
/// request order.
async fn bulk(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut d = Map::new();
    let op = v.get("operation").and_then(Value::as_str).unwrap_or("");
    let list_key = match op {
        "create" | "update" => "contacts",
        "delete" | "add_tags" | "remove_tags" | "set_funnel_stage" => "contact_ids",
        _ => {
            push(
                &mut d,
                "operation",
                "Debe ser create, update, delete, add_tags, remove_tags o set_funnel_stage",
            );
            return validation(d);
        }
    };
    let items = match v.get(list_key) {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_BULK => a.clone(),
        Some(Value::Array(a)) if a.len() > MAX_BULK => {
            push(&mut d, list_key, "Máximo 100 elementos");
            return validation(d);
        }
        _ => {
            push(
                &mut d,
                list_key,
                "Requerido: un arreglo de 1 a 100 elementos",
            );
            return validation(d);
        }
    };
    let extra = match op {
        "add_tags" | "remove_tags" => match v.get("tags") {
            Some(Value::Array(t)) if t.iter().all(Value::is_string) => json!({op: t}),
            _ => {
                push(&mut d, "tags", "Requerido: un arreglo de textos");
                return validation(d);
            }
        },
        "set_funnel_stage" => match v.get("funnel_stage_id") {
            Some(s @ Value::String(x)) if is_uuid(x) => json!({"funnel_stage_id": s}),
            Some(Value::Null) => json!({"funnel_stage_id": null}),
            _ => {
                push(&mut d, "funnel_stage_id", "UUID inválido");
                return validation(d);
            }
        },
        _ => Value::Null,
    };
    let stats = emu.stats(PlatformKind::Whaapy);
    let mut results = Vec::with_capacity(items.len());
    let (mut created, mut updated, mut deleted) = (0, 0, 0);
    {
        let mut st = lock(&emu.whaapy);
        for (index, item) in items.iter().enumerate() {
            let res: Result<String, ApiError> = match op {
                "create" => create_in(&mut st, item).map(|c| {
                    created += 1;
                    c.id
                }),
                "update" => match item.get("id").and_then(Value::as_str) {
                    Some(id) => {
                        let mut body = item.clone();
                        if let Some(o) = body.as_object_mut() {
                            o.remove("id");
                        }
                        update_in(&mut st, id, &body).map(|c| {
                            updated += 1;
                            c.id
                        })
                    }
                    None => {
                        let mut d = Map::new();
                        push(&mut d, "id", "Requerido");
                        Err(ApiError::Validation(d))
                    }
                },
                "delete" => match item.as_str() {
                    Some(id) if delete_in(&mut st, id) => {
                        deleted += 1;
                        Ok(id.to_string())
                    }
                    _ => Err(ApiError::NotFound),
                },
                _ => match item.as_str() {
                    Some(id) => update_in(&mut st, id, &extra).map(|c| {
                        updated += 1;
                        c.id
                    }),
                    None => Err(ApiError::NotFound),
                },
            };
            results.push(match res {
                Ok(id) => json!({"index": index, "success": true, "id": id}),
                Err(e) => item_error(index, &e),
            });
        }
    }
    stats.add_created(created);
    stats.add_updated(updated);
    stats.add_deleted(deleted);
    let ok = results.iter().filter(|r| r["success"] == true).count();
    json(
        StatusCode::OK,
        json!({
            "operation": op,
            "results": results,
            "summary": {"total": items.len(), "succeeded": ok, "failed": items.len() - ok},
        }),
    )
}
