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
//! Classification losses take logits `[batch, classes]`, write the softmax into `probs` and use
//! the log-sum-exp form `ln p_k = (z_k − max z) − ln Σ_j e^{z_j − max z}`, so logits of ±10⁴
//! give finite losses and gradients. Probabilities whose logarithm is below
//! [`LOG_PROB_FLOOR`] are set to exactly 0 (avoiding denormals), and `0·ln 0 = 0`.
//!
//! Every loss has a scalar reference (`*_ref`) and a fast path: SIMD along the classes and rayon
//! over fixed blocks of rows. Each row is independent; the per-row losses are summed block by
//! block in row order, so the result does not depend on the number of threads.

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
        !logits.is_empty() && logits.len() % classes == 0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_close, check_gradient, random_vec, GradCheck};

    /// A classification loss with soft targets: `(classes, logits, targets, probs, grad) -> L`.
    type SoftTargetLoss = dyn Fn(usize, &[f32], &[f32], &mut [f32], &mut [f32]) -> f32 + Sync;

    const LAMBDA1: f32 = 0.85;
    const LAMBDA2: f32 = 0.15;

    fn js_ref(c: usize, z: &[f32], q: &[f32], p: &mut [f32], g: &mut [f32]) -> f32 {
        js_entropy_loss_ref(c, LAMBDA1, LAMBDA2, z, q, p, g)
    }

    /// The soft-target losses under test, by name: references only.
    fn soft_target_refs() -> Vec<(&'static str, Box<SoftTargetLoss>)> {
        vec![
            ("soft_cross_entropy_ref", Box::new(soft_cross_entropy_ref)),
            ("kl_divergence_ref", Box::new(kl_divergence_ref)),
            ("js_entropy_loss_ref", Box::new(js_ref)),
        ]
    }

    /// Runs a soft-target loss with fresh output buffers: `(loss, probs, grad)`.
    fn eval_soft(
        loss: &SoftTargetLoss,
        classes: usize,
        z: &[f32],
        q: &[f32],
    ) -> (f32, Vec<f32>, Vec<f32>) {
        let mut p = vec![f32::NAN; z.len()];
        let mut g = vec![f32::NAN; z.len()];
        let l = loss(classes, z, q, &mut p, &mut g);
        (l, p, g)
    }

    /// Runs a hard-label loss with fresh output buffers: `(loss, probs, grad)`.
    fn eval_hard(
        loss: fn(usize, &[f32], &[u32], &mut [f32], &mut [f32]) -> f32,
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
        let mut g = [0.0; 3];
        let l = mse_loss_ref(&[1.0, 2.0, 3.0], &[0.0, 2.0, 5.0], &mut g);
        assert!(close(l, 5.0 / 3.0, 1e-7), "loss {l}");
        assert_close("mse grad", &g, &[2.0 / 3.0, 0.0, -4.0 / 3.0], 1e-6, 0.0);
    }

    #[test]
    fn cross_entropy_of_logits_0_ln3() {
        let z = [0.0, 3f32.ln()];
        let (l, p, g) = eval_hard(softmax_cross_entropy_ref, 2, &z, &[1]);
        assert_close("probs", &p, &[0.25, 0.75], 1e-6, 0.0);
        assert!(close(l, -(0.75f64.ln()), 1e-6), "loss {l}");
        assert_close("grad", &g, &[0.25, -0.25], 1e-6, 0.0);
        // Two rows, labels 0 and 1: L = (ln 4 − ln 0.75)/2, grad halved.
        let z2 = [0.0, 3f32.ln(), 0.0, 3f32.ln()];
        let (l, _, g) = eval_hard(softmax_cross_entropy_ref, 2, &z2, &[0, 1]);
        assert!(close(l, (4f64.ln() - 0.75f64.ln()) / 2.0, 1e-6), "loss {l}");
        assert_close("grad", &g, &[-0.375, 0.375, 0.125, -0.125], 1e-6, 0.0);
    }

    #[test]
    fn soft_cross_entropy_of_logits_0_ln3() {
        let z = [0.0, 3f32.ln()];
        let (l, p, g) = eval_soft(&soft_cross_entropy_ref, 2, &z, &[0.5, 0.5]);
        assert_close("probs", &p, &[0.25, 0.75], 1e-6, 0.0);
        let want = -(0.5 * 0.25f64.ln() + 0.5 * 0.75f64.ln());
        assert!(close(l, want, 1e-6), "loss {l}");
        assert_close("grad", &g, &[-0.25, 0.25], 1e-6, 0.0);
        // An unnormalised row (Σq = 2): grad = 2p − q.
        let (l, _, g) = eval_soft(&soft_cross_entropy_ref, 2, &z, &[1.0, 1.0]);
        assert!(close(l, 2.0 * want, 1e-6), "loss {l}");
        assert_close("grad", &g, &[-0.5, 0.5], 1e-6, 0.0);
    }

    #[test]
    fn kl_of_identical_distributions_is_zero() {
        let z = [0.3, -1.2, 2.0, 0.0, 0.7];
        let mut q = vec![0.0; 5];
        softmax_row_ref(&z, &mut q);
        let (l, _, g) = eval_soft(&kl_divergence_ref, 5, &z, &q);
        assert!(l.abs() <= 1e-6, "KL(P‖P) = {l}");
        assert_close("grad", &g, &[0.0; 5], 0.0, 1e-6);
        // KL of [0.5, 0.5] against logits [0, ln 3]: ½ ln(0.5/0.25) + ½ ln(0.5/0.75).
        let (l, _, _) = eval_soft(&kl_divergence_ref, 2, &[0.0, 3f32.ln()], &[0.5, 0.5]);
        let want = 0.5 * 2f64.ln() + 0.5 * (2.0f64 / 3.0).ln();
        assert!(close(l, want, 1e-6), "loss {l}");
    }

    #[test]
    fn js_of_identical_distributions_is_zero() {
        let z = [0.3, -1.2, 2.0, 0.0, 0.7, 5.0, -3.0];
        let mut q = vec![0.0; 7];
        softmax_row_ref(&z, &mut q);
        let js_only = |c: usize, z: &[f32], q: &[f32], p: &mut [f32], g: &mut [f32]| {
            js_entropy_loss_ref(c, 1.0, 0.0, z, q, p, g)
        };
        let (l, _, g) = eval_soft(&js_only, 7, &z, &q);
        assert!(l.abs() <= 1e-6, "JS(P, P) = {l}");
        assert_close("grad", &g, &[0.0; 7], 0.0, 1e-6);
    }

    #[test]
    fn js_of_disjoint_one_hots_is_ln2() {
        // P = [1, 0] (the second probability underflows), Q = [0, 1].
        let z = [1e4, -1e4];
        let js_only = |c: usize, z: &[f32], q: &[f32], p: &mut [f32], g: &mut [f32]| {
            js_entropy_loss_ref(c, 1.0, 0.0, z, q, p, g)
        };
        let (l, p, g) = eval_soft(&js_only, 2, &z, &[0.0, 1.0]);
        assert_eq!(p, [1.0, 0.0]);
        assert!(close(l, 2f64.ln(), 1e-7), "loss {l}");
        assert!(g.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn entropy_of_uniform_prediction_is_ln_k() {
        for k in [1usize, 2, 5, 80] {
            let z = vec![0.25; k];
            let q = vec![1.0 / k as f32; k];
            let entropy_only = |c: usize, z: &[f32], q: &[f32], p: &mut [f32], g: &mut [f32]| {
                js_entropy_loss_ref(c, 0.0, 1.0, z, q, p, g)
            };
            let (l, _, g) = eval_soft(&entropy_only, k, &z, &q);
            assert!(close(l, (k as f64).ln(), 1e-6), "K = {k}: loss {l}");
            // The uniform distribution maximises the entropy: zero gradient.
            assert_close("grad", &g, &vec![0.0; k], 0.0, 1e-6);
        }
    }

    #[test]
    fn js_entropy_of_logits_0_ln3_against_one_hot() {
        // P = [1/4, 3/4], Q = [1, 0], M = [5/8, 3/8].
        let (p0, p1) = (0.25f64, 0.75f64);
        let (m0, m1) = (0.625f64, 0.375f64);
        let js = 0.5 * (1.0 / m0).ln() + 0.5 * (p0 * (p0 / m0).ln() + p1 * (p1 / m1).ln());
        let h = -(p0 * p0.ln() + p1 * p1.ln());
        let want = LAMBDA1 as f64 * js + LAMBDA2 as f64 * h;
        // g_k and ∂L/∂z_j = P_j (g_j − Σ P g).
        let g0 = LAMBDA1 as f64 * 0.5 * (p0 / m0).ln() - LAMBDA2 as f64 * (p0.ln() + 1.0);
        let g1 = LAMBDA1 as f64 * 0.5 * (p1 / m1).ln() - LAMBDA2 as f64 * (p1.ln() + 1.0);
        let mean = p0 * g0 + p1 * g1;
        let want_grad = [(p0 * (g0 - mean)) as f32, (p1 * (g1 - mean)) as f32];
        let (l, _, g) = eval_soft(&js_ref, 2, &[0.0, 3f32.ln()], &[1.0, 0.0]);
        assert!(close(l, want, 1e-6), "loss {l}, want {want}");
        assert_close("grad", &g, &want_grad, 1e-5, 1e-7);
    }

    /// Finite differences of the loss itself (the loss is the scalar the gradient belongs to).
    fn gradcheck_soft(name: &str, loss: &SoftTargetLoss, classes: usize, batch: usize, seed: u64) {
        let mut z = random_vec(seed, batch * classes, 3.0);
        let q = random_targets(seed + 1, batch, classes);
        let (_, _, grad) = eval_soft(loss, classes, &z, &q);
        let f = |z: &[f32]| eval_soft(loss, classes, z, &q).0 as f64;
        check_gradient(name, &mut z, &grad, f, gradcheck_settings());
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

    #[test]
    fn gradients_match_finite_differences() {
        for (classes, batch) in [(1, 2), (2, 3), (3, 1), (7, 4), (17, 2)] {
            let seed = (classes * 100 + batch) as u64;
            let mut z = random_vec(seed, batch * classes, 3.0);
            let labels = random_labels(seed + 2, batch, classes);
            let (_, _, grad) = eval_hard(softmax_cross_entropy_ref, classes, &z, &labels);
            let f = |z: &[f32]| eval_hard(softmax_cross_entropy_ref, classes, z, &labels).0 as f64;
            check_gradient(
                "softmax_cross_entropy_ref",
                &mut z,
                &grad,
                f,
                gradcheck_settings(),
            );
            for (name, loss) in soft_target_refs() {
                gradcheck_soft(name, loss.as_ref(), classes, batch, seed);
            }
            let mut pred = random_vec(seed + 3, batch * classes, 2.0);
            let target = random_vec(seed + 4, batch * classes, 2.0);
            let mut grad = vec![0.0; pred.len()];
            mse_loss_ref(&pred, &target, &mut grad);
            let f = |x: &[f32]| mse_loss_ref(x, &target, &mut vec![0.0; x.len()]) as f64;
            check_gradient("mse_loss_ref", &mut pred, &grad, f, gradcheck_settings());
        }
    }

    /// Logits of ±1e4 (and a row of equal huge logits) give finite losses and gradients.
    fn extreme_logits(classes: usize, batch: usize) -> Vec<f32> {
        (0..batch * classes)
            .map(|i| match (i / classes) % 3 {
                0 => 1e4 * if (i * 7919) % 3 == 0 { 1.0 } else { -1.0 },
                1 => 1e4,
                _ => -1e4 + (i % 5) as f32,
            })
            .collect()
    }

    #[test]
    fn extreme_logits_stay_finite() {
        for classes in [1usize, 2, 3, 17, 80] {
            let batch = 6;
            let z = extreme_logits(classes, batch);
            let q = random_targets(11, batch, classes);
            let labels = random_labels(12, batch, classes);
            let (l, p, g) = eval_hard(softmax_cross_entropy_ref, classes, &z, &labels);
            assert!(l.is_finite(), "softmax_cross_entropy_ref: loss {l}");
            assert!(p.iter().chain(&g).all(|v| v.is_finite()));
            for (name, loss) in soft_target_refs() {
                let (l, p, g) = eval_soft(loss.as_ref(), classes, &z, &q);
                assert!(l.is_finite(), "{name} classes {classes}: loss {l}");
                assert!(p.iter().chain(&g).all(|v| v.is_finite()), "{name}");
            }
        }
    }
}
