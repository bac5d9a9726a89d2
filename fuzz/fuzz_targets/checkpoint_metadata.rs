//! The metadata of a checkpoint is untrusted: a well-formed, sealed checkpoint whose stored
//! config, input contract, history, epoch and update counts come from the fuzzer is read by the
//! command's own checkpoint reader, then (when accepted) turned into a model, offered spectra
//! and resumed. Nothing panics, allocates without bound or silently accepts counts at the
//! integer limits.
//!
//! Input: 16 bytes of epoch and update count (little-endian `u64`s), then the config (TOML),
//! the contract (JSON) and the history (JSON), separated by 0 bytes. A missing or empty part
//! keeps the valid base value, so the fuzzer can vary one field at a time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::path::Path;
use zcnn::cli::checkpoint::{parse_checkpoint, KEY_CONFIG, KEY_HISTORY};
use zcnn::cli::config::RunConfig;
use zcnn::cli::contract::{spectra_inputs, InputShape, KEY_INPUT};
use zcnn::io::checkpoint::{checkpoint_bytes, TrainingState, MAX_COUNT};
use zcnn::kernels::optim::AdamConfig;
use zcnn::loss::Loss;
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::presets::{specz_baseline, Output};

/// The base model: specz-baseline on 64 pixels with 8 classes.
const PIXELS: usize = 64;
const CONTRACT: &str = r#"{"input":{"kind":"spectra","pixels":64},"wavelengths":null,"normalisation":"max","scale":[1.0,1.0]}"#;
const HISTORY: &str = r#"{"epochs":[{"epoch":1,"train_loss":2.0}]}"#;

fn adam(n_params: usize) -> Optimizer {
    Optimizer::new(Rule::Adam(AdamConfig::default()), Schedule::Constant, n_params)
        .expect("a valid optimiser")
}

fuzz_target!(|data: &[u8]| {
    let Some((counts, texts)) = data.split_at_checked(16) else {
        return;
    };
    let epoch = u64::from_le_bytes(counts[..8].try_into().expect("8 bytes"));
    let iteration = u64::from_le_bytes(counts[8..].try_into().expect("8 bytes"));
    let mut parts = texts.split(|&b| b == 0).map(String::from_utf8_lossy);
    let mut base_config = RunConfig::default();
    base_config.model.bins = 8;
    let mut part = |base: String| match parts.next() {
        Some(text) if !text.is_empty() => text.into_owned(),
        _ => base,
    };
    let metadata = BTreeMap::from([
        (KEY_CONFIG.to_string(), part(base_config.to_toml())),
        (KEY_INPUT.to_string(), part(CONTRACT.to_string())),
        (KEY_HISTORY.to_string(), part(HISTORY.to_string())),
    ]);
    let output = Output::Classes {
        k: 8,
        loss: Loss::CrossEntropy,
    };
    let model = specz_baseline(PIXELS, output, 1).expect("the base model");
    let mut optimizer = adam(model.param_count());
    optimizer.iteration = iteration;
    let state = TrainingState {
        optimizer: &optimizer,
        epoch: epoch as usize,
    };
    let bytes = checkpoint_bytes(&model, Some(&state), &metadata).expect("a sealed checkpoint");

    let Ok(ckpt) = parse_checkpoint(&bytes, Path::new("fuzz.safetensors")) else {
        return;
    };
    assert!(
        epoch <= MAX_COUNT && iteration <= MAX_COUNT,
        "counts at the integer limits were accepted"
    );
    // Inputs of the contract's size when small, else the base size (refused by the contract).
    let pixels = match &ckpt.contract {
        Some(c) => match c.input {
            InputShape::Spectra { pixels } if pixels <= 4096 => pixels,
            _ => PIXELS,
        },
        None => PIXELS,
    };
    let flux = vec![0.5f32; 2 * pixels];
    let inputs = spectra_inputs(Path::new("/nonexistent-zcnn-fuzz/spectra.npy"), None, pixels, &flux, None)
        .expect("no grid file beside the fuzz spectra");
    let _ = ckpt.check_inputs(&inputs);
    if let Ok(mut model) = ckpt.model(&InputShape::Spectra { pixels }) {
        let mut optimizer = adam(model.param_count());
        let _ = ckpt.restore_training(&mut model, &mut optimizer);
    }
});
