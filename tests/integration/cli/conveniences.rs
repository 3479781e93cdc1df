//! What a CLI is expected to have: completions, man pages, a sample file
//! that works after install, verbosity, and a tolerance for scheduled runs.

use crate::cli::workdir::{Workdir, code, stderr, stdout};

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    let wd = Workdir::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = wd.run(&["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}: {}", stderr(&out));
        let text = stdout(&out);
        for sub in ["import", "validate", "export", "rollback"] {
            assert!(text.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let out = wd.run(&["completions", "tcsh"]);
    assert_eq!(code(&out), 2, "an unknown shell is a usage error");
}

#[test]
fn man_pages_for_the_tool_and_each_command() {
    let wd = Workdir::new();
    let out = wd.run(&["man"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH"),
        "roff: {page:.200}"
    );
    assert!(page.contains("waport"));
    let out = wd.run(&["man", "--dir", "man"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let import = wd.read("man/waport-import.1");
    assert!(import.contains(".TH"), "{import:.200}");
    assert!(import.contains("max\\-invalid") || import.contains("max-invalid"));
    assert!(
        !wd.path("man/waport-generate.1").exists(),
        "hidden commands get no page"
    );
}

#[test]
fn the_sample_imports_into_the_sandbox() {
    let wd = Workdir::new();
    let out = wd.run(&["sample"]);
    assert_eq!(code(&out), 0);
    wd.write("contactos.csv", out.stdout);
    let out = wd.run(&[
        "import",
        "contactos.csv",
        "--to",
        "wazzup",
        "--sandbox",
        "--json",
    ]);
    // Two rows of the sample are rejected on purpose (README).
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["created"], 11, "{v}");
    assert_eq!(v["invalid"], 2, "{v}");
}

#[test]
fn max_invalid_tolerates_known_bad_rows_only() {
    let wd = Workdir::new();
    let run =
        |max: &str| code(&wd.run(&["validate", "contactos.csv", "--quiet", "--max-invalid", max]));
    wd.write("contactos.csv", wd.run(&["sample"]).stdout);
    // 14 rows, 2 invalid.
    assert_eq!(run("2"), 0);
    assert_eq!(run("1"), 3);
    assert_eq!(run("15%"), 0, "15% of 14 rows is 2");
    assert_eq!(run("10%"), 3, "10% of 14 rows is 1");
    assert_eq!(run("lots"), 2, "not a count or a percentage");
    assert_eq!(run("150%"), 2);
}

#[test]
fn verbose_shows_more_and_never_a_key() {
    let wd = Workdir::new();
    wd.write("contactos.csv", wd.run(&["sample"]).stdout);
    let quiet = wd.run(&["import", "contactos.csv", "--to", "wazzup", "--sandbox"]);
    let loud = wd.run(&[
        "-vv",
        "import",
        "contactos.csv",
        "--to",
        "wazzup",
        "--sandbox",
    ]);
    assert_eq!(code(&loud), 3, "{}", stderr(&loud));
    assert!(
        stderr(&loud).len() > stderr(&quiet).len(),
        "-vv adds log lines:\n{}",
        stderr(&loud)
    );
    for key in [
        waport::emulator::DEFAULT_WAZZUP_KEY,
        waport::emulator::DEFAULT_WHAAPY_KEY,
    ] {
        assert!(!stderr(&loud).contains(key), "a key in the log");
    }
}
