//! Reading an NPY array a chunk of rows at a time (in order, for `zcnn predict` over files
//! larger than memory), or one row at a time anywhere in the file (for training that streams
//! image cutouts from disk). A row is everything under the first axis: a spectrum of
//! `[n, pixels]`, or a cutout of `[n, bands, height, width]`. The header is checked by the same
//! functions as [`super::npy::read_npy`] (flat dictionary, float32/float64, C order), except
//! that both byte orders are accepted here (arrays saved from FITS data are often big-endian);
//! the file length must be exactly the header plus the data, whose size (and the size of a
//! row) is computed with overflow checks.

use super::npy::{check_flat_header, data_size, float_type};
use npyz::{Endianness, NpyFile, Order};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Largest header accepted (numpy writes 64–128 bytes; version 2 allows 4 GiB).
const MAX_HEADER_BYTES: usize = 1 << 20;

/// An open NPY file, read by rows.
#[derive(Debug)]
pub struct NpyRows {
    file: File,
    path: PathBuf,
    shape: Vec<usize>,
    rows: usize,
    /// Values per row: the product of the shape after the first axis.
    cols: usize,
    /// Bytes per value: 4 (float32) or 8 (float64).
    width: usize,
    big_endian: bool,
    /// Where the data start (the header's length).
    offset: u64,
    next_row: usize,
    buffer: Vec<u8>,
}

impl NpyRows {
    /// Opens an array of spectra `[n, pixels]` and checks its header and length. Errors name
    /// the file.
    pub fn open(path: &Path) -> Result<Self, String> {
        let rows = Self::open_any(path)?;
        if rows.shape.len() != 2 {
            return Err(format!(
                "{}: expected shape [n, pixels], found {:?}",
                path.display(),
                rows.shape
            ));
        }
        Ok(rows)
    }

    /// Opens an array of any rank ≥ 1 (rows along the first axis) and checks its header and
    /// length. Errors name the file.
    pub fn open_any(path: &Path) -> Result<Self, String> {
        let name = path.display();
        let file = File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let file_bytes = file.metadata().map_err(|e| format!("{name}: {e}"))?.len();
        let mut reader = &file;
        // Magic (6), version (2), header length: u16 in version 1, u32 from version 2 on.
        let mut preamble = [0u8; 12];
        reader
            .read_exact(&mut preamble[..10])
            .map_err(|e| format!("{name}: not a valid NPY file: {e}"))?;
        let (length, start) = if preamble[6] == 1 {
            (u16::from_le_bytes([preamble[8], preamble[9]]) as usize, 10)
        } else {
            reader
                .read_exact(&mut preamble[10..12])
                .map_err(|e| format!("{name}: not a valid NPY file: {e}"))?;
            (
                u32::from_le_bytes(preamble[8..12].try_into().expect("4 bytes")) as usize,
                12,
            )
        };
        if length > MAX_HEADER_BYTES {
            return Err(format!(
                "{name}: NPY header of {length} bytes (at most {MAX_HEADER_BYTES})"
            ));
        }
        let mut header = preamble[..start].to_vec();
        header.resize(start + length, 0);
        reader
            .read_exact(&mut header[start..])
            .map_err(|e| format!("{name}: truncated NPY header: {e}"))?;
        check_flat_header(&header).map_err(|e| format!("{name}: {e}"))?;
        let parsed =
            NpyFile::new(&header[..]).map_err(|e| format!("{name}: not a valid NPY file: {e}"))?;
        let (width, order) =
            float_type(&parsed.header().dtype()).map_err(|e| format!("{name}: {e}"))?;
        if parsed.header().order() == Order::Fortran {
            return Err(format!(
                "{name}: the array is in Fortran order; expected C order"
            ));
        }
        let shape = parsed
            .header()
            .shape()
            .iter()
            .map(|&v| usize::try_from(v))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| format!("{name}: shape {:?} too large", parsed.header().shape()))?;
        let Some((&rows, rest)) = shape.split_first() else {
            return Err(format!("{name}: a scalar array has no rows"));
        };
        // The same checked product as the whole-file reader (`npy::data_size`); a row's size
        // too, as it is not bounded by the total when there are no rows (shape [0, 2^40, 2^40]).
        let too_large = || {
            format!(
                "{name}: shape {shape:?} of {width}-byte values is larger than memory can \
                 address (the file holds {file_bytes} bytes)"
            )
        };
        let cols = data_size(rest, width)
            .map(|bytes| bytes / width)
            .ok_or_else(too_large)?;
        let data_bytes = data_size(&shape, width)
            .and_then(|v| v.checked_add(header.len()))
            .ok_or_else(too_large)?;
        if data_bytes as u64 != file_bytes {
            return Err(format!(
                "{name}: shape {shape:?} needs {data_bytes} bytes in all, the file holds {file_bytes}"
            ));
        }
        Ok(Self {
            offset: header.len() as u64,
            file,
            path: path.to_path_buf(),
            shape,
            rows,
            cols,
            width,
            big_endian: order == Endianness::Big,
            next_row: 0,
            buffer: Vec::new(),
        })
    }

    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of rows (spectra, cutouts).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Values per row.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next (at most) `max_rows` rows into `out` (replacing its content) and returns
    /// how many were read (0 at the end). Non-finite values are errors naming row and column.
    pub fn read_chunk(&mut self, max_rows: usize, out: &mut Vec<f32>) -> Result<usize, String> {
        let count = max_rows.min(self.rows - self.next_row);
        out.resize(count * self.cols, 0.0);
        let mut buffer = std::mem::take(&mut self.buffer);
        let read = self.read_rows_at(self.next_row, &mut buffer, out);
        self.buffer = buffer;
        read?;
        self.next_row += count;
        Ok(count)
    }

    /// Reads the `out.len() / cols` rows from `first` on into `out`, anywhere in the file and
    /// from any thread (`bytes` is scratch space). Non-finite values are errors naming the row
    /// and the value's index in it.
    pub fn read_rows_at(
        &self,
        first: usize,
        bytes: &mut Vec<u8>,
        out: &mut [f32],
    ) -> Result<(), String> {
        self.read_values_at(first, bytes, out)?;
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "{}: row {}, value {} is {} (values must be finite)",
                self.path.display(),
                first + i / self.cols,
                i % self.cols,
                out[i]
            ));
        }
        Ok(())
    }

    /// [`NpyRows::read_rows_at`] without the check: NaN and infinite values are returned as
    /// they are (a float64 beyond the f32 range becomes infinite), for callers that mask them.
    pub fn read_values_at(
        &self,
        first: usize,
        bytes: &mut Vec<u8>,
        out: &mut [f32],
    ) -> Result<(), String> {
        let count = out.len() / self.cols.max(1);
        if first + count > self.rows {
            return Err(format!(
                "{}: rows {first}..{} asked of {}",
                self.path.display(),
                first + count,
                self.rows
            ));
        }
        bytes.resize(out.len() * self.width, 0);
        let at = self.offset + (first * self.cols * self.width) as u64;
        self.file
            .read_exact_at(bytes, at)
            .map_err(|e| format!("{}: rows {first}..: {e}", self.path.display()))?;
        let big = self.big_endian;
        if self.width == 4 {
            for (v, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                let b = b.try_into().expect("4");
                *v = if big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                };
            }
        } else {
            for (v, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                let b = b.try_into().expect("8");
                *v = (if big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                }) as f32;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::{npy_bytes, write_npy};

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("zcnn-npyrows-{name}-{}.npy", std::process::id()))
    }

    #[test]
    fn chunks_return_the_rows_in_order() {
        let path = scratch("order");
        let data: Vec<f32> = (0..15).map(|v| v as f32).collect();
        write_npy(&path, &[5, 3], &data).unwrap();
        let mut rows = NpyRows::open(&path).unwrap();
        assert_eq!((rows.rows(), rows.cols()), (5, 3));
        let (mut chunk, mut all) = (Vec::new(), Vec::new());
        let mut sizes = Vec::new();
        loop {
            let n = rows.read_chunk(2, &mut chunk).unwrap();
            if n == 0 {
                break;
            }
            sizes.push(n);
            all.extend_from_slice(&chunk);
        }
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(all, data);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let path = scratch("bad");
        let mut bytes = npy_bytes(&[2, 2], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        bytes.pop();
        std::fs::write(&path, &bytes).unwrap();
        let err = NpyRows::open(&path).expect_err("truncated");
        assert!(
            err.contains("zcnn-npyrows-bad") && err.contains("bytes"),
            "{err}"
        );
        std::fs::write(&path, npy_bytes(&[4], &[1.0; 4]).unwrap()).unwrap();
        assert!(NpyRows::open(&path)
            .expect_err("1-D")
            .contains("[n, pixels]"));
        std::fs::write(&path, npy_bytes(&[1, 2], &[1.0, f32::NAN]).unwrap()).unwrap();
        let mut rows = NpyRows::open(&path).unwrap();
        let err = rows.read_chunk(8, &mut Vec::new()).expect_err("NaN");
        assert!(err.contains("row 0, value 1"), "{err}");
        std::fs::write(&path, b"\x93NUMPY\x01\x00").unwrap();
        assert!(NpyRows::open(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }

    /// An NPY (version 1.0) file of `descr` values with a hand-written header.
    fn handmade(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        bytes
    }

    fn open_bytes(name: &str, bytes: &[u8]) -> Result<NpyRows, String> {
        let path = scratch(name);
        std::fs::write(&path, bytes).unwrap();
        let rows = NpyRows::open_any(&path);
        std::fs::remove_file(&path).unwrap();
        rows
    }

    #[test]
    fn four_axes_big_endian_and_float64_read_as_rows_of_the_other_axes() {
        let values: Vec<f64> = (0..24).map(|v| v as f64 * 0.25 - 1.0).collect();
        let expected: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let le32: Vec<u8> = expected.iter().flat_map(|v| v.to_le_bytes()).collect();
        let be32: Vec<u8> = expected.iter().flat_map(|v| v.to_be_bytes()).collect();
        let le64: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let be64: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        for (descr, data) in [("<f4", le32), (">f4", be32), ("<f8", le64), (">f8", be64)] {
            let bytes = handmade(descr, "(3, 2, 2, 2)", &data);
            let rows = open_bytes("orders", &bytes).expect(descr);
            assert_eq!((rows.rows(), rows.cols()), (3, 8), "{descr}");
            assert_eq!(rows.shape(), [3, 2, 2, 2]);
            let mut out = vec![0.0; 24];
            rows.read_values_at(0, &mut Vec::new(), &mut out).unwrap();
            assert_eq!(out, expected, "{descr}");
            // Rows out of order.
            let mut one = vec![0.0; 8];
            rows.read_values_at(2, &mut Vec::new(), &mut one).unwrap();
            assert_eq!(one, expected[16..]);
        }
    }

    #[test]
    fn unchecked_reads_return_non_finite_values_and_stay_in_bounds() {
        let bytes = npy_bytes(&[2, 3], &[1.0, f32::NAN, 2.0, 3.0, 4.0, f32::INFINITY]).unwrap();
        let rows = open_bytes("unchecked", &bytes).unwrap();
        let mut out = vec![0.0; 6];
        rows.read_values_at(0, &mut Vec::new(), &mut out).unwrap();
        assert!(out[1].is_nan() && out[5] == f32::INFINITY);
        let err = rows.read_rows_at(0, &mut Vec::new(), &mut out).unwrap_err();
        assert!(err.contains("row 0, value 1 is NaN"), "{err}");
        let err = rows
            .read_values_at(1, &mut Vec::new(), &mut out)
            .unwrap_err();
        assert!(err.contains("rows 1..3 asked of 2"), "{err}");
    }

    #[test]
    fn overflowing_shapes_and_other_dtypes_are_refused() {
        let huge = handmade("<f4", "(1, 4294967296, 4294967296, 2)", &[]);
        let err = open_bytes("huge", &huge).unwrap_err();
        assert!(err.contains("larger than memory can address"), "{err}");
        // No rows: the total is 0 bytes, but a row's size still overflows.
        let empty = handmade("<f4", "(0, 4294967296, 4294967296, 2)", &[]);
        let err = open_bytes("empty", &empty).unwrap_err();
        assert!(err.contains("larger than memory can address"), "{err}");
        let int = handmade("<i4", "(1, 1, 1, 1)", &[0; 4]);
        let err = open_bytes("int", &int).unwrap_err();
        assert!(err.contains("'<i4'") && err.contains("'>f4'"), "{err}");
    }
}
