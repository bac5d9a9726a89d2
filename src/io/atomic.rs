//! Atomic file replacement: a reader sees the old file or the whole new one, never a part;
//! staged files, written over time under a temporary name and renamed into place when complete;
//! and staged folders, whose files appear together only once all of them are written. Whether
//! an output may be written at all (not an input, not an earlier result without `--overwrite`)
//! is decided before, by the command's output plan (`cli::paths::Plan`).

use crate::{Error, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically: first to a temporary file in the same directory whose
/// name is unique to this process and call ([`temporary_path`]), flushed to disk (`fsync`),
/// then renamed over `path` (an atomic replacement on POSIX file systems), and the directory
/// entry synced. On failure the temporary file is removed and `path` keeps its previous content
/// (or stays absent).
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

/// `<path>.<pid>.<counter>.tmp`: beside `path`, so that the rename stays within one file
/// system, and unique, so that two processes (or two threads) writing the same file never
/// write into one temporary file.
pub fn temporary_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.{n}.tmp", std::process::id()));
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

/// An output written over time (a streamed catalogue, an HDF5 file): built in a temporary file
/// beside its final path, unique to this process and call ([`temporary_path`]), and renamed
/// over the final path by [`StagedPath::commit`] once complete. Dropped without a commit (an
/// error on the way, an interruption), it removes the temporary file, so the final path keeps
/// what it held before.
#[derive(Debug)]
#[must_use = "dropped uncommitted, the staged file is removed"]
pub struct StagedPath {
    path: PathBuf,
    temporary: PathBuf,
    committed: bool,
}

impl StagedPath {
    /// Stages an output at `path` (nothing is created yet).
    pub fn new(path: &Path) -> Self {
        StagedPath {
            path: path.to_path_buf(),
            temporary: temporary_path(path),
            committed: false,
        }
    }

    /// Creates the temporary file, to be written in full before the commit. The error names
    /// the final path, and its folder when that is missing.
    pub fn create(&self) -> Result<File> {
        File::create(&self.temporary).map_err(|e| {
            let why = match self.path.parent() {
                Some(dir) if e.kind() == std::io::ErrorKind::NotFound => {
                    format!("the folder {} does not exist", dir.display())
                }
                _ => e.to_string(),
            };
            Error(format!(
                "cannot write {}: {why} (creating {})",
                self.path.display(),
                self.temporary.display()
            ))
        })
    }

    /// Where to write while the output is incomplete.
    pub fn temporary(&self) -> &Path {
        &self.temporary
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the complete temporary file over the final path (an atomic replacement) and
    /// syncs the directory entry. On failure the temporary file is removed.
    pub fn commit(mut self) -> Result<()> {
        fs::rename(&self.temporary, &self.path)
            .map_err(|e| Error(format!("cannot write {}: {e}", self.path.display())))?;
        self.committed = true;
        sync_parent(&self.path);
        Ok(())
    }
}

/// Checks, before a long run, that `path` can be written: creates its temporary file (as
/// [`StagedPath::create`] will) and removes it at once. Catches a missing folder, a file in
/// place of a folder, a folder without write permission and a read-only file system, so that
/// the run is refused before any work rather than after it.
pub fn check_writable(path: &Path) -> Result<()> {
    let staged = StagedPath::new(path);
    // Dropping the file closes it; dropping `staged` uncommitted removes it.
    staged.create().map(drop)
}

/// Moves every complete staged file into place, in order. Called once all of them are
/// written and synced, so that an error while writing any one leaves every earlier output as
/// it was; only a failed rename (a folder put in the way meanwhile) can leave some renamed.
pub fn commit_all(staged: Vec<StagedPath>) -> Result<()> {
    staged.into_iter().try_for_each(StagedPath::commit)
}

impl Drop for StagedPath {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the temporary file may never have been created.
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// A folder of results written as a whole. Files are written into a temporary folder inside
/// the target ([`StagedDir::file`]); [`StagedDir::commit`] moves each into the target, each
/// move an atomic rename. Dropped without a commit (an error on the way), the temporary folder
/// is removed and so is the target if this created it: a failure leaves the target as it was.
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    created_target: bool,
    committed: bool,
}

impl StagedDir {
    /// Starts a staged write into `target` (created if absent).
    pub fn new(target: &Path) -> Result<Self> {
        let created_target = !target.is_dir();
        fs::create_dir_all(target).map_err(|e| {
            Error(format!(
                "{}: cannot create the folder: {e}",
                target.display()
            ))
        })?;
        let staging = temporary_path(&target.join(".zcnn-staging"));
        if let Err(e) = fs::create_dir(&staging) {
            if created_target {
                let _ = fs::remove_dir(target);
            }
            return Err(Error(format!("{}: cannot create: {e}", staging.display())));
        }
        Ok(StagedDir {
            target: target.to_path_buf(),
            staging,
            created_target,
            committed: false,
        })
    }

    /// Where to write the file `name` (it reaches the target at the commit).
    pub fn file(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// The staging folder, for writers that name their own files inside it.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves every staged file into the target, replacing files of the same name. A folder in
    /// the way of a file is an error found before anything moves.
    pub fn commit(mut self) -> Result<()> {
        let staged: Vec<_> = fs::read_dir(&self.staging)
            .and_then(|entries| entries.map(|e| Ok(e?.file_name())).collect())
            .map_err(|e| Error(format!("{}: cannot list: {e}", self.staging.display())))?;
        if let Some(name) = staged.iter().find(|name| self.target.join(name).is_dir()) {
            return Err(Error(format!(
                "{}: a folder is in the way of a result file",
                self.target.join(name).display()
            )));
        }
        let moved = staged
            .iter()
            .try_for_each(|name| fs::rename(self.staging.join(name), self.target.join(name)))
            .and_then(|()| fs::remove_dir(&self.staging));
        moved.map_err(|e| {
            Error(format!(
                "{}: cannot move the results in: {e}",
                self.target.display()
            ))
        })?;
        self.committed = true;
        sync_parent(&self.target.join("."));
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: nothing else can be done about a failure while unwinding an error.
            let _ = fs::remove_dir_all(&self.staging);
            if self.created_target {
                let _ = fs::remove_dir(&self.target);
            }
        }
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

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("list the folder")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = scratch_dir("replace");
        let path = dir.join("report.json");
        write_atomic(&path, b"old").expect("first write");
        write_atomic(&path, b"new content").expect("second write");
        assert_eq!(fs::read(&path).expect("read back"), b"new content");
        assert_eq!(names(&dir), ["report.json"]);
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn temporary_names_are_unique_per_call() {
        let path = Path::new("/some/dir/checkpoint.safetensors");
        let (a, b) = (temporary_path(path), temporary_path(path));
        assert_ne!(a, b);
        let pid = std::process::id().to_string();
        assert!(a.to_string_lossy().contains(&pid), "{}", a.display());
        assert!(a.to_string_lossy().ends_with(".tmp"), "{}", a.display());
        assert_eq!(a.parent(), path.parent());
    }

    #[test]
    fn concurrent_writers_of_one_file_never_share_a_temporary() {
        // With one temporary name, a writer could rename away another's half-written file, or
        // fail to find its own temporary after another writer renamed it.
        let dir = scratch_dir("concurrent");
        let path = dir.join("checkpoint.safetensors");
        let contents: Vec<Vec<u8>> = (0..8u8).map(|k| vec![k; 100_000]).collect();
        std::thread::scope(|scope| {
            for bytes in &contents {
                let path = &path;
                scope.spawn(move || {
                    for _ in 0..20 {
                        write_atomic(path, bytes).expect("every write succeeds");
                    }
                });
            }
        });
        let last = fs::read(&path).expect("read back");
        assert!(contents.contains(&last), "the file mixes two writes");
        assert_eq!(names(&dir), ["checkpoint.safetensors"]);
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_failed_write_keeps_what_was_there_and_leaves_no_temporary() {
        let dir = scratch_dir("fail");
        // A non-empty folder where the file should go makes the rename fail.
        let path = dir.join("model.safetensors");
        fs::create_dir(&path).expect("create");
        write_atomic(&path.join("old"), b"complete old file").expect("a file inside");
        let err = write_atomic(&path, b"new").expect_err("the write must fail");
        assert!(err.0.contains("model.safetensors"), "{err}");
        assert_eq!(names(&dir), ["model.safetensors"]);
        assert_eq!(
            fs::read(path.join("old")).expect("read back"),
            b"complete old file"
        );
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

    #[test]
    fn a_staged_file_appears_only_at_the_commit_and_replaces_what_was_there() {
        let dir = scratch_dir("staged-file");
        let path = dir.join("catalog.fits");
        write_atomic(&path, b"an earlier catalogue").expect("an earlier result");
        let staged = StagedPath::new(&path);
        let mut file = staged.create().expect("create the temporary file");
        file.write_all(b"new").expect("write");
        drop(file);
        assert_eq!(fs::read(&path).expect("read"), b"an earlier catalogue");
        assert_eq!(staged.temporary().parent(), path.parent());
        assert!(staged.temporary().to_string_lossy().ends_with(".tmp"));
        staged.commit().expect("commit");
        assert_eq!(fs::read(&path).expect("read"), b"new");
        assert_eq!(names(&dir), ["catalog.fits"]);
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_staged_file_dropped_without_commit_leaves_nothing() {
        let dir = scratch_dir("staged-drop");
        let kept = dir.join("predictions.csv");
        write_atomic(&kept, b"an earlier CSV").expect("an earlier result");
        for path in [kept.clone(), dir.join("new.fits")] {
            let staged = StagedPath::new(&path);
            write_atomic(staged.temporary(), b"half").expect("write");
            drop(staged);
        }
        // A staged file whose temporary was never created drops quietly too.
        drop(StagedPath::new(&dir.join("never.parquet")));
        assert_eq!(names(&dir), ["predictions.csv"]);
        assert_eq!(fs::read(&kept).expect("read"), b"an earlier CSV");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn two_staged_writers_of_one_file_never_share_a_temporary() {
        // With one temporary name (say `<path>.part`), the second writer would truncate the
        // first one's file, and the first commit would move away the second one's.
        let dir = scratch_dir("staged-two");
        let path = dir.join("pdfs.hdf5");
        let (first, second) = (StagedPath::new(&path), StagedPath::new(&path));
        assert_ne!(first.temporary(), second.temporary());
        write_atomic(first.temporary(), b"first").expect("write");
        write_atomic(second.temporary(), b"second").expect("write");
        first.commit().expect("first commit");
        assert_eq!(fs::read(&path).expect("read"), b"first");
        second.commit().expect("second commit");
        assert_eq!(fs::read(&path).expect("read"), b"second");
        assert_eq!(names(&dir), ["pdfs.hdf5"]);
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_failed_commit_names_the_file_and_removes_the_temporary() {
        let dir = scratch_dir("staged-blocked");
        // A non-empty folder where the file should go makes the rename fail.
        let path = dir.join("catalog.fits");
        fs::create_dir(&path).expect("a folder in the way");
        write_atomic(&path.join("inside"), b"x").expect("a file inside");
        let staged = StagedPath::new(&path);
        write_atomic(staged.temporary(), b"complete").expect("write");
        let err = staged.commit().expect_err("blocked");
        assert!(err.0.contains("catalog.fits"), "{err}");
        assert_eq!(names(&dir), ["catalog.fits"]);
        assert!(path.is_dir());
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_staged_folder_appears_whole_at_the_commit() {
        let dir = scratch_dir("staged");
        let target = dir.join("report");
        fs::create_dir(&target).expect("create");
        write_atomic(&target.join("report.json"), b"old").expect("an earlier report");
        write_atomic(&target.join("keep.txt"), b"other").expect("another file");
        let staged = StagedDir::new(&target).expect("stage");
        write_atomic(&staged.file("report.json"), b"new").expect("write");
        write_atomic(&staged.file("plot.svg"), b"<svg/>").expect("write");
        // Before the commit the target still holds the old report only.
        assert_eq!(fs::read(target.join("report.json")).expect("read"), b"old");
        assert!(!target.join("plot.svg").exists());
        staged.commit().expect("commit");
        assert_eq!(names(&target), ["keep.txt", "plot.svg", "report.json"]);
        assert_eq!(fs::read(target.join("report.json")).expect("read"), b"new");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_commit_blocked_by_a_folder_moves_nothing() {
        let dir = scratch_dir("blocked");
        fs::create_dir_all(dir.join("b.svg/inside")).expect("a folder in the way");
        let staged = StagedDir::new(&dir).expect("stage");
        for name in ["a.json", "b.svg", "c.svg"] {
            write_atomic(&staged.file(name), b"new").expect("write");
        }
        let err = staged.commit().expect_err("blocked");
        assert!(err.0.contains("b.svg"), "{err}");
        assert_eq!(names(&dir), ["b.svg"]);
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_staged_folder_dropped_without_commit_leaves_nothing() {
        let dir = scratch_dir("abandoned");
        let existing = dir.join("existing");
        fs::create_dir(&existing).expect("create");
        write_atomic(&existing.join("report.json"), b"old").expect("an earlier report");
        for target in [existing.clone(), dir.join("new")] {
            let staged = StagedDir::new(&target).expect("stage");
            write_atomic(&staged.file("report.json"), b"half").expect("write");
            drop(staged);
        }
        assert_eq!(names(&dir), ["existing"]);
        assert_eq!(names(&existing), ["report.json"]);
        assert_eq!(
            fs::read(existing.join("report.json")).expect("read"),
            b"old"
        );
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
