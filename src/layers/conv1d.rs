//! 1D convolution layer over `[len, ch]` sequences.

use super::{Ctx, Fused, Layer, Padding, Pass};
use crate::dims::Dims;
use crate::init::{fill_weights, WeightInit};
use crate::{ensure, Result};
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn_kernels::conv1d::{conv1d_backward, conv1d_forward, conv1d_forward_fused, Conv1dShape};

/// `y[l, co] = b[co] + Σ_{k,ci} x[l·stride + k·dilation − pad_left, ci] · w[k, ci, co]`.
/// Parameters: the weight `[kernel, in_ch, out_ch]` then the bias `[out_ch]`.
pub struct Conv1d {
    shape: Conv1dShape,
    init: WeightInit,
    bias_init: f32,
}

impl Conv1d {
    /// A convolution of `input` (which must be a sequence) with `out_ch` filters of length
    /// `kernel`. Initialised Glorot-uniform with zero biases unless changed.
    pub fn new(
        input: Dims,
        out_ch: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        dilation: usize,
    ) -> Result<Self> {
        let Dims::Seq { len, ch } = input else {
            return Err(crate::Error(format!(
                "conv1d: needs a sequence input [len, ch], got {input}"
            )));
        };
        ensure!(out_ch > 0, "conv1d: out_channels must be at least 1");
        let (pad_left, pad_right) =
            padding.resolve(len, kernel.max(1), stride.max(1), dilation.max(1));
        let shape = Conv1dShape {
            batch: 1,
            in_len: len,
            in_ch: ch,
            out_ch,
            kernel,
            stride,
            pad_left,
            pad_right,
            dilation,
        };
        shape.validate()?;
        Ok(Conv1d {
            shape,
            init: WeightInit::GlorotUniform,
            bias_init: 0.0,
        })
    }

    /// The layer's shape (for one sample: `batch` is 1).
    pub fn shape(&self) -> &Conv1dShape {
        &self.shape
    }

    fn at_batch(&self, batch: usize) -> Conv1dShape {
        Conv1dShape {
            batch,
            ..self.shape
        }
    }

    fn weight_len(&self) -> usize {
        self.shape.weight_len()
    }
}

impl Layer for Conv1d {
    fn kind(&self) -> &'static str {
        "conv1d"
    }

    fn out_dims(&self) -> Dims {
        Dims::Seq {
            len: self.shape.out_len(),
            ch: self.shape.out_ch,
        }
    }

    fn param_len(&self) -> usize {
        self.weight_len() + self.shape.out_ch
    }

    fn init_params(&mut self, params: &mut [f32], rng: &mut Xoshiro256PlusPlus) {
        let (w, b) = params.split_at_mut(self.weight_len());
        let rows = self.shape.kernel * self.shape.in_ch;
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
        conv1d_forward(&self.at_batch(ctx.pass.batch), x, w, Some(b), y, scratch);
    }

    fn can_fuse(&self) -> bool {
        true
    }

    /// A following batch norm is folded into the weights and bias (into `scratch`); the
    /// activation is applied as each output vector is stored.
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
        let s = self.at_batch(ctx.pass.batch);
        conv1d_forward_fused(&s, x, w, Some(b), fused.activation, y, scratch);
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
        conv1d_backward(
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
