//! Reading an NPY array a chunk of rows at a time, so that `zcnn predict` runs over files of
//! spectra `[n, pixels]` and `zcnn import-images` over cutouts `[n, bands, height, width]`
//! larger than memory. A row is one entry along the first axis (all values of the other
//! axes). The header is checked by the same functions as [`super::npy::read_npy`] (flat
//! dictionary, float32/float64, C order), except that both byte orders are accepted here
//! (arrays saved from FITS data are often big-endian); the file length must be exactly the
//! header plus the values of the shape, whose size is computed with overflow checks.

use super::npy::{check_flat_header, data_size, float_type};
use npyz::{Endianness, NpyFile, Order};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Largest header accepted (numpy writes 64–128 bytes; version 2 allows 4 GiB).
const MAX_HEADER_BYTES: usize = 1 << 20;

/// An open NPY array, read row by row (in order, or from a row chosen by [`NpyRows::seek_row`]).
pub struct NpyRows<R = BufReader<File>> {
    reader: R,
    /// The file's name, for messages.
    name: String,
    shape: Vec<usize>,
    /// Values per row: the product of the axes after the first.
    cols: usize,
    /// Bytes per value: 4 (float32) or 8 (float64).
    width: usize,
    big_endian: bool,
    /// Offset of row 0 in the file.
    data_start: u64,
    next_row: usize,
    buffer: Vec<u8>,
}

impl NpyRows {
    /// Opens a file of spectra `[n, pixels]` and checks its header and length. Errors name
    /// the file.
    pub fn open(path: &Path) -> Result<Self, String> {
        Self::open_rank(path, 2, "[n, pixels]")
    }

    /// Opens an array of `rank` axes (`layout` spells them for the messages, e.g.
    /// `"[n, bands, height, width]"`).
    pub fn open_rank(path: &Path, rank: usize, layout: &str) -> Result<Self, String> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let file_bytes = file.metadata().map_err(|e| format!("{name}: {e}"))?.len();
        NpyRows::from_reader(BufReader::new(file), file_bytes, &name, rank, layout)
    }
}

impl<R: Read + Seek> NpyRows<R> {
    /// Reads the header from `reader` (positioned at the start of an NPY file of `file_bytes`
    /// bytes, named `name` in messages) and checks it as [`NpyRows::open_rank`] does.
    pub fn from_reader(
        mut reader: R,
        file_bytes: u64,
        name: &str,
        rank: usize,
        layout: &str,
    ) -> Result<Self, String> {
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
        let found = parsed.header().shape().to_vec();
        if found.len() != rank {
            return Err(format!("{name}: expected shape {layout}, found {found:?}"));
        }
        let shape = found
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| format!("{name}: shape {found:?} too large"))?;
        // The same checked product as the whole-file reader (`npy::data_size`).
        let too_large = || {
            format!(
                "{name}: shape {shape:?} of {width}-byte values is larger than memory can \
                 address (the file holds {file_bytes} bytes)"
            )
        };
        let cols = data_size(&shape[1..], 1).ok_or_else(too_large)?;
        let data_bytes = data_size(&shape, width)
            .and_then(|v| v.checked_add(header.len()))
            .ok_or_else(too_large)?;
        if data_bytes as u64 != file_bytes {
            return Err(format!(
                "{name}: shape {shape:?} needs {data_bytes} bytes in all, the file holds {file_bytes}"
            ));
        }
        Ok(Self {
            reader,
            name: name.to_string(),
            cols,
            width,
            big_endian: order == Endianness::Big,
            data_start: header.len() as u64,
            next_row: 0,
            buffer: Vec::new(),
            shape,
        })
    }

    /// Number of rows (spectra, cutouts).
    pub fn rows(&self) -> usize {
        self.shape[0]
    }

    /// Values per row (pixels of a spectrum, bands × height × width of a cutout).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Whether the values are stored as float64 (converted to f32 on reading).
    pub fn is_float64(&self) -> bool {
        self.width == 8
    }

    /// Makes `row` the next row to read (`row` ≤ [`NpyRows::rows`]).
    pub fn seek_row(&mut self, row: usize) -> Result<(), String> {
        if row > self.rows() {
            return Err(format!(
                "{}: row {row} is beyond the {} rows of the array",
                self.name,
                self.rows()
            ));
        }
        if row != self.next_row {
            // Within the file: checked against its length when it was opened.
            let offset = self.data_start + (row * self.cols * self.width) as u64;
            self.reader
                .seek(SeekFrom::Start(offset))
                .map_err(|e| format!("{}: cannot seek to row {row}: {e}", self.name))?;
            self.next_row = row;
        }
        Ok(())
    }

    /// Reads the next (at most) `max_rows` rows into `out` (replacing its content), converted
    /// to f32, and returns how many were read (0 at the end). Values are not checked: a
    /// float64 beyond the f32 range becomes infinite.
    pub fn read_values(&mut self, max_rows: usize, out: &mut Vec<f32>) -> Result<usize, String> {
        let count = max_rows.min(self.rows() - self.next_row);
        self.buffer.resize(count * self.cols * self.width, 0);
        self.reader
            .read_exact(&mut self.buffer)
            .map_err(|e| format!("{}: rows {}..: {e}", self.name, self.next_row))?;
        out.clear();
        let big = self.big_endian;
        if self.width == 4 {
            out.extend(self.buffer.chunks_exact(4).map(|b| {
                let b = b.try_into().expect("4");
                if big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                }
            }));
        } else {
            out.extend(self.buffer.chunks_exact(8).map(|b| {
                let b = b.try_into().expect("8");
                (if big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                }) as f32
            }));
        }
        self.next_row += count;
        Ok(count)
    }

    /// [`NpyRows::read_values`], where non-finite values are errors naming row and column.
    pub fn read_chunk(&mut self, max_rows: usize, out: &mut Vec<f32>) -> Result<usize, String> {
        let first_row = self.next_row;
        let count = self.read_values(max_rows, out)?;
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "{}: row {}, pixel {} is {} (values must be finite)",
                self.name,
                first_row + i / self.cols,
                i % self.cols,
                out[i]
            ));
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::{npy_bytes, write_npy};
    use std::io::Cursor;
    use std::path::PathBuf;

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
        let err = NpyRows::open(&path).err().expect("truncated");
        assert!(
            err.contains("zcnn-npyrows-bad") && err.contains("bytes"),
            "{err}"
        );
        std::fs::write(&path, npy_bytes(&[4], &[1.0; 4]).unwrap()).unwrap();
        assert!(NpyRows::open(&path)
            .err()
            .expect("1-D")
            .contains("[n, pixels]"));
        std::fs::write(&path, npy_bytes(&[1, 2], &[1.0, f32::NAN]).unwrap()).unwrap();
        let mut rows = NpyRows::open(&path).unwrap();
        let err = rows.read_chunk(8, &mut Vec::new()).expect_err("NaN");
        assert!(err.contains("row 0, pixel 1"), "{err}");
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

    fn from_bytes(bytes: &[u8], rank: usize) -> Result<NpyRows<Cursor<&[u8]>>, String> {
        NpyRows::from_reader(
            Cursor::new(bytes),
            bytes.len() as u64,
            "x.npy",
            rank,
            "[n, b, h, w]",
        )
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
            let mut rows = from_bytes(&bytes, 4).expect(descr);
            assert_eq!((rows.rows(), rows.cols()), (3, 8), "{descr}");
            assert_eq!(rows.shape(), [3, 2, 2, 2]);
            let mut out = Vec::new();
            assert_eq!(rows.read_values(5, &mut out).unwrap(), 3);
            assert_eq!(out, expected, "{descr}");
        }
    }

    #[test]
    fn seek_row_reads_rows_out_of_order() {
        let data: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let bytes = npy_bytes(&[4, 3], &data).unwrap();
        let mut rows = from_bytes(&bytes, 2).unwrap();
        let mut out = Vec::new();
        rows.seek_row(2).unwrap();
        assert_eq!(rows.read_values(1, &mut out).unwrap(), 1);
        assert_eq!(out, [6.0, 7.0, 8.0]);
        rows.seek_row(0).unwrap();
        assert_eq!(rows.read_values(2, &mut out).unwrap(), 2);
        assert_eq!(out, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let err = rows.seek_row(5).unwrap_err();
        assert!(err.contains("row 5 is beyond the 4 rows"), "{err}");
    }

    #[test]
    fn wrong_rank_overflowing_shapes_and_other_dtypes_are_refused() {
        let bytes = npy_bytes(&[2, 3], &[0.0; 6]).unwrap();
        let err = from_bytes(&bytes, 4).err().unwrap();
        assert_eq!(err, "x.npy: expected shape [n, b, h, w], found [2, 3]");
        let huge = handmade("<f4", "(1, 4294967296, 4294967296, 2)", &[]);
        let err = from_bytes(&huge, 4).err().unwrap();
        assert!(err.contains("larger than memory can address"), "{err}");
        let int = handmade("<i4", "(1, 1, 1, 1)", &[0; 4]);
        let err = from_bytes(&int, 4).err().unwrap();
        assert!(err.contains("'<i4'") && err.contains("'>f4'"), "{err}");
    }
}
