//! Atomic file replacement: a reader sees the old file or the whole new one, never a part.

use crate::{Error, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: first to `<path>.tmp` in the same directory, flushed to
/// disk (`fsync`), then renamed over `path` (an atomic replacement on POSIX file systems), and
/// the directory entry synced. On failure the temporary file is removed and `path` keeps its
/// previous content (or stays absent).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temporary_path(path);
    let written = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        // Best effort: the temporary may not exist if its creation is what failed.
        let _ = fs::remove_file(&tmp);
        return Err(Error(format!("cannot write {}: {e}", path.display())));
    }
    sync_parent(path);
    Ok(())
}

/// `<path>.tmp`, beside `path` so that the rename stays within one file system.
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes the rename itself durable by syncing the directory (where the platform allows it;
/// the replacement is already atomic without it).
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zcnn-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create a scratch directory");
        dir
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = scratch_dir("replace");
        let path = dir.join("report.json");
        write_atomic(&path, b"old").expect("first write");
        write_atomic(&path, b"new content").expect("second write");
        assert_eq!(fs::read(&path).expect("read back"), b"new content");
        assert!(!temporary_path(&path).exists());
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = scratch_dir("fail");
        let path = dir.join("model.safetensors");
        write_atomic(&path, b"complete old file").expect("first write");
        // A directory where the temporary file should go makes the write fail.
        fs::create_dir(temporary_path(&path)).expect("block the temporary path");
        let err = write_atomic(&path, b"new").expect_err("the write must fail");
        assert!(err.0.contains("model.safetensors"), "{err}");
        assert_eq!(fs::read(&path).expect("read back"), b"complete old file");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_missing_directory_is_an_error_and_creates_nothing() {
        let dir = scratch_dir("missing");
        let path = dir.join("no/such/dir/file.npy");
        let err = write_atomic(&path, b"x").expect_err("no directory");
        assert!(err.0.contains("file.npy"), "{err}");
        assert!(!path.exists());
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
