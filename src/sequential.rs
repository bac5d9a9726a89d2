//! A chain of layers with its activation and gradient buffers.
//!
//! Memory, as in llm.c: activations are allocated once for the batch size (`prepare`), one
//! buffer per layer output, except that element-wise activations run in place on their
//! input's buffer. The gradient w.r.t. activations needs only two buffers, used alternately
//! ("ping-pong") as the backward pass walks down the chain. Parameters live outside, in the
//! model's flat buffer: the chain receives its own slice and hands each layer a sub-slice.
//!
//! Inference fusion: in an evaluation pass that allows it (`Ctx::fuse`), a layer that can fuse
//! (a convolution) absorbs the batch norm and the activation right after it: it writes their
//! output directly into the last fused layer's buffer, and the fused layers do not run. The
//! buffers it skips are then stale, so a backward pass after such a forward is refused.

use crate::dims::Dims;
use crate::layers::{Ctx, Fused, Layer, Mode, Pass};
use crate::Result;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::ops::Range;

/// A chain of layers, each feeding the next.
pub struct Sequential {
    input: Dims,
    layers: Vec<Box<dyn Layer>>,
    frozen: Vec<bool>,
    /// Parameter range of each layer within this chain's slice.
    param_ranges: Vec<Range<usize>>,
    /// Index into `acts` of each layer's output buffer (shared with the input for in-place layers).
    out_buf: Vec<usize>,
    acts: Vec<Vec<f32>>,
    /// Scratch of a top-level chain: its two gradient buffers, then the layers' kernel scratch
    /// (see [`Sequential::scratch_len`]).
    scratch: Vec<f32>,
    /// `[scale | shift]` of a batch norm folded into the layer before it (fused inference).
    affine: Vec<f32>,
    /// Whether the last forward was a fused inference pass, which skips what backward would
    /// read (the outputs of fused layers, a max pooling's argmax).
    skipped_buffers: bool,
    batch: usize,
}

impl Sequential {
    /// An empty chain taking samples of shape `input`.
    pub fn new(input: Dims) -> Self {
        Sequential {
            input,
            layers: Vec::new(),
            frozen: Vec::new(),
            param_ranges: Vec::new(),
            out_buf: Vec::new(),
            acts: Vec::new(),
            scratch: Vec::new(),
            affine: Vec::new(),
            skipped_buffers: false,
            batch: 0,
        }
    }

    /// Per-sample input shape.
    pub fn in_dims(&self) -> Dims {
        self.input
    }

    /// Per-sample output shape (the input shape for an empty chain).
    pub fn out_dims(&self) -> Dims {
        self.layers.last().map_or(self.input, |l| l.out_dims())
    }

    /// Appends a layer built from the current output shape (so shapes are checked as the
    /// network is assembled): `seq.push_with(|d| Conv1d::new(d, ...))`.
    pub fn push_with<L: Layer + 'static>(
        &mut self,
        build: impl FnOnce(Dims) -> Result<L>,
    ) -> Result<&mut Self> {
        let layer = build(self.out_dims())?;
        self.push_boxed(Box::new(layer));
        Ok(self)
    }

    /// Appends an already-built layer.
    pub fn push_boxed(&mut self, layer: Box<dyn Layer>) {
        let start = self.param_ranges.last().map_or(0, |r| r.end);
        self.param_ranges.push(start..start + layer.param_len());
        let runs_in_place = layer.in_place() && !self.layers.is_empty();
        let buf = if runs_in_place {
            self.out_buf[self.out_buf.len() - 1]
        } else {
            self.acts.len()
        };
        if buf == self.acts.len() {
            self.acts.push(Vec::new());
        }
        self.out_buf.push(buf);
        self.layers.push(layer);
        self.frozen.push(false);
        self.batch = 0;
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// Mutable access to the layers, e.g. to change an initialiser.
    pub fn layers_mut(&mut self) -> &mut [Box<dyn Layer>] {
        &mut self.layers
    }

    /// Parameter range of layer `i` within this chain's slice.
    pub fn param_range(&self, i: usize) -> Range<usize> {
        self.param_ranges[i].clone()
    }

    /// Total trainable floats of the chain.
    pub fn param_len(&self) -> usize {
        self.param_ranges.last().map_or(0, |r| r.end)
    }

    /// Freezes or unfreezes layer `i`: a frozen layer runs in evaluation mode and the
    /// optimiser leaves its parameters alone.
    pub fn set_frozen(&mut self, i: usize, frozen: bool) {
        self.frozen[i] = frozen;
    }

    /// Whether layer `i` is frozen.
    pub fn is_frozen(&self, i: usize) -> bool {
        self.frozen[i]
    }

    /// Whether any parameter of the chain trains.
    pub fn any_trainable(&self) -> bool {
        (0..self.layers.len()).any(|i| !self.frozen[i] && !self.param_ranges[i].is_empty())
    }

    /// Initialises every layer's parameters, in order, from one stream.
    pub fn init_params(&mut self, params: &mut [f32], rng: &mut Xoshiro256PlusPlus) {
        for (layer, range) in self.layers.iter_mut().zip(&self.param_ranges) {
            layer.init_params(&mut params[range.clone()], rng);
        }
    }

    /// Allocates activations, gradient buffers, caches and scratch for up to `batch` samples.
    /// Calling it again with a smaller or equal batch does nothing.
    pub fn prepare(&mut self, batch: usize) {
        if batch <= self.batch {
            return;
        }
        // Any batch up to `batch` may run later (the last batch of an epoch is smaller), and
        // scratch need not grow with the batch (a GEMM's packing depends on its shape), so take
        // the largest need over all of them.
        let most = (1..=batch).map(|b| self.scratch_len(b)).max();
        grow(&mut self.scratch, most.unwrap_or(0));
        self.prepare_buffers(batch);
    }

    /// [`Sequential::prepare`] without the kernels' scratch, for a chain that runs with its
    /// caller's ([`Sequential::forward_with`], [`Sequential::backward_with`]): the branches of an
    /// inception block share the scratch of the chain around them, since they run one at a time.
    pub fn prepare_buffers(&mut self, batch: usize) {
        assert!(batch > 0, "batch size must be at least 1");
        if batch <= self.batch {
            return;
        }
        for (i, layer) in self.layers.iter_mut().enumerate() {
            grow(
                &mut self.acts[self.out_buf[i]],
                batch * layer.out_dims().size(),
            );
            layer.prepare(batch);
        }
        let widest_channels = self.layers.iter().map(|l| l.out_dims().channels()).max();
        grow(&mut self.affine, 2 * widest_channels.unwrap_or(0));
        self.batch = batch;
    }

    /// Floats of scratch the chain needs for `batch` samples: two gradient buffers of
    /// [`Sequential::gradient_len`] floats (backward), then the most any layer needs.
    pub fn scratch_len(&self, batch: usize) -> usize {
        let needs = self.layers.iter().map(|l| l.scratch_len(batch));
        2 * self.gradient_len(batch) + needs.max().unwrap_or(0)
    }

    /// Floats of one gradient buffer of the backward pass: the largest output of a layer below
    /// the last. The gradients of the chain's own input and output are the caller's.
    fn gradient_len(&self, batch: usize) -> usize {
        let inner = self.layers.iter().rev().skip(1);
        inner
            .map(|l| batch * l.out_dims().size())
            .max()
            .unwrap_or(0)
    }

    /// Runs the chain on `x` (`[batch, in_dims]`); the result is in [`Sequential::output`].
    pub fn forward(&mut self, ctx: &mut Ctx, params: &[f32], x: &[f32]) {
        let mut scratch = std::mem::take(&mut self.scratch);
        self.forward_with(ctx, params, x, &mut scratch);
        self.scratch = scratch;
    }

    /// [`Sequential::forward`] with the caller's scratch (at least
    /// [`Sequential::scratch_len`] floats).
    pub fn forward_with(&mut self, ctx: &mut Ctx, params: &[f32], x: &[f32], scratch: &mut [f32]) {
        let batch = ctx.pass.batch;
        assert!(
            batch <= self.batch,
            "forward with batch {batch} after prepare({})",
            self.batch
        );
        assert_eq!(x.len(), batch * self.input.size(), "input length");
        // Only a pass that is in evaluation mode as a whole fuses: a frozen layer in a training
        // pass runs in evaluation mode but may be backpropagated through.
        let fuse = ctx.fuse && ctx.pass.mode == Mode::Eval;
        self.skipped_buffers = fuse;
        let mut i = 0;
        while i < self.layers.len() {
            let p = &params[self.param_ranges[i].clone()];
            let pass = Pass {
                mode: if self.frozen[i] {
                    Mode::Eval
                } else {
                    ctx.pass.mode
                },
                batch,
            };
            let mut layer_ctx = Ctx {
                pass,
                dropout_rng: &mut *ctx.dropout_rng,
                extra: ctx.extra,
                fuse,
            };
            if i > 0 && self.out_buf[i] == self.out_buf[i - 1] {
                let out_len = batch * self.layers[i].out_dims().size();
                let xy = &mut self.acts[self.out_buf[i]][..out_len];
                self.layers[i].forward_in_place(&mut layer_ctx, p, xy);
                i += 1;
                continue;
            }
            let fusion = if fuse {
                plan_fusion(
                    &self.layers,
                    &self.param_ranges,
                    params,
                    i,
                    &mut self.affine,
                )
            } else {
                None
            };
            let last = fusion.as_ref().map_or(i, |(last, _)| *last);
            let out_len = batch * self.layers[last].out_dims().size();
            let (input, output) = if i == 0 {
                (x, &mut self.acts[self.out_buf[last]][..out_len])
            } else {
                let in_len = batch * self.layers[i - 1].out_dims().size();
                let (a, b) = two_buffers(&mut self.acts, self.out_buf[i - 1], self.out_buf[last]);
                (&a[..in_len], &mut b[..out_len])
            };
            let layer = &mut self.layers[i];
            match &fusion {
                Some((_, fused)) => {
                    layer.forward_fused(&mut layer_ctx, p, input, output, scratch, fused);
                }
                None => layer.forward(&mut layer_ctx, p, input, output, scratch),
            }
            i = last + 1;
        }
    }

    /// The output of the last forward pass, `[batch, out_dims]`.
    pub fn output(&self, batch: usize) -> &[f32] {
        let len = batch * self.out_dims().size();
        match self.out_buf.last() {
            Some(&b) => &self.acts[b][..len],
            None => &[],
        }
    }

    /// Backward pass from `dy` (`∂L/∂output`). Accumulates parameter gradients into `grads`
    /// (this chain's slice) and, when `dx` is given, `∂L/∂x` into `dx`. Layers below the
    /// lowest trainable one are skipped when no input gradient is wanted.
    pub fn backward(
        &mut self,
        pass: Pass,
        params: &[f32],
        grads: &mut [f32],
        x: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
    ) {
        let mut scratch = std::mem::take(&mut self.scratch);
        self.backward_with(pass, params, grads, x, dy, dx, &mut scratch);
        self.scratch = scratch;
    }

    /// [`Sequential::backward`] with the caller's scratch (at least
    /// [`Sequential::scratch_len`] floats).
    #[allow(clippy::too_many_arguments)]
    pub fn backward_with(
        &mut self,
        pass: Pass,
        params: &[f32],
        grads: &mut [f32],
        x: &[f32],
        dy: &[f32],
        mut dx: Option<&mut [f32]>,
        scratch: &mut [f32],
    ) {
        assert!(
            !self.skipped_buffers,
            "backward after a fused inference forward: run the forward in training mode, or \
             without fusion (Model::set_inference_fusion(false))"
        );
        let batch = pass.batch;
        let n = self.layers.len();
        let (gradients, scratch) = scratch.split_at_mut(2 * self.gradient_len(batch));
        let (mut grad_ping, mut grad_pong) = gradients.split_at_mut(gradients.len() / 2);
        let lowest = if dx.is_some() {
            0
        } else {
            match (0..n).find(|&i| !self.frozen[i] && !self.param_ranges[i].is_empty()) {
                Some(i) => i,
                None => return,
            }
        };
        // grad_ping holds ∂L/∂(output of layer i) when layer i runs (except for the last layer,
        // whose gradient is `dy`); layer i writes ∂L/∂(its input) into grad_pong, then they swap.
        for i in (lowest..n).rev() {
            let in_len = batch
                * if i == 0 {
                    self.input.size()
                } else {
                    self.layers[i - 1].out_dims().size()
                };
            let out_len = batch * self.layers[i].out_dims().size();
            let input = if i == 0 {
                x
            } else {
                &self.acts[self.out_buf[i - 1]][..in_len]
            };
            let output = &self.acts[self.out_buf[i]][..out_len];
            let dy_i = if i + 1 == n {
                dy
            } else {
                &grad_ping[..out_len]
            };
            let dx_i = if i == 0 {
                dx.as_deref_mut()
            } else if i > lowest {
                let g = &mut grad_pong[..in_len];
                g.fill(0.0);
                Some(g)
            } else {
                None
            };
            let layer_pass = Pass {
                mode: if self.frozen[i] {
                    Mode::Eval
                } else {
                    pass.mode
                },
                batch,
            };
            let range = self.param_ranges[i].clone();
            self.layers[i].backward(
                layer_pass,
                &params[range.clone()],
                input,
                output,
                dy_i,
                dx_i,
                &mut grads[range],
                scratch,
            );
            std::mem::swap(&mut grad_ping, &mut grad_pong);
        }
    }
}

/// What layer `i` fuses at inference, if it can fuse and is followed by a batch norm (its
/// affine map is written into `affine`), an activation, or both in that order: the index of the
/// last fused layer and what to fuse.
fn plan_fusion<'a>(
    layers: &[Box<dyn Layer>],
    param_ranges: &[Range<usize>],
    params: &'a [f32],
    i: usize,
    affine: &'a mut [f32],
) -> Option<(usize, Fused<'a>)> {
    if !layers[i].can_fuse() {
        return None;
    }
    let channels = layers[i].out_dims().channels();
    let (scale, rest) = affine.split_at_mut(channels);
    let shift = &mut rest[..channels];
    let mut next = i + 1;
    let params_of = |j: usize| &params[param_ranges[j].clone()];
    let mut fused = Fused {
        affine: None,
        activation: crate::layers::Activation::Identity,
    };
    if next < layers.len() && layers[next].eval_affine(params_of(next), scale, shift) {
        fused.affine = Some((&*scale, &*shift));
        next += 1;
    }
    if let Some(activation) = layers
        .get(next)
        .and_then(|l| l.as_activation(params_of(next)))
    {
        fused.activation = activation;
        next += 1;
    }
    (next > i + 1).then_some((next - 1, fused))
}

/// Grows `v` to at least `len` zeros (never shrinks, so later steps reuse the allocation).
fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

/// Borrows buffer `a` immutably and buffer `b` mutably (`a != b`).
fn two_buffers(bufs: &mut [Vec<f32>], a: usize, b: usize) -> (&[f32], &mut [f32]) {
    assert_ne!(a, b, "a layer cannot read and write the same buffer");
    if a < b {
        let (lo, hi) = bufs.split_at_mut(b);
        (&lo[a], &mut hi[0])
    } else {
        let (lo, hi) = bufs.split_at_mut(a);
        (&hi[0], &mut lo[b])
    }
}
