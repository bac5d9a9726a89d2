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
