//! What waport refuses to do to a user's files, and how it writes reports so
//! that a crash never leaves one that looks complete (issue 17).

use crate::cli::workdir::{Emulator, Workdir, code, stderr};

/// A small valid input: 3 rows.
const INPUT: &str =
    "nombre,telefono\nAna,+5215512345678\nLuis,+5215512345679\nEva,+5215512345670\n";

/// Runs `args`, asserts exit 2 with `needle` in the message, and that
/// `in.csv` still holds exactly [`INPUT`].
fn refused(w: &Workdir, args: &[&str], needle: &str) {
    let o = w.run(args);
    assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    assert_eq!(w.read("in.csv"), INPUT, "{args:?} changed the input");
}

#[test]
fn a_report_or_rejects_path_naming_the_input_is_refused_in_every_spelling() {
    let w = Workdir::new();
    w.write("in.csv", INPUT);
    let abs = w.path("in.csv");
    let abs = abs.to_str().unwrap();
    refused(
        &w,
        &["validate", "in.csv", "--report", "in.csv"],
        "the input",
    );
    refused(
        &w,
        &["validate", "in.csv", "--report", "./in.csv"],
        "the input",
    );
    refused(&w, &["validate", "in.csv", "--report", abs], "the input");
    refused(
        &w,
        &["validate", "in.csv", "--rejects", "in.csv"],
        "the input",
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(w.path("in.csv"), w.path("link.csv")).unwrap();
        refused(
            &w,
            &["validate", "in.csv", "--report", "link.csv"],
            "the input",
        );
        // Reading through the link and writing to the file is the same clash.
        refused(
            &w,
            &["validate", "link.csv", "--report", "in.csv"],
            "the input",
        );
    }
    std::fs::hard_link(w.path("in.csv"), w.path("hard.csv")).unwrap();
    refused(
        &w,
        &["validate", "in.csv", "--report", "hard.csv"],
        "the input",
    );
    refused(
        &w,
        &[
            "import",
            "in.csv",
            "--to",
            "wapiflow",
            "--sandbox",
            "--report",
            "in.csv",
        ],
        "the input",
    );
    w.write("waport.toml", "# the user's profiles\n");
    refused(
        &w,
        &["validate", "in.csv", "--rejects", "waport.toml"],
        "config file",
    );
    assert_eq!(w.read("waport.toml"), "# the user's profiles\n");
    // The refusal came before reading: nothing else was written.
    assert!(!w.path("in.report.csv").exists());
}

#[test]
fn the_report_and_the_rejects_file_must_be_different_files() {
    let w = Workdir::new();
    w.write("in.csv", INPUT);
    refused(
        &w,
        &[
            "validate",
            "in.csv",
            "--report",
            "out.csv",
            "--rejects",
            "./out.csv",
        ],
        "--rejects",
    );
    assert!(!w.path("out.csv").exists());
    // The default report path counts too.
    refused(
        &w,
        &["validate", "in.csv", "--rejects", "in.report.csv"],
        "--report",
    );
}

#[test]
fn no_output_may_name_the_journal() {
    let w = Workdir::new();
    w.write("in.csv", INPUT);
    // The harness points WAPORT_JOURNAL at journal.sqlite.
    let journal = b"SQLite format 3\0 not really, but the user's".to_vec();
    w.write("journal.sqlite", &journal);
    refused(
        &w,
        &["validate", "in.csv", "--report", "journal.sqlite"],
        "journal",
    );
    refused(
        &w,
        &[
            "import",
            "in.csv",
            "--to",
            "wazzup",
            "--sandbox",
            "--rejects",
            "journal.sqlite",
        ],
        "journal",
    );
    refused(
        &w,
        &["validate", "in.csv", "--report", "journal.sqlite-wal"],
        "journal",
    );
    let o = w.run(&[
        "export",
        "--from",
        "wazzup",
        "--output",
        "journal.sqlite",
        "--format",
        "csv",
        "--force",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("journal"), "{}", stderr(&o));
    assert_eq!(std::fs::read(w.path("journal.sqlite")).unwrap(), journal);
}

#[test]
fn export_refuses_an_existing_file_unless_forced() {
    let w = Workdir::new();
    w.write("old.csv", "keep me\n");
    let o = w.run(&["export", "--from", "wazzup", "--output", "old.csv"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(w.read("old.csv"), "keep me\n");

    let emu = Emulator::start(&[]);
    let o = w.run_against(
        &emu,
        &[
            "export", "--from", "wazzup", "--output", "old.csv", "--force",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        w.read("old.csv").starts_with("id,"),
        "{}",
        w.read("old.csv")
    );
}

/// `rows` valid contacts: a report of well over 64 KiB.
fn many(rows: usize) -> String {
    let mut s = String::from("nombre,telefono\n");
    for i in 0..rows {
        s.push_str(&format!("Cliente número {i},+52155{:08}\n", i));
    }
    s
}

/// Runs `waport ARGS` in `w` under `sh` with a file-size limit of 64
/// blocks (32 or 64 KiB), `trap` first: `""` ignores SIGXFSZ (writes then
/// fail with EFBIG, as on a full disk), `-` keeps its default (the process
/// is killed mid-write, as by kill -9).
#[cfg(unix)]
fn run_limited(w: &Workdir, trap: &str, args: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '{trap}' XFSZ; ulimit -f 64; exec \"$0\" {args}"
        ))
        .arg(env!("CARGO_BIN_EXE_waport"))
        .current_dir(w.path("."))
        .env("WAPORT_JOURNAL", w.path("journal.sqlite"))
        .output()
        .expect("run sh")
}

#[cfg(unix)]
#[test]
fn a_report_killed_mid_write_leaves_the_previous_one_and_a_partial() {
    use std::os::unix::process::ExitStatusExt;
    let w = Workdir::new();
    w.write("in.csv", INPUT);
    w.write("big.csv", many(5000));
    let o = w.run(&["validate", "in.csv", "--report", "r.csv"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = w.read("r.csv");

    let o = run_limited(&w, "-", "validate big.csv --report r.csv");
    assert_eq!(o.status.signal(), Some(25), "not killed by SIGXFSZ: {o:?}");
    assert_eq!(w.read("r.csv"), before, "the previous report was touched");
    let partial = w.read("r.csv.partial");
    assert!(partial.starts_with("row,status"), "{partial:.80}");
    assert!(partial.lines().count() < 5001);

    // A complete run afterwards replaces both.
    let o = w.run(&["validate", "big.csv", "--report", "r.csv"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(w.read("r.csv").lines().count(), 5001);
    assert!(!w.path("r.csv.partial").exists());
}

#[cfg(unix)]
#[test]
fn a_write_error_says_where_the_partial_report_is() {
    let w = Workdir::new();
    w.write("in.csv", INPUT);
    w.write("big.csv", many(5000));
    let o = w.run(&[
        "validate",
        "in.csv",
        "--report",
        "r.csv",
        "--rejects",
        "x.csv",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = w.read("r.csv");
    let before_rejects = w.read("x.csv");

    let o = run_limited(&w, "", "validate big.csv --report r.csv --rejects x.csv");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("r.csv.partial"), "{}", stderr(&o));
    assert_eq!(w.read("r.csv"), before);
    assert_eq!(w.read("x.csv"), before_rejects);
    assert!(w.path("r.csv.partial").exists());
}

#[test]
fn report_and_rejects_cells_are_guarded_and_the_guard_is_removed_when_fed_back() {
    let w = Workdir::new();
    let cells = [
        "=HYPERLINK(\"http://evil.example\",\"clic\")",
        "＝1+1",
        "  =1+1",
        "\n=1+1",
        "＠SUM(A1)",
    ];
    let mut text = String::from("nombre,telefono\n");
    for c in &cells {
        text.push_str(&format!("\"{}\",55-12\n", c.replace('"', "\"\"")));
    }
    w.write("in.csv", &text);
    let o = w.run(&["validate", "in.csv", "--rejects", "fix.csv"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let (_, report) = w.read_csv("in.report.csv");
    let (_, rejects) = w.read_csv("fix.csv");
    for (i, c) in cells.iter().enumerate() {
        assert_eq!(report[i][7], format!("'{c}"), "report row {i}");
        assert_eq!(rejects[i][0], format!("'{c}"), "rejects row {i}");
    }

    // The user fixes the phones and feeds the rejects file back: the names
    // reach the platform as they were typed, without the guard.
    let fixed: String = w
        .read("fix.csv")
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{l}\n"),
            _ => format!("{l}\n").replace("55-12", &format!("+52155123456{i:02}")),
        })
        .collect();
    w.write("fixed.csv", fixed);
    let emu = Emulator::start(&[]);
    let o = w.run_against(&emu, &["import", "fixed.csv", "--to", "wazzup"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut names: Vec<String> = emu
        .contacts("wazzup")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    let mut want: Vec<String> = cells.iter().map(|c| c.trim().to_string()).collect();
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn profile_keys_are_type_checked_and_unknown_keys_are_errors() {
    let w = Workdir::new();
    let export = |w: &Workdir| {
        w.run(&[
            "export",
            "--from",
            "wazzup",
            "--profile",
            "p",
            "--output",
            "o.csv",
        ])
    };
    w.write(
        "waport.toml",
        "[profiles.p.wazzup]\napi_key = \"sk-live-4f9a\"\nbase_url = 7\n",
    );
    let o = export(&w);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("sk-live-4f9a"), "{}", stderr(&o));

    w.write(
        "waport.toml",
        "[profiles.p.wazzup]\napi_key = \"sk-live-4f9a\"\nbase_ur = \"http://127.0.0.1:9/wazzup/v3\"\n",
    );
    let o = export(&w);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("base_ur"), "{}", stderr(&o));

    // A key written where a table belongs is refused without echoing it.
    w.write("waport.toml", "[profiles.p]\nwazzup = \"sk-live-4f9a\"\n");
    let o = export(&w);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(!stderr(&o).contains("sk-live-4f9a"), "{}", stderr(&o));
}

#[test]
fn a_base_url_with_a_query_string_is_refused_without_echoing_it() {
    let w = Workdir::new();
    let mut cmd = w.command(&["export", "--from", "wazzup", "--output", "o.csv"]);
    cmd.env("WAZZUP_API_KEY", "k").env(
        "WAZZUP_BASE_URL",
        "http://127.0.0.1:9/wazzup/v3?token=s3cr3t-t0k3n",
    );
    let o = cmd.output().unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("query string"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("s3cr3t"), "{}", stderr(&o));

    w.write(
        "waport.toml",
        "[profiles.p.wazzup]\napi_key = \"k\"\nbase_url = \"https://api.wazzup24.com/v3?key=s3cr3t\"\n",
    );
    let o = w.run(&[
        "export",
        "--from",
        "wazzup",
        "--profile",
        "p",
        "--output",
        "o.csv",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("query string"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("s3cr3t"), "{}", stderr(&o));
}

/// A journal holding one finished import job, made through the binary.
fn journal_with_a_job(w: &Workdir) {
    let emu = Emulator::start(&[]);
    w.write("in.csv", INPUT);
    let o = w.run_against(&emu, &["import", "in.csv", "--to", "wazzup"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn a_journal_at_schema_version_0_gets_a_one_line_error() {
    let w = Workdir::new();
    journal_with_a_job(&w);
    let conn = rusqlite::Connection::open(w.path("journal.sqlite")).unwrap();
    conn.pragma_update(None, "user_version", 0).unwrap();
    drop(conn);
    let emu = Emulator::start(&[]);
    for args in [&["jobs"][..], &["import", "in.csv", "--to", "wazzup"]] {
        let o = w.run_against(&emu, args);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        // One error line (an import may print the platform's notes first).
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("waport:")).collect();
        assert_eq!(errors.len(), 1, "{args:?}: {err}");
        assert!(
            err.lines()
                .all(|l| l.starts_with("waport:") || l.starts_with("wazzup:")),
            "{args:?}: {err}"
        );
        let err = errors[0];
        assert!(err.contains("schema version 0"), "{args:?}: {err}");
        assert!(!err.contains("CREATE"), "{args:?}: {err}");
    }
}

#[test]
fn jobs_reads_a_journal_without_creating_or_writing_one() {
    let w = Workdir::new();
    let o = w.run(&["jobs"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!w.path("journal.sqlite").exists(), "jobs created a journal");
}

/// `waport jobs` on a journal in a folder remounted read-only, in a user
/// and mount namespace (`unshare -rm`); skipped where namespaces are not
/// allowed.
#[cfg(target_os = "linux")]
#[test]
fn jobs_lists_a_journal_on_a_read_only_file_system() {
    let w = Workdir::new();
    std::fs::create_dir(w.path("ro")).unwrap();
    let emu = Emulator::start(&[]);
    w.write("in.csv", INPUT);
    let journal = w.path("ro/journal.sqlite");
    let mut cmd = w.command(&["import", "in.csv", "--to", "wazzup"]);
    emu.env(&mut cmd);
    cmd.env("WAPORT_JOURNAL", &journal);
    let o = cmd.output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let probe = std::process::Command::new("unshare")
        .args(["-rm", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: unshare -rm is not allowed here");
        return;
    }
    let dir = w.path("ro");
    let o = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c"])
        .arg("mount --bind -o ro \"$1\" \"$1\" && touch \"$1/x\" 2>/dev/null && exit 9; exec \"$0\" jobs --journal \"$1/journal.sqlite\"")
        .arg(env!("CARGO_BIN_EXE_waport"))
        .arg(&dir)
        .output()
        .unwrap();
    assert_ne!(code(&o), 9, "the folder was not read-only");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("j-1"), "{out}");
}
