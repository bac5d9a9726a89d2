//! Activations: element-wise (ReLU, leaky ReLU), per channel (PReLU) and per row (softmax,
//! log-softmax).
//!
//! Forward passes overwrite `y`; backward passes accumulate into `dx` (and `dalpha`).
//!
//! The fast paths use [`crate::simd`] and split large arrays into chunks whose size depends on
//! the array's shape alone. Every output element is computed by one thread, so results do not
//! depend on the thread count; the one reduction (PReLU's `dalpha` over rows) writes one partial
//! per chunk and sums them in chunk order.
//!
//! Exponentials: the fast path uses `wide`'s vector `exp` (a degree-5 polynomial after range
//! reduction by ln 2, from fdlibm/Cephes). Its relative error against the exact value is below
//! 2·10⁻⁷ (under 2 ulp; 8.5·10⁻⁸ measured) on [−87, 88], the test `vector_exp_is_accurate`
//! checks this; softmax outputs thus match the scalar reference within a relative 2·10⁻⁶. Results
//! that would be denormal are flushed to zero (see the README on denormals): `e^v` for
//! `v < ln(f32::MIN_POSITIVE)` and softmax outputs below `f32::MIN_POSITIVE`.

use crate::simd::{self, body_len, load, splat, store, F32s, LANES};
use rayon::prelude::*;

/// Element-wise kernels split arrays into chunks of this many floats (a multiple of any lane
/// count); arrays no longer than one chunk run on the calling thread.
const ELEMENT_CHUNK: usize = 1 << 15;

/// Row-wise kernels give each chunk at least this many floats, so that small inputs are not
/// split into tasks smaller than their scheduling cost.
const MIN_ROW_CHUNK: usize = 1 << 13;

/// ln(f32::MIN_POSITIVE): `e^v` is denormal (or zero) below it.
const LN_MIN_NORMAL: f32 = -87.336_55;

// ---------------------------------------------------------------------------------------------
// ReLU: y = max(x, 0), dy/dx = [x > 0]
// ---------------------------------------------------------------------------------------------

/// Reference ReLU: `y = x` where `x > 0`, else `0`.
pub fn relu_forward_ref(x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "relu: x and y differ in length");
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = if xi > 0.0 { xi } else { 0.0 };
    }
}

/// Reference ReLU backward: `dx += dy·[x > 0]`.
pub fn relu_backward_ref(x: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_elementwise_backward("relu", x, dy, dx);
    for i in 0..x.len() {
        if x[i] > 0.0 {
            dx[i] += dy[i];
        }
    }
}

/// Fast ReLU (same result as the reference, bit for bit).
pub fn relu_forward(x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "relu: x and y differ in length");
    par_elementwise(x, y, |x, y| {
        map_lanes(x, y, |v| positive(v) & v, |v| if v > 0.0 { v } else { 0.0 })
    });
}

/// Fast ReLU in place, for a layer that overwrites its input (same result as
/// [`relu_forward`]).
pub fn relu_forward_in_place(xy: &mut [f32]) {
    par_in_place(xy, |xy| {
        map_lanes_in_place(xy, |v| positive(v) & v, |v| if v > 0.0 { v } else { 0.0 })
    });
}

/// Fast ReLU backward: `dx += dy·[x > 0]`.
pub fn relu_backward(x: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_elementwise_backward("relu", x, dy, dx);
    par_elementwise_backward(x, dy, dx, |x, dy, dx| {
        accumulate_lanes(
            x,
            dy,
            dx,
            |v, g| positive(v) & g,
            |v, g| if v > 0.0 { g } else { 0.0 },
        )
    });
}

// ---------------------------------------------------------------------------------------------
// Leaky ReLU: y = x (x > 0) or α·x, dy/dx = 1 or α
// ---------------------------------------------------------------------------------------------

/// Reference leaky ReLU: `y = x` where `x > 0`, else `α·x`.
pub fn leaky_relu_forward_ref(alpha: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "leaky_relu: x and y differ in length");
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = if xi > 0.0 { xi } else { alpha * xi };
    }
}

/// Reference leaky ReLU backward: `dx += dy` where `x > 0`, else `dx += α·dy`.
pub fn leaky_relu_backward_ref(alpha: f32, x: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_elementwise_backward("leaky_relu", x, dy, dx);
    for i in 0..x.len() {
        dx[i] += if x[i] > 0.0 { dy[i] } else { alpha * dy[i] };
    }
}

/// Fast leaky ReLU (same result as the reference, bit for bit).
pub fn leaky_relu_forward(alpha: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "leaky_relu: x and y differ in length");
    let va = splat(alpha);
    par_elementwise(x, y, |x, y| {
        map_lanes(
            x,
            y,
            |v| select(positive(v), v, va * v),
            |v| if v > 0.0 { v } else { alpha * v },
        )
    });
}

/// Fast leaky ReLU in place, for a layer that overwrites its input (same result as
/// [`leaky_relu_forward`]).
pub fn leaky_relu_forward_in_place(alpha: f32, xy: &mut [f32]) {
    let va = splat(alpha);
    par_in_place(xy, |xy| {
        map_lanes_in_place(
            xy,
            |v| select(positive(v), v, va * v),
            |v| if v > 0.0 { v } else { alpha * v },
        )
    });
}

/// Fast leaky ReLU backward: `dx += dy·(x > 0 ? 1 : α)`.
pub fn leaky_relu_backward(alpha: f32, x: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_elementwise_backward("leaky_relu", x, dy, dx);
    let va = splat(alpha);
    par_elementwise_backward(x, dy, dx, |x, dy, dx| {
        accumulate_lanes(
            x,
            dy,
            dx,
            |v, g| select(positive(v), g, va * g),
            |v, g| if v > 0.0 { g } else { alpha * g },
        )
    });
}

// ---------------------------------------------------------------------------------------------
// PReLU (He et al. 2015, eq. 1): y = x (x > 0) or α_c·x, with one learnable α per channel.
// ∂y/∂x = 1 or α_c; ∂y/∂α_c = 0 or x (eq. 4 sums the latter over all positions of channel c).
// ---------------------------------------------------------------------------------------------

/// Reference PReLU over `x [rows, channels]`: `y[r,c] = x` where `x > 0`, else `α[c]·x`.
pub fn prelu_forward_ref(channels: usize, x: &[f32], alpha: &[f32], y: &mut [f32]) {
    assert_prelu("prelu", channels, x, alpha, y);
    for (x_row, y_row) in x.chunks_exact(channels).zip(y.chunks_exact_mut(channels)) {
        for c in 0..channels {
            let v = x_row[c];
            y_row[c] = if v > 0.0 { v } else { alpha[c] * v };
        }
    }
}

/// Reference PReLU backward, accumulating: `dx += dy·(x > 0 ? 1 : α[c])` (if `dx` is given) and
/// `dα[c] += Σ_rows dy·x·[x ≤ 0]`.
pub fn prelu_backward_ref(
    channels: usize,
    x: &[f32],
    alpha: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dalpha: &mut [f32],
) {
    assert_prelu_backward(channels, x, alpha, dy, dx.as_deref(), dalpha);
    let mut dx = dx;
    for r in 0..x.len() / channels {
        for c in 0..channels {
            let i = r * channels + c;
            if let Some(dx) = dx.as_deref_mut() {
                dx[i] += if x[i] > 0.0 { dy[i] } else { alpha[c] * dy[i] };
            }
            if x[i] <= 0.0 {
                dalpha[c] += dy[i] * x[i];
            }
        }
    }
}

/// Fast PReLU: SIMD across the channels of each row, rows split into fixed chunks.
pub fn prelu_forward(channels: usize, x: &[f32], alpha: &[f32], y: &mut [f32]) {
    assert_prelu("prelu", channels, x, alpha, y);
    let chunk = row_chunk_len(x.len() / channels, channels);
    par_zip(chunk, x, y, |x, y| {
        for (x_row, y_row) in x.chunks_exact(channels).zip(y.chunks_exact_mut(channels)) {
            prelu_row(x_row, alpha, y_row);
        }
    });
}

/// Fast PReLU backward. Rows are split into fixed chunks (depending on the shape only); each
/// chunk sums its rows' `dα` into its own partial, and the partials are added to `dalpha` in
/// chunk order, so the result is the same for any number of threads. The partials live in
/// `scratch` (at least [`prelu_backward_scratch_len`] floats).
pub fn prelu_backward(
    channels: usize,
    x: &[f32],
    alpha: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dalpha: &mut [f32],
    scratch: &mut [f32],
) {
    assert_prelu_backward(channels, x, alpha, dy, dx.as_deref(), dalpha);
    let rows = x.len() / channels;
    let chunk = row_chunk_len(rows, channels);
    let partials = &mut scratch[..x.len().div_ceil(chunk) * channels];
    partials.fill(0.0);
    let inputs = partials
        .par_chunks_mut(channels)
        .zip(x.par_chunks(chunk))
        .zip(dy.par_chunks(chunk));
    match dx {
        Some(dx) => inputs
            .zip(dx.par_chunks_mut(chunk))
            .for_each(|(((da, x), dy), dx)| {
                prelu_backward_rows(x, alpha, dy, Some(dx), da);
            }),
        None => inputs.for_each(|((da, x), dy)| prelu_backward_rows(x, alpha, dy, None, da)),
    }
    crate::parallel::reduce_partials_into(partials, dalpha);
}

/// Scratch floats [`prelu_backward`] needs for `rows × channels` inputs: one `dα` partial per
/// row chunk.
pub fn prelu_backward_scratch_len(rows: usize, channels: usize) -> usize {
    if rows == 0 {
        return 0;
    }
    (rows * channels).div_ceil(row_chunk_len(rows, channels)) * channels
}

/// One PReLU row: `y[c] = x[c] > 0 ? x[c] : α[c]·x[c]`.
fn prelu_row(x: &[f32], alpha: &[f32], y: &mut [f32]) {
    let body = body_len(x.len());
    for c in (0..body).step_by(LANES) {
        let v = load(&x[c..]);
        store(select(positive(v), v, load(&alpha[c..]) * v), &mut y[c..]);
    }
    for c in body..x.len() {
        y[c] = if x[c] > 0.0 { x[c] } else { alpha[c] * x[c] };
    }
}

/// PReLU backward over whole rows of one chunk: `dx += dy·(x > 0 ? 1 : α)` and
/// `dalpha_partial[c] += Σ_rows dy·x·[x ≤ 0]`, rows in order.
fn prelu_backward_rows(
    x: &[f32],
    alpha: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dalpha_partial: &mut [f32],
) {
    let channels = alpha.len();
    let body = body_len(channels);
    for (r, (x_row, dy_row)) in x
        .chunks_exact(channels)
        .zip(dy.chunks_exact(channels))
        .enumerate()
    {
        let mut dx_row = dx
            .as_deref_mut()
            .map(|dx| &mut dx[r * channels..(r + 1) * channels]);
        for c in (0..body).step_by(LANES) {
            let (v, g) = (load(&x_row[c..]), load(&dy_row[c..]));
            let is_positive = positive(v);
            if let Some(dx_row) = dx_row.as_deref_mut() {
                let slope_term = select(is_positive, g, load(&alpha[c..]) * g);
                store(load(&dx_row[c..]) + slope_term, &mut dx_row[c..]);
            }
            let da = load(&dalpha_partial[c..]) + and_not(is_positive, g * v);
            store(da, &mut dalpha_partial[c..]);
        }
        for c in body..channels {
            let (v, g) = (x_row[c], dy_row[c]);
            if let Some(dx_row) = dx_row.as_deref_mut() {
                dx_row[c] += if v > 0.0 { g } else { alpha[c] * g };
            }
            if v <= 0.0 {
                dalpha_partial[c] += g * v;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Softmax and log-softmax over rows of `cols`, made stable by subtracting the row maximum m:
//   softmax:     y_j = e^(x_j − m) / Σ_k e^(x_k − m)
//   log-softmax: y_j = (x_j − m) − ln Σ_k e^(x_k − m)
// Backward (Jacobian-vector products):
//   softmax:     dx_j += y_j·(dy_j − Σ_k dy_k·y_k)
//   log-softmax: dx_j += dy_j − e^(y_j)·Σ_k dy_k
// ---------------------------------------------------------------------------------------------

/// Reference softmax of each row of `cols` values.
pub fn softmax_rows_ref(cols: usize, x: &[f32], y: &mut [f32]) {
    assert_rows("softmax", cols, x, y);
    for (x_row, y_row) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
        let max = x_row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for (yj, &xj) in y_row.iter_mut().zip(x_row) {
            *yj = (xj - max).exp();
            sum += *yj;
        }
        for yj in y_row.iter_mut() {
            *yj /= sum;
        }
    }
}

/// Reference log-softmax of each row of `cols` values.
pub fn log_softmax_rows_ref(cols: usize, x: &[f32], y: &mut [f32]) {
    assert_rows("log_softmax", cols, x, y);
    for (x_row, y_row) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
        let max = x_row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = x_row.iter().map(|&xj| (xj - max).exp()).sum();
        let log_sum = sum.ln();
        for (yj, &xj) in y_row.iter_mut().zip(x_row) {
            *yj = (xj - max) - log_sum;
        }
    }
}

/// Reference softmax backward, given the forward output `y`: `dx += y⊙(dy − Σ dy⊙y)` per row.
pub fn softmax_rows_backward_ref(cols: usize, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_rows_backward("softmax", cols, y, dy, dx);
    for r in 0..y.len() / cols {
        let row = r * cols..(r + 1) * cols;
        let (y, dy, dx) = (&y[row.clone()], &dy[row.clone()], &mut dx[row]);
        let dot: f32 = y.iter().zip(dy).map(|(a, b)| a * b).sum();
        for j in 0..cols {
            dx[j] += y[j] * (dy[j] - dot);
        }
    }
}

/// Reference log-softmax backward, given the forward output `y` (log-probabilities):
/// `dx += dy − e^y·Σ dy` per row.
pub fn log_softmax_rows_backward_ref(cols: usize, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_rows_backward("log_softmax", cols, y, dy, dx);
    for r in 0..y.len() / cols {
        let row = r * cols..(r + 1) * cols;
        let (y, dy, dx) = (&y[row.clone()], &dy[row.clone()], &mut dx[row]);
        let sum: f32 = dy.iter().sum();
        for j in 0..cols {
            dx[j] += dy[j] - y[j].exp() * sum;
        }
    }
}

/// Fast softmax: SIMD within each row, rows split into fixed chunks.
pub fn softmax_rows(cols: usize, x: &[f32], y: &mut [f32]) {
    assert_rows("softmax", cols, x, y);
    par_rows(cols, x, y, softmax_row);
}

/// Fast log-softmax: SIMD within each row, rows split into fixed chunks.
pub fn log_softmax_rows(cols: usize, x: &[f32], y: &mut [f32]) {
    assert_rows("log_softmax", cols, x, y);
    par_rows(cols, x, y, log_softmax_row);
}

/// Fast softmax backward: `dx += y⊙(dy − Σ dy⊙y)` per row.
pub fn softmax_rows_backward(cols: usize, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_rows_backward("softmax", cols, y, dy, dx);
    par_rows_backward(cols, y, dy, dx, |y, dy, dx| {
        let dot = simd::dot(y, dy);
        accumulate_lanes(y, dy, dx, |v, g| v * (g - splat(dot)), |v, g| v * (g - dot));
    });
}

/// Fast log-softmax backward: `dx += dy − e^y·Σ dy` per row.
pub fn log_softmax_rows_backward(cols: usize, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_rows_backward("log_softmax", cols, y, dy, dx);
    par_rows_backward(cols, y, dy, dx, |y, dy, dx| {
        let sum = simd::sum(dy);
        accumulate_lanes(
            y,
            dy,
            dx,
            |v, g| g - exp_flushed(v) * splat(sum),
            |v, g| g - exp_flushed_scalar(v) * sum,
        );
    });
}

/// One softmax row: `e = exp(x − max)` stored in `y`, then `y = e / Σe`, denormals flushed.
fn softmax_row(x: &[f32], y: &mut [f32]) {
    let max = row_max(x);
    let sum = exp_shifted_into(x, max, y);
    let inv = 1.0 / sum;
    let body = body_len(y.len());
    for j in (0..body).step_by(LANES) {
        store(flush_denormal(load(&y[j..]) * splat(inv)), &mut y[j..]);
    }
    for yj in &mut y[body..] {
        *yj = flush_denormal_scalar(*yj * inv);
    }
}

/// One log-softmax row: `y = (x − max) − ln Σ exp(x − max)`; `y` holds the exponentials first.
fn log_softmax_row(x: &[f32], y: &mut [f32]) {
    let max = row_max(x);
    let log_sum = exp_shifted_into(x, max, y).ln();
    map_lanes(
        x,
        y,
        |v| (v - splat(max)) - splat(log_sum),
        |v| (v - max) - log_sum,
    );
}

/// Maximum of a non-empty row.
fn row_max(x: &[f32]) -> f32 {
    let body = body_len(x.len());
    let mut lanes = splat(f32::NEG_INFINITY);
    for j in (0..body).step_by(LANES) {
        lanes = lanes.max(load(&x[j..]));
    }
    let lane_max = lanes
        .as_array()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    x[body..].iter().copied().fold(lane_max, f32::max)
}

/// Writes `e^(x − shift)` (flushed below the normal range) into `e` and returns its sum.
fn exp_shifted_into(x: &[f32], shift: f32, e: &mut [f32]) -> f32 {
    let body = body_len(x.len());
    let mut acc = splat(0.0);
    for j in (0..body).step_by(LANES) {
        let v = exp_flushed(load(&x[j..]) - splat(shift));
        acc += v;
        store(v, &mut e[j..]);
    }
    let mut sum = acc.reduce_add();
    for j in body..x.len() {
        e[j] = exp_flushed_scalar(x[j] - shift);
        sum += e[j];
    }
    sum
}

/// `e^v`, or 0 where it would be denormal.
#[inline(always)]
fn exp_flushed(v: F32s) -> F32s {
    v.simd_ge(splat(LN_MIN_NORMAL)) & v.exp()
}

/// Scalar twin of [`exp_flushed`] for the tails.
#[inline(always)]
fn exp_flushed_scalar(v: f32) -> f32 {
    if v >= LN_MIN_NORMAL {
        v.exp()
    } else {
        0.0
    }
}

/// `v`, or 0 in the lanes where `|v|` is denormal.
#[inline(always)]
fn flush_denormal(v: F32s) -> F32s {
    v.abs().simd_ge(splat(f32::MIN_POSITIVE)) & v
}

/// Scalar twin of [`flush_denormal`].
#[inline(always)]
fn flush_denormal_scalar(v: f32) -> f32 {
    if v.abs() >= f32::MIN_POSITIVE {
        v
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------------------------
// Lane helpers
// ---------------------------------------------------------------------------------------------

/// Mask of the lanes where `v > 0` (false for NaN, like the scalar `v > 0.0`).
#[inline(always)]
fn positive(v: F32s) -> F32s {
    v.simd_gt(splat(0.0))
}

/// Lane-wise `mask ? a : b` for a comparison mask (all bits set or clear in each lane).
#[inline(always)]
fn select(mask: F32s, a: F32s, b: F32s) -> F32s {
    (mask & a) | and_not(mask, b)
}

/// `v` in the lanes where `mask` is clear, 0 elsewhere.
#[inline(always)]
fn and_not(mask: F32s, v: F32s) -> F32s {
    !mask & v
}

/// `y = f(x)` lane by lane, with `f_tail` (the same function on scalars) for the tail.
#[inline(always)]
fn map_lanes(x: &[f32], y: &mut [f32], f: impl Fn(F32s) -> F32s, f_tail: impl Fn(f32) -> f32) {
    let body = body_len(x.len());
    for i in (0..body).step_by(LANES) {
        store(f(load(&x[i..])), &mut y[i..]);
    }
    for i in body..x.len() {
        y[i] = f_tail(x[i]);
    }
}

/// `xy = f(xy)` lane by lane, with `f_tail` (the same function on scalars) for the tail.
#[inline(always)]
fn map_lanes_in_place(xy: &mut [f32], f: impl Fn(F32s) -> F32s, f_tail: impl Fn(f32) -> f32) {
    let body = body_len(xy.len());
    for i in (0..body).step_by(LANES) {
        let v = f(load(&xy[i..]));
        store(v, &mut xy[i..]);
    }
    for v in &mut xy[body..] {
        *v = f_tail(*v);
    }
}

/// `dx += f(a, dy)` lane by lane, with `f_tail` (the same function on scalars) for the tail.
#[inline(always)]
fn accumulate_lanes(
    a: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    f: impl Fn(F32s, F32s) -> F32s,
    f_tail: impl Fn(f32, f32) -> f32,
) {
    let body = body_len(a.len());
    for i in (0..body).step_by(LANES) {
        let term = f(load(&a[i..]), load(&dy[i..]));
        store(load(&dx[i..]) + term, &mut dx[i..]);
    }
    for i in body..a.len() {
        dx[i] += f_tail(a[i], dy[i]);
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed chunking
// ---------------------------------------------------------------------------------------------

/// Floats per chunk for a row-wise kernel over `[rows, cols]`: whole rows, at most
/// [`crate::parallel::MAX_CHUNKS`] chunks, each at least [`MIN_ROW_CHUNK`] floats. Depends on the
/// shape only.
fn row_chunk_len(rows: usize, cols: usize) -> usize {
    let rows_for_max_chunks = rows.div_ceil(crate::parallel::MAX_CHUNKS);
    let rows_for_min_size = MIN_ROW_CHUNK.div_ceil(cols);
    rows_for_max_chunks.max(rows_for_min_size).max(1) * cols
}

/// Runs `f` on matching chunks of `chunk` floats of `a` and `out`, in parallel when there is
/// more than one chunk.
fn par_zip(chunk: usize, a: &[f32], out: &mut [f32], f: impl Fn(&[f32], &mut [f32]) + Sync) {
    if out.len() <= chunk {
        f(a, out);
    } else {
        out.par_chunks_mut(chunk)
            .zip(a.par_chunks(chunk))
            .for_each(|(out, a)| f(a, out));
    }
}

/// Runs `f` on matching chunks of `chunk` floats of `a`, `b` and `out`, in parallel when there
/// is more than one chunk.
fn par_zip3(
    chunk: usize,
    a: &[f32],
    b: &[f32],
    out: &mut [f32],
    f: impl Fn(&[f32], &[f32], &mut [f32]) + Sync,
) {
    if out.len() <= chunk {
        f(a, b, out);
    } else {
        out.par_chunks_mut(chunk)
            .zip(a.par_chunks(chunk))
            .zip(b.par_chunks(chunk))
            .for_each(|((out, a), b)| f(a, b, out));
    }
}

/// Element-wise forward over fixed chunks.
fn par_elementwise(x: &[f32], y: &mut [f32], f: impl Fn(&[f32], &mut [f32]) + Sync) {
    par_zip(ELEMENT_CHUNK, x, y, f);
}

/// Element-wise in-place map over fixed chunks.
fn par_in_place(xy: &mut [f32], f: impl Fn(&mut [f32]) + Sync + Send) {
    if xy.len() <= ELEMENT_CHUNK {
        f(xy);
    } else {
        xy.par_chunks_mut(ELEMENT_CHUNK).for_each(f);
    }
}

/// Element-wise backward over fixed chunks.
fn par_elementwise_backward(
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    f: impl Fn(&[f32], &[f32], &mut [f32]) + Sync,
) {
    par_zip3(ELEMENT_CHUNK, x, dy, dx, f);
}

/// Applies `row_fn` to every row of `cols`, rows split into fixed chunks.
fn par_rows(cols: usize, x: &[f32], y: &mut [f32], row_fn: fn(&[f32], &mut [f32])) {
    let chunk = row_chunk_len(x.len() / cols, cols);
    par_zip(chunk, x, y, |x, y| {
        for (x_row, y_row) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
            row_fn(x_row, y_row);
        }
    });
}

/// Applies `row_fn` to every row of `cols` of `(y, dy, dx)`, rows split into fixed chunks.
fn par_rows_backward(
    cols: usize,
    y: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    row_fn: impl Fn(&[f32], &[f32], &mut [f32]) + Sync,
) {
    let chunk = row_chunk_len(y.len() / cols, cols);
    par_zip3(chunk, y, dy, dx, |y, dy, dx| {
        for ((y_row, dy_row), dx_row) in y
            .chunks_exact(cols)
            .zip(dy.chunks_exact(cols))
            .zip(dx.chunks_exact_mut(cols))
        {
            row_fn(y_row, dy_row, dx_row);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Length checks
// ---------------------------------------------------------------------------------------------

fn assert_elementwise_backward(what: &str, x: &[f32], dy: &[f32], dx: &[f32]) {
    assert_eq!(x.len(), dy.len(), "{what}: x and dy differ in length");
    assert_eq!(x.len(), dx.len(), "{what}: x and dx differ in length");
}

fn assert_rows(what: &str, cols: usize, x: &[f32], y: &[f32]) {
    assert!(cols > 0, "{what}: cols must be at least 1");
    assert_eq!(
        x.len() % cols,
        0,
        "{what}: length is not a multiple of cols"
    );
    assert_eq!(x.len(), y.len(), "{what}: x and y differ in length");
}

fn assert_rows_backward(what: &str, cols: usize, y: &[f32], dy: &[f32], dx: &[f32]) {
    assert_rows(what, cols, y, dy);
    assert_eq!(y.len(), dx.len(), "{what}: y and dx differ in length");
}

fn assert_prelu(what: &str, channels: usize, x: &[f32], alpha: &[f32], y: &[f32]) {
    assert_rows(what, channels, x, y);
    assert_eq!(
        alpha.len(),
        channels,
        "{what}: alpha must have `channels` values"
    );
}

fn assert_prelu_backward(
    channels: usize,
    x: &[f32],
    alpha: &[f32],
    dy: &[f32],
    dx: Option<&[f32]>,
    dalpha: &[f32],
) {
    assert_prelu("prelu", channels, x, alpha, dy);
    if let Some(dx) = dx {
        assert_eq!(dx.len(), x.len(), "prelu: x and dx differ in length");
    }
    assert_eq!(
        dalpha.len(),
        channels,
        "prelu: dalpha must have `channels` values"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_close, check_gradient, projection_loss, random_vec, GradCheck};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Lengths around the lane counts, a preset width, and more than two element chunks.
    const LENGTHS: [usize; 11] = [0, 1, 3, 7, 8, 15, 16, 17, 33, 800, 2 * ELEMENT_CHUNK + 5];

    /// Random values with some exact zeros (the ReLU kink) mixed in.
    fn with_zeros(seed: u64, n: usize, scale: f32) -> Vec<f32> {
        let mut v = random_vec(seed, n, scale);
        v.iter_mut().step_by(5).for_each(|a| *a = 0.0);
        v
    }

    fn assert_bits_equal(what: &str, a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len(), "{what}: lengths differ");
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert_eq!(p.to_bits(), q.to_bits(), "{what}: index {i}: {p} vs {q}");
        }
    }

    type Forward = fn(&[f32], &mut [f32]);
    type Backward = fn(&[f32], &[f32], &mut [f32]);

    /// Fast forward equals the reference bit for bit, and so does the accumulating backward.
    fn check_elementwise(what: &str, fwd: [Forward; 2], bwd: [Backward; 2]) {
        for (k, &n) in LENGTHS.iter().enumerate() {
            let x = with_zeros(k as u64, n, 2.0);
            let dy = random_vec(k as u64 + 50, n, 1.0);
            let (mut y_ref, mut y) = (vec![0.0; n], vec![f32::NAN; n]);
            fwd[0](&x, &mut y_ref);
            fwd[1](&x, &mut y);
            assert_bits_equal(&format!("{what} forward n={n}"), &y, &y_ref);
            let mut dx_ref = random_vec(k as u64 + 99, n, 1.0);
            let mut dx = dx_ref.clone();
            bwd[0](&x, &dy, &mut dx_ref);
            bwd[1](&x, &dy, &mut dx);
            assert_bits_equal(&format!("{what} backward n={n}"), &dx, &dx_ref);
        }
    }

    /// Checks `backward(x, dy = r)` against finite differences of `Σ r·forward(x)`.
    fn gradcheck_elementwise(what: &str, fwd: Forward, bwd: Backward) {
        let mut x = random_vec(3, 40, 1.0);
        let r = random_vec(4, 40, 1.0);
        let mut dx = vec![0.0; 40];
        bwd(&x, &r, &mut dx);
        let mut y = vec![0.0; 40];
        check_gradient(
            what,
            &mut x,
            &dx,
            |x| {
                fwd(x, &mut y);
                projection_loss(&y, &r)
            },
            GradCheck::default(),
        );
    }

    #[test]
    fn vector_exp_is_accurate() {
        let mut worst = 0.0f64;
        let mut v = -87.0f32;
        while v < 88.0 {
            let xs: [f32; LANES] = std::array::from_fn(|l| v + l as f32 * 1e-3);
            let got = F32s::from(xs).exp();
            for (&x, &e) in xs.iter().zip(got.as_array()) {
                let exact = (x as f64).exp();
                worst = worst.max((e as f64 - exact).abs() / exact);
            }
            v += 0.0137;
        }
        assert!(worst <= 2e-7, "wide exp relative error {worst:e}");
        // Flushing: exactly 0 below the normal range and for hugely negative inputs.
        for v in [-88.0, -1e4, f32::NEG_INFINITY] {
            assert_eq!(exp_flushed(splat(v)).as_array()[0], 0.0);
            assert_eq!(exp_flushed_scalar(v), 0.0);
        }
    }

    #[test]
    fn relu_fast_matches_reference() {
        check_elementwise(
            "relu",
            [relu_forward_ref, relu_forward],
            [relu_backward_ref, relu_backward],
        );
    }

    #[test]
    fn leaky_relu_fast_matches_reference() {
        for alpha in [0.01, 0.2] {
            let leaky_fwd =
                |f: fn(f32, &[f32], &mut [f32])| move |x: &[f32], y: &mut [f32]| f(alpha, x, y);
            let (fwd_ref, fwd) = (
                leaky_fwd(leaky_relu_forward_ref),
                leaky_fwd(leaky_relu_forward),
            );
            for (k, &n) in LENGTHS.iter().enumerate() {
                let x = with_zeros(k as u64, n, 2.0);
                let dy = random_vec(k as u64 + 7, n, 1.0);
                let (mut y_ref, mut y) = (vec![0.0; n], vec![f32::NAN; n]);
                fwd_ref(&x, &mut y_ref);
                fwd(&x, &mut y);
                assert_bits_equal(&format!("leaky forward n={n}"), &y, &y_ref);
                let mut dx_ref = random_vec(k as u64 + 8, n, 1.0);
                let mut dx = dx_ref.clone();
                leaky_relu_backward_ref(alpha, &x, &dy, &mut dx_ref);
                leaky_relu_backward(alpha, &x, &dy, &mut dx);
                assert_bits_equal(&format!("leaky backward n={n}"), &dx, &dx_ref);
            }
        }
    }

    #[test]
    fn relu_and_leaky_relu_match_finite_differences() {
        gradcheck_elementwise("relu ref", relu_forward_ref, relu_backward_ref);
        gradcheck_elementwise("relu", relu_forward, relu_backward);
        gradcheck_elementwise(
            "leaky relu",
            |x, y| leaky_relu_forward(0.1, x, y),
            |x, dy, dx| leaky_relu_backward(0.1, x, dy, dx),
        );
    }

    /// PReLU fast vs reference on `[rows, channels]`, with pre-filled gradients.
    fn check_prelu(rows: usize, channels: usize, seed: u64) {
        let n = rows * channels;
        let x = with_zeros(seed, n, 2.0);
        let alpha = random_vec(seed + 1, channels, 0.5);
        let dy = random_vec(seed + 2, n, 1.0);
        let (mut y_ref, mut y) = (vec![0.0; n], vec![f32::NAN; n]);
        prelu_forward_ref(channels, &x, &alpha, &mut y_ref);
        prelu_forward(channels, &x, &alpha, &mut y);
        let what = format!("prelu {rows}x{channels}");
        assert_bits_equal(&format!("{what} forward"), &y, &y_ref);
        let mut dx_ref = random_vec(seed + 3, n, 1.0);
        let mut da_ref = random_vec(seed + 4, channels, 1.0);
        let (mut dx, mut da) = (dx_ref.clone(), da_ref.clone());
        prelu_backward_ref(channels, &x, &alpha, &dy, Some(&mut dx_ref), &mut da_ref);
        prelu_backward(
            channels,
            &x,
            &alpha,
            &dy,
            Some(&mut dx),
            &mut da,
            &mut vec![0.0; prelu_backward_scratch_len(x.len() / channels, channels)],
        );
        assert_bits_equal(&format!("{what} dx"), &dx, &dx_ref);
        let atol = 1e-6 * (rows as f32).sqrt().max(1.0) * 4.0;
        assert_close(&format!("{what} dalpha"), &da, &da_ref, 1e-5, atol);
        // Without dx, dalpha is unchanged.
        let mut da_alone = random_vec(seed + 4, channels, 1.0);
        prelu_backward(
            channels,
            &x,
            &alpha,
            &dy,
            None,
            &mut da_alone,
            &mut vec![0.0; prelu_backward_scratch_len(x.len() / channels, channels)],
        );
        assert_bits_equal(&format!("{what} dalpha without dx"), &da_alone, &da);
    }

    #[test]
    fn prelu_fast_matches_reference() {
        for &channels in &[1, 3, 16, 17, 64, 800] {
            for &rows in &[1, 2, 5, 1000] {
                check_prelu(rows, channels, (rows * 1000 + channels) as u64);
            }
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for i in 0..20 {
            check_prelu(rng.gen_range(1..600), rng.gen_range(1..100), 500 + i);
        }
    }

    #[test]
    fn prelu_matches_finite_differences() {
        let (rows, channels) = (4, 19);
        let mut x = random_vec(21, rows * channels, 1.0);
        let mut alpha = random_vec(22, channels, 0.5);
        let r = random_vec(23, rows * channels, 1.0);
        let mut dx = vec![0.0; x.len()];
        let mut da = vec![0.0; channels];
        prelu_backward(
            channels,
            &x,
            &alpha,
            &r,
            Some(&mut dx),
            &mut da,
            &mut vec![0.0; prelu_backward_scratch_len(x.len() / channels, channels)],
        );
        let mut y = vec![0.0; x.len()];
        let (x0, alpha0) = (x.clone(), alpha.clone());
        let cfg = GradCheck::default();
        check_gradient(
            "prelu dx",
            &mut x,
            &dx,
            |x| {
                prelu_forward(channels, x, &alpha0, &mut y);
                projection_loss(&y, &r)
            },
            cfg,
        );
        check_gradient(
            "prelu dalpha",
            &mut alpha,
            &da,
            |a| {
                prelu_forward(channels, &x0, a, &mut y);
                projection_loss(&y, &r)
            },
            cfg,
        );
    }

    #[test]
    fn prelu_one_and_two_threads_are_bit_identical() {
        let (rows, channels) = (4099, 64);
        let x = random_vec(31, rows * channels, 1.0);
        let alpha = random_vec(32, channels, 0.5);
        let dy = random_vec(33, rows * channels, 1.0);
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            pool.install(|| {
                let mut y = vec![0.0; x.len()];
                let mut dx = vec![0.0; x.len()];
                let mut da = vec![0.0; channels];
                prelu_forward(channels, &x, &alpha, &mut y);
                prelu_backward(
                    channels,
                    &x,
                    &alpha,
                    &dy,
                    Some(&mut dx),
                    &mut da,
                    &mut vec![0.0; prelu_backward_scratch_len(x.len() / channels, channels)],
                );
                [y, dx, da]
            })
        };
        let (one, two) = (run(1), run(2));
        for (a, b) in one.iter().zip(&two) {
            assert_bits_equal("prelu 1 vs 2 threads", a, b);
        }
    }

    type RowFn = fn(usize, &[f32], &mut [f32]);
    type RowBackwardFn = fn(usize, &[f32], &[f32], &mut [f32]);

    /// Softmax-family fast vs reference: forward, then backward on pre-filled `dx`.
    fn check_rows(what: &str, fwd: [RowFn; 2], bwd: [RowBackwardFn; 2], rows: usize, cols: usize) {
        let seed = (rows * 7919 + cols) as u64;
        let n = rows * cols;
        let x = random_vec(seed, n, 8.0);
        let dy = random_vec(seed + 1, n, 1.0);
        let (mut y_ref, mut y) = (vec![0.0; n], vec![f32::NAN; n]);
        fwd[0](cols, &x, &mut y_ref);
        fwd[1](cols, &x, &mut y);
        let shape = format!("{what} {rows}x{cols}");
        assert_close(&format!("{shape} forward"), &y, &y_ref, 2e-6, 1e-7);
        let mut dx_ref = random_vec(seed + 2, n, 1.0);
        let mut dx = dx_ref.clone();
        bwd[0](cols, &y_ref, &dy, &mut dx_ref);
        bwd[1](cols, &y_ref, &dy, &mut dx);
        let atol = 1e-6 * (cols as f32).sqrt();
        assert_close(&format!("{shape} backward"), &dx, &dx_ref, 1e-5, atol);
    }

    const SOFTMAX: ([RowFn; 2], [RowBackwardFn; 2]) = (
        [softmax_rows_ref, softmax_rows],
        [softmax_rows_backward_ref, softmax_rows_backward],
    );
    const LOG_SOFTMAX: ([RowFn; 2], [RowBackwardFn; 2]) = (
        [log_softmax_rows_ref, log_softmax_rows],
        [log_softmax_rows_backward_ref, log_softmax_rows_backward],
    );

    #[test]
    fn softmax_and_log_softmax_fast_match_reference() {
        for (what, (fwd, bwd)) in [("softmax", SOFTMAX), ("log_softmax", LOG_SOFTMAX)] {
            for &cols in &[1, 2, 3, 16, 17, 80, 180, 800] {
                for &rows in &[1, 2, 7, 300] {
                    check_rows(what, fwd, bwd, rows, cols);
                }
            }
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
            for _ in 0..20 {
                check_rows(what, fwd, bwd, rng.gen_range(1..40), rng.gen_range(1..300));
            }
        }
    }

    #[test]
    fn softmax_and_log_softmax_match_finite_differences() {
        let (rows, cols) = (3, 7);
        for (what, (fwd, bwd)) in [("softmax", SOFTMAX), ("log_softmax", LOG_SOFTMAX)] {
            for version in 0..2 {
                let mut x = random_vec(41, rows * cols, 2.0);
                let r = random_vec(42, rows * cols, 1.0);
                let mut y = vec![0.0; x.len()];
                fwd[version](cols, &x, &mut y);
                let mut dx = vec![0.0; x.len()];
                bwd[version](cols, &y, &r, &mut dx);
                check_gradient(
                    &format!("{what} version {version}"),
                    &mut x,
                    &dx,
                    |x| {
                        fwd[version](cols, x, &mut y);
                        projection_loss(&y, &r)
                    },
                    // Softmax gradients are small (~1e-3): a larger step keeps the f32
                    // rounding noise of the forward pass well below the tolerance, and the
                    // O(eps²) truncation error is still ~1e-4 relative.
                    GradCheck {
                        eps: 1e-2,
                        ..GradCheck::default()
                    },
                );
            }
        }
    }

    #[test]
    fn extreme_logits_give_finite_exact_outputs() {
        // A 3-wide row (scalar tails only) and a 19-wide row (SIMD body plus tail).
        let mut wide_row = vec![-1e4; 19];
        wide_row[..3].copy_from_slice(&[1e4, -1e4, 0.0]);
        for x in [vec![1e4, -1e4, 0.0], wide_row] {
            let cols = x.len();
            let mut want_p = vec![0.0; cols];
            want_p[0] = 1.0;
            let want_log: Vec<f32> = x.iter().map(|&v| v - 1e4).collect();
            for version in 0..2 {
                let mut p = vec![f32::NAN; cols];
                SOFTMAX.0[version](cols, &x, &mut p);
                assert_eq!(p, want_p, "softmax version {version}");
                let mut log_p = vec![f32::NAN; cols];
                LOG_SOFTMAX.0[version](cols, &x, &mut log_p);
                assert_eq!(log_p, want_log, "log_softmax version {version}");
                let dy = random_vec(5, cols, 1.0);
                let mut dx = vec![0.0; cols];
                SOFTMAX.1[version](cols, &p, &dy, &mut dx);
                LOG_SOFTMAX.1[version](cols, &log_p, &dy, &mut dx);
                assert!(
                    dx.iter().all(|v| v.is_finite()),
                    "backward version {version}"
                );
            }
        }
    }

    #[test]
    fn fast_softmax_produces_no_denormals() {
        // e^-95 ≈ 5.5e-42 is denormal: the fast path flushes it to 0.
        let x: Vec<f32> = (0..20).map(|j| if j == 3 { 0.0 } else { -95.0 }).collect();
        let mut p = vec![f32::NAN; 20];
        softmax_rows(20, &x, &mut p);
        assert!(p.iter().all(|&v| v == 0.0 || v.is_normal()), "{p:?}");
        assert_eq!(p[3], 1.0);
    }

    #[test]
    fn in_place_activations_equal_the_out_of_place_ones() {
        for n in [0, 1, 7, 17, 33, 2 * ELEMENT_CHUNK + 5] {
            let x = crate::gradcheck::random_vec(n as u64, n, 2.0);
            let (mut y, mut xy) = (vec![0.0; n], x.clone());
            relu_forward(&x, &mut y);
            relu_forward_in_place(&mut xy);
            assert_eq!(y, xy, "relu n={n}");
            xy.copy_from_slice(&x);
            leaky_relu_forward(0.01, &x, &mut y);
            leaky_relu_forward_in_place(0.01, &mut xy);
            assert_eq!(y, xy, "leaky relu n={n}");
        }
    }
}
