//! Refusals that keep a run from destroying the user's own files.
//!
//! An output path (`--report`, `--rejects`, `export --output`) that names a
//! file the same run reads (the input, the mapping file, the config file)
//! or the job journal would truncate it before, or while, it is read:
//! `waport import in.csv --report in.csv` once read 799 of 3,000 rows and
//! left `in.csv` holding the report. Comparing the strings is not enough
//! (`./in.csv`, a symlink or a hard link name the same file), so files are
//! compared by identity: device and inode on unix, the canonical path
//! elsewhere. A path that does not exist yet is compared by its canonical
//! folder plus its name, which is what catches `--report X --rejects X`.
//!
//! Every check runs before the input is opened, so a refused run has read
//! and written nothing.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// A path a run writes or reads, with the name a user knows it by.
#[derive(Debug, Clone)]
pub struct Named {
    /// How the user gave it: `--report`, `the input`, `the journal`, ...
    pub what: String,
    /// The path as given.
    pub path: PathBuf,
}

impl Named {
    /// A path called `what` in messages.
    pub fn new(what: impl Into<String>, path: impl Into<PathBuf>) -> Named {
        Named {
            what: what.into(),
            path: path.into(),
        }
    }
}

/// A run refused because it would overwrite a file it must not.
#[derive(Debug, Error)]
pub enum SafetyError {
    /// An output names a file the run reads, the journal, or another output.
    #[error(
        "{what} {path} is {other_what} ({other_path}): writing it would destroy that file; choose another path"
    )]
    Clash {
        /// The output's flag.
        what: String,
        /// The output's path.
        path: String,
        /// What it collides with.
        other_what: String,
        /// That file's path.
        other_path: String,
    },
    /// `export --output` names a file that already exists.
    #[error("{path} already exists: pass --force to replace it, or choose another path")]
    Exists {
        /// The output's path.
        path: String,
    },
}

/// What makes two paths the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// Device and inode of an existing file (unix): hard links, symlinks
    /// and relative spellings all land here.
    #[cfg(unix)]
    Inode(u64, u64),
    /// A canonical path: an existing file on other systems, or a file yet
    /// to be created (its canonical folder joined with its name).
    Path(PathBuf),
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The identity of `path`, or `None` when nothing can be said (its folder
/// does not exist either, so nothing there can be destroyed).
fn identity(path: &Path) -> Option<Identity> {
    identity_at_depth(path, 0)
}

fn identity_at_depth(path: &Path, depth: u32) -> Option<Identity> {
    if let Ok(meta) = std::fs::metadata(path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            return Some(Identity::Inode(meta.dev(), meta.ino()));
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            return std::fs::canonicalize(path).ok().map(Identity::Path);
        }
    }
    // A dangling symlink writes through to its target: follow it by hand
    // (a bounded number of hops, as the kernel does).
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_symlink()
        && depth < 40
        && let Ok(target) = std::fs::read_link(path)
    {
        let target = if target.is_absolute() {
            target
        } else {
            parent_dir(path).join(target)
        };
        return identity_at_depth(&target, depth + 1);
    }
    let name = path.file_name()?;
    let dir = std::fs::canonicalize(parent_dir(path)).ok()?;
    Some(Identity::Path(dir.join(name)))
}

/// Refuses the run when an output is the same file as a read file or as
/// another output. `-` (standard input or output) is never a file here.
pub fn check_outputs(reads: &[Named], outputs: &[Named]) -> Result<(), SafetyError> {
    let is_std = |n: &Named| n.path.as_os_str() == "-" || n.path.as_os_str().is_empty();
    let reads: Vec<(&Named, Identity)> = reads
        .iter()
        .filter(|n| !is_std(n))
        .filter_map(|n| identity(&n.path).map(|id| (n, id)))
        .collect();
    let mut seen: Vec<(&Named, Identity)> = Vec::new();
    for out in outputs.iter().filter(|n| !is_std(n)) {
        let Some(id) = identity(&out.path) else {
            continue;
        };
        let clash = reads
            .iter()
            .chain(seen.iter())
            .find(|(_, other)| *other == id);
        if let Some((other, _)) = clash {
            return Err(SafetyError::Clash {
                what: out.what.clone(),
                path: out.path.display().to_string(),
                other_what: other.what.clone(),
                other_path: other.path.display().to_string(),
            });
        }
        seen.push((out, id));
    }
    Ok(())
}

/// The journal file and the two files SQLite keeps beside it in WAL mode;
/// overwriting any of them loses the journal.
pub fn journal_files(journal: &Path) -> Vec<Named> {
    let mut out = vec![Named::new("the job journal", journal)];
    for suffix in ["-wal", "-shm"] {
        let mut p = journal.as_os_str().to_owned();
        p.push(suffix);
        out.push(Named::new("the job journal's WAL file", PathBuf::from(p)));
    }
    out
}

/// The journal a command would use: `--journal`, else the default (none
/// when no default can be found, in which case there is nothing to guard).
pub fn journal_path(given: Option<&Path>) -> Option<PathBuf> {
    match given {
        Some(p) => Some(p.to_path_buf()),
        None => crate::journal::resolve_default_path_in(
            |name| std::env::var_os(name),
            crate::dirs::data_dir(),
        )
        .ok(),
    }
}

/// Refuses an existing `path` unless `force`; standard output is never
/// refused.
pub fn check_new_file(path: &Path, force: bool) -> Result<(), SafetyError> {
    if force || path.as_os_str() == "-" {
        return Ok(());
    }
    // symlink_metadata: a dangling symlink is an existing name too.
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(SafetyError::Exists {
            path: path.display().to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_not_yet_written_clashes_with_its_other_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("r.csv");
        let b = dir.path().join(".").join("r.csv");
        let err = check_outputs(
            &[],
            &[Named::new("--report", &a), Named::new("--rejects", &b)],
        );
        assert!(matches!(err, Err(SafetyError::Clash { .. })), "{err:?}");
        let c = dir.path().join("other.csv");
        assert!(
            check_outputs(
                &[],
                &[Named::new("--report", &a), Named::new("--rejects", &c)]
            )
            .is_ok()
        );
    }
}
