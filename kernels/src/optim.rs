//! Optimiser updates over flat parameter, gradient and state slices, with PyTorch's semantics:
//! [`adam_step`] (`torch.optim.Adam` with L2 weight decay, or `torch.optim.AdamW` with
//! decoupled weight decay) and [`sgd_step`] (`torch.optim.SGD` with momentum, Nesterov and
//! weight decay, dampening 0).
//!
//! Each has a scalar reference (`*_ref`, the textbook update) and a fast path (SIMD, and rayon
//! over fixed blocks of elements for long slices). The updates are element-wise, so the result
//! does not depend on the number of threads.

use rayon::prelude::*;

use crate::simd::{self, F32s, LANES};

/// Settings of [`adam_step`]. `decoupled` selects AdamW (Loshchilov & Hutter 2019).
#[derive(Debug, Clone, Copy)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first-moment average.
    pub beta1: f32,
    /// Decay of the second-moment average.
    pub beta2: f32,
    /// Added to `√v̂` in the denominator.
    pub eps: f32,
    /// Weight decay: L2 added to the gradient, or (if `decoupled`) a shrink of the weights.
    pub weight_decay: f32,
    /// `true`: AdamW's decoupled decay `θ ← θ·(1 − lr·wd)`; `false`: `g ← g + wd·θ`.
    pub decoupled: bool,
}

impl Default for AdamConfig {
    /// PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay.
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

/// Settings of [`sgd_step`] (PyTorch's `SGD` with dampening 0).
#[derive(Debug, Clone, Copy)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f32,
    /// Momentum `μ`; 0 disables the velocity buffer.
    pub momentum: f32,
    /// Nesterov momentum: step along `g + μ·b` instead of `b`.
    pub nesterov: bool,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f32,
}

/// The bias corrections `1 − β1^t` and `1 − β2^t` of step `t` (1-based), computed in `f64`.
fn bias_corrections(c: &AdamConfig, t: u64) -> (f32, f32) {
    assert!(t >= 1, "adam_step: the step number t is 1-based");
    let power = |beta: f32| (beta as f64).powf(t as f64);
    ((1.0 - power(c.beta1)) as f32, (1.0 - power(c.beta2)) as f32)
}

fn check_adam_lengths(params: &[f32], grads: &[f32], m: &[f32], v: &[f32]) {
    assert_eq!(grads.len(), params.len(), "adam_step: grads length");
    assert_eq!(m.len(), params.len(), "adam_step: first-moment length");
    assert_eq!(v.len(), params.len(), "adam_step: second-moment length");
}

/// One Adam step `t` (1-based) over every parameter (Kingma & Ba 2015, Algorithm 1):
///
/// ```text
/// if decoupled:               θ ← θ·(1 − lr·wd)          (AdamW)
/// else if wd > 0:             g ← g + wd·θ               (L2, torch.optim.Adam)
/// m ← β1·m + (1 − β1)·g        v ← β2·v + (1 − β2)·g²
/// m̂ = m / (1 − β1^t)           v̂ = v / (1 − β2^t)
/// θ ← θ − lr·m̂ / (√v̂ + eps)
/// ```
/// `m` and `v` start at 0 and are updated in place.
pub fn adam_step_ref(
    c: &AdamConfig,
    t: u64,
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    check_adam_lengths(params, grads, m, v);
    let (correction1, correction2) = bias_corrections(c, t);
    for i in 0..params.len() {
        let mut g = grads[i];
        if c.decoupled {
            params[i] *= 1.0 - c.lr * c.weight_decay;
        } else if c.weight_decay > 0.0 {
            g += c.weight_decay * params[i];
        }
        m[i] = c.beta1 * m[i] + (1.0 - c.beta1) * g;
        v[i] = c.beta2 * v[i] + (1.0 - c.beta2) * g * g;
        let m_hat = m[i] / correction1;
        let v_hat = v[i] / correction2;
        params[i] -= c.lr * m_hat / (v_hat.sqrt() + c.eps);
    }
}

/// Asserts the velocity buffer fits: one value per parameter, or empty when momentum is 0.
fn check_sgd_lengths(c: &SgdConfig, params: &[f32], grads: &[f32], velocity: &[f32]) {
    assert_eq!(grads.len(), params.len(), "sgd_step: grads length");
    assert!(
        velocity.len() == params.len() || (c.momentum == 0.0 && velocity.is_empty()),
        "sgd_step: velocity length {} for {} parameters (it may be empty only without momentum)",
        velocity.len(),
        params.len()
    );
}

/// One SGD step (PyTorch's `SGD`, dampening 0):
///
/// ```text
/// g ← g + wd·θ
/// if μ ≠ 0:  b ← μ·b + g;  g ← g + μ·b (Nesterov) or g ← b
/// θ ← θ − lr·g
/// ```
/// The velocity `b` starts at 0, so the first step sets `b = g` as PyTorch does. Without
/// momentum `velocity` is not touched and may be empty.
pub fn sgd_step_ref(c: &SgdConfig, params: &mut [f32], grads: &[f32], velocity: &mut [f32]) {
    check_sgd_lengths(c, params, grads, velocity);
    for i in 0..params.len() {
        let mut g = grads[i] + c.weight_decay * params[i];
        if c.momentum != 0.0 {
            velocity[i] = c.momentum * velocity[i] + g;
            g = if c.nesterov {
                g + c.momentum * velocity[i]
            } else {
                velocity[i]
            };
        }
        params[i] -= c.lr * g;
    }
}

// ---------------------------------------------------------------------------------------------
// Fast paths: SIMD, rayon over fixed blocks of elements
// ---------------------------------------------------------------------------------------------

/// Elements per parallel block (a multiple of every SIMD width). The updates are element-wise,
/// so the split only decides which thread does the work, never the result.
const BLOCK: usize = 1 << 14;

/// The constants of one Adam step, folded as PyTorch folds them:
/// `θ ← θ − (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + eps)`.
#[derive(Debug, Clone, Copy)]
struct AdamStep {
    /// `wd` for L2 weight decay, else 0 (`g + 0·θ = g`).
    l2: f32,
    /// `1 − lr·wd` for decoupled weight decay, else 1.
    shrink: f32,
    beta1: f32,
    beta2: f32,
    one_minus_beta1: f32,
    one_minus_beta2: f32,
    /// `lr / (1 − β1^t)`.
    step_size: f32,
    /// `1 / √(1 − β2^t)`.
    inv_sqrt_correction2: f32,
    eps: f32,
}

impl AdamStep {
    fn new(c: &AdamConfig, t: u64) -> Self {
        let (correction1, correction2) = bias_corrections(c, t);
        let l2 = if !c.decoupled && c.weight_decay > 0.0 {
            c.weight_decay
        } else {
            0.0
        };
        let shrink = if c.decoupled {
            1.0 - c.lr * c.weight_decay
        } else {
            1.0
        };
        AdamStep {
            l2,
            shrink,
            beta1: c.beta1,
            beta2: c.beta2,
            one_minus_beta1: 1.0 - c.beta1,
            one_minus_beta2: 1.0 - c.beta2,
            step_size: c.lr / correction1,
            inv_sqrt_correction2: 1.0 / correction2.sqrt(),
            eps: c.eps,
        }
    }

    /// Updates one block. The scalar tail performs the same fused operations as the vector
    /// lanes, so an element's result does not depend on where it falls in the block.
    fn update_block(&self, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
        let body = simd::body_len(params.len());
        for i in (0..body).step_by(LANES) {
            let (theta, m_i, v_i) = self.update_lanes(
                simd::load(&params[i..]),
                simd::load(&grads[i..]),
                simd::load(&m[i..]),
                simd::load(&v[i..]),
            );
            simd::store(theta, &mut params[i..]);
            simd::store(m_i, &mut m[i..]);
            simd::store(v_i, &mut v[i..]);
        }
        for i in body..params.len() {
            let theta = params[i];
            let g = theta.mul_add(self.l2, grads[i]);
            m[i] = g.mul_add(self.one_minus_beta1, m[i] * self.beta1);
            v[i] = (g * g).mul_add(self.one_minus_beta2, v[i] * self.beta2);
            let denom = v[i].sqrt().mul_add(self.inv_sqrt_correction2, self.eps);
            params[i] = (m[i] / denom).mul_add(-self.step_size, theta * self.shrink);
        }
    }

    /// The update of `LANES` elements: returns the new `(θ, m, v)`.
    fn update_lanes(&self, theta: F32s, g: F32s, m: F32s, v: F32s) -> (F32s, F32s, F32s) {
        let g = theta.mul_add(simd::splat(self.l2), g);
        let m = g.mul_add(
            simd::splat(self.one_minus_beta1),
            m * simd::splat(self.beta1),
        );
        let v = (g * g).mul_add(
            simd::splat(self.one_minus_beta2),
            v * simd::splat(self.beta2),
        );
        let denom = v.sqrt().mul_add(
            simd::splat(self.inv_sqrt_correction2),
            simd::splat(self.eps),
        );
        let theta = (m / denom).mul_add(
            simd::splat(-self.step_size),
            theta * simd::splat(self.shrink),
        );
        (theta, m, v)
    }
}

/// Fast [`adam_step_ref`]: SIMD, parallel over blocks of [`BLOCK`] elements. The same update
/// with the bias corrections folded into two constants, as PyTorch computes it; it agrees
/// with the reference to a few ulps.
pub fn adam_step(
    c: &AdamConfig,
    t: u64,
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    check_adam_lengths(params, grads, m, v);
    let step = AdamStep::new(c, t);
    params
        .par_chunks_mut(BLOCK)
        .zip(grads.par_chunks(BLOCK))
        .zip(m.par_chunks_mut(BLOCK))
        .zip(v.par_chunks_mut(BLOCK))
        .for_each(|(((theta, g), m), v)| step.update_block(theta, g, m, v));
}

/// One block of SGD without momentum: `θ ← θ − lr·(g + wd·θ)`.
fn sgd_block_plain(c: &SgdConfig, params: &mut [f32], grads: &[f32]) {
    let body = simd::body_len(params.len());
    let (lr, wd) = (simd::splat(-c.lr), simd::splat(c.weight_decay));
    for i in (0..body).step_by(LANES) {
        let theta = simd::load(&params[i..]);
        let g = theta.mul_add(wd, simd::load(&grads[i..]));
        simd::store(g.mul_add(lr, theta), &mut params[i..]);
    }
    for i in body..params.len() {
        let g = params[i].mul_add(c.weight_decay, grads[i]);
        params[i] = g.mul_add(-c.lr, params[i]);
    }
}

/// One block of SGD with momentum: `b ← μ·b + g`, then a step along `g + μ·b` (Nesterov)
/// or `b`.
fn sgd_block_momentum(c: &SgdConfig, params: &mut [f32], grads: &[f32], velocity: &mut [f32]) {
    let body = simd::body_len(params.len());
    let (lr, wd, mu) = (
        simd::splat(-c.lr),
        simd::splat(c.weight_decay),
        simd::splat(c.momentum),
    );
    for i in (0..body).step_by(LANES) {
        let theta = simd::load(&params[i..]);
        let g = theta.mul_add(wd, simd::load(&grads[i..]));
        let b = simd::load(&velocity[i..]).mul_add(mu, g);
        let step = if c.nesterov { b.mul_add(mu, g) } else { b };
        simd::store(b, &mut velocity[i..]);
        simd::store(step.mul_add(lr, theta), &mut params[i..]);
    }
    for i in body..params.len() {
        let g = params[i].mul_add(c.weight_decay, grads[i]);
        velocity[i] = velocity[i].mul_add(c.momentum, g);
        let step = if c.nesterov {
            velocity[i].mul_add(c.momentum, g)
        } else {
            velocity[i]
        };
        params[i] = step.mul_add(-c.lr, params[i]);
    }
}

/// Fast [`sgd_step_ref`]: SIMD with fused multiply-adds, parallel over blocks of [`BLOCK`]
/// elements.
pub fn sgd_step(c: &SgdConfig, params: &mut [f32], grads: &[f32], velocity: &mut [f32]) {
    check_sgd_lengths(c, params, grads, velocity);
    if c.momentum == 0.0 {
        params
            .par_chunks_mut(BLOCK)
            .zip(grads.par_chunks(BLOCK))
            .for_each(|(theta, g)| sgd_block_plain(c, theta, g));
    } else {
        params
            .par_chunks_mut(BLOCK)
            .zip(grads.par_chunks(BLOCK))
            .zip(velocity.par_chunks_mut(BLOCK))
            .for_each(|((theta, g), b)| sgd_block_momentum(c, theta, g, b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_close, random_vec};

    /// Three scalar parameters and their gradients at steps 1, 2, 3.
    const THETA0: [f64; 3] = [1.0, -2.0, 0.5];
    const GRADS: [[f64; 3]; 3] = [[1.0, 0.5, -0.25], [2.0, -1.0, 0.125], [3.0, 0.25, 4.0]];

    /// `|got − want| ≤ 1e-6·max(|want|, 1)`: relative to the parameters' scale (they start at
    /// O(1)), since a step can cancel most of a parameter (0.61 − 0.561 in SGD's third step) and
    /// leave the f32 rounding of the operands in a small result.
    fn assert_rel(what: &str, got: &[f32], want: &[f64]) {
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let tol = 1e-6 * w.abs().max(1.0);
            assert!(
                (g as f64 - w).abs() <= tol,
                "{what}: index {i}: got {g}, want {w}"
            );
        }
    }

    /// Adam written out in f64 for the three parameters, one step at a time.
    fn adam_by_hand(c: &AdamConfig) -> [[f64; 3]; 3] {
        let (lr, b1, b2, eps, wd) = (
            c.lr as f64,
            c.beta1 as f64,
            c.beta2 as f64,
            c.eps as f64,
            c.weight_decay as f64,
        );
        let mut theta = THETA0;
        let (mut m, mut v) = ([0.0f64; 3], [0.0f64; 3]);
        let mut after = [[0.0; 3]; 3];
        for step in 0..3 {
            let t = (step + 1) as i32;
            for i in 0..3 {
                let mut g = GRADS[step][i];
                if c.decoupled {
                    theta[i] *= 1.0 - lr * wd;
                } else {
                    g += wd * theta[i];
                }
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                let m_hat = m[i] / (1.0 - b1.powi(t));
                let v_hat = v[i] / (1.0 - b2.powi(t));
                theta[i] -= lr * m_hat / (v_hat.sqrt() + eps);
            }
            after[step] = theta;
        }
        after
    }

    type AdamFn = fn(&AdamConfig, u64, &mut [f32], &[f32], &mut [f32], &mut [f32]);
    type SgdFn = fn(&SgdConfig, &mut [f32], &[f32], &mut [f32]);

    fn adam_impls() -> [(&'static str, AdamFn); 2] {
        [("adam_step_ref", adam_step_ref), ("adam_step", adam_step)]
    }

    fn sgd_impls() -> [(&'static str, SgdFn); 2] {
        [("sgd_step_ref", sgd_step_ref), ("sgd_step", sgd_step)]
    }

    fn to_f32(x: &[f64]) -> Vec<f32> {
        x.iter().map(|&v| v as f32).collect()
    }

    /// Runs three Adam steps and compares θ after each with [`adam_by_hand`].
    fn check_adam_three_steps(what: &str, step: AdamFn, c: &AdamConfig) {
        let want = adam_by_hand(c);
        let mut theta = to_f32(&THETA0);
        let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
        for t in 0..3 {
            step(
                c,
                t as u64 + 1,
                &mut theta,
                &to_f32(&GRADS[t]),
                &mut m,
                &mut v,
            );
            assert_rel(&format!("{what} step {}", t + 1), &theta, &want[t]);
        }
    }

    #[test]
    fn adam_first_step_moves_each_weight_by_lr() {
        // At t = 1, m̂ = g and v̂ = g², so θ₁ = θ₀ − lr·g/(|g| + eps) ≈ θ₀ − lr·sign(g).
        let c = AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        };
        for (what, step) in adam_impls() {
            let mut theta = to_f32(&THETA0);
            let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
            step(&c, 1, &mut theta, &to_f32(&GRADS[0]), &mut m, &mut v);
            assert_rel(what, &theta, &[0.9, -2.1, 0.6]);
            assert_close(what, &m, &[0.1, 0.05, -0.025], 1e-6, 0.0);
            // 1 − β2 rounded to f32 is 0.00099998713, not 0.001.
            let one_minus_beta2 = 1.0 - c.beta2;
            let want_v = GRADS[0].map(|g| one_minus_beta2 * (g * g) as f32);
            assert_close(what, &v, &want_v, 1e-6, 0.0);
        }
    }

    #[test]
    fn adam_plain_l2_and_adamw_follow_the_recurrence() {
        let plain = AdamConfig {
            lr: 0.05,
            beta1: 0.8,
            beta2: 0.95,
            eps: 1e-3,
            ..AdamConfig::default()
        };
        let l2 = AdamConfig {
            weight_decay: 0.3,
            ..plain
        };
        let adamw = AdamConfig {
            decoupled: true,
            ..l2
        };
        for (what, step) in adam_impls() {
            check_adam_three_steps(&format!("{what} plain"), step, &plain);
            check_adam_three_steps(&format!("{what} L2"), step, &l2);
            check_adam_three_steps(&format!("{what} AdamW"), step, &adamw);
        }
        // The three variants differ from each other.
        assert!((adam_by_hand(&plain)[2][0] - adam_by_hand(&l2)[2][0]).abs() > 1e-3);
        assert!((adam_by_hand(&l2)[2][0] - adam_by_hand(&adamw)[2][0]).abs() > 1e-3);
    }

    /// Three SGD steps on the three parameters; returns θ after each.
    fn run_sgd(step: SgdFn, c: &SgdConfig) -> Vec<Vec<f32>> {
        let mut theta = to_f32(&THETA0);
        let mut velocity = vec![0.0; 3];
        (0..3)
            .map(|t| {
                step(c, &mut theta, &to_f32(&GRADS[t]), &mut velocity);
                theta.clone()
            })
            .collect()
    }

    #[test]
    fn sgd_variants_follow_the_recurrence() {
        let plain = SgdConfig {
            lr: 0.1,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        let momentum = SgdConfig {
            momentum: 0.9,
            ..plain
        };
        let nesterov = SgdConfig {
            nesterov: true,
            ..momentum
        };
        let decay = SgdConfig {
            weight_decay: 0.1,
            ..plain
        };
        let decay_nesterov = SgdConfig {
            weight_decay: 0.1,
            ..nesterov
        };
        for (what, step) in sgd_impls() {
            // Parameter 0 (θ₀ = 1, g = 1, 2, 3, lr 0.1), by hand:
            // plain:    θ = 0.9, 0.7, 0.4
            // momentum: b = 1, 2.9, 5.61;            θ = 0.9, 0.61, 0.049
            // Nesterov: g + 0.9b = 1.9, 4.61, 8.049;  θ = 0.81, 0.349, −0.4559
            // decay:    g + 0.1θ = 1.1, 2.089, 3.06811; θ = 0.89, 0.6811, 0.374289
            let first = |runs: Vec<Vec<f32>>| runs.iter().map(|t| t[0]).collect::<Vec<_>>();
            assert_rel(what, &first(run_sgd(step, &plain)), &[0.9, 0.7, 0.4]);
            assert_rel(what, &first(run_sgd(step, &momentum)), &[0.9, 0.61, 0.049]);
            assert_rel(
                what,
                &first(run_sgd(step, &nesterov)),
                &[0.81, 0.349, -0.4559],
            );
            assert_rel(
                what,
                &first(run_sgd(step, &decay)),
                &[0.89, 0.6811, 0.374289],
            );
            // Every parameter against the recurrence written out in f64.
            for c in [plain, momentum, nesterov, decay, decay_nesterov] {
                let got = run_sgd(step, &c);
                let want = sgd_by_hand(&c);
                for t in 0..3 {
                    assert_rel(&format!("{what} {c:?} step {}", t + 1), &got[t], &want[t]);
                }
            }
        }
    }

    /// SGD written out in f64 for the three parameters, one step at a time.
    fn sgd_by_hand(c: &SgdConfig) -> [[f64; 3]; 3] {
        let (lr, mu, wd) = (c.lr as f64, c.momentum as f64, c.weight_decay as f64);
        let mut theta = THETA0;
        let mut b = [0.0f64; 3];
        let mut after = [[0.0; 3]; 3];
        for step in 0..3 {
            for i in 0..3 {
                let mut g = GRADS[step][i] + wd * theta[i];
                if mu != 0.0 {
                    b[i] = if step == 0 { g } else { mu * b[i] + g };
                    g = if c.nesterov { g + mu * b[i] } else { b[i] };
                }
                theta[i] -= lr * g;
            }
            after[step] = theta;
        }
        after
    }

    #[test]
    fn sgd_without_momentum_accepts_an_empty_velocity() {
        let c = SgdConfig {
            lr: 0.5,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        for (what, step) in sgd_impls() {
            let mut theta = vec![1.0, 2.0];
            step(&c, &mut theta, &[1.0, -1.0], &mut []);
            assert_eq!(theta, [0.5, 2.5], "{what}");
        }
    }

    /// The configurations compared between the fast path and the reference.
    fn adam_configs() -> [AdamConfig; 3] {
        let plain = AdamConfig {
            lr: 0.01,
            ..AdamConfig::default()
        };
        let l2 = AdamConfig {
            weight_decay: 0.05,
            ..plain
        };
        let adamw = AdamConfig {
            decoupled: true,
            ..l2
        };
        [plain, l2, adamw]
    }

    fn sgd_configs() -> [SgdConfig; 4] {
        let plain = SgdConfig {
            lr: 0.03,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        let momentum = SgdConfig {
            momentum: 0.9,
            weight_decay: 1e-3,
            ..plain
        };
        let nesterov = SgdConfig {
            nesterov: true,
            ..momentum
        };
        let decay = SgdConfig {
            weight_decay: 0.01,
            ..plain
        };
        [plain, momentum, nesterov, decay]
    }

    /// Five steps of Adam on seeded random data: the final `(θ, m, v)`.
    fn run_adam(step: AdamFn, c: &AdamConfig, n: usize) -> [Vec<f32>; 3] {
        let mut theta = random_vec(1, n, 1.0);
        let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
        for t in 1..=5u64 {
            step(
                c,
                t,
                &mut theta,
                &random_vec(10 + t, n, 2.0),
                &mut m,
                &mut v,
            );
        }
        [theta, m, v]
    }

    /// Five steps of SGD on seeded random data: the final `(θ, b)`.
    fn run_sgd_random(step: SgdFn, c: &SgdConfig, n: usize) -> [Vec<f32>; 2] {
        let mut theta = random_vec(2, n, 1.0);
        let mut velocity = vec![0.0; n];
        for t in 1..=5u64 {
            step(c, &mut theta, &random_vec(20 + t, n, 2.0), &mut velocity);
        }
        [theta, velocity]
    }

    /// Odd lengths (tails on either SIMD width) and lengths spanning several parallel blocks.
    const LENGTHS: [usize; 9] = [1, 7, 8, 15, 17, 33, 1000, BLOCK + 1, 3 * BLOCK + 5];

    #[test]
    fn fast_matches_reference_on_long_random_slices() {
        for n in LENGTHS {
            for c in adam_configs() {
                let (fast, reference) =
                    (run_adam(adam_step, &c, n), run_adam(adam_step_ref, &c, n));
                for (name, (f, r)) in ["theta", "m", "v"].iter().zip(fast.iter().zip(&reference)) {
                    assert_close(&format!("adam {name} n={n} {c:?}"), f, r, 1e-6, 1e-7);
                }
            }
            for c in sgd_configs() {
                let fast = run_sgd_random(sgd_step, &c, n);
                let reference = run_sgd_random(sgd_step_ref, &c, n);
                // The velocity sums five random gradients that partly cancel: the fused and
                // unfused roundings then differ by ~1e-7 of the gradients' scale (2).
                for (name, (f, r)) in ["theta", "velocity"]
                    .iter()
                    .zip(fast.iter().zip(&reference))
                {
                    assert_close(&format!("sgd {name} n={n} {c:?}"), f, r, 1e-5, 1e-6);
                }
            }
        }
    }

    /// The fast paths' outputs as bits, run inside a pool of `threads` threads.
    fn fast_outputs_in_pool(threads: usize, n: usize) -> Vec<u32> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            let adam = adam_configs().map(|c| run_adam(adam_step, &c, n));
            let sgd = sgd_configs().map(|c| run_sgd_random(sgd_step, &c, n));
            let slices = adam.iter().flatten().chain(sgd.iter().flatten());
            slices.flatten().map(|v| v.to_bits()).collect()
        })
    }

    #[test]
    fn one_and_two_threads_give_identical_bits() {
        let n = 4 * BLOCK + 3;
        assert_eq!(fast_outputs_in_pool(1, n), fast_outputs_in_pool(2, n));
    }
}
