//! Round trips through PyTorch itself (`scripts/torch_interop.py`): a zcnn checkpoint loads
//! into the peers' `nn.Sequential` models with `load_state_dict` and predicts the same, and a
//! PyTorch `state_dict` loads into zcnn's presets and predicts the same.
//!
//! Needs a Python with torch, safetensors and numpy: `ZCNN_TORCH_PYTHON` names the interpreter.
//! Without it, when `python3` lacks them, the test is reported as skipped (not passed): it
//! runs with its own harness (`harness = false` in Cargo.toml), since libtest has no run-time
//! skip. When `ZCNN_TORCH_PYTHON` is set, an interpreter without them fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use zcnn::io::checkpoint::{load_checkpoint, save_checkpoint, TrainingState};
use zcnn::io::npy::{read_npy, write_npy, NpyExpect};
use zcnn::kernels::gradcheck::random_vec;
use zcnn::kernels::optim::AdamConfig;
use zcnn::layers::Mode;
use zcnn::loss::Loss;
use zcnn::model::Model;
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::presets::{kim_brunner, specz_baseline, Output};
use zcnn::train::{Dataset, TargetData, TrainConfig, Trainer};

/// Largest difference allowed between zcnn's and PyTorch's raw outputs.
const TOLERANCE: f32 = 1e-4;

/// What `main` prints when PyTorch is absent.
const SKIPPED: &str = "skipped: PyTorch not found (set ZCNN_TORCH_PYTHON)";

/// The interpreter to use: `ZCNN_TORCH_PYTHON` (which must have torch), else `python3` if it
/// has torch, else none.
fn python() -> Option<String> {
    let chosen = std::env::var("ZCNN_TORCH_PYTHON").ok();
    let python = chosen.clone().unwrap_or_else(|| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import torch, safetensors, numpy"])
        .output();
    match probe {
        Ok(out) if out.status.success() => Some(python),
        _ if chosen.is_some() => panic!(
            "ZCNN_TORCH_PYTHON={python}: '{python} -c \"import torch, safetensors, numpy\"' failed"
        ),
        _ => None,
    }
}

fn script(python: &str, args: &[&str]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/torch_interop.py");
    let out = Command::new(python)
        .arg(path)
        .args(args)
        .output()
        .expect("run the interop script");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", text.trim());
    assert!(
        out.status.success(),
        "torch_interop.py {args:?} failed:\n{text}"
    );
}

fn specz(seed: u64) -> Model {
    let out = Output::Classes {
        k: 800,
        loss: Loss::CrossEntropy,
    };
    specz_baseline(1780, out, seed).unwrap()
}

fn kim(seed: u64) -> Model {
    let out = Output::Classes {
        k: 2,
        loss: Loss::CrossEntropy,
    };
    kim_brunner(out, seed).unwrap()
}

/// Raw evaluation outputs of the (single) head.
fn outputs(model: &mut Model, x: &[f32], batch: usize) -> Vec<f32> {
    model.forward(x, &[], batch, Mode::Eval).unwrap();
    model.output(0, batch).to_vec()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Random channels-last inputs, saved for the script too.
fn inputs(model: &Model, batch: usize, seed: u64, path: &Path) -> Vec<f32> {
    let x = random_vec(seed, batch * model.in_dims().size(), 1.0);
    let mut shape = vec![batch];
    shape.extend(match model.in_dims() {
        zcnn::Dims::Flat(n) => vec![n],
        zcnn::Dims::Seq { len, ch } => vec![len, ch],
        zcnn::Dims::Image { h, w, ch } => vec![h, w, ch],
    });
    write_npy(path, &shape, &x).unwrap();
    x
}

/// Trains a few steps so that batch-norm statistics, counters and weights move, and saves a
/// checkpoint with its training state (whose `zcnn_state.` tensors PyTorch must skip).
fn train_and_save(model: &mut Model, path: &Path) {
    let (n, k) = (8, model.heads()[0].outputs());
    let data = Dataset {
        sample: model.in_dims(),
        inputs: random_vec(21, n * model.in_dims().size(), 1.0).into(),
        n_extra: 0,
        extra: vec![],
        targets: vec![TargetData::Classes(
            (0..n).map(|i| (i % k) as u32).collect(),
        )],
    };
    let rule = Rule::Adam(AdamConfig {
        lr: 1e-3,
        ..AdamConfig::default()
    });
    let mut opt = Optimizer::new(rule, Schedule::Constant, model.param_count()).unwrap();
    let config = TrainConfig {
        batch: 4,
        epochs: 1,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(model, &data, config).unwrap();
    trainer
        .fit(model, &mut opt, &data, None, &mut |_, _, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    let state = TrainingState {
        optimizer: &opt,
        epoch: 1,
    };
    save_checkpoint(path, model, Some(&state), &BTreeMap::new()).unwrap();
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zcnn-torch-interop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn round_trips(python: &str, name: &str, make: fn(u64) -> Model, batch: usize, dir: &Path) {
    let file = |f: &str| dir.join(format!("{name}-{f}")).display().to_string();

    // zcnn → PyTorch.
    let mut model = make(1);
    train_and_save(&mut model, Path::new(&file("zcnn.safetensors")));
    let x = inputs(&model, batch, 3, Path::new(&file("x.npy")));
    let ours = outputs(&mut model, &x, batch);
    let k = ours.len() / batch;
    write_npy(Path::new(&file("zcnn-y.npy")), &[batch, k], &ours).unwrap();
    let tol = TOLERANCE.to_string();
    script(
        python,
        &[
            "check",
            "--model",
            name,
            "--checkpoint",
            &file("zcnn.safetensors"),
            "--inputs",
            &file("x.npy"),
            "--expected",
            &file("zcnn-y.npy"),
            "--tol",
            &tol,
        ],
    );

    // PyTorch → zcnn.
    script(
        python,
        &[
            "export",
            "--model",
            name,
            "--seed",
            "4",
            "--checkpoint",
            &file("torch.safetensors"),
            "--inputs",
            &file("x.npy"),
            "--predictions",
            &file("torch-y.npy"),
        ],
    );
    let ckpt = load_checkpoint(Path::new(&file("torch.safetensors"))).unwrap();
    let mut loaded = make(2);
    ckpt.restore_model(&mut loaded).unwrap();
    let expect = NpyExpect {
        shape: Some(vec![Some(batch), Some(k)]),
        ..NpyExpect::default()
    };
    let theirs = read_npy(Path::new(&file("torch-y.npy")), &expect).unwrap();
    let diff = max_abs_diff(&outputs(&mut loaded, &x, batch), &theirs.data);
    eprintln!("{name}: PyTorch state_dict in zcnn: max |diff| = {diff:.3e}");
    assert!(diff < TOLERANCE, "{name}: max |diff| {diff} vs PyTorch");
}

/// One test, `presets_round_trip_through_pytorch`, reported as passed or skipped in the
/// "N passed, N failed, N skipped" form; a failure panics (exit code 101). Like libtest it
/// honours `--list` and name filters (`cargo test NAME`).
fn main() {
    let name = "presets_round_trip_through_pytorch";
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{name}: test");
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        println!("torch_interop: 0 passed, 0 failed");
        return;
    }
    let Some(python) = python() else {
        println!("test {name} ... {SKIPPED}");
        println!("torch_interop: 0 passed, 0 failed, 1 skipped");
        return;
    };
    let dir = scratch_dir();
    round_trips(&python, "specz", specz, 5, &dir);
    round_trips(&python, "kim_brunner", kim, 3, &dir);
    std::fs::remove_dir_all(&dir).unwrap();
    println!("test {name} ... ok");
    println!("torch_interop: 1 passed, 0 failed");
}
