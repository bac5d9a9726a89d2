//! Loss functions. Each one **writes** the gradient w.r.t. the network output into `grad` (it
//! starts the backward pass) and returns the loss averaged over the batch.
//!
//! - [`mse_loss`]: mean squared error over all elements (regression).
//! - [`softmax_cross_entropy`]: softmax fused with cross-entropy on hard class labels.
//! - [`soft_cross_entropy`]: the same with soft targets (a distribution per row).
//! - [`js_entropy_loss`]: Jensen–Shannon divergence plus prediction entropy (Vernardos et al.
//!   2020), the composite loss of the spectroscopic-redshift network.
//! - [`kl_divergence`]: Kullback–Leibler divergence `KL(Q‖P)`.
//!
//! [`softmax_rows`] is the same softmax alone, for predictions: the engine has this one softmax,
//! so a prediction's probabilities are bit for bit those a loss writes into `probs`.
//!
//! Classification losses take logits `[batch, classes]`, write the softmax into `probs` and use
//! the log-sum-exp form `ln p_k = (z_k − max z) − ln Σ_j e^{z_j − max z}`, so logits of ±10⁴
//! give finite losses and gradients. Probabilities whose logarithm is below
//! [`LOG_PROB_FLOOR`] are set to exactly 0 (avoiding denormals), and `0·ln 0 = 0`.
//!
//! Every loss has a scalar reference (`*_ref`) and a fast path: SIMD along the classes and rayon
//! over fixed blocks of rows. Each row is independent; the per-row losses are summed block by
//! block in row order, so the result does not depend on the number of threads.

use rayon::prelude::*;

use crate::parallel::{chunk_count, MAX_CHUNKS};
use crate::simd::{self, F32s, LANES};

/// Log-probabilities below this become probability 0. `e⁻⁸⁰ ≈ 1.8·10⁻³⁵` is a normal `f32`, so
/// every non-zero probability, and half of it (the mixture `M` of the JS loss), is normal; the
/// mass dropped is below `10⁻³²` of the row.
const LOG_PROB_FLOOR: f32 = -80.0;

/// `e^x`, or 0 where `x <` [`LOG_PROB_FLOOR`].
fn exp_above_floor(x: f32) -> f32 {
    if x < LOG_PROB_FLOOR {
        0.0
    } else {
        x.exp()
    }
}

/// The two numbers that define the log-softmax of a row: `ln p_k = (z_k − max) − ln_sum`, with
/// `ln_sum = ln Σ_j e^{z_j − max}` (the log-sum-exp, shifted by the row maximum).
#[derive(Debug, Clone, Copy)]
struct LogSumExp {
    max: f32,
    ln_sum: f32,
}

impl LogSumExp {
    /// `ln softmax(z)_k` for the logit `z_k` of this row.
    fn log_prob(&self, z: f32) -> f32 {
        (z - self.max) - self.ln_sum
    }
}

/// Number of rows of a `[batch, classes]` logits buffer; asserts the buffers agree.
fn batch_rows(what: &str, classes: usize, logits: &[f32], probs: &[f32], grad: &[f32]) -> usize {
    assert!(classes > 0, "{what}: classes must be positive");
    assert!(
        !logits.is_empty() && logits.len().is_multiple_of(classes),
        "{what}: logits length {} is not a positive multiple of classes {classes}",
        logits.len()
    );
    assert_eq!(probs.len(), logits.len(), "{what}: probs length");
    assert_eq!(grad.len(), logits.len(), "{what}: grad length");
    logits.len() / classes
}

/// Asserts that every label names one of the `classes` classes.
fn check_labels(what: &str, classes: usize, labels: &[u32]) {
    for (row, &label) in labels.iter().enumerate() {
        assert!(
            (label as usize) < classes,
            "{what}: label {label} of row {row} is not below classes {classes}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar references
// ---------------------------------------------------------------------------------------------

/// Mean squared error over all `n` elements: `L = (1/n) Σ (p − t)²`, `grad = 2(p − t)/n`.
pub fn mse_loss_ref(pred: &[f32], target: &[f32], grad: &mut [f32]) -> f32 {
    assert!(!pred.is_empty(), "mse_loss: empty prediction");
    assert_eq!(target.len(), pred.len(), "mse_loss: target length");
    assert_eq!(grad.len(), pred.len(), "mse_loss: grad length");
    let n = pred.len() as f32;
    let mut sum = 0.0;
    for i in 0..pred.len() {
        let diff = pred[i] - target[i];
        sum += diff * diff;
        grad[i] = 2.0 * diff / n;
    }
    sum / n
}

/// Softmax of one row into `probs`; returns its log-sum-exp.
fn softmax_row_ref(logits: &[f32], probs: &mut [f32]) -> LogSumExp {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&z| exp_above_floor(z - max)).sum();
    let lse = LogSumExp {
        max,
        ln_sum: sum.ln(),
    };
    for (p, &z) in probs.iter_mut().zip(logits) {
        *p = exp_above_floor(lse.log_prob(z));
    }
    lse
}

/// Softmax of each row of `classes` logits, scalar reference: `p_k = e^{ln p_k}` with
/// `ln p_k = (z_k − max z) − ln Σ_j e^{z_j − max z}`, 0 where `ln p_k <` [`LOG_PROB_FLOOR`].
pub fn softmax_rows_ref(classes: usize, logits: &[f32], probs: &mut [f32]) {
    assert_softmax_rows(classes, logits, probs);
    for (z, p) in logits
        .chunks_exact(classes)
        .zip(probs.chunks_exact_mut(classes))
    {
        softmax_row_ref(z, p);
    }
}

/// Asserts that `logits` and `probs` are the same whole number of rows of `classes`.
fn assert_softmax_rows(classes: usize, logits: &[f32], probs: &[f32]) {
    assert!(classes > 0, "softmax_rows: classes must be positive");
    assert!(
        logits.len().is_multiple_of(classes),
        "softmax_rows: logits length {} is not a multiple of classes {classes}",
        logits.len()
    );
    assert_eq!(probs.len(), logits.len(), "softmax_rows: probs length");
}

/// Softmax fused with cross-entropy on hard labels. `logits` and `probs` are `[batch, classes]`,
/// `labels` is `[batch]` (each below `classes`).
///
/// `p = softmax(z)`, `L = −(1/B) Σ_b ln p_b[label_b]`, `∂L/∂z = (p − onehot(label)) / B`.
pub fn softmax_cross_entropy_ref(
    classes: usize,
    logits: &[f32],
    labels: &[u32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    let batch = batch_rows("softmax_cross_entropy", classes, logits, probs, grad);
    assert_eq!(labels.len(), batch, "softmax_cross_entropy: labels length");
    check_labels("softmax_cross_entropy", classes, labels);
    let b = batch as f32;
    let mut total = 0.0;
    for (row, &label) in labels.iter().enumerate() {
        let start = row * classes;
        let z = &logits[start..start + classes];
        let p = &mut probs[start..start + classes];
        let g = &mut grad[start..start + classes];
        let lse = softmax_row_ref(z, p);
        let label = label as usize;
        total -= lse.log_prob(z[label]);
        for k in 0..classes {
            let onehot = if k == label { 1.0 } else { 0.0 };
            g[k] = (p[k] - onehot) / b;
        }
    }
    total / b
}

/// Cross-entropy with soft targets `q` (`[batch, classes]`, each row a distribution; rows need
/// not sum exactly to 1).
///
/// `L = −(1/B) Σ_b Σ_k q_k ln p_k`. With `ln p_k = z_k − LSE(z)`,
/// `∂L_row/∂z_j = −q_j + (Σ_k q_k) p_j`, so `∂L/∂z = (p·Σq − q) / B`.
pub fn soft_cross_entropy_ref(
    classes: usize,
    logits: &[f32],
    targets: &[f32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    let batch = batch_rows("soft_cross_entropy", classes, logits, probs, grad);
    assert_eq!(
        targets.len(),
        logits.len(),
        "soft_cross_entropy: targets length"
    );
    let b = batch as f32;
    let mut total = 0.0;
    for row in 0..batch {
        let start = row * classes;
        let z = &logits[start..start + classes];
        let q = &targets[start..start + classes];
        let p = &mut probs[start..start + classes];
        let lse = softmax_row_ref(z, p);
        let mut sum_q = 0.0;
        for k in 0..classes {
            total -= q[k] * lse.log_prob(z[k]);
            sum_q += q[k];
        }
        for k in 0..classes {
            grad[start + k] = (p[k] * sum_q - q[k]) / b;
        }
    }
    total / b
}

/// Kullback–Leibler divergence `KL(Q‖P) = Σ_k q_k ln(q_k / p_k)` averaged over the rows,
/// `P = softmax(logits)`, with `0·ln 0 = 0`.
///
/// `KL = Σ q ln q − Σ q ln p`: the first sum does not depend on the logits, so the gradient is
/// that of the soft cross-entropy, `∂L/∂z = (p·Σq − q) / B`.
pub fn kl_divergence_ref(
    classes: usize,
    logits: &[f32],
    targets: &[f32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    let batch = batch_rows("kl_divergence", classes, logits, probs, grad);
    assert_eq!(targets.len(), logits.len(), "kl_divergence: targets length");
    let b = batch as f32;
    let mut total = 0.0;
    for row in 0..batch {
        let start = row * classes;
        let z = &logits[start..start + classes];
        let q = &targets[start..start + classes];
        let p = &mut probs[start..start + classes];
        let lse = softmax_row_ref(z, p);
        let mut sum_q = 0.0;
        for k in 0..classes {
            if q[k] > 0.0 {
                total += q[k] * (q[k].ln() - lse.log_prob(z[k]));
            }
            sum_q += q[k];
        }
        for k in 0..classes {
            grad[start + k] = (p[k] * sum_q - q[k]) / b;
        }
    }
    total / b
}

/// The contribution of class `k` to the JS + entropy loss of a row, and `g_k = ∂L_row/∂P_k`,
/// given `p = P_k`, `q = Q_k`, `log_p = ln P_k` (from the log-softmax) and the weights.
///
/// Loss term: `λ1·½[Q ln(Q/M) + P ln(P/M)] − λ2·P ln P` with `M = (P + Q)/2`, each product 0
/// when its leading factor is 0. `g = λ1·½ ln(P/M) − λ2·(ln P + 1)`, set to 0 where `P = 0`:
/// it is only ever multiplied by `P` (see [`js_entropy_loss_ref`]).
fn js_entropy_term(p: f32, q: f32, log_p: f32, lambda1: f32, lambda2: f32) -> (f32, f32) {
    if p == 0.0 && q == 0.0 {
        return (0.0, 0.0);
    }
    let log_m = (0.5 * (p + q)).ln();
    let js_q = if q > 0.0 { q * (q.ln() - log_m) } else { 0.0 };
    if p == 0.0 {
        return (lambda1 * 0.5 * js_q, 0.0);
    }
    let js_p = p * (log_p - log_m);
    let entropy = -p * log_p;
    let loss = lambda1 * 0.5 * (js_q + js_p) + lambda2 * entropy;
    let g = lambda1 * 0.5 * (log_p - log_m) - lambda2 * (log_p + 1.0);
    (loss, g)
}

/// Jensen–Shannon divergence plus prediction entropy (Vernardos et al. 2020, MNRAS 499, 5641):
///
/// `L = (1/B) Σ_rows [λ1·JS(Q, P) + λ2·H(P)]`, `P = softmax(logits)`, `M = (P + Q)/2`,
/// `JS(Q, P) = ½ Σ Q ln(Q/M) + ½ Σ P ln(P/M)`, `H(P) = −Σ P ln P` (natural logs, `0·ln 0 = 0`).
///
/// Gradient. For one row, with `g_k = ∂L_row/∂P_k`:
/// - `∂JS/∂P_k = ½ ln(P_k/M_k) + ½ − ¼ (Q_k + P_k)/M_k = ½ ln(P_k/M_k)` (the last two terms
///   cancel because `Q_k + P_k = 2M_k`);
/// - `∂H/∂P_k = −(ln P_k + 1)`;
/// - the softmax Jacobian is `∂P_k/∂z_j = P_k (δ_kj − P_j)`, hence
///   `∂L_row/∂z_j = Σ_k g_k P_k (δ_kj − P_j) = P_j (g_j − Σ_k P_k g_k)`.
///
/// A class whose probability underflowed to `P_k = 0` has `∂L/∂z_k = 0` and adds nothing to
/// `Σ_k P_k g_k`, so its `g_k` (which holds `ln P_k`) is never formed; `ln P_k` comes from the
/// log-softmax, never from `ln(0)`. (The constant `−1` of `∂H/∂P` cancels too, since `Σ P = 1`.)
/// `targets` must be non-negative; rows need not be normalised.
pub fn js_entropy_loss_ref(
    classes: usize,
    lambda1: f32,
    lambda2: f32,
    logits: &[f32],
    targets: &[f32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    let batch = batch_rows("js_entropy_loss", classes, logits, probs, grad);
    assert_eq!(
        targets.len(),
        logits.len(),
        "js_entropy_loss: targets length"
    );
    let b = batch as f32;
    let mut total = 0.0;
    for row in 0..batch {
        let start = row * classes;
        let z = &logits[start..start + classes];
        let q = &targets[start..start + classes];
        let p = &mut probs[start..start + classes];
        let g = &mut grad[start..start + classes];
        let lse = softmax_row_ref(z, p);
        let mut p_dot_g = 0.0;
        for k in 0..classes {
            let (loss, g_k) = js_entropy_term(p[k], q[k], lse.log_prob(z[k]), lambda1, lambda2);
            total += loss;
            g[k] = g_k;
            p_dot_g += p[k] * g_k;
        }
        for k in 0..classes {
            g[k] = p[k] * (g[k] - p_dot_g) / b;
        }
    }
    total / b
}

// ---------------------------------------------------------------------------------------------
// Fast paths: SIMD along the classes, rayon over blocks of rows
// ---------------------------------------------------------------------------------------------

/// [`exp_above_floor`] lane by lane. The argument is clamped to the floor before `exp` so that
/// no lane computes a denormal; those lanes are then zeroed by the mask.
fn exp_above_floor_simd(x: F32s) -> F32s {
    let floor = simd::splat(LOG_PROB_FLOOR);
    x.simd_ge(floor) & x.max(floor).exp()
}

impl LogSumExp {
    /// [`LogSumExp::log_prob`] lane by lane.
    fn log_prob_simd(&self, z: F32s) -> F32s {
        (z - simd::splat(self.max)) - simd::splat(self.ln_sum)
    }
}

/// The largest logit of a row.
fn row_max(z: &[f32]) -> f32 {
    let body = simd::body_len(z.len());
    let mut acc = simd::splat(f32::NEG_INFINITY);
    for i in (0..body).step_by(LANES) {
        acc = acc.max(simd::load(&z[i..]));
    }
    let lanes_max = acc
        .as_array()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    z[body..].iter().copied().fold(lanes_max, f32::max)
}

/// The log-sum-exp of a row (two passes: the maximum, then the shifted sum of exponentials).
fn row_log_sum_exp(z: &[f32]) -> LogSumExp {
    let max = row_max(z);
    let shift = simd::splat(max);
    let body = simd::body_len(z.len());
    let mut acc = simd::splat(0.0);
    for i in (0..body).step_by(LANES) {
        acc += exp_above_floor_simd(simd::load(&z[i..]) - shift);
    }
    let sum = z[body..]
        .iter()
        .fold(acc.reduce_add(), |s, &x| s + exp_above_floor(x - max));
    LogSumExp {
        max,
        ln_sum: sum.ln(),
    }
}

/// Runs `row_loss(logits_row, aux_row, probs_row, grad_row)` on every row of a
/// `[batch, classes]` problem (`aux` holds `aux.len() / batch` items per row: a label or a
/// target row) and returns the sum of the row losses.
///
/// Rows are processed in parallel in blocks of `⌈batch / chunk_count(batch)⌉` rows, a split
/// fixed by the batch size. Each block sums its rows in order and the block sums are added in
/// block order, so the result is the same for any number of threads.
fn sum_rows_parallel<A: Sync>(
    classes: usize,
    logits: &[f32],
    aux: &[A],
    probs: &mut [f32],
    grad: &mut [f32],
    row_loss: impl Fn(&[f32], &[A], &mut [f32], &mut [f32]) -> f32 + Sync,
) -> f32 {
    let batch = logits.len() / classes;
    let aux_per_row = aux.len() / batch;
    let rows_per_block = batch.div_ceil(chunk_count(batch));
    let blocks = batch.div_ceil(rows_per_block);
    let mut block_sums = [0.0f32; MAX_CHUNKS];
    block_sums[..blocks]
        .par_iter_mut()
        .zip(logits.par_chunks(rows_per_block * classes))
        .zip(aux.par_chunks(rows_per_block * aux_per_row))
        .zip(probs.par_chunks_mut(rows_per_block * classes))
        .zip(grad.par_chunks_mut(rows_per_block * classes))
        .for_each(|((((block_sum, z), a), p), g)| {
            *block_sum = z
                .chunks_exact(classes)
                .zip(a.chunks_exact(aux_per_row))
                .zip(p.chunks_exact_mut(classes))
                .zip(g.chunks_exact_mut(classes))
                .map(|(((z, a), p), g)| row_loss(z, a, p, g))
                .sum();
        });
    block_sums[..blocks].iter().sum()
}

/// One row of [`softmax_rows`]: the probabilities exactly as the losses' rows compute them.
fn softmax_row(z: &[f32], p: &mut [f32]) {
    let lse = row_log_sum_exp(z);
    let body = simd::body_len(z.len());
    for i in (0..body).step_by(LANES) {
        let prob = exp_above_floor_simd(lse.log_prob_simd(simd::load(&z[i..])));
        simd::store(prob, &mut p[i..]);
    }
    for i in body..z.len() {
        p[i] = exp_above_floor(lse.log_prob(z[i]));
    }
}

/// Fast [`softmax_rows_ref`]: SIMD along the classes, rayon over the blocks of rows of
/// [`sum_rows_parallel`]. Rows are independent, so the result does not depend on the threads.
pub fn softmax_rows(classes: usize, logits: &[f32], probs: &mut [f32]) {
    assert_softmax_rows(classes, logits, probs);
    let batch = logits.len() / classes;
    if batch == 0 {
        return;
    }
    let rows_per_block = batch.div_ceil(chunk_count(batch));
    logits
        .par_chunks(rows_per_block * classes)
        .zip(probs.par_chunks_mut(rows_per_block * classes))
        .for_each(|(z, p)| {
            for (z, p) in z.chunks_exact(classes).zip(p.chunks_exact_mut(classes)) {
                softmax_row(z, p);
            }
        });
}

/// Fast [`mse_loss_ref`]: one SIMD pass, the squared errors summed in `LANES` partial sums.
pub fn mse_loss(pred: &[f32], target: &[f32], grad: &mut [f32]) -> f32 {
    assert!(!pred.is_empty(), "mse_loss: empty prediction");
    assert_eq!(target.len(), pred.len(), "mse_loss: target length");
    assert_eq!(grad.len(), pred.len(), "mse_loss: grad length");
    let n = pred.len() as f32;
    let scale = 2.0 / n;
    let body = simd::body_len(pred.len());
    let mut acc = simd::splat(0.0);
    for i in (0..body).step_by(LANES) {
        let diff = simd::load(&pred[i..]) - simd::load(&target[i..]);
        acc = diff.mul_add(diff, acc);
        simd::store(diff * simd::splat(scale), &mut grad[i..]);
    }
    let mut sum = acc.reduce_add();
    for i in body..pred.len() {
        let diff = pred[i] - target[i];
        sum = diff.mul_add(diff, sum);
        grad[i] = diff * scale;
    }
    sum / n
}

/// One row of [`softmax_cross_entropy`]: writes `p` and `g = (p − onehot)/B`, returns
/// `−ln p[label]`.
fn cross_entropy_row(z: &[f32], label: usize, p: &mut [f32], g: &mut [f32], inv_batch: f32) -> f32 {
    let lse = row_log_sum_exp(z);
    let body = simd::body_len(z.len());
    for i in (0..body).step_by(LANES) {
        let prob = exp_above_floor_simd(lse.log_prob_simd(simd::load(&z[i..])));
        simd::store(prob, &mut p[i..]);
        simd::store(prob * simd::splat(inv_batch), &mut g[i..]);
    }
    for i in body..z.len() {
        p[i] = exp_above_floor(lse.log_prob(z[i]));
        g[i] = p[i] * inv_batch;
    }
    g[label] -= inv_batch;
    -lse.log_prob(z[label])
}

/// Fast [`softmax_cross_entropy_ref`].
pub fn softmax_cross_entropy(
    classes: usize,
    logits: &[f32],
    labels: &[u32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    let batch = batch_rows("softmax_cross_entropy", classes, logits, probs, grad);
    assert_eq!(labels.len(), batch, "softmax_cross_entropy: labels length");
    check_labels("softmax_cross_entropy", classes, labels);
    let inv_batch = 1.0 / batch as f32;
    let total = sum_rows_parallel(classes, logits, labels, probs, grad, |z, label, p, g| {
        cross_entropy_row(z, label[0] as usize, p, g, inv_batch)
    });
    total * inv_batch
}

/// The per-class term `ℓ(q_k, ln p_k)` of a soft-target loss `L_row = Σ_k ℓ(q_k, ln p_k)` whose
/// gradient is `(p·Σq − q)/B`, in scalar and vector form.
trait SoftTargetTerm {
    fn scalar(q: f32, log_p: f32) -> f32;
    fn vector(q: F32s, log_p: F32s) -> F32s;
}

/// Cross-entropy: `ℓ = −q ln p`.
struct CrossEntropyTerm;

impl SoftTargetTerm for CrossEntropyTerm {
    fn scalar(q: f32, log_p: f32) -> f32 {
        -q * log_p
    }
    fn vector(q: F32s, log_p: F32s) -> F32s {
        -(q * log_p)
    }
}

/// Kullback–Leibler: `ℓ = q (ln q − ln p)`, 0 for targets below the smallest normal `f32`
/// (there `ln` of the SIMD path returns −∞; such a term is below 10⁻³⁶ anyway).
struct KlTerm;

impl SoftTargetTerm for KlTerm {
    fn scalar(q: f32, log_p: f32) -> f32 {
        if q >= f32::MIN_POSITIVE {
            q * (q.ln() - log_p)
        } else {
            0.0
        }
    }
    fn vector(q: F32s, log_p: F32s) -> F32s {
        q.simd_ge(simd::splat(f32::MIN_POSITIVE)) & (q * (q.ln() - log_p))
    }
}

/// One row of a soft-target loss: writes `p` and `g = (p·Σq − q)/B`, returns `Σ_k ℓ(q_k, ln p_k)`.
fn soft_target_row<T: SoftTargetTerm>(
    z: &[f32],
    q: &[f32],
    p: &mut [f32],
    g: &mut [f32],
    inv_batch: f32,
) -> f32 {
    let lse = row_log_sum_exp(z);
    let body = simd::body_len(z.len());
    let (mut loss_acc, mut q_acc) = (simd::splat(0.0), simd::splat(0.0));
    for i in (0..body).step_by(LANES) {
        let log_p = lse.log_prob_simd(simd::load(&z[i..]));
        let q_i = simd::load(&q[i..]);
        simd::store(exp_above_floor_simd(log_p), &mut p[i..]);
        loss_acc += T::vector(q_i, log_p);
        q_acc += q_i;
    }
    let (mut loss, mut sum_q) = (loss_acc.reduce_add(), q_acc.reduce_add());
    for i in body..z.len() {
        let log_p = lse.log_prob(z[i]);
        p[i] = exp_above_floor(log_p);
        loss += T::scalar(q[i], log_p);
        sum_q += q[i];
    }
    let (sum_q_v, inv_batch_v) = (simd::splat(sum_q), simd::splat(inv_batch));
    for i in (0..body).step_by(LANES) {
        let grad = (simd::load(&p[i..]) * sum_q_v - simd::load(&q[i..])) * inv_batch_v;
        simd::store(grad, &mut g[i..]);
    }
    for i in body..z.len() {
        g[i] = (p[i] * sum_q - q[i]) * inv_batch;
    }
    loss
}

/// A soft-target loss over the batch: `(1/B) Σ_rows Σ_k ℓ(q_k, ln p_k)`.
fn soft_target_loss<T: SoftTargetTerm>(
    what: &str,
    classes: usize,
    logits: &[f32],
    targets: &[f32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    let batch = batch_rows(what, classes, logits, probs, grad);
    assert_eq!(targets.len(), logits.len(), "{what}: targets length");
    let inv_batch = 1.0 / batch as f32;
    let total = sum_rows_parallel(classes, logits, targets, probs, grad, |z, q, p, g| {
        soft_target_row::<T>(z, q, p, g, inv_batch)
    });
    total * inv_batch
}

/// Fast [`soft_cross_entropy_ref`].
pub fn soft_cross_entropy(
    classes: usize,
    logits: &[f32],
    targets: &[f32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    soft_target_loss::<CrossEntropyTerm>(
        "soft_cross_entropy",
        classes,
        logits,
        targets,
        probs,
        grad,
    )
}

/// Fast [`kl_divergence_ref`]. Targets below the smallest normal `f32` count as 0 in `q ln q`.
pub fn kl_divergence(
    classes: usize,
    logits: &[f32],
    targets: &[f32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    soft_target_loss::<KlTerm>("kl_divergence", classes, logits, targets, probs, grad)
}

/// [`js_entropy_term`] lane by lane: `(loss term, g)`. Terms containing `ln M` are masked out
/// where their leading factor is 0 (`M` may be 0 there, giving `0·∞`); `ln P` comes from the
/// log-softmax and is always finite, so `−P ln P` needs no mask. `ln M = ln(P + Q) − ln 2`, so
/// that `M` is never formed as a denormal. Targets below the smallest normal `f32` count as 0 in `Q ln(Q/M)`.
fn js_entropy_term_simd(p: F32s, q: F32s, log_p: F32s, lambda1: f32, lambda2: f32) -> (F32s, F32s) {
    let (half_lambda1, lambda2) = (simd::splat(0.5 * lambda1), simd::splat(lambda2));
    let log_m = (p + q).ln() - simd::splat(std::f32::consts::LN_2);
    let q_positive = q.simd_ge(simd::splat(f32::MIN_POSITIVE));
    let p_positive = p.simd_gt(simd::splat(0.0));
    let js_q = q_positive & (q * (q.ln() - log_m));
    let js_p = p_positive & (p * (log_p - log_m));
    let entropy = -(p * log_p);
    let loss = half_lambda1 * (js_q + js_p) + lambda2 * entropy;
    let g = p_positive & (half_lambda1 * (log_p - log_m) - lambda2 * (log_p + simd::splat(1.0)));
    (loss, g)
}

/// One row of [`js_entropy_loss`]: writes `P` and `∂L/∂z = P (g − Σ P g)/B`, returns the row loss.
/// `g` first holds `g_k = ∂L_row/∂P_k`, then is overwritten with the gradient.
fn js_entropy_row(
    z: &[f32],
    q: &[f32],
    p: &mut [f32],
    g: &mut [f32],
    (lambda1, lambda2): (f32, f32),
    inv_batch: f32,
) -> f32 {
    let lse = row_log_sum_exp(z);
    let body = simd::body_len(z.len());
    let (mut loss_acc, mut p_dot_g_acc) = (simd::splat(0.0), simd::splat(0.0));
    for i in (0..body).step_by(LANES) {
        let log_p = lse.log_prob_simd(simd::load(&z[i..]));
        let prob = exp_above_floor_simd(log_p);
        let (loss, g_k) = js_entropy_term_simd(prob, simd::load(&q[i..]), log_p, lambda1, lambda2);
        simd::store(prob, &mut p[i..]);
        simd::store(g_k, &mut g[i..]);
        loss_acc += loss;
        p_dot_g_acc = prob.mul_add(g_k, p_dot_g_acc);
    }
    let (mut loss, mut p_dot_g) = (loss_acc.reduce_add(), p_dot_g_acc.reduce_add());
    for i in body..z.len() {
        let log_p = lse.log_prob(z[i]);
        p[i] = exp_above_floor(log_p);
        let (loss_k, g_k) = js_entropy_term(p[i], q[i], log_p, lambda1, lambda2);
        g[i] = g_k;
        loss += loss_k;
        p_dot_g = p[i].mul_add(g_k, p_dot_g);
    }
    let (p_dot_g_v, inv_batch_v) = (simd::splat(p_dot_g), simd::splat(inv_batch));
    for i in (0..body).step_by(LANES) {
        let grad = simd::load(&p[i..]) * (simd::load(&g[i..]) - p_dot_g_v) * inv_batch_v;
        simd::store(grad, &mut g[i..]);
    }
    for i in body..z.len() {
        g[i] = p[i] * (g[i] - p_dot_g) * inv_batch;
    }
    loss
}

/// Fast [`js_entropy_loss_ref`]. Targets below the smallest normal `f32` count as 0 in
/// `Q ln(Q/M)` (a difference below 10⁻³⁶).
pub fn js_entropy_loss(
    classes: usize,
    lambda1: f32,
    lambda2: f32,
    logits: &[f32],
    targets: &[f32],
    probs: &mut [f32],
    grad: &mut [f32],
) -> f32 {
    let batch = batch_rows("js_entropy_loss", classes, logits, probs, grad);
    assert_eq!(
        targets.len(),
        logits.len(),
        "js_entropy_loss: targets length"
    );
    let inv_batch = 1.0 / batch as f32;
    let total = sum_rows_parallel(classes, logits, targets, probs, grad, |z, q, p, g| {
        js_entropy_row(z, q, p, g, (lambda1, lambda2), inv_batch)
    });
    total * inv_batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_close, check_gradient, random_vec, GradCheck};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    type MseLoss = fn(&[f32], &[f32], &mut [f32]) -> f32;
    /// `(classes, logits, labels, probs, grad) -> L`.
    type HardLabelLoss = fn(usize, &[f32], &[u32], &mut [f32], &mut [f32]) -> f32;
    /// `(classes, logits, targets, probs, grad) -> L`.
    type SoftTargetLoss = fn(usize, &[f32], &[f32], &mut [f32], &mut [f32]) -> f32;
    /// `(classes, λ1, λ2, logits, targets, probs, grad) -> L`.
    type JsLoss = fn(usize, f32, f32, &[f32], &[f32], &mut [f32], &mut [f32]) -> f32;

    const MSE: [(&str, MseLoss); 2] = [("mse_loss_ref", mse_loss_ref), ("mse_loss", mse_loss)];
    const HARD: [(&str, HardLabelLoss); 2] = [
        ("softmax_cross_entropy_ref", softmax_cross_entropy_ref),
        ("softmax_cross_entropy", softmax_cross_entropy),
    ];
    const JS: [(&str, JsLoss); 2] = [
        ("js_entropy_loss_ref", js_entropy_loss_ref),
        ("js_entropy_loss", js_entropy_loss),
    ];

    /// The λ of the updated script of the spectroscopic seed.
    const LAMBDA1: f32 = 0.85;
    const LAMBDA2: f32 = 0.15;

    fn js_ref(c: usize, z: &[f32], q: &[f32], p: &mut [f32], g: &mut [f32]) -> f32 {
        js_entropy_loss_ref(c, LAMBDA1, LAMBDA2, z, q, p, g)
    }

    fn js_fast(c: usize, z: &[f32], q: &[f32], p: &mut [f32], g: &mut [f32]) -> f32 {
        js_entropy_loss(c, LAMBDA1, LAMBDA2, z, q, p, g)
    }

    /// The soft-target losses: `(name, reference, fast)`.
    const SOFT: [(&str, SoftTargetLoss, SoftTargetLoss); 3] = [
        (
            "soft_cross_entropy",
            soft_cross_entropy_ref,
            soft_cross_entropy,
        ),
        ("kl_divergence", kl_divergence_ref, kl_divergence),
        ("js_entropy_loss", js_ref, js_fast),
    ];

    /// Every soft-target implementation, reference and fast, by name.
    fn soft_impls() -> Vec<(String, SoftTargetLoss)> {
        SOFT.iter()
            .flat_map(|&(name, r, f)| [(format!("{name}_ref"), r), (name.to_string(), f)])
            .collect()
    }

    /// Runs a soft-target loss with fresh output buffers: `(loss, probs, grad)`.
    fn eval_soft(
        loss: SoftTargetLoss,
        classes: usize,
        z: &[f32],
        q: &[f32],
    ) -> (f32, Vec<f32>, Vec<f32>) {
        let mut p = vec![f32::NAN; z.len()];
        let mut g = vec![f32::NAN; z.len()];
        let l = loss(classes, z, q, &mut p, &mut g);
        (l, p, g)
    }

    /// Runs a JS + entropy loss with weights `λ` and fresh output buffers.
    fn eval_js(
        loss: JsLoss,
        (lambda1, lambda2): (f32, f32),
        classes: usize,
        z: &[f32],
        q: &[f32],
    ) -> (f32, Vec<f32>, Vec<f32>) {
        let mut p = vec![f32::NAN; z.len()];
        let mut g = vec![f32::NAN; z.len()];
        let l = loss(classes, lambda1, lambda2, z, q, &mut p, &mut g);
        (l, p, g)
    }

    /// Runs a hard-label loss with fresh output buffers: `(loss, probs, grad)`.
    fn eval_hard(
        loss: HardLabelLoss,
        classes: usize,
        z: &[f32],
        labels: &[u32],
    ) -> (f32, Vec<f32>, Vec<f32>) {
        let mut p = vec![f32::NAN; z.len()];
        let mut g = vec![f32::NAN; z.len()];
        let l = loss(classes, z, labels, &mut p, &mut g);
        (l, p, g)
    }

    /// Seeded random target rows: positive weights, some exact zeros, rows normalised to 1
    /// except every third row (sum 0.5–2).
    fn random_targets(seed: u64, batch: usize, classes: usize) -> Vec<f32> {
        let raw = random_vec(seed, batch * classes, 1.0);
        let mut q: Vec<f32> = raw
            .iter()
            .map(|&r| if r < -0.6 { 0.0 } else { r + 1.0 })
            .collect();
        for (row, chunk) in q.chunks_exact_mut(classes).enumerate() {
            let sum: f32 = chunk.iter().sum();
            if sum == 0.0 {
                chunk[row % classes] = 1.0;
                continue;
            }
            let target_sum = if row % 3 == 2 {
                0.5 + (row % 4) as f32 * 0.5
            } else {
                1.0
            };
            chunk.iter_mut().for_each(|v| *v *= target_sum / sum);
        }
        q
    }

    fn random_labels(seed: u64, batch: usize, classes: usize) -> Vec<u32> {
        random_vec(seed, batch, 1.0)
            .iter()
            .map(|&r| (((r + 1.0) * 0.5 * classes as f32) as usize).min(classes - 1) as u32)
            .collect()
    }

    fn close(got: f32, want: f64, tol: f64) -> bool {
        (got as f64 - want).abs() <= tol * (1.0 + want.abs())
    }

    #[test]
    fn mse_of_a_three_vector() {
        for (name, mse) in MSE {
            let mut g = [0.0; 3];
            let l = mse(&[1.0, 2.0, 3.0], &[0.0, 2.0, 5.0], &mut g);
            assert!(close(l, 5.0 / 3.0, 1e-7), "{name}: loss {l}");
            assert_close(name, &g, &[2.0 / 3.0, 0.0, -4.0 / 3.0], 1e-6, 0.0);
        }
    }

    #[test]
    fn cross_entropy_of_logits_0_ln3() {
        for (name, ce) in HARD {
            let z = [0.0, 3f32.ln()];
            let (l, p, g) = eval_hard(ce, 2, &z, &[1]);
            assert_close(name, &p, &[0.25, 0.75], 1e-6, 0.0);
            assert!(close(l, -(0.75f64.ln()), 1e-6), "{name}: loss {l}");
            assert_close(name, &g, &[0.25, -0.25], 1e-6, 0.0);
            // Two rows, labels 0 and 1: L = (ln 4 − ln 0.75)/2, gradients halved.
            let z2 = [0.0, 3f32.ln(), 0.0, 3f32.ln()];
            let (l, _, g) = eval_hard(ce, 2, &z2, &[0, 1]);
            assert!(
                close(l, (4f64.ln() - 0.75f64.ln()) / 2.0, 1e-6),
                "{name}: loss {l}"
            );
            assert_close(name, &g, &[-0.375, 0.375, 0.125, -0.125], 1e-6, 0.0);
        }
    }

    #[test]
    fn soft_cross_entropy_of_logits_0_ln3() {
        let z = [0.0, 3f32.ln()];
        let want = -(0.5 * 0.25f64.ln() + 0.5 * 0.75f64.ln());
        for (name, ce) in [
            ("ref", soft_cross_entropy_ref as SoftTargetLoss),
            ("fast", soft_cross_entropy),
        ] {
            let (l, p, g) = eval_soft(ce, 2, &z, &[0.5, 0.5]);
            assert_close(name, &p, &[0.25, 0.75], 1e-6, 0.0);
            assert!(close(l, want, 1e-6), "{name}: loss {l}");
            assert_close(name, &g, &[-0.25, 0.25], 1e-6, 0.0);
            // An unnormalised row (Σq = 2): L doubles, grad = 2p − q.
            let (l, _, g) = eval_soft(ce, 2, &z, &[1.0, 1.0]);
            assert!(close(l, 2.0 * want, 1e-6), "{name}: loss {l}");
            assert_close(name, &g, &[-0.5, 0.5], 1e-6, 0.0);
        }
    }

    #[test]
    fn kl_of_identical_distributions_is_zero() {
        let z = [0.3, -1.2, 2.0, 0.0, 0.7];
        let mut q = vec![0.0; 5];
        softmax_row_ref(&z, &mut q);
        for (name, kl) in [
            ("ref", kl_divergence_ref as SoftTargetLoss),
            ("fast", kl_divergence),
        ] {
            let (l, _, g) = eval_soft(kl, 5, &z, &q);
            assert!(l.abs() <= 1e-6, "{name}: KL(P‖P) = {l}");
            assert_close(name, &g, &[0.0; 5], 0.0, 1e-6);
            // KL of [0.5, 0.5] against logits [0, ln 3]: ½ ln(0.5/0.25) + ½ ln(0.5/0.75).
            let (l, _, _) = eval_soft(kl, 2, &[0.0, 3f32.ln()], &[0.5, 0.5]);
            let want = 0.5 * 2f64.ln() + 0.5 * (2.0f64 / 3.0).ln();
            assert!(close(l, want, 1e-6), "{name}: loss {l}");
        }
    }

    #[test]
    fn js_of_identical_distributions_is_zero() {
        // 19 classes: whole vectors and a tail on either SIMD width.
        let z: Vec<f32> = (0..19).map(|k| ((k * 7) % 11) as f32 * 0.4 - 2.0).collect();
        let mut q = vec![0.0; 19];
        softmax_row_ref(&z, &mut q);
        for (name, js) in JS {
            let (l, _, g) = eval_js(js, (1.0, 0.0), 19, &z, &q);
            assert!(l.abs() <= 1e-6, "{name}: JS(P, P) = {l}");
            assert_close(name, &g, &[0.0; 19], 0.0, 1e-6);
        }
    }

    #[test]
    fn js_of_disjoint_one_hots_is_ln2() {
        // P = [1, 0, …] (the other probabilities underflow), Q = [0, 1, 0, …].
        for classes in [2usize, 19] {
            let mut z = vec![-1e4; classes];
            z[0] = 1e4;
            let mut q = vec![0.0; classes];
            q[1] = 1.0;
            for (name, js) in JS {
                let (l, p, g) = eval_js(js, (1.0, 0.0), classes, &z, &q);
                assert_eq!(p[0], 1.0, "{name}");
                assert!(p[1..].iter().all(|&v| v == 0.0), "{name}");
                assert!(close(l, 2f64.ln(), 1e-7), "{name}: loss {l}");
                assert!(g.iter().all(|v| v.is_finite()), "{name}");
            }
        }
    }

    #[test]
    fn entropy_of_uniform_prediction_is_ln_k() {
        for k in [1usize, 2, 5, 17, 80] {
            let z = vec![0.25; k];
            let q = vec![1.0 / k as f32; k];
            for (name, js) in JS {
                let (l, _, g) = eval_js(js, (0.0, 1.0), k, &z, &q);
                assert!(close(l, (k as f64).ln(), 1e-6), "{name} K = {k}: loss {l}");
                // The uniform distribution maximises the entropy: zero gradient.
                assert_close(name, &g, &vec![0.0; k], 0.0, 1e-6);
            }
        }
    }

    #[test]
    fn js_entropy_of_logits_0_ln3_against_one_hot() {
        // P = [1/4, 3/4], Q = [1, 0], M = [5/8, 3/8].
        let (p0, p1) = (0.25f64, 0.75f64);
        let (m0, m1) = (0.625f64, 0.375f64);
        let (l1, l2) = (LAMBDA1 as f64, LAMBDA2 as f64);
        let js = 0.5 * (1.0 / m0).ln() + 0.5 * (p0 * (p0 / m0).ln() + p1 * (p1 / m1).ln());
        let h = -(p0 * p0.ln() + p1 * p1.ln());
        let want = l1 * js + l2 * h;
        // g_k = λ1·½ ln(P_k/M_k) − λ2 (ln P_k + 1) and ∂L/∂z_j = P_j (g_j − Σ P g).
        let g0 = l1 * 0.5 * (p0 / m0).ln() - l2 * (p0.ln() + 1.0);
        let g1 = l1 * 0.5 * (p1 / m1).ln() - l2 * (p1.ln() + 1.0);
        let mean = p0 * g0 + p1 * g1;
        let want_grad = [(p0 * (g0 - mean)) as f32, (p1 * (g1 - mean)) as f32];
        for (name, js) in JS {
            let (l, _, g) = eval_js(js, (LAMBDA1, LAMBDA2), 2, &[0.0, 3f32.ln()], &[1.0, 0.0]);
            assert!(close(l, want, 1e-6), "{name}: loss {l}, want {want}");
            assert_close(name, &g, &want_grad, 1e-5, 1e-7);
        }
    }

    /// The loss is an `f32` sum (rounding noise ≈ 3·10⁻⁷ on losses of a few units), so the step
    /// is larger than the default (the losses are smooth: truncation error O(eps²)) and
    /// gradients below 10⁻² compare absolutely (to 10⁻⁴) rather than relatively.
    fn gradcheck_settings() -> GradCheck {
        GradCheck {
            eps: 1e-2,
            rtol: 1e-2,
            floor: 1e-2,
            max_probes: 0,
        }
    }

    /// Finite differences of the loss itself: the loss is the scalar its gradient belongs to.
    #[test]
    fn gradients_match_finite_differences() {
        for (classes, batch) in [(1, 2), (2, 3), (3, 1), (7, 4), (17, 2), (40, 1)] {
            let seed = (classes * 100 + batch) as u64;
            let z0 = random_vec(seed, batch * classes, 3.0);
            let labels = random_labels(seed + 2, batch, classes);
            for (name, ce) in HARD {
                let mut z = z0.clone();
                let (_, _, grad) = eval_hard(ce, classes, &z, &labels);
                let f = |z: &[f32]| eval_hard(ce, classes, z, &labels).0 as f64;
                check_gradient(name, &mut z, &grad, f, gradcheck_settings());
            }
            let q = random_targets(seed + 1, batch, classes);
            for (name, loss) in soft_impls() {
                let mut z = z0.clone();
                let (_, _, grad) = eval_soft(loss, classes, &z, &q);
                let f = |z: &[f32]| eval_soft(loss, classes, z, &q).0 as f64;
                check_gradient(&name, &mut z, &grad, f, gradcheck_settings());
            }
            let target = random_vec(seed + 4, batch * classes, 2.0);
            for (name, mse) in MSE {
                let mut pred = random_vec(seed + 3, batch * classes, 2.0);
                let mut grad = vec![0.0; pred.len()];
                mse(&pred, &target, &mut grad);
                let f = |x: &[f32]| mse(x, &target, &mut vec![0.0; x.len()]) as f64;
                check_gradient(name, &mut pred, &grad, f, gradcheck_settings());
            }
        }
    }

    /// Logits of ±1e4 in three patterns: mixed signs, a row of equal huge logits, and a row of
    /// huge negative logits a few units apart.
    fn extreme_logits(classes: usize, batch: usize) -> Vec<f32> {
        (0..batch * classes)
            .map(|i| match (i / classes) % 3 {
                0 => 1e4 * if (i * 7919) % 3 == 0 { 1.0 } else { -1.0 },
                1 => 1e4,
                _ => -1e4 + (i % 5) as f32,
            })
            .collect()
    }

    /// The fast path's exponential is `wide`'s vector `exp` (a degree-5 polynomial after range
    /// reduction by ln 2, from fdlibm/Cephes): relative error below 2·10⁻⁷ on [−87, 88].
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
        // Below the floor: exactly 0, also for hugely negative inputs.
        for v in [LOG_PROB_FLOOR - 0.01, -1e4, f32::NEG_INFINITY] {
            assert_eq!(exp_above_floor_simd(simd::splat(v)).as_array()[0], 0.0);
            assert_eq!(exp_above_floor(v), 0.0);
        }
    }

    /// softmax_rows: the reference by hand (logits 0, ln 3: probabilities 1/4, 3/4), the fast
    /// path against the reference, and the fast path bit for bit against the probabilities
    /// every loss writes, so predictions and training share one softmax.
    #[test]
    fn softmax_rows_is_the_losses_softmax() {
        let mut p = [0.0; 2];
        softmax_rows_ref(2, &[0.0, 3f32.ln()], &mut p);
        assert_close("softmax of (0, ln 3)", &p, &[0.25, 0.75], 1e-6, 0.0);
        for classes in [1usize, 2, 3, 16, 17, 80, 800] {
            for batch in [1usize, 5, 33] {
                let seed = (classes * 31 + batch) as u64;
                let z = random_vec(seed, batch * classes, 40.0);
                let (mut fast, mut reference) = (vec![f32::NAN; z.len()], vec![0.0; z.len()]);
                softmax_rows(classes, &z, &mut fast);
                softmax_rows_ref(classes, &z, &mut reference);
                let what = format!("softmax_rows K={classes} B={batch}");
                assert_close(&what, &fast, &reference, 1e-5, 1e-7);
                assert!(fast.iter().all(|&v| v == 0.0 || v.is_normal()), "{what}");
                let labels = random_labels(seed, batch, classes);
                let q = random_targets(seed, batch, classes);
                let mut written = vec![eval_hard(softmax_cross_entropy, classes, &z, &labels).1];
                for (_, _, loss) in SOFT {
                    written.push(eval_soft(loss, classes, &z, &q).1);
                }
                for probs in written {
                    assert!(
                        probs
                            .iter()
                            .zip(&fast)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{what}: a loss's probabilities differ from softmax_rows"
                    );
                }
            }
        }
        let mut extreme = [f32::NAN; 3];
        softmax_rows(3, &[1e4, -1e4, 0.0], &mut extreme);
        assert_eq!(extreme, [1.0, 0.0, 0.0]);
    }

    #[test]
    fn extreme_logits_stay_finite() {
        for classes in [1usize, 2, 3, 17, 80, 800] {
            let batch = 6;
            let z = extreme_logits(classes, batch);
            let q = random_targets(11, batch, classes);
            let labels = random_labels(12, batch, classes);
            let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
            for (name, ce) in HARD {
                let (l, p, g) = eval_hard(ce, classes, &z, &labels);
                assert!(
                    l.is_finite() && finite(&p) && finite(&g),
                    "{name} K={classes}: {l}"
                );
            }
            for (name, loss) in soft_impls() {
                let (l, p, g) = eval_soft(loss, classes, &z, &q);
                assert!(
                    l.is_finite() && finite(&p) && finite(&g),
                    "{name} K={classes}: {l}"
                );
            }
            for (name, mse) in MSE {
                let mut g = vec![0.0; z.len()];
                let l = mse(&z, &q, &mut g);
                assert!(l.is_finite() && finite(&g), "{name}: {l}");
            }
        }
    }

    /// Loss within `1e-5` relative; probabilities and gradients element by element (absolute
    /// floors cover probabilities at the underflow floor, where one path may round to 0).
    fn assert_fast_matches(
        what: &str,
        fast: (f32, &[f32], &[f32]),
        reference: (f32, &[f32], &[f32]),
    ) {
        let (lf, pf, gf) = fast;
        let (lr, pr, gr) = reference;
        assert!(
            close(lf, lr as f64, 1e-5),
            "{what}: loss {lf} vs reference {lr}"
        );
        assert_close(&format!("{what} probs"), pf, pr, 1e-5, 1e-7);
        assert_close(&format!("{what} grad"), gf, gr, 1e-4, 1e-7);
    }

    /// Compares every fast loss with its reference on one `[batch, classes]` problem.
    fn check_fast_against_ref(classes: usize, batch: usize, scale: f32, seed: u64) {
        let z = random_vec(seed, batch * classes, scale);
        let labels = random_labels(seed + 1, batch, classes);
        let q = random_targets(seed + 2, batch, classes);
        let what = |name: &str| format!("{name} K={classes} B={batch} scale {scale}");
        let (r, f) = (
            eval_hard(HARD[0].1, classes, &z, &labels),
            eval_hard(HARD[1].1, classes, &z, &labels),
        );
        assert_fast_matches(
            &what("softmax_cross_entropy"),
            (f.0, &f.1, &f.2),
            (r.0, &r.1, &r.2),
        );
        for (name, reference, fast) in SOFT {
            let (r, f) = (
                eval_soft(reference, classes, &z, &q),
                eval_soft(fast, classes, &z, &q),
            );
            assert_fast_matches(&what(name), (f.0, &f.1, &f.2), (r.0, &r.1, &r.2));
        }
        let mut gr = vec![0.0; z.len()];
        let mut gf = vec![0.0; z.len()];
        let (lr, lf) = (mse_loss_ref(&z, &q, &mut gr), mse_loss(&z, &q, &mut gf));
        assert!(close(lf, lr as f64, 1e-5), "{}: {lf} vs {lr}", what("mse"));
        assert_close(&what("mse grad"), &gf, &gr, 1e-6, 0.0);
    }

    #[test]
    fn fast_matches_reference_on_odd_sizes() {
        for classes in [1usize, 2, 3, 7, 8, 15, 16, 17, 33, 80, 800] {
            for batch in [1usize, 5, 33] {
                // Scale 50 pushes some probabilities below the underflow floor.
                for scale in [3.0, 50.0] {
                    check_fast_against_ref(classes, batch, scale, (classes * 1000 + batch) as u64);
                }
            }
        }
    }

    #[test]
    fn fast_matches_reference_on_random_shapes() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2020);
        for case in 0..40 {
            let classes = rng.gen_range(1..=120);
            let batch = rng.gen_range(1..=40);
            let scale = rng.gen_range(0.1..20.0);
            check_fast_against_ref(classes, batch, scale, 5000 + case);
        }
    }

    /// All outputs of every fast loss, as bits, run inside a pool of `threads` threads.
    fn fast_outputs_in_pool(threads: usize, classes: usize, batch: usize) -> Vec<u32> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        let z = random_vec(77, batch * classes, 4.0);
        let labels = random_labels(78, batch, classes);
        let q = random_targets(79, batch, classes);
        pool.install(|| {
            let mut bits = Vec::new();
            let mut push = |(l, p, g): (f32, Vec<f32>, Vec<f32>)| {
                bits.push(l.to_bits());
                bits.extend(p.iter().chain(&g).map(|v| v.to_bits()));
            };
            push(eval_hard(softmax_cross_entropy, classes, &z, &labels));
            for (_, _, fast) in SOFT {
                push(eval_soft(fast, classes, &z, &q));
            }
            bits
        })
    }

    #[test]
    fn one_and_two_threads_give_identical_bits() {
        for (classes, batch) in [(80, 37), (800, 33), (3, 100)] {
            assert_eq!(
                fast_outputs_in_pool(1, classes, batch),
                fast_outputs_in_pool(2, classes, batch),
                "K={classes} B={batch}"
            );
        }
    }
}
