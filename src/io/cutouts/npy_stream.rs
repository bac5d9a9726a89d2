//! A float32 NPY file written a row at a time (C order, little-endian), so that an array
//! larger than memory can be produced; the shape is declared up front and the values written
//! must fill it exactly.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An NPY file being written.
pub struct NpyStream {
    writer: BufWriter<File>,
    path: PathBuf,
    expected: usize,
    written: usize,
    /// Scratch for the little-endian bytes of one push.
    bytes: Vec<u8>,
}

/// The NPY 1.0 header of a little-endian float32 C-order array of `shape` (NEP 1 / numpy's
/// `format.py`): magic `\x93NUMPY`, version 1 0, the dictionary's length as a little-endian
/// u16, then the dictionary padded with spaces and ended by `\n` so that the data start at a
/// multiple of 64 bytes.
fn header(shape: &[usize]) -> Result<Vec<u8>, String> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    // 6 bytes of magic, 2 of version, 2 of length, then the dictionary and its newline.
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let length =
        u16::try_from(dict.len()).map_err(|_| format!("shape {shape:?}: header too long"))?;
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend(length.to_le_bytes());
    bytes.extend(dict.as_bytes());
    Ok(bytes)
}

impl NpyStream {
    /// Creates `path` (replacing it) for an array of `shape`. Errors name the file.
    pub fn create(path: &Path, shape: &[usize]) -> Result<Self, String> {
        let name = path.display();
        let expected = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| format!("{name}: shape {shape:?} overflows"))?;
        let header = header(shape).map_err(|e| format!("{name}: {e}"))?;
        let file = File::create(path).map_err(|e| format!("cannot create {name}: {e}"))?;
        let mut writer = BufWriter::new(file);
        writer
            .write_all(&header)
            .map_err(|e| format!("cannot write {name}: {e}"))?;
        Ok(NpyStream {
            writer,
            path: path.to_path_buf(),
            expected,
            written: 0,
            bytes: Vec::new(),
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
        self.bytes.clear();
        self.bytes
            .extend(values.iter().flat_map(|v| v.to_le_bytes()));
        self.writer
            .write_all(&self.bytes)
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
        let file = self
            .writer
            .into_inner()
            .map_err(|e| format!("cannot write {name}: {}", e.error()))?;
        file.sync_all()
            .map_err(|e| format!("cannot write {name}: {e}"))
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
        // The headers numpy 2 writes (`np.save`; npyz spells tuples `(2, 5, )`), byte for byte.
        for (shape, tuple) in [(&[3usize][..], "(3,)"), (&[4, 5, 64, 64], "(4, 5, 64, 64)")] {
            let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
            let mut numpy = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
            numpy.extend(format!("{dict:<117}\n").as_bytes());
            assert_eq!(header(shape).unwrap(), numpy, "{shape:?}");
        }
        let mut one = NpyStream::create(&path, &[3]).unwrap();
        one.push(&[1.0, 2.0, 3.0]).unwrap();
        one.finish().unwrap();
        assert_eq!(
            read_npy(&path, &NpyExpect::default()).unwrap().data,
            [1.0, 2.0, 3.0]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
