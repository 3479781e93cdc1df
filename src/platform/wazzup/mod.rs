//! Wazzup API v3: contacts and users, upserted by id in arrays of ≤ 100.
//!
//! - Contact id: the file's external id when mapped, else `waport-` and
//!   the E.164 digits, so a re-import upserts the same contact instead of
//!   doubling it (public docs: `POST /contacts` upserts by `id`).
//! - Before the first write the account's contacts are read (100 a page)
//!   into a WhatsApp number → id index (docs/platforms.md#wazzup-identity:
//!   no look-up by phone exists). A row whose id or number the account
//!   already holds is written to that contact's id, so a contact made in
//!   Wazzup's own screens is never doubled under waport's id.
//! - `POST /contacts` replaces the stored contact (docs/platforms.md
//!   #wazzup-upsert), and there is no create-only call. So create mode sends
//!   only contacts the account does not hold (the others are `exists`,
//!   untouched), and an update first reads the contact (`GET
//!   /contacts/{id}`) and sends it back with only the mapped fields changed:
//!   its other chats, its `uri` and its responsible user stay.
//! - Batches of at most 100 (public docs; more is `TOO_MANY_ENTITIES`),
//!   never two equal ids in one (an n8n node: Wazzup answers 500).
//! - Pace: 500 requests per 5 s per account (public docs) is 100/s, the
//!   default and the ceiling (the pacer sends at 98% of any rate: 490 per
//!   5 s). On 429 (no Retry-After documented) every request waits 5 s plus
//!   jitter and the pace slows down (`net::pace`).
//! - Wazzup's success answer does not say whether a contact was new, so a
//!   sent contact is reported `created`.

mod payload;

pub use payload::{
    MAX_ID, MAX_NAME, MAX_URI, MAX_USER_ID, RESPONSIBLE_FIELDS, URI_FIELDS, contact_id,
    contact_payload, invalid_indices, merge_contact, user_payload,
};
use payload::{claim_id, error_code, not_stored, same_contact, user_id};

use super::error::snippet;
use super::http::{Auth, Endpoint, Reply, Transport, urlencode};
use super::{
    AdapterOptions, BatchResult, BoxFuture, Credentials, Entity, Halt, ItemResult, Page, Platform,
    PlatformError, PlatformKind, RemoteContact, WriteMode, auth_halt, digits, failure_result,
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

#[derive(Debug, Clone)]
struct Users {
    ids: HashSet<String>,
    default: String,
    note: String,
}

/// What the account held at the start of the run, and what this run made.
#[derive(Debug, Default)]
struct Holdings {
    /// WhatsApp `chatId` digits → the id of the first contact holding it.
    by_phone: HashMap<String, String>,
    /// Every contact id.
    ids: HashSet<String>,
}

/// The Wazzup adapter.
pub struct Wazzup {
    endpoint: Endpoint,
    opts: AdapterOptions,
    t: Transport,
    users: OnceCell<Users>,
    holdings: OnceCell<std::sync::Mutex<Holdings>>,
}

/// Where a row is written.
enum Target {
    /// The account holds no contact with this id or number.
    New,
    /// The account holds it under `id`; `by_phone` when found by number
    /// rather than by the row's own id.
    Held { id: String, by_phone: bool },
}

fn description(v: &Value, r: &Reply) -> String {
    v.get("description")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| snippet(&r.body))
}

impl Wazzup {
    /// A GET whose answer must be a success: a 401/403 is the key's fault
    /// (`Auth`), any other failure an HTTP error; the body as JSON.
    async fn get_json(&self, path: &str) -> Result<Value, PlatformError> {
        let r = self
            .t
            .send(self.req(reqwest::Method::GET, path))
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
        Ok(r.json())
    }

    /// Builds the adapter.
    pub fn new(creds: Credentials, opts: AdapterOptions) -> Result<Wazzup, PlatformError> {
        let key = creds.api_key("Wazzup")?;
        let t = Transport::new("wazzup", opts.rate.unwrap_or(DEFAULT_RATE), opts.timeout)?;
        Ok(Wazzup {
            endpoint: Endpoint::new(creds.base_url, Auth::Bearer(key)),
            opts,
            t,
            users: OnceCell::new(),
            holdings: OnceCell::new(),
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.endpoint.request(&self.t, method, path)
    }

    async fn load_users(&self) -> Result<Users, PlatformError> {
        let list: Vec<(String, String)> = self
            .get_json("/users")
            .await?
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

    /// Reads every contact of the account (`GET /contacts?offset=`, 100 a
    /// page) into the number → id index.
    async fn load_holdings(
        &self,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> Result<std::sync::Mutex<Holdings>, PlatformError> {
        let mut h = Holdings::default();
        let mut offset: u64 = 0;
        loop {
            let path = format!("/contacts?offset={offset}");
            let v = self.get_json(&path).await?;
            let data = v
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for c in &data {
                let Some(id) = c.get("id").and_then(Value::as_str) else {
                    continue;
                };
                h.ids.insert(id.to_string());
                for d in c
                    .get("contactData")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if d.get("chatType").and_then(Value::as_str) == Some("whatsapp")
                        && let Some(chat) = d.get("chatId").and_then(Value::as_str)
                    {
                        let k = digits(chat);
                        if !k.is_empty() {
                            h.by_phone.entry(k).or_insert_with(|| id.to_string());
                        }
                    }
                }
            }
            let got = data.len() as u64;
            offset += got;
            let count = v.get("count").and_then(Value::as_u64);
            progress(offset, count);
            let more = match count {
                Some(n) => offset < n && got > 0,
                None => got >= MAX_BATCH as u64,
            };
            if !more {
                return Ok(std::sync::Mutex::new(h));
            }
        }
    }

    async fn holdings(
        &self,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> Result<&std::sync::Mutex<Holdings>, PlatformError> {
        self.holdings
            .get_or_try_init(|| self.load_holdings(progress))
            .await
    }

    /// Where the account holds this row: by its own id first, then by its
    /// WhatsApp number.
    fn target(hold: &std::sync::Mutex<Holdings>, own: &str, phone: &str) -> Target {
        let h = hold.lock().unwrap_or_else(|p| p.into_inner());
        if h.ids.contains(own) {
            return Target::Held {
                id: own.to_string(),
                by_phone: false,
            };
        }
        match h.by_phone.get(&digits(phone)) {
            Some(id) => Target::Held {
                id: id.clone(),
                by_phone: true,
            },
            None => Target::New,
        }
    }

    /// `GET /contacts/{id}`: the stored contact, `None` on 404.
    async fn get_contact(&self, id: &str) -> Result<Option<Value>, PlatformError> {
        let path = format!("/contacts/{}", urlencode(id));
        let r = self
            .t
            .send(self.req(reqwest::Method::GET, &path))
            .await
            .map_err(|f| self.t.error(f))?;
        match r.status {
            200..=299 => Ok(Some(r.json())),
            404 => Ok(None),
            401 | 403 => Err(PlatformError::Auth {
                platform: "wazzup",
                status: r.status,
                message: description(&r.json(), &r),
            }),
            _ => Err(self.t.http_error(&r)),
        }
    }

    async fn send_contacts(
        &self,
        mode: WriteMode,
        items: &[Item],
        maybe_applied: &[bool],
    ) -> BatchResult {
        let n = items.len();
        let users = match self.users().await {
            Ok(u) => u.clone(),
            Err(e) => return load_failure(n, e, "cannot list Wazzup users"),
        };
        let hold = match self.holdings(&|_, _| {}).await {
            Ok(h) => h,
            Err(e) => return load_failure(n, e, "cannot read the account's contacts"),
        };
        let mut results: Vec<Option<ItemResult>> = vec![None; n];
        let mut payloads: Vec<Sent> = Vec::new();
        let mut ids: HashMap<String, u64> = HashMap::new();
        let mut halt = None;
        for (i, item) in items.iter().enumerate() {
            if halt.is_some() {
                break;
            }
            let (fresh, warn) = match contact_payload(&item.contact, &users.default) {
                Ok(p) => p,
                Err(reason) => {
                    results[i] = Some(ItemResult::done(Status::Invalid, "", reason));
                    continue;
                }
            };
            let own = fresh["id"].as_str().unwrap_or_default().to_string();
            let applied = maybe_applied.get(i).copied().unwrap_or(false);
            let plan = match Wazzup::target(hold, &own, &item.contact.phone) {
                Target::Held { id, by_phone } => {
                    let note = if by_phone {
                        format!("matched_by_phone: the account's contact {id}")
                    } else {
                        String::new()
                    };
                    if mode == WriteMode::Create {
                        results[i] = Some(ItemResult::done(Status::Exists, id, note));
                        continue;
                    }
                    match self.get_contact(&id).await {
                        Ok(Some(stored)) => Plan::Merge {
                            stored,
                            note,
                            lost: false,
                        },
                        // Deleted since the index was read.
                        Ok(None) => Plan::Create,
                        Err(e) => {
                            let (r, h) = super::lookup_failure(e, applied);
                            results[i] = Some(r);
                            halt = h;
                            continue;
                        }
                    }
                }
                // An earlier attempt whose answer was lost may have made it:
                // not held at the start of the run, so if it is there now,
                // that attempt made it.
                Target::New if applied => match self.get_contact(&own).await {
                    Ok(Some(_)) if mode == WriteMode::Create => {
                        results[i] =
                            Some(ItemResult::found_after_lost_answer(own, super::LOST_ANSWER));
                        continue;
                    }
                    Ok(Some(stored)) => Plan::Merge {
                        stored,
                        note: String::new(),
                        lost: true,
                    },
                    Ok(None) => Plan::Create,
                    Err(e) => {
                        let (r, h) = super::lookup_failure(e, applied);
                        results[i] = Some(r);
                        halt = h;
                        continue;
                    }
                },
                Target::New => Plan::Create,
            };
            let (body, ok) = match plan {
                Plan::Create if mode == WriteMode::Update => {
                    results[i] = Some(ItemResult::done(Status::Skipped, "", super::NOT_FOUND));
                    continue;
                }
                Plan::Create => {
                    let ok = ItemResult::done(Status::Created, own.clone(), warn.join("; "));
                    (fresh, ok)
                }
                Plan::Merge { stored, note, lost } => {
                    let merged = merge_contact(&stored, &item.contact, &fresh);
                    let id = merged["id"].as_str().unwrap_or_default().to_string();
                    let mut notes: Vec<String> = warn.clone();
                    notes.extend([note].into_iter().filter(|x| !x.is_empty()));
                    notes.extend(not_stored(&item.contact));
                    let ok = if lost {
                        ItemResult::found_after_lost_answer(id.clone(), super::LOST_ANSWER)
                    } else {
                        ItemResult::done(Status::Updated, id.clone(), notes.join("; "))
                    };
                    if same_contact(&stored, &merged) {
                        // Nothing the row maps differs: no write at all.
                        results[i] = Some(ok);
                        continue;
                    }
                    (merged, ok)
                }
            };
            let resp = body["responsibleUserId"].as_str().unwrap_or_default();
            if !users.ids.contains(resp) {
                results[i] = Some(ItemResult::done(
                    Status::Invalid,
                    "",
                    format!("unknown_responsible_user: {resp:?} is not a Wazzup user"),
                ));
                continue;
            }
            if let Some(dup) = claim_id(&mut ids, &body, item.row) {
                results[i] = Some(dup);
                continue;
            }
            payloads.push(Sent { i, body, ok });
        }
        let post_halt = self
            .post_array("/contacts", "INVALID_CONTACTS_DATA", payloads, &mut results)
            .await;
        finish(results, halt.or(post_halt))
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
                    let id = v["id"].as_str().unwrap_or_default().to_string();
                    payloads.push(Sent {
                        i,
                        ok: ItemResult::done(Status::Created, id, warn.join("; ")),
                        body: v,
                    });
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
        mut payloads: Vec<Sent>,
        results: &mut [Option<ItemResult>],
    ) -> Option<Halt> {
        while !payloads.is_empty() {
            let body = Value::Array(payloads.iter().map(|p| p.body.clone()).collect());
            let r = match self
                .t
                .send(self.req(reqwest::Method::POST, path).json(&body))
                .await
            {
                Ok(r) => r,
                Err(f) => {
                    let res = failure_result(f);
                    for p in &payloads {
                        results[p.i] = Some(res.clone());
                    }
                    return None;
                }
            };
            if r.ok() {
                if path == "/contacts"
                    && let Some(m) = self.holdings.get()
                {
                    // What this run made is held from now on: a later row
                    // with the same number writes to it, never beside it.
                    let mut h = m.lock().unwrap_or_else(|p| p.into_inner());
                    for p in &payloads {
                        remember(&mut h, &p.body);
                    }
                }
                for p in payloads {
                    results[p.i] = Some(p.ok);
                }
                return None;
            }
            let v = r.json();
            let code = error_code(&v);
            if r.status == 401 || r.status == 403 {
                let h = auth_halt("wazzup", &r, description(&v, &r));
                for p in &payloads {
                    results[p.i] = Some(ItemResult::NotSent);
                }
                return Some(h);
            }
            if code == invalid_code
                && let Some(bad) = invalid_indices(&v).filter(|b| !b.is_empty())
            {
                let mut drop: HashSet<usize> = HashSet::new();
                for (idx, fields) in bad {
                    if let Some(Sent { i, .. }) = payloads.get(idx) {
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
                        payloads.iter().position(|p| {
                            p.body["phone"].as_str().is_some_and(|ph| desc.contains(ph))
                        })
                    });
                if let Some(idx) = idx.filter(|k| *k < payloads.len()) {
                    let i = payloads.remove(idx).i;
                    results[i] = Some(ItemResult::done(
                        Status::Invalid,
                        "",
                        format!("duplicate_phone: {desc}"),
                    ));
                    continue;
                }
            }
            if code == "USER_LIMIT_EXCEEDED" {
                for p in &payloads {
                    results[p.i] = Some(ItemResult::NotSent);
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
            for p in &payloads {
                results[p.i] = Some(res.clone());
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

/// One entity of a `POST` array and the result it gets if accepted.
struct Sent {
    /// Position in the batch.
    i: usize,
    /// The entity sent.
    body: Value,
    /// Its result once Wazzup accepts the array.
    ok: ItemResult,
}

/// How a contact row is written.
enum Plan {
    /// As a new contact under the row's own id.
    Create,
    /// Over the stored contact, merged.
    Merge {
        stored: Value,
        note: String,
        /// Found after a lost answer (see `ItemResult::found_after_lost_answer`).
        lost: bool,
    },
}

/// Adds a contact this run made to the index.
fn remember(h: &mut Holdings, body: &Value) {
    let Some(id) = body["id"].as_str() else {
        return;
    };
    h.ids.insert(id.to_string());
    for d in body["contactData"].as_array().into_iter().flatten() {
        if d["chatType"].as_str() == Some("whatsapp")
            && let Some(chat) = d["chatId"].as_str()
        {
            h.by_phone
                .entry(digits(chat))
                .or_insert_with(|| id.to_string());
        }
    }
}

/// A batch that cannot start because a read it needs failed.
fn load_failure(n: usize, e: PlatformError, what: &str) -> BatchResult {
    match e {
        PlatformError::Interrupted => BatchResult::halted(n, cancel_halt()),
        e if e.is_fatal() => BatchResult::halted(
            n,
            Halt {
                reason: format!("stopped: {e}"),
                error: Some(e),
            },
        ),
        e => BatchResult::all_retry(
            n,
            super::Transient {
                error: format!("{what}: {e}"),
                retry_after: None,
                maybe_applied: false,
                rate_limited: false,
            },
        ),
    }
}

fn cancel_halt() -> Halt {
    Halt {
        reason: crate::net::INTERRUPTED.into(),
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
        mode: WriteMode,
        items: &'a [Item],
        maybe_applied: &'a [bool],
    ) -> BoxFuture<'a, BatchResult> {
        // Users are upserted by id as before: seed 003 documents that
        // matching, and users carry no chats or links to lose.
        Box::pin(async move {
            match entity {
                Entity::Contacts => self.send_contacts(mode, items, maybe_applied).await,
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
            // The index says where to look (it knows contacts by number);
            // a read confirms the contact is still there.
            let id = match self.holdings.get() {
                Some(h) => match Wazzup::target(h, &id, &contact.phone) {
                    Target::Held { id, .. } => id,
                    Target::New => return Ok(None),
                },
                None => id,
            };
            Ok(self.get_contact(&id).await?.map(|_| id))
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
            let v = self.get_json(&path).await?;
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

    fn held_at_start(&self, entity: Entity, contact: &Contact) -> Option<bool> {
        if entity != Entity::Contacts {
            return None;
        }
        let hold = self.holdings.get()?;
        let own = contact_id(contact).ok()?;
        Some(matches!(
            Wazzup::target(hold, &own, &contact.phone),
            Target::Held { .. }
        ))
    }

    fn prepare_writes<'a>(
        &'a self,
        progress: &'a (dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, PlatformError>> {
        Box::pin(async move {
            let h = self.holdings(progress).await?;
            let h = h.lock().unwrap_or_else(|p| p.into_inner());
            Ok(vec![format!(
                "the account holds {} contact(s) ({} WhatsApp number(s)): rows are matched against them by id and number",
                h.ids.len(),
                h.by_phone.len()
            )])
        })
    }

    fn delete_batch(&self, _entity: Entity) -> usize {
        // `PATCH /contacts/bulk_delete` and `/users/bulk_delete` take at
        // most 100 ids (public docs: TOO_MANY_ENTITIES).
        MAX_BATCH
    }

    fn delete_many<'a>(
        &'a self,
        entity: Entity,
        remote_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<bool>, PlatformError>> {
        Box::pin(async move {
            let path = match entity {
                Entity::Contacts => "/contacts/bulk_delete",
                Entity::Users => "/users/bulk_delete",
            };
            let r = self
                .t
                .send(
                    self.req(reqwest::Method::PATCH, path)
                        .json(&json!(remote_ids)),
                )
                .await
                .map_err(|f| self.t.error(f))?;
            match r.status {
                // The answer lists the ids Wazzup did not know
                // (docs/platforms.md#wazzup-delete-and-rollback).
                200..=299 => {
                    let unknown: HashSet<String> = r
                        .json()
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    Ok(remote_ids.iter().map(|id| !unknown.contains(id)).collect())
                }
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
