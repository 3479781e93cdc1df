//! Crash safety: kill -9 the importer at random points, re-run, and the
//! platform holds every valid contact exactly once while the final report
//! has every row exactly once.

use crate::cli::workdir::{Emulator, Workdir, code, stderr};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn file(n: usize) -> String {
    let mut s = String::from("name,phone\n");
    for i in 0..n {
        s.push_str(&format!(
            "Cliente {i},+52 55 {:04} {:04}\n",
            3000 + i / 10_000,
            i % 10_000
        ));
    }
    s.push_str("Malo,55-12\n");
    s
}

fn kill_and_resume(platform: &str, pointer: &str, n: usize, rate: &str) {
    let wd = Workdir::new();
    wd.write("k.csv", file(n));
    let emu = Emulator::start(&[
        "--fault-rate",
        "0.05",
        "--seed",
        "11",
        "--fault-delay-ms",
        "1500",
    ]);
    let mut rng = fastrand::Rng::with_seed(42);
    for _ in 0..20 {
        let mut cmd = wd.command(&[
            "import",
            "k.csv",
            "--to",
            platform,
            "--quiet",
            "--rate",
            rate,
            "--timeout",
            "1",
        ]);
        emu.env(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(20..400)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    let out = wd.run_against(
        &emu,
        &[
            "import",
            "k.csv",
            "--to",
            platform,
            "--rate",
            rate,
            "--timeout",
            "1",
            "--max-attempts",
            "10",
        ],
    );
    assert_eq!(
        code(&out),
        3,
        "only the bad row is rejected: {}",
        stderr(&out)
    );
    let held = emu.contacts(platform);
    let mut per_phone: BTreeMap<String, usize> = BTreeMap::new();
    for c in &held {
        let p = c
            .pointer(pointer)
            .map(|v| v.to_string())
            .unwrap_or_default();
        *per_phone.entry(p).or_default() += 1;
    }
    let doubles: Vec<_> = per_phone.iter().filter(|(_, k)| **k > 1).collect();
    assert!(
        doubles.is_empty(),
        "{platform}: contacts created twice: {doubles:?}"
    );
    let (_, rows) = wd.read_csv("k.report.csv");
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        *statuses
            .entry(format!("{} {}", r[1], r[2].split(':').next().unwrap_or("")))
            .or_default() += 1;
    }
    assert_eq!(
        held.len(),
        n,
        "{platform}: every valid contact is there; report: {statuses:?}"
    );
    let numbers: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let unique: BTreeSet<u64> = numbers.iter().copied().collect();
    assert_eq!(numbers.len(), n + 1, "{platform}: one report line per row");
    assert_eq!(unique.len(), n + 1);
    assert!(
        rows.iter()
            .filter(|r| r[0] != (n as u64 + 2).to_string())
            .all(|r| matches!(
                r[1].as_str(),
                "created" | "updated" | "exists" | "unchanged"
            )),
        "{platform}: {rows:?}"
    );
}

#[test]
fn kill_9_twenty_times_then_resume_whaapy() {
    kill_and_resume("whaapy", "/phone_number", 120, "150");
}

#[test]
fn kill_9_twenty_times_then_resume_wazzup() {
    kill_and_resume("wazzup", "/contactData/0/chatId", 600, "20");
}

#[test]
fn kill_9_twenty_times_then_resume_wipsy() {
    kill_and_resume("wipsy", "/phone", 100, "150");
}
