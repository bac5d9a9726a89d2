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
//! This file holds the model and its step (forward, loss, backward, update); `head.rs` an
//! output head; `transfer.rs` freezing and head replacement (what trains).
//! `Model::export_torch` and `Model::import_torch`, which move the tensors to and from
//! PyTorch's layouts and `state_dict` names, live at the interop edge, in `src/torch/model.rs`.

mod head;
mod transfer;

pub use head::Head;

use crate::dims::Dims;
use crate::layers::{Ctx, Mode, Pass};
use crate::loss::TargetBatch;
use crate::optim::Optimizer;
use crate::rng::{purpose, stream};
use crate::sequential::Sequential;
use crate::{ensure, Result};
use head::check_head_names;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::ops::Range;

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
    /// Whether evaluation passes fuse layers (see `Sequential`); on unless turned off.
    inference_fusion: bool,
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
            inference_fusion: true,
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
            fuse: self.inference_fusion && mode == Mode::Eval,
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

    /// Whether evaluation passes ([`Mode::Eval`]) fuse each convolution with the batch norm
    /// and the activation right after it (folded weights, one write of the output). On by
    /// default; a fused pass's outputs equal the layer-by-layer ones up to the rounding of the
    /// folded batch norm (bit for bit without one), but backward cannot follow it.
    pub fn set_inference_fusion(&mut self, on: bool) {
        self.inference_fusion = on;
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

    /// The trunk alone (its layers, not its parameters), to put other heads on.
    pub fn into_trunk(self) -> Sequential {
        self.trunk
    }

    /// The seed the model was initialised from.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}
