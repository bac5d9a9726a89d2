//! Running the `zcnn` binary from integration tests: success and failure with their output,
//! and scratch folders.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn zcnn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zcnn"))
        .args(args)
        .output()
        .expect("zcnn runs")
}

/// Runs zcnn, asserts success, returns stdout and stderr together.
pub fn ok(args: &[&str]) -> String {
    let out = zcnn(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "zcnn {args:?} failed:\n{text}");
    text
}

/// Runs zcnn, asserts a failure without a panic, returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = zcnn(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "zcnn {args:?} should fail");
    assert!(!err.contains("panicked"), "zcnn {args:?} panicked:\n{err}");
    err
}

/// An empty folder under the system temp dir, unique to this process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zcnn-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Simulates `n` spectra from `seed` into `dir/data` and trains a one-epoch model with `bins`
/// classes on them into `dir/model`; returns the dataset folder and the checkpoint.
// Every test crate compiles this module; not all of them train a model.
#[allow(dead_code)]
pub fn simulate_and_train(dir: &Path, n: usize, seed: u64, bins: usize) -> (PathBuf, PathBuf) {
    let (data, model) = (dir.join("data"), dir.join("model"));
    let (n, seed, bins) = (n.to_string(), seed.to_string(), bins.to_string());
    ok(&["simulate", "--out", s(&data), "-n", &n, "--seed", &seed]);
    ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&model),
        "--epochs",
        "1",
        "--bins",
        &bins,
    ]);
    (data, model.join("checkpoint.safetensors"))
}
