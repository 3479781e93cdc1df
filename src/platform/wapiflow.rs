//! WapiFlow external API (seed 002): form-encoded, one contact a request.
//!
//! - Every answer is an envelope `{status, remark, message[], data}`;
//!   errors come with HTTP 200 (platforms.md), so `status` is read on
//!   every answer, whatever the HTTP status.
//! - `mobile_code` (calling code, no `+`) and `mobile` (national digits)
//!   are split from the E.164 phone; first and last name are required and
//!   cut to 40 characters with a warning.
//! - Every row is looked up before anything is written
//!   (`contact/list?search=`), in both forms the account may store the
//!   mobile in: as waport sends it, and with the national trunk `0` the
//!   documentation's own example keeps (`mobile_code 880`, `mobile 01988…`;
//!   docs/platforms.md#wapiflow-identity). Found: `exists` in create mode,
//!   else updated through `contact/update/{id}` without the mobile (the
//!   stored form stays). "The mobile has already been taken." on a store
//!   (a contact added meanwhile) is handled the same way.
//! - `contact_limit` (plan limit) stops sending: remaining rows `skipped`.
//! - The IP-whitelist refusal stops the run with instructions.
//! - Pace: nothing documented; 5 requests/s assumed (platforms.md).

use super::error::snippet;
use super::http::{Reply, Transport};
use super::{
    AdapterOptions, BatchResult, BoxFuture, Credentials, Entity, Halt, ItemResult, Page, Platform,
    PlatformError, PlatformKind, RemoteContact, Secret, Transient, WriteMode, cut, failure_result,
    status_result,
};
use crate::model::Contact;
use crate::model::Item;
use crate::model::Status;
use serde_json::Value;
use std::time::Duration;

/// Assumed ceiling of the pace (nothing is published: the pace starts at
/// 1 request/s and probes up to it, docs/platforms.md#wapiflow-rate-limit).
pub const DEFAULT_RATE: f64 = 5.0;
/// Longest first or last name (inferred from the script WapiFlow runs on).
pub const MAX_NAME: usize = 40;
/// Page size used for listings and searches.
pub const PAGE: usize = 100;
/// The duplicate-mobile message (inferred, platforms.md).
pub const TAKEN: &str = "The mobile has already been taken.";

/// Two-digit country calling codes (ITU-T E.164 assignments); `1` and `7`
/// are the one-digit ones, every other code has three digits.
const TWO_DIGIT: &[u32] = &[
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

/// Splits an E.164 number into calling code and national number.
///
/// A local stand-in for `normalize::phone::split_e164` (being written on
/// another branch with the same signature): calling codes are prefix-free,
/// so the ITU table above decides the split without phone metadata.
pub fn split_e164(e164: &str) -> Option<(u32, String)> {
    let d = e164.strip_prefix('+')?;
    if d.len() < 4 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len = match d.as_bytes()[0] {
        b'1' | b'7' => 1,
        _ => {
            let two: u32 = d[..2].parse().ok()?;
            if TWO_DIGIT.contains(&two) { 2 } else { 3 }
        }
    };
    let code: u32 = d[..len].parse().ok()?;
    Some((code, d[len..].to_string()))
}

/// Form fields, in the order they are sent.
pub type Form = Vec<(&'static str, String)>;

/// The form fields of one contact, and warnings for the report.
pub fn form(c: &Contact) -> Result<(Form, Vec<String>), String> {
    let first = c.first_name.trim();
    let last = c.last_name.trim();
    let mut missing = Vec::new();
    if first.is_empty() {
        missing.push("first_name");
    }
    if last.is_empty() {
        missing.push("last_name");
    }
    if !missing.is_empty() {
        return Err(format!("missing_field: {}", missing.join(", ")));
    }
    let (code, mobile) = split_e164(c.phone.trim())
        .ok_or_else(|| "missing_phone: WapiFlow needs a mobile".to_string())?;
    let mut warnings = Vec::new();
    let (first, a) = cut(first, MAX_NAME);
    let (last, b) = cut(last, MAX_NAME);
    if a {
        warnings.push(format!(
            "first_name_truncated: cut to {MAX_NAME} characters"
        ));
    }
    if b {
        warnings.push(format!("last_name_truncated: cut to {MAX_NAME} characters"));
    }
    let mut f = vec![
        ("firstname", first),
        ("lastname", last),
        ("mobile_code", code.to_string()),
        ("mobile", mobile),
    ];
    for (k, v) in [
        ("city", &c.city),
        ("state", &c.state),
        ("post_code", &c.postal_code),
        ("address", &c.address),
    ] {
        if !v.trim().is_empty() {
            f.push((k, v.trim().to_string()));
        }
    }
    Ok((f, warnings))
}

/// The envelope of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `status == "success"`.
    pub success: bool,
    /// `remark`.
    pub remark: String,
    /// `message`, joined.
    pub messages: Vec<String>,
    /// `data`.
    pub data: Value,
}

impl Envelope {
    /// Reads the envelope (`None` when the body is not one).
    pub fn parse(body: &str) -> Option<Envelope> {
        let v: Value = serde_json::from_str(body).ok()?;
        let status = v.get("status")?.as_str()?;
        let messages = match v.get("message") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|m| {
                    m.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| m.to_string())
                })
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        Some(Envelope {
            success: status == "success",
            remark: v
                .get("remark")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            messages,
            data: v.get("data").cloned().unwrap_or(Value::Null),
        })
    }

    /// The messages as one line.
    pub fn text(&self) -> String {
        self.messages.join(" ")
    }

    /// Whether this is the IP-whitelist refusal.
    pub fn is_ip_refusal(&self) -> bool {
        self.text().to_ascii_lowercase().contains("whitelist")
            || self.text().to_ascii_lowercase().contains("white list")
    }

    /// Whether this is the duplicate-mobile refusal.
    pub fn is_taken(&self) -> bool {
        self.messages.iter().any(|m| {
            m.contains("has already been taken") && m.to_ascii_lowercase().contains("mobile")
        })
    }
}

/// A stored contact back to canonical form.
pub fn remote_contact(v: &Value) -> Option<RemoteContact> {
    let s = |k: &str| match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let id = s("id");
    if id.is_empty() {
        return None;
    }
    // The address fields sit under `details` (platforms.md); older
    // answers may carry them at the top level.
    let detail = |k: &str| {
        v.get("details")
            .and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| s(k))
    };
    let mut c = Contact {
        first_name: s("firstname"),
        last_name: s("lastname"),
        city: detail("city"),
        state: detail("state"),
        postal_code: detail("post_code"),
        address: detail("address"),
        ..Contact::default()
    };
    let (code, mobile) = (s("mobile_code"), s("mobile"));
    if !mobile.is_empty() {
        c.phone = format!("+{code}{mobile}");
    }
    if let Some(t) = v.get("tags").and_then(Value::as_array) {
        c.tags = t
            .iter()
            .filter_map(|x| {
                x.get("name")
                    .and_then(Value::as_str)
                    .or_else(|| x.as_str())
                    .map(str::to_string)
            })
            .collect();
    }
    c.complete_names();
    Some(RemoteContact::from_listing(id, c, v))
}

/// The WapiFlow adapter.
pub struct Wapiflow {
    base: String,
    id: String,
    secret: String,
    t: Transport,
}

/// What an answer means once the envelope is read.
enum Answer {
    Ok(Envelope),
    /// An envelope with `status: error` (HTTP 200 or 4xx).
    Refused(Envelope),
    /// Stop the run.
    Halt(Halt),
    /// Transient or unexpected.
    Other(ItemResult),
}

impl Wapiflow {
    /// Builds the adapter.
    pub fn new(creds: Credentials, opts: AdapterOptions) -> Result<Wapiflow, PlatformError> {
        let (id, secret) = match &creds.secret {
            Secret::ClientPair { id, secret } => (id.clone(), secret.clone()),
            Secret::ApiKey(_) => {
                return Err(PlatformError::Config(
                    "WapiFlow needs a client id and a client secret".into(),
                ));
            }
        };
        let t = Transport::new("wapiflow", opts.rate.unwrap_or(DEFAULT_RATE), opts.timeout)?;
        Ok(Wapiflow {
            base: creds.base_url,
            id,
            secret,
            t,
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.t
            .client()
            .request(method, format!("{}/{path}", self.base))
            .header("client-id", &self.id)
            .header("client-secret", &self.secret)
    }

    fn fatal_error(r: &Reply, env: &Envelope) -> PlatformError {
        if env.is_ip_refusal() {
            PlatformError::IpNotWhitelisted {
                message: env.text(),
            }
        } else {
            PlatformError::Auth {
                platform: "wapiflow",
                status: r.status,
                message: env.text(),
            }
        }
    }

    /// Classifies an answer: the envelope first, the HTTP status second.
    fn read(&self, r: &Reply) -> Answer {
        let env = Envelope::parse(&r.body);
        if let Some(env) = &env {
            let unauthorized = env.remark.eq_ignore_ascii_case("unauthorized") || r.status == 401;
            if !env.success && (unauthorized || env.is_ip_refusal()) {
                let e = Self::fatal_error(r, env);
                return Answer::Halt(Halt {
                    reason: format!("stopped: {e}"),
                    error: Some(e),
                });
            }
        }
        match (r.status, env) {
            (200..=299, Some(env)) if env.success => Answer::Ok(env),
            (429, _) | (500..=599, _) | (408, _) => {
                Answer::Other(status_result(r, &self.t, Duration::from_secs(1), ""))
            }
            (_, Some(env)) if !env.success && env.remark == "not_found" && r.status == 404 => {
                Answer::Other(ItemResult::done(
                    Status::Failed,
                    "",
                    format!("not_found: {} (check WAPIFLOW_BASE_URL)", env.text()),
                ))
            }
            (_, Some(env)) if !env.success => Answer::Refused(env),
            (200..=299, _) => Answer::Other(ItemResult::done(
                Status::Failed,
                "",
                format!("unexpected_answer: {}", snippet(&r.body)),
            )),
            _ => Answer::Other(status_result(r, &self.t, Duration::from_secs(1), "")),
        }
    }

    /// The contacts a `contact/list?search=TERM` answer lists.
    async fn search_term(&self, term: &str) -> Result<Vec<Value>, Answer> {
        let r = self
            .t
            .send(
                self.req(reqwest::Method::GET, "contact/list")
                    .query(&[("search", term), ("paginate", &PAGE.to_string())]),
            )
            .await
            .map_err(|f| Answer::Other(failure_result(f)))?;
        let env = match self.read(&r) {
            Answer::Ok(env) => env,
            other => return Err(other),
        };
        Ok(env
            .data
            .get("contacts")
            .and_then(|c| c.get("data"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// The id of the contact with this calling code and mobile, stored with
    /// or without the trunk `0`, and the form it is stored in. The search
    /// is assumed to match substrings (docs/platforms.md
    /// #wapiflow-identity), but an exact search would miss the other form,
    /// so the trunk form is searched for too when the first finds nothing.
    async fn search(&self, code: &str, mobile: &str) -> Result<Option<(String, String)>, Answer> {
        let trunk = format!("0{mobile}");
        let s = |v: &Value, k: &str| match v.get(k) {
            Some(Value::String(x)) => x.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        for term in [mobile, trunk.as_str()] {
            let list = self.search_term(term).await?;
            let hit = list.iter().find(|c| {
                let m = s(c, "mobile");
                s(c, "mobile_code") == code && (m == mobile || m == trunk)
            });
            if let Some(c) = hit {
                return Ok(Some((s(c, "id"), s(c, "mobile"))));
            }
        }
        Ok(None)
    }

    async fn store(
        &self,
        path: &str,
        fields: &[(&'static str, String)],
    ) -> Result<Answer, ItemResult> {
        let r = self
            .t
            .send(self.req(reqwest::Method::POST, path).form(fields))
            .await
            .map_err(failure_result)?;
        Ok(self.read(&r))
    }

    async fn send_one(
        &self,
        mode: WriteMode,
        item: &Item,
        maybe_applied: bool,
    ) -> (ItemResult, Option<Halt>) {
        let (fields, warnings) = match form(&item.contact) {
            Ok(f) => f,
            Err(reason) => return (ItemResult::done(Status::Invalid, "", reason), None),
        };
        let code = fields[2].1.clone();
        let mobile = fields[3].1.clone();
        let warn = warnings.join("; ");
        let with = |extra: &str| -> String {
            [extra, warn.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("; ")
        };
        let (id, note) = match self.search(&code, &mobile).await {
            Err(a) => return answer_to_result(a),
            Ok(Some((id, stored))) => {
                let note = if stored == mobile {
                    String::new()
                } else {
                    format!("matched_by_phone: stored as {stored}")
                };
                (id, note)
            }
            Ok(None) if mode == WriteMode::Update => {
                return (
                    ItemResult::done(Status::Skipped, "", crate::upload::NOT_FOUND),
                    None,
                );
            }
            Ok(None) => match self.store("contact/store", &fields).await {
                Err(res) => return (res, None),
                Ok(Answer::Ok(env)) => {
                    let id = env
                        .data
                        .get("contact")
                        .and_then(|c| c.get("id"))
                        .map(|v| {
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .unwrap_or_default();
                    return (ItemResult::done(Status::Created, id, with("")), None);
                }
                Ok(Answer::Refused(env)) if env.is_taken() => {
                    // Added since the look-up (or by this row's own earlier
                    // attempt): found again, never created twice.
                    match self.search(&code, &mobile).await {
                        Ok(Some((id, _))) => (id, String::new()),
                        Ok(None) => return (ItemResult::done(Status::Exists, "", with("")), None),
                        Err(a) => return answer_to_result(a),
                    }
                }
                Ok(Answer::Refused(env)) if env.remark == "contact_limit" => {
                    return (
                        ItemResult::NotSent,
                        Some(Halt {
                            reason: format!("plan_limit: {}", env.text()),
                            error: None,
                        }),
                    );
                }
                Ok(Answer::Refused(env)) => {
                    return (
                        ItemResult::done(
                            Status::Invalid,
                            "",
                            with(&format!("platform_invalid: {}", env.text())),
                        ),
                        None,
                    );
                }
                Ok(other) => return answer_to_result(other),
            },
        };
        if mode == WriteMode::Create {
            // Found after a lost answer: that attempt may have made it, or
            // it was there before; the collect stage reports it `exists`.
            return if maybe_applied {
                (
                    ItemResult::found_after_lost_answer(id, with(super::LOST_ANSWER)),
                    None,
                )
            } else {
                (ItemResult::done(Status::Exists, id, with(&note)), None)
            };
        }
        // The contact was found by this number: the mobile is not sent, so
        // the form the account stored it in stays.
        let update: Form = fields
            .into_iter()
            .filter(|(k, _)| *k != "mobile_code" && *k != "mobile")
            .collect();
        match self.store(&format!("contact/update/{id}"), &update).await {
            Err(res) => (super::update_result(res), None),
            Ok(Answer::Ok(_)) => {
                let notes: Vec<String> = [note, not_updatable(&item.contact)]
                    .into_iter()
                    .filter(|n| !n.is_empty())
                    .collect();
                (
                    ItemResult::done(Status::Updated, id, with(&notes.join("; "))),
                    None,
                )
            }
            Ok(Answer::Refused(env)) => (
                ItemResult::done(
                    Status::Invalid,
                    id,
                    with(&format!("platform_invalid: {}", env.text())),
                ),
                None,
            ),
            Ok(other) => {
                let (res, halt) = answer_to_result(other);
                (super::update_result(res), halt)
            }
        }
    }
}

/// The row's fields WapiFlow's API has no place for (docs/platforms.md
/// #wapiflow-upsert), for an updated row's reason; empty when none.
fn not_updatable(c: &Contact) -> String {
    let mut names: Vec<&str> = [
        ("email", &c.email),
        ("company", &c.company),
        ("notes", &c.notes),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, _)| k)
    .collect();
    if !c.tags.is_empty() {
        names.push("tags");
    }
    if names.is_empty() {
        String::new()
    } else {
        format!(
            "not_updated: {} (WapiFlow's API has no such fields)",
            names.join(", ")
        )
    }
}

fn answer_to_result(a: Answer) -> (ItemResult, Option<Halt>) {
    match a {
        Answer::Halt(h) => (ItemResult::NotSent, Some(h)),
        Answer::Other(r) => (r, None),
        Answer::Refused(env) => (
            ItemResult::done(
                Status::Failed,
                "",
                format!("{}: {}", env.remark, env.text()),
            ),
            None,
        ),
        Answer::Ok(_) => (
            ItemResult::Retry(Transient {
                error: "unexpected success".into(),
                retry_after: None,
                maybe_applied: true,
                rate_limited: false,
            }),
            None,
        ),
    }
}

fn answer_error(a: Answer, t: &Transport) -> PlatformError {
    match a {
        Answer::Halt(h) => h.error.unwrap_or(PlatformError::Interrupted),
        Answer::Refused(env) => PlatformError::Refused {
            platform: "wapiflow",
            message: env.text(),
        },
        Answer::Other(ItemResult::NotSent) => PlatformError::Interrupted,
        Answer::Other(ItemResult::Retry(tr)) => PlatformError::Transport {
            platform: "wapiflow",
            message: tr.error,
        },
        Answer::Other(ItemResult::Done { reason, .. }) => PlatformError::Refused {
            platform: "wapiflow",
            message: reason,
        },
        Answer::Ok(_) => t.error(super::http::Failure::Cancelled),
    }
}

impl Platform for Wapiflow {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Wapiflow
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
        split_e164(contact.phone.trim()).map(|(c, m)| format!("{c}:{m}"))
    }

    fn precheck(&self, entity: Entity, contact: &Contact) -> Result<(), String> {
        if entity == Entity::Users {
            return Err("unsupported_entity: WapiFlow has no users API".into());
        }
        form(contact).map(|_| ())
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
                return super::no_users_api("WapiFlow", items.len());
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
            let Some((code, mobile)) = split_e164(contact.phone.trim()) else {
                return Ok(None);
            };
            self.search(&code.to_string(), &mobile)
                .await
                .map(|f| f.map(|(id, _)| id))
                .map_err(|a| answer_error(a, &self.t))
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
                    platform: "wapiflow",
                    what: "list users",
                });
            }
            let page: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(1);
            let r = self
                .t
                .send(
                    self.req(reqwest::Method::GET, "contact/list")
                        .query(&[("page", page.to_string()), ("paginate", PAGE.to_string())]),
                )
                .await
                .map_err(|f| self.t.error(f))?;
            let env = match self.read(&r) {
                Answer::Ok(env) => env,
                other => return Err(answer_error(other, &self.t)),
            };
            let p = env.data.get("contacts").cloned().unwrap_or(Value::Null);
            let items = p
                .get("data")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(remote_contact).collect())
                .unwrap_or_default();
            let last = p.get("last_page").and_then(Value::as_u64).unwrap_or(page);
            Ok(Page {
                items,
                next: (page < last).then(|| (page + 1).to_string()),
                // Newest first: contacts created during an export shift
                // later pages.
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
            let r = self
                .t
                .send(self.req(
                    reqwest::Method::DELETE,
                    &format!("contact/delete/{remote_id}"),
                ))
                .await
                .map_err(|f| self.t.error(f))?;
            match self.read(&r) {
                Answer::Ok(_) => Ok(()),
                Answer::Refused(env) if env.remark == "not_found" => Ok(()),
                other => Err(answer_error(other, &self.t)),
            }
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<Vec<String>, PlatformError>> {
        Box::pin(async move {
            let r = self
                .t
                .send(
                    self.req(reqwest::Method::GET, "contact/list")
                        .query(&[("paginate", "1")]),
                )
                .await
                .map_err(|f| self.t.error(f))?;
            match self.read(&r) {
                Answer::Ok(_) => Ok(Vec::new()),
                other => Err(answer_error(other, &self.t)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_splits_by_calling_code() {
        assert_eq!(
            split_e164("+5215512345678"),
            Some((52, "15512345678".into()))
        );
        assert_eq!(split_e164("+14155550100"), Some((1, "4155550100".into())));
        assert_eq!(
            split_e164("+8801711223344"),
            Some((880, "1711223344".into()))
        );
        assert_eq!(split_e164("+34600111222"), Some((34, "600111222".into())));
        assert_eq!(split_e164("5215512345678"), None);
    }

    #[test]
    fn form_fields_and_name_cut() {
        let c = Contact {
            first_name: "J".repeat(45),
            last_name: "Doe".into(),
            phone: "+8801988123456".into(),
            city: "Dhaka".into(),
            ..Contact::default()
        };
        let (f, w) = form(&c).unwrap();
        assert_eq!(f[0].1.chars().count(), 40);
        assert_eq!(
            &f[1..],
            &[
                ("lastname", "Doe".to_string()),
                ("mobile_code", "880".to_string()),
                ("mobile", "1988123456".to_string()),
                ("city", "Dhaka".to_string()),
            ]
        );
        assert_eq!(
            w,
            vec!["first_name_truncated: cut to 40 characters".to_string()]
        );
    }

    #[test]
    fn envelope_errors_with_200_are_read() {
        let e = Envelope::parse(
            r#"{"status":"error","remark":"validation_error","message":["The mobile has already been taken."]}"#,
        )
        .unwrap();
        assert!(!e.success && e.is_taken() && !e.is_ip_refusal());
        let ip = Envelope::parse(
            r#"{"remark":"Unauthorized","status":"error","message":["Access to this API endpoint is restricted to IP addresses that have been explicitly whitelisted.","In order to access this API endpoint, please add your IP address (::1) to the white list from the user dashboard."]}"#,
        )
        .unwrap();
        assert!(ip.is_ip_refusal());
    }
}
