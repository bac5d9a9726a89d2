//! Appends per-sample scalars (e.g. the Galactic reddening E(B−V)) to a feature vector.

use super::{Ctx, Layer, Pass};
use crate::dims::Dims;
use crate::Result;
use zcnn_kernels::concat::{concat_channels, split_channels_backward};

/// `[features] → [features + n_extra]`: the extra scalars of each sample (`Ctx::extra`,
/// `[batch, n_extra]`) follow its features, as in the pasquet network where E(B−V) joins the
/// flattened image features before the dense layers.
pub struct AppendScalars {
    features: usize,
    n_extra: usize,
}

impl AppendScalars {
    pub fn new(input: Dims, n_extra: usize) -> Result<Self> {
        let Dims::Flat(features) = input else {
            return Err(crate::Error(format!(
                "append_scalars: needs a flat input, got {input} (flatten first)"
            )));
        };
        crate::ensure!(
            n_extra > 0,
            "append_scalars: needs at least one extra scalar"
        );
        Ok(AppendScalars { features, n_extra })
    }

    /// Number of scalars appended per sample.
    pub fn n_extra(&self) -> usize {
        self.n_extra
    }
}

impl Layer for AppendScalars {
    fn kind(&self) -> &'static str {
        "append_scalars"
    }
    fn out_dims(&self) -> Dims {
        Dims::Flat(self.features + self.n_extra)
    }
    fn forward(&mut self, ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        let (rows, width) = (ctx.pass.batch, self.features + self.n_extra);
        assert_eq!(
            ctx.extra.len(),
            rows * self.n_extra,
            "append_scalars: extra inputs [batch, {}]",
            self.n_extra
        );
        concat_channels(rows, x, self.features, y, width, 0);
        concat_channels(rows, ctx.extra, self.n_extra, y, width, self.features);
    }
    fn backward(
        &mut self,
        pass: Pass,
        _p: &[f32],
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _g: &mut [f32],
        _s: &mut [f32],
    ) {
        if let Some(dx) = dx {
            split_channels_backward(
                pass.batch,
                dy,
                self.features + self.n_extra,
                0,
                dx,
                self.features,
            );
        }
    }
}
