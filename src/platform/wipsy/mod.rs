//! Wipsy CRM API 1.1.0 (seed 000): one contact per request.
//!
//! - Create: `POST /api-create-contact` → 201. Upsert: the contact is found
//!   by phone among the account's contacts (no search endpoint exists: the
//!   adapter reads them once through `GET /api-get-contacts`) and updated
//!   through `POST /api-update-contact` with the fields that endpoint
//!   documents.
//! - Tags, custom fields and the pipeline stage travel as UUIDs. The file
//!   may carry names, mapped to UUIDs in `waport.toml` (`[wipsy.tags]`,
//!   `[wipsy.fields]`, `[wipsy.stages]`): no listing endpoint is
//!   documented. An unknown name makes the row `invalid`, never dropped.
//!   The stage comes from the custom column `pipeline_stage` (or `stage`).
//! - The free plan's 429 ("monthly limit", seed 000) is a quota: sending
//!   stops and the remaining rows are `skipped`. A 429 *with* Retry-After
//!   is a throttle and is retried.
//! - Every row is matched against the account before anything is written,
//!   by its phone digits, or by its e-mail for a row without a phone (sent
//!   only with `--allow-without-phone`). The listing shows at most 500
//!   (seed 000) and `offset` is undocumented: when the account holds more
//!   than it shows, a row not among them could not be checked, so it is
//!   `skipped` (`unchecked`), never created at the risk of a twin, and
//!   the run says so once (`run_notes`).
//! - A retry after a lost answer first looks for the contact among the
//!   newest ones (assumed newest first, as the emulator serves them).
//! - Pace: nothing documented: starts at 1 request/s and probes up to an
//!   assumed 5/s (`net::pace`).

mod payload;

use payload::key_of;
pub use payload::{
    Payloads, STAGE_FIELDS, UNCHECKED, is_uuid, name_ids, not_sent, payloads, remote_contact,
};

use super::error::snippet;
use super::http::{Auth, Endpoint, Reply, Transport};
use super::{
    AdapterOptions, BatchResult, BoxFuture, Credentials, Entity, Halt, ItemResult, Page, Platform,
    PlatformError, PlatformKind, WipsyMaps, WriteMode, auth_halt, digits, failure_result,
    status_result,
};
use crate::model::Contact;
use crate::model::Item;
use crate::model::Status;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::Mutex;

/// Assumed ceiling of the pace (nothing is documented; the pace starts
/// lower and probes up to it).
pub const DEFAULT_RATE: f64 = 5.0;
/// Largest page of `GET /api-get-contacts` (seed 000).
pub const PAGE: usize = 500;

#[derive(Debug, Default, Clone)]
struct Index {
    by_phone: HashMap<String, String>,
    /// Lowercased e-mail → id.
    by_email: HashMap<String, String>,
    /// Every id the listing showed.
    ids: HashSet<String>,
    /// Contacts read.
    read: usize,
    complete: bool,
}

/// The Wipsy adapter.
pub struct Wipsy {
    endpoint: Endpoint,
    maps: WipsyMaps,
    t: Transport,
    index: Mutex<Option<Index>>,
    /// The index as the listing showed it before anything was written:
    /// what the account held when the job started.
    start: std::sync::OnceLock<Index>,
    /// Rows skipped as `unchecked`, for the run's note.
    unchecked: std::sync::Mutex<Vec<u64>>,
}

fn error_text(v: &Value, r: &Reply) -> String {
    v.get("error")
        .or_else(|| v.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| snippet(&r.body))
}

/// What a look-up after a lost answer established.
enum Lost {
    /// The contact is there, under this id.
    Made(String),
    /// It is not there: the lost attempt made nothing.
    Absent,
    /// Neither could be established.
    Unproven,
}

/// The reason of a row whose lost answer could not be resolved.
pub const LOST_UNRESOLVED: &str = "lost_answer_unresolved: an attempt's answer was lost and Wipsy's listing (500 at most, no paging) could not show whether it created the contact; not created again, to avoid a twin — resume later to look again";

/// What the account holds for a row.
enum Found {
    /// This contact id.
    Held(String),
    /// Nothing, and the listing showed the whole account.
    Absent,
    /// Not among the contacts the listing shows, which are not all.
    Unchecked,
}

enum Fetch {
    Page(Vec<Value>),
    Err(PlatformError),
}

impl Wipsy {
    /// Builds the adapter.
    pub fn new(creds: Credentials, opts: AdapterOptions) -> Result<Wipsy, PlatformError> {
        let key = creds.api_key("Wipsy")?;
        let t = Transport::new("wipsy", opts.rate.unwrap_or(DEFAULT_RATE), opts.timeout)?;
        Ok(Wipsy {
            endpoint: Endpoint::new(creds.base_url, Auth::Headers(vec![("x-api-key", key)])),
            maps: creds.wipsy,
            t,
            index: Mutex::new(None),
            start: std::sync::OnceLock::new(),
            unchecked: std::sync::Mutex::new(Vec::new()),
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.endpoint.request(&self.t, method, path)
    }

    fn auth_error(&self, r: &Reply) -> PlatformError {
        PlatformError::Auth {
            platform: "wipsy",
            status: r.status,
            message: error_text(&r.json(), r),
        }
    }

    async fn fetch(&self, limit: usize, offset: usize) -> Fetch {
        let mut q = vec![("limit", limit.to_string())];
        if offset > 0 {
            q.push(("offset", offset.to_string()));
        }
        let r = match self
            .t
            .send(
                self.req(reqwest::Method::GET, "/api-get-contacts")
                    .query(&q),
            )
            .await
        {
            Ok(r) => r,
            Err(f) => return Fetch::Err(self.t.error(f)),
        };
        if r.status == 401 || r.status == 403 {
            return Fetch::Err(self.auth_error(&r));
        }
        if !r.ok() {
            return Fetch::Err(self.t.http_error(&r));
        }
        let v = r.json();
        Fetch::Page(match v.get("data") {
            Some(Value::Array(a)) => a.clone(),
            Some(o @ Value::Object(_)) => vec![o.clone()],
            _ => Vec::new(),
        })
    }

    /// The listing's page at `offset` (newest first), or `None` when
    /// Wipsy ignored `offset`: the page starts with the contact the first
    /// page started with (`first_id`, set by the page at offset 0). One
    /// walk for the index and for the look-up after a lost answer.
    async fn page_at(
        &self,
        offset: usize,
        first_id: &mut Option<String>,
    ) -> Result<Option<Vec<Value>>, PlatformError> {
        let page = match self.fetch(PAGE, offset).await {
            Fetch::Page(p) => p,
            Fetch::Err(e) => return Err(e),
        };
        let head = page
            .first()
            .and_then(|c| c.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if offset > 0 && head.is_some() && head == *first_id {
            return Ok(None);
        }
        if offset == 0 {
            *first_id = head;
        }
        Ok(Some(page))
    }

    /// Reads every contact once into a phone → id index. Paging by
    /// `offset` is undocumented: when the second page repeats the first,
    /// only the first 500 are known and the index is marked incomplete.
    async fn load_index(&self) -> Result<Index, PlatformError> {
        let mut idx = Index::default();
        let mut offset = 0;
        let mut first_id: Option<String> = None;
        loop {
            let Some(page) = self.page_at(offset, &mut first_id).await? else {
                idx.complete = false;
                tracing::warn!(
                    "Wipsy ignored `offset`: only the newest {PAGE} contacts can be matched by phone"
                );
                return Ok(idx);
            };
            idx.read += page.len();
            for c in &page {
                let Some(id) = c.get("id").and_then(Value::as_str) else {
                    continue;
                };
                idx.ids.insert(id.to_string());
                if let Some(p) = c.get("phone").and_then(Value::as_str) {
                    let d = digits(p);
                    if !d.is_empty() {
                        idx.by_phone.entry(d).or_insert_with(|| id.to_string());
                    }
                }
                if let Some(e) = c.get("email").and_then(Value::as_str) {
                    let e = e.trim().to_lowercase();
                    if !e.is_empty() {
                        idx.by_email.entry(e).or_insert_with(|| id.to_string());
                    }
                }
            }
            if page.len() < PAGE {
                idx.complete = true;
                return Ok(idx);
            }
            offset += page.len();
        }
    }

    /// The id the account holds for this contact (by phone, else
    /// e-mail); `Err(None)`-like `Unchecked` when it is not among the
    /// contacts the listing shows and the listing is not the whole account.
    async fn find(&self, c: &Contact) -> Result<Found, PlatformError> {
        let Some((by_phone, k)) = key_of(c) else {
            return Ok(Found::Absent);
        };
        let mut g = self.index.lock().await;
        if g.is_none() {
            *g = Some(self.load_start().await?);
        }
        let Some(i) = g.as_ref() else {
            return Ok(Found::Absent);
        };
        let hit = if by_phone {
            i.by_phone.get(&k)
        } else {
            i.by_email.get(&k)
        };
        Ok(match hit {
            Some(id) => Found::Held(id.clone()),
            None if !i.complete => Found::Unchecked,
            None => Found::Absent,
        })
    }

    fn remember(&self, idx: &mut Option<Index>, c: &Contact, id: &str) {
        if let Some(i) = idx.as_mut() {
            match key_of(c) {
                Some((true, d)) => {
                    i.by_phone.insert(d, id.to_string());
                }
                Some((false, e)) => {
                    i.by_email.insert(e, id.to_string());
                }
                None => {}
            }
        }
    }

    /// The index, read for the first time: also kept as what the account
    /// held when the job started.
    async fn load_start(&self) -> Result<Index, PlatformError> {
        let idx = self.load_index().await?;
        let _ = self.start.set(idx.clone());
        Ok(idx)
    }

    /// After a lost answer of a create: the contact that attempt made, if
    /// any. The listing is walked newest first (docs/platforms.md
    /// #wipsy-endpoints) until the contact shows, or until a contact that
    /// was there before the job started (everything this job created is
    /// newer) or the end of the listing establishes that it is absent —
    /// however many contacts were created since, by this run's other
    /// requests or anyone else. When Wipsy ignores `offset` and the first
    /// 500 reach neither, absence is not established: `Lost::Unproven`.
    async fn find_after_lost(&self, c: &Contact) -> Result<Lost, PlatformError> {
        let Some((by_phone, k)) = key_of(c) else {
            return Ok(Lost::Unproven);
        };
        let start_ids = self.start.get().map(|i| &i.ids);
        let mut offset = 0;
        let mut first_id: Option<String> = None;
        loop {
            let Some(page) = self.page_at(offset, &mut first_id).await? else {
                return Ok(Lost::Unproven);
            };
            for x in &page {
                let text = |f: &str| x.get(f).and_then(Value::as_str).unwrap_or("").trim();
                let Some(id) = x.get("id").and_then(Value::as_str) else {
                    continue;
                };
                let hit = if by_phone {
                    digits(text("phone")) == k
                } else {
                    text("email").to_lowercase() == k
                };
                if hit {
                    return Ok(Lost::Made(id.to_string()));
                }
                if start_ids.is_some_and(|ids| ids.contains(id)) {
                    return Ok(Lost::Absent);
                }
            }
            if page.len() < PAGE {
                return Ok(Lost::Absent);
            }
            offset += page.len();
        }
    }

    async fn send_one(
        &self,
        mode: WriteMode,
        item: &Item,
        maybe_applied: bool,
    ) -> (ItemResult, Option<Halt>) {
        let p = match payloads(&item.contact, &self.maps) {
            Ok(p) => p,
            Err(reason) => return (ItemResult::done(Status::Invalid, "", reason), None),
        };
        let fatal = |e: PlatformError| -> (ItemResult, Option<Halt>) {
            if e.is_fatal() {
                (
                    ItemResult::NotSent,
                    Some(Halt {
                        reason: format!("stopped: {e}"),
                        error: Some(e),
                    }),
                )
            } else if matches!(e, PlatformError::Interrupted) {
                (ItemResult::NotSent, None)
            } else {
                (
                    ItemResult::Retry(super::Transient {
                        error: format!("lookup failed: {e}"),
                        retry_after: None,
                        maybe_applied: true,
                        rate_limited: false,
                    }),
                    None,
                )
            }
        };
        // The contact an earlier attempt may have created: found by a fresh
        // look-up, because the phone index was built before that attempt.
        let mut created_earlier = None;
        if maybe_applied {
            match self.find_after_lost(&item.contact).await {
                Ok(Lost::Made(id)) => {
                    if mode == WriteMode::Create {
                        return (
                            ItemResult::found_after_lost_answer(id, super::LOST_ANSWER),
                            None,
                        );
                    }
                    created_earlier = Some(id);
                }
                Ok(Lost::Absent) => {}
                Ok(Lost::Unproven) => {
                    return (ItemResult::done(Status::Failed, "", LOST_UNRESOLVED), None);
                }
                Err(e) => return fatal(e),
            }
        }
        if let Some(id) = created_earlier {
            // Known before this run (or confirmed by it): an update whose
            // answer was lost. Unknown: the lost attempt was our create.
            return match self.find(&item.contact).await {
                Ok(Found::Held(known)) if known == id => {
                    (super::update_result(self.update(&id, &p, true).await), None)
                }
                Ok(_) => (
                    ItemResult::found_after_lost_answer(id, super::LOST_ANSWER),
                    None,
                ),
                Err(e) => fatal(e),
            };
        }
        match self.find(&item.contact).await {
            Ok(Found::Held(id)) if mode == WriteMode::Create => {
                return (ItemResult::done(Status::Exists, id, ""), None);
            }
            Ok(Found::Held(id)) => {
                return (
                    super::update_result(self.update(&id, &p, false).await),
                    None,
                );
            }
            Ok(Found::Unchecked) => {
                self.unchecked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(item.row);
                return (ItemResult::done(Status::Skipped, "", UNCHECKED), None);
            }
            Ok(Found::Absent) if mode == WriteMode::Update => {
                return (
                    ItemResult::done(Status::Skipped, "", super::NOT_FOUND),
                    None,
                );
            }
            Ok(Found::Absent) => {}
            Err(e) => return fatal(e),
        }
        let r = match self
            .t
            .send(
                self.req(reqwest::Method::POST, "/api-create-contact")
                    .json(&p.create),
            )
            .await
        {
            Ok(r) => r,
            Err(f) => return (failure_result(f), None),
        };
        let v = r.json();
        match r.status {
            200..=299 => {
                let id = v
                    .get("data")
                    .and_then(|d| d.get("id"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let mut g = self.index.lock().await;
                self.remember(&mut g, &item.contact, &id);
                (
                    ItemResult::done(Status::Created, id, p.not_sent.join("; ")),
                    None,
                )
            }
            401 | 403 => (
                ItemResult::NotSent,
                Some(auth_halt("wipsy", &r, error_text(&v, &r))),
            ),
            429 if r.retry_after.is_none() => (
                ItemResult::NotSent,
                Some(Halt {
                    reason: format!("quota: {}", error_text(&v, &r)),
                    error: None,
                }),
            ),
            400 | 422 => (
                ItemResult::done(
                    Status::Invalid,
                    "",
                    format!("platform_invalid: {}", error_text(&v, &r)),
                ),
                None,
            ),
            _ => (
                status_result(&r, &self.t, Duration::from_secs(1), &error_text(&v, &r)),
                None,
            ),
        }
    }

    async fn update(&self, id: &str, p: &Payloads, lost_answer: bool) -> ItemResult {
        let mut body = p.update.clone();
        body["contactId"] = json!(id);
        let r = match self
            .t
            .send(
                self.req(reqwest::Method::POST, "/api-update-contact")
                    .json(&body),
            )
            .await
        {
            Ok(r) => r,
            Err(f) => return failure_result(f),
        };
        let v = r.json();
        match r.status {
            200..=299 => {
                let mut notes = p.not_sent.clone();
                if lost_answer {
                    notes.push("lost_answer: an earlier attempt reached Wipsy".to_string());
                }
                if !p.not_updatable.is_empty() {
                    notes.push(format!(
                        "not_updated: {} (Wipsy's update endpoint has no such fields)",
                        p.not_updatable.join(", ")
                    ));
                }
                ItemResult::done(Status::Updated, id, notes.join("; "))
            }
            400 | 422 => ItemResult::done(
                Status::Invalid,
                id,
                format!("platform_invalid: {}", error_text(&v, &r)),
            ),
            404 => ItemResult::done(
                Status::Failed,
                id,
                format!("not_found: {}", error_text(&v, &r)),
            ),
            _ => status_result(&r, &self.t, Duration::from_secs(1), &error_text(&v, &r)),
        }
    }
}

impl Platform for Wipsy {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Wipsy
    }

    fn batch_size(&self, _entity: Entity) -> usize {
        1
    }

    fn default_rate(&self) -> f64 {
        DEFAULT_RATE
    }

    fn transport(&self) -> &Transport {
        &self.t
    }

    fn identity(&self, _entity: Entity, contact: &Contact) -> Option<String> {
        key_of(contact).map(|(phone, k)| if phone { k } else { format!("email:{k}") })
    }

    fn prepare_writes<'a>(
        &'a self,
        _progress: &'a (dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, PlatformError>> {
        Box::pin(async move {
            let mut g = self.index.lock().await;
            if g.is_none() {
                *g = Some(self.load_start().await?);
            }
            Ok(g.as_ref()
                .map(|i| {
                    let mut v = vec![format!(
                        "read {} contact(s) of the account to match rows by phone and e-mail",
                        i.read
                    )];
                    if !i.complete {
                        v.push(format!(
                            "the account holds more contacts than Wipsy's listing shows ({PAGE}): rows not among them cannot be checked and are skipped (unchecked)"
                        ));
                    }
                    v
                })
                .unwrap_or_default())
        })
    }

    fn held_at_start(&self, entity: Entity, contact: &Contact) -> Option<bool> {
        let i = self.start.get().filter(|_| entity == Entity::Contacts)?;
        let held = match key_of(contact)? {
            (true, d) => i.by_phone.contains_key(&d),
            (false, e) => i.by_email.contains_key(&e),
        };
        // Absent from a listing that is not the whole account proves nothing.
        (held || i.complete).then_some(held)
    }

    fn run_notes(&self) -> Vec<String> {
        let rows = self.unchecked.lock().unwrap_or_else(|e| e.into_inner());
        if rows.is_empty() {
            return Vec::new();
        }
        let mut rows = rows.clone();
        rows.sort_unstable();
        let shown: Vec<String> = rows.iter().take(20).map(u64::to_string).collect();
        vec![format!(
            "Wipsy shows at most {PAGE} contacts and this account holds more: {} row(s) could not be checked and were not sent (rows {}{})",
            rows.len(),
            shown.join(", "),
            if rows.len() > 20 { ", …" } else { "" }
        )]
    }

    fn precheck(&self, entity: Entity, contact: &Contact) -> Result<(), String> {
        if entity == Entity::Users {
            return Err("unsupported_entity: Wipsy has no users API".into());
        }
        payloads(contact, &self.maps).map(|_| ())
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
                return super::no_users_api("Wipsy", items.len());
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
        Box::pin(async move {
            Ok(match self.find(contact).await? {
                Found::Held(id) => Some(id),
                Found::Absent | Found::Unchecked => None,
            })
        })
    }

    fn list_page<'a>(
        &'a self,
        entity: Entity,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Page, PlatformError>> {
        Box::pin(async move {
            if entity == Entity::Users {
                return Err(PlatformError::Unsupported {
                    platform: "wipsy",
                    what: "list users",
                });
            }
            // Cursor: "OFFSET:FIRST_ID_OF_PAGE_ONE", to notice an API that
            // ignores the (undocumented) offset.
            let (offset, first) = match cursor.and_then(|c| c.split_once(':')) {
                Some((o, f)) => (o.parse::<usize>().unwrap_or(0), Some(f.to_string())),
                None => (0, None),
            };
            let page = match self.fetch(PAGE, offset).await {
                Fetch::Page(p) => p,
                Fetch::Err(e) => return Err(e),
            };
            let head = page
                .first()
                .and_then(|c| c.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string);
            if offset > 0 && head.is_some() && head == first {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                    note: Some(format!(
                        "Wipsy returned at most {PAGE} contacts (it documents no paging): the export may be partial"
                    )),
                });
            }
            let first = if offset == 0 { head } else { first };
            let next = (page.len() >= PAGE)
                .then(|| format!("{}:{}", offset + page.len(), first.unwrap_or_default()));
            Ok(Page {
                items: page
                    .iter()
                    .filter_map(remote_contact)
                    .map(|mut rc| {
                        name_ids(&mut rc.contact, &self.maps);
                        rc
                    })
                    .collect(),
                next,
                note: None,
            })
        })
    }

    fn delete<'a>(
        &'a self,
        _entity: Entity,
        _remote_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PlatformError>> {
        Box::pin(async move {
            Err(PlatformError::Unsupported {
                platform: "wipsy",
                what: "delete contacts",
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<Vec<String>, PlatformError>> {
        Box::pin(async move {
            match self.fetch(1, 0).await {
                Fetch::Page(_) => Ok(Vec::new()),
                Fetch::Err(e) => Err(e),
            }
        })
    }
}
