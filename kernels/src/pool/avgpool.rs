//! Average pooling: `y[n, o, c] = (1 / count(o)) · Σ_{i in window(o)} x[n, i, c]`, where the sum
//! runs over the real (unpadded) window elements and `count(o)` depends on [`AvgPadding`].
//!
//! The backward pass spreads each output gradient evenly over the window it averaged:
//! `∂L/∂x[n, i, c] += ∂L/∂y[n, o, c] / count(o)` for every real element `i` of window `o`.
//!
//! Both passes compute `scale = 1 / count` once per window and multiply by it, in the reference
//! as in the fast path, so the two agree bit for bit.

use std::ops::Range;

use super::{for_each_batch_chunk1, Pool1dShape, Pool2dShape};
use crate::simd::{body_len, load, splat, store, LANES};

/// What an average over a window that overlaps the padding divides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvgPadding {
    /// Padding counts as zeros: divide by the kernel size `kernel_h · kernel_w` (PyTorch's
    /// `count_include_pad=True`, its default).
    IncludePad,
    /// Padding is left out: divide by the number of real elements in the window (TensorFlow's
    /// "SAME" average pooling, PyTorch's `count_include_pad=False`).
    ExcludePad,
}

impl AvgPadding {
    /// `1 / count` for the window `rows × cols` (the real rows and columns it covers).
    fn window_scale(self, s: &Pool2dShape, rows: &Range<usize>, cols: &Range<usize>) -> f32 {
        let count = match self {
            AvgPadding::IncludePad => s.kernel_h * s.kernel_w,
            AvgPadding::ExcludePad => rows.len() * cols.len(),
        };
        1.0 / count as f32
    }
}

/// 1D average pooling, scalar reference: overwrites `y` (`output_len`).
pub fn avgpool1d_forward_ref(s: &Pool1dShape, mode: AvgPadding, x: &[f32], y: &mut [f32]) {
    avgpool2d_forward_ref(&s.as_2d(), mode, x, y);
}

/// 1D average pooling, fast path; equals [`avgpool1d_forward_ref`] bit for bit.
pub fn avgpool1d_forward(s: &Pool1dShape, mode: AvgPadding, x: &[f32], y: &mut [f32]) {
    avgpool2d_forward(&s.as_2d(), mode, x, y);
}

/// Backward of 1D average pooling, scalar reference: accumulates into `dx` (`input_len`).
pub fn avgpool1d_backward_ref(s: &Pool1dShape, mode: AvgPadding, dy: &[f32], dx: &mut [f32]) {
    avgpool2d_backward_ref(&s.as_2d(), mode, dy, dx);
}

/// Backward of 1D average pooling, fast path; equals [`avgpool1d_backward_ref`] bit for bit.
pub fn avgpool1d_backward(s: &Pool1dShape, mode: AvgPadding, dy: &[f32], dx: &mut [f32]) {
    avgpool2d_backward(&s.as_2d(), mode, dy, dx);
}

/// 2D average pooling, scalar reference: overwrites `y` (`output_len`).
pub fn avgpool2d_forward_ref(s: &Pool2dShape, mode: AvgPadding, x: &[f32], y: &mut [f32]) {
    assert_lengths(
        s,
        x,
        y,
        "avgpool forward: x length",
        "avgpool forward: y length",
    );
    let (in_per_sample, channels) = (s.sample_input_len(), s.channels);
    for n in 0..s.batch {
        let x_sample = &x[n * in_per_sample..][..in_per_sample];
        for oh in 0..s.out_h() {
            for ow in 0..s.out_w() {
                let (rows, cols) = (s.window_rows(oh), s.window_cols(ow));
                let scale = mode.window_scale(s, &rows, &cols);
                let out = ((n * s.out_h() + oh) * s.out_w() + ow) * channels;
                for c in 0..channels {
                    let mut sum = 0.0;
                    for ih in rows.clone() {
                        for iw in cols.clone() {
                            sum += x_sample[(ih * s.in_w + iw) * channels + c];
                        }
                    }
                    y[out + c] = sum * scale;
                }
            }
        }
    }
}

/// 2D average pooling, fast path: each vector holds `LANES` channels of one pixel, samples are
/// split over threads in [`crate::parallel`] chunks; equals [`avgpool2d_forward_ref`] bit for
/// bit (same sums in the same order).
pub fn avgpool2d_forward(s: &Pool2dShape, mode: AvgPadding, x: &[f32], y: &mut [f32]) {
    assert_lengths(
        s,
        x,
        y,
        "avgpool forward: x length",
        "avgpool forward: y length",
    );
    let (in_per_sample, out_per_sample) = (s.sample_input_len(), s.sample_output_len());
    for_each_batch_chunk1(
        s.batch,
        (y, out_per_sample),
        &|samples: Range<usize>, y_chunk: &mut [f32]| {
            for (n, y_sample) in samples.zip(y_chunk.chunks_exact_mut(out_per_sample)) {
                let x_sample = &x[n * in_per_sample..][..in_per_sample];
                avgpool2d_forward_sample(s, mode, x_sample, y_sample);
            }
        },
    );
}

/// Backward of 2D average pooling, scalar reference: accumulates into `dx` (`input_len`).
pub fn avgpool2d_backward_ref(s: &Pool2dShape, mode: AvgPadding, dy: &[f32], dx: &mut [f32]) {
    assert_lengths(
        s,
        dx,
        dy,
        "avgpool backward: dx length",
        "avgpool backward: dy length",
    );
    let (in_per_sample, channels) = (s.sample_input_len(), s.channels);
    for n in 0..s.batch {
        let dx_sample = &mut dx[n * in_per_sample..][..in_per_sample];
        for oh in 0..s.out_h() {
            for ow in 0..s.out_w() {
                let (rows, cols) = (s.window_rows(oh), s.window_cols(ow));
                let scale = mode.window_scale(s, &rows, &cols);
                let out = ((n * s.out_h() + oh) * s.out_w() + ow) * channels;
                for c in 0..channels {
                    let share = dy[out + c] * scale;
                    for ih in rows.clone() {
                        for iw in cols.clone() {
                            dx_sample[(ih * s.in_w + iw) * channels + c] += share;
                        }
                    }
                }
            }
        }
    }
}

/// Backward of 2D average pooling, fast path: SIMD over channels, threads over batch chunks
/// (each chunk owns its samples' part of `dx`); equals [`avgpool2d_backward_ref`] bit for bit.
pub fn avgpool2d_backward(s: &Pool2dShape, mode: AvgPadding, dy: &[f32], dx: &mut [f32]) {
    assert_lengths(
        s,
        dx,
        dy,
        "avgpool backward: dx length",
        "avgpool backward: dy length",
    );
    let (in_per_sample, out_per_sample) = (s.sample_input_len(), s.sample_output_len());
    for_each_batch_chunk1(
        s.batch,
        (dx, in_per_sample),
        &|samples: Range<usize>, dx_chunk: &mut [f32]| {
            for (n, dx_sample) in samples.zip(dx_chunk.chunks_exact_mut(in_per_sample)) {
                let dy_sample = &dy[n * out_per_sample..][..out_per_sample];
                avgpool2d_backward_sample(s, mode, dy_sample, dx_sample);
            }
        },
    );
}

/// Average pooling of one sample, `LANES` channels at a time, the tail channels one by one.
fn avgpool2d_forward_sample(s: &Pool2dShape, mode: AvgPadding, x_sample: &[f32], y: &mut [f32]) {
    let channels = s.channels;
    let body = body_len(channels);
    let pixel = |ih: usize, iw: usize| (ih * s.in_w + iw) * channels;
    for oh in 0..s.out_h() {
        let rows = s.window_rows(oh);
        for ow in 0..s.out_w() {
            let cols = s.window_cols(ow);
            let scale = mode.window_scale(s, &rows, &cols);
            let out = (oh * s.out_w() + ow) * channels;
            for c in (0..body).step_by(LANES) {
                let mut sum = splat(0.0);
                for ih in rows.clone() {
                    for iw in cols.clone() {
                        sum += load(&x_sample[pixel(ih, iw) + c..]);
                    }
                }
                store(sum * splat(scale), &mut y[out + c..]);
            }
            for c in body..channels {
                let mut sum = 0.0;
                for ih in rows.clone() {
                    for iw in cols.clone() {
                        sum += x_sample[pixel(ih, iw) + c];
                    }
                }
                y[out + c] = sum * scale;
            }
        }
    }
}

/// Backward of one sample: adds `dy · scale` to every real element of each window, `LANES`
/// channels at a time, the tail channels one by one.
fn avgpool2d_backward_sample(s: &Pool2dShape, mode: AvgPadding, dy: &[f32], dx: &mut [f32]) {
    let channels = s.channels;
    let body = body_len(channels);
    let pixel = |ih: usize, iw: usize| (ih * s.in_w + iw) * channels;
    for oh in 0..s.out_h() {
        let rows = s.window_rows(oh);
        for ow in 0..s.out_w() {
            let cols = s.window_cols(ow);
            let scale = mode.window_scale(s, &rows, &cols);
            let out = (oh * s.out_w() + ow) * channels;
            for c in (0..body).step_by(LANES) {
                let share = load(&dy[out + c..]) * splat(scale);
                for ih in rows.clone() {
                    for iw in cols.clone() {
                        let at = pixel(ih, iw) + c;
                        store(load(&dx[at..]) + share, &mut dx[at..]);
                    }
                }
            }
            for c in body..channels {
                let share = dy[out + c] * scale;
                for ih in rows.clone() {
                    for iw in cols.clone() {
                        dx[pixel(ih, iw) + c] += share;
                    }
                }
            }
        }
    }
}

/// Checks the shape and the lengths of the input-side and output-side buffers.
fn assert_lengths(
    s: &Pool2dShape,
    input: &[f32],
    output: &[f32],
    input_msg: &str,
    output_msg: &str,
) {
    s.assert_valid();
    assert_eq!(input.len(), s.input_len(), "{input_msg}");
    assert_eq!(output.len(), s.output_len(), "{output_msg}");
}
