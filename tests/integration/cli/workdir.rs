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

    /// Reads a CSV written by waport (UTF-8, a BOM allowed) into header +
    /// rows. The delimiter is the one its header line uses most: a report
    /// follows its input's (`,` `;` tab `|`).
    pub fn read_csv(&self, name: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let bytes = std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"));
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let first = body.split(|b| *b == b'\n').next().unwrap_or_default();
        let delimiter = [b',', b';', b'\t', b'|']
            .into_iter()
            .max_by_key(|d| first.iter().filter(|b| *b == d).count())
            .unwrap_or(b',');
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(std::io::Cursor::new(body.to_vec()));
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
        for var in CREDENTIALS.iter().chain(&["WAPORT_JOURNAL", "NO_COLOR"]) {
            cmd.env_remove(var);
        }
        cmd.env("WAPORT_JOURNAL", self.path("journal.sqlite"));
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run waport")
    }
}

/// The variables credentials come from, cleared so the developer's own
/// environment never reaches a test.
const CREDENTIALS: [&str; 5] = [
    "WAZZUP_API_KEY",
    "WHAAPY_API_KEY",
    "WIPSY_API_KEY",
    "WAPIFLOW_CLIENT_ID",
    "WAPIFLOW_CLIENT_SECRET",
];

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

/// The `--json` summary: the last line on stdout.
pub fn json_of(o: &Output) -> serde_json::Value {
    let text = stdout(o);
    let line = text
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no JSON on stdout; stderr: {}", stderr(o)));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A `waport emulate` child process on a random loopback port, killed on drop.
pub struct Emulator {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

#[allow(dead_code)]
impl Emulator {
    /// Starts `waport emulate` with `extra` flags. Whaapy's published 100
    /// requests per minute is lifted unless the test sets a limit itself:
    /// at the tests' `--rate 300` it would make them wait out minutes.
    pub fn start(extra: &[&str]) -> Emulator {
        use std::io::BufRead;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_waport"));
        cmd.args(["emulate", "--listen", "127.0.0.1:0"]).args(extra);
        if !extra
            .iter()
            .any(|f| f.starts_with("--rate-limit") || *f == "--no-whaapy-limit")
        {
            cmd.arg("--no-whaapy-limit");
        }
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        for var in CREDENTIALS {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().expect("start emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read emulator banner");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
            .to_string();
        Emulator { child, base }
    }

    /// Environment pointing every platform at this emulator with its
    /// documented default keys.
    pub fn env(&self, cmd: &mut Command) {
        let b = &self.base;
        cmd.env("WAZZUP_BASE_URL", format!("{b}/wazzup/v3"))
            .env("WHAAPY_BASE_URL", format!("{b}/whaapy"))
            .env("WIPSY_BASE_URL", format!("{b}/wipsy/functions/v1"))
            .env("WAPIFLOW_BASE_URL", format!("{b}/wapiflow/external-api"))
            .env("WAZZUP_API_KEY", waport::emulator::DEFAULT_WAZZUP_KEY)
            .env("WHAAPY_API_KEY", waport::emulator::DEFAULT_WHAAPY_KEY)
            .env("WIPSY_API_KEY", waport::emulator::DEFAULT_WIPSY_KEY)
            .env(
                "WAPIFLOW_CLIENT_ID",
                waport::emulator::DEFAULT_WAPIFLOW_CLIENT_ID,
            )
            .env(
                "WAPIFLOW_CLIENT_SECRET",
                waport::emulator::DEFAULT_WAPIFLOW_CLIENT_SECRET,
            );
    }

    // SIGTERM through `kill`: Unix only (the emulator stops on Ctrl-C elsewhere).
    #[cfg(unix)]
    /// SIGTERM (an emulator with `--state` saves its state then), and
    /// waits for a clean exit.
    pub fn terminate(mut self) {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        let st = self.child.wait().expect("wait for emulator");
        assert!(st.success(), "emulator exit: {st:?}");
    }

    /// GET a path of the emulator and parse the JSON body.
    pub fn get(&self, path: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let hostport = self.base.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(hostport).expect("connect emulator");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf);
        let (head, body) = text.split_once("\r\n\r\n").expect("http response");
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    /// Everything the emulator stores for `platform`.
    pub fn contacts(&self, platform: &str) -> Vec<serde_json::Value> {
        match self.get(&format!("/_emulator/{platform}/contacts")) {
            serde_json::Value::Array(a) => a,
            other => panic!("contacts of {platform}: {other}"),
        }
    }

    pub fn stats(&self) -> serde_json::Value {
        self.get("/_emulator/stats")
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(dead_code)]
impl Workdir {
    /// Runs waport against `emu`.
    /// Runs a command against `emu`. A command that talks to a platform
    /// gets `--rate 300` unless the test gives its own `--rate`: the
    /// platforms' real paces (Whaapy's 100 per minute, the 1/s start of
    /// platforms that publish none) would make the suite take minutes, and
    /// pacing has its own tests (`net::pace`, `benches/upload.sh`).
    pub fn run_against(&self, emu: &Emulator, args: &[&str]) -> Output {
        let talks = matches!(
            args.first().copied(),
            Some("import" | "export" | "migrate" | "resume" | "rollback")
        );
        let mut args = args.to_vec();
        if talks && !args.contains(&"--rate") {
            args.extend(["--rate", "300"]);
        }
        let mut cmd = self.command(&args);
        emu.env(&mut cmd);
        cmd.output().expect("run waport")
    }
}
