//! Random draws of the image simulator: standard normals (sizes, shapes, seeing) and Poisson
//! counts (photon noise).
//!
//! Normals: Box–Muller, by the spectral simulator's [`fill_normal`].
//!
//! Poisson:
//! - λ < 10: inversion by sequential search, k = min{k : Σ_{j≤k} e^(−λ) λ^j / j! > u}.
//! - λ ≥ 10: the transformed rejection method with squeeze "PTRS" of Hörmann (1993, Insurance:
//!   Mathematics and Economics 12, 39), exact for every λ, with its constants
//!   b = 0.931 + 2.53 √λ, a = −0.059 + 0.02483 b, 1/α = 1.1239 + 1.1328/(b − 3.4),
//!   v_r = 0.9277 − 3.6224/(b − 2).

use rand::Rng;

use super::special::ln_gamma;
use crate::data::spectra::fill_normal;

/// One N(0, 1) draw.
pub fn standard_normal<R: Rng>(rng: &mut R) -> f64 {
    let mut draw = [0.0];
    fill_normal(rng, 1.0, &mut draw);
    draw[0]
}

/// Below this mean, inversion; at and above it, PTRS.
const INVERSION_LIMIT: f64 = 10.0;

/// One Poisson(λ) draw, λ ≥ 0 (returned as f64).
pub fn poisson<R: Rng>(rng: &mut R, lambda: f64) -> f64 {
    debug_assert!(lambda >= 0.0 && lambda.is_finite(), "Poisson mean {lambda}");
    if lambda <= 0.0 {
        return 0.0;
    }
    if lambda < INVERSION_LIMIT {
        return inversion(rng, lambda);
    }
    ptrs(rng, lambda)
}

fn inversion<R: Rng>(rng: &mut R, lambda: f64) -> f64 {
    let u: f64 = rng.gen();
    let mut k = 0.0;
    let mut p = (-lambda).exp();
    let mut cumulative = p;
    // The loop ends: cumulative → 1 > u (bounded in case rounding stops it short of u).
    while cumulative <= u && k < 1000.0 {
        k += 1.0;
        p *= lambda / k;
        cumulative += p;
    }
    k
}

fn ptrs<R: Rng>(rng: &mut R, lambda: f64) -> f64 {
    let log_lambda = lambda.ln();
    let b = 0.931 + 2.53 * lambda.sqrt();
    let a = -0.059 + 0.02483 * b;
    let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    let v_r = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = rng.gen::<f64>() - 0.5;
        let v: f64 = rng.gen();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
        if us >= 0.07 && v <= v_r {
            return k;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        // Accept when ln(v/α / (a/us² + b)) ≤ −λ + k ln λ − ln k!.
        let lhs = (v * inv_alpha / (a / (us * us) + b)).ln();
        if lhs <= -lambda + k * log_lambda - ln_gamma(k + 1.0) {
            return k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn draws_have_the_poisson_mean_variance_and_probabilities() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        for lambda in [0.5, 3.0, 9.9, 10.0, 50.0, 2500.0] {
            let n = 200_000;
            let draws: Vec<f64> = (0..n).map(|_| poisson(&mut rng, lambda)).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
            // Standard errors: √(λ/n) for the mean, ≈ λ √(2/n) for the variance.
            let se_mean = (lambda / n as f64).sqrt();
            assert!(
                (mean - lambda).abs() < 5.0 * se_mean,
                "λ {lambda}: mean {mean}"
            );
            let se_var = lambda * (2.0 / n as f64).sqrt() + (lambda / n as f64).sqrt();
            assert!(
                (var - lambda).abs() < 6.0 * se_var,
                "λ {lambda}: variance {var}"
            );
            // P(k = ⌊λ⌋) against the mass function.
            let k = lambda.floor();
            let expected = (-lambda + k * lambda.ln() - ln_gamma(k + 1.0)).exp();
            let observed = draws.iter().filter(|&&d| d == k).count() as f64 / n as f64;
            let se = (expected * (1.0 - expected) / n as f64).sqrt();
            assert!(
                (observed - expected).abs() < 5.0 * se,
                "λ {lambda}: P({k}) {observed} vs {expected}"
            );
            assert!(draws.iter().all(|d| *d >= 0.0 && d.fract() == 0.0));
        }
        assert_eq!(poisson(&mut rng, 0.0), 0.0);
    }
}
