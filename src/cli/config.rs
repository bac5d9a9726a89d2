//! The run configuration: what to simulate, which model, how to train. Read from TOML (unknown
//! keys are rejected with the closest valid key suggested), then overridden by flags.

use serde::{Deserialize, Serialize};

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub simulate: SimulateConfig,
    pub model: ModelConfig,
    pub train: TrainSettings,
    pub catalog: CatalogConfig,
    pub debias: DebiasConfig,
}

/// `zcnn debias`: the four correction steps of Lin et al. (2022) (README "Unbiased photo-z:
/// the four steps"). Defaults are the paper's SDSS values (research notes §1.5, §1.7, §1.8)
/// where they apply; epochs are scaled down to what runs on a few cores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DebiasConfig {
    /// The steps to run, in order: 0 (baseline), 1 (factorised output), 2 (balanced heads),
    /// 3 (extended range, soft shifted labels), 4 (bulk-bias calibration).
    pub steps: Vec<usize>,
    /// The `labels.csv` column with each object's r magnitude. Absent: `mag_r`, or for the
    /// catalogue estimator the `[catalog]` table's magnitude in its reference band. Not read
    /// when `rows = 1` (one row holds every object: the spectroscopic case).
    pub magnitude: Option<String>,
    /// Magnitude rows (§1.5): `rows` (odd, 2m − 1) rows of `row_width` mag from `r_min`.
    pub r_min: f64,
    pub row_width: f64,
    pub rows: usize,
    /// The cap per (z bin × row) cell of the balanced subset (§1.8; 200 for SDSS).
    pub n_th: usize,
    /// Step 1 (§1.7: Adam, lr 1e-4, batch 128).
    pub step1_epochs: usize,
    pub step1_lr: f32,
    pub step1_batch: usize,
    /// Steps 2–3, the heads on the frozen trunk's features (§1.7: lr 2e-5, batch 32).
    pub heads_epochs: usize,
    pub heads_lr: f32,
    pub heads_batch: usize,
}

impl Default for DebiasConfig {
    fn default() -> Self {
        DebiasConfig {
            steps: vec![0, 1, 2, 3, 4],
            magnitude: None,
            r_min: 12.5,
            row_width: 0.5,
            rows: 11,
            n_th: 200,
            step1_epochs: 10,
            step1_lr: 1e-4,
            step1_batch: 128,
            heads_epochs: 10,
            heads_lr: 2e-5,
            heads_batch: 32,
        }
    }
}

/// The photometric table the catalogue estimator (`model.preset = "photoz-catalog"`) reads:
/// which file of the data folder, and which columns (README "Catalogue photometry").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// The table in the data folder: CSV, or FITS (`.fits`, `.fit`, `.fts`).
    pub table: String,
    /// Band names, in wavelength order.
    pub bands: Vec<String>,
    /// Magnitude and error columns; `{band}` stands for a band name.
    pub magnitude: String,
    pub error: String,
    /// The band of the reference magnitude feature.
    pub reference: String,
    /// The id column (absent: row numbers) and the true redshift column.
    pub id: Option<String>,
    pub z: String,
    /// FITS only: the binary table with this EXTNAME (absent: the first).
    pub hdu: Option<String>,
}

impl Default for CatalogConfig {
    /// The observed magnitudes `zcnn simulate --preset sdss` writes into `labels.csv`.
    fn default() -> Self {
        CatalogConfig {
            table: "labels.csv".into(),
            bands: ["u", "g", "r", "i", "z"].map(String::from).to_vec(),
            magnitude: "mag_obs_{band}".into(),
            error: "magerr_{band}".into(),
            reference: "r".into(),
            id: Some("id".into()),
            z: "z".into(),
            hdu: None,
        }
    }
}

/// The simulated dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimulateConfig {
    /// Instrument preset: "seed" (11,000–20,000 Å, 1,780 pixels) or "euclid" (NISP red grism).
    pub preset: String,
    /// Number of spectra (one per rest-frame galaxy when `galaxies` is 0).
    pub n_spectra: usize,
    /// Size of the rest-frame SED library (0: as many as spectra).
    pub galaxies: usize,
    pub seed: u64,
    /// Add emission lines to the built-in templates.
    pub lines: bool,
    /// White Gaussian noise at this signal-to-noise ratio (absent: the preset's noise model).
    pub snr: Option<f64>,
    /// "none", "max", "median" or "l2".
    pub normalisation: String,
    /// A folder of rest-frame `.sed` files to use instead of the built-in library.
    pub sed_dir: Option<String>,
    /// A folder of rest-frame continua (`.sed` or FITS; e.g. from
    /// `scripts/build_sps_library.sh`) that the population draws its templates from instead of
    /// the built-in families, pooled by Dn4000 as they are. Absent: the built-in templates.
    pub continua: Option<String>,
    /// Galaxy population of the built-in library: "mixed" (passive, retired, star-forming and
    /// Seyfert galaxies), "halpha" (Hα-selected), "passive" (no lines) or "strong_lines" (every
    /// galaxy with lines of W(Hα) 20–300 Å, the library before issue 13). Absent: "halpha" for the euclid preset,
    /// "mixed" otherwise.
    pub population: Option<String>,
    /// Built-in template families to draw from (absent: all): "cosmos", "kcorrect",
    /// "cww_kinney".
    pub families: Option<Vec<String>>,
    /// Fraction of spectra overlapped by a neighbour's spectrum (slitless contamination, with
    /// the contaminated pixels masked; needs noise). Absent: none.
    pub contamination: Option<f64>,
    /// Redshift range (absent: the preset's, 1 ≤ z < 1.8).
    pub z_min: Option<f64>,
    pub z_max: Option<f64>,
}

impl Default for SimulateConfig {
    fn default() -> Self {
        SimulateConfig {
            preset: "seed".into(),
            n_spectra: 10_000,
            galaxies: 0,
            seed: 1,
            lines: true,
            snr: None,
            normalisation: "max".into(),
            sed_dir: None,
            continua: None,
            population: None,
            families: None,
            contamination: None,
            z_min: None,
            z_max: None,
        }
    }
}

/// The network and what it predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// "specz-baseline" (the only spectroscopic preset so far).
    pub preset: String,
    /// "classes" (classification over redshift bins) or "regression" (one value, MSE).
    pub target: String,
    pub bins: usize,
    pub z_min: f64,
    pub z_max: f64,
    /// "cross_entropy", "soft_cross_entropy", "js_entropy", "kl" (classes) or "mse".
    pub loss: String,
    /// Width of the Gaussian soft labels, in bins (soft targets only).
    pub label_sigma_bins: f64,
    /// Weights of JS(Q, P) and H(P) for the "js_entropy" loss.
    pub lambda1: f32,
    pub lambda2: f32,
    /// Point estimate of a predicted distribution: "mode", "mean" or "median".
    pub estimator: String,
    pub seed: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            preset: "specz-baseline".into(),
            target: "classes".into(),
            bins: 800,
            z_min: 1.0,
            z_max: 1.8,
            loss: "cross_entropy".into(),
            label_sigma_bins: 2.0,
            lambda1: 0.9,
            lambda2: 0.1,
            estimator: "mode".into(),
            seed: 1,
        }
    }
}

/// The optimiser and the training loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSettings {
    pub epochs: usize,
    pub batch: usize,
    /// "adam", "adamw" or "sgd" (with Nesterov momentum 0.9).
    pub optimizer: String,
    pub lr: f32,
    pub weight_decay: f32,
    /// "constant", "cosine" or "linear" (to lr/30 over the run).
    pub schedule: String,
    pub seed: u64,
    /// Fractions of the dataset held out for validation and test (the last spectra).
    pub val_fraction: f64,
    pub test_fraction: f64,
    /// Stop when the validation loss has not improved for this many epochs (0: never).
    pub patience: usize,
    /// Use only this many training spectra (0: all), for training-set-size studies.
    pub max_train: usize,
    /// Start from the weights of this checkpoint (same architecture; empty: a fresh
    /// initialisation). The optimiser starts afresh, so a model trained with one loss can be
    /// fine-tuned with another (two-stage training).
    pub init_from: String,
    /// Augment the training samples (absent: yes for images and spectra): rotate and flip each
    /// image by one of the 8 symmetries of the square; add white noise to each spectrum at
    /// `noise_snr`. Catalogues have no augmentation.
    pub augment: Option<bool>,
    /// Spectra: the noise augmentation adds white Gaussian noise to every training spectrum, a
    /// new realisation at every update, at an SNR drawn per spectrum log-uniformly in
    /// `[min, max]` (σ = mean|f| / SNR, the simulator's definition; `[5, 5]` for one SNR), so a
    /// network does not memorise one noise realisation or the exact shape of its templates.
    /// Absent: [`DEFAULT_NOISE_SNR`].
    pub noise_snr: Option<(f32, f32)>,
}

/// The SNR range of the noise augmentation of spectra: from noisier than the noisiest data the
/// README studies (SNR 5) to nearly clean. The generalisation study (README) measured it.
pub const DEFAULT_NOISE_SNR: (f32, f32) = (3.0, 100.0);

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epochs: 10,
            batch: 32,
            optimizer: "adam".into(),
            lr: 1e-3,
            weight_decay: 0.0,
            schedule: "constant".into(),
            seed: 1,
            val_fraction: 0.1,
            test_fraction: 0.1,
            patience: 0,
            max_train: 0,
            init_from: String::new(),
            augment: None,
            noise_snr: None,
        }
    }
}

impl RunConfig {
    /// Parses TOML; an unknown key is an error naming it, its table and the closest valid key.
    pub fn from_toml(text: &str, source: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| describe_toml_error(&e.to_string(), source))
    }

    /// The configuration as TOML (stored with datasets and checkpoints).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a config always serialises")
    }
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into a message with a suggestion.
fn describe_toml_error(message: &str, source: &str) -> String {
    let first_line = message.trim();
    let suggestion = unknown_field(first_line).and_then(|(found, expected)| {
        expected
            .iter()
            .min_by_key(|e| edit_distance(&found, e))
            .map(|best| format!(" (did you mean `{best}`?)"))
    });
    format!("{source}: {first_line}{}", suggestion.unwrap_or_default())
}

/// Extracts the unknown field and the expected ones from serde's message.
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = &message[message.find("unknown field `")? + "unknown field `".len()..];
    let found = rest[..rest.find('`')?].to_string();
    let expected = rest.split("expected").nth(1)?;
    let names = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((found, names))
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let c = RunConfig::default();
        assert_eq!(RunConfig::from_toml(&c.to_toml(), "x").unwrap(), c);
    }

    #[test]
    fn unknown_keys_name_the_closest_valid_key() {
        let err = RunConfig::from_toml("[train]\nepochz = 3\n", "cfg.toml").unwrap_err();
        assert!(err.contains("cfg.toml"), "{err}");
        assert!(err.contains("epochz"), "{err}");
        assert!(err.contains("did you mean `epochs`"), "{err}");
        let err = RunConfig::from_toml("[modle]\n", "cfg.toml").unwrap_err();
        assert!(err.contains("did you mean `model`"), "{err}");
    }

    #[test]
    fn wrong_types_are_errors() {
        let err = RunConfig::from_toml("[train]\nepochs = \"ten\"\n", "c.toml").unwrap_err();
        assert!(err.contains("c.toml") && err.contains("epochs"), "{err}");
    }
}
