//! `zcnn debias`: the four correction steps of Lin et al. (2022) on one estimator, timed and
//! compared in one study (README "Unbiased photo-z: the four steps"). The algorithms are the
//! pure functions of `redshift::lin2022`; this module trains the networks and wires them.
//!
//! - Step 0: the baseline, trained as `zcnn train` trains it.
//! - Step 1 (§1.5): the preset's trunk with the factorised output, trained on all data.
//! - Step 2 (§1.7, §1.8): the redshift heads fine-tuned on a balanced subset, on the frozen
//!   trunk's features (computed once).
//! - Step 3 (§1.4, §1.9): re-initialised heads over the extended range, trained on the subset
//!   with soft, shifted labels fitted on the Step 2 estimates.
//! - Step 4 (§1.10): the bulk-bias correction of the last step's estimates.

mod fit;
pub mod heads;
mod magnitudes;
mod plots;
pub mod steps;
pub mod study;

use super::config::{DebiasConfig, RunConfig};
use super::data_folder::DataFolder;
use super::pipeline::{self, build_model, splits};
use crate::model::Model;
use crate::presets::{factorised_heads, with_heads};
use crate::redshift::lin2022::{
    balanced_subset, resample_to_test, step12_batch_targets, step3_batch_targets,
    BulkBiasCorrection, ExtendedBinning, LabelFit, MagnitudeRows, Sample, Step3Options,
    CORRECTION_BINS,
};
use crate::redshift::ZBinning;
use crate::train::{Augment, Dataset};
use fit::Fit;
use heads::{copy_heads_back, estimates, head_model, head_targets, trunk_features};
use std::ops::Range;
use std::path::Path;
use std::time::Instant;
use study::StepResult;

pub use steps::{check_steps, parse_steps};
pub use study::FILES;

/// What the steps share: the data, its splits, the bins and every object's magnitude row.
struct Context<'a> {
    config: &'a RunConfig,
    set: &'a DataFolder,
    train: Range<usize>,
    test: Range<usize>,
    base: ZBinning,
    rows: MagnitudeRows,
    /// Magnitude row of every object of the folder.
    row: Vec<usize>,
    /// z_spec of every object of the folder.
    z: Vec<f64>,
}

/// Runs the steps of `config.debias` on the folder `data_dir` and writes the study into `out`.
/// `train` trains the baseline (Step 0) into a folder, as `zcnn train` does.
pub fn run(
    config: &RunConfig,
    data_dir: &Path,
    out: &Path,
    train: impl FnOnce(&RunConfig, &DataFolder, &Path) -> Result<Model, String>,
) -> Result<(), String> {
    let d = &config.debias;
    let steps = check_steps(&d.steps)?;
    check_settings(d)?;
    if !pipeline::is_classifier(&config.model)? {
        return Err("zcnn debias needs model.target = \"classes\" (the steps work on bins)".into());
    }
    let set = DataFolder::open(data_dir, config)?;
    let [train_range, _, test] = splits(set.len(), &config.train)?;
    let magnitudes = magnitudes::magnitudes(config, &set, data_dir)?;
    let rows = MagnitudeRows::new(d.r_min, d.row_width, d.rows)?;
    let context = Context {
        config,
        set: &set,
        train: train_range,
        test,
        base: pipeline::binning(&config.model)?,
        rows,
        row: rows.rows_of(&magnitudes)?,
        z: set.z().iter().map(|&v| f64::from(v)).collect(),
    };
    std::fs::create_dir_all(out).map_err(|e| format!("{}: cannot create: {e}", out.display()))?;
    let mut results = Vec::new();
    if steps.contains(&0) {
        let started = Instant::now();
        let mut model = train(config, &set, &out.join("step0"))?;
        let outputs = set.outputs(&mut model, context.test.clone(), None)?;
        let (z_photo, _) = pipeline::redshifts(&config.model, &outputs)?;
        results.push(StepResult::new(0, started, z_photo, String::new()));
    }
    if steps.contains(&1) {
        factorised_steps(&context, &steps, &mut results)?;
    }
    let z_spec = &context.z[context.test.clone()];
    let test_rows = &context.row[context.test.clone()];
    study::write(out, &context.base, &rows, &results, z_spec, test_rows)
}

/// Steps 1–4: the factorised model, then its heads on the frozen trunk's features.
fn factorised_steps(
    c: &Context,
    steps: &[usize],
    results: &mut Vec<StepResult>,
) -> Result<(), String> {
    let (d, m) = (&c.config.debias, &c.config.model);
    let (outputs, bins) = (c.rows.outputs(), c.base.bins());
    let started = Instant::now();
    let preset = build_model(m, &c.set.shape())?;
    let mut full = with_heads(preset, |dims| factorised_heads(dims, outputs, bins), m.seed)
        .map_err(|e| e.to_string())?;
    let mut train_data = c.set.dataset(m, full.n_extra(), c.train.clone())?;
    let train_z = &c.z[c.train.clone()];
    let train_row = &c.row[c.train.clone()];
    train_data.targets = head_targets(
        &step12_batch_targets(&c.base, &c.rows, train_z, train_row)?,
        outputs,
        bins,
    );
    let augment = pipeline::augment(c.config, &c.set.shape())?;
    let fit = Fit {
        epochs: d.step1_epochs,
        batch: d.step1_batch,
        lr: d.step1_lr,
        augment,
    };
    fit.run(c.config, &mut full, &train_data, "step 1")?;
    // The trunk is frozen from here on: its features, once, for the training and test sets.
    let test_data = c.set.dataset(m, full.n_extra(), c.test.clone())?;
    let train_features = trunk_features(&mut full, &train_data)?;
    let test_features = trunk_features(&mut full, &test_data)?;
    drop(train_data);
    let mut heads = head_model(&full)?;
    let z1 = estimates(&mut heads, &test_features, &c.base)?;
    results.push(StepResult::new(1, started, z1, String::new()));
    let mut binning = c.base;
    if steps.contains(&2) {
        let started = Instant::now();
        let subset = balanced_subset(&c.base, &c.rows, train_z, train_row, d.n_th, m.seed)?;
        let (sub_z, sub_row) = (pick(train_z, &subset), pick(train_row, &subset));
        let sub_features = train_features.subset(&subset);
        let targets = step12_batch_targets(&c.base, &c.rows, &sub_z, &sub_row)?;
        let data = sub_features.dataset(head_targets(&targets, outputs, bins))?;
        heads = fine_tune_heads(c.config, &mut full, &data)?;
        let z2 = estimates(&mut heads, &test_features, &c.base)?;
        let note = format!(
            "balanced subset: {} of {} training objects (N_th = {})",
            subset.len(),
            train_z.len(),
            d.n_th
        );
        eprintln!("{note}");
        results.push(StepResult::new(2, started, z2, note));
        if steps.contains(&3) {
            let started = Instant::now();
            let extended = ExtendedBinning::half_each_side(c.base)?;
            let photo = estimates(&mut heads, &sub_features, &c.base)?;
            let sample = Sample {
                z_spec: &sub_z,
                z_photo: &photo,
                row: &sub_row,
            };
            let labels = LabelFit::fit(&extended, &c.rows, &sample)?;
            let targets = step3_batch_targets(
                &extended,
                &c.rows,
                &labels,
                &sub_z,
                &sub_row,
                Step3Options::default(),
            )?;
            binning = *extended.extended();
            reinitialise_redshift_heads(&mut full, outputs, binning.bins())?;
            let data = sub_features.dataset(head_targets(&targets, outputs, binning.bins()))?;
            heads = fine_tune_heads(c.config, &mut full, &data)?;
            let z3 = estimates(&mut heads, &test_features, &binning)?;
            let note = format!(
                "{} bins over [{:.3}, {:.3}); σ₁ per output {:.2?}",
                binning.bins(),
                binning.z_min(),
                binning.z_max(),
                labels.sigma1
            );
            results.push(StepResult::new(3, started, z3, note));
        }
    }
    if steps.contains(&4) {
        let started = Instant::now();
        let last = results.last().expect("step 1 ran").z_photo.clone();
        let train_photo = estimates(&mut heads, &train_features, &binning)?;
        let (z4, note) = bulk_bias(c, &last, &train_photo)?;
        results.push(StepResult::new(4, started, z4, note));
    }
    Ok(())
}

/// Step 4 (§1.10): the training set resampled to the test set's (row, z_photo) distribution,
/// the mean residual per (wide z_photo bin × row) cell measured on it, and subtracted from the
/// test estimates `test_photo`.
fn bulk_bias(
    c: &Context,
    test_photo: &[f64],
    train_photo: &[f64],
) -> Result<(Vec<f64>, String), String> {
    let (train_z, train_row) = (&c.z[c.train.clone()], &c.row[c.train.clone()]);
    let test_row = &c.row[c.test.clone()];
    let resampled = resample_to_test(
        &c.base,
        &c.rows,
        test_photo,
        test_row,
        train_z,
        train_row,
        train_z.len(),
        c.config.model.seed,
    )?;
    let pick_f = |values: &[f64]| pick(values, &resampled.indices);
    let (z_spec, z_photo, row) = (
        pick_f(train_z),
        pick_f(train_photo),
        pick(train_row, &resampled.indices),
    );
    let wide = ZBinning::new(c.base.z_min(), c.base.z_max(), CORRECTION_BINS)?;
    let correction = BulkBiasCorrection::fit(
        wide,
        &c.rows,
        &Sample {
            z_spec: &z_spec,
            z_photo: &z_photo,
            row: &row,
        },
    )?;
    let note = format!(
        "resampled training set: {} objects; {} test objects unmatched",
        resampled.indices.len(),
        resampled.unmatched_test
    );
    Ok((correction.apply_all(test_photo, test_row)?, note))
}

/// Step 3 (§1.7): the redshift heads of `full` replaced by fresh ones of `bins` outputs.
fn reinitialise_redshift_heads(
    full: &mut Model,
    outputs: usize,
    bins: usize,
) -> Result<(), String> {
    let fresh =
        factorised_heads(full.trunk().out_dims(), outputs, bins).map_err(|e| e.to_string())?;
    let seed = full.seed();
    for (h, head) in fresh.into_iter().enumerate().skip(1) {
        full.replace_head(h, head, seed.wrapping_add(h as u64))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Steps 2–3: the redshift heads of `full` trained on `data` (trunk features and targets);
/// the trained heads are copied back into `full`, whose trunk is left as it was. Returns the
/// heads, to predict with.
pub fn fine_tune_heads(
    config: &RunConfig,
    full: &mut Model,
    data: &Dataset,
) -> Result<Model, String> {
    let d = &config.debias;
    let mut heads = head_model(full)?;
    let fit = Fit {
        epochs: d.heads_epochs,
        batch: d.heads_batch,
        lr: d.heads_lr,
        augment: Augment::None,
    };
    fit.run(config, &mut heads, data, "heads")?;
    copy_heads_back(&heads, full);
    Ok(heads)
}

/// The values at `indices`.
fn pick<T: Copy>(values: &[T], indices: &[usize]) -> Vec<T> {
    indices.iter().map(|&i| values[i]).collect()
}

/// The `[debias]` numbers: rows, N_th, epochs, batches and learning rates.
fn check_settings(d: &DebiasConfig) -> Result<(), String> {
    MagnitudeRows::new(d.r_min, d.row_width, d.rows).map_err(|e| format!("debias: {e}"))?;
    for (field, value) in [
        ("n_th", d.n_th),
        ("step1_epochs", d.step1_epochs),
        ("step1_batch", d.step1_batch),
        ("heads_epochs", d.heads_epochs),
        ("heads_batch", d.heads_batch),
    ] {
        if value == 0 {
            return Err(format!("debias.{field} must be at least 1"));
        }
    }
    for (field, lr) in [("step1_lr", d.step1_lr), ("heads_lr", d.heads_lr)] {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(format!("debias.{field} must be finite and > 0, found {lr}"));
        }
    }
    Ok(())
}
