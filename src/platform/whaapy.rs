//! Whaapy: one contact per `POST /contacts/v1` (seed 001).
//!
//! - Identity: the E.164 phone (Whaapy refuses a second contact with it:
//!   409 `duplicate_contact` with `existing_contact_id`, seed 001).
//! - Create mode: a duplicate is `exists` with the existing id. Upsert
//!   mode: `PATCH /contacts/v1/{id}` without `phone_number` and `source`
//!   (platforms.md, vendor's n8n node) → `updated`.
//! - `validation_error` → `invalid` with the platform's per-field details.
//! - A retry after a lost answer is safe by construction: the create
//!   answers 409 with the contact the lost attempt made, which is then
//!   reported `created` (create mode) or patched (upsert mode).
//! - Before creating a Mexican mobile, its pre-2019 form `+521…` (the form
//!   Whaapy's own docs show) is looked up with `check-phone`: an account may
//!   hold it that way, and a create of `+52…` would make a twin
//!   (docs/platforms.md#whaapy-identity).
//! - Updates merge: tags go as `add_tags`, never `tags`, so tags set in
//!   Whaapy stay; fields the file leaves empty are not sent
//!   (docs/platforms.md#whaapy-upsert).
//! - A create without a country column sends the phone's region: Whaapy
//!   would store `MX` otherwise (seed 001: "default: MX").
//! - Pace: the published 100 requests per minute (docs/platforms.md#whaapy-rate-limit,
//!   "may vary by plan": `--rate` raises the ceiling; 429s lower the pace,
//!   see `net::pace`). A 429 without Retry-After waits 1 s (assumed).
//! - `--whaapy-bulk`: `POST /contacts/v1/bulk`, 100 a call, known only from
//!   the vendor's integration code (platforms.md); its per-item answer is
//!   an assumption shared with the emulator.

use super::error::snippet;
use super::http::{Reply, Transport};
use super::wazzup::urlencode;
use super::{
    AdapterOptions, BatchResult, BoxFuture, Credentials, Entity, ItemResult, Page, Platform,
    PlatformError, PlatformKind, RemoteContact, Transient, WriteMode, auth_halt, failure_result,
    status_result,
};
use crate::model::Contact;
use crate::model::Item;
use crate::model::Status;
use crate::normalize::{country, phone};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Default pace: the published 100 requests per minute (API overview,
/// docs/platforms.md#whaapy-rate-limit).
pub const DEFAULT_RATE: f64 = 100.0 / 60.0;
/// Wait after a 429 without Retry-After (assumed).
pub const WAIT_429: Duration = Duration::from_secs(1);
/// Items per bulk call (platforms.md).
pub const MAX_BULK: usize = 100;
/// The key under which the file's external id is kept in `external_ids`.
pub const EXTERNAL_ID_KEY: &str = "import";
/// Value of `source` on contacts waport creates (a documented example).
pub const SOURCE: &str = "import";

/// The Whaapy adapter.
pub struct Whaapy {
    base: String,
    key: String,
    bulk: bool,
    t: Transport,
}

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

fn message(v: &Value, r: &Reply) -> String {
    v.get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| snippet(&r.body))
}

fn contact_id(v: &Value) -> String {
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

impl Whaapy {
    /// Builds the adapter.
    pub fn new(creds: Credentials, opts: AdapterOptions) -> Result<Whaapy, PlatformError> {
        let key = creds.api_key("Whaapy")?;
        let t = Transport::new("whaapy", opts.rate.unwrap_or(DEFAULT_RATE), opts.timeout)?;
        Ok(Whaapy {
            base: creds.base_url,
            key,
            bulk: opts.whaapy_bulk,
            t,
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.t
            .client()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    fn auth_error(&self, r: &Reply) -> PlatformError {
        PlatformError::Auth {
            platform: "whaapy",
            status: r.status,
            message: message(&r.json(), r),
        }
    }

    /// Sends one contact: create, then (upsert) patch the duplicate.
    async fn send_one(
        &self,
        mode: WriteMode,
        item: &Item,
        maybe_applied: bool,
    ) -> (ItemResult, Option<super::Halt>) {
        let body = match payload(&item.contact, false) {
            Ok(b) => b,
            Err(reason) => return (ItemResult::done(Status::Invalid, "", reason), None),
        };
        // Update mode and the `+521` twin: look before creating.
        let lookup = match mode {
            WriteMode::Update => self.find(&item.contact.phone).await,
            _ => match mx_legacy(&item.contact.phone) {
                Some(alt) => self.check_phone(&alt).await.map(|f| f.map(|id| (id, alt))),
                None => Ok(None),
            },
        };
        match lookup {
            Err(e) => return super::lookup_failure(e, maybe_applied),
            Ok(None) if mode == WriteMode::Update => {
                return (
                    ItemResult::done(Status::Skipped, "", crate::upload::NOT_FOUND),
                    None,
                );
            }
            Ok(None) => {}
            Ok(Some((id, stored))) => {
                let note = if stored == item.contact.phone.trim() {
                    String::new()
                } else {
                    format!("matched_by_phone: stored as {stored}")
                };
                return match mode {
                    WriteMode::Create => (ItemResult::done(Status::Exists, id, note), None),
                    _ => (
                        with_note(
                            super::update_result(self.patch(&item.contact, &id).await),
                            &note,
                        ),
                        None,
                    ),
                };
            }
        }
        let r = match self
            .t
            .send(self.req(reqwest::Method::POST, "/contacts/v1").json(&body))
            .await
        {
            Ok(r) => r,
            Err(f) => return (failure_result(f), None),
        };
        let v = r.json();
        let code = v.get("error").and_then(Value::as_str).unwrap_or_default();
        match r.status {
            200..=299 => (ItemResult::done(Status::Created, contact_id(&v), ""), None),
            401 | 403 => (
                ItemResult::NotSent,
                Some(auth_halt("whaapy", &r, message(&v, &r))),
            ),
            409 if code == "duplicate_contact" => {
                let existing = v
                    .get("existing_contact_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                match mode {
                    WriteMode::Create if maybe_applied => (
                        ItemResult::found_after_lost_answer(existing, super::LOST_ANSWER),
                        None,
                    ),
                    WriteMode::Create => (ItemResult::done(Status::Exists, existing, ""), None),
                    WriteMode::Upsert | WriteMode::Update => (
                        super::update_result(self.patch(&item.contact, &existing).await),
                        None,
                    ),
                }
            }
            _ if code == "validation_error" => (
                ItemResult::done(Status::Invalid, "", validation_reason(&v)),
                None,
            ),
            _ => (status_result(&r, &self.t, WAIT_429, &message(&v, &r)), None),
        }
    }

    /// `GET /contacts/check-phone`: the id of the contact stored with
    /// exactly this phone (docs/platforms.md#whaapy-identity).
    async fn check_phone(&self, phone: &str) -> Result<Option<String>, PlatformError> {
        let phone = phone.trim();
        if phone.is_empty() {
            return Ok(None);
        }
        let r = self
            .t
            .send(
                self.req(reqwest::Method::GET, "/contacts/check-phone")
                    .query(&[("phone", phone)]),
            )
            .await
            .map_err(|f| self.t.error(f))?;
        if r.status == 401 || r.status == 403 {
            return Err(self.auth_error(&r));
        }
        if !r.ok() {
            return Err(self.t.http_error(&r));
        }
        let v = r.json();
        if v.get("exists") == Some(&json!(true)) {
            let id = v
                .get("contact")
                .and_then(|c| c.get("id"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Ok(Some(id.to_string()));
        }
        Ok(None)
    }

    /// The contact the account holds for this phone, in either stored form
    /// (`+52…` and `+521…` for a Mexican mobile), with the form found.
    async fn find(&self, phone: &str) -> Result<Option<(String, String)>, PlatformError> {
        let phone = phone.trim();
        for form in std::iter::once(phone.to_string()).chain(mx_legacy(phone)) {
            if let Some(id) = self.check_phone(&form).await? {
                return Ok(Some((id, form)));
            }
        }
        Ok(None)
    }

    async fn patch(&self, c: &Contact, id: &str) -> ItemResult {
        let body = match payload(c, true) {
            Ok(b) => b,
            Err(reason) => return ItemResult::done(Status::Invalid, id, reason),
        };
        let path = format!("/contacts/v1/{}", urlencode(id));
        let r = match self
            .t
            .send(self.req(reqwest::Method::PATCH, &path).json(&body))
            .await
        {
            Ok(r) => r,
            // The patch is idempotent: a retry starts over from the create,
            // which finds the same contact again.
            Err(f) => return failure_result(f),
        };
        let v = r.json();
        match r.status {
            200..=299 => ItemResult::done(Status::Updated, id, ""),
            _ if v.get("error").and_then(Value::as_str) == Some("validation_error") => {
                ItemResult::done(Status::Invalid, id, validation_reason(&v))
            }
            _ => status_result(&r, &self.t, WAIT_429, &message(&v, &r)),
        }
    }

    async fn send_bulk(
        &self,
        mode: WriteMode,
        items: &[Item],
        maybe_applied: &[bool],
    ) -> BatchResult {
        let mut results: Vec<Option<ItemResult>> = vec![None; items.len()];
        let mut sent: Vec<usize> = Vec::new();
        let mut bodies = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match payload(&item.contact, false) {
                Ok(b) => {
                    sent.push(i);
                    bodies.push(b);
                }
                Err(reason) => results[i] = Some(ItemResult::done(Status::Invalid, "", reason)),
            }
        }
        let mut halt = None;
        let mut to_update: Vec<(usize, String)> = Vec::new();
        if !bodies.is_empty() {
            let body = json!({"operation": "create", "contacts": bodies});
            match self.bulk_call(&body).await {
                Err((res, h)) => {
                    halt = h;
                    for i in &sent {
                        results[*i] = Some(res.clone());
                    }
                }
                Ok(per_item) => {
                    for (k, i) in sent.iter().enumerate() {
                        let r = per_item.get(k).cloned().unwrap_or(Value::Null);
                        let res = if r.get("success") == Some(&json!(true)) {
                            let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                            ItemResult::done(Status::Created, id, "")
                        } else if r.get("error").and_then(Value::as_str)
                            == Some("duplicate_contact")
                        {
                            let id = r
                                .get("existing_contact_id")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string();
                            match mode {
                                WriteMode::Upsert | WriteMode::Update => {
                                    to_update.push((*i, id));
                                    continue;
                                }
                                WriteMode::Create if maybe_applied[*i] => {
                                    ItemResult::found_after_lost_answer(id, super::LOST_ANSWER)
                                }
                                WriteMode::Create => ItemResult::done(Status::Exists, id, ""),
                            }
                        } else {
                            bulk_item_error(&r)
                        };
                        results[*i] = Some(res);
                    }
                }
            }
        }
        if !to_update.is_empty() {
            let mut contacts = Vec::new();
            for (i, id) in &to_update {
                let mut b = payload(&items[*i].contact, true).unwrap_or_else(|_| json!({}));
                b["id"] = json!(id);
                contacts.push(b);
            }
            let body = json!({"operation": "update", "contacts": contacts});
            match self.bulk_call(&body).await {
                Err((res, h)) => {
                    halt = halt.or(h);
                    for (i, _) in &to_update {
                        results[*i] = Some(res.clone());
                    }
                }
                Ok(per_item) => {
                    for (k, (i, id)) in to_update.iter().enumerate() {
                        let r = per_item.get(k).cloned().unwrap_or(Value::Null);
                        results[*i] = Some(if r.get("success") == Some(&json!(true)) {
                            ItemResult::done(Status::Updated, id.clone(), "")
                        } else {
                            bulk_item_error(&r)
                        });
                    }
                }
            }
        }
        BatchResult {
            results: results
                .into_iter()
                .map(|r| r.unwrap_or(ItemResult::NotSent))
                .collect(),
            halt,
        }
    }

    /// One bulk call: the per-item results, or one result for all items.
    async fn bulk_call(
        &self,
        body: &Value,
    ) -> Result<Vec<Value>, (ItemResult, Option<super::Halt>)> {
        let r = self
            .t
            .send(
                self.req(reqwest::Method::POST, "/contacts/v1/bulk")
                    .json(body),
            )
            .await
            .map_err(|f| (failure_result(f), None))?;
        let v = r.json();
        if r.status == 401 || r.status == 403 {
            return Err((
                ItemResult::NotSent,
                Some(auth_halt("whaapy", &r, message(&v, &r))),
            ));
        }
        if r.ok()
            && let Some(a) = v.get("results").and_then(Value::as_array)
        {
            let mut out = vec![Value::Null; a.len()];
            for (k, x) in a.iter().enumerate() {
                let idx = x
                    .get("index")
                    .and_then(Value::as_u64)
                    .map_or(k, |n| n as usize);
                if idx < out.len() {
                    out[idx] = x.clone();
                }
            }
            return Ok(out);
        }
        if v.get("error").and_then(Value::as_str) == Some("validation_error") {
            return Err((
                ItemResult::done(Status::Failed, "", validation_reason(&v)),
                None,
            ));
        }
        Err((status_result(&r, &self.t, WAIT_429, &message(&v, &r)), None))
    }
}

/// Adds `note` to a final result's reason.
fn with_note(r: ItemResult, note: &str) -> ItemResult {
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

fn bulk_item_error(r: &Value) -> ItemResult {
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

impl Platform for Whaapy {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Whaapy
    }

    fn batch_size(&self, _entity: Entity) -> usize {
        if self.bulk { MAX_BULK } else { 1 }
    }

    fn default_rate(&self) -> f64 {
        DEFAULT_RATE
    }

    fn transport(&self) -> &Transport {
        &self.t
    }

    fn identity(&self, _entity: Entity, contact: &Contact) -> Option<String> {
        let p = contact.phone.trim();
        (!p.is_empty()).then(|| p.to_string())
    }

    fn precheck(&self, entity: Entity, contact: &Contact) -> Result<(), String> {
        if entity == Entity::Users {
            return Err("unsupported_entity: Whaapy has no users API".into());
        }
        payload(contact, false).map(|_| ())
    }

    fn send_batch<'a>(
        &'a self,
        entity: Entity,
        mode: WriteMode,
        items: &'a [Item],
        maybe_applied: &'a [bool],
    ) -> BoxFuture<'a, BatchResult> {
        Box::pin(async move {
            if entity == Entity::Users {
                return super::no_users_api("Whaapy", items.len());
            }
            // Update mode and Mexican numbers need a look-up per contact
            // before anything is created: those go one by one.
            let per_item = mode == WriteMode::Update
                || items.iter().any(|i| mx_legacy(&i.contact.phone).is_some());
            if self.bulk && !per_item {
                return self.send_bulk(mode, items, maybe_applied).await;
            }
            super::send_each(items, maybe_applied, |item, applied| {
                self.send_one(mode, item, applied)
            })
            .await
        })
    }

    fn find_existing<'a>(
        &'a self,
        contact: &'a Contact,
    ) -> BoxFuture<'a, Result<Option<String>, PlatformError>> {
        Box::pin(async move { Ok(self.find(&contact.phone).await?.map(|(id, _)| id)) })
    }

    fn list_page<'a>(
        &'a self,
        entity: Entity,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page, PlatformError>> {
        Box::pin(async move {
            if entity == Entity::Users {
                return Err(PlatformError::Unsupported {
                    platform: "whaapy",
                    what: "list users",
                });
            }
            let mut q: Vec<(&str, &str)> = vec![("limit", "100"), ("sort_order", "asc")];
            if let Some(c) = cursor {
                q.push(("cursor", c));
            }
            let r = self
                .t
                .send(self.req(reqwest::Method::GET, "/contacts/v1").query(&q))
                .await
                .map_err(|f| self.t.error(f))?;
            if r.status == 401 || r.status == 403 {
                return Err(self.auth_error(&r));
            }
            if !r.ok() {
                return Err(self.t.http_error(&r));
            }
            let v = r.json();
            let items = v
                .get("data")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(remote_contact).collect())
                .unwrap_or_default();
            let p = v.get("pagination");
            let more = p.and_then(|p| p.get("has_more")).and_then(Value::as_bool) == Some(true);
            let next = p
                .and_then(|p| p.get("next_cursor"))
                .and_then(Value::as_str)
                .filter(|_| more)
                .map(str::to_string);
            Ok(Page {
                items,
                next,
                note: None,
            })
        })
    }

    fn delete<'a>(
        &'a self,
        _entity: Entity,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PlatformError>> {
        Box::pin(async move {
            let path = format!("/contacts/v1/{}", urlencode(remote_id));
            let r = self
                .t
                .send(self.req(reqwest::Method::DELETE, &path))
                .await
                .map_err(|f| self.t.error(f))?;
            match r.status {
                200..=299 | 404 => Ok(()),
                401 | 403 => Err(self.auth_error(&r)),
                _ => Err(self.t.http_error(&r)),
            }
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<Vec<String>, PlatformError>> {
        Box::pin(async move {
            let r = self
                .t
                .send(
                    self.req(reqwest::Method::GET, "/contacts/v1")
                        .query(&[("limit", "1")]),
                )
                .await
                .map_err(|f| self.t.error(f))?;
            if r.status == 401 || r.status == 403 {
                return Err(self.auth_error(&r));
            }
            if !r.ok() {
                return Err(self.t.http_error(&r));
            }
            Ok(Vec::new())
        })
    }
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
