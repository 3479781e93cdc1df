//! The first half of every command: records → contacts, normalized, checked
//! and deduplicated, in input order.
//!
//! Reading runs on its own thread; normalization (the expensive part: phone
//! parsing) runs on rayon's pool a chunk at a time; deduplication runs in
//! order on the consumer's thread, because "the first row wins" needs order.

use crate::dedupe::{DedupeBy, Deduper, Key};
use crate::mapping::{Mapping, PhoneCandidate, is_footer};
use crate::model::{Contact, Field};
use crate::normalize::{email, phone};
use crate::platform::PlatformKind;
use crate::report::{EncodedLines, ReportLayout, RowResult, RowView, Status};
use crate::source::{Fields, Record, RecordProblem, Source, SourceError};
use rayon::prelude::*;
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::mpsc::{Receiver, sync_channel};

/// Records handed to the normalizers at a time: large enough to amortise
/// the thread hand-off, small enough to keep memory flat.
const CHUNK: usize = 4096;

/// What to do with a row whose e-mail is not valid (`--on-invalid-email`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EmailPolicy {
    /// The row is invalid.
    #[default]
    Reject,
    /// Keep the row, blank the e-mail, say so in `reason`.
    Drop,
}

impl FromStr for EmailPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reject" => Ok(EmailPolicy::Reject),
            "drop" => Ok(EmailPolicy::Drop),
            other => Err(format!(
                "unknown e-mail policy \"{other}\" (expected reject or drop)"
            )),
        }
    }
}

/// How rows are checked.
#[derive(Debug, Clone, Default)]
pub struct PrepareOptions {
    /// Region for national numbers when the row has no country.
    pub default_region: Option<String>,
    /// What makes two rows the same contact.
    pub dedupe_by: DedupeBy,
    /// Invalid e-mail handling.
    pub on_invalid_email: EmailPolicy,
    /// Target platform whose required fields are checked.
    pub platform: Option<PlatformKind>,
    /// Which reading wins for a WhatsApp id valid both nationally and
    /// internationally (`--prefer-national`, `--prefer-international`).
    pub prefer: phone::Prefer,
    /// `--require-mobile`: a row whose chosen number is not mobile-capable
    /// is invalid (`not_mobile`).
    pub require_mobile: bool,
    /// Map only what the report shows (phone, e-mail, and the country they
    /// are read in): set by `validate` without a platform, whose report
    /// shows nothing else of the contact. Ignored when `platform` is set.
    pub keys_only: bool,
    /// Rows without a phone are sent (where the platform takes them) when
    /// they have an e-mail to be found again by (`--allow-without-phone`).
    pub allow_without_phone: bool,
    /// `validate --to wipsy`: the `waport.toml` maps, to say in a valid
    /// row's reason which tags, fields and stages an import would leave
    /// out (an import's adapter says it on the row it sends).
    pub wipsy_maps: Option<crate::platform::WipsyMaps>,
}

impl PrepareOptions {
    /// Whether a row without a phone is rejected (then a file with no
    /// phone column is refused before its rows are read).
    pub fn phone_required(&self) -> bool {
        match self.platform {
            Some(p) => p.required_fields().contains(&Field::Phone),
            None => self.dedupe_by != DedupeBy::Email,
        }
    }
}

/// A row after mapping, normalization and deduplication.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Position in the input (0-based).
    pub seq: u64,
    /// Row number as a spreadsheet user sees it.
    pub row: u64,
    /// `Valid`, `Invalid` or `Duplicate`.
    pub status: Status,
    /// Reasons (codes with detail), including warnings on valid rows.
    pub reasons: Vec<String>,
    /// The normalized contact.
    pub contact: Contact,
    /// The phone's type (`mobile`, …), empty when there is no valid phone.
    pub phone_type: &'static str,
    /// Dedupe key of a valid row.
    pub key: Option<Key>,
    /// The earlier row holding the same key.
    pub duplicate_of: Option<u64>,
    /// The input's own fields.
    pub raw: Fields,
}

impl Prepared {
    /// The report line for this row as it stands, borrowing this row's text
    /// (what `validate` writes; [`Prepared::to_result`] is the owned form).
    pub fn view(&self, status: Status) -> RowView<'_> {
        RowView {
            seq: self.seq,
            row: self.row,
            status,
            reason: match self.reasons.as_slice() {
                [] => Cow::Borrowed(""),
                [one] => Cow::Borrowed(one.as_str()),
                many => Cow::Owned(many.join("; ")),
            },
            phone: if self.status == Status::Invalid {
                ""
            } else {
                &self.contact.phone
            },
            phone_type: if self.status == Status::Invalid {
                ""
            } else {
                self.phone_type
            },
            email: &self.contact.email,
            duplicate_of: self.duplicate_of,
            remote_id: "",
            raw: &self.raw,
        }
    }

    /// The report line for this row as it stands.
    pub fn to_result(&self, status: Status) -> RowResult {
        RowResult {
            seq: self.seq,
            row: self.row,
            status,
            reason: self.reasons.join("; "),
            phone: if self.status == Status::Invalid {
                String::new()
            } else {
                self.contact.phone.clone()
            },
            phone_type: if self.status == Status::Invalid {
                ""
            } else {
                self.phone_type
            },
            email: self.contact.email.clone(),
            duplicate_of: self.duplicate_of,
            remote_id: String::new(),
            raw: self.raw.clone(),
        }
    }
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// A row that is not a contact but a footer line of the export.
fn footer(seq: u64, rec: Record) -> Prepared {
    Prepared {
        seq,
        row: rec.row,
        status: Status::Skipped,
        reasons: vec![crate::report::FOOTER.to_string()],
        contact: Contact::default(),
        phone_type: "",
        key: None,
        duplicate_of: None,
        raw: rec.fields,
    }
}

/// The phones a row had besides the one chosen, for its report line
/// (`other_phones: +34611222333 (Home Phone), "12" (Phone 2 - Value: Work)`):
/// nothing a file holds is silently lost.
fn other_phones_detail(k: &crate::mapping::Keys<'_>, chosen: &phone::Chosen) -> String {
    // Candidate 0 is the mapping's pick, then `k.other_phones` in order.
    let sources = std::iter::once((k.phone, k.phone_source.0, k.phone_source.1)).chain(
        k.other_phones
            .iter()
            .map(|o: &PhoneCandidate<'_>| (o.raw, o.column, o.label)),
    );
    let list: Vec<String> = sources
        .enumerate()
        .filter(|(i, _)| *i != chosen.index)
        .map(|(i, (raw, column, label))| {
            // A valid number in its E.164 form (as `choose` read it),
            // anything else as written.
            let shown = match chosen.readings.get(i) {
                Some(Some(e164)) => e164.clone(),
                _ => quoted(raw),
            };
            if label.is_empty() {
                format!("{shown} ({column})")
            } else {
                format!("{shown} ({column}: {label})")
            }
        })
        .collect();
    format!("other_phones: {}", list.join(", "))
}

/// Maps and normalizes one record. Pure, so it runs in parallel.
pub fn prepare_record(seq: u64, rec: Record, mapping: &Mapping, opts: &PrepareOptions) -> Prepared {
    let mut reasons = Vec::new();
    let mut invalid = false;
    if matches!(rec.problem, Some(RecordProblem::Ragged { .. })) && is_footer(&rec.fields) {
        return footer(seq, rec);
    }
    if let Some(problem) = &rec.problem {
        return Prepared {
            seq,
            row: rec.row,
            status: Status::Invalid,
            reasons: vec![problem.reason()],
            contact: Contact::default(),
            phone_type: "",
            key: None,
            duplicate_of: None,
            raw: rec.fields,
        };
    }
    let keys_only = opts.keys_only && opts.platform.is_none();
    let k = mapping.keys(&rec.fields);
    if k.phone.is_empty() && k.email.is_empty() && is_footer(&rec.fields) {
        return footer(seq, rec);
    }
    let mut c = if keys_only {
        Contact::default()
    } else {
        let mut c = mapping.apply(&rec.fields);
        c.phone.clear();
        c.email.clear();
        c
    };
    let region = phone::RowRegion::of_row(&k.country, opts.default_region.as_deref());
    let raw_phone = k.phone;
    let raw_email = k.email;
    let mut phone_type = "";
    let mut others_detail = None;
    if raw_phone.trim().is_empty() {
        if opts.phone_required() {
            invalid = true;
            reasons.push(phone::PhoneError::Missing.code().to_string());
        }
    } else {
        // The mapping's pick first (the earliest of the best-labelled),
        // then the row's other numbers in file order: `choose` ranks them by
        // label, then by the engine's number type (a mobile first).
        let first = phone::PhoneCandidate {
            raw: raw_phone,
            label: k.phone_kind,
        };
        // The common row has one number: no list is allocated for it.
        let several: Vec<phone::PhoneCandidate<'_>>;
        let candidates = if k.other_phones.is_empty() {
            std::slice::from_ref(&first)
        } else {
            several = std::iter::once(first)
                .chain(k.other_phones.iter().map(|o| phone::PhoneCandidate {
                    raw: o.raw,
                    label: o.kind,
                }))
                .collect();
            several.as_slice()
        };
        match phone::choose(candidates, region, opts.prefer) {
            Ok(chosen) => {
                let raw = candidates[chosen.index].raw;
                for note in &chosen.phone.notes {
                    reasons.push(note.reason(raw, &chosen.phone.e164));
                }
                if !k.other_phones.is_empty() {
                    others_detail = Some(other_phones_detail(&k, &chosen));
                }
                if opts.require_mobile && !chosen.phone.kind.is_mobile_capable() {
                    invalid = true;
                    reasons.push(format!(
                        "not_mobile: {} is a {} number (--require-mobile)",
                        quoted(raw.trim()),
                        chosen.phone.kind.as_str()
                    ));
                }
                phone_type = chosen.phone.kind.as_str();
                c.phone = chosen.phone.e164;
            }
            Err(e) => {
                invalid = true;
                reasons.push(e.reason(raw_phone));
            }
        }
    }
    match email::normalize(raw_email) {
        Ok(e) => c.email = e,
        Err(_) => match opts.on_invalid_email {
            EmailPolicy::Reject => {
                invalid = true;
                reasons.push(format!("invalid_email: {}", quoted(raw_email.trim())));
            }
            EmailPolicy::Drop => {
                reasons.push(format!("email_dropped: {}", quoted(raw_email.trim())));
            }
        },
    }
    reasons.extend(others_detail);
    if !k.other_emails.is_empty() {
        reasons.push(format!("other_emails: {}", k.other_emails.join(", ")));
    }
    if !keys_only {
        c.complete_names();
    }
    // A row is sent only with a key the platform can be searched by and the
    // journal can remember: otherwise every re-run would create it again.
    if opts.platform.is_some()
        && raw_phone.trim().is_empty()
        && !opts.phone_required()
        && (!opts.allow_without_phone || c.email.is_empty())
    {
        invalid = true;
        reasons.push(
            if opts.allow_without_phone {
                "no_identity: the row has neither a phone nor an e-mail to find the contact again by"
            } else {
                "no_identity: the row has no phone; add one, or pass --allow-without-phone to match it by its e-mail"
            }
            .to_string(),
        );
    }
    if let Some(p) = opts.platform {
        for &field in p.required_fields() {
            if field != Field::Phone && !c.is_filled(field) {
                invalid = true;
                reasons.push(format!("missing_field: {field}"));
            }
        }
    }
    if !invalid
        && opts.platform == Some(PlatformKind::Wipsy)
        && let Some(maps) = &opts.wipsy_maps
    {
        reasons.extend(crate::platform::wipsy::not_sent(&c, maps));
    }
    let key = if invalid {
        None
    } else {
        Key::build(opts.dedupe_by, &c.phone, &c.email)
    };
    Prepared {
        seq,
        row: rec.row,
        status: if invalid {
            Status::Invalid
        } else {
            Status::Valid
        },
        reasons,
        contact: c,
        phone_type,
        key,
        duplicate_of: None,
        raw: rec.fields,
    }
}

/// Streams prepared rows a chunk at a time, in input order.
///
/// Three stages overlap: a reader thread parses records, a normalizer
/// thread hands each chunk to rayon's pool, and the consumer deduplicates
/// (in order) and writes while the next chunks are being prepared.
pub struct Pipeline {
    rx: Receiver<Result<Vec<Prepared>, SourceError>>,
    deduper: Deduper,
}

/// Prepared chunks waiting for the consumer: enough to keep the pool busy
/// while the consumer writes, few enough to keep memory flat.
const PREPARED_QUEUE: usize = 2;

/// Chunks being normalized at once. One at a time left a core idle at
/// the end of every chunk, while the last part finished; with a few in
/// flight the pool always has the next chunk's parts to take.
const IN_FLIGHT: usize = 3;

/// Starts the reader and normalizer threads; `work` turns a chunk of
/// records (whose first has sequence number `base`) into one output item,
/// on rayon's pool. Items come out in input order.
///
/// A panic in `work` (a bug, never a property of the input) ends the
/// stream with an error naming the row range, rather than looking like the
/// end of the file: a report must never be silently short.
fn start<T, F>(source: Source, work: F) -> Receiver<Result<T, SourceError>>
where
    T: Send + 'static,
    F: Fn(u64, Vec<Record>) -> T + Send + Sync + 'static,
{
    let (tx, records_rx) = sync_channel::<Result<Vec<Record>, SourceError>>(4);
    let mut records = source.records;
    let path = source.info.path.clone();
    std::thread::spawn(move || {
        loop {
            let mut chunk = Vec::with_capacity(CHUNK);
            for rec in records.by_ref() {
                match rec {
                    Ok(r) => chunk.push(r),
                    Err(e) => {
                        if !chunk.is_empty() {
                            let _ = tx.send(Ok(std::mem::take(&mut chunk)));
                        }
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                if chunk.len() == CHUNK {
                    break;
                }
            }
            if chunk.is_empty() || tx.send(Ok(chunk)).is_err() {
                return;
            }
        }
    });
    let (tx, rx) = sync_channel(PREPARED_QUEUE);
    std::thread::spawn(move || {
        let work = std::sync::Arc::new(work);
        let mut in_flight = std::collections::VecDeque::new();
        // Hands the oldest chunk's result on; false when the stream is over.
        let forward = |rx: Receiver<Result<T, SourceError>>| -> bool {
            match rx.recv() {
                Ok(out) => {
                    let fatal = out.is_err();
                    tx.send(out).is_ok() && !fatal
                }
                Err(_) => false,
            }
        };
        let mut seq = 0u64;
        for chunk in records_rx {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    while let Some(rx) = in_flight.pop_front() {
                        if !forward(rx) {
                            return;
                        }
                    }
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let base = seq;
            seq += chunk.len() as u64;
            let (done_tx, done_rx) = sync_channel(1);
            let work = std::sync::Arc::clone(&work);
            let path = path.clone();
            rayon::spawn(move || {
                let first = chunk.first().map_or(0, |r| r.row);
                let last = chunk.last().map_or(0, |r| r.row);
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    work(base, chunk)
                }))
                .map_err(|_| {
                    SourceError::unreadable(
                        &path,
                        format!(
                            "could not be checked: an internal error stopped the run in rows {first}-{last} (please report it)"
                        ),
                    )
                });
                let _ = done_tx.send(out);
            });
            in_flight.push_back(done_rx);
            if in_flight.len() >= IN_FLIGHT
                && let Some(rx) = in_flight.pop_front()
                && !forward(rx)
            {
                return;
            }
        }
        while let Some(rx) = in_flight.pop_front() {
            if !forward(rx) {
                return;
            }
        }
    });
    rx
}

impl Pipeline {
    /// Starts reading `source` on a background thread.
    pub fn new(source: Source, mapping: Mapping, opts: PrepareOptions) -> Pipeline {
        let rx = start(source, move |base, chunk| {
            chunk
                .into_par_iter()
                .enumerate()
                .map(|(i, rec)| prepare_record(base + i as u64, rec, &mapping, &opts))
                .collect()
        });
        Pipeline {
            rx,
            deduper: Deduper::new(),
        }
    }
}

/// The earlier row holding `key`, if any; otherwise `row` claims it. A row
/// without a key is never a duplicate.
fn dedupe(deduper: &mut Deduper, key: Option<&Key>, row: u64) -> Option<u64> {
    deduper.claim(key?, row)
}

impl Iterator for Pipeline {
    type Item = Result<Vec<Prepared>, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut prepared = match self.rx.recv().ok()? {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        for p in prepared.iter_mut() {
            if let Some(first) = dedupe(&mut self.deduper, p.key.as_ref(), p.row) {
                p.status = Status::Duplicate;
                p.duplicate_of = Some(first);
            }
        }
        Some(Ok(prepared))
    }
}

/// Rows the workers encode together: enough to amortise a task, few
/// enough that a chunk still splits across every core.
const PART: usize = 512;

/// What `validate` keeps of a row once its report lines are encoded.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Row number as a spreadsheet user sees it.
    pub row: u64,
    /// `Valid`, `Invalid` or `Duplicate`.
    pub status: Status,
    /// The reasons, joined as the report shows them.
    pub reason: String,
    /// Dedupe key of a valid row.
    pub key: Option<Key>,
    /// The earlier row holding the same key.
    pub duplicate_of: Option<u64>,
}

/// Consecutive rows checked on one worker, with their report lines.
#[derive(Debug)]
pub struct CheckedPart {
    /// The rows, in input order.
    pub rows: Vec<Checked>,
    /// Their lines, in the same order.
    pub lines: EncodedLines,
}

/// [`Pipeline`] for `validate`: the workers also encode each row's report
/// lines (the ordered stage only fills in `status` and `duplicate_of`) and
/// drop the row's text, so the one ordered thread only deduplicates and
/// copies bytes. At a million rows a second that thread, not the phone
/// parsing, had become the bound.
pub struct Checker {
    rx: Receiver<Result<Vec<CheckedPart>, SourceError>>,
    deduper: Deduper,
}

impl Checker {
    /// Starts reading `source`, encoding lines the way `layout` says.
    pub fn new(
        source: Source,
        mapping: Mapping,
        opts: PrepareOptions,
        layout: ReportLayout,
    ) -> Checker {
        let rx = start(source, move |base, chunk| {
            chunk
                .into_par_iter()
                .chunks(PART)
                .enumerate()
                .map(|(k, records)| {
                    // A line is the row's own cells (one delimiter each)
                    // and waport's columns, about 100 bytes: sized from the
                    // records themselves, the buffer is not grown and
                    // copied part way (a fixed 128 bytes a row fell short
                    // of a 150-byte line, every part).
                    let bytes: usize = records
                        .iter()
                        .map(|r| r.fields.text_len() + r.fields.len() + 128)
                        .sum();
                    let mut lines = EncodedLines::with_capacity(records.len(), bytes);
                    let base = base + (k * PART) as u64;
                    let rows = records
                        .into_iter()
                        .enumerate()
                        .map(|(i, rec)| {
                            let p = prepare_record(base + i as u64, rec, &mapping, &opts);
                            let view = p.view(p.status);
                            layout.encode(&view, &mut lines);
                            let joined = match view.reason {
                                Cow::Owned(s) => Some(s),
                                Cow::Borrowed(_) => None,
                            };
                            let Prepared {
                                row,
                                status,
                                mut reasons,
                                key,
                                ..
                            } = p;
                            // No reason or one: moved out of the row, not
                            // copied (several were joined for the view).
                            let reason =
                                joined.unwrap_or_else(|| reasons.pop().unwrap_or_default());
                            Checked {
                                row,
                                status,
                                reason,
                                key,
                                duplicate_of: None,
                            }
                        })
                        .collect();
                    CheckedPart { rows, lines }
                })
                .collect()
        });
        Checker {
            rx,
            deduper: Deduper::new(),
        }
    }
}

impl Iterator for Checker {
    type Item = Result<Vec<CheckedPart>, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut parts = match self.rx.recv().ok()? {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        for c in parts.iter_mut().flat_map(|p| p.rows.iter_mut()) {
            if let Some(first) = dedupe(&mut self.deduper, c.key.as_ref(), c.row) {
                c.status = Status::Duplicate;
                c.duplicate_of = Some(first);
            }
        }
        Some(Ok(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Format, SourceInfo};

    fn source(rows: u64) -> Source {
        Source {
            headers: vec!["phone".into()],
            info: SourceInfo {
                path: "in.csv".into(),
                format: Format::Csv,
                encoding: None,
                delimiter: Some(b','),
                sheet: None,
                workbook: None,
                header_row: 1,
                bom: false,
                crlf: false,
            },
            records: Box::new((0..rows).map(|i| {
                Ok(Record {
                    row: i + 2,
                    fields: [i.to_string()].into_iter().collect(),
                    problem: None,
                })
            })),
        }
    }

    #[test]
    fn chunks_come_out_in_input_order_even_when_early_ones_are_slow() {
        let rows = CHUNK as u64 * 7 + 5;
        let rx = start(source(rows), |base, chunk| {
            // The first chunks finish last.
            if base < 2 * CHUNK as u64 {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            chunk.iter().map(|r| r.row).collect::<Vec<u64>>()
        });
        let seen: Vec<u64> = rx.iter().flat_map(|c| c.unwrap()).collect();
        assert_eq!(seen, (2..rows + 2).collect::<Vec<u64>>());
    }

    #[test]
    fn a_panicking_chunk_ends_the_stream_with_an_error_not_a_short_file() {
        let rows = CHUNK as u64 * 3;
        let rx = start(source(rows), |base, chunk| {
            if base == CHUNK as u64 {
                panic!("bug");
            }
            chunk.len()
        });
        let out: Vec<Result<usize, SourceError>> = rx.iter().collect();
        assert_eq!(out.len(), 2, "the chunk before, then the error");
        assert_eq!(*out[0].as_ref().unwrap(), CHUNK);
        let msg = out[1].as_ref().unwrap_err().to_string();
        let first = CHUNK + 2;
        let last = 2 * CHUNK + 1;
        assert!(msg.contains(&format!("rows {first}-{last}")), "{msg}");
        assert!(msg.starts_with("in.csv "), "{msg}");
    }
}
