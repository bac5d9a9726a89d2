//! The files the command reads and writes: dataset folders, predictions, training history and
//! checkpoints. Every write is atomic (temporary file, then rename).

use super::config::RunConfig;
use super::labels::read_redshifts;
use crate::data::spectra::{SpectraSet, LINE_NAMES};
use crate::io::atomic::StagedDir;
use crate::io::npy::{read_npy, NpyExpect};
use crate::report::plots::plot_loss_curves;
use crate::train::History;
use serde_json::json;
use std::path::Path;

pub use super::checkpoint::{read_checkpoint, write_checkpoint};

/// The spectra of a dataset folder, `[n, pixels]`.
pub const SPECTRA: &str = "spectra.npy";
/// The pixel centres of a dataset folder, `[pixels]` (Å).
pub const WAVELENGTHS: &str = "wavelengths.npy";
/// The labels of a dataset folder, one row per spectrum, matched to it by `index`.
pub const LABELS: &str = "labels.csv";
/// The simulation settings that made a dataset.
pub const SIMULATION: &str = "simulation.toml";
/// The checkpoint `zcnn train` writes after every epoch.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The training history `zcnn train` writes at the end.
pub const HISTORY: &str = "history.json";

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    crate::io::atomic::write_atomic(path, bytes).map_err(|e| e.to_string())
}

/// Writes an f32 NPY array atomically.
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), String> {
    crate::io::npy::write_npy(path, shape, data).map_err(|e| e.to_string())
}

/// The parts of a dataset folder that training and evaluation need.
pub struct DatasetFiles {
    pub pixels: usize,
    /// `[n, pixels]`.
    pub flux: Vec<f32>,
    /// True redshifts.
    pub z: Vec<f32>,
}

/// Writes a simulated dataset: `spectra.npy` `[n, pixels]`, `wavelengths.npy` `[pixels]` (Å),
/// `labels.csv` (z and the true properties of each spectrum) and `simulation.toml`.
/// All files appear at once ([`StagedDir`]).
pub fn write_dataset(dir: &Path, set: &SpectraSet, config: &RunConfig) -> Result<(), String> {
    let staged = StagedDir::new(dir).map_err(|e| e.to_string())?;
    let pixels = set.wavelengths.len();
    write_npy(&staged.file(SPECTRA), &[set.len(), pixels], &set.flux)?;
    write_npy(&staged.file(WAVELENGTHS), &[pixels], &set.wavelengths)?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "index",
        "z",
        "ebv",
        "halpha_flux",
        "halpha_ew",
        "lsf_sigma",
        "flux_scale",
        "noise_sigma",
        "norm_scale",
        "snr",
        "class",
        "contaminant",
        "masked_fraction",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    header.extend(LINE_NAMES.iter().map(|l| format!("flux_{l}")));
    csv.write_record(&header).map_err(|e| e.to_string())?;
    for (i, (z, p)) in set.z.iter().zip(&set.properties).enumerate() {
        let mut row = vec![
            i.to_string(),
            z.to_string(),
            p.ebv.to_string(),
            p.halpha_flux.to_string(),
            p.halpha_ew.to_string(),
            p.lsf_sigma.to_string(),
            p.flux_scale.to_string(),
            p.noise_sigma.to_string(),
            p.norm_scale.to_string(),
            p.snr.to_string(),
            p.class.map_or("", |c| c.name()).to_string(),
            p.contaminant.map_or(String::new(), |g| g.to_string()),
            p.masked_fraction.to_string(),
        ];
        row.extend(p.line_fluxes.iter().map(|f| f.to_string()));
        csv.write_record(&row).map_err(|e| e.to_string())?;
    }
    let bytes = csv.into_inner().map_err(|e| e.to_string())?;
    write_atomic(&staged.file(LABELS), &bytes)?;
    let sim_only = RunConfig {
        simulate: config.simulate.clone(),
        ..RunConfig::default()
    };
    write_atomic(&staged.file(SIMULATION), sim_only.to_toml().as_bytes())?;
    staged.commit().map_err(|e| e.to_string())
}

/// Reads the spectra and true redshifts of a dataset folder; `labels.csv` rows are matched to
/// spectra by their `index` ([`read_redshifts`]).
pub fn read_dataset(dir: &Path) -> Result<DatasetFiles, String> {
    let (n, pixels, flux) = read_spectra(&dir.join(SPECTRA))?;
    let z = read_redshifts(&dir.join(LABELS), n)?;
    Ok(DatasetFiles { pixels, flux, z })
}

/// Reads spectra `[n, pixels]` from an NPY file (f32 or f64; values must be finite).
pub fn read_spectra(path: &Path) -> Result<(usize, usize, Vec<f32>), String> {
    let expect = NpyExpect {
        shape: Some(vec![None, None]),
        ..NpyExpect::default()
    };
    let array = read_npy(path, &expect).map_err(|e| e.to_string())?;
    Ok((array.shape[0], array.shape[1], array.data))
}

/// The training history as JSON; with `timing`, the seconds and samples/s of each epoch too
/// (left out of checkpoints, whose bytes must not depend on the machine's speed).
pub fn history_json(h: &History, timing: bool) -> serde_json::Value {
    let epochs: Vec<_> = h
        .epochs
        .iter()
        .map(|e| {
            let mut v = json!({
                "epoch": e.epoch + 1,
                "train_loss": e.train_loss,
                "val_loss": e.val_loss,
                "val_accuracy": e.val_accuracy,
            });
            if timing {
                v["seconds"] = json!(e.seconds);
                v["samples_per_sec"] = json!(e.samples_per_sec);
            }
            v
        })
        .collect();
    json!({ "epochs": epochs, "stopped_early": h.stopped_early, "interrupted": h.interrupted })
}

/// Writes `history.json`.
pub fn write_history(path: &Path, h: &History) -> Result<(), String> {
    let text =
        serde_json::to_string_pretty(&history_json(h, true)).expect("a history always serialises");
    write_atomic(path, text.as_bytes())
}

/// Plots the training and validation loss per epoch.
pub fn plot_history(path: &Path, h: &History) -> Result<(), String> {
    let train: Vec<f64> = h.epochs.iter().map(|e| e.train_loss as f64).collect();
    let val: Vec<f64> = h
        .epochs
        .iter()
        .filter_map(|e| e.val_loss.map(|v| v as f64))
        .collect();
    plot_loss_curves(path, &train, &val)
}
