//! Global average pooling: `x [batch, spatial, channels] → y [batch, channels]` with
//! `y[n, c] = (1 / spatial) · Σ_s x[n, s, c]` (Lin et al. 2014, "Network in Network", §3.2).
//!
//! Backward: `∂L/∂x[n, s, c] += ∂L/∂y[n, c] / spatial` for every position `s`.
//!
//! The fast paths run the reference's operations in the same order per channel (sum over `s`
//! from 0, then multiply by `1 / spatial`), vectorised over channels, so they agree bit for bit.

use std::ops::Range;

use super::for_each_batch_chunk1;
use crate::simd::{body_len, load, splat, store, LANES};

/// Global average pooling, scalar reference: overwrites `y` (`batch · channels`).
pub fn global_avgpool_forward_ref(
    batch: usize,
    spatial: usize,
    channels: usize,
    x: &[f32],
    y: &mut [f32],
) {
    assert_lengths(batch, spatial, channels, x, y);
    let scale = 1.0 / spatial as f32;
    for n in 0..batch {
        for c in 0..channels {
            let mut sum = 0.0;
            for s in 0..spatial {
                sum += x[(n * spatial + s) * channels + c];
            }
            y[n * channels + c] = sum * scale;
        }
    }
}

/// Global average pooling, fast path: each sample's row of `y` is zeroed, every spatial row of
/// `x` is added to it with SIMD, and the sum is scaled; threads over batch chunks.
pub fn global_avgpool_forward(
    batch: usize,
    spatial: usize,
    channels: usize,
    x: &[f32],
    y: &mut [f32],
) {
    assert_lengths(batch, spatial, channels, x, y);
    let scale = 1.0 / spatial as f32;
    let in_per_sample = spatial * channels;
    for_each_batch_chunk1(
        batch,
        (y, channels),
        &|samples: Range<usize>, y_chunk: &mut [f32]| {
            for (n, y_row) in samples.zip(y_chunk.chunks_exact_mut(channels)) {
                y_row.fill(0.0);
                for x_row in x[n * in_per_sample..][..in_per_sample].chunks_exact(channels) {
                    add_into(x_row, y_row);
                }
                scale_in_place(y_row, scale);
            }
        },
    );
}

/// Backward of global average pooling, scalar reference: accumulates into `dx`
/// (`batch · spatial · channels`).
pub fn global_avgpool_backward_ref(
    batch: usize,
    spatial: usize,
    channels: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    assert_lengths(batch, spatial, channels, dx, dy);
    let scale = 1.0 / spatial as f32;
    for n in 0..batch {
        for s in 0..spatial {
            for c in 0..channels {
                dx[(n * spatial + s) * channels + c] += dy[n * channels + c] * scale;
            }
        }
    }
}

/// Backward of global average pooling, fast path: SIMD over channels, threads over batch chunks.
pub fn global_avgpool_backward(
    batch: usize,
    spatial: usize,
    channels: usize,
    dy: &[f32],
    dx: &mut [f32],
) {
    assert_lengths(batch, spatial, channels, dx, dy);
    let scale = 1.0 / spatial as f32;
    let in_per_sample = spatial * channels;
    for_each_batch_chunk1(
        batch,
        (dx, in_per_sample),
        &|samples: Range<usize>, dx_chunk: &mut [f32]| {
            for (n, dx_sample) in samples.zip(dx_chunk.chunks_exact_mut(in_per_sample)) {
                let dy_row = &dy[n * channels..][..channels];
                for dx_row in dx_sample.chunks_exact_mut(channels) {
                    add_scaled_into(dy_row, scale, dx_row);
                }
            }
        },
    );
}

/// `dst[i] += src[i]`.
fn add_into(src: &[f32], dst: &mut [f32]) {
    let body = body_len(dst.len());
    for i in (0..body).step_by(LANES) {
        store(load(&dst[i..]) + load(&src[i..]), &mut dst[i..]);
    }
    for i in body..dst.len() {
        dst[i] += src[i];
    }
}

/// `dst[i] *= a`.
fn scale_in_place(dst: &mut [f32], a: f32) {
    let body = body_len(dst.len());
    for i in (0..body).step_by(LANES) {
        store(load(&dst[i..]) * splat(a), &mut dst[i..]);
    }
    for v in &mut dst[body..] {
        *v *= a;
    }
}

/// `dst[i] += src[i] · a`, rounding the product before the sum as the reference does (not a
/// fused multiply-add, which would round once and differ in the last bit).
fn add_scaled_into(src: &[f32], a: f32, dst: &mut [f32]) {
    let body = body_len(dst.len());
    for i in (0..body).step_by(LANES) {
        store(load(&dst[i..]) + load(&src[i..]) * splat(a), &mut dst[i..]);
    }
    for i in body..dst.len() {
        dst[i] += src[i] * a;
    }
}

/// Checks the sizes and the lengths of the `[batch, spatial, channels]` and `[batch, channels]`
/// buffers.
fn assert_lengths(
    batch: usize,
    spatial: usize,
    channels: usize,
    spatial_buf: &[f32],
    pooled: &[f32],
) {
    assert!(
        batch > 0 && spatial > 0 && channels > 0,
        "global average pooling: batch {batch}, spatial {spatial} and channels {channels} must be positive"
    );
    assert_eq!(
        spatial_buf.len(),
        batch * spatial * channels,
        "global average pooling: [batch, spatial, channels] buffer length"
    );
    assert_eq!(
        pooled.len(),
        batch * channels,
        "global average pooling: [batch, channels] buffer length"
    );
}
