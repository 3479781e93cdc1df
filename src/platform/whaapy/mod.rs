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

mod payload;

pub use payload::{EXTERNAL_ID_KEY, SOURCE, mx_legacy, payload, remote_contact, validation_reason};
use payload::{bulk_item_error, contact_id, with_note};

use super::error::snippet;
use super::http::urlencode;
use super::http::{Auth, Endpoint, Reply, Transport};
use super::{
    AdapterOptions, BatchResult, BoxFuture, Credentials, Entity, ItemResult, Page, Platform,
    PlatformError, PlatformKind, WriteMode, auth_halt, failure_result, status_result,
};
use crate::model::Contact;
use crate::model::Item;
use crate::model::Status;
use serde_json::{Value, json};
use std::time::Duration;

/// Default pace: the published 100 requests per minute (API overview,
/// docs/platforms.md#whaapy-rate-limit).
pub const DEFAULT_RATE: f64 = 100.0 / 60.0;
/// Wait after a 429 without Retry-After (assumed).
pub const WAIT_429: Duration = Duration::from_secs(1);
/// Items per bulk call (platforms.md).
pub const MAX_BULK: usize = 100;

/// The Whaapy adapter.
pub struct Whaapy {
    endpoint: Endpoint,
    bulk: bool,
    t: Transport,
}

fn message(v: &Value, r: &Reply) -> String {
    v.get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| snippet(&r.body))
}

impl Whaapy {
    /// Builds the adapter.
    pub fn new(creds: Credentials, opts: AdapterOptions) -> Result<Whaapy, PlatformError> {
        let key = creds.api_key("Whaapy")?;
        let t = Transport::new("whaapy", opts.rate.unwrap_or(DEFAULT_RATE), opts.timeout)?;
        Ok(Whaapy {
            endpoint: Endpoint::new(creds.base_url, Auth::Bearer(key)),
            bulk: opts.whaapy_bulk,
            t,
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.endpoint.request(&self.t, method, path)
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
                    ItemResult::done(Status::Skipped, "", super::NOT_FOUND),
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
