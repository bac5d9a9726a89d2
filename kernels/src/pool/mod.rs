//! Pooling over channels-last activations: max and average pooling in 1D (`[batch, length,
//! channels]`) and 2D (`[batch, height, width, channels]`), and global average pooling
//! (`[batch, spatial, channels] → [batch, channels]`).
//!
//! Every window slides over the spatial axes only, so each channel is pooled independently and
//! the fast paths vectorise over the contiguous channel axis: one [`crate::simd::F32s`] holds
//! `LANES` neighbouring channels of one pixel. The batch is split with
//! [`crate::parallel::chunk_range`]; no sum runs across samples, so the fast paths give the same
//! bits for any thread count, and they perform the same floating-point operations in the same
//! order as the references, so fast and reference results are bit-identical.
//!
//! A 1D pool is the 2D pool of a height-1 image (`[batch, 1, length, channels]` has the same
//! memory layout as `[batch, length, channels]`), so the 1D functions delegate to the 2D ones;
//! flat indices (the max-pool `argmax`) are the same in both views.
//!
//! Padding: a window element that falls into the padding is never read. Max pooling treats it
//! as −∞ (never selected); average pooling counts it as 0 ([`AvgPadding::IncludePad`]) or leaves
//! it out of the count ([`AvgPadding::ExcludePad`]). TensorFlow's "SAME" padding comes from
//! [`crate::shape::same_padding`] (kernel 2, stride 1 pads 0 before and 1 after). Windows use
//! PyTorch's floor mode: the output length is `⌊(len + pad_before + pad_after − kernel) /
//! stride⌋ + 1`, so every window lies inside the padded input.

use std::ops::Range;

use crate::parallel;
use crate::shape::{ensure, window_out_len, ShapeError};

mod avgpool;
mod global;
mod maxpool;
#[cfg(test)]
mod tests;

pub use avgpool::{
    avgpool1d_backward, avgpool1d_backward_ref, avgpool1d_forward, avgpool1d_forward_ref,
    avgpool2d_backward, avgpool2d_backward_ref, avgpool2d_forward, avgpool2d_forward_ref,
    AvgPadding,
};
pub use global::{
    global_avgpool_backward, global_avgpool_backward_ref, global_avgpool_forward,
    global_avgpool_forward_ref,
};
pub use maxpool::{
    maxpool1d_backward, maxpool1d_backward_ref, maxpool1d_forward, maxpool1d_forward_ref,
    maxpool1d_forward_values, maxpool2d_backward, maxpool2d_backward_ref, maxpool2d_forward,
    maxpool2d_forward_ref, maxpool2d_forward_values,
};

/// Shape of a 1D pooling over `[batch, in_len, channels]` with a window of `kernel` positions
/// moved by `stride`, on the input padded with `pad_left` and `pad_right` virtual positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool1dShape {
    pub batch: usize,
    pub in_len: usize,
    pub channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad_left: usize,
    pub pad_right: usize,
}

impl Pool1dShape {
    /// Checks that every size is positive, that the window fits in the padded input, that no
    /// window lies entirely in the padding (each pad is smaller than the kernel) and that flat
    /// input indices fit in the `u32` of the max-pool `argmax`.
    pub fn validate(&self) -> Result<(), ShapeError> {
        ensure!(self.batch > 0, "Pool1dShape: batch is 0");
        ensure!(self.channels > 0, "Pool1dShape: channels is 0");
        check_axis(
            "Pool1dShape",
            ("in_len", self.in_len),
            ("kernel", self.kernel),
            ("stride", self.stride),
            ("pad_left", self.pad_left),
            ("pad_right", self.pad_right),
        )?;
        check_index_range("Pool1dShape", self.input_len())
    }

    /// Output length `⌊(in_len + pad_left + pad_right − kernel) / stride⌋ + 1`; 0 when the shape
    /// is invalid.
    pub fn out_len(&self) -> usize {
        window_out_len(
            self.in_len,
            self.kernel,
            self.stride,
            self.pad_left,
            self.pad_right,
            1,
        )
        .unwrap_or(0)
    }

    /// Number of input floats, `batch · in_len · channels`.
    pub fn input_len(&self) -> usize {
        self.batch * self.in_len * self.channels
    }

    /// Number of output floats, `batch · out_len · channels`.
    pub fn output_len(&self) -> usize {
        self.batch * self.out_len() * self.channels
    }

    /// The same pooling seen as a 2D pooling of images of height 1.
    fn as_2d(&self) -> Pool2dShape {
        Pool2dShape {
            batch: self.batch,
            in_h: 1,
            in_w: self.in_len,
            channels: self.channels,
            kernel_h: 1,
            kernel_w: self.kernel,
            stride_h: 1,
            stride_w: self.stride,
            pad_top: 0,
            pad_bottom: 0,
            pad_left: self.pad_left,
            pad_right: self.pad_right,
        }
    }
}

/// Shape of a 2D pooling over `[batch, in_h, in_w, channels]` with a `kernel_h × kernel_w`
/// window moved by `(stride_h, stride_w)`, on the input padded on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dShape {
    pub batch: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
}

impl Pool2dShape {
    /// Checks, along each axis, what [`Pool1dShape::validate`] checks along its one axis.
    pub fn validate(&self) -> Result<(), ShapeError> {
        ensure!(self.batch > 0, "Pool2dShape: batch is 0");
        ensure!(self.channels > 0, "Pool2dShape: channels is 0");
        check_axis(
            "Pool2dShape",
            ("in_h", self.in_h),
            ("kernel_h", self.kernel_h),
            ("stride_h", self.stride_h),
            ("pad_top", self.pad_top),
            ("pad_bottom", self.pad_bottom),
        )?;
        check_axis(
            "Pool2dShape",
            ("in_w", self.in_w),
            ("kernel_w", self.kernel_w),
            ("stride_w", self.stride_w),
            ("pad_left", self.pad_left),
            ("pad_right", self.pad_right),
        )?;
        check_index_range("Pool2dShape", self.input_len())
    }

    /// Output height `⌊(in_h + pad_top + pad_bottom − kernel_h) / stride_h⌋ + 1`; 0 when the
    /// shape is invalid.
    pub fn out_h(&self) -> usize {
        window_out_len(
            self.in_h,
            self.kernel_h,
            self.stride_h,
            self.pad_top,
            self.pad_bottom,
            1,
        )
        .unwrap_or(0)
    }

    /// Output width `⌊(in_w + pad_left + pad_right − kernel_w) / stride_w⌋ + 1`; 0 when the
    /// shape is invalid.
    pub fn out_w(&self) -> usize {
        window_out_len(
            self.in_w,
            self.kernel_w,
            self.stride_w,
            self.pad_left,
            self.pad_right,
            1,
        )
        .unwrap_or(0)
    }

    /// Number of input floats, `batch · in_h · in_w · channels`.
    pub fn input_len(&self) -> usize {
        self.batch * self.sample_input_len()
    }

    /// Number of output floats, `batch · out_h · out_w · channels`.
    pub fn output_len(&self) -> usize {
        self.batch * self.sample_output_len()
    }

    fn sample_input_len(&self) -> usize {
        self.in_h * self.in_w * self.channels
    }

    fn sample_output_len(&self) -> usize {
        self.out_h() * self.out_w() * self.channels
    }

    /// The input rows covered by the window of output row `oh`, padding left out.
    fn window_rows(&self, oh: usize) -> Range<usize> {
        window_span(oh, self.kernel_h, self.stride_h, self.pad_top, self.in_h)
    }

    /// The input columns covered by the window of output column `ow`, padding left out.
    fn window_cols(&self, ow: usize) -> Range<usize> {
        window_span(ow, self.kernel_w, self.stride_w, self.pad_left, self.in_w)
    }

    /// Panics with the validation message when a kernel is called with an invalid shape.
    fn assert_valid(&self) {
        if let Err(e) = self.validate() {
            panic!("pooling kernel called with an invalid shape: {e}");
        }
    }
}

/// Checks one spatial axis and names the offending field; the window must fit in the padded
/// input and each pad must be smaller than the kernel, so that every window holds at least one
/// real element (a window of padding only would have no maximum and no average).
fn check_axis(
    shape: &str,
    (len_name, len): (&str, usize),
    (kernel_name, kernel): (&str, usize),
    (stride_name, stride): (&str, usize),
    (before_name, pad_before): (&str, usize),
    (after_name, pad_after): (&str, usize),
) -> Result<(), ShapeError> {
    ensure!(len > 0, "{shape}: {len_name} is 0");
    ensure!(kernel > 0, "{shape}: {kernel_name} is 0");
    ensure!(stride > 0, "{shape}: {stride_name} is 0");
    ensure!(
        pad_before < kernel && pad_after < kernel,
        "{shape}: {before_name} {pad_before} and {after_name} {pad_after} must both be smaller \
         than {kernel_name} {kernel}, or a window lies entirely in the padding"
    );
    ensure!(
        kernel <= len + pad_before + pad_after,
        "{shape}: {kernel_name} {kernel} is larger than the padded input \
         ({len_name} {len} + {before_name} {pad_before} + {after_name} {pad_after})"
    );
    Ok(())
}

/// Max pooling stores flat input indices as `u32`.
fn check_index_range(shape: &str, input_len: usize) -> Result<(), ShapeError> {
    ensure!(
        u32::try_from(input_len).is_ok(),
        "{shape}: the input has {input_len} elements, more than a u32 argmax can index"
    );
    Ok(())
}

/// The real (unpadded) input positions of window `o` along an axis: the window covers padded
/// positions `o·stride .. o·stride + kernel`, i.e. input positions shifted by `pad_before`,
/// clipped to `0..len`.
fn window_span(
    o: usize,
    kernel: usize,
    stride: usize,
    pad_before: usize,
    len: usize,
) -> Range<usize> {
    let start = o * stride;
    let first = start.saturating_sub(pad_before);
    let end = (start + kernel).saturating_sub(pad_before).min(len);
    first..end
}

/// Runs `work(samples, a_chunk, b_chunk)` in parallel for every chunk of
/// [`parallel::chunk_range`], where `a_chunk` and `b_chunk` are the parts of `a` and `b`
/// holding those samples (`a_per_sample` and `b_per_sample` elements per sample). The chunks are
/// split off by recursive halving with `rayon::join`, which allocates nothing.
fn for_each_batch_chunk<A: Send, B: Send>(
    batch: usize,
    (a, a_per_sample): (&mut [A], usize),
    (b, b_per_sample): (&mut [B], usize),
    work: &(impl Fn(Range<usize>, &mut [A], &mut [B]) + Sync),
) {
    let chunks = 0..parallel::chunk_count(batch);
    split_chunks(batch, chunks, (a, a_per_sample), (b, b_per_sample), work);
}

/// One step of [`for_each_batch_chunk`]: runs the chunks `chunks`, whose samples `a` and `b`
/// hold, by running each half of them on its own side of a `rayon::join`.
fn split_chunks<A: Send, B: Send>(
    batch: usize,
    chunks: Range<usize>,
    (a, a_per_sample): (&mut [A], usize),
    (b, b_per_sample): (&mut [B], usize),
    work: &(impl Fn(Range<usize>, &mut [A], &mut [B]) + Sync),
) {
    let first_sample = parallel::chunk_range(batch, chunks.start).start;
    if chunks.len() == 1 {
        work(parallel::chunk_range(batch, chunks.start), a, b);
        return;
    }
    let mid = chunks.start + chunks.len() / 2;
    let samples_before_mid = parallel::chunk_range(batch, mid).start - first_sample;
    let (a_lo, a_hi) = a.split_at_mut(samples_before_mid * a_per_sample);
    let (b_lo, b_hi) = b.split_at_mut(samples_before_mid * b_per_sample);
    let (lo_chunks, hi_chunks) = (chunks.start..mid, mid..chunks.end);
    rayon::join(
        || {
            split_chunks(
                batch,
                lo_chunks,
                (a_lo, a_per_sample),
                (b_lo, b_per_sample),
                work,
            )
        },
        || {
            split_chunks(
                batch,
                hi_chunks,
                (a_hi, a_per_sample),
                (b_hi, b_per_sample),
                work,
            )
        },
    );
}

/// [`for_each_batch_chunk`] for a single per-sample output buffer.
fn for_each_batch_chunk1<A: Send>(
    batch: usize,
    (a, a_per_sample): (&mut [A], usize),
    work: &(impl Fn(Range<usize>, &mut [A]) + Sync),
) {
    let no_second_buffer: &mut [()] = &mut [];
    for_each_batch_chunk(
        batch,
        (a, a_per_sample),
        (no_second_buffer, 0),
        &|samples, a_chunk, _| work(samples, a_chunk),
    );
}
