//! Max pooling: `y[n, o, c] = max over the window of o of x[n, i, c]`, with the position of the
//! maximum kept for the backward pass.
//!
//! `argmax[j]` is the flat index into `x` (the whole batch) of the element that produced `y[j]`.
//! Padding is never read, so it acts as −∞. The window is scanned row by row and a later element
//! replaces the running maximum only if it is strictly greater, so ties go to the first element
//! in scan order. A NaN always replaces the running maximum, as in PyTorch (`val > max ||
//! isnan(val)`), so a NaN in a window propagates to the output instead of being skipped.
//!
//! The backward pass routes each output gradient to the element that won:
//! `∂L/∂x[argmax[j]] += ∂L/∂y[j]`.
//!
//! Inference needs no `argmax`: [`maxpool2d_forward_values`] computes the same maxima alone,
//! a running `max` per vector of channels with the same comparison.

use std::ops::Range;

use super::{for_each_batch_chunk, for_each_batch_chunk1, Pool1dShape, Pool2dShape};
use crate::simd::{body_len, load, splat, store, F32s, LANES};

/// 1D max pooling, scalar reference: overwrites `y` and `argmax` (`output_len` each).
pub fn maxpool1d_forward_ref(s: &Pool1dShape, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    maxpool2d_forward_ref(&s.as_2d(), x, y, argmax);
}

/// 1D max pooling, fast path: SIMD over channels, threads over batch chunks. Same results as
/// [`maxpool1d_forward_ref`], bit for bit.
pub fn maxpool1d_forward(s: &Pool1dShape, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    maxpool2d_forward(&s.as_2d(), x, y, argmax);
}

/// Backward of 1D max pooling, scalar reference: `dx[argmax[j]] += dy[j]` (accumulates).
pub fn maxpool1d_backward_ref(s: &Pool1dShape, dy: &[f32], argmax: &[u32], dx: &mut [f32]) {
    maxpool2d_backward_ref(&s.as_2d(), dy, argmax, dx);
}

/// Backward of 1D max pooling, fast path (threads over batch chunks); equals the reference.
pub fn maxpool1d_backward(s: &Pool1dShape, dy: &[f32], argmax: &[u32], dx: &mut [f32]) {
    maxpool2d_backward(&s.as_2d(), dy, argmax, dx);
}

/// 2D max pooling, scalar reference: overwrites `y` and `argmax` (`output_len` each).
pub fn maxpool2d_forward_ref(s: &Pool2dShape, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    assert_forward_lengths(s, x, y, argmax);
    let (in_per_sample, channels) = (s.sample_input_len(), s.channels);
    for n in 0..s.batch {
        let sample_base = n * in_per_sample;
        let x_sample = &x[sample_base..][..in_per_sample];
        for oh in 0..s.out_h() {
            for ow in 0..s.out_w() {
                let (rows, cols) = (s.window_rows(oh), s.window_cols(ow));
                let out = ((n * s.out_h() + oh) * s.out_w() + ow) * channels;
                for c in 0..channels {
                    let (max, at) = window_max(s, x_sample, rows.clone(), cols.clone(), c);
                    y[out + c] = max;
                    argmax[out + c] = flat_index(sample_base + at);
                }
            }
        }
    }
}

/// 2D max pooling, fast path: each vector holds `LANES` channels of one pixel, samples are
/// split over threads in [`crate::parallel`] chunks. Same results as
/// [`maxpool2d_forward_ref`], bit for bit.
pub fn maxpool2d_forward(s: &Pool2dShape, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    assert_forward_lengths(s, x, y, argmax);
    let (in_per_sample, out_per_sample) = (s.sample_input_len(), s.sample_output_len());
    for_each_batch_chunk(
        s.batch,
        (y, out_per_sample),
        (argmax, out_per_sample),
        &|samples: Range<usize>, y_chunk: &mut [f32], argmax_chunk: &mut [u32]| {
            let outputs = y_chunk.chunks_exact_mut(out_per_sample);
            let argmaxes = argmax_chunk.chunks_exact_mut(out_per_sample);
            for ((n, y_sample), argmax_sample) in samples.zip(outputs).zip(argmaxes) {
                let sample_base = n * in_per_sample;
                let x_sample = &x[sample_base..][..in_per_sample];
                maxpool2d_sample(s, x_sample, sample_base, y_sample, argmax_sample);
            }
        },
    );
}

/// 2D max pooling without the `argmax` (inference): the `y` of [`maxpool2d_forward_ref`], bit
/// for bit, SIMD over channels and threads over batch chunks.
pub fn maxpool2d_forward_values(s: &Pool2dShape, x: &[f32], y: &mut [f32]) {
    s.assert_valid();
    assert_eq!(x.len(), s.input_len(), "maxpool forward: x length");
    assert_eq!(y.len(), s.output_len(), "maxpool forward: y length");
    let (in_per_sample, out_per_sample) = (s.sample_input_len(), s.sample_output_len());
    for_each_batch_chunk1(
        s.batch,
        (y, out_per_sample),
        &|samples: Range<usize>, y_chunk: &mut [f32]| {
            let outputs = y_chunk.chunks_exact_mut(out_per_sample);
            for (n, y_sample) in samples.zip(outputs) {
                let x_sample = &x[n * in_per_sample..][..in_per_sample];
                maxpool2d_sample_values(s, x_sample, y_sample);
            }
        },
    );
}

/// 1D max pooling without the `argmax`: [`maxpool2d_forward_values`] of the height-1 view.
pub fn maxpool1d_forward_values(s: &Pool1dShape, x: &[f32], y: &mut [f32]) {
    maxpool2d_forward_values(&s.as_2d(), x, y);
}

/// The maxima of one sample: for each output pixel and vector of channels, the running
/// maximum over the window in scan order, replaced by a strictly greater value or a NaN (the
/// comparison of [`window_max_lanes`]).
fn maxpool2d_sample_values(s: &Pool2dShape, x_sample: &[f32], y: &mut [f32]) {
    let channels = s.channels;
    let body = body_len(channels);
    let pixel = |ih: usize, iw: usize| (ih * s.in_w + iw) * channels;
    for oh in 0..s.out_h() {
        let rows = s.window_rows(oh);
        for ow in 0..s.out_w() {
            let cols = s.window_cols(ow);
            let first = pixel(rows.start, cols.start);
            let out = &mut y[(oh * s.out_w() + ow) * channels..][..channels];
            for c in (0..body).step_by(LANES) {
                let mut best = load(&x_sample[first + c..]);
                for ih in rows.clone() {
                    for iw in cols.clone() {
                        let v = load(&x_sample[pixel(ih, iw) + c..]);
                        best = (v.simd_gt(best) | v.is_nan()).bitselect(v, best);
                    }
                }
                store(best, &mut out[c..]);
            }
            for (c, y_c) in out.iter_mut().enumerate().skip(body) {
                *y_c = window_max(s, x_sample, rows.clone(), cols.clone(), c).0;
            }
        }
    }
}

/// Backward of 2D max pooling, scalar reference: `dx[argmax[j]] += dy[j]` (accumulates).
pub fn maxpool2d_backward_ref(s: &Pool2dShape, dy: &[f32], argmax: &[u32], dx: &mut [f32]) {
    assert_backward_lengths(s, dy, argmax, dx);
    for (&g, &at) in dy.iter().zip(argmax) {
        dx[at as usize] += g;
    }
}

/// Backward of 2D max pooling, fast path: the scatter of [`maxpool2d_backward_ref`] run in
/// parallel over batch chunks. The argmax of a sample points into that sample, so the chunks
/// write disjoint parts of `dx`. A scatter through indices that differ per lane has no SIMD
/// form in `wide`, so each chunk runs the scalar loop, in the reference's order (bit-identical).
///
/// # Panics
/// If an `argmax` entry points outside its own sample (it did not come from the forward pass).
pub fn maxpool2d_backward(s: &Pool2dShape, dy: &[f32], argmax: &[u32], dx: &mut [f32]) {
    assert_backward_lengths(s, dy, argmax, dx);
    let (in_per_sample, out_per_sample) = (s.sample_input_len(), s.sample_output_len());
    for_each_batch_chunk1(
        s.batch,
        (dx, in_per_sample),
        &|samples: Range<usize>, dx_chunk: &mut [f32]| {
            let chunk_base = samples.start * in_per_sample;
            let outputs = samples.start * out_per_sample..samples.end * out_per_sample;
            for (&g, &at) in dy[outputs.clone()].iter().zip(&argmax[outputs]) {
                dx_chunk[at as usize - chunk_base] += g;
            }
        },
    );
}

/// Max pooling of one sample (`x_sample` starts at flat index `sample_base` of the batch).
fn maxpool2d_sample(
    s: &Pool2dShape,
    x_sample: &[f32],
    sample_base: usize,
    y: &mut [f32],
    argmax: &mut [u32],
) {
    let channels = s.channels;
    let body = body_len(channels);
    for oh in 0..s.out_h() {
        let rows = s.window_rows(oh);
        for ow in 0..s.out_w() {
            let cols = s.window_cols(ow);
            let out = (oh * s.out_w() + ow) * channels;
            for c in (0..body).step_by(LANES) {
                let (max, pixel) = window_max_lanes(s, x_sample, rows.clone(), cols.clone(), c);
                store(max, &mut y[out + c..]);
                // Lane l's input index is pixel + sample_base + c + l; `validate` keeps every
                // input index within u32, so the sums below cannot overflow (one plain loop
                // over LANES that the compiler vectorises).
                let offset = flat_index(sample_base + c);
                let lanes = argmax[out + c..out + c + LANES].iter_mut();
                for (lane, (dst, pixel_bits)) in lanes.zip(pixel.as_array()).enumerate() {
                    *dst = pixel_bits.to_bits() + offset + lane as u32;
                }
            }
            for c in body..channels {
                let (max, at) = window_max(s, x_sample, rows.clone(), cols.clone(), c);
                y[out + c] = max;
                argmax[out + c] = flat_index(sample_base + at);
            }
        }
    }
}

/// The maximum of channel `c` over the window `rows × cols` of one sample and its index in the
/// sample: first element in scan order on ties, NaN propagated.
fn window_max(
    s: &Pool2dShape,
    x_sample: &[f32],
    rows: Range<usize>,
    cols: Range<usize>,
    c: usize,
) -> (f32, usize) {
    let index = |ih: usize, iw: usize| (ih * s.in_w + iw) * s.channels + c;
    let mut best_at = index(rows.start, cols.start);
    let mut best = x_sample[best_at];
    for ih in rows {
        for iw in cols.clone() {
            let at = index(ih, iw);
            let v = x_sample[at];
            if v > best || v.is_nan() {
                best = v;
                best_at = at;
            }
        }
    }
    (best, best_at)
}

/// [`window_max`] for the `LANES` channels `c..c + LANES` at once. Returns the maxima and, per
/// lane, the in-sample index of channel 0 of the winning pixel. That index is carried as the
/// raw bits of an `f32` lane: `bitselect` only moves bits, so any `u32` survives exactly, and
/// every lane of one pixel shares it (the lane's own channel is added when it is stored).
fn window_max_lanes(
    s: &Pool2dShape,
    x_sample: &[f32],
    rows: Range<usize>,
    cols: Range<usize>,
    c: usize,
) -> (F32s, F32s) {
    let pixel = |ih: usize, iw: usize| (ih * s.in_w + iw) * s.channels;
    let pixel_as_bits = |at: usize| splat(f32::from_bits(flat_index(at)));
    let first = pixel(rows.start, cols.start);
    let mut best = load(&x_sample[first + c..]);
    let mut best_pixel = pixel_as_bits(first);
    for ih in rows {
        for iw in cols.clone() {
            let at = pixel(ih, iw);
            let v = load(&x_sample[at + c..]);
            let take = v.simd_gt(best) | v.is_nan();
            best = take.bitselect(v, best);
            best_pixel = take.bitselect(pixel_as_bits(at), best_pixel);
        }
    }
    (best, best_pixel)
}

/// A flat input index as stored in `argmax`; `validate` guarantees that it fits.
fn flat_index(at: usize) -> u32 {
    u32::try_from(at).expect("validate keeps input indices within u32")
}

fn assert_forward_lengths(s: &Pool2dShape, x: &[f32], y: &[f32], argmax: &[u32]) {
    s.assert_valid();
    assert_eq!(x.len(), s.input_len(), "maxpool forward: x length");
    assert_eq!(y.len(), s.output_len(), "maxpool forward: y length");
    assert_eq!(
        argmax.len(),
        s.output_len(),
        "maxpool forward: argmax length"
    );
}

fn assert_backward_lengths(s: &Pool2dShape, dy: &[f32], argmax: &[u32], dx: &[f32]) {
    s.assert_valid();
    assert_eq!(dy.len(), s.output_len(), "maxpool backward: dy length");
    assert_eq!(
        argmax.len(),
        s.output_len(),
        "maxpool backward: argmax length"
    );
    assert_eq!(dx.len(), s.input_len(), "maxpool backward: dx length");
}
