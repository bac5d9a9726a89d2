//! A dataset folder of either kind, behind one interface for `train`, `evaluate` and `run`:
//! spectra (`spectra.npy`, read into memory) or image cutouts (`images.npy`, streamed from
//! disk, see [`ImageFolder`]), each with its `labels.csv`.

use super::checkpoint::Checkpoint;
use super::config::ModelConfig;
use super::contract::{self, InputContract, InputShape};
use super::files::{self, DatasetFiles};
use super::image_data::{ImageFolder, IMAGES};
use super::pipeline;
use crate::model::Model;
use crate::train::{predict, Dataset, Inputs};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Cutouts sampled (evenly) to measure the range of pixel scales of a training set.
const CONTRACT_SAMPLE: usize = 10_000;
/// Cutouts read and run through the model at a time when predicting.
const PREDICT_CHUNK: usize = 256;

/// A dataset folder, opened.
pub enum DataFolder {
    Spectra { dir: PathBuf, set: DatasetFiles },
    Images(ImageFolder),
}

/// The files a dataset folder's kind is read from: `images.npy` when the folder has one.
pub fn input_files(dir: &Path) -> [&'static str; 2] {
    if dir.join(IMAGES).is_file() {
        [IMAGES, files::LABELS]
    } else {
        [files::SPECTRA, files::LABELS]
    }
}

impl DataFolder {
    /// Opens `dir`: images when it holds `images.npy`, spectra otherwise.
    pub fn open(dir: &Path) -> Result<Self, String> {
        if dir.join(IMAGES).is_file() {
            return Ok(DataFolder::Images(ImageFolder::open(dir)?));
        }
        Ok(DataFolder::Spectra {
            dir: dir.to_path_buf(),
            set: files::read_dataset(dir)?,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.z().len()
    }

    /// True redshifts.
    pub fn z(&self) -> &[f32] {
        match self {
            DataFolder::Spectra { set, .. } => &set.z,
            DataFolder::Images(folder) => &folder.z,
        }
    }

    /// One input's shape.
    pub fn shape(&self) -> InputShape {
        match self {
            DataFolder::Spectra { set, .. } => InputShape::Spectra { pixels: set.pixels },
            DataFolder::Images(folder) => folder.rows.shape(),
        }
    }

    /// "spectra" or "cutouts", for messages.
    pub fn noun(&self) -> &'static str {
        match self {
            DataFolder::Spectra { .. } => "spectra",
            DataFolder::Images(_) => "cutouts",
        }
    }

    /// The input contract of a model trained on the samples `train` of this folder.
    pub fn training_contract(&self, train: Range<usize>) -> Result<InputContract, String> {
        match self {
            DataFolder::Spectra { dir, set } => Ok(InputContract::of_training(
                &contract::dataset_inputs(dir, set)?,
            )),
            DataFolder::Images(folder) => {
                let step = train.len().div_ceil(CONTRACT_SAMPLE).max(1);
                let (mut pixels, mut peaks) = (Vec::new(), Vec::new());
                for i in train.step_by(step) {
                    pixels.clear();
                    folder.rows.read_range(i, 1, &mut pixels, &mut peaks)?;
                }
                Ok(InputContract::of_images(folder.rows.shape(), &peaks))
            }
        }
    }

    /// Checks that the checkpoint's model takes these inputs (shape, grid; for spectra the
    /// scales too: those of cutouts are checked as they are read, by [`Self::outputs`]).
    pub fn check(&self, ckpt: &Checkpoint) -> Result<(), String> {
        match self {
            DataFolder::Spectra { dir, set } => {
                ckpt.check_inputs(&contract::dataset_inputs(dir, set)?)
            }
            DataFolder::Images(folder) => {
                ckpt.check_images(folder.rows.path(), &folder.rows.shape(), &[], 0)
            }
        }
    }

    /// The training or test samples `range` with targets for model `m` (whose network takes
    /// `n_extra` extra inputs).
    pub fn dataset(
        &self,
        m: &ModelConfig,
        n_extra: usize,
        range: Range<usize>,
    ) -> Result<Dataset, String> {
        match self {
            DataFolder::Spectra { set, .. } => {
                let pixels = set.pixels;
                let flux = set.flux[range.start * pixels..range.end * pixels].to_vec();
                pipeline::dataset(m, flux, pixels, &set.z[range])
            }
            DataFolder::Images(folder) => {
                let data = Dataset {
                    sample: folder.rows.dims(),
                    inputs: Inputs::Source {
                        source: folder.rows.clone(),
                        rows: range.clone().collect(),
                    },
                    n_extra,
                    extra: folder.extra(n_extra, range.clone())?,
                    targets: vec![pipeline::targets(m, &folder.z[range])?],
                };
                data.validate().map_err(|e| e.to_string())?;
                Ok(data)
            }
        }
    }

    /// The outputs of `model` (evaluation mode) for the samples `range`; cutouts are read a
    /// chunk at a time, each chunk's pixel scales checked against `ckpt`'s contract if given.
    pub fn outputs(
        &self,
        model: &mut Model,
        range: Range<usize>,
        ckpt: Option<&Checkpoint>,
    ) -> Result<Vec<f32>, String> {
        let mut out = match self {
            DataFolder::Spectra { set, .. } => {
                let flux = &set.flux[range.start * set.pixels..range.end * set.pixels];
                predict(model, flux, &[], 256).map_err(|e| e.to_string())?
            }
            DataFolder::Images(folder) => {
                let mut all = vec![Vec::new()];
                let (mut pixels, mut peaks) = (Vec::new(), Vec::new());
                for first in range.clone().step_by(PREDICT_CHUNK) {
                    let count = PREDICT_CHUNK.min(range.end - first);
                    pixels.clear();
                    peaks.clear();
                    folder
                        .rows
                        .read_range(first, count, &mut pixels, &mut peaks)?;
                    if let Some(ckpt) = ckpt {
                        let shape = folder.rows.shape();
                        ckpt.check_images(folder.rows.path(), &shape, &peaks, first)?;
                    }
                    let extra = folder.extra(model.n_extra(), first..first + count)?;
                    let chunk = predict(model, &pixels, &extra, 64).map_err(|e| e.to_string())?;
                    all[0].extend_from_slice(&chunk[0]);
                }
                all
            }
        };
        Ok(out.swap_remove(0))
    }
}
