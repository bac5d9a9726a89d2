//! The input contract and untrusted checkpoint metadata (issue 10, classes 1, 2, 3, 5 and 7):
//! a checkpoint records what it was trained on and refuses other inputs in the user's terms;
//! whatever a checkpoint stores is validated like a user's config; flags and configs share one
//! validation that runs before any work.
#![cfg(feature = "cli")]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::{fails, ok, s, scratch, simulate_and_train};
use zcnn::cli::checkpoint::{parse_checkpoint, KEY_CONFIG, KEY_HISTORY};
use zcnn::cli::config::RunConfig;
use zcnn::cli::contract::{InputShape, KEY_INPUT};
use zcnn::io::checkpoint::{checkpoint_bytes, TrainingState};
use zcnn::io::npy::{read_npy, write_npy, NpyExpect};
use zcnn::kernels::optim::AdamConfig;
use zcnn::loss::Loss;
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::presets::{specz_baseline, Output};

/// A dataset of 60 spectra and a model trained on it for one epoch (8 bins).
fn trained(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = scratch(name);
    let (data, checkpoint) = simulate_and_train(&dir, 60, 4, 8);
    (dir, data, checkpoint)
}

fn predict(checkpoint: &Path, spectra: &Path) -> Vec<String> {
    let out = spectra.with_extension("csv");
    vec![
        "predict".into(),
        "--checkpoint".into(),
        s(checkpoint).into(),
        "--spectra".into(),
        s(spectra).into(),
        "--out".into(),
        s(&out).into(),
    ]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The training spectra, with `pixels` pixels (cut or padded with the last value) and scaled.
fn spectra_like(data: &Path, out: &Path, pixels: usize, scale: f32) {
    let a = read_npy(&data.join("spectra.npy"), &NpyExpect::default()).unwrap();
    let (n, p) = (a.shape[0], a.shape[1]);
    let mut flux = Vec::with_capacity(n * pixels);
    for row in a.data.chunks(p) {
        flux.extend((0..pixels).map(|i| row[i.min(p - 1)] * scale));
    }
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    write_npy(out, &[n, pixels], &flux).unwrap();
}

#[test]
fn predict_refuses_spectra_of_another_size_grid_or_scale() {
    let (dir, data, ckpt) = trained("contract-predict");
    // The training spectra themselves pass.
    ok(&args(&predict(&ckpt, &data.join("spectra.npy"))));
    for pixels in [1779, 1781] {
        let spectra = dir.join(format!("p{pixels}")).join("spectra.npy");
        spectra_like(&data, &spectra, pixels, 1.0);
        let err = fails(&args(&predict(&ckpt, &spectra)));
        assert!(
            err.contains("trained on spectra of 1780 pixels, 11000–20000 Å")
                && err.contains(&format!("have {pixels} pixels"))
                && err.contains(s(&ckpt))
                && err.contains(s(&spectra)),
            "{err}"
        );
    }
    // Raw fluxes (×1e-17 of what the normalisation gives) are refused, not all given one z.
    let raw = dir.join("raw").join("spectra.npy");
    spectra_like(&data, &raw, 1780, 1e-17);
    let err = fails(&args(&predict(&ckpt, &raw)));
    assert!(
        err.contains("not normalised") && err.contains("60 of the 60") && err.contains("'max'"),
        "{err}"
    );
    // A wavelengths.npy beside the spectra is checked against the training grid.
    let shifted = dir.join("shifted");
    spectra_like(&data, &shifted.join("spectra.npy"), 1780, 1.0);
    let grid = read_npy(&data.join("wavelengths.npy"), &NpyExpect::default()).unwrap();
    let moved: Vec<f32> = grid.data.iter().map(|w| w + 3.0).collect();
    write_npy(&shifted.join("wavelengths.npy"), &[1780], &moved).unwrap();
    let err = fails(&args(&predict(&ckpt, &shifted.join("spectra.npy"))));
    assert!(
        err.contains("wavelengths.npy") && err.contains("pixel 0 is centred at 11003 Å"),
        "{err}"
    );
    // So is the grid given with --wavelengths (the spectra of p1779 have none beside them).
    let same = dir.join("p1780").join("spectra.npy");
    spectra_like(&data, &same, 1780, 1.0);
    let mut with_grid = predict(&ckpt, &same);
    with_grid.extend([
        "--wavelengths".into(),
        s(&shifted.join("wavelengths.npy")).into(),
    ]);
    let err = fails(&args(&with_grid));
    assert!(err.contains("pixel 0 is centred at 11003 Å"), "{err}");
    let missing = dir.join("no-such-grid.npy");
    let mut without = predict(&ckpt, &same);
    without.extend(["--wavelengths".into(), s(&missing).into()]);
    let err = fails(&args(&without));
    assert!(err.contains(s(&missing)), "{err}");
}

#[test]
fn evaluate_and_training_check_the_contract_and_the_epochs() {
    let (dir, _data, ckpt) = trained("contract-evaluate");
    let euclid = dir.join("euclid");
    ok(&[
        "simulate",
        "--out",
        s(&euclid),
        "-n",
        "20",
        "--preset",
        "euclid",
    ]);
    let err = fails(&[
        "evaluate",
        "--checkpoint",
        s(&ckpt),
        "--data",
        s(&euclid),
        "--out",
        s(&dir.join("report")),
    ]);
    assert!(
        err.contains("1780 pixels") && err.contains("have 512 pixels"),
        "{err}"
    );
    for flag in ["--resume", "--init-from"] {
        let err = fails(&[
            "train",
            "--data",
            s(&euclid),
            "--out",
            s(&dir.join("again")),
            "--epochs",
            "2",
            "--bins",
            "8",
            flag,
            s(&ckpt),
        ]);
        assert!(err.contains("have 512 pixels"), "{flag}: {err}");
    }
    // Resuming a run that has all its epochs would train nothing: an error, not a no-op.
    let err = fails(&[
        "train",
        "--data",
        s(&dir.join("data")),
        "--out",
        s(&dir.join("again")),
        "--epochs",
        "1",
        "--bins",
        "8",
        "--resume",
        s(&ckpt),
    ]);
    assert!(err.contains("1 epochs are done already"), "{err}");
}

#[test]
fn an_edited_checkpoint_setting_is_refused() {
    let (dir, data, ckpt) = trained("contract-edited");
    let mut bytes = std::fs::read(&ckpt).unwrap();
    let (from, to) = (b"z_max = 1.8", b"z_max = 1.9");
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the stored config holds z_max");
    bytes[at..at + to.len()].copy_from_slice(to);
    let edited = dir.join("edited.safetensors");
    std::fs::write(&edited, &bytes).unwrap();
    let err = fails(&args(&predict(&edited, &data.join("spectra.npy"))));
    assert!(err.contains(s(&edited)) && err.contains("edited"), "{err}");
}

/// The bytes of a sealed checkpoint of a small specz-baseline (64 pixels, 8 classes) whose
/// metadata holds `config`, `contract` (none when empty) and `history`, trained for `epoch`
/// epochs and `iteration` updates.
fn checkpoint_with(
    config: &RunConfig,
    contract: &str,
    history: &str,
    epoch: usize,
    iteration: u64,
) -> Vec<u8> {
    let output = Output::Classes {
        k: 8,
        loss: Loss::CrossEntropy,
    };
    let model = specz_baseline(64, output, 1).unwrap();
    let rule = Rule::Adam(AdamConfig::default());
    let mut optimizer = Optimizer::new(rule, Schedule::Constant, model.param_count()).unwrap();
    optimizer.iteration = iteration;
    let state = TrainingState {
        optimizer: &optimizer,
        epoch,
    };
    let mut metadata = BTreeMap::from([
        (KEY_CONFIG.to_string(), config.to_toml()),
        (KEY_HISTORY.to_string(), history.to_string()),
    ]);
    if !contract.is_empty() {
        metadata.insert(KEY_INPUT.to_string(), contract.to_string());
    }
    checkpoint_bytes(&model, Some(&state), &metadata).unwrap()
}

const CONTRACT: &str = r#"{"input":{"kind":"spectra","pixels":64},"wavelengths":null,"normalisation":"max","scale":[1.0,1.0]}"#;
const HISTORY: &str = r#"{"epochs":[{"epoch":1,"train_loss":2.0}]}"#;

fn config(bins: usize) -> RunConfig {
    let mut c = RunConfig::default();
    c.model.bins = bins;
    c
}

fn refused(bytes: &[u8]) -> String {
    match parse_checkpoint(bytes, Path::new("stored.safetensors")) {
        Ok(ckpt) => ckpt
            .model(&InputShape::Spectra { pixels: 64 })
            .err()
            .expect("an inconsistent checkpoint must be refused"),
        Err(e) => e,
    }
}

#[test]
fn stored_metadata_is_validated_like_a_user_config() {
    // The valid base loads and gives a model.
    let base = checkpoint_with(&config(8), CONTRACT, HISTORY, 1, 2);
    let ckpt = parse_checkpoint(&base, Path::new("stored.safetensors")).unwrap();
    ckpt.model(&InputShape::Spectra { pixels: 64 }).unwrap();
    assert_eq!(ckpt.epochs_done, 1);
    // A checkpoint from before the contract loads (with a warning); its tensors still catch
    // most other input sizes (80 pixels, but not 65: it pools to 64's size, which is why the
    // contract exists).
    let old = checkpoint_with(&config(8), "", HISTORY, 1, 2);
    let ckpt = parse_checkpoint(&old, Path::new("old.safetensors")).unwrap();
    assert!(ckpt.contract.is_none());
    ckpt.model(&InputShape::Spectra { pixels: 64 }).unwrap();
    let e = ckpt
        .model(&InputShape::Spectra { pixels: 80 })
        .err()
        .expect("another input size");
    assert!(
        e.contains("old.safetensors") && e.contains("stored tensors"),
        "{e}"
    );

    // A huge bins count is refused before any allocation (it aborted with 410 GB).
    let e = refused(&checkpoint_with(&config(1 << 40), CONTRACT, HISTORY, 1, 2));
    assert!(
        e.contains("stored.safetensors") && e.contains("model.bins"),
        "{e}"
    );
    // bins that do not match the stored output layer.
    let e = refused(&checkpoint_with(&config(80), CONTRACT, HISTORY, 1, 2));
    assert!(e.contains("does not describe the stored tensors"), "{e}");
    // NaN weight decay, through the same check as a user's config.
    let mut nan = config(8);
    nan.train.weight_decay = f32::NAN;
    let e = refused(&checkpoint_with(&nan, CONTRACT, HISTORY, 1, 2));
    assert!(e.contains("train.weight_decay"), "{e}");
    // Counts at the integer limits.
    let e = refused(&checkpoint_with(
        &config(8),
        CONTRACT,
        HISTORY,
        usize::MAX,
        2,
    ));
    assert!(e.contains("zcnn_state.epoch"), "{e}");
    let e = refused(&checkpoint_with(&config(8), CONTRACT, HISTORY, 1, u64::MAX));
    assert!(e.contains("zcnn_state.optimizer.iteration"), "{e}");
    // A history epoch 0 underflowed.
    let e = refused(&checkpoint_with(
        &config(8),
        CONTRACT,
        r#"{"epochs":[{"epoch":0,"train_loss":1}]}"#,
        1,
        2,
    ));
    assert!(e.contains("zcnn.history"), "{e}");
    // A contract of absurd size or grid.
    let huge = CONTRACT.replace("\"pixels\":64", "\"pixels\":18446744073709551615");
    let e = refused(&checkpoint_with(&config(8), &huge, HISTORY, 1, 2));
    assert!(e.contains("zcnn.input"), "{e}");
    let grid = CONTRACT.replace("null", "[1.0, 2.0]");
    let e = refused(&checkpoint_with(&config(8), &grid, HISTORY, 1, 2));
    assert!(e.contains("zcnn.input") && e.contains("wavelengths"), "{e}");
}

#[test]
fn flags_and_configs_are_validated_once_before_any_work() {
    let dir = scratch("contract-settings");
    // `simulate -n` passes the memory guard of configs and `run`.
    let err = fails(&["simulate", "--out", s(&dir.join("d")), "-n", "100000000000"]);
    assert!(
        err.contains("simulate.n_spectra") && err.contains("memory"),
        "{err}"
    );
    assert!(!dir.join("d").exists(), "simulate started work");
    // `run -n 3`: 10 % of 3 spectra is no test spectrum; refused before simulating.
    let err = fails(&["run", "--out", s(&dir.join("r")), "-n", "3"]);
    assert!(
        err.contains("train.val_fraction") && err.contains("of 3 spectra"),
        "{err}"
    );
    assert!(!dir.join("r").exists(), "run started work");
    for (toml, field) in [
        ("[train]\nweight_decay = nan\n", "train.weight_decay"),
        ("[train]\nweight_decay = -0.1\n", "train.weight_decay"),
        ("[train]\nepochs = 18446744073709551615\n", "train.epochs"),
        ("[train]\ntest_fraction = nan\n", "train.test_fraction"),
        ("[model]\nestimator = \"modal\"\n", "model.estimator"),
        (
            "[model]\nlabel_sigma_bins = inf\n",
            "model.label_sigma_bins",
        ),
        ("[model]\nlambda1 = -1.0\n", "model.lambda1"),
        ("[model]\nz_max = inf\n", "z_max"),
        ("[simulate]\ngalaxies = 100000000000\n", "simulate.galaxies"),
    ] {
        let path = dir.join("bad.toml");
        std::fs::write(&path, toml).unwrap();
        let err = fails(&["run", "--out", s(&dir.join("r")), "--config", s(&path)]);
        assert!(err.contains(field), "{toml}: {err}");
        assert!(!dir.join("r").exists(), "{toml}: run started work");
    }
}

#[test]
fn an_npy_shape_whose_size_overflows_is_a_clear_error() {
    let dir = scratch("contract-npy");
    let mut header =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    let spectra = dir.join("spectra.npy");
    std::fs::write(&spectra, bytes).unwrap();
    let (_, _, ckpt) = trained("contract-npy-model");
    let err = fails(&args(&predict(&ckpt, &spectra)));
    assert!(
        err.contains(s(&spectra)) && err.contains("larger than memory"),
        "{err}"
    );
}
