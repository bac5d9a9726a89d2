//! PDFs as a qp ensemble in HDF5 (LSST DESC qp, `hist` parametrisation), the file RAIL stages
//! exchange and `qp.read("x.hdf5")` loads:
//!
//! ```text
//! /meta/pdf_name     |S4   (1,)        b"hist"
//! /meta/pdf_version  int64 (1,)        0
//! /meta/bins         f64   (1, K + 1)  bin edges (2-D: qp squeezes it, a 1-D array collapses)
//! /data/pdfs         f32   (n, K)      one row per object
//! /ancil/<name>      (n,)              id, zmode, zmean, zmedian, z_std, p_max, zconf, zwarn,
//!                                      distribution_type (1 = posterior), redshift if known
//! ```
//!
//! (qp's "create a qp file from scratch with h5py" recipe and `qp.factory.read`.) Provenance
//! goes into attributes of the root group, which qp ignores. Datasets are created at their
//! final size and filled chunk by chunk, as RAIL's `initializeHdf5Write`/`writeHdf5Chunk` do;
//! `meta` is written last, and the file appears under its name only when complete.

use super::atomic::StagedPath;
use hdf5::types::{FixedAscii, VarLenUnicode};
use ndarray::ArrayView2;
use std::path::Path;

/// Widest text id stored (fixed-length byte strings, as qp requires).
pub const MAX_ID_BYTES: usize = 64;

/// The ancillary values of a chunk of objects, one entry per object.
pub struct AncilChunk<'a> {
    pub ids: &'a [String],
    pub zmode: &'a [f64],
    pub zmean: &'a [f64],
    pub zmedian: &'a [f64],
    pub z_std: &'a [f64],
    pub p_max: &'a [f64],
    pub zconf: &'a [f64],
    pub zwarn: &'a [u32],
    pub redshift: Option<&'a [f64]>,
}

/// A qp `hist` ensemble being written.
pub struct QpHistWriter {
    file: Option<hdf5::File>,
    staged: StagedPath,
    edges: Vec<f64>,
    n: usize,
    bins: usize,
    numeric_ids: bool,
    with_redshift: bool,
    written: usize,
}

const FLOAT_ANCIL: [&str; 6] = ["zmode", "zmean", "zmedian", "z_std", "p_max", "zconf"];

impl QpHistWriter {
    /// Creates the file for `n` objects over the bins with `edges` (under a temporary name
    /// until the commit of what [`QpHistWriter::finish`] returns). Ids are stored as int64 when `numeric_ids`, else as
    /// `|S64`.
    pub fn create(
        path: &Path,
        edges: &[f64],
        n: usize,
        numeric_ids: bool,
        with_redshift: bool,
        provenance: &[(&str, String)],
    ) -> Result<Self, String> {
        let staged = StagedPath::new(path);
        let err = |e: hdf5::Error| format!("{}: {e}", staged.path().display());
        let file = hdf5::File::create(staged.temporary()).map_err(err)?;
        let bins = edges.len() - 1;
        file.new_dataset::<f32>()
            .shape((n, bins))
            .create("data/pdfs")
            .map_err(err)?;
        let ancil = |name: &str| format!("ancil/{name}");
        if numeric_ids {
            file.new_dataset::<i64>()
                .shape(n)
                .create(ancil("id").as_str())
        } else {
            file.new_dataset::<FixedAscii<MAX_ID_BYTES>>()
                .shape(n)
                .create(ancil("id").as_str())
        }
        .map_err(err)?;
        for name in FLOAT_ANCIL
            .iter()
            .chain(with_redshift.then_some(&"redshift"))
        {
            file.new_dataset::<f64>()
                .shape(n)
                .create(ancil(name).as_str())
                .map_err(err)?;
        }
        for name in ["zwarn", "distribution_type"] {
            file.new_dataset::<i64>()
                .shape(n)
                .create(ancil(name).as_str())
                .map_err(err)?;
        }
        for (name, value) in provenance {
            let value: VarLenUnicode = value
                .parse()
                .map_err(|e| format!("{}: attribute {name}: {e}", staged.path().display()))?;
            file.new_attr::<VarLenUnicode>()
                .create(*name)
                .and_then(|a| a.write_scalar(&value))
                .map_err(err)?;
        }
        Ok(Self {
            file: Some(file),
            staged,
            edges: edges.to_vec(),
            n,
            bins,
            numeric_ids,
            with_redshift,
            written: 0,
        })
    }

    /// Writes the next chunk of objects: `pdfs` is `[rows, K]`, `ancil` has `rows` entries.
    pub fn write_chunk(&mut self, pdfs: &[f32], ancil: &AncilChunk) -> Result<(), String> {
        let rows = ancil.ids.len();
        let start = self.written;
        let end = start + rows;
        let path = self.staged.path().display().to_string();
        if end > self.n
            || pdfs.len() != rows * self.bins
            || ancil.redshift.is_some() != self.with_redshift
        {
            return Err(format!(
                "{path}: chunk of {rows} rows at row {start} does not fit {} rows of {} bins",
                self.n, self.bins
            ));
        }
        let file = self.file.as_ref().expect("open until finish");
        let err = |e: hdf5::Error| format!("{path}: rows {start}..{end}: {e}");
        let view =
            ArrayView2::from_shape((rows, self.bins), pdfs).map_err(|e| format!("{path}: {e}"))?;
        file.dataset("data/pdfs")
            .and_then(|d| d.write_slice(view, (start..end, ..)))
            .map_err(err)?;
        let column = |name: &str| file.dataset(&format!("ancil/{name}"));
        if self.numeric_ids {
            let ids: Vec<i64> = ancil
                .ids
                .iter()
                .map(|id| {
                    id.parse()
                        .map_err(|_| format!("{path}: id '{id}' is not an integer"))
                })
                .collect::<Result<_, _>>()?;
            column("id")
                .and_then(|d| d.write_slice(&ids, start..end))
                .map_err(err)?;
        } else {
            let ids: Vec<FixedAscii<MAX_ID_BYTES>> = ancil
                .ids
                .iter()
                .map(|id| {
                    FixedAscii::from_ascii(id).map_err(|e| {
                        format!("{path}: id '{id}': {e} (ASCII, ≤ {MAX_ID_BYTES} bytes)")
                    })
                })
                .collect::<Result<_, _>>()?;
            column("id")
                .and_then(|d| d.write_slice(&ids, start..end))
                .map_err(err)?;
        }
        let floats = [
            ancil.zmode,
            ancil.zmean,
            ancil.zmedian,
            ancil.z_std,
            ancil.p_max,
            ancil.zconf,
        ];
        for (name, values) in FLOAT_ANCIL
            .iter()
            .zip(floats)
            .chain(ancil.redshift.map(|z| (&"redshift", z)))
        {
            column(name)
                .and_then(|d| d.write_slice(values, start..end))
                .map_err(err)?;
        }
        let zwarn: Vec<i64> = ancil.zwarn.iter().map(|&w| w as i64).collect();
        column("zwarn")
            .and_then(|d| d.write_slice(&zwarn, start..end))
            .map_err(err)?;
        // distribution_type 1: a posterior (rail.core.enums.DistributionType).
        let posterior = vec![1i64; rows];
        column("distribution_type")
            .and_then(|d| d.write_slice(&posterior, start..end))
            .map_err(err)?;
        self.written = end;
        Ok(())
    }

    /// Writes `meta` and closes the file, still under its temporary name: the caller moves it
    /// into place with [`StagedPath::commit`]. Every row must be written.
    pub fn finish(mut self) -> Result<StagedPath, String> {
        let path = self.staged.path().display().to_string();
        if self.written != self.n {
            return Err(format!(
                "{path}: {} of {} rows written",
                self.written, self.n
            ));
        }
        let file = self.file.take().expect("open until finish");
        let err = |e: hdf5::Error| format!("{path}: meta: {e}");
        let name = FixedAscii::<4>::from_ascii("hist").map_err(|e| format!("{path}: {e}"))?;
        file.new_dataset_builder()
            .with_data(&[name])
            .create("meta/pdf_name")
            .map_err(err)?;
        file.new_dataset_builder()
            .with_data(&[0i64])
            .create("meta/pdf_version")
            .map_err(err)?;
        let bins = ArrayView2::from_shape((1, self.edges.len()), &self.edges[..])
            .map_err(|e| format!("{path}: {e}"))?;
        file.new_dataset_builder()
            .with_data(bins)
            .create("meta/bins")
            .map_err(err)?;
        file.flush().map_err(err)?;
        drop(file);
        Ok(self.staged)
    }
}
