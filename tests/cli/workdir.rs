//! A temporary directory to run the `waport` binary in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh temporary directory; files are written into it and the binary
/// runs with it as the current directory.
pub struct Workdir {
    dir: tempfile::TempDir,
}

#[allow(dead_code)]
impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write file");
        p
    }

    /// Copies a committed fixture into the work dir.
    pub fn fixture(&self, name: &str) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        let dst = self.path(name);
        std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
        dst
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// Reads a CSV written by waport into header + rows.
    pub fn read_csv(&self, name: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(self.path(name))
            .unwrap_or_else(|e| panic!("open {name}: {e}"));
        let head = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
            .collect();
        (head, rows)
    }

    /// The `waport` command, running in this directory with a clean
    /// environment for credentials.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_waport"));
        cmd.current_dir(self.dir.path()).args(args);
        for var in [
            "WAZZUP_API_KEY",
            "WHAAPY_API_KEY",
            "WIPSY_API_KEY",
            "WAPIFLOW_CLIENT_ID",
            "WAPIFLOW_CLIENT_SECRET",
            "WAPORT_JOURNAL",
            "NO_COLOR",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("WAPORT_JOURNAL", self.path("journal.sqlite"));
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run waport")
    }
}

/// Exit code of a finished process.
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
