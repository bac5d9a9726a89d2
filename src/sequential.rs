//! A chain of layers with its activation and gradient buffers.
//!
//! Memory, as in llm.c: activations are allocated once for the batch size (`prepare`), one
//! buffer per layer output, except that element-wise activations run in place on their
//! input's buffer. The gradient w.r.t. activations needs only two buffers, used alternately
//! ("ping-pong") as the backward pass walks down the chain. Parameters live outside, in the
//! model's flat buffer: the chain receives its own slice and hands each layer a sub-slice.

use crate::dims::Dims;
use crate::layers::{Ctx, Layer, Mode, Pass};
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
    grad_ping: Vec<f32>,
    grad_pong: Vec<f32>,
    scratch: Vec<f32>,
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
            grad_ping: Vec::new(),
            grad_pong: Vec::new(),
            scratch: Vec::new(),
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
        assert!(batch > 0, "batch size must be at least 1");
        if batch <= self.batch {
            return;
        }
        let mut widest = batch * self.input.size();
        let mut scratch = 0;
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let len = batch * layer.out_dims().size();
            grow(&mut self.acts[self.out_buf[i]], len);
            widest = widest.max(len);
            layer.prepare(batch);
            // Any batch up to `batch` may run later (the last batch of an epoch is smaller), and
            // scratch need not grow with the batch (a GEMM's packing depends on its shape), so
            // take the largest need over all of them.
            let most = (1..=batch).map(|b| layer.scratch_len(b)).max();
            scratch = scratch.max(most.unwrap_or(0));
        }
        grow(&mut self.grad_ping, widest);
        grow(&mut self.grad_pong, widest);
        grow(&mut self.scratch, scratch);
        self.batch = batch;
    }

    /// Runs the chain on `x` (`[batch, in_dims]`); the result is in [`Sequential::output`].
    pub fn forward(&mut self, ctx: &mut Ctx, params: &[f32], x: &[f32]) {
        let batch = ctx.pass.batch;
        assert!(
            batch <= self.batch,
            "forward with batch {batch} after prepare({})",
            self.batch
        );
        assert_eq!(x.len(), batch * self.input.size(), "input length");
        for i in 0..self.layers.len() {
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
            };
            let out_len = batch * self.layers[i].out_dims().size();
            let (input, output) = if i == 0 {
                (x, &mut self.acts[self.out_buf[0]][..out_len])
            } else if self.out_buf[i] == self.out_buf[i - 1] {
                let xy = &mut self.acts[self.out_buf[i]][..out_len];
                self.layers[i].forward_in_place(&mut layer_ctx, p, xy);
                continue;
            } else {
                let in_len = batch * self.layers[i - 1].out_dims().size();
                let (a, b) = two_buffers(&mut self.acts, self.out_buf[i - 1], self.out_buf[i]);
                (&a[..in_len], &mut b[..out_len])
            };
            self.layers[i].forward(&mut layer_ctx, p, input, output, &mut self.scratch);
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
        mut dx: Option<&mut [f32]>,
    ) {
        let batch = pass.batch;
        let n = self.layers.len();
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
                &self.grad_ping[..out_len]
            };
            let dx_i = if i == 0 {
                dx.as_deref_mut()
            } else if i > lowest {
                let g = &mut self.grad_pong[..in_len];
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
                &mut self.scratch,
            );
            std::mem::swap(&mut self.grad_ping, &mut self.grad_pong);
        }
    }
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
