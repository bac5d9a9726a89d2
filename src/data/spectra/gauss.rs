//! The standard normal distribution: its cumulative distribution function Φ (used to integrate
//! Gaussians over pixels) and a sampler (used for noise).

use rand::Rng;

/// Complementary error function, erfc(x), with fractional error below 1.2·10⁻⁷ everywhere.
///
/// Chebyshev fit of Press et al., *Numerical Recipes* (2nd ed., §6.2, `erfcc`):
/// with t = 1/(1 + |x|/2), erfc(|x|) = t · exp(−x² + P(t)), P a degree-9 polynomial.
pub fn erfc(x: f64) -> f64 {
    const P: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = P.iter().rev().fold(0.0, |acc, &c| acc * t + c);
    let value = t * (-z * z + poly).exp();
    if x >= 0.0 {
        value
    } else {
        2.0 - value
    }
}

/// Standard normal cumulative distribution, Φ(x) = erfc(−x/√2) / 2.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Fills `out` with independent N(0, σ²) draws (see [`for_each_normal`]).
pub fn fill_normal<R: Rng>(rng: &mut R, sigma: f64, out: &mut [f64]) {
    for_each_normal(rng, sigma, out, |slot, draw| *slot = draw);
}

/// Calls `apply(item, draw)` for each item with an independent N(0, σ²) draw (Box–Muller: two
/// uniforms give two normals, r = √(−2 ln u₁), θ = 2π u₂, (r cos θ, r sin θ)).
pub fn for_each_normal<R: Rng, T>(
    rng: &mut R,
    sigma: f64,
    items: &mut [T],
    mut apply: impl FnMut(&mut T, f64),
) {
    for pair in items.chunks_mut(2) {
        // 1 − u lies in (0, 1], so its logarithm is finite.
        let u1: f64 = 1.0 - rng.gen::<f64>();
        let u2: f64 = rng.gen::<f64>();
        let r = sigma * (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        apply(&mut pair[0], r * cos);
        if let Some(second) = pair.get_mut(1) {
            apply(second, r * sin);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_tabulated_values() {
        // Φ(0) = 0.5, Φ(1) = 0.841344746, Φ(1.96) = 0.975002105, Φ(−3) = 0.001349898.
        for (x, expected) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (1.96, 0.975_002_105),
            (-3.0, 0.001_349_898),
        ] {
            assert!((normal_cdf(x) - expected).abs() < 2e-8, "Φ({x})");
        }
    }

    #[test]
    fn normal_draws_have_the_requested_moments() {
        use rand::SeedableRng;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
        let mut draws = vec![0.0; 100_001];
        fill_normal(&mut rng, 2.0, &mut draws);
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let variance = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!(
            (variance.sqrt() - 2.0).abs() < 0.02,
            "σ {}",
            variance.sqrt()
        );
    }
}
