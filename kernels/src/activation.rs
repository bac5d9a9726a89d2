//! Activations: element-wise (ReLU, leaky ReLU) and per channel (PReLU). The softmax, which
//! the losses fuse with their gradient, is [`crate::loss::softmax_rows`].
//!
//! Forward passes overwrite `y`; backward passes accumulate into `dx` (and `dalpha`).
//!
//! The fast paths use [`crate::simd`] and split large arrays into chunks whose size depends on
//! the array's shape alone. Every output element is computed by one thread, so results do not
//! depend on the thread count; the one reduction (PReLU's `dalpha` over rows) writes one partial
//! per chunk and sums them in chunk order.

use crate::simd::{body_len, load, splat, store, F32s, LANES};
use rayon::prelude::*;

/// Element-wise kernels split arrays into chunks of this many floats (a multiple of any lane
/// count); arrays no longer than one chunk run on the calling thread.
const ELEMENT_CHUNK: usize = 1 << 15;

/// Per-channel kernels give each chunk at least this many floats, so that small inputs are not
/// split into tasks smaller than their scheduling cost.
const MIN_ROW_CHUNK: usize = 1 << 13;

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
// Lane helpers
// ---------------------------------------------------------------------------------------------

/// Mask of the lanes where `v > 0` (false for NaN, like the scalar `v > 0.0`).
#[inline(always)]
pub(crate) fn positive(v: F32s) -> F32s {
    v.simd_gt(splat(0.0))
}

/// Lane-wise `mask ? a : b` for a comparison mask (all bits set or clear in each lane).
#[inline(always)]
pub(crate) fn select(mask: F32s, a: F32s, b: F32s) -> F32s {
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
