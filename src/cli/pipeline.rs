//! The steps every command shares: config → simulator settings, model, targets, data splits,
//! training with a progress bar, and turning network outputs into redshifts.

use super::catalog_data::feature_count;
use super::config::{
    CatalogConfig, ModelConfig, RunConfig, SimulateConfig, TrainSettings, DEFAULT_NOISE_SNR,
};
use super::contract::InputShape;
use super::images;
use crate::data::spectra::{
    builtin_templates_of, continua_from_dir, simulate, Contamination, LibraryConfig, NoiseModel,
    Normalisation, Population, SedLibrary, SimConfig, SpectraSet, Template, BUILTIN_FAMILY_NAMES,
};
use crate::dims::Dims;
use crate::kernels::optim::{AdamConfig, SgdConfig};
use crate::loss::Loss;
use crate::model::Model;
use crate::optim::{Optimizer, Rule, Schedule};
use crate::presets::{kim_brunner, pasquet, photoz_catalog, specz_baseline, Output};
use crate::redshift::binning::ZBinning;
use crate::redshift::estimates::{point_estimates, PointEstimator};
use crate::redshift::labels::{fill_targets, LabelKind, LabelWidth};
use crate::train::{Augment, Dataset, TargetData};
use std::ops::Range;
use std::path::Path;

/// The simulator settings of a run.
pub fn sim_config(c: &SimulateConfig) -> Result<SimConfig, String> {
    let mut sim = SimConfig::preset(&c.preset)?;
    if let Some(snr) = c.snr {
        if !(snr.is_finite() && snr > 0.0) {
            return Err(format!("simulate.snr must be a positive number, got {snr}"));
        }
        sim.noise = NoiseModel::WhiteSnr { snr };
    }
    sim.normalisation = <Normalisation as clap::ValueEnum>::from_str(&c.normalisation, false)
        .map_err(|_| {
            format!(
                "simulate.normalisation: unknown '{}' (none, max, median, l2)",
                c.normalisation
            )
        })?;
    sim.contamination = c.contamination.map(Contamination::with_fraction);
    sim.z_range = (
        c.z_min.unwrap_or(sim.z_range.0),
        c.z_max.unwrap_or(sim.z_range.1),
    );
    sim.validate()
        .map_err(|e| match e.strip_prefix("z_range: ") {
            Some(rest) => format!("simulate.z_min/z_max: {rest}"),
            None => e,
        })?;
    match (&c.sed_dir, &c.continua) {
        (Some(_), continua)
            if c.population.is_some() || c.families.is_some() || continua.is_some() =>
        {
            return Err(
                "simulate.population, simulate.families and simulate.continua apply to the \
                 population library; with sed_dir each .sed file is one galaxy (lines = true \
                 adds lines)"
                    .into(),
            )
        }
        (Some(_), _) => {}
        (None, Some(_)) if c.families.is_some() => {
            return Err(
                "simulate.families chooses built-in templates, simulate.continua replaces them; \
                 set one of the two"
                    .into(),
            )
        }
        (None, Some(dir)) => {
            if !Path::new(dir).is_dir() {
                return Err(format!(
                    "simulate.continua: {dir} is not a folder (build one with \
                     scripts/build_sps_library.sh {dir})"
                ));
            }
            population_library_config(c, &sim, 1)?;
        }
        (None, None) => {
            population_library_config(c, &sim, 1)?;
            builtin_family_templates(c)?;
        }
    }
    Ok(sim)
}

/// The templates the population draws from: the folder of `simulate.continua` (scaled like the
/// shipped templates), else the built-in templates of the configured families.
fn population_templates(c: &SimulateConfig) -> Result<Vec<Template>, String> {
    match &c.continua {
        Some(dir) => {
            continua_from_dir(Path::new(dir)).map_err(|e| format!("simulate.continua: {e}"))
        }
        None => builtin_family_templates(c),
    }
}

/// The built-in templates of the configured families (all by default).
fn builtin_family_templates(c: &SimulateConfig) -> Result<Vec<Template>, String> {
    let all = BUILTIN_FAMILY_NAMES.map(String::from);
    builtin_templates_of(c.families.as_deref().unwrap_or(&all)).map_err(|e| format!("simulate.{e}"))
}

/// The population of the built-in library: the configured one, else the preset's default
/// ("halpha" for euclid, whose flux scale needs Hα in every galaxy; "mixed" otherwise).
fn population_name(c: &SimulateConfig) -> &str {
    match (&c.population, c.preset.as_str()) {
        (Some(name), _) => name,
        (None, "euclid") => "halpha",
        (None, _) => "mixed",
    }
}

/// How the library of `galaxies` galaxies is drawn from the built-in templates or the continua
/// of `simulate.continua`; the population's relations are evaluated at the middle of the
/// simulated redshift range. `lines = false` without a population gives line-free mixtures of
/// all templates, as before populations existed.
fn population_library_config(
    c: &SimulateConfig,
    sim: &SimConfig,
    galaxies: usize,
) -> Result<LibraryConfig, String> {
    let name = population_name(c);
    if name == "strong_lines" || (!c.lines && c.population.is_none()) {
        return Ok(LibraryConfig::builtin(galaxies, c.lines));
    }
    if !c.lines {
        return Err(format!(
            "simulate.lines = false removes the lines of the strong_lines library, but population \
             \"{name}\" draws its own; for galaxies without lines use population = \"passive\""
        ));
    }
    let z_reference = 0.5 * (sim.z_range.0 + sim.z_range.1);
    let population = Population::preset(name, z_reference)
        .map_err(|e| format!("simulate.population: {e}, strong_lines"))?;
    Ok(LibraryConfig::population(galaxies, population))
}

/// Simulates the dataset of a run.
pub fn simulate_spectra(c: &SimulateConfig) -> Result<SpectraSet, String> {
    let sim = sim_config(c)?;
    let library_seed = c.seed ^ 0x5ED_11B;
    let library = match &c.sed_dir {
        Some(dir) => SedLibrary::from_sed_dir(
            Path::new(dir),
            &LibraryConfig::user_seds(c.lines),
            library_seed,
        )?,
        None => {
            let galaxies = if c.galaxies == 0 {
                c.n_spectra
            } else {
                c.galaxies
            };
            let config = population_library_config(c, &sim, galaxies)?;
            SedLibrary::from_templates(population_templates(c)?, &config, library_seed).map_err(
                |e| match &c.continua {
                    Some(dir) => format!("simulate.continua: {dir}: {e}"),
                    None => e,
                },
            )?
        }
    };
    simulate(&sim, &library, c.n_spectra, c.seed)
}

/// The redshift bins of a classification model.
pub fn binning(m: &ModelConfig) -> Result<ZBinning, String> {
    ZBinning::new(m.z_min, m.z_max, m.bins)
}

/// The loss named in the config.
fn loss(m: &ModelConfig) -> Result<Loss, String> {
    Ok(match m.loss.as_str() {
        "cross_entropy" => Loss::CrossEntropy,
        "soft_cross_entropy" => Loss::SoftCrossEntropy,
        "js_entropy" => Loss::JsEntropy { lambda1: m.lambda1, lambda2: m.lambda2 },
        "kl" => Loss::Kl,
        "mse" => Loss::Mse,
        other => {
            return Err(format!("model.loss: unknown '{other}' (cross_entropy, soft_cross_entropy, js_entropy, kl, mse)"))
        }
    })
}

/// Whether the model classifies over redshift bins (else it regresses z).
pub fn is_classifier(m: &ModelConfig) -> Result<bool, String> {
    match m.target.as_str() {
        "classes" => Ok(true),
        "regression" => Ok(false),
        other => Err(format!(
            "model.target: unknown '{other}' (classes, regression)"
        )),
    }
}

/// The model presets and what they take.
const MODEL_PRESETS: &str = "specz-baseline (spectra), kim-brunner (5 × 44×44 cutouts), \
                             pasquet (5 × 64×64 cutouts and E(B−V)), photoz-catalog \
                             (magnitudes and errors)";

/// The input an image model is built for (its convolutions and dense layers fix the size);
/// `None` for the spectroscopic and catalogue models, which take spectra of any length and
/// any number of bands.
pub fn model_input(m: &ModelConfig) -> Result<Option<InputShape>, String> {
    let cutouts = |size| {
        Some(InputShape::Images {
            bands: 5,
            height: size,
            width: size,
        })
    };
    match m.preset.as_str() {
        "specz-baseline" | "photoz-catalog" => Ok(None),
        "kim-brunner" => Ok(cutouts(44)),
        "pasquet" => Ok(cutouts(64)),
        other => Err(format!("model.preset: unknown '{other}' ({MODEL_PRESETS})")),
    }
}

/// Builds the configured network for inputs of shape `input`; an error in the user's terms
/// when the model does not take them.
pub fn build_model(m: &ModelConfig, input: &InputShape) -> Result<Model, String> {
    let output = if is_classifier(m)? {
        let loss = loss(m)?;
        if loss == Loss::Mse {
            return Err("model.loss 'mse' needs model.target = \"regression\"".into());
        }
        binning(m)?;
        Output::Classes { k: m.bins, loss }
    } else {
        if m.loss != "mse" {
            return Err(format!(
                "model.target \"regression\" trains with loss 'mse', not '{}'",
                m.loss
            ));
        }
        Output::Regression
    };
    match (model_input(m)?, input) {
        (None, &InputShape::Spectra { pixels }) if m.preset == "specz-baseline" => {
            specz_baseline(pixels, output, m.seed).map_err(|e| e.to_string())
        }
        (None, &InputShape::Photometry { bands }) if m.preset == "photoz-catalog" => {
            photoz_catalog(feature_count(bands), output, m.seed).map_err(|e| e.to_string())
        }
        (Some(takes), found) if takes == *found => match m.preset.as_str() {
            "kim-brunner" => kim_brunner(output, m.seed),
            _ => pasquet(output, m.seed),
        }
        .map_err(|e| e.to_string()),
        (takes, found) => Err(format!(
            "model.preset {} takes {}, and the data are {}",
            m.preset,
            takes.map_or(
                match m.preset.as_str() {
                    "photoz-catalog" => "photometry".to_string(),
                    _ => "spectra".to_string(),
                },
                |t| t.describe()
            ),
            found.describe()
        )),
    }
}

/// The training targets for true redshifts `z`: class indices, soft distributions, or z itself.
pub fn targets(m: &ModelConfig, z: &[f32]) -> Result<TargetData, String> {
    let z64: Vec<f64> = z.iter().map(|&v| v as f64).collect();
    if !is_classifier(m)? {
        return Ok(TargetData::Values {
            width: 1,
            values: z.to_vec(),
        });
    }
    let bins = binning(m)?;
    match loss(m)? {
        Loss::CrossEntropy => {
            let labels = z64
                .iter()
                .map(|&v| bins.bin_of(v).map(|k| k as u32))
                .collect::<Result<_, _>>()?;
            Ok(TargetData::Classes(labels))
        }
        _ => {
            let mut values = vec![0.0; z.len() * m.bins];
            fill_targets(
                &bins,
                &z64,
                LabelKind::Soft(LabelWidth::Bins(m.label_sigma_bins)),
                &mut values,
            )?;
            Ok(TargetData::Values {
                width: m.bins,
                values,
            })
        }
    }
}

/// The `[catalog]` section: bands, patterns with `{band}`, a reference among the bands.
fn check_catalog(c: &CatalogConfig) -> Result<(), String> {
    if c.bands.is_empty() {
        return Err("catalog.bands: at least one band".into());
    }
    if !c.bands.contains(&c.reference) {
        return Err(format!(
            "catalog.reference '{}' is not among catalog.bands ({})",
            c.reference,
            c.bands.join(", ")
        ));
    }
    for (field, pattern) in [("magnitude", &c.magnitude), ("error", &c.error)] {
        if !pattern.contains("{band}") {
            return Err(format!(
                "catalog.{field} '{pattern}' has no {{band}} to put each band's name in"
            ));
        }
    }
    Ok(())
}

/// The augmentation of the training samples (`train.augment`, absent: on): the dihedral
/// transforms for images, noise at `train.noise_snr` (default [`DEFAULT_NOISE_SNR`]) for
/// spectra; none for catalogues (`train.augment = true` is an error there, and `noise_snr` is
/// one for images and catalogues).
pub fn augment(config: &RunConfig, input: &InputShape) -> Result<Augment, String> {
    let t = &config.train;
    if t.noise_snr.is_some() && !matches!(input, InputShape::Spectra { .. }) {
        return Err(
            "train.noise_snr adds noise to spectra; images and catalogues carry their own noise"
                .into(),
        );
    }
    let on = t.augment != Some(false);
    match input {
        InputShape::Images { .. } if on => Ok(Augment::Dihedral),
        InputShape::Spectra { .. } if on => {
            let (min, max) = t.noise_snr.unwrap_or(DEFAULT_NOISE_SNR);
            if min.is_finite() && max.is_finite() && min > 0.0 && min <= max {
                Ok(Augment::WhiteNoise { snr: (min, max) })
            } else {
                Err(format!(
                    "train.noise_snr: expected [min, max] with 0 < min ≤ max, finite, found \
                     [{min}, {max}]"
                ))
            }
        }
        InputShape::Photometry { .. } if t.augment == Some(true) => Err(
            "train.augment = true: catalogues have no augmentation (images are rotated and \
             flipped, spectra noised)"
                .into(),
        ),
        _ => Ok(Augment::None),
    }
}

/// The dataset of spectra `flux` (`[n, pixels]`) with targets for `z`.
pub fn dataset(
    m: &ModelConfig,
    flux: Vec<f32>,
    pixels: usize,
    z: &[f32],
) -> Result<Dataset, String> {
    let data = Dataset {
        sample: Dims::Seq { len: pixels, ch: 1 },
        inputs: flux.into(),
        n_extra: 0,
        extra: Vec::new(),
        targets: vec![targets(m, z)?],
    };
    data.validate().map_err(|e| e.to_string())?;
    Ok(data)
}

/// Train, validation and test index ranges: the test set is the last `test_fraction` of the
/// spectra, validation the `val_fraction` before it, training the rest (possibly capped).
pub fn splits(n: usize, t: &TrainSettings) -> Result<[Range<usize>; 3], String> {
    check_fractions(t)?;
    let n_test = (n as f64 * t.test_fraction).round() as usize;
    let n_val = (n as f64 * t.val_fraction).round() as usize;
    for (field, fraction, count) in [
        ("val_fraction", t.val_fraction, n_val),
        ("test_fraction", t.test_fraction, n_test),
    ] {
        if fraction > 0.0 && count == 0 {
            return Err(format!(
                "train.{field} {fraction} of {n} spectra is no spectrum at all: use more spectra, a larger fraction, or 0"
            ));
        }
    }
    let n_train_all = n - n_test - n_val;
    let n_train = if t.max_train > 0 {
        t.max_train.min(n_train_all)
    } else {
        n_train_all
    };
    if n_train == 0 {
        return Err(format!(
            "no training spectra left from {n} (val {n_val}, test {n_test})"
        ));
    }
    Ok([
        0..n_train,
        n_train_all..n_train_all + n_val,
        n_train_all + n_val..n,
    ])
}

/// The validation and test fractions: in [0, 1) (so not NaN), and less than 1 together.
fn check_fractions(t: &TrainSettings) -> Result<(), String> {
    let frac_ok = |f: f64| (0.0..1.0).contains(&f);
    if frac_ok(t.val_fraction) && frac_ok(t.test_fraction) && t.val_fraction + t.test_fraction < 1.0
    {
        return Ok(());
    }
    Err(format!(
        "train.val_fraction ({}) and train.test_fraction ({}) must be in [0, 1) and sum to less than 1",
        t.val_fraction, t.test_fraction
    ))
}

/// The optimiser of the run, for `n_params` parameters and `iterations` updates in total.
pub fn optimizer(t: &TrainSettings, n_params: usize, iterations: u64) -> Result<Optimizer, String> {
    let rule = match t.optimizer.as_str() {
        "adam" => Rule::Adam(AdamConfig {
            lr: t.lr,
            weight_decay: t.weight_decay,
            ..AdamConfig::default()
        }),
        "adamw" => Rule::Adam(AdamConfig {
            lr: t.lr,
            weight_decay: t.weight_decay,
            decoupled: true,
            ..AdamConfig::default()
        }),
        "sgd" => Rule::Sgd(SgdConfig {
            lr: t.lr,
            momentum: 0.9,
            nesterov: true,
            weight_decay: t.weight_decay,
        }),
        other => {
            return Err(format!(
                "train.optimizer: unknown '{other}' (adam, adamw, sgd)"
            ))
        }
    };
    let schedule = match t.schedule.as_str() {
        "constant" => Schedule::Constant,
        "cosine" => Schedule::Cosine {
            end: t.lr / 30.0,
            over: iterations,
        },
        "linear" => Schedule::Linear {
            end: t.lr / 30.0,
            over: iterations,
        },
        other => {
            return Err(format!(
                "train.schedule: unknown '{other}' (constant, cosine, linear)"
            ))
        }
    };
    Optimizer::new(rule, schedule, n_params).map_err(|e| format!("train.lr: {e}"))
}

/// Point estimates of z from the network outputs of `n` spectra, and the distributions
/// (`[n, bins]`) for a classifier.
pub fn redshifts(m: &ModelConfig, outputs: &[f32]) -> Result<(Vec<f64>, Option<Vec<f32>>), String> {
    if !is_classifier(m)? {
        return Ok((outputs.iter().map(|&v| v as f64).collect(), None));
    }
    let z = point_estimates(&binning(m)?, outputs, estimator(m)?)?;
    Ok((z, Some(outputs.to_vec())))
}

/// The point estimator named in the config.
fn estimator(m: &ModelConfig) -> Result<PointEstimator, String> {
    match m.estimator.as_str() {
        "mode" => Ok(PointEstimator::Mode),
        "mean" => Ok(PointEstimator::Mean),
        "median" => Ok(PointEstimator::Median),
        other => Err(format!(
            "model.estimator: unknown '{other}' (mode, mean, median)"
        )),
    }
}

/// Upper bounds that keep a mistyped config from exhausting memory before it is noticed.
const MAX_BINS: usize = 100_000;
const MAX_FLOATS: usize = 4_000_000_000; // 16 GB of f32 spectra
const MAX_BATCH: usize = 65_536;
/// More epochs than any run needs; keeps the iteration count and the epoch numbers of a
/// checkpoint far from integer limits.
pub const MAX_EPOCHS: usize = 1_000_000;

/// Checks every field of a run configuration, whoever wrote it (a TOML file, flags, or the
/// metadata of a checkpoint), before any work starts: names, ranges, NaN and infinities, and
/// the memory the sizes would take.
pub fn check(config: &RunConfig) -> Result<(), String> {
    let (m, t) = (&config.model, &config.train);
    if m.bins == 0 || m.bins > MAX_BINS {
        return Err(format!(
            "model.bins must be between 1 and {MAX_BINS}, got {}",
            m.bins
        ));
    }
    if t.batch == 0 || t.batch > MAX_BATCH {
        return Err(format!(
            "train.batch must be between 1 and {MAX_BATCH}, got {}",
            t.batch
        ));
    }
    if t.epochs == 0 || t.epochs > MAX_EPOCHS {
        return Err(format!(
            "train.epochs must be between 1 and {MAX_EPOCHS}, got {}",
            t.epochs
        ));
    }
    check_number("train.weight_decay", t.weight_decay as f64, 0.0)?;
    check_number("model.lambda1", m.lambda1 as f64, 0.0)?;
    check_number("model.lambda2", m.lambda2 as f64, 0.0)?;
    if !(m.label_sigma_bins.is_finite() && m.label_sigma_bins > 0.0) {
        return Err(format!(
            "model.label_sigma_bins must be a positive number, got {}",
            m.label_sigma_bins
        ));
    }
    let s = &config.simulate;
    if s.n_spectra == 0 {
        return Err("simulate.n_spectra must be at least 1".into());
    }
    let simulated = if images::is_image_preset(&s.preset) {
        let sim = images::settings(&s.preset, s.n_spectra, s.seed, true)?;
        let size = sim.survey.stamp;
        InputShape::Images {
            bands: sim.survey.bands.len(),
            height: size,
            width: size,
        }
    } else {
        let pixels = sim_config(s)?.grid.pixels;
        for (field, n) in [("n_spectra", s.n_spectra), ("galaxies", s.galaxies)] {
            if n.checked_mul(pixels)
                .is_none_or(|floats| floats > MAX_FLOATS)
            {
                return Err(format!("simulate.{field} {n} × {pixels} pixels would not fit in memory (at most {MAX_FLOATS} floats)"));
            }
        }
        InputShape::Spectra { pixels }
    };
    // The model is checked on the inputs it is made for (a model trained on other data than
    // the simulation's, e.g. imported cutouts, need not match the simulate section).
    let input = match (model_input(m)?, m.preset.as_str()) {
        (Some(shape), _) => shape,
        (None, "photoz-catalog") => {
            check_catalog(&config.catalog)?;
            InputShape::Photometry {
                bands: config.catalog.bands.len(),
            }
        }
        (None, _) => simulated,
    };
    build_model(m, &input)?;
    augment(config, &input)?;
    binning(m)?;
    estimator(m)?;
    optimizer(t, 1, 1)?;
    check_fractions(t)
}

/// [`check`], and the splits of the spectra `zcnn run` simulates: training, and test data to
/// evaluate on (and validation data when a validation fraction is set).
pub fn check_run(config: &RunConfig) -> Result<(), String> {
    check(config)?;
    let [_, _, test] = splits(config.simulate.n_spectra, &config.train)?;
    if test.is_empty() {
        return Err("train.test_fraction is 0: `zcnn run` needs test spectra to evaluate".into());
    }
    Ok(())
}

/// A finite number of at least `min`.
fn check_number(field: &str, value: f64, min: f64) -> Result<(), String> {
    if value.is_finite() && value >= min {
        return Ok(());
    }
    Err(format!(
        "{field} must be a finite number of at least {min}, got {value}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(augment: Option<bool>, noise_snr: Option<(f32, f32)>) -> RunConfig {
        let mut config = RunConfig::default();
        config.train.augment = augment;
        config.train.noise_snr = noise_snr;
        config
    }

    /// Spectra are noised by default at [`DEFAULT_NOISE_SNR`], images rotated and flipped,
    /// catalogues left alone; `augment = false` turns it off, and `noise_snr` is checked.
    #[test]
    fn augmentation_is_on_by_default_and_noise_snr_is_for_spectra() {
        let spectra = InputShape::Spectra { pixels: 100 };
        let images = InputShape::Images {
            bands: 5,
            height: 8,
            width: 8,
        };
        let photometry = InputShape::Photometry { bands: 5 };
        let (min, max) = DEFAULT_NOISE_SNR;
        assert_eq!(
            augment(&settings(None, None), &spectra),
            Ok(Augment::WhiteNoise { snr: (min, max) })
        );
        assert_eq!(
            augment(&settings(None, Some((5.0, 5.0))), &spectra),
            Ok(Augment::WhiteNoise { snr: (5.0, 5.0) })
        );
        assert_eq!(
            augment(&settings(Some(false), None), &spectra),
            Ok(Augment::None)
        );
        assert_eq!(
            augment(&settings(None, None), &images),
            Ok(Augment::Dihedral)
        );
        assert_eq!(
            augment(&settings(None, None), &photometry),
            Ok(Augment::None)
        );
        let err = augment(&settings(None, Some((5.0, 2.0))), &spectra).unwrap_err();
        assert!(
            err.contains("train.noise_snr") && err.contains("[5, 2]"),
            "{err}"
        );
        let err = augment(&settings(None, Some((5.0, 5.0))), &images).unwrap_err();
        assert!(err.contains("images and catalogues"), "{err}");
        assert!(augment(&settings(None, Some((5.0, 5.0))), &photometry).is_err());
        assert!(augment(&settings(Some(true), None), &photometry).is_err());
    }
}
