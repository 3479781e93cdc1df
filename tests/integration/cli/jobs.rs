//! `waport jobs`, `resume` and `rollback` against the emulator.

use crate::cli::workdir::{Emulator, Workdir, code, stderr, stdout};
use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    let text = stdout(out);
    serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {text} {}", stderr(out)))
}

#[test]
fn rollback_deletes_what_the_job_created_and_not_what_it_updated() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write(
        "first.csv",
        "name,phone\nAna,+525512345678\nBob,+34612345678\n",
    );
    let out = wd.run_against(&emu, &["import", "first.csv", "--to", "whaapy", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let first_job = json_of(&out)["job"].as_str().unwrap().to_string();
    // The second job updates Ana and creates two new contacts.
    wd.write(
        "second.csv",
        "name,phone\nAna María,+525512345678\nEve,+79123456789\nLuis,+5491123456789\n",
    );
    let out = wd.run_against(&emu, &["import", "second.csv", "--to", "whaapy", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["created"], 2, "{j}");
    assert_eq!(j["updated"], 1, "{j}");
    let job = j["job"].as_str().unwrap().to_string();
    assert_eq!(emu.contacts("whaapy").len(), 4);

    let out = wd.run_against(&emu, &["rollback", &job, "--dry-run", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["would_delete"], 2);
    assert_eq!(emu.contacts("whaapy").len(), 4, "a dry run deletes nothing");

    let out = wd.run_against(&emu, &["rollback", &job, "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_of(&out)["deleted"], 2);
    let left: Vec<String> = emu
        .contacts("whaapy")
        .iter()
        .map(|c| c["phone_number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left.len(), 2);
    assert!(
        left.contains(&"+525512345678".to_string()),
        "the updated contact stays"
    );
    assert!(
        left.contains(&"+34612345678".to_string()),
        "the first job's contact stays"
    );
    let (head, rows) = wd.read_csv(&format!("rollback-{job}.report.csv"));
    assert_eq!(head, ["row", "status", "reason", "remote_id", "dedupe_key"]);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[1] == "deleted"));

    // A second rollback finds nothing left to delete.
    let out = wd.run_against(&emu, &["rollback", &job, "--json"]);
    assert_eq!(json_of(&out)["contacts"], 0);

    // `jobs` lists the import jobs and the rollback, newest first.
    let out = wd.run(&["jobs"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.contains(&first_job) && text.contains(&job), "{text}");
    assert!(text.contains("rollback"), "{text}");
    let out = wd.run(&["jobs", "--json"]);
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["job"]["kind"], "rollback");
}

#[test]
fn rollback_refuses_other_credentials() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    wd.write("a.csv", "name,phone\nAna,+525512345678\n");
    let out = wd.run_against(&emu, &["import", "a.csv", "--to", "whaapy", "--json"]);
    let job = json_of(&out)["job"].as_str().unwrap().to_string();
    let mut cmd = wd.command(&["rollback", &job]);
    emu.env(&mut cmd);
    cmd.env("WHAAPY_API_KEY", "wha_another_account");
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("another account"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("wha_another_account"));
    assert_eq!(emu.contacts("whaapy").len(), 1);
}

#[test]
fn resume_continues_an_interrupted_job_by_id() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    let mut file = String::from("name,phone\n");
    for i in 0..400 {
        file.push_str(&format!("C{i},+52 55 7000 {i:04}\n"));
    }
    wd.write("big.csv", file);
    let mut cmd = wd.command(&[
        "import", "big.csv", "--to", "whaapy", "--quiet", "--rate", "100",
    ]);
    emu.env(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = emu.contacts("whaapy").len();
    assert!(partial > 0 && partial < 400, "killed half-way: {partial}");
    let out = wd.run(&["jobs", "--json"]);
    let jobs: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        jobs[0]["job"]["state"], "interrupted",
        "a dead run reads as interrupted"
    );
    let id = format!("j-{}", jobs[0]["job"]["id"]);
    let out = wd.run_against(&emu, &["resume", &id, "--json", "--rate", "400"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["rows"], 400);
    assert_eq!(j["job"], id.as_str());
    assert_eq!(
        emu.contacts("whaapy").len(),
        400,
        "nothing missing, nothing doubled"
    );
    let out = wd.run(&["resume", &id]);
    assert_eq!(code(&out), 1, "a finished job cannot be resumed");
    assert!(stderr(&out).contains("already finished"));
}

// Ctrl-C is sent as SIGINT with `kill`; Windows has no way to send a
// console's Ctrl-C to one child from here.
#[cfg(unix)]
#[test]
fn ctrl_c_writes_the_whole_report_exits_130_and_the_job_resumes() {
    let wd = Workdir::new();
    let emu = Emulator::start(&[]);
    let mut file = String::from("name,phone\n");
    for i in 0..300 {
        file.push_str(&format!("C{i},+52 55 7100 {i:04}\n"));
    }
    wd.write("c.csv", file);
    let mut cmd = wd.command(&[
        "import", "c.csv", "--to", "whaapy", "--rate", "50", "--json",
    ]);
    emu.env(&mut cmd);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", stderr(&out));
    let j = json_of(&out);
    assert_eq!(j["rows"], 300, "every row is in the report: {j}");
    let created = j["created"].as_u64().unwrap();
    assert!(created > 0 && created < 300, "{j}");
    assert_eq!(j["skipped"].as_u64().unwrap() + created, 300, "{j}");
    let (_, rows) = wd.read_csv("c.report.csv");
    assert_eq!(rows.len(), 300);
    assert!(
        rows.iter()
            .filter(|r| r[1] == "skipped")
            .all(|r| r[2] == "interrupted")
    );
    assert_eq!(
        emu.contacts("whaapy").len() as u64,
        created,
        "requests in flight finished"
    );
    // Running it again continues the job and sends only what was skipped.
    let out = wd.run_against(
        &emu,
        &[
            "import", "c.csv", "--to", "whaapy", "--json", "--rate", "400",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let j2 = json_of(&out);
    assert_eq!(j2["job"], j["job"], "the interrupted job is continued");
    // Each Mexican mobile costs two requests: the look-up of its `+521`
    // form (a twin Whaapy may hold) and the create.
    assert_eq!(
        j2["requests"].as_u64().unwrap(),
        2 * (300 - created),
        "{j2}"
    );
    assert_eq!(emu.contacts("whaapy").len(), 300);
}
