//! A second oracle for training: one step of specz-baseline, kim-brunner and pasquet against
//! PyTorch's own forward, backward and `torch.optim.Adam` step, stored as golden values in
//! `tests/data/torch_golden.safetensors` (runs without PyTorch).
//!
//! The fixture was written by (PyTorch 2.15, CPU):
//!
//! ```text
//! python scripts/torch_golden.py          # from the repository root
//! ```
//!
//! Per model it holds the batch, the labels, PyTorch's logits and loss, the initial value of
//! every tensor except the weights of 2+ dimensions (which both sides compute bit for bit with
//! [`golden_uniform`]), and after the step every parameter's gradient and every tensor's new
//! value (parameters, batch-norm running statistics and counters). Tensors over 16 384
//! elements keep the flat elements `0, s, 2s, …` only (`M/stride/NAME` = s): the hidden FC
//! layers of kim-brunner and pasquet (11 M and 26 M parameters) would need 45 and 103 MB per
//! full copy. The step: training mode (batch norm on batch statistics, PyTorch's biased
//! variance for normalising and unbiased for the running variance), dropout off (zcnn freezes
//! its dropout layers, which then run in evaluation mode), batch-mean softmax cross-entropy
//! over 16 classes, Adam with lr 1e-3 and PyTorch's defaults.
#![cfg(feature = "cli")]

use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::path::Path;
use zcnn::kernels::optim::AdamConfig;
use zcnn::layers::Mode;
use zcnn::loss::{Loss, TargetBatch};
use zcnn::model::Model;
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::presets::{kim_brunner, pasquet, specz_baseline, Output};
use zcnn::torch::{TensorData, TorchTensor};

const FIXTURE: &str = "tests/data/torch_golden.safetensors";
const CLASSES: usize = 16;
const LR: f32 = 1e-3;

/// Largest difference allowed between zcnn's and PyTorch's logits, loss and gradients,
/// relative to the largest magnitude of the tensor compared: both sum in `f32`, in different
/// orders.
const RELATIVE_TOLERANCE: f64 = 1e-4;

/// Largest difference allowed in a parameter after the Adam step, beyond what the difference
/// of the gradients explains, as a fraction of the step size `lr`. Adam's first step moves a
/// parameter by `lr·g/(|g| + eps)`, which changes by at most `lr·2|Δg|/(|g| + eps)` when `g`
/// changes by `Δg`: near `g = 0` a tiny gradient difference moves the step a lot.
const STEP_TOLERANCE: f64 = 1e-4;

/// `n` values in [0, 1) shared with `golden_uniform` of scripts/torch_golden.py:
/// `u_i = (splitmix64(fnv1a64(name) + (i + 1)·0x9E3779B97F4A7C15) >> 40) / 2²⁴`, exact in `f32`.
fn golden_uniform(name: &str, n: usize) -> Vec<f64> {
    // FNV-1a, 64 bits.
    let mut seed: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.bytes() {
        seed = (seed ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    (1..=n as u64)
        .map(|i| {
            let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f64 / (1u64 << 24) as f64
        })
        .collect()
}

/// A weight of PyTorch shape `shape` (2+ dimensions): U(−b, b), b = 1/√fan_in, computed as
/// `−b + 2b·u` in `f64` and rounded once, as the script does.
fn golden_weight(name: &str, shape: &[usize]) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let bound = 1.0 / ((n / shape[0]) as f64).sqrt();
    golden_uniform(name, n)
        .into_iter()
        .map(|u| (-bound + 2.0 * bound * u) as f32)
        .collect()
}

/// The fixture's tensors of one model (keys without the `M/` prefix).
struct Golden {
    model: &'static str,
    f32s: BTreeMap<String, Vec<f32>>,
    i64s: BTreeMap<String, Vec<i64>>,
}

impl Golden {
    fn load(model: &'static str) -> Golden {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let prefix = format!("{model}/");
        let (mut f32s, mut i64s) = (BTreeMap::new(), BTreeMap::new());
        for (key, view) in file.tensors() {
            let Some(key) = key.strip_prefix(&prefix) else {
                continue;
            };
            let data = view.data();
            match view.dtype() {
                Dtype::F32 => {
                    let v = data
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().unwrap()));
                    f32s.insert(key.to_string(), v.collect());
                }
                Dtype::I64 => {
                    let v = data
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().unwrap()));
                    i64s.insert(key.to_string(), v.collect());
                }
                other => panic!("{FIXTURE}: {model}/{key} has dtype {other:?}"),
            }
        }
        assert!(!f32s.is_empty(), "{FIXTURE} holds nothing for {model}");
        Golden { model, f32s, i64s }
    }

    fn f32(&self, key: &str) -> &[f32] {
        self.f32s
            .get(key)
            .unwrap_or_else(|| panic!("{FIXTURE}: {}/{key} missing", self.model))
    }

    /// The flat indices the fixture keeps of tensor `name` with `n` elements.
    fn kept(&self, name: &str, n: usize) -> Vec<usize> {
        let stride = self.i64s.get(&format!("stride/{name}")).map_or(1, |s| s[0]);
        (0..n).step_by(stride as usize).collect()
    }

    /// The initial tensors, in the order and shapes of `model`'s own export.
    fn initial_tensors(&self, model: &Model) -> Vec<TorchTensor> {
        let mut tensors = model.export_torch();
        for t in &mut tensors {
            let key = format!("init/{}", t.name);
            t.data = match &t.data {
                TensorData::I64(_) => TensorData::I64(self.i64s[&key].clone()),
                TensorData::F32(_) if t.shape.len() >= 2 => {
                    TensorData::F32(golden_weight(&t.name, &t.shape))
                }
                TensorData::F32(_) => TensorData::F32(self.f32(&key).to_vec()),
            };
        }
        tensors
    }
}

/// max |a − b| / max(max |b|, tiny): the error relative to the reference tensor's scale.
fn relative_error(ours: &[f32], theirs: &[f32]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    let scale = theirs.iter().fold(0f64, |m, &v| m.max(f64::from(v).abs()));
    let diff = ours.iter().zip(theirs).fold(0f64, |m, (&a, &b)| {
        m.max((f64::from(a) - f64::from(b)).abs())
    });
    diff / scale.max(1e-30)
}

/// The largest difference of the updated parameters beyond `lr·2|Δg|/(|g| + eps)` (see
/// [`STEP_TOLERANCE`]), divided by `lr`.
fn unexplained_step_error(
    ours: &[f32],
    theirs: &[f32],
    our_grad: impl Iterator<Item = f32>,
    their_grad: &[f32],
) -> f64 {
    let (lr, eps) = (f64::from(LR), f64::from(AdamConfig::default().eps));
    let mut worst = 0f64;
    for ((&a, &b), (ga, gb)) in ours.iter().zip(theirs).zip(our_grad.zip(their_grad)) {
        let (ga, gb) = (f64::from(ga), f64::from(*gb));
        let explained = lr * 2.0 * (ga - gb).abs() / (gb.abs() + eps);
        let diff = (f64::from(a) - f64::from(b)).abs();
        worst = worst.max((diff - explained).max(0.0) / lr);
    }
    worst
}

/// Every float tensor of `model`'s export, with `values` in place of its parameter buffer:
/// the layout maps are linear, so this gives gradients in PyTorch's layout and names.
fn in_torch_layout(model: &mut Model, values: &[f32]) -> BTreeMap<String, Vec<f32>> {
    let saved = model.params().to_vec();
    model.params_mut().copy_from_slice(values);
    let out = float_tensors(model);
    model.params_mut().copy_from_slice(&saved);
    out
}

fn float_tensors(model: &Model) -> BTreeMap<String, Vec<f32>> {
    model
        .export_torch()
        .into_iter()
        .filter_map(|t| match t.data {
            TensorData::F32(v) => Some((t.name, v)),
            TensorData::I64(_) => None,
        })
        .collect()
}

/// The largest error seen so far and the tensor it was seen in.
struct Worst {
    error: f64,
    tensor: String,
}

impl Worst {
    fn new() -> Worst {
        Worst {
            error: 0.0,
            tensor: "none".into(),
        }
    }

    fn note(&mut self, error: f64, tensor: &str) {
        if error > self.error {
            *self = Worst {
                error,
                tensor: tensor.into(),
            };
        }
    }

    fn assert_below(&self, tolerance: f64, what: &str) {
        assert!(
            self.error < tolerance,
            "{what}: error {:.2e} in {} (tolerance {tolerance:.0e})",
            self.error,
            self.tensor
        );
    }
}

/// Compares zcnn's gradients (in PyTorch's layout) with the fixture's; also checks that the
/// fixture's parameters are exactly zcnn's.
fn check_gradients(golden: &Golden, model: &Model, grads: &BTreeMap<String, Vec<f32>>) {
    let mut checked = 0;
    let mut worst = Worst::new();
    for (key, theirs) in &golden.f32s {
        let Some(tensor) = key.strip_prefix("grad/") else {
            continue;
        };
        let ours = &grads[tensor];
        checked += ours.len();
        let kept = golden.kept(tensor, ours.len());
        let ours: Vec<f32> = kept.iter().map(|&i| ours[i]).collect();
        worst.note(relative_error(&ours, theirs), tensor);
    }
    let name = golden.model;
    assert_eq!(
        checked,
        model.param_count(),
        "{name}: PyTorch's parameters are not zcnn's"
    );
    eprintln!(
        "{name}: gradients: relative error {:.1e} ({})",
        worst.error, worst.tensor
    );
    worst.assert_below(RELATIVE_TOLERANCE, &format!("{name}: gradients"));
}

/// Applies zcnn's Adam step and compares every tensor afterwards with the fixture's.
fn check_update(golden: &Golden, model: &mut Model, grads: &BTreeMap<String, Vec<f32>>) {
    let rule = Rule::Adam(AdamConfig {
        lr: LR,
        ..AdamConfig::default()
    });
    let mut opt = Optimizer::new(rule, Schedule::Constant, model.param_count()).unwrap();
    model.apply_update(&mut opt);
    let (mut step, mut state) = (Worst::new(), Worst::new());
    for (tensor, ours) in float_tensors(model) {
        let theirs = golden.f32(&format!("updated/{tensor}"));
        let kept = golden.kept(&tensor, ours.len());
        let ours: Vec<f32> = kept.iter().map(|&i| ours[i]).collect();
        match golden.f32s.get(&format!("grad/{tensor}")) {
            Some(their_grad) => {
                let our_grad = kept.iter().map(|&i| grads[&tensor][i]);
                let e = unexplained_step_error(&ours, theirs, our_grad, their_grad);
                step.note(e, &tensor);
            }
            // Batch-norm running statistics.
            None => state.note(relative_error(&ours, theirs), &tensor),
        }
    }
    let name = golden.model;
    for t in model.export_torch() {
        if let TensorData::I64(ours) = t.data {
            let theirs = &golden.i64s[&format!("updated/{}", t.name)];
            assert_eq!(&ours, theirs, "{name}: {}", t.name);
        }
    }
    eprintln!(
        "{name}: after the step: running statistics {:.1e} ({}), parameters (error / lr \
         beyond the gradients' difference) {:.1e} ({})",
        state.error, state.tensor, step.error, step.tensor
    );
    state.assert_below(RELATIVE_TOLERANCE, &format!("{name}: running statistics"));
    step.assert_below(STEP_TOLERANCE, &format!("{name}: updated parameters"));
}

/// Runs the golden step on `model` and checks it against the fixture's `name` entries.
fn check_step(name: &'static str, mut model: Model) {
    let golden = Golden::load(name);
    model.import_torch(golden.initial_tensors(&model)).unwrap();
    for i in 0..model.trunk().layers().len() {
        if model.trunk().layers()[i].kind() == "dropout" {
            model.set_trunk_layer_frozen(i, true);
        }
    }
    let labels: Vec<u32> = golden.i64s["labels"].iter().map(|&l| l as u32).collect();
    let batch = labels.len();
    let (x, extra) = (golden.f32("x"), golden.f32("extra"));

    model.forward(x, extra, batch, Mode::Train).unwrap();
    let logits_error = relative_error(model.output(0, batch), golden.f32("logits"));
    let mut losses = [0.0];
    let loss = model
        .compute_loss(&[TargetBatch::Classes(labels)], batch, &mut losses)
        .unwrap();
    let loss_error = relative_error(&[loss], golden.f32("loss"));
    eprintln!("{name}: relative error of logits {logits_error:.1e}, loss {loss_error:.1e}");
    assert!(logits_error < RELATIVE_TOLERANCE, "{name}: logits");
    assert!(loss_error < RELATIVE_TOLERANCE, "{name}: loss");

    model.backward(x, batch, Mode::Train);
    let grads = model.grads().to_vec();
    let grads = in_torch_layout(&mut model, &grads);
    check_gradients(&golden, &model, &grads);
    check_update(&golden, &mut model, &grads);
}

fn classes() -> Output {
    Output::Classes {
        k: CLASSES,
        loss: Loss::CrossEntropy,
    }
}

#[test]
fn golden_uniform_matches_the_script() {
    // Printed by: python -c "from torch_golden import *; print(golden_uniform('0.weight', 3))"
    let u = golden_uniform("0.weight", 3);
    let expected = [0.7158512473106384, 0.7750396132469177, 0.7123589515686035];
    assert_eq!(u, expected);
}

#[test]
fn specz_baseline_step_matches_pytorch() {
    check_step("specz", specz_baseline(100, classes(), 7).unwrap());
}

#[test]
fn kim_brunner_step_matches_pytorch() {
    check_step("kim_brunner", kim_brunner(classes(), 7).unwrap());
}

#[test]
fn pasquet_step_matches_pytorch() {
    check_step("pasquet", pasquet(classes(), 7).unwrap());
}
