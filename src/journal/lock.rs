//! One job per target account at a time, whichever journal each run uses.
//!
//! The lock itself is an OS file lock (`File::try_lock`, released by the OS
//! when the process ends, `kill -9` included) on a file per (platform,
//! account) in [`crate::dirs::lock_dir`], shared by every journal on the
//! machine: two imports into one account with two journals would otherwise
//! both send, and double contacts. A row in the journal's `locks` table
//! names the holder (pid, job) for the message a second run gets; once the
//! file lock is ours, any row left there is stale and is taken over.

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
    /// The OS lock; dropping the file releases it.
    file: std::fs::File,
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
        let (file, lock_path) = match lock_file(platform, account_fp)? {
            Ok(held) => held,
            Err(other) => {
                // Busy: name the holder from this journal's row if it has
                // one, else from what the holder wrote into the lock file.
                let row = conn
                    .query_row(
                        "SELECT pid, host, job_id, acquired_at FROM locks \
                         WHERE platform = ?1 AND account_fp = ?2",
                        params![platform, account_fp],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, Option<i64>>(2)?,
                                r.get::<_, i64>(3)?,
                            ))
                        },
                    )
                    .optional()
                    .map_err(&e)?;
                let holder = match row {
                    Some((pid, host, job, acquired)) => {
                        let who = match job {
                            Some(j) => format!("job {}", JobId(j)),
                            None => "another waport run".to_string(),
                        };
                        format!("{who} (pid {pid} on {host}, since {})", rfc3339(acquired))
                    }
                    None => format!("another waport run ({other})"),
                };
                return Err(JournalError::Locked {
                    path: path.to_path_buf(),
                    platform: platform.to_string(),
                    account_fp: account_fp.to_string(),
                    holder,
                });
            }
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        // The file lock rules this machine; a holder on another host sharing
        // the journal (a network folder) is respected while its heartbeat
        // is fresh, since no lock of ours can see it.
        let remote: Option<(i64, String, Option<i64>, i64, i64)> = tx
            .query_row(
                "SELECT pid, host, job_id, acquired_at, heartbeat_at FROM locks \
                 WHERE platform = ?1 AND account_fp = ?2",
                params![platform, account_fp],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(&e)?;
        if let Some((pid, host, job, acquired, heartbeat)) = remote
            && host != me.host
            && me.holder_alive(pid, None, &host, heartbeat, t)
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
        describe(
            &file,
            &lock_path,
            &format!("pid {}, journal {}", me.pid, path.display()),
        );
        Ok(TargetLock {
            file,
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
        describe(
            &self.file,
            &self.path,
            &format!(
                "job {job}, pid {}, journal {}",
                std::process::id(),
                self.path.display()
            ),
        );
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

/// Takes the OS lock of (platform, account): `Ok(Ok(file))` when held,
/// `Ok(Err(holder))` when another process holds it (with what it wrote).
fn lock_file(
    platform: &str,
    account_fp: &str,
) -> Result<std::result::Result<(std::fs::File, PathBuf), String>> {
    let dir = crate::dirs::lock_dir();
    let path = dir.join(format!("{platform}-{account_fp}.lock"));
    let err = |source| JournalError::LockFile {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(err)?;
    match file.try_lock() {
        Ok(()) => Ok(Ok((file, path))),
        Err(std::fs::TryLockError::WouldBlock) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let text = text.trim();
            Ok(Err(if text.is_empty() {
                format!("lock file {}", path.display())
            } else {
                text.to_string()
            }))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(err(e)),
    }
}

/// Writes who holds the lock into the lock file, for a second run's
/// message. Best effort: the lock holds whether or not this is written.
fn describe(file: &std::fs::File, path: &Path, text: &str) {
    use std::io::{Seek, Write};
    let mut f = file;
    let r = f
        .set_len(0)
        .and_then(|()| f.rewind())
        .and_then(|()| f.write_all(text.as_bytes()));
    if let Err(e) = r {
        tracing::debug!("cannot describe the lock in {}: {e}", path.display());
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
