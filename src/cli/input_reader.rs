//! The inputs of `zcnn predict` and `zcnn evaluate`, read a chunk at a time and checked against
//! the checkpoint's input contract as they are read: spectra and cutouts from their NPY files
//! (memory bounded by the chunk), a photometric table whole (ten floats a galaxy); and the loop
//! that runs a model over them, chunk by chunk, in input order.

use super::catalog_data::{feature_count, table_features};
use super::checkpoint::Checkpoint;
use super::contract::{self, InputShape};
use super::image_data::ImageRows;
use super::pipeline;
use crate::io::npy_rows::NpyRows;
use crate::io::photometry::PhotometryTable;
use crate::model::Model;
use crate::train::predict;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Samples per forward pass: spectra and photometry are small, cutouts are not.
const BATCH_1D: usize = 256;
const BATCH_IMAGES: usize = 64;

/// An open input, read by ranges of rows.
pub enum InputReader {
    /// The spectra, what the contract checks of each chunk (its scales; the size and grid
    /// were checked at opening), and scratch bytes for the reads.
    Spectra {
        rows: NpyRows,
        inputs: contract::Inputs<'static>,
        bytes: Vec<u8>,
    },
    Images {
        rows: Arc<ImageRows>,
        /// The E(B−V) of every cutout, for a model that takes it.
        ebv: Option<Vec<f32>>,
        /// The brightest pixel of each cutout of the last chunk (checked by the contract).
        peaks: Vec<f32>,
    },
    /// A photometric table, read whole.
    Catalog {
        path: PathBuf,
        bands: usize,
        /// `[n, features]`.
        features: Vec<f32>,
    },
}

impl InputReader {
    /// Opens the spectra `path` and checks their size and grid (`wavelengths`, default the
    /// `wavelengths.npy` beside them) against `ckpt`'s contract; `normalisation` is the one a
    /// dataset folder records, when it does.
    pub fn spectra(
        ckpt: &Checkpoint,
        path: &Path,
        wavelengths: Option<&Path>,
        normalisation: Option<crate::data::spectra::Normalisation>,
    ) -> Result<Self, String> {
        let rows = NpyRows::open_any(path)?;
        if rows.shape().len() != 2 {
            let hint = if rows.shape().len() == 4 {
                " (cutouts [n, bands, height, width] go with --images)"
            } else {
                ""
            };
            return Err(format!(
                "{}: expected spectra of shape [n, pixels], found {:?}{hint}",
                path.display(),
                rows.shape()
            ));
        }
        // The size and the grid are checked once, the scales chunk by chunk.
        let mut inputs: contract::Inputs<'static> =
            contract::spectra_inputs(path, wavelengths, rows.cols(), &[], normalisation)?;
        ckpt.check_inputs(&inputs)?;
        inputs.wavelengths = None;
        Ok(InputReader::Spectra {
            rows,
            inputs,
            bytes: Vec::new(),
        })
    }

    /// Reads the cutouts `rows`, with the E(B−V) of each when known.
    pub fn images(rows: Arc<ImageRows>, ebv: Option<Vec<f32>>) -> Self {
        InputReader::Images {
            rows,
            ebv,
            peaks: Vec::new(),
        }
    }

    /// The features of a photometric table read from `path` (`reference`: the band whose
    /// magnitude sets the colours' zero point).
    pub fn catalog(path: &Path, table: &PhotometryTable, reference: &str) -> Result<Self, String> {
        let (_, features) = table_features(table, reference)?;
        Ok(InputReader::Catalog {
            path: path.to_path_buf(),
            bands: table.bands.len(),
            features,
        })
    }

    /// The number of inputs, their shape and their file.
    pub fn describe(&self) -> (usize, InputShape, PathBuf) {
        match self {
            InputReader::Spectra { rows, .. } => (
                rows.rows(),
                InputShape::Spectra {
                    pixels: rows.cols(),
                },
                rows.path().to_path_buf(),
            ),
            InputReader::Images { rows, .. } => {
                (rows.count(), rows.shape(), rows.path().to_path_buf())
            }
            InputReader::Catalog {
                path,
                bands,
                features,
            } => (
                features.len() / feature_count(*bands),
                InputShape::Photometry { bands: *bands },
                path.clone(),
            ),
        }
    }

    /// Reads the inputs `range` into `x` and their extra inputs (`n_extra` each) into
    /// `extra`, checked against `ckpt`'s contract.
    fn read(
        &mut self,
        ckpt: &Checkpoint,
        range: Range<usize>,
        x: &mut Vec<f32>,
        extra: &mut Vec<f32>,
        n_extra: usize,
    ) -> Result<(), String> {
        extra.clear();
        match self {
            InputReader::Spectra {
                rows,
                inputs,
                bytes,
            } => {
                x.resize(range.len() * rows.cols(), 0.0);
                rows.read_rows_at(range.start, bytes, x)?;
                ckpt.check_scales(&contract::Inputs {
                    flux: x,
                    first: range.start,
                    ..inputs.clone()
                })
            }
            InputReader::Images { rows, ebv, peaks } => {
                x.clear();
                peaks.clear();
                rows.read_range(range.start, range.len(), x, peaks)?;
                ckpt.check_images(rows.path(), &rows.shape(), peaks, range.start)?;
                if n_extra == 1 {
                    let ebv = ebv.as_ref().ok_or_else(|| {
                        format!(
                            "the model takes each cutout's E(B−V): give labels with an 'ebv' \
                             column for {}",
                            rows.path().display()
                        )
                    })?;
                    extra.extend_from_slice(&ebv[range]);
                }
                Ok(())
            }
            InputReader::Catalog {
                bands, features, ..
            } => {
                let width = feature_count(*bands);
                x.clear();
                x.extend_from_slice(&features[range.start * width..range.end * width]);
                Ok(())
            }
        }
    }

    /// Samples per forward pass.
    fn batch(&self) -> usize {
        match self {
            InputReader::Images { .. } => BATCH_IMAGES,
            _ => BATCH_1D,
        }
    }
}

/// Runs `model` (the checkpoint's) over the inputs `range` of `reader`, `chunk` at a time, in
/// order, with a progress bar, and hands each chunk to `each`: the index of its first input,
/// its point estimates and, for a classifier, its PDFs `[n, bins]`. Returns how many inputs
/// ran: fewer than `range.len()` when `stop` (Ctrl-C) was set before they ran out.
pub fn run_chunks(
    reader: &mut InputReader,
    ckpt: &Checkpoint,
    model: &mut Model,
    range: Range<usize>,
    chunk: usize,
    stop: &AtomicBool,
    mut each: impl FnMut(usize, &[f64], Option<&[f32]>) -> Result<(), String>,
) -> Result<usize, String> {
    if chunk == 0 {
        return Err("--chunk-size must be at least 1".into());
    }
    let bar = indicatif::ProgressBar::new(range.len() as u64);
    let (mut x, mut extra) = (Vec::new(), Vec::new());
    for first in range.clone().step_by(chunk) {
        if stop.load(Ordering::SeqCst) {
            bar.abandon();
            return Ok(first - range.start);
        }
        let inputs = first..(first + chunk).min(range.end);
        let count = inputs.len();
        reader.read(ckpt, inputs, &mut x, &mut extra, model.n_extra())?;
        let mut outputs = predict(model, &x, &extra, reader.batch()).map_err(|e| e.to_string())?;
        let (z, pdfs) = pipeline::redshifts(&ckpt.config.model, &outputs.swap_remove(0))?;
        each(first, &z, pdfs.as_deref())?;
        bar.inc(count as u64);
    }
    bar.finish_and_clear();
    Ok(range.len())
}
