//! The `zcnn` command: simulate → train → evaluate → predict, and `run`, the main job that
//! does all four on the built-in defaults. Built with the default feature `cli`.

pub mod catalog_data;
pub mod checkpoint;
mod commands;
mod compare;
pub mod config;
pub mod contract;
mod data_folder;
pub mod debias;
mod evaluate;
mod files;
pub mod image_data;
mod images;
mod import;
mod import_images;
mod input_reader;
mod labels;
mod lsst_catalog;
mod outputs;
#[cfg(feature = "parquet")]
mod parquet_out;
mod paths;
mod pipeline;
mod population_report;
mod predict_sink;
mod progress;
mod report;
mod row_labels;

pub use pipeline::check as check_config;

use crate::data::spectra::Normalisation;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// zcnn: CNN redshift estimation, written by hand in Rust.
#[derive(Debug, Parser)]
#[command(name = "zcnn", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `--threads`, for every command that computes.
#[derive(Debug, Clone, Args)]
pub struct Threads {
    /// Threads for the kernels (default: all cores; RAYON_NUM_THREADS also works).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// The survey outputs `predict` and `evaluate` write on request (README "Outputs for survey
/// tools").
#[derive(Debug, Clone, Args)]
pub struct SurveyOutputs {
    /// Also write the full distributions: .hdf5/.h5 as a qp `hist` ensemble (RAIL), else NPY [n, bins].
    #[arg(long)]
    pub pdfs: Option<PathBuf>,
    /// Also write a FITS catalogue (BINTABLE REDSHIFTS: ID, Z, ZERR, quantiles, Z_CONF, ZWARN).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// Also write the point estimates as a Parquet table (feature parquet), a row group per chunk.
    #[arg(long)]
    pub parquet: Option<PathBuf>,
    /// Put each PDF into the FITS catalogue as a vector column PDF (Euclid PHZ style).
    #[arg(long, requires = "catalog")]
    pub catalog_pdf: bool,
}

impl SurveyOutputs {
    /// The output files asked for, with their flags.
    pub fn files(&self) -> Vec<(&'static str, &Path)> {
        [
            ("--pdfs", &self.pdfs),
            ("--catalog", &self.catalog),
            ("--parquet", &self.parquet),
        ]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| (flag, p)))
        .collect()
    }
}

/// Flags of the commands that simulate or train: the run configuration, the seed, the threads.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Seed of every random stream (overrides the config's seeds).
    #[arg(long)]
    pub seed: Option<u64>,
    /// A TOML run configuration (see configs/); flags override it.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub threads: Threads,
}

/// `--overwrite`, for every command that writes results.
#[derive(Debug, Clone, Copy, Args)]
pub struct Overwrite {
    /// Replace the results of an earlier run at the output paths (inputs are never replaced).
    #[arg(long)]
    pub overwrite: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job: simulate spectra, train, evaluate on the held-out test set, write the report.
    Run {
        /// Output folder (dataset, checkpoints, report).
        #[arg(long, short, default_value = "runs/main")]
        out: PathBuf,
        #[command(flatten)]
        overrides: Overrides,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        overwrite: Overwrite,
    },
    /// Simulate a dataset: spectra (spectra.npy, wavelengths.npy) or, with an image preset,
    /// galaxy cutouts (images.npy); labels.csv and simulation.toml.
    Simulate {
        /// Output folder.
        #[arg(long, short)]
        out: PathBuf,
        /// Preset: seed or euclid (spectra); sdss, sdss44 or hsc (images); lsst-buzzard (a
        /// photometric catalogue: the shipped Buzzard mock observed by LSST).
        #[arg(long)]
        preset: Option<String>,
        /// Number of spectra, cutouts or galaxies (lsst-buzzard: every galaxy that passes the
        /// cut when absent).
        #[arg(long, short = 'n')]
        n_spectra: Option<usize>,
        /// lsst-buzzard: keep galaxies with observed i below this (default 25.3, the gold sample).
        #[arg(long)]
        i_max: Option<f64>,
        /// lsst-buzzard: years of survey, which set the coadded depths (default 10).
        #[arg(long)]
        years: Option<f64>,
        /// Images: no Galactic E(B−V) (every galaxy gets 0).
        #[arg(long)]
        no_ebv: bool,
        /// White noise at this signal-to-noise ratio.
        #[arg(long)]
        snr: Option<f64>,
        /// Rest-frame .sed or FITS templates (a folder) to use instead of the built-in ones.
        #[arg(long)]
        sed_dir: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        overwrite: Overwrite,
    },
    /// Import FITS spectra into a dataset folder: spectra.npy, wavelengths.npy, labels.csv.
    Import {
        /// FITS files, or folders of .fits/.fit/.fts files (sorted by name; id = file stem).
        #[arg(long, required = true, num_args = 1..)]
        fits: Vec<PathBuf>,
        /// Target pixels: a dataset's wavelengths.npy (pixel centres) or a preset (seed, euclid).
        #[arg(long)]
        grid: String,
        /// Output folder.
        #[arg(long, short)]
        out: PathBuf,
        /// CSV catalogue of redshifts (without it, the spectra are for `zcnn predict`).
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// The catalogue's id column (ids are the FITS file stems).
        #[arg(long, default_value = "id")]
        id_column: String,
        /// The catalogue's redshift column.
        #[arg(long, default_value = "z")]
        z_column: String,
        /// Per-spectrum normalisation, as in the simulator.
        #[arg(long, value_enum, default_value_t = Normalisation::Max)]
        normalise: Normalisation,
        /// NaN or infinite flux or ivar: reject the file, or mask those pixels.
        #[arg(long, value_enum, default_value_t = NonFinite::Reject)]
        nonfinite: NonFinite,
        /// Read the HDU with this EXTNAME (default: the first image or binary table with data).
        #[arg(long)]
        hdu: Option<String>,
        #[command(flatten)]
        overwrite: Overwrite,
    },
    /// Import real galaxy cutouts (an NPY array or a folder of FITS files, and a CSV catalogue)
    /// into an image dataset folder: images.npy, labels.csv, images.toml.
    ImportImages(import_images::ImportImages),
    /// Train a model on a simulated dataset; writes a checkpoint every epoch.
    Train {
        /// Dataset folder written by `zcnn simulate`.
        #[arg(long, short)]
        data: PathBuf,
        /// Output folder (checkpoint.safetensors, history.json).
        #[arg(long, short)]
        out: PathBuf,
        /// Continue from this checkpoint (bit-identically).
        #[arg(long)]
        resume: Option<PathBuf>,
        #[command(flatten)]
        overrides: Overrides,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        overwrite: Overwrite,
    },
    /// The four correction steps of Lin et al. (2022) on one estimator (config `[debias]`),
    /// timed and compared: study.json, study.md and plots in --out.
    Debias {
        /// Dataset folder (the catalogue estimator reads the `[catalog]` table in it).
        #[arg(long, short)]
        data: PathBuf,
        /// Output folder of the study (step0/ holds the baseline's checkpoint).
        #[arg(long, short)]
        out: PathBuf,
        /// The steps to run, e.g. 0,1,2,3,4 (overrides `[debias] steps`).
        #[arg(long)]
        steps: Option<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        overwrite: Overwrite,
    },
    /// Evaluate a checkpoint on a dataset's test split (or all of it): metrics table, report.json, plots.
    Evaluate {
        #[arg(long)]
        checkpoint: PathBuf,
        #[arg(long, short)]
        data: PathBuf,
        /// Report folder.
        #[arg(long, short)]
        out: PathBuf,
        /// Evaluate every spectrum, not only the test split.
        #[arg(long)]
        all: bool,
        /// The survey outputs of the evaluated objects (with the predictions CSV
        /// `predictions.csv` in the report folder).
        #[command(flatten)]
        survey: SurveyOutputs,
        /// Inputs read and evaluated at a time (bounds the memory; results do not depend on it).
        #[arg(long, default_value_t = 4096)]
        chunk_size: usize,
        #[command(flatten)]
        threads: Threads,
        #[command(flatten)]
        overwrite: Overwrite,
    },
    /// Predict redshifts for a file of spectra (NPY [n, pixels]): z, summary of the distribution, optional PDFs.
    Predict {
        #[arg(long)]
        checkpoint: PathBuf,
        /// Spectra as NPY, [n, pixels] (f32 or f64).
        #[arg(long, required_unless_present_any = ["images", "photometry"], conflicts_with_all = ["images", "photometry"])]
        spectra: Option<PathBuf>,
        /// Or image cutouts as NPY, [n, bands, height, width] (f32 or f64), for image models;
        /// a model that takes E(B−V) reads it from the `ebv` column of --labels.
        #[arg(long, conflicts_with = "photometry")]
        images: Option<PathBuf>,
        /// Or a photometric table (CSV or FITS) for the catalogue model, with the columns of the
        /// checkpoint's [catalog] section (ids passed through).
        #[arg(long)]
        photometry: Option<PathBuf>,
        /// Their pixel centres (NPY [pixels], Å), checked against the training grid (default:
        /// the wavelengths.npy beside the spectra, when there is one).
        #[arg(long)]
        wavelengths: Option<PathBuf>,
        /// Output CSV of predictions.
        #[arg(long, short)]
        out: PathBuf,
        #[command(flatten)]
        survey: SurveyOutputs,
        /// CSV with one row per spectrum or cutout (labels.csv): ids (id or index), true z,
        /// masked_fraction, ebv.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Spectra or cutouts read, predicted and written at a time (bounds the memory; results do not depend on it).
        #[arg(long, default_value_t = 4096)]
        chunk_size: usize,
        #[command(flatten)]
        threads: Threads,
        #[command(flatten)]
        overwrite: Overwrite,
    },
    /// Compare the reports of several runs (a study): markdown table, JSON and a plot of MAE, σ_NMAD, η and success.
    Compare {
        /// Run folders (holding report/report.json), report folders or report.json files, in plot order.
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Comma-separated labels, one per run (default: the folder names).
        #[arg(long)]
        labels: Option<String>,
        /// Title of the plot.
        #[arg(long, default_value = "Comparison of runs")]
        title: String,
        /// Output folder (comparison.md, comparison.json, comparison.svg).
        #[arg(long, short)]
        out: PathBuf,
        #[command(flatten)]
        overwrite: Overwrite,
    },
}

/// `--nonfinite` of `zcnn import` and `zcnn import-images`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NonFinite {
    Reject,
    Mask,
}

/// Training settings that flags may override.
#[derive(Debug, Clone, Args, Default)]
pub struct Overrides {
    /// Training epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Mini-batch size.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    pub lr: Option<f32>,
    /// Number of redshift bins (classification).
    #[arg(long)]
    pub bins: Option<usize>,
    /// Loss: cross_entropy, soft_cross_entropy, js_entropy, kl or mse (with --target regression).
    #[arg(long)]
    pub loss: Option<String>,
    /// classes or regression.
    #[arg(long)]
    pub target: Option<String>,
    /// Number of spectra to simulate (run only).
    #[arg(long, short = 'n')]
    pub n_spectra: Option<usize>,
    /// Use at most this many training spectra.
    #[arg(long)]
    pub max_train: Option<usize>,
    /// Start from the weights of this checkpoint (fine-tuning, e.g. with another loss).
    #[arg(long)]
    pub init_from: Option<PathBuf>,
}

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it): a training run
/// after saving its checkpoint, a prediction with none of its outputs written.
const EXIT_INTERRUPTED: u8 = 130;

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::dispatch(cli.command) {
        Ok(commands::Outcome::Done) => ExitCode::SUCCESS,
        Ok(commands::Outcome::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
