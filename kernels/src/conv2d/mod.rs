//! 2D convolution (cross-correlation, as PyTorch's `Conv2d`) over NHWC activations.
//!
//! With `x: [batch, in_h, in_w, in_ch]`, HWIO weights `w: [kernel_h, kernel_w, in_ch, out_ch]`,
//! `b: [out_ch]` and `y: [batch, out_h, out_w, out_ch]`:
//!
//! ```text
//! y[n,oh,ow,co] = b[co] + Σ_{kh,kw,ci} x[n, oh·sh + kh·dh − pad_top, ow·sw + kw·dw − pad_left, ci]
//!                                       · w[kh,kw,ci,co]
//! ```
//!
//! where pixels outside the input read as zero. The backward pass follows from the chain rule:
//!
//! ```text
//! ∂L/∂b[co]          = Σ_{n,oh,ow} dy[n,oh,ow,co]
//! ∂L/∂w[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·sh + kh·dh − pt, ow·sw + kw·dw − pl, ci] · dy[n,oh,ow,co]
//! ∂L/∂x[n,ih,iw,ci]  = Σ_{kh,kw,co} dy[n,oh,ow,co] · w[kh,kw,ci,co]
//!                      over (oh,ow) with ih + pt = oh·sh + kh·dh and iw + pl = ow·sw + kw·dw
//! ```
//!
//! [`reference`] holds the textbook loops; [`fast`] the GEMM paths through [`crate::gemm`],
//! which packs into scratch (see its documentation for the algorithm: strided views of a
//! zero-padded image, no im2col buffer, no col2im scatter); [`winograd`] the Winograd
//! F(2×2, 3×3) forward for 3×3 stride-1 kernels.

mod fast;
mod reference;
#[cfg(test)]
mod tests;
mod winograd;
#[cfg(test)]
mod winograd_tests;

pub use fast::{conv2d_backward, conv2d_forward, conv2d_forward_direct, conv2d_forward_fused};
pub use reference::{conv2d_backward_ref, conv2d_forward_ref};
pub use winograd::{conv2d_forward_winograd, winograd_applies, winograd_pays};

use crate::shape::{ensure, window_out_len, ShapeError};

/// Geometry of a 2D convolution. Padding may differ on each side (TensorFlow's "same" pads an
/// even kernel asymmetrically); strides and dilations are at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dShape {
    pub batch: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub in_ch: usize,
    pub out_ch: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    pub dilation_h: usize,
    pub dilation_w: usize,
}

impl Conv2dShape {
    /// Checks that every size, stride and dilation is positive and that the dilated kernel fits
    /// in the padded input, naming the offending field and its value.
    pub fn validate(&self) -> Result<(), ShapeError> {
        let positive = [
            ("batch", self.batch),
            ("in_h", self.in_h),
            ("in_w", self.in_w),
            ("in_ch", self.in_ch),
            ("out_ch", self.out_ch),
            ("kernel_h", self.kernel_h),
            ("kernel_w", self.kernel_w),
            ("stride_h", self.stride_h),
            ("stride_w", self.stride_w),
            ("dilation_h", self.dilation_h),
            ("dilation_w", self.dilation_w),
        ];
        for (name, value) in positive {
            ensure!(value > 0, "conv2d: {name} must be positive, found {value}");
        }
        let padded_h = self.in_h + self.pad_top + self.pad_bottom;
        let span_h = self.dilation_h * (self.kernel_h - 1) + 1;
        ensure!(
            span_h <= padded_h,
            "conv2d: kernel_h {} with dilation_h {} spans {span_h} rows, larger than the padded \
             input height {padded_h} (in_h {} + pad_top {} + pad_bottom {})",
            self.kernel_h,
            self.dilation_h,
            self.in_h,
            self.pad_top,
            self.pad_bottom
        );
        let padded_w = self.in_w + self.pad_left + self.pad_right;
        let span_w = self.dilation_w * (self.kernel_w - 1) + 1;
        ensure!(
            span_w <= padded_w,
            "conv2d: kernel_w {} with dilation_w {} spans {span_w} columns, larger than the padded \
             input width {padded_w} (in_w {} + pad_left {} + pad_right {})",
            self.kernel_w,
            self.dilation_w,
            self.in_w,
            self.pad_left,
            self.pad_right
        );
        Ok(())
    }

    /// Output height `⌊(in_h + pad_top + pad_bottom − dilation_h·(kernel_h − 1) − 1) / stride_h⌋ + 1`.
    /// Panics on a shape that [`validate`](Self::validate) rejects.
    pub fn out_h(&self) -> usize {
        window_out_len(
            self.in_h,
            self.kernel_h,
            self.stride_h,
            self.pad_top,
            self.pad_bottom,
            self.dilation_h,
        )
        .expect("conv2d: invalid shape (call validate first)")
    }

    /// Output width, as [`out_h`](Self::out_h) along the width.
    pub fn out_w(&self) -> usize {
        window_out_len(
            self.in_w,
            self.kernel_w,
            self.stride_w,
            self.pad_left,
            self.pad_right,
            self.dilation_w,
        )
        .expect("conv2d: invalid shape (call validate first)")
    }

    /// Length of `x`: `batch·in_h·in_w·in_ch`.
    pub fn input_len(&self) -> usize {
        self.batch * self.input_sample_len()
    }

    /// Length of `y`: `batch·out_h·out_w·out_ch`.
    pub fn output_len(&self) -> usize {
        self.batch * self.output_sample_len()
    }

    /// Length of `w`: `kernel_h·kernel_w·in_ch·out_ch`.
    pub fn weight_len(&self) -> usize {
        self.kernel_h * self.kernel_w * self.in_ch * self.out_ch
    }

    /// Scratch floats [`conv2d_forward`] needs: that of the path it takes for this shape
    /// ([`winograd_pays`]).
    pub fn forward_scratch_len(&self) -> usize {
        if winograd_pays(self) {
            self.winograd_scratch_len()
        } else {
            self.direct_forward_scratch_len()
        }
    }

    /// Scratch floats [`conv2d_forward_direct`] needs: per parallel part (see [`fast`]), the
    /// padded image and wide output of its path (none for the 1×1 path) and a GEMM pack.
    pub fn direct_forward_scratch_len(&self) -> usize {
        fast::direct_forward_scratch_len(self)
    }

    /// Scratch floats [`conv2d_forward_winograd`] needs: the transformed weights and, per
    /// parallel part, the transformed tiles of a block, their products and a GEMM pack.
    pub fn winograd_scratch_len(&self) -> usize {
        winograd::scratch_len(self)
    }

    /// Scratch floats [`conv2d_backward`] needs: per batch chunk, the `dw`/`db` partials; the
    /// flipped weights; and per parallel part, the padded images of its path and a GEMM pack.
    pub fn backward_scratch_len(&self) -> usize {
        fast::backward_scratch_len(self)
    }

    /// Floats of one input sample.
    fn input_sample_len(&self) -> usize {
        self.in_h * self.in_w * self.in_ch
    }

    /// Floats of one output sample.
    fn output_sample_len(&self) -> usize {
        self.out_h() * self.out_w() * self.out_ch
    }

    /// Panics unless the slices have the lengths this shape implies.
    fn assert_lengths(&self, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &[f32]) {
        assert_eq!(x.len(), self.input_len(), "conv2d: x length");
        assert_eq!(w.len(), self.weight_len(), "conv2d: w length");
        if let Some(b) = bias {
            assert_eq!(b.len(), self.out_ch, "conv2d: bias length");
        }
        assert_eq!(y.len(), self.output_len(), "conv2d: y/dy length");
    }
}
