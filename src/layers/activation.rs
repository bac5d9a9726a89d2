//! Activation layers: ReLU and leaky ReLU run in place; PReLU learns one slope per channel.

use super::{Activation, Ctx, Layer, Pass};
use crate::dims::Dims;
use crate::Result;
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn_kernels::activation::{
    leaky_relu_backward, leaky_relu_forward, leaky_relu_forward_in_place, prelu_backward,
    prelu_backward_scratch_len, prelu_forward, relu_backward, relu_forward, relu_forward_in_place,
};

/// `y = max(x, 0)`. Runs in place: the backward needs only the sign of `x`, which `y` keeps.
pub struct Relu {
    dims: Dims,
}

impl Relu {
    pub fn new(input: Dims) -> Result<Self> {
        Ok(Relu { dims: input })
    }
}

impl Layer for Relu {
    fn kind(&self) -> &'static str {
        "relu"
    }
    fn out_dims(&self) -> Dims {
        self.dims
    }
    fn in_place(&self) -> bool {
        true
    }
    fn forward(&mut self, _ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        relu_forward(x, y);
    }
    fn forward_in_place(&mut self, _ctx: &mut Ctx, _p: &[f32], xy: &mut [f32]) {
        relu_forward_in_place(xy);
    }
    fn as_activation<'p>(&self, _params: &'p [f32]) -> Option<Activation<'p>> {
        Some(Activation::Relu)
    }
    /// `x` may be the output (in place): `y > 0 ⇔ x > 0`, so the mask is the same.
    fn backward(
        &mut self,
        _pass: Pass,
        _p: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _g: &mut [f32],
        _s: &mut [f32],
    ) {
        if let Some(dx) = dx {
            relu_backward(x, dy, dx);
        }
    }
}

/// `y = x` for `x > 0`, `α·x` otherwise (Maas et al. 2013). Runs in place when `α > 0`, since
/// `y` then keeps the sign of `x`.
pub struct LeakyRelu {
    dims: Dims,
    alpha: f32,
}

impl LeakyRelu {
    pub fn new(input: Dims, alpha: f32) -> Result<Self> {
        crate::ensure!(
            alpha.is_finite(),
            "leaky_relu: slope must be finite, got {alpha}"
        );
        Ok(LeakyRelu { dims: input, alpha })
    }
}

impl Layer for LeakyRelu {
    fn kind(&self) -> &'static str {
        "leaky_relu"
    }
    fn out_dims(&self) -> Dims {
        self.dims
    }
    fn in_place(&self) -> bool {
        self.alpha > 0.0
    }
    fn forward(&mut self, _ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        leaky_relu_forward(self.alpha, x, y);
    }
    fn forward_in_place(&mut self, _ctx: &mut Ctx, _p: &[f32], xy: &mut [f32]) {
        leaky_relu_forward_in_place(self.alpha, xy);
    }
    fn as_activation<'p>(&self, _params: &'p [f32]) -> Option<Activation<'p>> {
        Some(Activation::LeakyRelu(self.alpha))
    }
    fn backward(
        &mut self,
        _pass: Pass,
        _p: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _g: &mut [f32],
        _s: &mut [f32],
    ) {
        if let Some(dx) = dx {
            leaky_relu_backward(self.alpha, x, dy, dx);
        }
    }
}

/// `y = x` for `x > 0`, `α_c·x` otherwise, with a learnable slope per channel (He et al. 2015).
/// Parameter: `weight` `[channels]` (the slopes).
pub struct Prelu {
    dims: Dims,
    initial_slope: f32,
}

impl Prelu {
    pub fn new(input: Dims, initial_slope: f32) -> Result<Self> {
        crate::ensure!(
            initial_slope.is_finite(),
            "prelu: initial slope must be finite, got {initial_slope}"
        );
        Ok(Prelu {
            dims: input,
            initial_slope,
        })
    }
}

impl Layer for Prelu {
    fn kind(&self) -> &'static str {
        "prelu"
    }
    fn out_dims(&self) -> Dims {
        self.dims
    }
    fn param_len(&self) -> usize {
        self.dims.channels()
    }
    fn init_params(&mut self, params: &mut [f32], _rng: &mut Xoshiro256PlusPlus) {
        params.fill(self.initial_slope);
    }
    fn scratch_len(&self, batch: usize) -> usize {
        prelu_backward_scratch_len(batch * self.dims.positions(), self.dims.channels())
    }
    fn forward(&mut self, _ctx: &mut Ctx, p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        prelu_forward(self.dims.channels(), x, p, y);
    }
    fn as_activation<'p>(&self, params: &'p [f32]) -> Option<Activation<'p>> {
        Some(Activation::Prelu(params))
    }
    fn backward(
        &mut self,
        _pass: Pass,
        p: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        grads: &mut [f32],
        scratch: &mut [f32],
    ) {
        prelu_backward(self.dims.channels(), x, p, dy, dx, grads, scratch);
    }
}
