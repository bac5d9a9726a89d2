//! Test helpers shared by every kernel and by the engine: seeded random inputs, element-wise
//! comparison with a tolerance, and a finite-difference gradient checker.
//!
//! The checker follows ggml's: central differences, a relative error with an absolute floor, and
//! points at a kink (ReLU at 0, a tie in max-pooling) skipped. A kink is recognised when the two
//! one-sided slopes disagree, so callers need not know where the kinks are.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// `n` values uniform in `[-scale, scale)` from a seeded stream.
pub fn random_vec(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
}

/// The projection loss `L = Σ r_i·y_i`, accumulated in f64. Its gradient w.r.t. `y` is `r`, so
/// the backward of any op fed with `dy = r` must return the gradient of `L`.
pub fn projection_loss(y: &[f32], r: &[f32]) -> f64 {
    assert_eq!(y.len(), r.len(), "projection_loss: lengths differ");
    y.iter().zip(r).map(|(&a, &b)| a as f64 * b as f64).sum()
}

/// Fails with the first index where `|got − want| > atol + rtol·|want|`.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], rtol: f32, atol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g - w).abs() <= atol + rtol * w.abs();
        assert!(
            ok,
            "{what}: index {i}: got {g}, want {w} (rtol {rtol}, atol {atol})"
        );
    }
}

/// Settings of [`check_gradient`].
#[derive(Debug, Clone, Copy)]
pub struct GradCheck {
    /// Step of the central difference.
    pub eps: f32,
    /// Allowed relative error `|a − n| / max(|a| + |n|, floor)`.
    pub rtol: f64,
    /// Floor of the denominator above, so that tiny gradients compare absolutely.
    pub floor: f64,
    /// Check at most this many indices (evenly spread); 0 checks every index.
    pub max_probes: usize,
}

impl Default for GradCheck {
    /// eps = 1e-3 with an f32 forward: the loss is summed in f64, so rounding noise in the
    /// difference quotient is about 1e-7·|L|/eps ≈ 1e-4·|L|; a relative tolerance of 1e-2 leaves
    /// a wide margin over that and over the O(eps²) truncation error of smooth ops.
    fn default() -> Self {
        GradCheck {
            eps: 1e-3,
            rtol: 1e-2,
            floor: 1e-3,
            max_probes: 0,
        }
    }
}

/// Compares `analytic` (∂loss/∂x) with central differences of `loss` at the probed indices of `x`.
/// `x` is perturbed in place and restored. Returns the number of indices skipped as kinks;
/// panics with the index and both values on the first mismatch, or if more than half the
/// probes were kinks (the check would then prove nothing).
pub fn check_gradient(
    what: &str,
    x: &mut [f32],
    analytic: &[f32],
    mut loss: impl FnMut(&[f32]) -> f64,
    cfg: GradCheck,
) -> usize {
    assert_eq!(
        x.len(),
        analytic.len(),
        "{what}: gradient length differs from input length"
    );
    let n = x.len();
    let probes = if cfg.max_probes == 0 || cfg.max_probes >= n {
        n
    } else {
        cfg.max_probes
    };
    let base = loss(x);
    let mut kinks = 0;
    for p in 0..probes {
        let i = p * n / probes;
        let orig = x[i];
        x[i] = orig + cfg.eps;
        let up = loss(x);
        x[i] = orig - cfg.eps;
        let down = loss(x);
        x[i] = orig;
        let h = cfg.eps as f64;
        let (slope_up, slope_down) = ((up - base) / h, (base - down) / h);
        let numeric = (up - down) / (2.0 * h);
        let a = analytic[i] as f64;
        let kink_gap = (slope_up - slope_down).abs();
        if kink_gap > 10.0 * cfg.rtol * (slope_up.abs() + slope_down.abs()).max(cfg.floor) {
            kinks += 1;
            continue;
        }
        let rel = (a - numeric).abs() / (a.abs() + numeric.abs()).max(cfg.floor);
        assert!(
            rel <= cfg.rtol,
            "{what}: index {i}: analytic {a:.6e}, numeric {numeric:.6e}, relative error {rel:.3e}"
        );
    }
    assert!(
        kinks * 2 <= probes,
        "{what}: {kinks} of {probes} probes sit on kinks"
    );
    kinks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_correct_gradient_and_skips_kinks() {
        // L = Σ r·|x| has gradient r·sign(x) and a kink at 0.
        let r = random_vec(1, 9, 1.0);
        let mut x = random_vec(2, 9, 1.0);
        x[4] = 0.0;
        let grad: Vec<f32> = x.iter().zip(&r).map(|(&v, &ri)| ri * v.signum()).collect();
        let loss = |x: &[f32]| {
            x.iter()
                .zip(&r)
                .map(|(&v, &ri)| (ri * v.abs()) as f64)
                .sum()
        };
        assert_eq!(
            check_gradient("abs", &mut x, &grad, loss, GradCheck::default()),
            1
        );
    }

    #[test]
    #[should_panic(expected = "analytic")]
    fn rejects_a_wrong_gradient() {
        let mut x = random_vec(3, 5, 1.0);
        let wrong: Vec<f32> = x.iter().map(|&v| 3.0 * v).collect(); // true gradient of Σx² is 2x
        let loss = |x: &[f32]| x.iter().map(|&v| (v * v) as f64).sum();
        check_gradient("square", &mut x, &wrong, loss, GradCheck::default());
    }
}
