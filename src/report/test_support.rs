//! Helpers shared by the plot tests: a scratch folder and a check that a file is an SVG.

use std::fs;
use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("zcnn-plots-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Reads a written SVG and checks it looks like one: an `<svg` root that is closed,
/// balanced `<text>` elements holding the expected strings, and no temporary file left.
pub fn assert_svg(path: &Path, expected_texts: &[&str]) -> String {
    let svg = fs::read_to_string(path).expect("plot written");
    assert!(
        svg.trim_start().starts_with("<svg"),
        "no <svg root in {}",
        path.display()
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "unclosed <svg> in {}",
        path.display()
    );
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    for text in expected_texts {
        assert!(svg.contains(text), "{} lacks {text:?}", path.display());
    }
    let folder = fs::read_dir(path.parent().expect("a folder")).expect("list the folder");
    for entry in folder {
        let name = entry.expect("an entry").file_name();
        assert!(!name.to_string_lossy().ends_with(".tmp"), "left {name:?}");
    }
    svg
}
