//! Fully connected layer over flat feature vectors.

use super::{Ctx, Layer, Pass};
use crate::dims::Dims;
use crate::init::{fill_weights, WeightInit};
use crate::{ensure, Result};
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn_kernels::dense::{dense_backward, dense_forward, DenseShape};

/// `y = x·Wᵀ + b`. Parameters: the weight `[out, in]` (PyTorch's `Linear.weight`) then the
/// bias `[out]`.
pub struct Dense {
    shape: DenseShape,
    init: WeightInit,
    bias_init: f32,
}

impl Dense {
    /// A dense layer from a flat `input` to `out` features. Glorot-uniform, zero biases.
    pub fn new(input: Dims, out: usize) -> Result<Self> {
        let Dims::Flat(in_features) = input else {
            return Err(crate::Error(format!(
                "dense: needs a flat input, got {input} (add a flatten layer first)"
            )));
        };
        ensure!(out > 0, "dense: out_features must be at least 1");
        let shape = DenseShape {
            batch: 1,
            in_features,
            out_features: out,
        };
        shape.validate()?;
        Ok(Dense {
            shape,
            init: WeightInit::GlorotUniform,
            bias_init: 0.0,
        })
    }

    /// The layer's shape (for one sample: `batch` is 1).
    pub fn shape(&self) -> &DenseShape {
        &self.shape
    }

    fn at_batch(&self, batch: usize) -> DenseShape {
        DenseShape {
            batch,
            ..self.shape
        }
    }

    fn weight_len(&self) -> usize {
        self.shape.weight_len()
    }
}

impl Layer for Dense {
    fn kind(&self) -> &'static str {
        "dense"
    }

    fn out_dims(&self) -> Dims {
        Dims::Flat(self.shape.out_features)
    }

    fn param_len(&self) -> usize {
        self.weight_len() + self.shape.out_features
    }

    fn init_params(&mut self, params: &mut [f32], rng: &mut Xoshiro256PlusPlus) {
        let (w, b) = params.split_at_mut(self.weight_len());
        fill_weights(
            self.init,
            w,
            self.shape.out_features,
            self.shape.in_features,
            true,
            rng,
        );
        b.fill(self.bias_init);
    }

    fn set_weight_init(&mut self, init: WeightInit, bias: f32) {
        self.init = init;
        self.bias_init = bias;
    }

    fn scratch_len(&self, batch: usize) -> usize {
        let s = self.at_batch(batch);
        s.forward_scratch_len().max(s.backward_scratch_len())
    }

    fn forward(
        &mut self,
        ctx: &mut Ctx,
        params: &[f32],
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
    ) {
        let (w, b) = params.split_at(self.weight_len());
        dense_forward(&self.at_batch(ctx.pass.batch), x, w, Some(b), y, scratch);
    }

    fn backward(
        &mut self,
        pass: Pass,
        params: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        grads: &mut [f32],
        scratch: &mut [f32],
    ) {
        let w = &params[..self.weight_len()];
        let (dw, db) = grads.split_at_mut(self.weight_len());
        let s = self.at_batch(pass.batch);
        dense_backward(&s, x, w, dy, dx, dw, Some(db), scratch);
    }
}
