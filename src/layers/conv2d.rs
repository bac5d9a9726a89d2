//! 2D convolution layer over `[h, w, ch]` images.

use super::{Ctx, Fused, Layer, Padding, Pass};
use crate::dims::Dims;
use crate::init::{fill_weights, WeightInit};
use crate::{ensure, Result};
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn_kernels::conv2d::{conv2d_backward, conv2d_forward, conv2d_forward_fused, Conv2dShape};
use zcnn_kernels::epilogue::Epilogue;

/// `y[i, j, co] = b[co] + Σ_{kh,kw,ci} x[i·s + kh − pad_top, j·s + kw − pad_left, ci] · w[kh, kw, ci, co]`
/// (with dilation multiplying `kh`, `kw`). Parameters: the weight `[kh, kw, in_ch, out_ch]`
/// then the bias `[out_ch]`.
pub struct Conv2d {
    shape: Conv2dShape,
    init: WeightInit,
    bias_init: f32,
}

impl Conv2d {
    /// A square-kernel convolution of `input` (which must be an image) with `out_ch` filters;
    /// the same stride, padding rule and dilation on both axes. Glorot-uniform, zero biases.
    pub fn new(
        input: Dims,
        out_ch: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        dilation: usize,
    ) -> Result<Self> {
        let Dims::Image { h, w, ch } = input else {
            return Err(crate::Error(format!(
                "conv2d: needs an image input [h, w, ch], got {input}"
            )));
        };
        ensure!(out_ch > 0, "conv2d: out_channels must be at least 1");
        let (k, s, d) = (kernel.max(1), stride.max(1), dilation.max(1));
        let (pad_top, pad_bottom) = padding.resolve(h, k, s, d);
        let (pad_left, pad_right) = padding.resolve(w, k, s, d);
        let shape = Conv2dShape {
            batch: 1,
            in_h: h,
            in_w: w,
            in_ch: ch,
            out_ch,
            kernel_h: kernel,
            kernel_w: kernel,
            stride_h: stride,
            stride_w: stride,
            pad_top,
            pad_bottom,
            pad_left,
            pad_right,
            dilation_h: dilation,
            dilation_w: dilation,
        };
        shape.validate()?;
        Ok(Conv2d {
            shape,
            init: WeightInit::GlorotUniform,
            bias_init: 0.0,
        })
    }

    /// The layer's shape (for one sample: `batch` is 1).
    pub fn shape(&self) -> &Conv2dShape {
        &self.shape
    }

    fn at_batch(&self, batch: usize) -> Conv2dShape {
        Conv2dShape {
            batch,
            ..self.shape
        }
    }

    fn weight_len(&self) -> usize {
        self.shape.weight_len()
    }
}

impl Layer for Conv2d {
    fn kind(&self) -> &'static str {
        "conv2d"
    }

    fn out_dims(&self) -> Dims {
        Dims::Image {
            h: self.shape.out_h(),
            w: self.shape.out_w(),
            ch: self.shape.out_ch,
        }
    }

    fn param_len(&self) -> usize {
        self.weight_len() + self.shape.out_ch
    }

    fn init_params(&mut self, params: &mut [f32], rng: &mut Xoshiro256PlusPlus) {
        let (w, b) = params.split_at_mut(self.weight_len());
        let rows = self.shape.kernel_h * self.shape.kernel_w * self.shape.in_ch;
        fill_weights(self.init, w, rows, self.shape.out_ch, false, rng);
        b.fill(self.bias_init);
    }

    fn set_weight_init(&mut self, init: WeightInit, bias: f32) {
        self.init = init;
        self.bias_init = bias;
    }

    /// The kernels' scratch; the fused forward also keeps folded weights and bias there.
    fn scratch_len(&self, batch: usize) -> usize {
        let s = self.at_batch(batch);
        let folded = self.param_len();
        (folded + s.forward_scratch_len()).max(s.backward_scratch_len())
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
        conv2d_forward(&self.at_batch(ctx.pass.batch), x, w, Some(b), y, scratch);
    }

    fn can_fuse(&self) -> bool {
        true
    }

    /// A following batch norm is folded into the weights and bias (into `scratch`); the
    /// activation is applied as the output is written.
    fn forward_fused(
        &mut self,
        ctx: &mut Ctx,
        params: &[f32],
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
        fused: &Fused,
    ) {
        let (w, b) = params.split_at(self.weight_len());
        let (folded, scratch) = scratch.split_at_mut(self.param_len());
        let (w, b) = fused.weights(w, b, folded);
        let epilogue = Epilogue {
            bias: Some(b),
            activation: fused.activation,
        };
        let s = self.at_batch(ctx.pass.batch);
        conv2d_forward_fused(&s, x, w, &epilogue, y, scratch);
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
        conv2d_backward(
            &self.at_batch(pass.batch),
            x,
            w,
            dy,
            dx,
            dw,
            Some(db),
            scratch,
        );
    }
}
