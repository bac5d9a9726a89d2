//! A float32 NPY file written a row at a time (C order, little-endian), so that an array
//! larger than memory can be produced; the shape is declared up front and the values written
//! must fill it exactly.

use npyz::{DType, NpyWriter, WriterBuilder};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// An NPY file being written.
pub struct NpyStream {
    writer: NpyWriter<f32, BufWriter<File>>,
    path: PathBuf,
    expected: usize,
    written: usize,
}

impl NpyStream {
    /// Creates `path` (replacing it) for an array of `shape`. Errors name the file.
    pub fn create(path: &Path, shape: &[usize]) -> Result<Self, String> {
        let name = path.display();
        let expected = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| format!("{name}: shape {shape:?} overflows"))?;
        let file = File::create(path).map_err(|e| format!("cannot create {name}: {e}"))?;
        let shape64: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let writer = npyz::WriteOptions::new()
            .dtype(DType::Plain("<f4".parse().expect("a valid type string")))
            .shape(&shape64)
            .writer(BufWriter::new(file))
            .begin_nd()
            .map_err(|e| format!("cannot write {name}: {e}"))?;
        Ok(NpyStream {
            writer,
            path: path.to_path_buf(),
            expected,
            written: 0,
        })
    }

    /// Appends `values` (in C order after those written before).
    pub fn push(&mut self, values: &[f32]) -> Result<(), String> {
        let room = self.expected - self.written;
        if values.len() > room {
            return Err(format!(
                "{}: {} more values than the declared shape holds",
                self.path.display(),
                values.len() - room
            ));
        }
        self.writer
            .extend(values.iter().copied())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        self.written += values.len();
        Ok(())
    }

    /// Flushes the file, which must hold every value of the shape, and syncs it to disk.
    pub fn finish(self) -> Result<(), String> {
        let name = self.path.display();
        if self.written != self.expected {
            return Err(format!(
                "{name}: {} of the {} values of the shape were written",
                self.written, self.expected
            ));
        }
        let synced = self
            .writer
            .finish()
            .and_then(|()| File::open(&self.path)?.sync_all());
        synced.map_err(|e| format!("cannot write {name}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::{read_npy, NpyExpect};

    #[test]
    fn rows_pushed_read_back_as_one_array_and_miscounts_are_errors() {
        let dir = std::env::temp_dir().join(format!("zcnn-npystream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.npy");
        let mut stream = NpyStream::create(&path, &[3, 1, 2, 2]).unwrap();
        let values: Vec<f32> = (0..12).map(|v| v as f32 - 4.5).collect();
        for row in values.chunks(4) {
            stream.push(row).unwrap();
        }
        let err = stream.push(&[1.0]).unwrap_err();
        assert!(
            err.contains("1 more values than the declared shape"),
            "{err}"
        );
        stream.finish().unwrap();
        let back = read_npy(&path, &NpyExpect::default()).unwrap();
        assert_eq!((back.shape, back.data), (vec![3, 1, 2, 2], values));
        let mut short = NpyStream::create(&path, &[2, 2]).unwrap();
        short.push(&[1.0]).unwrap();
        let err = short.finish().unwrap_err();
        assert!(err.contains("1 of the 4 values"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
