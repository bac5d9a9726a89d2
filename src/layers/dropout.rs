//! Inverted dropout.

use super::{Ctx, Layer, Mode, Pass};
use crate::dims::Dims;
use crate::Result;
use zcnn_kernels::dropout::{dropout_backward, dropout_forward, dropout_mask};

/// Srivastava et al. 2014, inverted: in training each element is zeroed with probability `p`
/// and the survivors scaled by 1/(1 − p), so evaluation is the identity. The mask comes from
/// the model's dropout stream and is reused by the backward pass.
pub struct Dropout {
    dims: Dims,
    p: f32,
    mask: Vec<f32>,
}

impl Dropout {
    pub fn new(input: Dims, p: f32) -> Result<Self> {
        crate::ensure!(
            (0.0..1.0).contains(&p),
            "dropout: probability must be in [0, 1), got {p}"
        );
        Ok(Dropout {
            dims: input,
            p,
            mask: Vec::new(),
        })
    }
}

impl Layer for Dropout {
    fn kind(&self) -> &'static str {
        "dropout"
    }

    fn out_dims(&self) -> Dims {
        self.dims
    }

    fn prepare(&mut self, batch: usize) {
        self.mask.resize(batch * self.dims.size(), 0.0);
    }

    fn forward(
        &mut self,
        ctx: &mut Ctx,
        _params: &[f32],
        x: &[f32],
        y: &mut [f32],
        _scratch: &mut [f32],
    ) {
        let mask = &mut self.mask[..x.len()];
        match ctx.pass.mode {
            Mode::Train => {
                dropout_mask(self.p, ctx.dropout_rng, mask);
                dropout_forward(x, mask, y);
            }
            Mode::Eval => {
                mask.fill(1.0);
                y.copy_from_slice(x);
            }
        }
    }

    fn backward(
        &mut self,
        _pass: Pass,
        _params: &[f32],
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _grads: &mut [f32],
        _scratch: &mut [f32],
    ) {
        if let Some(dx) = dx {
            dropout_backward(dy, &self.mask[..dy.len()], dx);
        }
    }
}
