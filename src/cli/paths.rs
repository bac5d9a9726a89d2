//! Output safety, checked before a command starts work: no output is one of the command's
//! inputs, no two outputs are one file, no output is a folder, and the results of an
//! earlier run are replaced only with `--overwrite`. Paths are compared once resolved (absolute,
//! symbolic links followed), also for outputs that do not exist yet.

use std::path::{Component, Path, PathBuf};

/// A path a command reads or writes, with the flag that named it (for the messages).
pub struct Named {
    flag: String,
    path: PathBuf,
}

/// `path`, named on the command line by `flag` (or derived from the path that flag gave).
pub fn named(flag: impl Into<String>, path: impl Into<PathBuf>) -> Named {
    Named {
        flag: flag.into(),
        path: path.into(),
    }
}

/// The files a command reads and writes, gathered to be checked by [`Plan::check`].
#[derive(Default)]
pub struct Plan {
    inputs: Vec<Named>,
    outputs: Vec<Named>,
}

impl Plan {
    /// The command reads `path` (a file or a folder), named by `flag`.
    pub fn reads(mut self, flag: &str, path: &Path) -> Self {
        self.inputs.push(named(flag, path));
        self
    }

    /// The command reads the files `names` of the folder `dir`.
    pub fn reads_in(mut self, flag: &str, dir: &Path, names: &[&str]) -> Self {
        self.inputs
            .extend(names.iter().map(|name| named(flag, dir.join(name))));
        self
    }

    /// The command writes the file `path`.
    pub fn writes(mut self, flag: &str, path: &Path) -> Self {
        self.outputs.push(named(flag, path));
        self
    }

    /// The command writes the files `names` into the folder `dir`.
    pub fn writes_in(mut self, flag: &str, dir: &Path, names: &[&str]) -> Self {
        self.outputs
            .extend(names.iter().map(|name| named(flag, dir.join(name))));
        self
    }

    /// See [`check_outputs`].
    pub fn check(&self, overwrite: bool) -> Result<(), String> {
        check_outputs(&self.inputs, &self.outputs, overwrite)
    }
}

/// Refuses an output that is an input, two outputs that are one file, an output that is a
/// folder, and (without `overwrite`) an output that already exists. `outputs` are files; an
/// input may be a folder (of which only some files are read, none named like an output).
pub fn check_outputs(inputs: &[Named], outputs: &[Named], overwrite: bool) -> Result<(), String> {
    let inputs = resolve_all(inputs)?;
    let outputs = resolve_all(outputs)?;
    for (k, (out, out_at)) in outputs.iter().enumerate() {
        for (input, in_at) in &inputs {
            if out_at == in_at {
                return Err(format!(
                    "{} {} is also the input {} {}: zcnn never writes over its inputs; choose \
                     another path",
                    out.flag,
                    out.path.display(),
                    input.flag,
                    input.path.display()
                ));
            }
        }
        if let Some((other, _)) = outputs[..k].iter().find(|(_, at)| at == out_at) {
            return Err(format!(
                "{} and {} both name {}: give them different paths",
                other.flag,
                out.flag,
                out.path.display()
            ));
        }
        if out_at.is_dir() {
            return Err(format!(
                "{}: {} is a folder, where zcnn writes a file: move it away or choose another path",
                out.flag,
                out.path.display()
            ));
        }
        if !overwrite && out_at.exists() {
            return Err(format!(
                "{}: {} already exists (the result of an earlier run); pass --overwrite to \
                 replace it, or choose another path",
                out.flag,
                out.path.display()
            ));
        }
    }
    Ok(())
}

/// Whether `a` and `b` name the same file (existing or not).
pub fn same_file(a: &Path, b: &Path) -> Result<bool, String> {
    Ok(resolve(a)? == resolve(b)?)
}

fn resolve_all(paths: &[Named]) -> Result<Vec<(&Named, PathBuf)>, String> {
    paths.iter().map(|p| Ok((p, resolve(&p.path)?))).collect()
}

/// The absolute path that `path` names, symbolic links resolved: the canonical path of its
/// deepest existing ancestor, followed by the rest (in which `.` and `..` apply lexically: no
/// link can hide there, since none of it exists).
fn resolve(path: &Path) -> Result<PathBuf, String> {
    let cwd = std::env::current_dir()
        .map_err(|e| format!("{}: cannot resolve the current folder: {e}", path.display()))?;
    let absolute = cwd.join(path);
    for ancestor in absolute.ancestors() {
        if let Ok(mut resolved) = ancestor.canonicalize() {
            let rest = absolute
                .strip_prefix(ancestor)
                .expect("an ancestor is a prefix");
            for part in rest.components() {
                match part {
                    Component::ParentDir => {
                        resolved.pop();
                    }
                    Component::Normal(name) => resolved.push(name),
                    Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
                }
            }
            return Ok(resolved);
        }
    }
    Err(format!("{}: cannot resolve this path", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zcnn-paths-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create a scratch folder");
        dir.canonicalize().expect("canonical")
    }

    #[test]
    fn missing_paths_resolve_through_their_existing_ancestor() {
        let dir = scratch("resolve");
        fs::create_dir(dir.join("real")).expect("create");
        std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).expect("symlink");
        let via_link = resolve(&dir.join("link/new/../out.csv")).expect("resolves");
        assert_eq!(via_link, dir.join("real/out.csv"));
        assert!(same_file(&dir.join("real/./out.csv"), &dir.join("link/out.csv")).expect("ok"));
        assert!(!same_file(&dir.join("real/a"), &dir.join("real/b")).expect("ok"));
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn outputs_that_are_inputs_collide_or_exist_are_refused() {
        let dir = scratch("check");
        let spectra = dir.join("spectra.npy");
        fs::write(&spectra, b"x").expect("write");
        let input = || vec![named("--spectra", &spectra)];
        // The same file through another spelling.
        let other_spelling = dir.join("sub/../spectra.npy");
        let err = check_outputs(&input(), &[named("--out", &other_spelling)], true).unwrap_err();
        assert!(
            err.contains("--out") && err.contains("input --spectra"),
            "{err}"
        );
        // A file beside the files of an input folder is not one of them.
        check_outputs(
            &[named("--fits", &dir)],
            &[named("--out", dir.join("a.npy"))],
            true,
        )
        .expect("an input folder may hold outputs");
        // Two outputs, one file (neither exists yet).
        let csv = dir.join("z.csv");
        let err = check_outputs(
            &input(),
            &[named("--out", &csv), named("--pdfs", dir.join("./z.csv"))],
            true,
        )
        .unwrap_err();
        assert!(err.contains("--out and --pdfs both name"), "{err}");
        // An existing result: refused, then replaced with overwrite.
        check_outputs(&input(), &[named("--out", &csv)], false).expect("a new file is fine");
        fs::write(&csv, b"earlier").expect("write");
        let err = check_outputs(&input(), &[named("--out", &csv)], false).unwrap_err();
        assert!(
            err.contains("already exists") && err.contains("--overwrite"),
            "{err}"
        );
        check_outputs(&input(), &[named("--out", &csv)], true).expect("overwrite allowed");
        // A folder where a file goes is refused even with overwrite.
        let err = check_outputs(&input(), &[named("--out", &dir)], true).unwrap_err();
        assert!(err.contains("is a folder"), "{err}");
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
