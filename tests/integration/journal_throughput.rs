//! How fast the journal records rows: it must cost far less than the network.
//!
//! `cargo test --release --test integration journal_throughput -- --nocapture` prints the
//! rates. The release target is 200,000 recorded outcomes a second; debug
//! builds only check that the work completes correctly.

use std::time::Instant;
use waport::journal::{
    JobKind, JobMode, JobState, Journal, NewJob, Outcome, RowIntent, RowOutcome, RowRecord,
};

const ROWS: u64 = 100_000;
const BATCH: usize = 500;

#[test]
fn records_100k_outcomes_in_batches_of_500() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path().join("journal.sqlite")).unwrap();
    let job = j
        .start_job(&NewJob {
            kind: JobKind::Import,
            command: "waport import big.csv".into(),
            input_path: Some("big.csv".into()),
            input_fingerprint: Some("fp".into()),
            platform: "wazzup".into(),
            account_fp: "acct".into(),
            entity: "contacts".into(),
            mode: JobMode::Upsert,
            parent: None,
        })
        .unwrap();
    let intents: Vec<RowIntent> = (1..=ROWS)
        .map(|n| RowIntent {
            row: n,
            dedupe_key: format!("+5215512{n:06}"),
            content_hash: format!("{:064x}", u128::from(n) * 0x9E37_79B9_7F4A_7C15),
        })
        .collect();
    let outcomes: Vec<RowOutcome> = (1..=ROWS)
        .map(|n| {
            RowOutcome::of_sent(
                n,
                RowRecord::Confirmed {
                    outcome: if n % 3 == 0 {
                        Outcome::Updated
                    } else {
                        Outcome::Created
                    },
                    remote_id: format!("c-{n:08}"),
                },
            )
        })
        .collect();
    let nums: Vec<u64> = (1..=ROWS).collect();

    let t = Instant::now();
    for chunk in intents.chunks(BATCH) {
        j.mark_pending(job.id, chunk).unwrap();
    }
    let pending = t.elapsed();
    let t = Instant::now();
    for chunk in nums.chunks(BATCH) {
        j.mark_sent(job.id, chunk).unwrap();
    }
    let sent = t.elapsed();
    let t = Instant::now();
    for chunk in outcomes.chunks(BATCH) {
        j.record_outcomes(job.id, chunk).unwrap();
    }
    let recorded = t.elapsed();
    j.end_job(job.id, JobState::Finished).unwrap();

    let t = Instant::now();
    let hashes = j.last_sent_hashes("wazzup", "acct", "contacts").unwrap();
    let delta = t.elapsed();
    let t = Instant::now();
    let rows = j.rows(job.id).unwrap();
    let read = t.elapsed();
    let t = Instant::now();
    let created = j.created_by(job.id).unwrap();
    let created_t = t.elapsed();

    assert_eq!(hashes.len(), ROWS as usize);
    assert_eq!(rows.len(), ROWS as usize);
    assert_eq!(created.len(), 66_667);
    assert_eq!(j.counts(job.id).unwrap().confirmed, ROWS);

    let rate = |d: std::time::Duration| ROWS as f64 / d.as_secs_f64();
    let total = pending + sent + recorded;
    println!(
        "journal throughput ({} build, {ROWS} rows, batches of {BATCH}):\n  \
         mark_pending    {:>8.0} rows/s ({pending:?})\n  \
         mark_sent       {:>8.0} rows/s ({sent:?})\n  \
         record_outcomes {:>8.0} rows/s ({recorded:?})\n  \
         all three       {:>8.0} rows/s ({total:?})\n  \
         last_sent_hashes {delta:?}, rows() {read:?}, created_by {created_t:?}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        rate(pending),
        rate(sent),
        rate(recorded),
        rate(total),
    );
    if !cfg!(debug_assertions) {
        assert!(rate(recorded) > 200_000.0, "record_outcomes too slow");
    }
}
