//! Checkpoints: bit-identical resumption, deterministic bytes, metadata, and every way a file
//! can be wrong.
#![cfg(feature = "cli")]

mod common_models;

use common_models::{random_data, tiny_1d, tiny_2d};
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use zcnn::io::checkpoint::{
    checkpoint_bytes, load_checkpoint, parse_checkpoint, save_checkpoint, TrainingState,
};
use zcnn::kernels::optim::{AdamConfig, SgdConfig};
use zcnn::model::Model;
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::train::{Dataset, Event, Sampling, TrainConfig, Trainer};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zcnn-ckpt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn adam() -> Rule {
    Rule::Adam(AdamConfig {
        lr: 1e-3,
        ..AdamConfig::default()
    })
}

fn nesterov() -> Rule {
    Rule::Sgd(SgdConfig {
        lr: 0.01,
        momentum: 0.9,
        nesterov: true,
        weight_decay: 1e-4,
    })
}

fn optimizer(model: &Model, rule: Rule) -> Optimizer {
    let schedule = Schedule::Linear {
        end: 1e-4,
        over: 20,
    };
    Optimizer::new(rule, schedule, model.param_count()).unwrap()
}

fn config(epochs: usize, seed: u64) -> TrainConfig {
    TrainConfig {
        batch: 4,
        epochs,
        sampling: Sampling::Shuffle,
        seed,
        ..TrainConfig::default()
    }
}

/// Trains for `epochs`, returning the loss of every step.
fn fit(model: &mut Model, opt: &mut Optimizer, trainer: &mut Trainer, data: &Dataset) -> Vec<f32> {
    let mut losses = Vec::new();
    let mut record = |e: Event, _: &Model, _: &Optimizer| {
        if let Event::Step(s) = e {
            losses.push(s.loss);
        }
        ControlFlow::Continue(())
    };
    trainer.fit(model, opt, data, None, &mut record).unwrap();
    losses
}

/// N + M epochs straight equal N epochs, a checkpoint, a fresh model/optimiser/trainer loaded
/// from it, and M more epochs: same parameters, batch-norm state and per-step losses.
fn assert_bit_identical_resume(make: fn(u64) -> Model, rule: Rule, name: &str) {
    let (n, m) = (2, 3);
    let data = random_data(&make(0), 10, 42);

    let mut straight = make(7);
    let mut opt = optimizer(&straight, rule);
    let mut trainer = Trainer::new(&straight, &data, config(n + m, 9)).unwrap();
    let straight_losses = fit(&mut straight, &mut opt, &mut trainer, &data);

    let mut first = make(7);
    let mut opt = optimizer(&first, rule);
    let mut trainer = Trainer::new(&first, &data, config(n, 9)).unwrap();
    let mut losses = fit(&mut first, &mut opt, &mut trainer, &data);
    let path = scratch_dir(name).join("resume.safetensors");
    let state = TrainingState {
        optimizer: &opt,
        epoch: n,
    };
    save_checkpoint(&path, &first, Some(&state), &BTreeMap::new()).unwrap();

    // Everything fresh, from other seeds: the checkpoint must carry all that matters.
    let mut resumed = make(1234);
    let mut opt = optimizer(&resumed, rule);
    // The shuffle order of an epoch depends only on (seed, epoch): the resumed run starts at
    // epoch n of the same configuration.
    let resumed_config = TrainConfig {
        first_epoch: n,
        ..config(n + m, 9)
    };
    let mut trainer = Trainer::new(&resumed, &data, resumed_config).unwrap();
    let ckpt = load_checkpoint(&path).unwrap();
    ckpt.restore_model(&mut resumed).unwrap();
    let epoch = ckpt.restore_training(&mut resumed, &mut opt).unwrap();
    assert_eq!(epoch, n);
    losses.extend(fit(&mut resumed, &mut opt, &mut trainer, &data));

    assert_eq!(losses.len(), straight_losses.len());
    for (i, (a, b)) in losses.iter().zip(&straight_losses).enumerate() {
        assert_eq!(a.to_bits(), b.to_bits(), "step {i}: {a} vs {b}");
    }
    assert_eq!(resumed.params(), straight.params());
    assert_eq!(resumed.export_torch(), straight.export_torch());
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn resume_is_bit_identical_with_adam() {
    assert_bit_identical_resume(tiny_1d, adam(), "adam");
}

#[test]
fn resume_is_bit_identical_with_nesterov_sgd() {
    assert_bit_identical_resume(tiny_2d, nesterov(), "sgd");
}

/// The checkpoint of one epoch of training, trained in a pool of `threads`.
fn trained_bytes(threads: usize, metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut model = tiny_1d(3);
        let data = random_data(&model, 10, 4);
        let mut opt = optimizer(&model, adam());
        let mut trainer = Trainer::new(&model, &data, config(1, 5)).unwrap();
        fit(&mut model, &mut opt, &mut trainer, &data);
        let state = TrainingState {
            optimizer: &opt,
            epoch: 1,
        };
        checkpoint_bytes(&model, Some(&state), metadata).unwrap()
    })
}

#[test]
fn bytes_are_deterministic_across_runs_and_thread_counts() {
    let mut meta = BTreeMap::new();
    for (k, v) in [
        ("zcnn.config", "[model]\npreset = 'tiny'"),
        ("b", "2"),
        ("a", "1"),
    ] {
        meta.insert(k.to_string(), v.to_string());
    }
    let one = trained_bytes(1, &meta);
    assert_eq!(one, trained_bytes(2, &meta));
    assert_eq!(one, trained_bytes(1, &meta));
    // The header names no path, host or time: only what was given.
    let header_len = u64::from_le_bytes(one[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&one[8..8 + header_len]).unwrap();
    assert!(header.contains(r#""a":"1","b":"2""#), "{header}");
    assert!(header_len.is_multiple_of(8));
}

#[test]
fn metadata_round_trips_and_the_reserved_prefix_is_refused() {
    let model = tiny_1d(0);
    let mut meta = BTreeMap::new();
    meta.insert(
        "zcnn.config".to_string(),
        "{\"preset\": \"tiny\"}".to_string(),
    );
    let bytes = checkpoint_bytes(&model, None, &meta).unwrap();
    let ckpt = parse_checkpoint(&bytes).unwrap();
    assert_eq!(ckpt.metadata, meta);
    assert!(!ckpt.has_training_state());
    assert_eq!(ckpt.epoch(), None);

    meta.insert("zcnn_state.epoch".to_string(), "3".to_string());
    let err = checkpoint_bytes(&model, None, &meta).unwrap_err().0;
    assert!(
        err.contains("reserved prefix") && err.contains("zcnn_state.epoch"),
        "{err}"
    );
}

#[test]
fn training_state_must_exist_and_match_the_optimiser() {
    let mut model = tiny_1d(0);
    let mut opt = optimizer(&model, adam());
    let model_only =
        parse_checkpoint(&checkpoint_bytes(&model, None, &BTreeMap::new()).unwrap()).unwrap();
    let err = model_only
        .restore_training(&mut model, &mut opt)
        .unwrap_err()
        .0;
    assert!(err.contains("no training state"), "{err}");

    let state = TrainingState {
        optimizer: &opt,
        epoch: 0,
    };
    let bytes = checkpoint_bytes(&model, Some(&state), &BTreeMap::new()).unwrap();
    let ckpt = parse_checkpoint(&bytes).unwrap();
    let mut sgd = optimizer(&model, nesterov());
    let err = ckpt.restore_training(&mut model, &mut sgd).unwrap_err().0;
    assert!(
        err.contains("optimiser is adam") && err.contains("sgd"),
        "{err}"
    );
}

fn model_file(dir: &std::path::Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("model.safetensors");
    save_checkpoint(&path, &tiny_1d(0), None, &BTreeMap::new()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn truncated_files_are_named_and_described() {
    let dir = scratch_dir("truncated");
    let (path, bytes) = model_file(&dir);
    for cut in [4, 100, bytes.len() - 3] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = load_checkpoint(&path).unwrap_err().0;
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.contains("truncated"), "cut at {cut}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_headers_are_named_and_described() {
    let dir = scratch_dir("corrupt");
    let (path, mut bytes) = model_file(&dir);
    bytes[8] = b'x'; // the header's opening brace
    std::fs::write(&path, &bytes).unwrap();
    let err = load_checkpoint(&path).unwrap_err().0;
    assert!(
        err.contains("model.safetensors") && err.contains("bad header"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsupported_dtypes_are_named() {
    let data: Vec<u8> = [1.0f64, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![2], &data).unwrap();
    let bytes = safetensors::serialize([("0.bias", view)], None).unwrap();
    let err = parse_checkpoint(&bytes).unwrap_err().0;
    assert!(err.contains("'0.bias'") && err.contains("F64"), "{err}");
}

/// A plain safetensors `state_dict` (as PyTorch writes it: no zcnn keys) loads as a model.
#[test]
fn foreign_state_dicts_load_as_models() {
    let source = tiny_2d(5);
    let tensors = source.export_torch();
    let mut views = Vec::new();
    let raw: Vec<(String, Vec<u8>, safetensors::Dtype, Vec<usize>)> = tensors
        .iter()
        .map(|t| match &t.data {
            zcnn::torch::TensorData::F32(v) => (
                t.name.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                safetensors::Dtype::F32,
                t.shape.clone(),
            ),
            zcnn::torch::TensorData::I64(v) => (
                t.name.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                safetensors::Dtype::I64,
                t.shape.clone(),
            ),
        })
        .collect();
    for (name, bytes, dtype, shape) in &raw {
        let view = safetensors::tensor::TensorView::new(*dtype, shape.clone(), bytes).unwrap();
        views.push((name.clone(), view));
    }
    let bytes = safetensors::serialize(views, None).unwrap();
    let ckpt = parse_checkpoint(&bytes).unwrap();
    assert!(ckpt.metadata.is_empty() && !ckpt.has_training_state());
    let mut target = tiny_2d(6);
    ckpt.restore_model(&mut target).unwrap();
    assert_eq!(target.params(), source.params());
}
