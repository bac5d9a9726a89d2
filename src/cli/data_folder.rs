//! A dataset folder of any kind, behind one interface for `train`, `evaluate` and `run`:
//! spectra (`spectra.npy`, read into memory), image cutouts (`images.npy`, streamed from
//! disk, see [`ImageFolder`]), each with its `labels.csv`; or, for the catalogue estimator,
//! the photometric table that `[catalog]` names (magnitudes and errors, read into memory).

use super::catalog_data::{feature_count, table_features};
use super::checkpoint::Checkpoint;
use super::config::{CatalogConfig, ModelConfig, RunConfig};
use super::contract::{self, InputContract, InputShape};
use super::files::{self, DatasetFiles};
use super::image_data::{ImageFolder, IMAGES};
use super::pipeline;
use crate::dims::Dims;
use crate::io::photometry::{read_photometry, PhotometryColumns, PhotometryTable};
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
    Spectra {
        dir: PathBuf,
        set: DatasetFiles,
    },
    Images(ImageFolder),
    Catalog {
        /// The table's path.
        table: PathBuf,
        bands: usize,
        /// `[n, features]` (see `catalog_data`).
        features: Vec<f32>,
        z: Vec<f32>,
    },
}

/// What a dataset folder holds for a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderKind {
    Spectra,
    Images,
    /// The photometric table of the catalogue estimator.
    Catalog,
}

/// What `dir` is read as for `config`: the `[catalog]` table for the catalogue estimator;
/// else images when it holds `images.npy`, spectra otherwise.
pub fn folder_kind(dir: &Path, config: &RunConfig) -> FolderKind {
    if config.model.preset == "photoz-catalog" {
        FolderKind::Catalog
    } else if dir.join(IMAGES).is_file() {
        FolderKind::Images
    } else {
        FolderKind::Spectra
    }
}

/// The files a dataset folder is read from for `config` (see [`folder_kind`]): the
/// `[catalog]` table, or `images.npy` or `spectra.npy` and `labels.csv`.
pub fn input_files<'a>(dir: &Path, config: &'a RunConfig) -> Vec<&'a str> {
    match folder_kind(dir, config) {
        FolderKind::Catalog => vec![&config.catalog.table],
        FolderKind::Images => vec![IMAGES, files::LABELS],
        FolderKind::Spectra => vec![files::SPECTRA, files::LABELS],
    }
}

/// The redshifts of a photometric table read with its `[catalog]` redshift column.
pub fn catalog_redshifts(
    table: &PhotometryTable,
    path: &Path,
    c: &CatalogConfig,
) -> Result<Vec<f32>, String> {
    let z = table
        .z
        .as_ref()
        .ok_or_else(|| format!("{}: no column '{}'", path.display(), c.z))?;
    Ok(z.iter().map(|&v| v as f32).collect())
}

/// Reads the photometric table at `path` with the columns of `[catalog]`; its redshift column
/// too when `with_z` (training and evaluation).
pub fn read_catalog(
    path: &Path,
    c: &CatalogConfig,
    with_z: bool,
) -> Result<PhotometryTable, String> {
    let columns = PhotometryColumns {
        bands: c.bands.clone(),
        magnitude: c.magnitude.clone(),
        error: c.error.clone(),
        id: c.id.clone(),
        z: with_z.then(|| c.z.clone()),
        hdu: c.hdu.clone(),
    };
    read_photometry(path, &columns)
}

impl DataFolder {
    /// Opens `dir` for `config`: the `[catalog]` table for the catalogue estimator; else images
    /// when it holds `images.npy`, spectra otherwise.
    pub fn open(dir: &Path, config: &RunConfig) -> Result<Self, String> {
        match folder_kind(dir, config) {
            FolderKind::Catalog => {
                let c = &config.catalog;
                let path = dir.join(&c.table);
                let table = read_catalog(&path, c, true)?;
                let (_, features) = table_features(&table, &c.reference)?;
                let z = catalog_redshifts(&table, &path, c)?;
                Ok(DataFolder::Catalog {
                    table: path,
                    bands: table.bands.len(),
                    features,
                    z,
                })
            }
            FolderKind::Images => Ok(DataFolder::Images(ImageFolder::open(dir)?)),
            FolderKind::Spectra => Ok(DataFolder::Spectra {
                dir: dir.to_path_buf(),
                set: files::read_dataset(dir)?,
            }),
        }
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
            DataFolder::Catalog { z, .. } => z,
        }
    }

    /// The `labels.csv` whose rows are these samples (the metrics per population read it),
    /// when there is one.
    pub fn labels(&self, dir: &Path) -> Option<PathBuf> {
        match self {
            DataFolder::Catalog { table, .. } if !table.ends_with(files::LABELS) => None,
            _ => Some(dir.join(files::LABELS)),
        }
    }

    /// One input's shape.
    pub fn shape(&self) -> InputShape {
        match self {
            DataFolder::Spectra { set, .. } => InputShape::Spectra { pixels: set.pixels },
            DataFolder::Images(folder) => folder.rows.shape(),
            DataFolder::Catalog { bands, .. } => InputShape::Photometry { bands: *bands },
        }
    }

    /// "spectra" or "cutouts", for messages.
    pub fn noun(&self) -> &'static str {
        match self {
            DataFolder::Spectra { .. } => "spectra",
            DataFolder::Images(_) => "cutouts",
            DataFolder::Catalog { .. } => "galaxies",
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
            // Nothing to measure beyond the bands: magnitudes have no flux units to confuse.
            DataFolder::Catalog { .. } => Ok(InputContract::of_images(self.shape(), &[0.0])),
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
            DataFolder::Catalog { table, .. } => ckpt.check_images(table, &self.shape(), &[], 0),
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
            DataFolder::Catalog {
                bands, features, z, ..
            } => {
                let width = feature_count(*bands);
                let data = Dataset {
                    sample: Dims::Flat(width),
                    inputs: features[range.start * width..range.end * width]
                        .to_vec()
                        .into(),
                    n_extra: 0,
                    extra: Vec::new(),
                    targets: vec![pipeline::targets(m, &z[range])?],
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
            DataFolder::Catalog {
                bands, features, ..
            } => {
                let width = feature_count(*bands);
                let rows = &features[range.start * width..range.end * width];
                predict(model, rows, &[], 256).map_err(|e| e.to_string())?
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
