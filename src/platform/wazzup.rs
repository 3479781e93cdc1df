//! Wazzup API v3: contacts and users, upserted by id in arrays of ≤ 100.
//!
//! - Contact id: the file's external id when mapped, else `waport-` and
//!   the E.164 digits, so a re-import upserts the same contact instead of
//!   doubling it (public docs: `POST /contacts` upserts by `id`).
//! - Batches of at most 100 (public docs; more is `TOO_MANY_ENTITIES`),
//!   never two equal ids in one (an n8n node: Wazzup answers 500).
//! - Pace: 500 requests per 5 s per account (public docs) is 100/s, the
//!   default and the ceiling (the pacer sends at 98% of any rate: 490 per
//!   5 s). On 429 (no Retry-After documented) every request waits 5 s plus
//!   jitter and the pace slows down (`net::pace`).
//! - Wazzup's success answer does not say whether a contact was new, so a
//!   sent contact is reported `created`.

use super::error::snippet;
use super::http::{Reply, Transport};
use super::{
    AdapterOptions, BatchResult, BoxFuture, Credentials, Entity, Halt, ItemResult, Page, Platform,
    PlatformError, PlatformKind, RemoteContact, WriteMode, auth_halt, cut, digits, failure_result,
    status_result,
};
use crate::model::Contact;
use crate::model::Item;
use crate::model::Status;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Entities per request (public docs and seed 003).
pub const MAX_BATCH: usize = 100;
/// Default pace: the documented 500 requests per 5 s.
pub const DEFAULT_RATE: f64 = 100.0;
/// Wait after a 429: the documented counter resets every 5 s.
pub const WAIT_429: Duration = Duration::from_secs(5);
/// Longest contact id sent: the docs allow 100; a public client keeps 64.
pub const MAX_ID: usize = 64;
/// Longest name (public docs for contacts, seed 003 for users).
pub const MAX_NAME: usize = 200;
/// Longest user id (seed 003).
pub const MAX_USER_ID: usize = 200;
/// Custom fields read as a per-row responsible user (`custom:responsible_user_id`).
pub const RESPONSIBLE_FIELDS: &[&str] = &["responsible_user_id", "responsible_user"];

#[derive(Debug, Clone)]
struct Users {
    ids: HashSet<String>,
    default: String,
    note: String,
}

/// The Wazzup adapter.
pub struct Wazzup {
    base: String,
    key: String,
    opts: AdapterOptions,
    t: Transport,
    users: OnceCell<Users>,
}

/// The contact id waport gives a contact: external id, else `waport-DIGITS`.
pub fn contact_id(c: &Contact) -> Result<String, String> {
    let ext = c.external_id.trim();
    if !ext.is_empty() {
        if ext.chars().count() > MAX_ID {
            return Err(format!(
                "external_id_too_long: Wazzup ids are kept to {MAX_ID} characters"
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

fn user_id(c: &Contact) -> Result<String, String> {
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
    let resp = RESPONSIBLE_FIELDS
        .iter()
        .find_map(|f| c.custom.get(*f).map(|v| v.trim()).filter(|v| !v.is_empty()))
        .unwrap_or(responsible);
    Ok((
        json!({
            "id": id,
            "responsibleUserId": resp,
            "name": name,
            "contactData": [{"chatType": "whatsapp", "chatId": chat}],
        }),
        warnings,
    ))
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

fn error_code(v: &Value) -> String {
    v.get("error")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn description(v: &Value, r: &Reply) -> String {
    v.get("description")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| snippet(&r.body))
}

impl Wazzup {
    /// Builds the adapter.
    pub fn new(creds: Credentials, opts: AdapterOptions) -> Result<Wazzup, PlatformError> {
        let key = creds.api_key("Wazzup")?;
        let t = Transport::new("wazzup", opts.rate.unwrap_or(DEFAULT_RATE), opts.timeout)?;
        Ok(Wazzup {
            base: creds.base_url,
            key,
            opts,
            t,
            users: OnceCell::new(),
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.t
            .client()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    async fn load_users(&self) -> Result<Users, PlatformError> {
        let r = self
            .t
            .send(self.req(reqwest::Method::GET, "/users"))
            .await
            .map_err(|f| self.t.error(f))?;
        if r.status == 401 || r.status == 403 {
            return Err(PlatformError::Auth {
                platform: "wazzup",
                status: r.status,
                message: description(&r.json(), &r),
            });
        }
        if !r.ok() {
            return Err(self.t.http_error(&r));
        }
        let list: Vec<(String, String)> = r
            .json()
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|u| {
                        Some((
                            u.get("id")?.as_str()?.to_string(),
                            u.get("name")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ids: HashSet<String> = list.iter().map(|(i, _)| i.clone()).collect();
        let shown = || {
            list.iter()
                .take(10)
                .map(|(i, n)| format!("{i} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (default, note) = match &self.opts.responsible_user {
            Some(u) if ids.contains(u.as_str()) => (u.clone(), String::new()),
            Some(u) => {
                return Err(PlatformError::ResponsibleUser(format!(
                    "Wazzup has no user with id {u:?}; --responsible-user must be one of: {}",
                    if list.is_empty() {
                        "(none)".into()
                    } else {
                        shown()
                    }
                )));
            }
            None => match list.first() {
                Some((i, n)) => (
                    i.clone(),
                    format!(
                        "responsible user: {n} ({i}), the first Wazzup user (choose another with --responsible-user)"
                    ),
                ),
                None => {
                    return Err(PlatformError::ResponsibleUser(
                        "the Wazzup account has no users, and every contact needs a responsible user: add one (waport import --entity users) first".into(),
                    ));
                }
            },
        };
        Ok(Users { ids, default, note })
    }

    async fn users(&self) -> Result<&Users, PlatformError> {
        self.users.get_or_try_init(|| self.load_users()).await
    }

    async fn send_contacts(&self, items: &[Item]) -> BatchResult {
        let users = match self.users().await {
            Ok(u) => u.clone(),
            Err(PlatformError::Interrupted) => {
                return BatchResult::halted(items.len(), cancel_halt());
            }
            Err(e) if e.is_fatal() => {
                return BatchResult::halted(
                    items.len(),
                    Halt {
                        reason: format!("stopped: {e}"),
                        error: Some(e),
                    },
                );
            }
            Err(e) => {
                return BatchResult::all_retry(
                    items.len(),
                    super::Transient {
                        error: format!("cannot list Wazzup users: {e}"),
                        retry_after: None,
                        maybe_applied: false,
                        rate_limited: false,
                    },
                );
            }
        };
        let mut results: Vec<Option<ItemResult>> = vec![None; items.len()];
        let mut payloads: Vec<(usize, Value, String)> = Vec::new();
        let mut ids: HashMap<String, u64> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            match contact_payload(&item.contact, &users.default) {
                Ok((v, warn)) => {
                    let resp = v["responsibleUserId"].as_str().unwrap_or_default();
                    if !users.ids.contains(resp) {
                        results[i] = Some(ItemResult::done(
                            Status::Invalid,
                            "",
                            format!("unknown_responsible_user: {resp:?} is not a Wazzup user"),
                        ));
                        continue;
                    }
                    if let Some(dup) = claim_id(&mut ids, &v, item.row) {
                        results[i] = Some(dup);
                        continue;
                    }
                    payloads.push((i, v, warn.join("; ")));
                }
                Err(reason) => results[i] = Some(ItemResult::done(Status::Invalid, "", reason)),
            }
        }
        let halt = self
            .post_array("/contacts", "INVALID_CONTACTS_DATA", payloads, &mut results)
            .await;
        finish(results, halt)
    }

    async fn send_users(&self, items: &[Item]) -> BatchResult {
        let mut results: Vec<Option<ItemResult>> = vec![None; items.len()];
        let mut payloads = Vec::new();
        let mut ids: HashMap<String, u64> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            match user_payload(&item.contact) {
                Ok((v, warn)) => {
                    if let Some(dup) = claim_id(&mut ids, &v, item.row) {
                        results[i] = Some(dup);
                        continue;
                    }
                    payloads.push((i, v, warn.join("; ")));
                }
                Err(reason) => results[i] = Some(ItemResult::done(Status::Invalid, "", reason)),
            }
        }
        let halt = self
            .post_array("/users", "INVALID_USERS_DATA", payloads, &mut results)
            .await;
        finish(results, halt)
    }

    /// Posts the array, taking out the entities Wazzup names as invalid and
    /// re-sending the rest, until it is accepted or fails as a whole.
    async fn post_array(
        &self,
        path: &str,
        invalid_code: &str,
        mut payloads: Vec<(usize, Value, String)>,
        results: &mut [Option<ItemResult>],
    ) -> Option<Halt> {
        while !payloads.is_empty() {
            let body = Value::Array(payloads.iter().map(|(_, v, _)| v.clone()).collect());
            let r = match self
                .t
                .send(self.req(reqwest::Method::POST, path).json(&body))
                .await
            {
                Ok(r) => r,
                Err(f) => {
                    let res = failure_result(f);
                    for (i, _, _) in &payloads {
                        results[*i] = Some(res.clone());
                    }
                    return None;
                }
            };
            if r.ok() {
                for (i, v, warn) in &payloads {
                    let id = v["id"].as_str().unwrap_or_default();
                    results[*i] = Some(ItemResult::done(Status::Created, id, warn.clone()));
                }
                return None;
            }
            let v = r.json();
            let code = error_code(&v);
            if r.status == 401 || r.status == 403 {
                let h = auth_halt("wazzup", &r, description(&v, &r));
                for (i, _, _) in &payloads {
                    results[*i] = Some(ItemResult::NotSent);
                }
                return Some(h);
            }
            if code == invalid_code
                && let Some(bad) = invalid_indices(&v).filter(|b| !b.is_empty())
            {
                let mut drop: HashSet<usize> = HashSet::new();
                for (idx, fields) in bad {
                    if let Some((i, _, _)) = payloads.get(idx) {
                        let detail = if fields.is_empty() {
                            description(&v, &r)
                        } else {
                            format!("fields {}", fields.join(", "))
                        };
                        results[*i] = Some(ItemResult::done(
                            Status::Invalid,
                            "",
                            format!("platform_invalid: {detail}"),
                        ));
                        drop.insert(idx);
                    }
                }
                if !drop.is_empty() {
                    payloads = payloads
                        .into_iter()
                        .enumerate()
                        .filter(|(k, _)| !drop.contains(k))
                        .map(|(_, p)| p)
                        .collect();
                    continue;
                }
            }
            if code == "DUPLICATE_PHONE_NUMBER" {
                let desc = description(&v, &r);
                let idx = v
                    .get("data")
                    .and_then(|d| d.get("index"))
                    .and_then(Value::as_u64)
                    .map(|x| x as usize)
                    .or_else(|| {
                        payloads.iter().position(|(_, p, _)| {
                            p["phone"].as_str().is_some_and(|ph| desc.contains(ph))
                        })
                    });
                if let Some(idx) = idx.filter(|k| *k < payloads.len()) {
                    let (i, _, _) = payloads.remove(idx);
                    results[i] = Some(ItemResult::done(
                        Status::Invalid,
                        "",
                        format!("duplicate_phone: {desc}"),
                    ));
                    continue;
                }
            }
            if code == "USER_LIMIT_EXCEEDED" {
                for (i, _, _) in &payloads {
                    results[*i] = Some(ItemResult::NotSent);
                }
                return Some(Halt {
                    reason: format!("user_limit: {}", description(&v, &r)),
                    error: None,
                });
            }
            let msg = if code.is_empty() {
                snippet(&r.body)
            } else {
                format!("{code}: {}", description(&v, &r))
            };
            let res = status_result(&r, &self.t, WAIT_429, &msg);
            for (i, _, _) in &payloads {
                results[*i] = Some(res.clone());
            }
            return None;
        }
        None
    }

    fn remote_contact(v: &Value) -> Option<RemoteContact> {
        let id = v.get("id")?.as_str()?.to_string();
        let mut c = Contact {
            name: v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            ..Contact::default()
        };
        if let Some(cd) = v.get("contactData").and_then(Value::as_array) {
            let wa = cd
                .iter()
                .find(|d| d.get("chatType").and_then(Value::as_str) == Some("whatsapp"));
            if let Some(chat) = wa.and_then(|d| d.get("chatId")).and_then(Value::as_str) {
                c.phone = format!("+{}", digits(chat));
            }
        }
        if !id.starts_with("waport-") {
            c.external_id = id.clone();
        }
        if let Some(r) = v.get("responsibleUserId").and_then(Value::as_str) {
            c.custom.insert("responsible_user_id".into(), r.to_string());
        }
        c.complete_names();
        Some(RemoteContact {
            remote_id: id,
            contact: c,
            created_at: None,
            updated_at: None,
            raw: v.clone(),
        })
    }

    fn remote_user(v: &Value) -> Option<RemoteContact> {
        let id = v.get("id")?.as_str()?.to_string();
        let mut c = Contact {
            name: v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            external_id: id.clone(),
            ..Contact::default()
        };
        if let Some(p) = v
            .get("phone")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            c.phone = format!("+{}", digits(p));
        }
        c.complete_names();
        Some(RemoteContact {
            remote_id: id,
            contact: c,
            created_at: None,
            updated_at: None,
            raw: v.clone(),
        })
    }
}

fn cancel_halt() -> Halt {
    Halt {
        reason: crate::upload::INTERRUPTED.into(),
        error: None,
    }
}

fn finish(results: Vec<Option<ItemResult>>, halt: Option<Halt>) -> BatchResult {
    BatchResult {
        results: results
            .into_iter()
            .map(|r| r.unwrap_or(ItemResult::NotSent))
            .collect(),
        halt,
    }
}

impl Platform for Wazzup {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Wazzup
    }

    fn batch_size(&self, _entity: Entity) -> usize {
        MAX_BATCH
    }

    fn default_rate(&self) -> f64 {
        DEFAULT_RATE
    }

    fn transport(&self) -> &Transport {
        &self.t
    }

    fn identity(&self, entity: Entity, contact: &Contact) -> Option<String> {
        match entity {
            Entity::Contacts => contact_id(contact).ok(),
            Entity::Users => user_id(contact).ok(),
        }
    }

    fn precheck(&self, entity: Entity, contact: &Contact) -> Result<(), String> {
        match entity {
            Entity::Contacts => {
                let default = self.users.get().map(|u| u.default.as_str()).unwrap_or("-");
                let (v, _) = contact_payload(contact, default)?;
                if let (Some(users), Some(r)) = (self.users.get(), v["responsibleUserId"].as_str())
                    && !users.ids.contains(r)
                {
                    return Err(format!(
                        "unknown_responsible_user: {r:?} is not a Wazzup user"
                    ));
                }
                Ok(())
            }
            Entity::Users => user_payload(contact).map(|_| ()),
        }
    }

    fn send_batch<'a>(
        &'a self,
        entity: Entity,
        _mode: WriteMode,
        items: &'a [Item],
        _maybe_applied: &'a [bool],
    ) -> BoxFuture<'a, BatchResult> {
        // Wazzup upserts by id: a re-send after a lost answer overwrites
        // the same contact, so neither the mode nor `maybe_applied` changes
        // what is sent.
        Box::pin(async move {
            match entity {
                Entity::Contacts => self.send_contacts(items).await,
                Entity::Users => self.send_users(items).await,
            }
        })
    }

    fn find_existing<'a>(
        &'a self,
        contact: &'a Contact,
    ) -> BoxFuture<'a, Result<Option<String>, PlatformError>> {
        Box::pin(async move {
            let Ok(id) = contact_id(contact) else {
                return Ok(None);
            };
            let path = format!("/contacts/{}", urlencode(&id));
            let r = self
                .t
                .send(self.req(reqwest::Method::GET, &path))
                .await
                .map_err(|f| self.t.error(f))?;
            match r.status {
                200..=299 => Ok(Some(id)),
                404 => Ok(None),
                401 | 403 => Err(PlatformError::Auth {
                    platform: "wazzup",
                    status: r.status,
                    message: description(&r.json(), &r),
                }),
                _ => Err(self.t.http_error(&r)),
            }
        })
    }

    fn list_page<'a>(
        &'a self,
        entity: Entity,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page, PlatformError>> {
        Box::pin(async move {
            let (path, offset) = match entity {
                Entity::Users => ("/users".to_string(), 0),
                Entity::Contacts => {
                    let offset: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
                    (format!("/contacts?offset={offset}"), offset)
                }
            };
            let r = self
                .t
                .send(self.req(reqwest::Method::GET, &path))
                .await
                .map_err(|f| self.t.error(f))?;
            if r.status == 401 || r.status == 403 {
                return Err(PlatformError::Auth {
                    platform: "wazzup",
                    status: r.status,
                    message: description(&r.json(), &r),
                });
            }
            if !r.ok() {
                return Err(self.t.http_error(&r));
            }
            let v = r.json();
            match entity {
                Entity::Users => Ok(Page {
                    items: v
                        .as_array()
                        .map(|a| a.iter().filter_map(Wazzup::remote_user).collect())
                        .unwrap_or_default(),
                    next: None,
                    note: None,
                }),
                Entity::Contacts => {
                    let data = v.get("data").and_then(Value::as_array);
                    let items: Vec<RemoteContact> = data
                        .map(|a| a.iter().filter_map(Wazzup::remote_contact).collect())
                        .unwrap_or_default();
                    let got = data.map_or(0, Vec::len) as u64;
                    let count = v.get("count").and_then(Value::as_u64);
                    let more = match count {
                        Some(n) => offset + got < n && got > 0,
                        None => got >= MAX_BATCH as u64,
                    };
                    Ok(Page {
                        items,
                        next: more.then(|| (offset + got).to_string()),
                        note: None,
                    })
                }
            }
        })
    }

    fn delete<'a>(
        &'a self,
        entity: Entity,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PlatformError>> {
        Box::pin(async move {
            let path = match entity {
                Entity::Contacts => format!("/contacts/{}", urlencode(remote_id)),
                Entity::Users => format!("/users/{}", urlencode(remote_id)),
            };
            let r = self
                .t
                .send(self.req(reqwest::Method::DELETE, &path))
                .await
                .map_err(|f| self.t.error(f))?;
            match r.status {
                // Already gone is as good as deleted for a rollback.
                200..=299 | 404 => Ok(()),
                401 | 403 => Err(PlatformError::Auth {
                    platform: "wazzup",
                    status: r.status,
                    message: description(&r.json(), &r),
                }),
                _ => Err(self.t.http_error(&r)),
            }
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<Vec<String>, PlatformError>> {
        Box::pin(async move {
            let u = self.users().await?;
            Ok(if u.note.is_empty() {
                Vec::new()
            } else {
                vec![u.note.clone()]
            })
        })
    }
}

/// Percent-encodes a path segment.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Claims `v`'s id for `row` within one request, or returns the result for
/// a row whose id an earlier row of the same array already uses.
///
/// Two rows with one id (the same external id, or phones that normalize
/// alike under a different dedupe key) are one Wazzup entity: sending both
/// in one array would let the later silently overwrite the earlier.
fn claim_id(ids: &mut HashMap<String, u64>, v: &Value, row: u64) -> Option<ItemResult> {
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
