//! Where the bytes go: a hidden temporary file renamed into place on
//! success, or standard output.

use super::{ExportError, is_stdout, shown};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary names within one process; the pid separates
/// processes.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file beside the destination, removed on drop unless
/// committed.
///
/// It lives in the destination's directory so the final rename stays on one
/// file system (and is therefore atomic), and its name starts with `.` and
/// says `partial` so one left behind by a killed process is not mistaken for
/// an export.
#[derive(Debug)]
pub(crate) struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file (never overwriting anything).
    pub(crate) fn create(dest: &Path) -> Result<(Self, File), ExportError> {
        let dir = parent_dir(dest);
        let base = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".to_string());
        let mut attempt = 0;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!(".{base}.{}-{n}.partial", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(file) => {
                    return Ok((
                        Self {
                            tmp,
                            dest: dest.to_path_buf(),
                            committed: false,
                        },
                        file,
                    ));
                }
                // A stale file of a dead process with the same pid: try the
                // next number rather than clobber it.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(source) => {
                    return Err(ExportError::Create {
                        path: shown(dest),
                        source,
                    });
                }
            }
        }
    }

    /// The temporary path (for writers that reopen it).
    pub(crate) fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Flushes `file` to disk and renames the temporary file over the
    /// destination.
    pub(crate) fn commit(mut self, file: File) -> Result<(), ExportError> {
        // Without the sync a crash shortly after the rename could leave a
        // complete-looking name over incomplete data.
        file.sync_all().map_err(|source| ExportError::Write {
            path: shown(&self.dest),
            source,
        })?;
        drop(file);
        std::fs::rename(&self.tmp, &self.dest).map_err(|source| ExportError::Commit {
            path: shown(&self.dest),
            source,
        })?;
        self.committed = true;
        // Make the rename itself durable; a failure here changes nothing the
        // user can act on, so it is not reported.
        if let Ok(d) = File::open(parent_dir(&self.dest)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            // Nothing more can be done about a failure while unwinding or
            // abandoning an export.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The raw byte destination under a [`Sink`]'s buffer.
#[derive(Debug)]
enum Out {
    File(File),
    Stdout(io::Stdout),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::File(f) => f.write(buf),
            Out::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::File(f) => f.flush(),
            Out::Stdout(s) => s.flush(),
        }
    }
}

/// A buffered text destination: an [`AtomicFile`] or standard output.
#[derive(Debug)]
pub(crate) struct Sink {
    out: BufWriter<Out>,
    atomic: Option<AtomicFile>,
    shown: String,
}

impl Sink {
    /// Opens `path`, or standard output for `-`.
    pub(crate) fn open(path: &Path) -> Result<Self, ExportError> {
        let shown = shown(path);
        if is_stdout(path) {
            return Ok(Self {
                out: BufWriter::with_capacity(1 << 16, Out::Stdout(io::stdout())),
                atomic: None,
                shown,
            });
        }
        let (atomic, file) = AtomicFile::create(path)?;
        Ok(Self {
            out: BufWriter::with_capacity(1 << 16, Out::File(file)),
            atomic: Some(atomic),
            shown,
        })
    }

    /// The destination as messages show it.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// Flushes everything and, for a file, moves it into place.
    pub(crate) fn commit(self) -> Result<(), ExportError> {
        let shown = self.shown;
        let out = self.out.into_inner().map_err(|e| ExportError::Write {
            path: shown.clone(),
            source: e.into_error(),
        })?;
        match (out, self.atomic) {
            (Out::File(file), Some(atomic)) => atomic.commit(file),
            (mut out, _) => out.flush().map_err(|source| ExportError::Write {
                path: shown,
                source,
            }),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
