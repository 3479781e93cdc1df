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

mod payload;

use payload::{Answer, answer_to_result, not_updatable};
pub use payload::{Envelope, Form, MAX_NAME, PAGE, TAKEN, form, remote_contact, split_e164};

use super::error::snippet;
use super::http::{Auth, Endpoint, Reply, Transport};
use super::{
    AdapterOptions, BatchResult, BoxFuture, Credentials, Entity, Halt, ItemResult, Page, Platform,
    PlatformError, PlatformKind, Secret, WriteMode, failure_result, status_result,
};
use crate::model::Contact;
use crate::model::Item;
use crate::model::Status;
use serde_json::Value;
use std::time::Duration;

/// Assumed ceiling of the pace (nothing is published: the pace starts at
/// 1 request/s and probes up to it, docs/platforms.md#wapiflow-rate-limit).
pub const DEFAULT_RATE: f64 = 5.0;

/// The WapiFlow adapter.
pub struct Wapiflow {
    endpoint: Endpoint,
    t: Transport,
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
            endpoint: Endpoint::new(
                creds.base_url,
                Auth::Headers(vec![("client-id", id), ("client-secret", secret)]),
            ),
            t,
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        // WapiFlow's paths are written without their leading `/`.
        self.endpoint.request(&self.t, method, &format!("/{path}"))
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
                    ItemResult::done(Status::Skipped, "", super::NOT_FOUND),
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
