//! One job per target at a time.
//!
//! A row in `locks` per (platform, account) names the process holding it.
//! A holder is alive if its pid still runs with the same start time (Linux,
//! same host); otherwise, when that cannot be checked, if it wrote a
//! heartbeat in the last ten minutes. A lock left by a process killed with
//! `kill -9` is therefore taken over by the next run instead of blocking it.

use super::process::ProcessId;
use super::{JobId, JournalError, Result, connect, now, sql_err};
use crate::time::rfc3339;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};

/// The lock on a target, released when dropped.
///
/// Holds its own connection to the journal so it can be kept alongside a
/// [`super::Journal`] borrowed mutably, and released from `Drop`.
pub struct TargetLock {
    conn: Connection,
    path: PathBuf,
    platform: String,
    account_fp: String,
    token: String,
}

impl std::fmt::Debug for TargetLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetLock")
            .field("platform", &self.platform)
            .field("account_fp", &self.account_fp)
            .finish()
    }
}

impl TargetLock {
    pub(crate) fn acquire(
        path: &Path,
        me: &ProcessId,
        platform: &str,
        account_fp: &str,
    ) -> Result<Self> {
        let mut conn = connect(path)?;
        let e = sql_err(path);
        let t = now();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        let held = tx
            .query_row(
                "SELECT pid, pid_start, host, job_id, acquired_at, heartbeat_at FROM locks \
                 WHERE platform = ?1 AND account_fp = ?2",
                params![platform, account_fp],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(&e)?;
        if let Some((pid, start, host, job, acquired, heartbeat)) = held
            && me.holder_alive(pid, start, &host, heartbeat, t)
        {
            let who = match job {
                Some(j) => format!("job {}", JobId(j)),
                None => "another waport run".to_string(),
            };
            return Err(JournalError::Locked {
                path: path.to_path_buf(),
                platform: platform.to_string(),
                account_fp: account_fp.to_string(),
                holder: format!("{who} (pid {pid} on {host}, since {})", rfc3339(acquired)),
            });
        }
        let token = format!(
            "{}-{:016x}{:016x}",
            me.pid,
            fastrand::u64(..),
            fastrand::u64(..)
        );
        tx.execute(
            "INSERT OR REPLACE INTO locks (platform, account_fp, token, pid, pid_start, host, \
             job_id, acquired_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?7)",
            params![platform, account_fp, token, me.pid, me.start, me.host, t],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        Ok(TargetLock {
            conn,
            path: path.to_path_buf(),
            platform: platform.to_string(),
            account_fp: account_fp.to_string(),
            token,
        })
    }

    /// Names the job working under this lock, so a second run is told which
    /// job is in the way.
    pub fn attach_job(&self, job: JobId) -> Result<()> {
        self.update(
            "UPDATE locks SET job_id = ?2, heartbeat_at = ?3 WHERE token = ?1",
            Some(job),
        )
    }

    /// Proves the holder is alive where its pid cannot be checked (another
    /// host sharing the journal, no `/proc`). Call it every minute or so.
    pub fn heartbeat(&self) -> Result<()> {
        self.update(
            "UPDATE locks SET heartbeat_at = ?3 WHERE token = ?1 AND ?2 IS NULL",
            None,
        )
    }

    fn update(&self, sql: &str, job: Option<JobId>) -> Result<()> {
        let n = self
            .conn
            .execute(sql, params![self.token, job.map(|j| j.0), now()])
            .map_err(sql_err(&self.path))?;
        if n == 0 {
            // Someone judged this holder dead and took the lock.
            return Err(JournalError::Locked {
                path: self.path.clone(),
                platform: self.platform.clone(),
                account_fp: self.account_fp.clone(),
                holder: "another run that took over this run's lock".to_string(),
            });
        }
        Ok(())
    }

    /// Releases the lock now, reporting any failure (dropping releases too,
    /// but can only log one).
    pub fn release(mut self) -> Result<()> {
        let r = self.delete();
        self.token.clear();
        r
    }

    fn delete(&self) -> Result<()> {
        self.conn
            .execute("DELETE FROM locks WHERE token = ?1", [&self.token])
            .map(|_| ())
            .map_err(sql_err(&self.path))
    }
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        if self.token.is_empty() {
            return;
        }
        if let Err(e) = self.delete() {
            // Not fatal: the next run sees this process gone and takes over.
            tracing::warn!("could not release target lock: {e}");
        }
    }
}
