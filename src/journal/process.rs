//! Is the process that wrote a lock or a running job still alive?
//!
//! A lock or a `running` job left behind by a process that was killed with
//! `kill -9` must not block the next run forever, and a pid reused by an
//! unrelated process must not keep it alive either.

use std::path::Path;

/// Seconds after which a holder whose liveness cannot be checked directly
/// (another host, or no `/proc`) is considered gone if it has not written a
/// heartbeat.
pub(crate) const STALE_AFTER_SECS: i64 = 600;

/// Who this process is, as stored next to a lock or a running job.
#[derive(Debug, Clone)]
pub(crate) struct ProcessId {
    pub pid: u32,
    /// Start time in clock ticks since boot (`/proc/PID/stat` field 22):
    /// tells a reused pid apart from the original process.
    pub start: Option<i64>,
    pub host: String,
}

/// What can be said about a recorded process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    Alive,
    Dead,
    /// Not checkable from here: fall back to the heartbeat age.
    Unknown,
}

impl ProcessId {
    /// The current process.
    pub fn current() -> Self {
        let pid = std::process::id();
        ProcessId {
            pid,
            start: proc_stat(pid).and_then(|s| s.start),
            host: hostname(),
        }
    }

    /// Liveness of the process `pid` (started at `start`) on `host`, seen from
    /// this process.
    pub fn check(&self, pid: i64, start: Option<i64>, host: &str) -> Liveness {
        // `/proc/PID/stat` is Linux's: elsewhere (macOS, Windows) the
        // holder's heartbeat decides.
        if host != self.host || !cfg!(target_os = "linux") || !Path::new("/proc/self/stat").exists()
        {
            return Liveness::Unknown;
        }
        let Ok(pid) = u32::try_from(pid) else {
            return Liveness::Dead;
        };
        if pid == self.pid {
            return Liveness::Alive;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Liveness::Dead,
            Err(_) => Liveness::Unknown,
            Ok(text) => match parse_stat(&text) {
                None => Liveness::Unknown,
                // A zombie is a process that already died and only waits to be
                // reaped by its parent: it can hold nothing.
                Some(s) if s.state == 'Z' || s.state == 'X' => Liveness::Dead,
                Some(s) => match (start, s.start) {
                    (Some(a), Some(b)) if a != b => Liveness::Dead,
                    _ => Liveness::Alive,
                },
            },
        }
    }

    /// Whether a holder should be treated as alive, given its last heartbeat.
    pub fn holder_alive(
        &self,
        pid: i64,
        start: Option<i64>,
        host: &str,
        heartbeat: i64,
        now: i64,
    ) -> bool {
        match self.check(pid, start, host) {
            Liveness::Alive => true,
            Liveness::Dead => false,
            Liveness::Unknown => now - heartbeat < STALE_AFTER_SECS,
        }
    }
}

struct Stat {
    state: char,
    start: Option<i64>,
}

fn proc_stat(pid: u32) -> Option<Stat> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses `/proc/PID/stat`. The command name (field 2) is in parentheses and
/// may itself contain spaces and parentheses, so fields are counted from the
/// last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // After the state (field 3), starttime is field 22: 18 more fields on.
    let start = fields.nth(18).and_then(|s| s.parse().ok());
    Some(Stat { state, start })
}

fn hostname() -> String {
    if cfg!(unix) {
        for f in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
            if let Ok(s) = std::fs::read_to_string(f) {
                let s = s.trim();
                if !s.is_empty() {
                    return s.to_string();
                }
            }
        }
    }
    // Windows names the machine in COMPUTERNAME; HOSTNAME is a shell's.
    ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_name() {
        let line =
            "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.state, 'S');
        assert_eq!(s.start, Some(987654));
    }

    #[test]
    fn self_is_alive_and_has_a_start_time() {
        let me = ProcessId::current();
        #[cfg(target_os = "linux")]
        if Path::new("/proc/self/stat").exists() {
            assert!(me.start.is_some());
            assert_eq!(me.check(me.pid as i64, me.start, &me.host), Liveness::Alive);
            // Same pid, another start time: a reused pid.
            let parent = std::os::unix::process::parent_id();
            let ps = proc_stat(parent).and_then(|s| s.start);
            assert_eq!(
                me.check(parent as i64, ps.map(|s| s + 1), &me.host),
                Liveness::Dead
            );
        }
        assert_eq!(me.check(1, None, "another-host"), Liveness::Unknown);
    }
}
