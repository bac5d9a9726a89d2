//! A model: a shared trunk and one or more output heads, with all parameters in one buffer.
//!
//! ```text
//!            ┌─ head 0 (Sequential) → loss 0 ─┐
//! x → trunk ─┤                                 ├─ total loss = Σ head losses
//!            └─ head 1 (Sequential) → loss 1 ─┘
//! params: [ trunk | head 0 | head 1 ]   grads: same layout, zeroed once per step
//! ```
//!
//! The backward pass runs every head, sums their input gradients into the trunk's output
//! gradient, and then runs the trunk. Frozen layers run in evaluation mode and the optimiser
//! skips their parameters, so a frozen trunk stays bit-identical while the heads train.
//!
//! `Model::export_torch` and `Model::import_torch`, which move the tensors to and from
//! PyTorch's layouts and `state_dict` names, live at the interop edge, in `src/torch/model.rs`.

use crate::dims::Dims;
use crate::layers::{Ctx, Mode, Pass};
use crate::loss::{Loss, TargetBatch};
use crate::optim::Optimizer;
use crate::sequential::Sequential;
use crate::{ensure, Result};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::ops::Range;

/// One output of the network with the loss it is trained with.
pub struct Head {
    pub name: String,
    pub net: Sequential,
    pub loss: Loss,
    probs: Vec<f32>,
    grad: Vec<f32>,
}

impl Head {
    pub fn new(name: impl Into<String>, net: Sequential, loss: Loss) -> Self {
        Head {
            name: name.into(),
            net,
            loss,
            probs: Vec::new(),
            grad: Vec::new(),
        }
    }

    /// Number of outputs per sample.
    pub fn outputs(&self) -> usize {
        self.net.out_dims().size()
    }
}

/// Derives an independent stream for one purpose ("init", "dropout", …) from a run's seed.
pub fn stream(seed: u64, purpose: u64) -> Xoshiro256PlusPlus {
    // SplitMix64 finaliser, so that nearby seeds and purposes give unrelated streams.
    let mut z = seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31))
}

/// Stream purposes (see [`stream`]).
pub mod purpose {
    pub const INIT: u64 = 1;
    pub const DROPOUT: u64 = 2;
    pub const SHUFFLE: u64 = 3;
    pub const AUGMENT: u64 = 4;
    pub const SIMULATE: u64 = 5;
}

/// A trunk, its heads, and the flat parameter and gradient buffers.
pub struct Model {
    trunk: Sequential,
    heads: Vec<Head>,
    n_extra: usize,
    params: Vec<f32>,
    grads: Vec<f32>,
    /// Parameter ranges that train (not frozen), merged; recomputed when freezing changes.
    trainable: Vec<Range<usize>>,
    trunk_grad: Vec<f32>,
    dropout_rng: Xoshiro256PlusPlus,
    seed: u64,
    batch: usize,
}

impl Model {
    /// Assembles a model and initialises its parameters from `seed`. `n_extra` is the number
    /// of per-sample scalars fed to `AppendScalars` layers (0 if none).
    /// Head names must be unique, non-empty and free of `.` (they name PyTorch modules).
    pub fn new(trunk: Sequential, heads: Vec<Head>, n_extra: usize, seed: u64) -> Result<Self> {
        ensure!(!heads.is_empty(), "a model needs at least one head");
        ensure!(
            !trunk.layers().is_empty(),
            "the trunk needs at least one layer (a Flatten will do if the heads hold the network)"
        );
        check_head_names(heads.iter().map(|h| h.name.as_str()))?;
        for h in &heads {
            ensure!(
                !h.net.layers().is_empty(),
                "head '{}' has no layers",
                h.name
            );
            ensure!(
                h.net.in_dims() == trunk.out_dims(),
                "head '{}' takes {}, but the trunk outputs {}",
                h.name,
                h.net.in_dims(),
                trunk.out_dims()
            );
        }
        let mut model = Model {
            trunk,
            heads,
            n_extra,
            params: Vec::new(),
            grads: Vec::new(),
            trainable: Vec::new(),
            trunk_grad: Vec::new(),
            dropout_rng: stream(seed, purpose::DROPOUT),
            seed,
            batch: 0,
        };
        let total =
            model.trunk.param_len() + model.heads.iter().map(|h| h.net.param_len()).sum::<usize>();
        model.params = vec![0.0; total];
        model.grads = vec![0.0; total];
        let mut rng = stream(seed, purpose::INIT);
        let trunk_range = model.trunk_range();
        model
            .trunk
            .init_params(&mut model.params[trunk_range], &mut rng);
        for h in 0..model.heads.len() {
            let range = model.head_range(h);
            model.heads[h]
                .net
                .init_params(&mut model.params[range], &mut rng);
        }
        model.update_trainable();
        Ok(model)
    }

    /// Per-sample input shape.
    pub fn in_dims(&self) -> Dims {
        self.trunk.in_dims()
    }

    /// Number of extra scalars per sample.
    pub fn n_extra(&self) -> usize {
        self.n_extra
    }

    pub fn trunk(&self) -> &Sequential {
        &self.trunk
    }

    pub fn trunk_mut(&mut self) -> &mut Sequential {
        &mut self.trunk
    }

    pub fn heads(&self) -> &[Head] {
        &self.heads
    }

    /// All trainable parameters, trunk first, then each head.
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// Mutable parameters (loading a checkpoint, tests).
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    /// Gradients of the last backward pass, laid out like [`Model::params`].
    pub fn grads(&self) -> &[f32] {
        &self.grads
    }

    /// Total number of trainable floats.
    pub fn param_count(&self) -> usize {
        self.params.len()
    }

    /// Range of the trunk's parameters in the flat buffer.
    pub fn trunk_range(&self) -> Range<usize> {
        0..self.trunk.param_len()
    }

    /// Range of head `h`'s parameters in the flat buffer.
    pub fn head_range(&self, h: usize) -> Range<usize> {
        let start = self.trunk.param_len()
            + self.heads[..h]
                .iter()
                .map(|x| x.net.param_len())
                .sum::<usize>();
        start..start + self.heads[h].net.param_len()
    }

    /// Freezes (or unfreezes) every trunk layer: for two-stage training, where only the heads
    /// learn on a second (e.g. balanced) training set.
    pub fn set_trunk_frozen(&mut self, frozen: bool) {
        for i in 0..self.trunk.layers().len() {
            self.trunk.set_frozen(i, frozen);
        }
        self.update_trainable();
    }

    /// Freezes (or unfreezes) layer `i` of the trunk.
    pub fn set_trunk_layer_frozen(&mut self, i: usize, frozen: bool) {
        self.trunk.set_frozen(i, frozen);
        self.update_trainable();
    }

    /// Freezes (or unfreezes) every layer of head `h`.
    pub fn set_head_frozen(&mut self, h: usize, frozen: bool) {
        for i in 0..self.heads[h].net.layers().len() {
            self.heads[h].net.set_frozen(i, frozen);
        }
        self.update_trainable();
    }

    /// Replaces head `h` (e.g. with a different number of classes) and initialises it from
    /// `seed`; the trunk and the other heads keep their parameters.
    pub fn replace_head(&mut self, h: usize, head: Head, seed: u64) -> Result<()> {
        ensure!(
            h < self.heads.len(),
            "no head {h}: the model has {}",
            self.heads.len()
        );
        ensure!(
            !head.net.layers().is_empty(),
            "head '{}' has no layers",
            head.name
        );
        let others = self.heads.iter().enumerate().filter(|&(i, _)| i != h);
        check_head_names(
            others
                .map(|(_, x)| x.name.as_str())
                .chain([head.name.as_str()]),
        )?;
        ensure!(
            head.net.in_dims() == self.trunk.out_dims(),
            "head '{}' takes {}, but the trunk outputs {}",
            head.name,
            head.net.in_dims(),
            self.trunk.out_dims()
        );
        let old = self.head_range(h);
        let mut fresh = vec![0.0; head.net.param_len()];
        self.heads[h] = head;
        self.heads[h]
            .net
            .init_params(&mut fresh, &mut stream(seed, purpose::INIT));
        self.params.splice(old.clone(), fresh);
        self.grads = vec![0.0; self.params.len()];
        self.batch = 0;
        self.update_trainable();
        Ok(())
    }

    /// Draws head `h`'s parameters afresh from `seed`.
    pub fn reinit_head(&mut self, h: usize, seed: u64) {
        let range = self.head_range(h);
        self.heads[h]
            .net
            .init_params(&mut self.params[range], &mut stream(seed, purpose::INIT));
    }

    /// The merged parameter ranges the optimiser updates.
    pub fn trainable_ranges(&self) -> &[Range<usize>] {
        &self.trainable
    }

    fn update_trainable(&mut self) {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut push = |r: Range<usize>| match ranges.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ if !r.is_empty() => ranges.push(r),
            _ => {}
        };
        for i in 0..self.trunk.layers().len() {
            if !self.trunk.is_frozen(i) {
                push(self.trunk.param_range(i));
            }
        }
        for h in 0..self.heads.len() {
            let base = self.head_range(h).start;
            for i in 0..self.heads[h].net.layers().len() {
                if !self.heads[h].net.is_frozen(i) {
                    let r = self.heads[h].net.param_range(i);
                    push(base + r.start..base + r.end);
                }
            }
        }
        self.trainable = ranges;
    }

    /// Allocates every buffer for batches of up to `batch` samples (done by the first step;
    /// call it yourself to keep allocation out of a timed region).
    pub fn prepare(&mut self, batch: usize) {
        if batch <= self.batch {
            return;
        }
        self.trunk.prepare(batch);
        self.trunk_grad
            .resize(batch * self.trunk.out_dims().size(), 0.0);
        for h in &mut self.heads {
            h.net.prepare(batch);
            let n = batch * h.net.out_dims().size();
            h.probs.resize(n, 0.0);
            h.grad.resize(n, 0.0);
        }
        self.batch = batch;
    }

    /// Runs the network on `batch` samples `x` (`[batch, in_dims]`) with their extra scalars
    /// (`[batch, n_extra]`). Outputs are then in [`Model::output`].
    pub fn forward(&mut self, x: &[f32], extra: &[f32], batch: usize, mode: Mode) -> Result<()> {
        ensure!(batch > 0, "batch size must be at least 1");
        ensure!(
            x.len() == batch * self.in_dims().size(),
            "input holds {} floats, expected {batch} samples × {} ({})",
            x.len(),
            self.in_dims().size(),
            self.in_dims()
        );
        ensure!(
            extra.len() == batch * self.n_extra,
            "extra inputs hold {} floats, expected {batch} samples × {}",
            extra.len(),
            self.n_extra
        );
        self.prepare(batch);
        let mut ctx = Ctx {
            pass: Pass { mode, batch },
            dropout_rng: &mut self.dropout_rng,
            extra,
        };
        let trunk_len = self.trunk.param_len();
        self.trunk.forward(&mut ctx, &self.params[..trunk_len], x);
        let mut start = trunk_len;
        for h in &mut self.heads {
            let end = start + h.net.param_len();
            h.net
                .forward(&mut ctx, &self.params[start..end], self.trunk.output(batch));
            start = end;
        }
        Ok(())
    }

    /// Raw output (logits or values) of head `h` from the last forward pass.
    pub fn output(&self, h: usize, batch: usize) -> &[f32] {
        self.heads[h].net.output(batch)
    }

    /// Softmax probabilities of head `h` from the last [`Model::compute_loss`], for
    /// classification heads.
    pub fn probabilities(&self, h: usize, batch: usize) -> &[f32] {
        &self.heads[h].probs[..batch * self.heads[h].outputs()]
    }

    /// Computes every head's loss against its targets (one entry per head) after a forward
    /// pass; stores the output gradients for [`Model::backward`]. Writes the per-head losses
    /// into `losses` and returns their sum.
    pub fn compute_loss(
        &mut self,
        targets: &[TargetBatch],
        batch: usize,
        losses: &mut [f32],
    ) -> Result<f32> {
        ensure!(
            targets.len() == self.heads.len(),
            "{} target sets for {} heads",
            targets.len(),
            self.heads.len()
        );
        ensure!(
            losses.len() == self.heads.len(),
            "{} loss slots for {} heads",
            losses.len(),
            self.heads.len()
        );
        let mut total = 0.0;
        for (h, head) in self.heads.iter_mut().enumerate() {
            let k = head.outputs();
            let t = targets[h].as_targets(batch, k);
            head.loss
                .check_targets(&t, batch, k)
                .map_err(|e| crate::Error(format!("head '{}': {e}", head.name)))?;
            let n = batch * k;
            let out = head.net.output(batch);
            losses[h] = head
                .loss
                .evaluate(k, out, &t, &mut head.probs[..n], &mut head.grad[..n]);
            total += losses[h];
        }
        Ok(total)
    }

    /// Zeroes the gradients, then backpropagates the losses of the last
    /// [`Model::compute_loss`] through the heads and the trunk.
    pub fn backward(&mut self, x: &[f32], batch: usize, mode: Mode) {
        self.grads.fill(0.0);
        let pass = Pass { mode, batch };
        let trunk_len = self.trunk.param_len();
        let (trunk_params, head_params) = self.params.split_at(trunk_len);
        let (trunk_grads, head_grads) = self.grads.split_at_mut(trunk_len);
        let trunk_trains = self.trunk.any_trainable();
        let dtrunk = &mut self.trunk_grad[..batch * self.trunk.out_dims().size()];
        dtrunk.fill(0.0);
        let mut start = 0;
        for h in &mut self.heads {
            let end = start + h.net.param_len();
            let n = batch * h.outputs();
            let dx = if trunk_trains {
                Some(&mut *dtrunk)
            } else {
                None
            };
            h.net.backward(
                pass,
                &head_params[start..end],
                &mut head_grads[start..end],
                self.trunk.output(batch),
                &h.grad[..n],
                dx,
            );
            start = end;
        }
        if trunk_trains {
            self.trunk
                .backward(pass, trunk_params, trunk_grads, x, dtrunk, None);
        }
    }

    /// Applies one optimiser update to the trainable parameters from the current gradients.
    pub fn apply_update(&mut self, opt: &mut Optimizer) {
        opt.step(&mut self.params, &self.grads, &self.trainable);
    }

    /// Gives the dropout stream a new seed (resuming a run restores it instead).
    pub fn dropout_rng_mut(&mut self) -> &mut Xoshiro256PlusPlus {
        &mut self.dropout_rng
    }

    /// The dropout stream (saved with a checkpoint for exact resumption).
    pub fn dropout_rng(&self) -> &Xoshiro256PlusPlus {
        &self.dropout_rng
    }

    /// The trunk, the heads and the parameter buffer, borrowed at once (to load tensors into
    /// all of them).
    pub(crate) fn parts_mut(&mut self) -> (&mut Sequential, &mut [Head], &mut [f32]) {
        (&mut self.trunk, &mut self.heads, &mut self.params)
    }

    /// The seed the model was initialised from.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// Head names become PyTorch module names (`heads.{name}`): unique, non-empty, without `.`.
fn check_head_names<'a>(names: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        ensure!(
            !name.is_empty() && !name.contains('.'),
            "head name '{name}' must be non-empty and contain no '.'"
        );
        ensure!(seen.insert(name), "two heads are named '{name}'");
    }
    Ok(())
}
