//! `zcnn debias`, the four steps of Lin et al. (2022) wired together: the trunk stays
//! bit-identical while Steps 2–3 train the heads on its features, a small study runs every
//! step end to end on simulated SDSS photometry, and bad settings are errors.

// Not every helper of the shared test support is used here.
#[allow(dead_code)]
mod support;

use std::path::Path;
use support::{fails, ok, s, scratch};
use zcnn::cli::config::RunConfig;
use zcnn::cli::debias::fine_tune_heads;
use zcnn::cli::debias::heads::{head_targets, trunk_features};
use zcnn::dims::Dims;
use zcnn::loss::Loss;
use zcnn::model::Model;
use zcnn::presets::{factorised_heads, photoz_catalog, with_heads, Output};
use zcnn::redshift::lin2022::{step12_batch_targets, MagnitudeRows};
use zcnn::redshift::ZBinning;
use zcnn::train::Dataset;

/// The parameters of `range` as bits, to compare exactly.
fn bits(model: &Model, range: std::ops::Range<usize>) -> Vec<u32> {
    model.params()[range].iter().map(|v| v.to_bits()).collect()
}

/// Simulates `n` objects of `preset` with `seed` into `out`.
fn simulate(preset: &str, n: usize, seed: u64, out: &Path) {
    let (n, seed) = (n.to_string(), seed.to_string());
    ok(&[
        "simulate",
        "--preset",
        preset,
        "-n",
        &n,
        "--seed",
        &seed,
        "--out",
        s(out),
    ]);
}

/// The arguments of `zcnn debias` on `data` with `config` into `out`.
fn debias_args<'a>(data: &'a Path, config: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "debias",
        "--data",
        s(data),
        "--config",
        s(config),
        "--out",
        s(out),
    ]
}

/// Runs `zcnn debias` on `data` with `config` into `out`; its output and study.json.
fn study(data: &Path, config: &Path, out: &Path) -> (String, serde_json::Value) {
    let text = ok(&debias_args(data, config, out));
    let json = std::fs::read_to_string(out.join("study.json")).unwrap();
    (text, serde_json::from_str(&json).unwrap())
}

/// The numbers of a step note, e.g. the subset and training-set sizes of
/// "balanced subset: 1200 of 8000".
fn numbers_in(note: &str) -> Vec<usize> {
    note.split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .collect()
}

#[test]
fn the_trunk_stays_bit_identical_through_steps_2_and_3() {
    let (n, width, outputs, bins) = (64, 10, 2, 20);
    let preset = photoz_catalog(
        width,
        Output::Classes {
            k: bins,
            loss: Loss::CrossEntropy,
        },
        3,
    )
    .unwrap();
    let mut full = with_heads(preset, |d| factorised_heads(d, outputs, bins), 3).unwrap();
    assert_eq!(full.heads().len(), 1 + outputs);
    let x: Vec<f32> = (0..n * width)
        .map(|i| ((i * 37 % 101) as f32 / 101.0) - 0.5)
        .collect();
    let inputs = Dataset {
        sample: Dims::Flat(width),
        inputs: x.into(),
        n_extra: 0,
        extra: Vec::new(),
        targets: Vec::new(),
    };
    let features = trunk_features(&mut full, &inputs).unwrap();
    let base = ZBinning::new(0.0, 0.4, bins).unwrap();
    let rows = MagnitudeRows::new(15.0, 1.0, 3).unwrap();
    let z: Vec<f64> = (0..n).map(|i| 0.4 * (i as f64 + 0.5) / n as f64).collect();
    let row: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let targets = step12_batch_targets(&base, &rows, &z, &row).unwrap();
    let mut config = RunConfig::default();
    config.debias.heads_epochs = 3;
    config.debias.heads_batch = 16;
    config.debias.heads_lr = 1e-2;

    let trunk = bits(&full, full.trunk_range());
    let magnitude_head = bits(&full, full.head_range(0));
    let redshift_head = bits(&full, full.head_range(1));
    // Step 2: the redshift heads on the features.
    let data = features
        .dataset(head_targets(&targets, outputs, bins))
        .unwrap();
    fine_tune_heads(&config, &mut full, &data).unwrap();
    assert_eq!(
        bits(&full, full.trunk_range()),
        trunk,
        "step 2 moved the trunk"
    );
    assert_eq!(
        bits(&full, full.head_range(0)),
        magnitude_head,
        "step 2 moved the magnitude head"
    );
    assert_ne!(
        bits(&full, full.head_range(1)),
        redshift_head,
        "step 2 did not train the redshift heads"
    );

    // Step 3: re-initialised redshift heads over an extended range.
    let extended = base.extended(bins / 2, bins / 2).unwrap();
    for (h, head) in factorised_heads(full.trunk().out_dims(), outputs, extended.bins())
        .unwrap()
        .into_iter()
        .enumerate()
        .skip(1)
    {
        full.replace_head(h, head, 9).unwrap();
    }
    let targets = step12_batch_targets(&extended, &rows, &z, &row).unwrap();
    let data = features
        .dataset(head_targets(&targets, outputs, extended.bins()))
        .unwrap();
    fine_tune_heads(&config, &mut full, &data).unwrap();
    assert_eq!(
        bits(&full, full.trunk_range()),
        trunk,
        "step 3 moved the trunk"
    );
    assert_eq!(bits(&full, full.head_range(0)), magnitude_head);
    // The trunk computes the same features as before the fine-tuning.
    let again = trunk_features(&mut full, &inputs).unwrap();
    assert_eq!(again.values, features.values);
}

/// A study configuration for a small simulated SDSS catalogue: every step, a few epochs.
const STUDY_CONFIG: &str = r#"
[model]
preset = "photoz-catalog"
bins = 180
z_min = 0.0
z_max = 0.4
loss = "cross_entropy"

[train]
epochs = 3
batch = 32
lr = 0.001
test_fraction = 0.3

[debias]
r_min = 15.5
row_width = 0.5
rows = 11
n_th = 5
step1_epochs = 3
step1_lr = 0.001
step1_batch = 32
heads_epochs = 2
heads_lr = 0.0005
heads_batch = 32
"#;

#[test]
fn a_small_study_runs_every_step_and_reports_finite_metrics() {
    let dir = scratch("debias-study");
    let data = dir.join("data");
    simulate("sdss", 600, 5, &data);
    let config = dir.join("debias.toml");
    std::fs::write(&config, STUDY_CONFIG).unwrap();
    let out = dir.join("study");
    let (text, study) = self::study(&data, &config, &out);
    assert!(text.contains("balanced subset:"), "{text}");
    assert_eq!(study["test_objects"], 180);
    let steps = study["steps"].as_array().unwrap();
    let numbers: Vec<u64> = steps.iter().map(|s| s["step"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4]);
    for step in steps {
        for key in [
            "seconds",
            "bias",
            "sigma_nmad",
            "eta_0_05",
            "total_variation",
            "slope_above_0_15_vs_z_spec",
            "max_abs_mean_residual_vs_z_photo",
        ] {
            let value = step[key].as_f64();
            assert!(
                value.is_some_and(f64::is_finite),
                "step {}: {key} = {}",
                step["step"],
                step[key]
            );
        }
        assert_eq!(step["sigma_nmad_per_row"].as_array().unwrap().len(), 11);
    }
    // The balanced subset is smaller than the training set with N_th = 5.
    let note = steps[2]["note"].as_str().unwrap();
    let sizes = numbers_in(note);
    assert!(sizes[0] < sizes[1], "{note}");
    for plot in ["residuals.svg", "histograms.svg", "nmad_per_row.svg"] {
        let svg = std::fs::read_to_string(out.join(plot)).unwrap();
        assert!(svg.trim_end().ends_with("</svg>"), "{plot}");
        assert!(svg.contains("4 bulk-bias"), "{plot} lacks step 4");
    }
    assert!(out.join("step0").join("checkpoint.safetensors").is_file());
    assert!(std::fs::read_to_string(out.join("study.md"))
        .unwrap()
        .contains("| 3 extended labels |"));
    // A second run into the same folder needs --overwrite.
    let err = fails(&debias_args(&data, &config, &out));
    assert!(err.contains("--overwrite"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_steps_and_a_missing_magnitude_column_are_errors() {
    let dir = scratch("debias-errors");
    let data = dir.join("data");
    simulate("sdss", 40, 2, &data);
    let config = dir.join("debias.toml");
    std::fs::write(&config, STUDY_CONFIG).unwrap();
    let out = dir.join("study");
    let run = |extra: &[&str]| {
        let mut args = debias_args(&data, &config, &out);
        args.extend_from_slice(extra);
        fails(&args)
    };
    assert!(run(&["--steps", "0,7"]).contains("unknown step 7"));
    assert!(run(&["--steps", "1,3"]).contains("step 3 needs step 2"));
    assert!(run(&["--steps", "0,x"]).contains("'x' is not a step number"));
    let missing = STUDY_CONFIG.replace("[debias]", "[debias]\nmagnitude = \"mag_nope\"");
    std::fs::write(&config, missing).unwrap();
    let err = run(&[]);
    assert!(
        err.contains("no column 'mag_nope'") && err.contains("labels.csv"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The spectroscopic side: spectra carry no magnitude, so one row holds every object.
#[test]
fn spectra_run_every_step_in_one_magnitude_row() {
    let dir = scratch("debias-spectra");
    let data = dir.join("data");
    simulate("seed", 300, 4, &data);
    let config = dir.join("debias.toml");
    let text = r#"
[model]
preset = "specz-baseline"
target = "classes"
bins = 80
z_min = 1.0
z_max = 1.8
loss = "cross_entropy"

[train]
epochs = 1
batch = 32
test_fraction = 0.3

[debias]
r_min = 0.0
row_width = 1.0
rows = 1
n_th = 2
step1_epochs = 1
heads_epochs = 1
"#;
    std::fs::write(&config, text).unwrap();
    let out = dir.join("study");
    let (_, study) = self::study(&data, &config, &out);
    let steps = study["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5);
    for step in steps {
        assert_eq!(step["sigma_nmad_per_row"].as_array().unwrap().len(), 1);
        assert!(step["total_variation"].as_f64().is_some_and(f64::is_finite));
    }
    // N_th = 2 over 80 bins keeps at most 2 × 80 = 160 of the training spectra.
    let note = steps[2]["note"].as_str().unwrap();
    let sizes = numbers_in(note);
    assert!(sizes[0] <= 160 && sizes[0] < sizes[1], "{note}");
    std::fs::remove_dir_all(&dir).ok();
}
