//! Rows through their lifecycle, resume, nightly deltas and rollback.

use waport::journal::{
    CreatedRow, Job, JobId, JobKind, JobMode, JobState, Journal, JournalError, NewJob, Outcome,
    RowIntent, RowOutcome, RowRecord, RowStatus,
};

const INPUT_FP: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn spec(account: &str, mode: JobMode) -> NewJob {
    NewJob {
        kind: JobKind::Import,
        command: "waport import c.csv --to wazzup --api-key ***".into(),
        input_path: Some("c.csv".into()),
        input_fingerprint: Some(INPUT_FP.into()),
        platform: "wazzup".into(),
        account_fp: account.into(),
        entity: "contacts".into(),
        mode,
        parent: None,
    }
}

fn intent(row: u64) -> RowIntent {
    RowIntent {
        row,
        dedupe_key: format!("+52155{row:08}"),
        content_hash: format!("h{row}"),
    }
}

fn confirmed(row: u64, outcome: Outcome) -> RowOutcome {
    RowOutcome::of_sent(
        row,
        RowRecord::Confirmed {
            outcome,
            remote_id: format!("r{row}"),
        },
    )
}

fn open() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path().join("journal.sqlite")).unwrap();
    (dir, j)
}

#[test]
fn pending_sent_confirmed_lifecycle() {
    let (_d, mut j) = open();
    let job = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.pid, Some(std::process::id()));

    assert_eq!(
        j.mark_pending(job.id, &[intent(1), intent(2), intent(3)])
            .unwrap(),
        3
    );
    let rows = j.rows(job.id).unwrap();
    assert!(rows.iter().all(|r| r.status == RowStatus::Pending));
    assert_eq!(rows[1].dedupe_key, "+5215500000002");
    assert_eq!(rows[1].content_hash, "h2");

    // Only pending rows move to sent; an unknown row number changes nothing.
    assert_eq!(j.mark_sent(job.id, &[1, 2, 99]).unwrap(), 2);
    j.record_outcomes(
        job.id,
        &[
            confirmed(1, Outcome::Created),
            RowOutcome::of_sent(
                2,
                RowRecord::Failed {
                    reason: "INVALID_CONTACTS_DATA: name".into(),
                },
            ),
        ],
    )
    .unwrap();

    let rows = j.rows(job.id).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].status, RowStatus::Confirmed);
    assert_eq!(rows[0].outcome, Some(Outcome::Created));
    assert_eq!(rows[0].remote_id.as_deref(), Some("r1"));
    // Key and hash from the intent were kept.
    assert_eq!(rows[0].dedupe_key, "+5215500000001");
    assert_eq!(rows[0].content_hash, "h1");
    assert_eq!(rows[1].status, RowStatus::Failed);
    assert_eq!(
        rows[1].reason.as_deref(),
        Some("INVALID_CONTACTS_DATA: name")
    );
    assert_eq!(rows[2].status, RowStatus::Pending);
    assert!(!RowStatus::Pending.is_final() && !RowStatus::Sent.is_final());
    assert!(RowStatus::Confirmed.is_final() && RowStatus::Unchanged.is_final());

    // A confirmed row is not pulled back to pending.
    assert_eq!(j.mark_pending(job.id, &[intent(1), intent(2)]).unwrap(), 1);
    let rows = j.rows(job.id).unwrap();
    assert_eq!(rows[0].status, RowStatus::Confirmed);
    assert_eq!(rows[1].status, RowStatus::Pending);
    assert_eq!(rows[1].reason, None);
}

#[test]
fn final_statuses_of_unsent_rows_are_recorded_for_the_report() {
    let (_d, mut j) = open();
    let job = j.start_job(&spec("acct", JobMode::Upsert)).unwrap();
    j.record_outcomes(
        job.id,
        &[
            RowOutcome::new(
                1,
                "",
                "",
                RowRecord::Invalid {
                    reason: "bad phone".into(),
                },
            ),
            RowOutcome::new(
                2,
                "k",
                "h",
                RowRecord::Duplicate {
                    reason: "same phone as row 1".into(),
                },
            ),
            RowOutcome::new(
                3,
                "k3",
                "h3",
                RowRecord::Skipped {
                    reason: "quota".into(),
                },
            ),
            RowOutcome::new(
                4,
                "k4",
                "h4",
                RowRecord::Unchanged {
                    remote_id: "r4".into(),
                },
            ),
        ],
    )
    .unwrap();
    let rows = j.rows(job.id).unwrap();
    let statuses: Vec<_> = rows.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RowStatus::Invalid,
            RowStatus::Duplicate,
            RowStatus::Skipped,
            RowStatus::Unchanged
        ]
    );
    assert_eq!(rows[1].reason.as_deref(), Some("same phone as row 1"));
    assert_eq!(rows[3].remote_id.as_deref(), Some("r4"));
    let c = j.counts(job.id).unwrap();
    assert_eq!(
        (c.invalid, c.duplicate, c.skipped, c.unchanged, c.total()),
        (1, 1, 1, 1, 4)
    );
    // None of them says anything about what is on the platform.
    assert!(
        j.last_sent_hashes("wazzup", "acct", "contacts")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn batched_outcomes_and_counts() {
    let (_d, mut j) = open();
    let job = j.start_job(&spec("acct", JobMode::Upsert)).unwrap();
    let intents: Vec<_> = (1..=1000).map(intent).collect();
    for batch in intents.chunks(100) {
        assert_eq!(j.mark_pending(job.id, batch).unwrap(), 100);
        let nums: Vec<u64> = batch.iter().map(|i| i.row).collect();
        assert_eq!(j.mark_sent(job.id, &nums).unwrap(), 100);
        let outcomes: Vec<_> = nums
            .iter()
            .map(|&n| match n % 4 {
                0 => confirmed(n, Outcome::Created),
                1 => confirmed(n, Outcome::Updated),
                2 => confirmed(n, Outcome::Exists),
                _ => RowOutcome::of_sent(
                    n,
                    RowRecord::Failed {
                        reason: "500".into(),
                    },
                ),
            })
            .collect();
        j.record_outcomes(job.id, &outcomes).unwrap();
    }
    let c = j.counts(job.id).unwrap();
    assert_eq!(c.confirmed, 750);
    assert_eq!(
        (c.created, c.updated, c.exists, c.failed),
        (250, 250, 250, 250)
    );
    assert_eq!(c.total(), 1000);

    let ended = j.end_job(job.id, JobState::Finished).unwrap();
    assert_eq!(ended.state, JobState::Finished);
    assert!(ended.finished_at.is_some());
    let list = j.list_jobs(10).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].counts, c);
    assert!(matches!(
        j.end_job(job.id, JobState::Running),
        Err(JournalError::BadValue { .. })
    ));
}

#[test]
fn an_unsanitized_command_is_sanitized_before_it_is_stored() {
    let (dir, mut j) = open();
    let mut raw = spec("acct", JobMode::Create);
    raw.command = "waport import c.csv --api-key SUPERSECRET42 --to wazzup".into();
    let job = j.start_job(&raw).unwrap();
    assert_eq!(job.command, "waport import c.csv --api-key *** --to wazzup");
    drop(j);
    let bytes = std::fs::read(dir.path().join("journal.sqlite")).unwrap();
    let wal = std::fs::read(dir.path().join("journal.sqlite-wal")).unwrap_or_default();
    let needle = b"SUPERSECRET42";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    assert!(!wal.windows(needle.len()).any(|w| w == needle));
}

#[test]
fn unknown_job_is_a_clear_error() {
    let (_d, mut j) = open();
    let err = j.mark_pending(JobId(77), &[intent(1)]).unwrap_err();
    assert!(
        matches!(err, JournalError::NoSuchJob { id: JobId(77), .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("j-77"));
    assert!(j.get_job(JobId(77)).is_err());
    assert!(j.rows(JobId(77)).is_err());
}

#[test]
fn list_jobs_is_newest_first_and_limited() {
    let (_d, mut j) = open();
    let ids: Vec<JobId> = (0..5)
        .map(|i| {
            j.start_job(&spec(&format!("a{i}"), JobMode::Create))
                .unwrap()
                .id
        })
        .collect();
    let list = j.list_jobs(3).unwrap();
    let got: Vec<JobId> = list.iter().map(|s| s.job.id).collect();
    assert_eq!(got, [ids[4], ids[3], ids[2]]);
    assert_eq!(ids[0].to_string(), "j-1");
}

#[test]
fn find_resumable_returns_the_latest_unfinished_job_for_the_same_target() {
    let (_d, mut j) = open();
    assert!(
        j.find_resumable(INPUT_FP, "wazzup", "acct", "contacts")
            .unwrap()
            .is_none()
    );

    let first = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    j.mark_pending(first.id, &[intent(1), intent(2), intent(3)])
        .unwrap();
    j.mark_sent(first.id, &[1, 2]).unwrap();
    j.record_outcomes(first.id, &[confirmed(1, Outcome::Created)])
        .unwrap();
    j.end_job(first.id, JobState::Interrupted).unwrap();
    // Another account, another entity, another input: never offered.
    let other = j.start_job(&spec("other-acct", JobMode::Create)).unwrap();
    j.end_job(other.id, JobState::Interrupted).unwrap();

    let found: Job = j
        .find_resumable(INPUT_FP, "wazzup", "acct", "contacts")
        .unwrap()
        .unwrap();
    assert_eq!(found.id, first.id);
    assert_eq!(found.state, JobState::Interrupted);
    assert!(
        j.find_resumable(INPUT_FP, "wazzup", "acct", "users")
            .unwrap()
            .is_none()
    );
    assert!(
        j.find_resumable("ff", "wazzup", "acct", "contacts")
            .unwrap()
            .is_none()
    );
    assert!(
        j.find_resumable(INPUT_FP, "whaapy", "acct", "contacts")
            .unwrap()
            .is_none()
    );

    // What the resumed run sees: 1 done, 2 in doubt, 3 never left.
    let rows = j.rows(found.id).unwrap();
    let by: Vec<_> = rows.iter().map(|r| (r.row, r.status)).collect();
    assert_eq!(
        by,
        [
            (1, RowStatus::Confirmed),
            (2, RowStatus::Sent),
            (3, RowStatus::Pending)
        ]
    );

    let resumed = j.resume_job(found.id).unwrap();
    assert_eq!(resumed.state, JobState::Running);
    assert_eq!(resumed.resumes, 1);
    assert_eq!(resumed.finished_at, None);
    // Reconciling row 2: found on the platform, so this job created it.
    j.record_outcomes(
        found.id,
        &[
            confirmed(2, Outcome::Created),
            confirmed(3, Outcome::Created),
        ],
    )
    .unwrap();
    j.end_job(found.id, JobState::Finished).unwrap();
    assert!(
        j.find_resumable(INPUT_FP, "wazzup", "acct", "contacts")
            .unwrap()
            .is_none()
    );

    // A failed job is resumable too.
    let failed = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    j.end_job(failed.id, JobState::Failed).unwrap();
    assert_eq!(
        j.find_resumable(INPUT_FP, "wazzup", "acct", "contacts")
            .unwrap()
            .map(|j| j.id),
        Some(failed.id)
    );
}

#[test]
fn an_older_interrupted_job_is_superseded_by_a_later_finished_one() {
    let (_d, mut j) = open();
    let old = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    j.end_job(old.id, JobState::Interrupted).unwrap();
    let new = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    j.end_job(new.id, JobState::Finished).unwrap();
    assert!(
        j.find_resumable(INPUT_FP, "wazzup", "acct", "contacts")
            .unwrap()
            .is_none()
    );
}

#[test]
fn remote_state_feeds_nightly_deltas_across_jobs() {
    let (_d, mut j) = open();
    // Night 1, interrupted after some rows were confirmed: they count.
    let n1 = j.start_job(&spec("acct", JobMode::Upsert)).unwrap();
    j.mark_pending(n1.id, &[intent(1), intent(2), intent(3)])
        .unwrap();
    j.mark_sent(n1.id, &[1, 2, 3]).unwrap();
    j.record_outcomes(
        n1.id,
        &[
            confirmed(1, Outcome::Created),
            confirmed(2, Outcome::Created),
        ],
    )
    .unwrap();
    j.end_job(n1.id, JobState::Interrupted).unwrap();
    let m = j.last_sent_hashes("wazzup", "acct", "contacts").unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m["+5215500000001"], ("h1".to_string(), "r1".to_string()));
    assert!(
        !m.contains_key("+5215500000003"),
        "sent but unconfirmed is unknown"
    );

    // Night 2: row 1 changed content and is updated; row 3 exists already.
    let n2 = j.start_job(&spec("acct", JobMode::Upsert)).unwrap();
    j.mark_pending(
        n2.id,
        &[RowIntent {
            row: 1,
            dedupe_key: "+5215500000001".into(),
            content_hash: "h1-v2".into(),
        }],
    )
    .unwrap();
    j.record_outcomes(
        n2.id,
        &[
            confirmed(1, Outcome::Updated),
            RowOutcome::new(
                3,
                "+5215500000003",
                "h3",
                RowRecord::Confirmed {
                    outcome: Outcome::Exists,
                    remote_id: "r3".into(),
                },
            ),
            RowOutcome::new(
                2,
                "+5215500000002",
                "h2",
                RowRecord::Unchanged {
                    remote_id: "r2".into(),
                },
            ),
        ],
    )
    .unwrap();
    let m = j.last_sent_hashes("wazzup", "acct", "contacts").unwrap();
    assert_eq!(m["+5215500000001"], ("h1-v2".to_string(), "r1".to_string()));
    assert_eq!(m["+5215500000002"], ("h2".to_string(), "r2".to_string()));
    // Exists: id known, content unknown.
    assert_eq!(m["+5215500000003"], (String::new(), "r3".to_string()));
    assert_eq!(
        j.remote_entry("wazzup", "acct", "contacts", "+5215500000001")
            .unwrap(),
        Some(("h1-v2".to_string(), "r1".to_string()))
    );

    // `exists` for an entry with the same id keeps its known content.
    let n3 = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    j.record_outcomes(
        n3.id,
        &[RowOutcome::new(
            1,
            "+5215500000001",
            "h1-v2",
            RowRecord::Confirmed {
                outcome: Outcome::Exists,
                remote_id: "r1".into(),
            },
        )],
    )
    .unwrap();
    let m = j.last_sent_hashes("wazzup", "acct", "contacts").unwrap();
    assert_eq!(m["+5215500000001"], ("h1-v2".to_string(), "r1".to_string()));

    // Other targets are separate.
    assert!(
        j.last_sent_hashes("wazzup", "other", "contacts")
            .unwrap()
            .is_empty()
    );
    assert!(
        j.last_sent_hashes("wazzup", "acct", "users")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn created_by_and_rollback() {
    let (_d, mut j) = open();
    let job = j.start_job(&spec("acct", JobMode::Upsert)).unwrap();
    let intents: Vec<_> = (1..=4).map(intent).collect();
    j.mark_pending(job.id, &intents).unwrap();
    j.mark_sent(job.id, &[1, 2, 3, 4]).unwrap();
    j.record_outcomes(
        job.id,
        &[
            confirmed(1, Outcome::Created),
            confirmed(2, Outcome::Updated),
            confirmed(3, Outcome::Created),
            confirmed(4, Outcome::Exists),
        ],
    )
    .unwrap();
    j.end_job(job.id, JobState::Finished).unwrap();

    let created = j.created_by(job.id).unwrap();
    assert_eq!(
        created,
        [
            CreatedRow {
                row: 1,
                dedupe_key: "+5215500000001".into(),
                remote_id: "r1".into(),
                rolled_back: false
            },
            CreatedRow {
                row: 3,
                dedupe_key: "+5215500000003".into(),
                remote_id: "r3".into(),
                rolled_back: false
            },
        ]
    );

    // The rollback job deletes row 1, finds row 3 already gone... after
    // being interrupted once in between.
    let rb = j
        .start_job(&NewJob {
            kind: JobKind::Rollback,
            command: format!("waport rollback {}", job.id),
            input_path: None,
            input_fingerprint: None,
            platform: "wazzup".into(),
            account_fp: "acct".into(),
            entity: "contacts".into(),
            mode: JobMode::Delete,
            parent: Some(job.id),
        })
        .unwrap();
    assert_eq!(rb.parent, Some(job.id));
    let rb_intents: Vec<_> = created
        .iter()
        .map(|c| RowIntent {
            row: c.row,
            dedupe_key: c.dedupe_key.clone(),
            content_hash: String::new(),
        })
        .collect();
    j.mark_pending(rb.id, &rb_intents).unwrap();
    j.mark_sent(rb.id, &[1]).unwrap();
    j.record_outcomes(
        rb.id,
        &[RowOutcome::of_sent(
            1,
            RowRecord::Confirmed {
                outcome: Outcome::Deleted,
                remote_id: "r1".into(),
            },
        )],
    )
    .unwrap();
    let after = j.created_by(job.id).unwrap();
    assert!(after[0].rolled_back);
    assert!(!after[1].rolled_back);
    let m = j.last_sent_hashes("wazzup", "acct", "contacts").unwrap();
    assert!(
        !m.contains_key("+5215500000001"),
        "deleted contact left remote_state"
    );
    assert!(m.contains_key("+5215500000003"));

    j.record_outcomes(
        rb.id,
        &[RowOutcome::of_sent(
            3,
            RowRecord::Confirmed {
                outcome: Outcome::Gone,
                remote_id: "r3".into(),
            },
        )],
    )
    .unwrap();
    j.end_job(rb.id, JobState::Finished).unwrap();
    assert!(j.created_by(job.id).unwrap().iter().all(|c| c.rolled_back));
    let m = j.last_sent_hashes("wazzup", "acct", "contacts").unwrap();
    assert_eq!(m.len(), 2, "updated and exists rows stay: {m:?}");
    let c = j.counts(rb.id).unwrap();
    assert_eq!((c.deleted, c.gone), (1, 1));
    // Rollback jobs are never offered for resume as imports.
    assert_eq!(j.get_job(rb.id).unwrap().kind, JobKind::Rollback);
}

#[test]
fn deleting_a_recreated_contact_by_an_old_id_keeps_the_new_one() {
    let (_d, mut j) = open();
    let a = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    j.record_outcomes(
        a.id,
        &[RowOutcome::new(
            1,
            "k",
            "h",
            RowRecord::Confirmed {
                outcome: Outcome::Created,
                remote_id: "old".into(),
            },
        )],
    )
    .unwrap();
    let b = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    j.record_outcomes(
        b.id,
        &[RowOutcome::new(
            1,
            "k",
            "h",
            RowRecord::Confirmed {
                outcome: Outcome::Created,
                remote_id: "new".into(),
            },
        )],
    )
    .unwrap();
    let rb = j
        .start_job(&NewJob {
            kind: JobKind::Rollback,
            mode: JobMode::Delete,
            parent: Some(a.id),
            ..spec("acct", JobMode::Delete)
        })
        .unwrap();
    j.record_outcomes(
        rb.id,
        &[RowOutcome::new(
            1,
            "k",
            "",
            RowRecord::Confirmed {
                outcome: Outcome::Gone,
                remote_id: "old".into(),
            },
        )],
    )
    .unwrap();
    assert_eq!(
        j.remote_entry("wazzup", "acct", "contacts", "k").unwrap(),
        Some(("h".to_string(), "new".to_string()))
    );
}

#[test]
fn reconciled_exists_does_not_hide_a_creation_from_rollback() {
    let (_d, mut j) = open();
    let job = j.start_job(&spec("acct", JobMode::Create)).unwrap();
    j.mark_pending(job.id, &[intent(1)]).unwrap();
    j.mark_sent(job.id, &[1]).unwrap();
    j.record_outcomes(job.id, &[confirmed(1, Outcome::Created)])
        .unwrap();
    // A later pass of the same job sees the same contact as existing.
    j.record_outcomes(job.id, &[confirmed(1, Outcome::Exists)])
        .unwrap();
    assert_eq!(j.created_by(job.id).unwrap().len(), 1);
}
