//! 1D convolution over channels-last activations (a cross-correlation, as PyTorch's `Conv1d`).
//!
//! With `x: [batch, in_len, in_ch]`, `w: [kernel, in_ch, out_ch]`, `bias: [out_ch]` and
//! `y: [batch, out_len, out_ch]`, the forward pass is
//!
//! ```text
//! y[n, l, co] = b[co] + Σ_{k, ci} x[n, l·stride + k·dilation − pad_left, ci] · w[k, ci, co]
//! ```
//!
//! where an input index outside `0..in_len` reads zero. The backward pass of `L(y)` is
//!
//! ```text
//! ∂L/∂w[k, ci, co] = Σ_{n, l} x[n, l·stride + k·dilation − pad_left, ci] · dy[n, l, co]
//! ∂L/∂b[co]        = Σ_{n, l} dy[n, l, co]
//! ∂L/∂x[n, i, ci]  = Σ_{k, co} dy[n, l, co] · w[k, ci, co]  over l with l·stride + k·dilation − pad_left = i
//! ```
//!
//! `reference.rs` holds the textbook loops, `fast.rs` the SIMD and threaded path.

mod fast;
mod reference;
#[cfg(test)]
mod tests;

pub use fast::{conv1d_backward, conv1d_forward, conv1d_forward_fused};
pub use reference::{conv1d_backward_ref, conv1d_forward_ref};

use crate::parallel::chunk_count;
use crate::shape::{ensure, window_out_len, ShapeError};
use crate::simd::LANES;

/// Geometry of a 1D convolution. Padding may differ on the two sides (Keras "same" pads an even
/// kernel of 8 with 3 zeros before and 4 after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv1dShape {
    pub batch: usize,
    pub in_len: usize,
    pub in_ch: usize,
    pub out_ch: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    pub dilation: usize,
}

impl Conv1dShape {
    /// Checks that every size is positive and that the dilated kernel fits in the padded input.
    pub fn validate(&self) -> Result<(), ShapeError> {
        for (name, value) in [
            ("batch", self.batch),
            ("in_len", self.in_len),
            ("in_ch", self.in_ch),
            ("out_ch", self.out_ch),
            ("kernel", self.kernel),
            ("stride", self.stride),
            ("dilation", self.dilation),
        ] {
            ensure!(value >= 1, "conv1d: {name} must be at least 1, got {value}");
        }
        let span = self.dilated_kernel();
        let padded = self.padded_len();
        ensure!(
            span <= padded,
            "conv1d: dilated kernel {span} is longer than the padded input {padded} \
             (length {} + padding {} + {})",
            self.in_len,
            self.pad_left,
            self.pad_right
        );
        Ok(())
    }

    /// Output length `⌊(in_len + pad_left + pad_right − dilation·(kernel − 1) − 1) / stride⌋ + 1`.
    /// Panics on a shape that [`validate`](Self::validate) rejects.
    pub fn out_len(&self) -> usize {
        window_out_len(
            self.in_len,
            self.kernel,
            self.stride,
            self.pad_left,
            self.pad_right,
            self.dilation,
        )
        .expect("conv1d: out_len of an invalid shape (call validate first)")
    }

    /// Length of `x`: `batch · in_len · in_ch`.
    pub fn input_len(&self) -> usize {
        self.batch * self.in_len * self.in_ch
    }

    /// Length of `y`: `batch · out_len · out_ch`.
    pub fn output_len(&self) -> usize {
        self.batch * self.out_len() * self.out_ch
    }

    /// Length of `w`: `kernel · in_ch · out_ch`.
    pub fn weight_len(&self) -> usize {
        self.kernel * self.in_ch * self.out_ch
    }

    /// Scratch of [`conv1d_forward`]: the weights packed in blocks of `LANES` output channels,
    /// then one zero-padded input sample per batch chunk.
    pub fn forward_scratch_len(&self) -> usize {
        self.packed_weight_len(self.out_ch) + self.chunks() * self.padded_sample_len()
    }

    /// Scratch of [`conv1d_backward`]: the flipped weights packed in blocks of `LANES` input
    /// channels, one `dw` and one `db` partial per batch chunk, and per chunk one zero-padded
    /// input sample and one spread-out `dy` sample (see `fast`).
    pub fn backward_scratch_len(&self) -> usize {
        self.packed_weight_len(self.in_ch)
            + self.chunks() * (self.weight_len() + self.out_ch)
            + self.chunks() * (self.padded_sample_len() + self.spread_dy_sample_len())
    }

    /// `dilation · (kernel − 1) + 1`: the input positions one output position sees.
    fn dilated_kernel(&self) -> usize {
        self.dilation * (self.kernel - 1) + 1
    }

    /// `pad_left + in_len + pad_right`.
    fn padded_len(&self) -> usize {
        self.pad_left + self.in_len + self.pad_right
    }

    fn padded_sample_len(&self) -> usize {
        self.padded_len() * self.in_ch
    }

    /// Rows of the spread-out `dy` that the input gradient correlates: `in_len + span − 1`.
    fn spread_dy_rows(&self) -> usize {
        self.in_len + self.dilated_kernel() - 1
    }

    fn spread_dy_sample_len(&self) -> usize {
        self.spread_dy_rows() * self.out_ch
    }

    /// Weights packed for a correlation producing `produced` channels: `kernel · (in_ch ·
    /// out_ch / produced)` rows of `produced` rounded up to whole vectors.
    fn packed_weight_len(&self, produced: usize) -> usize {
        let consumed = self.in_ch * self.out_ch / produced;
        self.kernel * consumed * produced.div_ceil(LANES) * LANES
    }

    fn chunks(&self) -> usize {
        chunk_count(self.batch)
    }
}
