//! Batch normalisation over channels (Ioffe & Szegedy 2015, "Batch Normalization: Accelerating
//! Deep Network Training by Reducing Internal Covariate Shift", Algorithm 1).
//!
//! With channels-last layouts, 1D (`[N, L, C]`), 2D (`[N, H, W, C]`) and dense (`[N, C]`)
//! activations are all a matrix `[rows, channels]` with `rows = N × spatial`, and batch norm
//! normalises each column:
//!
//! ```text
//! μ_c  = (1/R) Σ_r x[r,c]                      batch mean
//! σ²_c = (1/R) Σ_r (x[r,c] − μ_c)²             biased batch variance
//! x̂    = (x − μ_c) / √(σ²_c + eps)
//! y    = γ_c·x̂ + β_c
//! ```
//!
//! Training mode uses the batch statistics and updates the running ones as PyTorch does
//! (`running ← (1 − momentum)·running + momentum·batch_stat`, with the *unbiased* variance
//! `σ²·R/(R − 1)` in `running_var`); evaluation mode normalises with the running statistics.
//! Each mode has its backward: through the batch statistics in training mode, and with the
//! running statistics as constants in evaluation mode (a frozen layer).

use crate::parallel::{chunk_count, chunk_range, MAX_CHUNKS};
use crate::shape::{ensure, ShapeError};
use crate::simd::{axpy, body_len, load, splat, store, F32s, LANES};
use rayon::prelude::*;
use std::ops::Range;

/// A batch-norm problem: the input seen as a matrix `[rows, channels]`, channels contiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchNormShape {
    /// `batch × spatial` (length for 1D, height·width for 2D, 1 for dense inputs).
    pub rows: usize,
    /// Number of channels (features); `γ`, `β` and the statistics have this length.
    pub channels: usize,
}

impl BatchNormShape {
    /// Checks the shape for training: at least one channel and at least two rows, since the
    /// unbiased variance kept in `running_var` divides by `rows − 1` (PyTorch refuses a single
    /// value per channel in training mode for the same reason).
    pub fn validate(&self) -> Result<(), ShapeError> {
        self.validate_eval()?;
        ensure!(
            self.rows >= 2,
            "batch norm: rows = {} (batch × spatial) but training needs at least 2 values per \
             channel for the unbiased variance σ²·rows/(rows − 1)",
            self.rows
        );
        Ok(())
    }

    /// Checks the shape for evaluation mode, which normalises with the running statistics and
    /// so accepts a single row (one sample of a dense layer at inference).
    pub fn validate_eval(&self) -> Result<(), ShapeError> {
        ensure!(
            self.channels >= 1,
            "batch norm: channels = 0, need at least 1"
        );
        ensure!(self.rows >= 1, "batch norm: rows = 0, need at least 1");
        ensure!(
            self.rows.checked_mul(self.channels).is_some(),
            "batch norm: rows × channels = {} × {} overflows usize",
            self.rows,
            self.channels
        );
        Ok(())
    }

    /// Number of elements of the input and of the output: `rows × channels`.
    pub fn len(&self) -> usize {
        self.rows * self.channels
    }

    /// True when the input has no element (never the case for a validated shape).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Hyper-parameters of batch norm, with PyTorch's meaning and defaults.
#[derive(Debug, Clone, Copy)]
pub struct BatchNormParams {
    /// Added to the variance before the square root.
    pub eps: f32,
    /// Weight of the batch statistic in `running ← (1 − momentum)·running + momentum·batch`.
    pub momentum: f32,
}

impl Default for BatchNormParams {
    /// `eps = 1e-5`, `momentum = 0.1` (PyTorch's `BatchNorm1d/2d`).
    fn default() -> Self {
        BatchNormParams {
            eps: 1e-5,
            momentum: 0.1,
        }
    }
}

/// Asserts the lengths of the input/output matrices and of the per-channel vectors.
fn assert_lengths(s: &BatchNormShape, matrices: &[&[f32]], vectors: &[&[f32]]) {
    for m in matrices {
        assert_eq!(
            m.len(),
            s.len(),
            "batch norm: matrix length ≠ rows × channels"
        );
    }
    for v in vectors {
        assert_eq!(v.len(), s.channels, "batch norm: vector length ≠ channels");
    }
}

/// `(1 − momentum)·running + momentum·batch`, PyTorch's running-statistic update.
fn momentum_update(running: f32, batch: f32, momentum: f32) -> f32 {
    (1.0 - momentum) * running + momentum * batch
}

/// Unbiased variance `σ²·rows/(rows − 1)` from the biased one (Bessel's correction).
fn unbiased(biased_var: f32, rows: usize) -> f32 {
    (biased_var as f64 * rows as f64 / (rows - 1) as f64) as f32
}

/// Training-mode forward, scalar reference (statistics in f64).
///
/// Overwrites `y` with `γ·(x − μ)/√(σ² + eps) + β`, updates `running_mean`/`running_var` with
/// the momentum (unbiased variance), and writes `save_mean = μ`, `save_invstd = 1/√(σ² + eps)`
/// for the backward.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_forward_train_ref(
    s: &BatchNormShape,
    p: &BatchNormParams,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    y: &mut [f32],
    running_mean: &mut [f32],
    running_var: &mut [f32],
    save_mean: &mut [f32],
    save_invstd: &mut [f32],
) {
    assert!(s.rows >= 2, "batch norm training needs rows ≥ 2");
    assert_lengths(s, &[x, y], &[gamma, beta, running_mean, running_var]);
    assert_lengths(s, &[], &[save_mean, save_invstd]);
    let (rows, ch) = (s.rows, s.channels);
    for c in 0..ch {
        let column = || (0..rows).map(|r| x[r * ch + c] as f64);
        let mean = column().sum::<f64>() / rows as f64;
        let var = column().map(|v| (v - mean) * (v - mean)).sum::<f64>() / rows as f64;
        let invstd = 1.0 / (var + p.eps as f64).sqrt();
        for r in 0..rows {
            let xhat = (x[r * ch + c] as f64 - mean) * invstd;
            y[r * ch + c] = (gamma[c] as f64 * xhat + beta[c] as f64) as f32;
        }
        running_mean[c] = momentum_update(running_mean[c], mean as f32, p.momentum);
        running_var[c] = momentum_update(running_var[c], unbiased(var as f32, rows), p.momentum);
        save_mean[c] = mean as f32;
        save_invstd[c] = invstd as f32;
    }
}

/// Evaluation-mode forward, scalar reference: overwrites `y` with
/// `γ·(x − running_mean)/√(running_var + eps) + β`.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_forward_eval_ref(
    s: &BatchNormShape,
    p: &BatchNormParams,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    y: &mut [f32],
) {
    assert_lengths(s, &[x, y], &[gamma, beta, running_mean, running_var]);
    let ch = s.channels;
    for r in 0..s.rows {
        for c in 0..ch {
            let invstd = 1.0 / (running_var[c] as f64 + p.eps as f64).sqrt();
            let xhat = (x[r * ch + c] as f64 - running_mean[c] as f64) * invstd;
            y[r * ch + c] = (gamma[c] as f64 * xhat + beta[c] as f64) as f32;
        }
    }
}

/// Backward of the training-mode forward, scalar reference (sums in f64), including the
/// dependence of μ and σ² on `x`. With `x̂ = (x − μ)·invstd` and `R = rows`, it accumulates
///
/// ```text
/// dβ += Σ_r dy        dγ += Σ_r dy·x̂        dx += γ·invstd/R · (R·dy − Σ_r dy − x̂·Σ_r dy·x̂)
/// ```
///
/// (Ioffe & Szegedy 2015, §3, the chain rule through μ and σ² collapsed into one line).
/// `save_mean` and `save_invstd` are the ones written by the training forward.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_backward_ref(
    s: &BatchNormShape,
    x: &[f32],
    gamma: &[f32],
    save_mean: &[f32],
    save_invstd: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    assert_lengths(s, &[x, dy], &[gamma, save_mean, save_invstd, dgamma, dbeta]);
    if let Some(dx) = dx.as_deref() {
        assert_lengths(s, &[dx], &[]);
    }
    let (rows, ch) = (s.rows, s.channels);
    for c in 0..ch {
        let (mean, invstd) = (save_mean[c] as f64, save_invstd[c] as f64);
        let xhat = |r: usize| (x[r * ch + c] as f64 - mean) * invstd;
        let sum_dy: f64 = (0..rows).map(|r| dy[r * ch + c] as f64).sum();
        let sum_dy_xhat: f64 = (0..rows).map(|r| dy[r * ch + c] as f64 * xhat(r)).sum();
        dbeta[c] += sum_dy as f32;
        dgamma[c] += sum_dy_xhat as f32;
        if let Some(dx) = dx.as_deref_mut() {
            let scale = gamma[c] as f64 * invstd / rows as f64;
            for r in 0..rows {
                let g = rows as f64 * dy[r * ch + c] as f64 - sum_dy - xhat(r) * sum_dy_xhat;
                dx[r * ch + c] += (scale * g) as f32;
            }
        }
    }
}

/// Backward of the evaluation-mode forward, scalar reference (sums in f64): the running
/// statistics are constants (a frozen layer), so nothing flows through them. With
/// `invstd = 1/√(running_var + eps)` and `x̂ = (x − running_mean)·invstd`, it accumulates
///
/// ```text
/// dβ += Σ_r dy        dγ += Σ_r dy·x̂        dx += γ·invstd·dy
/// ```
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_backward_eval_ref(
    s: &BatchNormShape,
    p: &BatchNormParams,
    x: &[f32],
    gamma: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    assert_lengths(
        s,
        &[x, dy],
        &[gamma, running_mean, running_var, dgamma, dbeta],
    );
    if let Some(dx) = dx.as_deref() {
        assert_lengths(s, &[dx], &[]);
    }
    let (rows, ch) = (s.rows, s.channels);
    for c in 0..ch {
        let invstd = 1.0 / (running_var[c] as f64 + p.eps as f64).sqrt();
        let xhat = |r: usize| (x[r * ch + c] as f64 - running_mean[c] as f64) * invstd;
        dbeta[c] += (0..rows).map(|r| dy[r * ch + c] as f64).sum::<f64>() as f32;
        dgamma[c] += (0..rows)
            .map(|r| dy[r * ch + c] as f64 * xhat(r))
            .sum::<f64>() as f32;
        if let Some(dx) = dx.as_deref_mut() {
            for r in 0..rows {
                dx[r * ch + c] += (gamma[c] as f64 * invstd * dy[r * ch + c] as f64) as f32;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fast path.
//
// Rows are split into the fixed chunks of `crate::parallel` (their number depends on `rows`
// alone). Channels are processed in blocks of `CHANNEL_BLOCK` columns so that the per-chunk
// partial sums fit in a fixed array on the stack: for each block, every chunk sums its rows into
// its own slot (SIMD across the contiguous channels of a row), the slots are added in chunk
// order, and a last pass over the chunks applies the per-channel result. The arithmetic is the
// same whichever thread runs a chunk, so results are bit-identical for any thread count.
// ---------------------------------------------------------------------------------------------

/// Channels per block; a multiple of every `LANES`.
const CHANNEL_BLOCK: usize = 256;

/// Below this many elements the chunks run one after another on the calling thread (the same
/// chunks, so the same result): the work is smaller than the cost of waking a second thread.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// Fewer rows than this run on the calling thread too: with `MAX_CHUNKS` chunks of fewer than
/// 4 rows (a dense layer at batch 32), adding the per-chunk partials costs as much as the sums.
const PARALLEL_MIN_ROWS: usize = 4 * MAX_CHUNKS;

/// Whether the row chunks of `s` go to the rayon pool (a matter of speed only: the chunks and
/// hence the results are the same either way).
fn runs_in_parallel(s: &BatchNormShape) -> bool {
    s.len() >= PARALLEL_MIN_ELEMENTS && s.rows >= PARALLEL_MIN_ROWS
}

/// One slot of partial sums per chunk, wide enough for two sums per channel of a block.
type Partials = [[f32; 2 * CHANNEL_BLOCK]; MAX_CHUNKS];

/// The rows of chunk `k` of `data` (`[rows, channels]`).
fn chunk_rows(data: &[f32], rows: usize, channels: usize, k: usize) -> &[f32] {
    let r = chunk_range(rows, k);
    &data[r.start * channels..r.end * channels]
}

/// Splits `data` (`[rows, channels]`) into the mutable row blocks of the `chunk_count(rows)`
/// chunks; the remaining slots stay empty.
fn split_row_chunks(data: &mut [f32], rows: usize, channels: usize) -> [&mut [f32]; MAX_CHUNKS] {
    let mut pieces: [&mut [f32]; MAX_CHUNKS] = Default::default();
    let mut rest = data;
    for (k, piece) in pieces.iter_mut().enumerate().take(chunk_count(rows)) {
        let (head, tail) =
            std::mem::take(&mut rest).split_at_mut(chunk_range(rows, k).len() * channels);
        *piece = head;
        rest = tail;
    }
    pieces
}

/// Runs `f(k, &mut items[k])` for every chunk `k`, on the rayon pool when `parallel`.
fn for_each_chunk<T: Send>(items: &mut [T], parallel: bool, f: impl Fn(usize, &mut T) + Sync) {
    if parallel {
        items
            .par_iter_mut()
            .enumerate()
            .for_each(|(k, item)| f(k, item));
    } else {
        items
            .iter_mut()
            .enumerate()
            .for_each(|(k, item)| f(k, item));
    }
}

/// Zeroes the first `width` floats of every chunk's slot, lets `add_partial(k, slot)` add chunk
/// `k`'s sums into its slot, then adds the slots in chunk order: returns the totals.
fn sum_over_chunks(
    partials: &mut [[f32; 2 * CHANNEL_BLOCK]],
    width: usize,
    parallel: bool,
    add_partial: impl Fn(usize, &mut [f32]) + Sync,
) -> &[f32] {
    for_each_chunk(partials, parallel, |k, slot| {
        slot[..width].fill(0.0);
        add_partial(k, &mut slot[..width]);
    });
    let (total, rest) = partials.split_at_mut(1);
    for slot in rest.iter() {
        axpy(1.0, &slot[..width], &mut total[0][..width]);
    }
    &total[0][..width]
}

/// Rows summed in registers before their sum is added to a chunk's slot: this shortens the
/// dependency chain through memory (one load-add-store per group instead of per row) and
/// makes the f32 sums more accurate (groups of 8, then the running total).
const ROW_GROUP: usize = 8;

/// `acc[i][j] += Σ_r term(r, j)[i]` for `r < rows` and every column `j < width`, where
/// `term_simd(r, j)` gives the `K` terms of columns `j..j + LANES` of row `r` and `term(r, j)`
/// those of the single column `j` (for the `width % LANES` tail).
#[inline(always)]
fn add_column_sums<const K: usize>(
    rows: usize,
    width: usize,
    mut acc: [&mut [f32]; K],
    term_simd: impl Fn(usize, usize) -> [F32s; K],
    term: impl Fn(usize, usize) -> [f32; K],
) {
    let body = body_len(width);
    for group_start in (0..rows).step_by(ROW_GROUP) {
        let group = group_start..(group_start + ROW_GROUP).min(rows);
        for j in (0..body).step_by(LANES) {
            let mut sum = [splat(0.0); K];
            for r in group.clone() {
                for (s, t) in sum.iter_mut().zip(term_simd(r, j)) {
                    *s += t;
                }
            }
            for (a, s) in acc.iter_mut().zip(sum) {
                store(load(&a[j..]) + s, &mut a[j..]);
            }
        }
        for j in body..width {
            let mut sum = [0.0; K];
            for r in group.clone() {
                for (s, t) in sum.iter_mut().zip(term(r, j)) {
                    *s += t;
                }
            }
            for (a, s) in acc.iter_mut().zip(sum) {
                a[j] += s;
            }
        }
    }
}

/// `acc[j] += Σ_r x[r, cols][j]` over the rows of `x`.
fn add_columns(x: &[f32], channels: usize, cols: &Range<usize>, acc: &mut [f32]) {
    let at = |r: usize, j: usize| r * channels + cols.start + j;
    let rows = x.len() / channels;
    add_column_sums(
        rows,
        cols.len(),
        [acc],
        |r, j| [load(&x[at(r, j)..])],
        |r, j| [x[at(r, j)]],
    );
}

/// `acc[j] += Σ_r (x[r, cols][j] − mean[j])²` over the rows of `x`.
fn add_squared_deviations(
    x: &[f32],
    channels: usize,
    cols: &Range<usize>,
    mean: &[f32],
    acc: &mut [f32],
) {
    let at = |r: usize, j: usize| r * channels + cols.start + j;
    let rows = x.len() / channels;
    let simd = |r, j| {
        let d = load(&x[at(r, j)..]) - load(&mean[j..]);
        [d * d]
    };
    let scalar = |r, j| {
        let d = x[at(r, j)] - mean[j];
        [d * d]
    };
    add_column_sums(rows, cols.len(), [acc], simd, scalar);
}

/// `y[r, cols] = (x[r, cols] − mean)·scale + shift` over the rows of `x` and `y`.
fn normalise_rows(
    x: &[f32],
    y: &mut [f32],
    channels: usize,
    cols: &Range<usize>,
    mean: &[f32],
    scale: &[f32],
    shift: &[f32],
) {
    let body = body_len(cols.len());
    for (xr, yr) in x.chunks_exact(channels).zip(y.chunks_exact_mut(channels)) {
        let (xv, yv) = (&xr[cols.clone()], &mut yr[cols.clone()]);
        for j in (0..body).step_by(LANES) {
            let d = load(&xv[j..]) - load(&mean[j..]);
            store(
                d.mul_add(load(&scale[j..]), load(&shift[j..])),
                &mut yv[j..],
            );
        }
        for j in body..xv.len() {
            yv[j] = (xv[j] - mean[j]).mul_add(scale[j], shift[j]);
        }
    }
}

/// `sum_dy[j] += Σ_r dy` and `sum_dy_centred[j] += Σ_r dy·(x − mean)` over the columns
/// `cols` of the rows of `x` and `dy`.
fn add_backward_sums(
    x: &[f32],
    dy: &[f32],
    channels: usize,
    cols: &Range<usize>,
    mean: &[f32],
    sum_dy: &mut [f32],
    sum_dy_centred: &mut [f32],
) {
    let at = |r: usize, j: usize| r * channels + cols.start + j;
    let rows = x.len() / channels;
    let simd = |r, j| {
        let g = load(&dy[at(r, j)..]);
        [g, g * (load(&x[at(r, j)..]) - load(&mean[j..]))]
    };
    let scalar = |r, j| {
        let g = dy[at(r, j)];
        [g, g * (x[at(r, j)] - mean[j])]
    };
    add_column_sums(rows, cols.len(), [sum_dy, sum_dy_centred], simd, scalar);
}

/// Per-channel coefficients of the input gradient `dx += k·(dy − m − (x − μ)·q)`, the
/// reference's `γ·invstd/R·(R·dy − Σdy − x̂·Σdy·x̂)` with `k = γ·invstd`, `m = Σdy/R` and
/// `q = invstd²·Σdy·(x − μ)/R` (since `x̂ = (x − μ)·invstd`). In evaluation mode μ and invstd
/// are constants and `dx += γ·invstd·dy`: `m = q = 0`.
struct InputGradCoefficients {
    k: [f32; CHANNEL_BLOCK],
    m: [f32; CHANNEL_BLOCK],
    q: [f32; CHANNEL_BLOCK],
}

/// `dx[r, cols] += k·(dy − m − (x − mean)·q)` over the rows of `x`, `dy` and `dx`.
fn add_input_gradient(
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    channels: usize,
    cols: &Range<usize>,
    mean: &[f32],
    coef: &InputGradCoefficients,
) {
    let w = cols.len();
    let (k, m, q) = (&coef.k[..w], &coef.m[..w], &coef.q[..w]);
    let body = body_len(w);
    let rows = x.chunks_exact(channels).zip(dy.chunks_exact(channels));
    for ((xr, dyr), dxr) in rows.zip(dx.chunks_exact_mut(channels)) {
        let (xv, dyv, dxv) = (
            &xr[cols.clone()],
            &dyr[cols.clone()],
            &mut dxr[cols.clone()],
        );
        for j in (0..body).step_by(LANES) {
            let d = load(&xv[j..]) - load(&mean[j..]);
            let t = (-load(&q[j..])).mul_add(d, load(&dyv[j..]) - load(&m[j..]));
            store(load(&k[j..]).mul_add(t, load(&dxv[j..])), &mut dxv[j..]);
        }
        for j in body..w {
            let t = (-q[j]).mul_add(xv[j] - mean[j], dyv[j] - m[j]);
            dxv[j] = k[j].mul_add(t, dxv[j]);
        }
    }
}

/// The column blocks `[c0, min(c0 + CHANNEL_BLOCK, channels))`.
fn channel_blocks(channels: usize) -> impl Iterator<Item = Range<usize>> {
    (0..channels)
        .step_by(CHANNEL_BLOCK)
        .map(move |c0| c0..(c0 + CHANNEL_BLOCK).min(channels))
}

/// Training-mode forward, fast path: same contract as [`batchnorm_forward_train_ref`].
///
/// Two passes for the statistics (the mean, then the mean of `(x − μ)²`, which avoids the
/// cancellation of `E[x²] − μ²`) and one to normalise; sums in f32, one partial per row chunk.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_forward_train(
    s: &BatchNormShape,
    p: &BatchNormParams,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    y: &mut [f32],
    running_mean: &mut [f32],
    running_var: &mut [f32],
    save_mean: &mut [f32],
    save_invstd: &mut [f32],
) {
    assert!(s.rows >= 2, "batch norm training needs rows ≥ 2");
    assert_lengths(s, &[x, y], &[gamma, beta, running_mean, running_var]);
    assert_lengths(s, &[], &[save_mean, save_invstd]);
    let (rows, ch) = (s.rows, s.channels);
    let chunks = chunk_count(rows);
    let parallel = runs_in_parallel(s);
    let mut y_chunks = split_row_chunks(y, rows, ch);
    let mut partials: Partials = [[0.0; 2 * CHANNEL_BLOCK]; MAX_CHUNKS];
    for cols in channel_blocks(ch) {
        let w = cols.len();
        let sums = sum_over_chunks(&mut partials[..chunks], w, parallel, |k, acc| {
            add_columns(chunk_rows(x, rows, ch, k), ch, &cols, acc);
        });
        for (c, sum) in cols.clone().zip(sums) {
            save_mean[c] = sum / rows as f32;
        }
        let mean = &save_mean[cols.clone()];
        let squares = sum_over_chunks(&mut partials[..chunks], w, parallel, |k, acc| {
            add_squared_deviations(chunk_rows(x, rows, ch, k), ch, &cols, mean, acc);
        });
        let mut scale = [0.0; CHANNEL_BLOCK];
        for (j, c) in cols.clone().enumerate() {
            let var = squares[j] / rows as f32;
            save_invstd[c] = 1.0 / (var + p.eps).sqrt();
            scale[j] = gamma[c] * save_invstd[c];
            running_mean[c] = momentum_update(running_mean[c], mean[j], p.momentum);
            running_var[c] = momentum_update(running_var[c], unbiased(var, rows), p.momentum);
        }
        for_each_chunk(&mut y_chunks[..chunks], parallel, |k, y_k| {
            let x_k = chunk_rows(x, rows, ch, k);
            normalise_rows(x_k, y_k, ch, &cols, mean, &scale[..w], &beta[cols.clone()]);
        });
    }
}

/// The evaluation-mode normalisation as one per-channel affine map `y = scale·x + shift`:
///
/// ```text
/// scale = γ / √(running_var + ε)        shift = β − running_mean·scale
/// ```
///
/// (Ioffe & Szegedy 2015, §3.1), for folding into the layer before the batch norm
/// ([`crate::epilogue::fold_channel_affine`]). `scale` is computed as the forward computes it.
pub fn batchnorm_eval_affine(
    p: &BatchNormParams,
    gamma: &[f32],
    beta: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    scale: &mut [f32],
    shift: &mut [f32],
) {
    let ch = gamma.len();
    for (name, v) in [
        ("beta", beta.len()),
        ("running_mean", running_mean.len()),
        ("running_var", running_var.len()),
        ("scale", scale.len()),
        ("shift", shift.len()),
    ] {
        assert_eq!(v, ch, "batchnorm_eval_affine: {name} length");
    }
    for c in 0..ch {
        scale[c] = gamma[c] / (running_var[c] + p.eps).sqrt();
        shift[c] = (-running_mean[c]).mul_add(scale[c], beta[c]);
    }
}

/// Evaluation-mode forward, fast path: same contract as [`batchnorm_forward_eval_ref`].
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_forward_eval(
    s: &BatchNormShape,
    p: &BatchNormParams,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    y: &mut [f32],
) {
    assert_lengths(s, &[x, y], &[gamma, beta, running_mean, running_var]);
    let (rows, ch) = (s.rows, s.channels);
    let chunks = chunk_count(rows);
    let parallel = runs_in_parallel(s);
    let mut y_chunks = split_row_chunks(y, rows, ch);
    for cols in channel_blocks(ch) {
        let mut scale = [0.0; CHANNEL_BLOCK];
        for (j, c) in cols.clone().enumerate() {
            scale[j] = gamma[c] / (running_var[c] + p.eps).sqrt();
        }
        let (mean, shift) = (&running_mean[cols.clone()], &beta[cols.clone()]);
        for_each_chunk(&mut y_chunks[..chunks], parallel, |k, y_k| {
            let x_k = chunk_rows(x, rows, ch, k);
            normalise_rows(x_k, y_k, ch, &cols, mean, &scale[..cols.len()], shift);
        });
    }
}

/// The per-channel statistics a forward normalised with, as its backward needs them.
#[derive(Clone, Copy)]
enum Normalisation<'a> {
    /// The training forward's batch statistics (`save_mean`, `save_invstd`), functions of `x`.
    Batch { mean: &'a [f32], invstd: &'a [f32] },
    /// The running statistics of evaluation mode, constants.
    Running {
        mean: &'a [f32],
        var: &'a [f32],
        eps: f32,
    },
}

impl Normalisation<'_> {
    fn mean(&self) -> &[f32] {
        match self {
            Normalisation::Batch { mean, .. } | Normalisation::Running { mean, .. } => mean,
        }
    }

    fn invstd(&self, c: usize) -> f32 {
        match *self {
            Normalisation::Batch { invstd, .. } => invstd[c],
            Normalisation::Running { var, eps, .. } => 1.0 / (var[c] + eps).sqrt(),
        }
    }
}

/// Backward of the training-mode forward, fast path: same contract as
/// [`batchnorm_backward_ref`]. One pass for `Σdy` and `Σdy·(x − μ)` (one partial per row
/// chunk, added in chunk order), one for `dx`.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_backward(
    s: &BatchNormShape,
    x: &[f32],
    gamma: &[f32],
    save_mean: &[f32],
    save_invstd: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    assert_lengths(s, &[], &[save_mean, save_invstd]);
    let stats = Normalisation::Batch {
        mean: save_mean,
        invstd: save_invstd,
    };
    backward(s, x, gamma, stats, dy, dx, dgamma, dbeta);
}

/// Backward of the evaluation-mode forward, fast path: same contract as
/// [`batchnorm_backward_eval_ref`], the same passes as [`batchnorm_backward`].
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_backward_eval(
    s: &BatchNormShape,
    p: &BatchNormParams,
    x: &[f32],
    gamma: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    assert_lengths(s, &[], &[running_mean, running_var]);
    let stats = Normalisation::Running {
        mean: running_mean,
        var: running_var,
        eps: p.eps,
    };
    backward(s, x, gamma, stats, dy, dx, dgamma, dbeta);
}

/// The backward of either mode: `dβ += Σdy`, `dγ += Σdy·(x − μ)·invstd`, and `dx` from the
/// [`InputGradCoefficients`] of the mode.
#[allow(clippy::too_many_arguments)]
fn backward(
    s: &BatchNormShape,
    x: &[f32],
    gamma: &[f32],
    stats: Normalisation,
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    assert_lengths(s, &[x, dy], &[gamma, dgamma, dbeta]);
    if let Some(dx) = dx.as_deref() {
        assert_lengths(s, &[dx], &[]);
    }
    let (rows, ch) = (s.rows, s.channels);
    let chunks = chunk_count(rows);
    let parallel = runs_in_parallel(s);
    let mut dx_chunks = dx.map(|dx| split_row_chunks(dx, rows, ch));
    let mut partials: Partials = [[0.0; 2 * CHANNEL_BLOCK]; MAX_CHUNKS];
    let through_batch_stats = matches!(stats, Normalisation::Batch { .. });
    for cols in channel_blocks(ch) {
        let w = cols.len();
        let mean = &stats.mean()[cols.clone()];
        let sums = sum_over_chunks(&mut partials[..chunks], 2 * w, parallel, |k, acc| {
            let (sum_dy, sum_dy_centred) = acc.split_at_mut(w);
            let (x_k, dy_k) = (chunk_rows(x, rows, ch, k), chunk_rows(dy, rows, ch, k));
            add_backward_sums(x_k, dy_k, ch, &cols, mean, sum_dy, sum_dy_centred);
        });
        let (sum_dy, sum_dy_centred) = sums.split_at(w);
        let mut coef = InputGradCoefficients {
            k: [0.0; CHANNEL_BLOCK],
            m: [0.0; CHANNEL_BLOCK],
            q: [0.0; CHANNEL_BLOCK],
        };
        for (j, c) in cols.clone().enumerate() {
            let invstd = stats.invstd(c);
            dbeta[c] += sum_dy[j];
            dgamma[c] += sum_dy_centred[j] * invstd;
            coef.k[j] = gamma[c] * invstd;
            if through_batch_stats {
                coef.m[j] = sum_dy[j] / rows as f32;
                coef.q[j] = invstd * invstd * sum_dy_centred[j] / rows as f32;
            }
        }
        if let Some(dx_chunks) = dx_chunks.as_mut() {
            for_each_chunk(&mut dx_chunks[..chunks], parallel, |k, dx_k| {
                let (x_k, dy_k) = (chunk_rows(x, rows, ch, k), chunk_rows(dy, rows, ch, k));
                add_input_gradient(x_k, dy_k, dx_k, ch, &cols, mean, &coef);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_close, check_gradient, projection_loss, random_vec, GradCheck};

    /// Everything one training step touches, with seeded inputs (x offset from zero so that
    /// the mean matters).
    struct Case {
        s: BatchNormShape,
        x: Vec<f32>,
        gamma: Vec<f32>,
        beta: Vec<f32>,
    }

    impl Case {
        fn new(rows: usize, channels: usize, seed: u64) -> Case {
            let s = BatchNormShape { rows, channels };
            let x = random_vec(seed, s.len(), 2.0)
                .iter()
                .map(|v| v + 0.7)
                .collect();
            Case {
                s,
                x,
                gamma: random_vec(seed + 1, channels, 1.5),
                beta: random_vec(seed + 2, channels, 1.0),
            }
        }
    }

    /// Outputs of a training forward: y, running mean, running var, save_mean, save_invstd.
    type TrainOut = [Vec<f32>; 5];

    type TrainFn = fn(
        &BatchNormShape,
        &BatchNormParams,
        &[f32],
        &[f32],
        &[f32],
        &mut [f32],
        &mut [f32],
        &mut [f32],
        &mut [f32],
        &mut [f32],
    );

    fn train(f: TrainFn, s: &BatchNormShape, x: &[f32], gamma: &[f32], beta: &[f32]) -> TrainOut {
        let ch = s.channels;
        let mut y = vec![f32::NAN; s.len()];
        let mut rm = vec![0.0; ch];
        let mut rv = vec![1.0; ch];
        let (mut sm, mut si) = (vec![f32::NAN; ch], vec![f32::NAN; ch]);
        let p = BatchNormParams::default();
        f(
            s, &p, x, gamma, beta, &mut y, &mut rm, &mut rv, &mut sm, &mut si,
        );
        [y, rm, rv, sm, si]
    }

    #[test]
    fn validate_names_the_problem() {
        let ok = BatchNormShape {
            rows: 2,
            channels: 1,
        };
        assert_eq!(ok.validate(), Ok(()));
        let one_row = BatchNormShape {
            rows: 1,
            channels: 16,
        };
        let err = one_row.validate().unwrap_err().0;
        assert!(
            err.contains("rows = 1") && err.contains("unbiased"),
            "{err}"
        );
        assert_eq!(one_row.validate_eval(), Ok(()));
        let no_channel = BatchNormShape {
            rows: 8,
            channels: 0,
        };
        assert!(no_channel
            .validate()
            .unwrap_err()
            .0
            .contains("channels = 0"));
        let no_row = BatchNormShape {
            rows: 0,
            channels: 3,
        };
        assert!(no_row.validate_eval().unwrap_err().0.contains("rows = 0"));
        let huge = BatchNormShape {
            rows: usize::MAX,
            channels: 2,
        };
        assert!(huge.validate().unwrap_err().0.contains("overflows"));
        assert_eq!(ok.len(), 2);
    }

    /// 4 rows × 2 channels by hand. Channel 0: x = 1, 2, 3, 4, μ = 2.5, σ² = 1.25, unbiased
    /// 5/3. Channel 1: x = −2, 0, 2, 4, μ = 1, σ² = 5, unbiased 20/3. Running stats start at
    /// (0, 1) as in PyTorch; after one step with momentum 0.1: mean 0.1·μ, var 0.9 + 0.1·unbiased.
    #[test]
    fn train_forward_by_hand() {
        let s = BatchNormShape {
            rows: 4,
            channels: 2,
        };
        let x = [1.0, -2.0, 2.0, 0.0, 3.0, 2.0, 4.0, 4.0];
        let gamma = [2.0, 0.5];
        let beta = [0.5, -1.0];
        let [y, rm, rv, sm, si] = train(batchnorm_forward_train_ref, &s, &x, &gamma, &beta);
        let inv0 = 1.0 / (1.25f64 + 1e-5).sqrt();
        let inv1 = 1.0 / (5.0f64 + 1e-5).sqrt();
        // x − μ, row by row: channel 0 = −1.5, −0.5, 0.5, 1.5; channel 1 = −3, −1, 1, 3.
        let centred = [-1.5, -3.0, -0.5, -1.0, 0.5, 1.0, 1.5, 3.0];
        let want_y: Vec<f32> = centred
            .chunks(2)
            .flat_map(|d| [2.0 * d[0] * inv0 + 0.5, 0.5 * d[1] * inv1 - 1.0])
            .map(|v| v as f32)
            .collect();
        assert_close("y", &y, &want_y, 1e-6, 1e-6);
        assert_close("running_mean", &rm, &[0.25, 0.1], 1e-6, 1e-7);
        assert_close("running_var", &rv, &[1.066_666_7, 1.566_666_7], 1e-6, 0.0);
        assert_close("save_mean", &sm, &[2.5, 1.0], 0.0, 0.0);
        assert_close("save_invstd", &si, &[inv0 as f32, inv1 as f32], 1e-7, 0.0);
    }

    /// eps = 0 and running variances 4 and 0.25 make the divisions exact: channel 0 is
    /// `3·(x − 1)/2 + 1`, channel 1 is `−2·(x + 2)/0.5 + 0.25`.
    #[test]
    fn eval_forward_by_hand() {
        let s = BatchNormShape {
            rows: 3,
            channels: 2,
        };
        let p = BatchNormParams {
            eps: 0.0,
            momentum: 0.1,
        };
        let x = [1.0, -2.0, 3.0, -1.5, -1.0, 0.0];
        let want = [1.0, 0.25, 4.0, -1.75, -2.0, -7.75];
        let mut y = vec![f32::NAN; 6];
        let (gamma, beta, rm, rv) = ([3.0, -2.0], [1.0, 0.25], [1.0, -2.0], [4.0, 0.25]);
        batchnorm_forward_eval_ref(&s, &p, &x, &gamma, &beta, &rm, &rv, &mut y);
        assert_eq!(y, want);
    }

    /// Finite differences of `L = Σ r⊙y` through the training forward (statistics included)
    /// against the accumulated backward, for x, γ and β.
    fn gradcheck_backward(train_fn: TrainFn, backward: BackwardFn, rows: usize, ch: usize) {
        let Case {
            s,
            mut x,
            mut gamma,
            mut beta,
        } = Case::new(rows, ch, 40 + rows as u64);
        let r = random_vec(7, s.len(), 1.0);
        let [_, _, _, sm, si] = train(train_fn, &s, &x, &gamma, &beta);
        // Accumulate on top of non-zero buffers: the check subtracts the starting values.
        let start = random_vec(9, s.len(), 1.0);
        let (mut dx, mut dgamma, mut dbeta) =
            (start.clone(), start[..ch].to_vec(), start[..ch].to_vec());
        backward(
            &s,
            &x,
            &gamma,
            &sm,
            &si,
            &r,
            Some(&mut dx),
            &mut dgamma,
            &mut dbeta,
        );
        let minus =
            |a: &[f32], b: &[f32]| -> Vec<f32> { a.iter().zip(b).map(|(u, v)| u - v).collect() };
        let (dx, dgamma, dbeta) = (
            minus(&dx, &start),
            minus(&dgamma, &start[..ch]),
            minus(&dbeta, &start[..ch]),
        );
        let cfg = GradCheck::default();
        let (g0, b0, x0) = (gamma.clone(), beta.clone(), x.clone());
        let loss_x = |x: &[f32]| projection_loss(&train(train_fn, &s, x, &g0, &b0)[0], &r);
        check_gradient("dx", &mut x, &dx, loss_x, cfg);
        let loss_g = |g: &[f32]| projection_loss(&train(train_fn, &s, &x0, g, &b0)[0], &r);
        check_gradient("dgamma", &mut gamma, &dgamma, loss_g, cfg);
        let loss_b = |b: &[f32]| projection_loss(&train(train_fn, &s, &x0, &g0, b)[0], &r);
        check_gradient("dbeta", &mut beta, &dbeta, loss_b, cfg);
    }

    type BackwardFn = fn(
        &BatchNormShape,
        &[f32],
        &[f32],
        &[f32],
        &[f32],
        &[f32],
        Option<&mut [f32]>,
        &mut [f32],
        &mut [f32],
    );

    /// Two rows are left out: there x̂ = ±1 whatever x is, so every dx is ≈ 0 and the finite
    /// differences are pure rounding noise.
    #[test]
    fn reference_backward_matches_finite_differences() {
        for (rows, ch) in [(3, 1), (4, 2), (5, 3), (12, 4)] {
            gradcheck_backward(
                batchnorm_forward_train_ref,
                batchnorm_backward_ref,
                rows,
                ch,
            );
        }
    }

    #[test]
    fn fast_backward_matches_finite_differences() {
        for (rows, ch) in [(3, 1), (4, 2), (5, 3), (12, 4), (7, 17)] {
            gradcheck_backward(batchnorm_forward_train, batchnorm_backward, rows, ch);
        }
    }

    type EvalFn =
        fn(&BatchNormShape, &BatchNormParams, &[f32], &[f32], &[f32], &[f32], &[f32], &mut [f32]);

    type EvalBackwardFn = fn(
        &BatchNormShape,
        &BatchNormParams,
        &[f32],
        &[f32],
        &[f32],
        &[f32],
        &[f32],
        Option<&mut [f32]>,
        &mut [f32],
        &mut [f32],
    );

    /// Finite differences of `L = Σ r⊙y` through the evaluation forward (running statistics
    /// fixed) against the accumulated evaluation backward, for x, γ and β.
    fn gradcheck_eval_backward(backward: EvalBackwardFn, rows: usize, ch: usize) {
        let Case {
            s,
            mut x,
            mut gamma,
            mut beta,
        } = Case::new(rows, ch, 60 + rows as u64);
        let p = BatchNormParams::default();
        let running_mean = random_vec(61, ch, 1.0);
        let running_var: Vec<f32> = random_vec(62, ch, 1.0).iter().map(|v| v + 1.5).collect();
        let r = random_vec(63, s.len(), 1.0);
        let start = random_vec(64, s.len(), 1.0);
        let (mut dx, mut dgamma, mut dbeta) =
            (start.clone(), start[..ch].to_vec(), start[..ch].to_vec());
        let (rm, rv) = (&running_mean[..], &running_var[..]);
        backward(
            &s,
            &p,
            &x,
            &gamma,
            rm,
            rv,
            &r,
            Some(&mut dx),
            &mut dgamma,
            &mut dbeta,
        );
        let minus =
            |a: &[f32], b: &[f32]| -> Vec<f32> { a.iter().zip(b).map(|(u, v)| u - v).collect() };
        let (dx, dgamma, dbeta) = (
            minus(&dx, &start),
            minus(&dgamma, &start[..ch]),
            minus(&dbeta, &start[..ch]),
        );
        let eval = |x: &[f32], g: &[f32], b: &[f32]| {
            let mut y = vec![f32::NAN; s.len()];
            batchnorm_forward_eval_ref(&s, &p, x, g, b, rm, rv, &mut y);
            projection_loss(&y, &r)
        };
        let cfg = GradCheck::default();
        let (g0, b0, x0) = (gamma.clone(), beta.clone(), x.clone());
        check_gradient("dx (eval)", &mut x, &dx, |x| eval(x, &g0, &b0), cfg);
        check_gradient(
            "dgamma (eval)",
            &mut gamma,
            &dgamma,
            |g| eval(&x0, g, &b0),
            cfg,
        );
        check_gradient(
            "dbeta (eval)",
            &mut beta,
            &dbeta,
            |b| eval(&x0, &g0, b),
            cfg,
        );
    }

    #[test]
    fn eval_backward_matches_finite_differences() {
        for (rows, ch) in [(1, 1), (3, 2), (5, 3), (12, 4), (7, 17)] {
            gradcheck_eval_backward(batchnorm_backward_eval_ref, rows, ch);
            gradcheck_eval_backward(batchnorm_backward_eval, rows, ch);
        }
    }

    /// Every output of one path (train forward, eval forward, backward with and without dx)
    /// for one case, the backward accumulating on top of the same non-zero buffers. The eval
    /// forward and the backward take the reference's statistics, so that each kernel is
    /// compared alone: with few rows and |μ| ≫ σ, the f32 rounding of μ (≈ 2⁻²⁴·|μ|) alone moves
    /// `dx` by ≈ γ·invstd²·2⁻²⁴·|μ|.
    fn run_all(case: &Case, fast: bool) -> Vec<Vec<f32>> {
        let Case { s, x, gamma, beta } = case;
        let (train_fn, eval_fn, backward_fn, eval_backward_fn): (
            TrainFn,
            EvalFn,
            BackwardFn,
            EvalBackwardFn,
        ) = if fast {
            (
                batchnorm_forward_train,
                batchnorm_forward_eval,
                batchnorm_backward,
                batchnorm_backward_eval,
            )
        } else {
            (
                batchnorm_forward_train_ref,
                batchnorm_forward_eval_ref,
                batchnorm_backward_ref,
                batchnorm_backward_eval_ref,
            )
        };
        let ch = s.channels;
        let [y, rm, rv, sm, si] = train(train_fn, s, x, gamma, beta);
        let [_, rm_ref, rv_ref, sm_ref, si_ref] =
            train(batchnorm_forward_train_ref, s, x, gamma, beta);
        let mut y_eval = vec![f32::NAN; s.len()];
        let p = BatchNormParams::default();
        eval_fn(s, &p, x, gamma, beta, &rm_ref, &rv_ref, &mut y_eval);
        let dy = random_vec(77, s.len(), 1.0);
        let mut dx = random_vec(78, s.len(), 1.0);
        let (mut dgamma, mut dbeta) = (random_vec(79, ch, 1.0), random_vec(80, ch, 1.0));
        let (sm_ref, si_ref) = (&sm_ref[..], &si_ref[..]);
        backward_fn(
            s,
            x,
            gamma,
            sm_ref,
            si_ref,
            &dy,
            Some(&mut dx),
            &mut dgamma,
            &mut dbeta,
        );
        let (mut dgamma2, mut dbeta2) = (dgamma.clone(), dbeta.clone());
        backward_fn(
            s,
            x,
            gamma,
            sm_ref,
            si_ref,
            &dy,
            None,
            &mut dgamma2,
            &mut dbeta2,
        );
        let mut dx_eval = random_vec(81, s.len(), 1.0);
        let (mut dgamma_eval, mut dbeta_eval) = (random_vec(82, ch, 1.0), random_vec(83, ch, 1.0));
        eval_backward_fn(
            s,
            &p,
            x,
            gamma,
            &rm_ref,
            &rv_ref,
            &dy,
            Some(&mut dx_eval),
            &mut dgamma_eval,
            &mut dbeta_eval,
        );
        vec![
            y,
            rm,
            rv,
            sm,
            si,
            y_eval,
            dx,
            dgamma,
            dbeta,
            dgamma2,
            dbeta2,
            dx_eval,
            dgamma_eval,
            dbeta_eval,
        ]
    }

    const OUTPUT_NAMES: [&str; 14] = [
        "y",
        "running_mean",
        "running_var",
        "save_mean",
        "save_invstd",
        "y_eval",
        "dx",
        "dgamma",
        "dbeta",
        "dgamma (no dx)",
        "dbeta (no dx)",
        "dx (eval)",
        "dgamma (eval)",
        "dbeta (eval)",
    ];

    /// Tolerance of fast vs reference: the fast path sums in f32 (one partial per row chunk),
    /// the reference in f64, so sums of `rows` terms differ by about √rows·2⁻²⁴ relative;
    /// the outputs are O(1) here and the `dγ`, `dβ` sums O(√rows).
    fn assert_fast_matches_reference(case: &Case) {
        let (fast, reference) = (run_all(case, true), run_all(case, false));
        let rows = case.s.rows as f32;
        for ((name, got), want) in OUTPUT_NAMES.iter().zip(&fast).zip(&reference) {
            let what = format!("{name} rows={} channels={}", case.s.rows, case.s.channels);
            assert_close(&what, got, want, 1e-5, 2e-5 * (1.0 + rows.sqrt() / 8.0));
        }
    }

    #[test]
    fn fast_matches_reference_on_odd_shapes() {
        for rows in [2, 3, 17, 1000] {
            for channels in [1, 3, 16, 17, 33, 300] {
                let seed = (rows * channels) as u64;
                assert_fast_matches_reference(&Case::new(rows, channels, seed));
            }
        }
    }

    #[test]
    fn fast_matches_reference_on_random_shapes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(2024);
        for i in 0..30 {
            let rows = rng.gen_range(2..4000);
            let channels = rng.gen_range(1..80);
            assert_fast_matches_reference(&Case::new(rows, channels, 100 + i));
        }
    }

    /// specz-baseline's last batch norm (221 positions × 16 channels) at batch 32, large enough
    /// to run its chunks on the pool, and a dense one spanning three channel blocks.
    #[test]
    fn fast_is_bit_identical_for_one_and_two_threads() {
        for (rows, channels) in [(32 * 221, 16), (130, 513)] {
            let case = Case::new(rows, channels, 5);
            assert!(runs_in_parallel(&case.s));
            let in_pool = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
                pool.expect("thread pool").install(|| run_all(&case, true))
            };
            let (one, two) = (in_pool(1), in_pool(2));
            for ((name, a), b) in OUTPUT_NAMES.iter().zip(&one).zip(&two) {
                let same = a.iter().zip(b).all(|(u, v)| u.to_bits() == v.to_bits());
                assert!(
                    same,
                    "{name}: 1 and 2 threads differ ({rows} rows, {channels} channels)"
                );
            }
        }
    }
}
