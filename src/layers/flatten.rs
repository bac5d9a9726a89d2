//! Flatten: a sequence or image becomes one feature vector per sample.

use super::{Ctx, Layer, Pass};
use crate::dims::Dims;
use crate::Result;
use zcnn_kernels::simd::axpy;

/// `[positions, ch] → [positions · ch]` in memory order (channels last). Runs in place: the
/// data do not move. PyTorch flattens channels first, so checkpoints permute the columns of
/// the dense layer that follows.
pub struct Flatten {
    input: Dims,
}

impl Flatten {
    pub fn new(input: Dims) -> Result<Self> {
        Ok(Flatten { input })
    }

    /// The shape before flattening.
    pub fn in_dims(&self) -> Dims {
        self.input
    }
}

impl Layer for Flatten {
    fn kind(&self) -> &'static str {
        "flatten"
    }
    fn out_dims(&self) -> Dims {
        Dims::Flat(self.input.size())
    }
    fn in_place(&self) -> bool {
        true
    }
    fn forward(&mut self, _ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        y.copy_from_slice(x);
    }
    fn forward_in_place(&mut self, _ctx: &mut Ctx, _p: &[f32], _xy: &mut [f32]) {}
    fn backward(
        &mut self,
        _pass: Pass,
        _p: &[f32],
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _g: &mut [f32],
        _s: &mut [f32],
    ) {
        if let Some(dx) = dx {
            axpy(1.0, dy, dx);
        }
    }
}
