//! WapiFlow external API contacts (seed 002 and platforms.md).
//!
//! Every answer is the envelope `{status, remark, message: [...], data}`.
//! As in the Laravel script WapiFlow appears to run on, errors other than
//! authentication (401) and unknown routes (404) come with HTTP 200: clients
//! must read `status`. Fields arrive form-encoded (urlencoded or multipart,
//! as PHP's curl sends an array) or as JSON. The remarks and texts not shown
//! in the documents are marked "Assumption".

use super::shared::{
    SoftClientError, chars, header_str, json, parse_multipart, parse_urlencoded, query_map,
    unix_now,
};
use super::{Emu, lock};
use crate::model::PlatformKind;
use crate::time::rfc3339;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

/// Laravel's default page size, and the seed's `paginar` default.
const DEFAULT_PER_PAGE: usize = 20;
/// Assumption: the avatar URL shown for a contact without an image.
const DEFAULT_IMAGE_SRC: &str = "https://wapiflow.cloud/assets/images/default.png";

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(default)]
struct Contact {
    id: u64,
    firstname: String,
    lastname: String,
    mobile_code: String,
    mobile: String,
    city: Option<String>,
    state: Option<String>,
    post_code: Option<String>,
    address: Option<String>,
    image: Option<String>,
    tags: Vec<Value>,
    lists: Vec<Value>,
    /// A contact with conversation messages cannot be deleted.
    has_messages: bool,
    /// A blocked contact cannot be deleted.
    blocked: bool,
    created_at: String,
    updated_at: String,
}

impl Contact {
    /// Assumption (platforms.md, inferred): `details` holds the address
    /// fields; `image_src` is the image or a default avatar.
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "mobile_code": self.mobile_code,
            "mobile": self.mobile,
            "details": {
                "address": self.address,
                "city": self.city,
                "state": self.state,
                "post_code": self.post_code,
            },
            "image": self.image,
            "image_src": self.image.clone().unwrap_or_else(|| DEFAULT_IMAGE_SRC.into()),
            "full_name": format!("{} {}", self.firstname, self.lastname),
            "tags": self.tags,
            "lists": self.lists,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// WapiFlow's stored contacts by numeric id (ascending = oldest first).
#[derive(Serialize, Deserialize, Debug)]
#[serde(default)]
pub(crate) struct State {
    contacts: BTreeMap<u64, Contact>,
    next_id: u64,
    #[serde(skip)]
    by_mobile: HashMap<(String, String), u64>,
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

impl State {
    pub(crate) fn new() -> State {
        State {
            contacts: BTreeMap::new(),
            next_id: 1,
            by_mobile: HashMap::new(),
        }
    }

    pub(crate) fn after_load(&mut self) {
        self.by_mobile = self
            .contacts
            .values()
            .map(|c| ((c.mobile_code.clone(), c.mobile.clone()), c.id))
            .collect();
        let max = self.contacts.keys().next_back().copied().unwrap_or(0);
        self.next_id = self.next_id.max(max + 1);
    }

    pub(crate) fn reset(&mut self) {
        *self = State::new();
    }

    pub(crate) fn contacts_json(&self) -> Value {
        Value::Array(self.contacts.values().map(Contact::to_json).collect())
    }
}

/// The envelope with HTTP 200.
fn envelope(status: &str, remark: &str, messages: &[String], data: Option<Value>) -> Response {
    let mut body = json!({"status": status, "remark": remark, "message": messages});
    if let Some(d) = data {
        body["data"] = d;
    }
    let mut r = json(StatusCode::OK, body);
    if status == "error" {
        r.extensions_mut().insert(SoftClientError);
    }
    r
}

fn error(remark: &str, messages: &[String]) -> Response {
    envelope("error", remark, messages, None)
}

fn unauthorized(messages: &[&str]) -> Response {
    json(
        StatusCode::UNAUTHORIZED,
        json!({"remark": "Unauthorized", "status": "error", "message": messages}),
    )
}

/// `client-id`/`client-secret`, then the account's IP whitelist (the
/// whitelist belongs to an account, so it is checked once the account is
/// known). Assumption: the text for wrong credentials and the client-id one.
pub(crate) fn authenticate(
    emu: &Emu,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Result<String, Response> {
    let Some(id) = header_str(headers, "client-id") else {
        return Err(unauthorized(&["The client id is required"]));
    };
    let Some(secret) = header_str(headers, "client-secret") else {
        return Err(unauthorized(&["The client secret is required"]));
    };
    if !emu
        .cfg
        .credentials
        .wapiflow
        .iter()
        .any(|(i, s)| i == id && s == secret)
    {
        return Err(unauthorized(&["Invalid client credentials"]));
    }
    if !emu.ip_allowed(peer) {
        let shown = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(peer),
            v4 => v4,
        };
        let second = format!(
            "In order to access this API endpoint, please add your IP address ({shown}) to the white list from the user dashboard."
        );
        return Err(unauthorized(&[
            "Access to this API endpoint is restricted to IP addresses that have been explicitly whitelisted.",
            &second,
        ]));
    }
    Ok(id.to_string())
}

/// Assumption: Laravel's throttle answer in the envelope, with Retry-After.
pub(crate) fn rate_limited(_retry_after: Option<u64>) -> Response {
    json(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"remark": "too_many_requests", "status": "error", "message": ["Too Many Attempts."]}),
    )
}

async fn fallback() -> Response {
    json(
        StatusCode::NOT_FOUND,
        json!({"remark": "not_found", "status": "error", "message": ["The requested route was not found"]}),
    )
}

pub(crate) fn routes() -> Router<Arc<Emu>> {
    Router::new()
        .route("/contact/list", get(list))
        .route("/contact/store", post(store))
        .route("/contact/update/{id}", post(update))
        .route("/contact/delete/{id}", delete(remove))
        .fallback(fallback)
}

/// The request's fields, whatever the encoding.
fn fields(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let pairs = if ct.starts_with("multipart/form-data") {
        parse_multipart(body, ct).unwrap_or_default()
    } else if ct.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => o
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    Value::Number(n) => Some((k, n.to_string())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    } else {
        parse_urlencoded(&String::from_utf8_lossy(body))
    };
    pairs.into_iter().collect()
}

/// Laravel's names for fields in messages ("mobile_code" → "mobile code").
fn attr(k: &str) -> String {
    k.replace('_', " ")
}

/// Validates the contact fields; `partial` (update) checks only those sent.
/// Rules inferred from the script: firstname, lastname required, ≤ 40;
/// mobile_code and mobile required, digits; mobile unique per mobile_code.
fn validate(
    st: &State,
    f: &HashMap<String, String>,
    partial: bool,
    current: Option<&Contact>,
) -> Vec<String> {
    let mut errs = Vec::new();
    let present = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    for k in ["firstname", "lastname", "mobile_code", "mobile"] {
        match present(k) {
            None if !partial || f.contains_key(k) => {
                errs.push(format!("The {} field is required.", attr(k)));
            }
            None => {}
            Some(v) => {
                if (k == "firstname" || k == "lastname") && chars(v) > 40 {
                    errs.push(format!(
                        "The {} field must not be greater than 40 characters.",
                        attr(k)
                    ));
                }
                if (k == "mobile_code" || k == "mobile") && !v.bytes().all(|b| b.is_ascii_digit()) {
                    errs.push(format!("The {} field must be a number.", attr(k)));
                }
            }
        }
    }
    for k in ["city", "state", "post_code", "address"] {
        if let Some(v) = f.get(k)
            && chars(v) > 255
        {
            errs.push(format!(
                "The {} field must not be greater than 255 characters.",
                attr(k)
            ));
        }
    }
    if errs.is_empty() {
        let code = present("mobile_code")
            .map(str::to_string)
            .or_else(|| current.map(|c| c.mobile_code.clone()));
        let mobile = present("mobile")
            .map(str::to_string)
            .or_else(|| current.map(|c| c.mobile.clone()));
        if let (Some(code), Some(mobile)) = (code, mobile)
            && let Some(&other) = st.by_mobile.get(&(code, mobile))
            && current.map(|c| c.id) != Some(other)
        {
            errs.push("The mobile has already been taken.".into());
        }
    }
    errs
}

fn apply(c: &mut Contact, f: &HashMap<String, String>) {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string());
    if let Some(v) = get("firstname") {
        c.firstname = v;
    }
    if let Some(v) = get("lastname") {
        c.lastname = v;
    }
    if let Some(v) = get("mobile_code") {
        c.mobile_code = v;
    }
    if let Some(v) = get("mobile") {
        c.mobile = v;
    }
    let opt = |v: String| (!v.is_empty()).then_some(v);
    if let Some(v) = get("city") {
        c.city = opt(v);
    }
    if let Some(v) = get("state") {
        c.state = opt(v);
    }
    if let Some(v) = get("post_code") {
        c.post_code = opt(v);
    }
    if let Some(v) = get("address") {
        c.address = opt(v);
    }
}

async fn store(AxState(emu): AxState<Arc<Emu>>, headers: HeaderMap, body: Bytes) -> Response {
    let f = fields(&headers, &body);
    let mut st = lock(&emu.wapiflow);
    let errs = validate(&st, &f, false, None);
    if !errs.is_empty() {
        return error("validation_error", &errs);
    }
    if let Some(limit) = emu.cfg.wapiflow_contact_limit
        && st.contacts.len() as u64 >= u64::from(limit)
    {
        // Assumption: the text of the plan-limit answer.
        return error(
            "contact_limit",
            &[
                "You have reached the maximum number of contacts allowed by your current plan"
                    .to_string(),
            ],
        );
    }
    let now = rfc3339(unix_now());
    let id = st.next_id.max(1);
    st.next_id = id + 1;
    let mut c = Contact {
        id,
        created_at: now.clone(),
        updated_at: now,
        ..Contact::default()
    };
    apply(&mut c, &f);
    st.by_mobile
        .insert((c.mobile_code.clone(), c.mobile.clone()), id);
    let data = json!({"contact": c.to_json()});
    st.contacts.insert(id, c);
    drop(st);
    emu.stats(PlatformKind::Wapiflow).add_created(1);
    // Assumption: remark and text of a successful store.
    envelope(
        "success",
        "contact_store",
        &["Contact saved successfully".to_string()],
        Some(data),
    )
}

fn not_found() -> Response {
    error("not_found", &["Contact not found".to_string()])
}

async fn update(
    AxState(emu): AxState<Arc<Emu>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    let f = fields(&headers, &body);
    let mut st = lock(&emu.wapiflow);
    let Some(current) = st.contacts.get(&id).cloned() else {
        return not_found();
    };
    // The seed: "only send the fields you want to modify".
    let errs = validate(&st, &f, true, Some(&current));
    if !errs.is_empty() {
        return error("validation_error", &errs);
    }
    let mut c = current;
    let old_key = (c.mobile_code.clone(), c.mobile.clone());
    apply(&mut c, &f);
    c.updated_at = rfc3339(unix_now());
    let new_key = (c.mobile_code.clone(), c.mobile.clone());
    if new_key != old_key {
        st.by_mobile.remove(&old_key);
        st.by_mobile.insert(new_key, id);
    }
    let data = json!({"contact": c.to_json()});
    st.contacts.insert(id, c);
    drop(st);
    emu.stats(PlatformKind::Wapiflow).add_updated(1);
    envelope(
        "success",
        "contact_update",
        &["Contact updated successfully".to_string()],
        Some(data),
    )
}

async fn remove(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    let mut st = lock(&emu.wapiflow);
    let Some(c) = st.contacts.get(&id) else {
        return not_found();
    };
    // The seed: deletion "may be restricted if the contact has associated
    // messages or is blocked". Assumption: the texts.
    if c.has_messages {
        return error(
            "contact_error",
            &["This contact cannot be deleted because it has conversation messages".to_string()],
        );
    }
    if c.blocked {
        return error(
            "contact_error",
            &["Blocked contacts cannot be deleted".to_string()],
        );
    }
    let key = (c.mobile_code.clone(), c.mobile.clone());
    st.contacts.remove(&id);
    st.by_mobile.remove(&key);
    drop(st);
    emu.stats(PlatformKind::Wapiflow).add_deleted(1);
    envelope(
        "success",
        "contact_delete",
        &["Contact deleted successfully".to_string()],
        None,
    )
}

/// GET contact/list: newest first, a Laravel length-aware paginator under
/// `data.contacts`.
async fn list(
    AxState(emu): AxState<Arc<Emu>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query_map(q.as_deref());
    // Laravel reads an unusable page as 1 and the script falls back to its
    // default page size.
    let page = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let per_page = q
        .get("paginate")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(DEFAULT_PER_PAGE);
    let search = q
        .get("search")
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let tag = q.get("tag_id").filter(|s| !s.is_empty());
    let st = lock(&emu.wapiflow);
    let matching: Vec<&Contact> = st
        .contacts
        .values()
        .rev()
        .filter(|c| {
            search.as_ref().is_none_or(|s| {
                c.firstname.to_lowercase().contains(s)
                    || c.lastname.to_lowercase().contains(s)
                    || c.mobile.contains(s.as_str())
            })
        })
        .filter(|c| {
            tag.is_none_or(|t| {
                c.tags.iter().any(|x| {
                    x.get("id").map(|i| i.to_string().trim_matches('"') == t) == Some(true)
                        || x.as_str() == Some(t.as_str())
                })
            })
        })
        .collect();
    let total = matching.len();
    let last_page = total.div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page);
    let data: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(per_page)
        .map(|c| c.to_json())
        .collect();
    let host = header_str(&headers, "host").unwrap_or("localhost");
    let path = format!(
        "http://{host}{}/contact/list",
        super::prefix(PlatformKind::Wapiflow)
    );
    let url = |p: usize| format!("{path}?page={p}");
    let (from, to) = if data.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (json!(start + 1), json!(start + data.len()))
    };
    let paginator = json!({
        "current_page": page,
        "data": data,
        "first_page_url": url(1),
        "from": from,
        "last_page": last_page,
        "last_page_url": url(last_page),
        "next_page_url": if page < last_page { json!(url(page + 1)) } else { Value::Null },
        "path": path,
        "per_page": per_page,
        "prev_page_url": if page > 1 { json!(url(page - 1)) } else { Value::Null },
        "to": to,
        "total": total,
    });
    envelope(
        "success",
        "contact_list",
        &["Contact list fetched successfully".to_string()],
        Some(json!({"contacts": paginator})),
    )
}
