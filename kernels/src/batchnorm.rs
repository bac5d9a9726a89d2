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

use crate::shape::{ensure, ShapeError};

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
}
