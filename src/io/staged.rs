//! Outputs written over time (streamed catalogues, HDF5 files): the file is built under a
//! temporary name beside its final path and renamed into place only when complete, so an
//! error or an interruption leaves no half-written file under the final name.

use std::fs;
use std::path::{Path, PathBuf};

/// A final path and the temporary one the output is built in. Dropped without
/// [`StagedPath::commit`], it removes the temporary file.
#[derive(Debug)]
pub struct StagedPath {
    path: PathBuf,
    temporary: PathBuf,
    committed: bool,
    /// Whether `commit` may replace an existing file (atomically).
    replace: bool,
}

impl StagedPath {
    /// Stages an output at `path`. Refuses an existing `path` (a good file is never replaced
    /// by a streamed one) and a `path` that is one of `inputs`.
    pub fn new(path: &Path, inputs: &[&Path]) -> Result<Self, String> {
        Self::staged(path, inputs, false)
    }

    /// As [`StagedPath::new`], but the complete file atomically replaces an existing `path`
    /// (for outputs that zcnn always overwrote, such as the predictions CSV).
    pub fn replacing(path: &Path, inputs: &[&Path]) -> Result<Self, String> {
        Self::staged(path, inputs, true)
    }

    fn staged(path: &Path, inputs: &[&Path], replace: bool) -> Result<Self, String> {
        if !replace && path.exists() {
            return Err(format!(
                "{}: already exists; zcnn does not overwrite an output (remove it or choose another name)",
                path.display()
            ));
        }
        if inputs.iter().any(|input| same_file(input, path)) {
            return Err(format!("{}: an output cannot be an input", path.display()));
        }
        let mut name = path.as_os_str().to_owned();
        name.push(".part");
        Ok(Self {
            path: path.to_path_buf(),
            temporary: PathBuf::from(name),
            committed: false,
            replace,
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

    /// Renames the complete temporary file to the final path (refusing to replace a file that
    /// appeared there meanwhile).
    pub fn commit(mut self) -> Result<(), String> {
        if !self.replace && self.path.exists() {
            return Err(format!(
                "{}: appeared while writing; the new output is left in {}",
                self.path.display(),
                self.temporary.display()
            ));
        }
        fs::rename(&self.temporary, &self.path)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedPath {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the temporary file may never have been created.
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// Whether two paths name the same file (by canonical path when both exist).
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zcnn-staged-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = scratch("commit");
        let out = dir.join("cat.fits");
        let staged = StagedPath::new(&out, &[]).expect("new");
        fs::write(staged.temporary(), b"done").expect("write");
        staged.commit().expect("commit");
        assert_eq!(fs::read(&out).expect("read"), b"done");
        let other = dir.join("other.fits");
        let staged = StagedPath::new(&other, &[]).expect("new");
        let temporary = staged.temporary().to_path_buf();
        fs::write(&temporary, b"half").expect("write");
        drop(staged);
        assert!(!temporary.exists() && !other.exists());
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn existing_outputs_and_inputs_are_refused() {
        let dir = scratch("refuse");
        let out = dir.join("cat.fits");
        fs::write(&out, b"good").expect("write");
        let err = StagedPath::new(&out, &[]).expect_err("exists");
        assert!(
            err.contains("cat.fits") && err.contains("already exists"),
            "{err}"
        );
        let input = dir.join("spectra.npy");
        let err = StagedPath::new(&input, &[&input]).expect_err("input");
        assert!(err.contains("cannot be an input"), "{err}");
        let replacing = StagedPath::replacing(&out, &[]).expect("replacing");
        fs::write(replacing.temporary(), b"newer").expect("write");
        replacing.commit().expect("commit");
        assert_eq!(fs::read(&out).expect("read"), b"newer");
        fs::write(&out, b"good").expect("write");
        assert_eq!(fs::read(&out).expect("read"), b"good");
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
