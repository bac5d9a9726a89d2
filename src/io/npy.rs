//! NumPy `.npy` arrays: inputs, targets and predictions exchanged with Python.
//!
//! Reading accepts `float32` or `float64` (converted to `f32`), little-endian, C order; it
//! rejects Fortran order, big-endian or other dtypes, truncated or over-long data, and
//! (unless allowed) NaN or infinite values, with a message naming the file, the expected and
//! the found. Writing produces `float32`, little-endian, C order, atomically.

use crate::dims::unravel_index;
use crate::io::atomic::write_atomic;
use crate::{Error, Result};
use npyz::{DType, Endianness, NpyFile, Order, TypeChar, WriterBuilder};
use std::path::Path;

/// An array read from an NPY file: its shape and its values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// What [`read_npy`] checks besides the format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NpyExpect {
    /// The expected shape: its length is the rank, `None` leaves an axis free (e.g.
    /// `[None, Some(1780), Some(1)]` for any number of spectra of 1780 pixels).
    pub shape: Option<Vec<Option<usize>>>,
    /// Accept NaN and infinite values (e.g. masked pixels handled downstream).
    pub allow_non_finite: bool,
}

/// Reads an NPY file of `float32` or `float64` values into `f32`, checked against `expect`.
pub fn read_npy(path: &Path, expect: &NpyExpect) -> Result<NpyArray> {
    let bytes =
        std::fs::read(path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
    parse_npy(&bytes, expect).map_err(|e| Error(format!("{}: {e}", path.display())))
}

/// [`read_npy`] on the bytes of a file (messages without the file name).
pub fn parse_npy(bytes: &[u8], expect: &NpyExpect) -> Result<NpyArray> {
    check_flat_header(bytes)?;
    let file = NpyFile::new(bytes).map_err(|e| Error(format!("not a valid NPY file: {e}")))?;
    let header = file.header().clone();
    let width = float_width(&header.dtype())?;
    if header.order() == Order::Fortran {
        return Err(Error(
            "the array is in Fortran order; expected C order (np.ascontiguousarray)".into(),
        ));
    }
    let shape = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<Vec<usize>, _>>()
        .map_err(|_| Error(format!("shape {:?} does not fit in memory", header.shape())))?;
    if let Some(want) = &expect.shape {
        check_shape(want, &shape)?;
    }
    let data_bytes = file.into_inner();
    let needed = data_size(&shape, width).ok_or_else(|| {
        Error(format!(
            "shape {shape:?} of {width}-byte values is larger than memory can address \
             (the file holds {} bytes of data)",
            data_bytes.len()
        ))
    })?;
    if data_bytes.len() != needed {
        let what = if data_bytes.len() < needed {
            "truncated"
        } else {
            "too long"
        };
        return Err(Error(format!(
            "{what}: shape {shape:?} needs {needed} bytes of data, the file holds {}",
            data_bytes.len()
        )));
    }
    let data: Vec<f32> = if width == 4 {
        data_bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        data_bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8")) as f32)
            .collect()
    };
    if !expect.allow_non_finite {
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error(format!(
                "value at index {:?} is {} (non-finite values are not allowed here)",
                unravel_index(i, &shape),
                data[i]
            )));
        }
    }
    Ok(NpyArray { shape, data })
}

/// Bytes of data a C-order array of `shape` holds, `None` when the product overflows `usize`
/// (a header may claim any shape; the data must then be checked against the file's length).
pub fn data_size(shape: &[usize], width: usize) -> Option<usize> {
    shape
        .iter()
        .try_fold(width, |bytes, &d| bytes.checked_mul(d))
}

/// Refuses header dictionaries that nest brackets before `npyz` parses them: its parser
/// backtracks exponentially on nested `{` (fuzz/npy found a 64-byte header that took minutes).
/// The arrays read here have a flat header, `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (n, m), }`: one `{`, one `(`, no `[` (which only structured dtypes use).
pub(crate) fn check_flat_header(bytes: &[u8]) -> Result<()> {
    // Magic (6 bytes), version (2), header length: u16 in version 1, u32 from version 2 on.
    let (length_bytes, start) = match bytes.get(6) {
        Some(1) => (2, 10),
        Some(_) => (4, 12),
        None => return Ok(()), // too short: npyz names the problem
    };
    let Some(length) = bytes.get(8..8 + length_bytes) else {
        return Ok(());
    };
    let length = length
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let header = &bytes[start.min(bytes.len())..(start + length).min(bytes.len())];
    let count = |c: u8| header.iter().filter(|&&b| b == c).count();
    if count(b'{') > 1 || count(b'(') > 1 || count(b'[') > 0 {
        return Err(Error(
            "not a valid NPY file: the header dictionary nests brackets; expected a flat \
             {'descr': ..., 'fortran_order': ..., 'shape': (...)} of a plain float dtype"
                .into(),
        ));
    }
    Ok(())
}

/// Bytes per value of a little-endian `float32` or `float64` dtype; an error otherwise.
pub(crate) fn float_width(dtype: &DType) -> Result<usize> {
    match float_type(dtype) {
        Ok((width, Endianness::Little)) => Ok(width),
        _ => Err(Error(format!(
            "dtype '{}': expected little-endian float32 ('<f4') or float64 ('<f8')",
            dtype.descr()
        ))),
    }
}

/// Bytes per value and byte order of a `float32` or `float64` dtype of either byte order
/// (`'<f4'`, `'>f4'`, `'<f8'`, `'>f8'`); an error otherwise.
pub(crate) fn float_type(dtype: &DType) -> Result<(usize, Endianness)> {
    let wrong = || {
        Error(format!(
            "dtype '{}': expected float32 or float64 ('<f4', '>f4', '<f8' or '>f8')",
            dtype.descr()
        ))
    };
    let DType::Plain(ts) = dtype else {
        return Err(wrong());
    };
    let width = ts.size_field() as usize;
    let ordered = matches!(ts.endianness(), Endianness::Little | Endianness::Big);
    if ts.type_char() != TypeChar::Float || !(width == 4 || width == 8) || !ordered {
        return Err(wrong());
    }
    Ok((width, ts.endianness()))
}

fn check_shape(want: &[Option<usize>], found: &[usize]) -> Result<()> {
    let matches = want.len() == found.len()
        && want
            .iter()
            .zip(found)
            .all(|(w, &f)| w.is_none_or(|w| w == f));
    if matches {
        return Ok(());
    }
    let spelled: Vec<String> = want
        .iter()
        .map(|w| w.map_or("any".to_string(), |n| n.to_string()))
        .collect();
    Err(Error(format!(
        "expected shape [{}], found {found:?}",
        spelled.join(", ")
    )))
}

/// The bytes of a `float32` NPY file of `shape` (C order, little-endian).
pub fn npy_bytes(shape: &[usize], data: &[f32]) -> Result<Vec<u8>> {
    let count: usize = shape.iter().product();
    crate::ensure!(
        count == data.len(),
        "shape {shape:?} holds {count} values, the data {}",
        data.len()
    );
    let shape64: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut bytes = Vec::with_capacity(128 + 4 * data.len());
    let mut writer = npyz::WriteOptions::new()
        .dtype(DType::Plain("<f4".parse().expect("a valid type string")))
        .shape(&shape64)
        .writer(&mut bytes)
        .begin_nd()
        .map_err(|e| Error(format!("cannot encode NPY: {e}")))?;
    writer
        .extend(data.iter().copied())
        .and_then(|()| writer.finish())
        .map_err(|e| Error(format!("cannot encode NPY: {e}")))?;
    Ok(bytes)
}

/// Writes a `float32` NPY file atomically (see [`write_atomic`]).
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    let bytes = npy_bytes(shape, data).map_err(|e| Error(format!("{}: {e}", path.display())))?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An NPY (version 1.0) file with a hand-written header dictionary.
    fn handmade(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.to_string();
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

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn err(bytes: &[u8], expect: &NpyExpect) -> String {
        parse_npy(bytes, expect).expect_err("must be rejected").0
    }

    #[test]
    fn round_trip_f32() {
        let data: Vec<f32> = (0..24).map(|v| v as f32 * 0.5 - 3.0).collect();
        let bytes = npy_bytes(&[2, 3, 4], &data).expect("encode");
        let expect = NpyExpect {
            shape: Some(vec![None, Some(3), Some(4)]),
            ..NpyExpect::default()
        };
        let a = parse_npy(&bytes, &expect).expect("decode");
        assert_eq!(a.shape, vec![2, 3, 4]);
        assert_eq!(a.data, data);
    }

    #[test]
    fn reads_float64() {
        let values = [1.5f64, -2.25, 1e-3];
        let data: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        let bytes = handmade(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
            &data,
        );
        let a = parse_npy(&bytes, &NpyExpect::default()).expect("decode");
        assert_eq!(a.data, vec![1.5, -2.25, 1e-3f64 as f32]);
    }

    #[test]
    fn rejects_other_dtypes_and_big_endian() {
        let int = handmade(
            "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
            &[0; 8],
        );
        let e = err(&int, &NpyExpect::default());
        assert!(e.contains("'<i4'") && e.contains("float32"), "{e}");
        let big = handmade(
            "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
            &[0; 8],
        );
        let e = err(&big, &NpyExpect::default());
        assert!(e.contains("'>f4'") && e.contains("little-endian"), "{e}");
        let half = handmade(
            "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }",
            &[0; 4],
        );
        assert!(err(&half, &NpyExpect::default()).contains("'<f2'"));
    }

    #[test]
    fn nested_header_brackets_are_refused_quickly() {
        // fuzz/npy: 26 nested '{' made npyz's header parser backtrack for minutes.
        let nested = format!("{{'descr': {} None", "{".repeat(26));
        let e = err(&handmade(&nested, &[]), &NpyExpect::default());
        assert!(e.contains("nests brackets"), "{e}");
        let structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }";
        let e = err(&handmade(structured, &[0; 4]), &NpyExpect::default());
        assert!(e.contains("nests brackets"), "{e}");
    }

    #[test]
    fn rejects_fortran_order() {
        let bytes = handmade(
            "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
            &f32_bytes(&[1.0; 4]),
        );
        assert!(err(&bytes, &NpyExpect::default()).contains("Fortran order"));
    }

    #[test]
    fn rejects_wrong_shape_and_rank() {
        let bytes = npy_bytes(&[2, 5], &[0.0; 10]).expect("encode");
        let e = err(
            &bytes,
            &NpyExpect {
                shape: Some(vec![None, Some(4)]),
                ..NpyExpect::default()
            },
        );
        assert!(e.contains("expected shape [any, 4], found [2, 5]"), "{e}");
        let e = err(
            &bytes,
            &NpyExpect {
                shape: Some(vec![None, Some(5), Some(1)]),
                ..NpyExpect::default()
            },
        );
        assert!(e.contains("[any, 5, 1]"), "{e}");
    }

    #[test]
    fn rejects_truncated_and_over_long_data() {
        let bytes = npy_bytes(&[3, 4], &[1.0; 12]).expect("encode");
        let e = err(&bytes[..bytes.len() - 5], &NpyExpect::default());
        assert!(e.contains("truncated") && e.contains("48 bytes"), "{e}");
        let mut long = bytes.clone();
        long.extend([0, 0, 0, 0]);
        assert!(err(&long, &NpyExpect::default()).contains("too long"));
        let e = err(&bytes[..20], &NpyExpect::default());
        assert!(e.contains("not a valid NPY file"), "{e}");
    }

    #[test]
    fn a_shape_whose_size_overflows_is_an_error() {
        // issue 10: 2^32 × 2^32 values wrapped to 0 bytes and were accepted with no data.
        let bytes = handmade(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
            &[],
        );
        let e = err(&bytes, &NpyExpect::default());
        assert!(e.contains("larger than memory can address"), "{e}");
        assert_eq!(data_size(&[1 << 32, 1 << 32], 4), None);
        assert_eq!(data_size(&[3, 5], 8), Some(120));
        assert_eq!(data_size(&[], 4), Some(4));
    }

    #[test]
    fn non_finite_values_are_rejected_unless_allowed() {
        let mut data = vec![0.0f32; 6];
        data[4] = f32::NAN;
        let bytes = npy_bytes(&[2, 3], &data).expect("encode");
        let e = err(&bytes, &NpyExpect::default());
        assert!(e.contains("[1, 1]") && e.contains("NaN"), "{e}");
        let allowed = NpyExpect {
            allow_non_finite: true,
            ..NpyExpect::default()
        };
        assert!(parse_npy(&bytes, &allowed).expect("allowed").data[4].is_nan());
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("zcnn-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let path = dir.join("inputs.npy");
        write_npy(&path, &[2, 2], &[1.0, 2.0, 3.0, 4.0]).expect("write");
        let e = read_npy(
            &path,
            &NpyExpect {
                shape: Some(vec![Some(3), None]),
                ..NpyExpect::default()
            },
        )
        .expect_err("shape");
        assert!(e.0.starts_with(&path.display().to_string()), "{e}");
        let a = read_npy(&path, &NpyExpect::default()).expect("read");
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0]);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
