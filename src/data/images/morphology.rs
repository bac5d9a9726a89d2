//! Sizes and shapes of the bulge and disk.
//!
//! Sizes: Shen et al. (2003, MNRAS 343, 978, Table 1 via SkyPy's implementation; shared research
//! §3b) give lognormal circularised half-light radii R [kpc] at fixed r-band absolute magnitude M:
//!
//! - early types: log₁₀ R̄ = −0.4 a M + b, a = 0.6, b = −4.63;
//! - late types:  log₁₀ R̄ = −0.4 α M + (β − α) log₁₀[1 + 10^(−0.4 (M − M₀))] + γ,
//!   α = 0.21, β = 0.53, γ = −1.31, M₀ = −20.52;
//! - scatter σ_lnR = σ₂ + (σ₁ − σ₂) / (1 + 10^(−0.8 (M − M₀))), σ₁ = 0.48, σ₂ = 0.25 (SkyPy uses
//!   it for both types).
//!
//! The bulge follows the early-type relation at the bulge's magnitude, the disk the late-type
//! one at the disk's. Sizes shrink with redshift at fixed luminosity as (1 + z)^−1.48 (early)
//! and (1 + z)^−0.75 (late) (van der Wel et al. 2014, ApJ 788, 28), normalised at z = 0.1, the
//! median redshift of Shen's SDSS sample.
//!
//! Shapes: both components are coaxial oblate spheroids seen at a random inclination
//! (cos i uniform); an oblate spheroid of intrinsic thickness γ projects to the axis ratio
//! q = √(cos² i + γ² sin² i) (Hubble 1926). Disks: γ ~ N(0.222, 0.056) (Ryden 2004, as in
//! SkyPy); bulges: γ ~ N(0.66, 0.1) (bright de Vaucouleurs galaxies, Vincent & Ryden 2005).

use rand::Rng;

use super::random::standard_normal;

/// Redshift at which the Shen et al. relations hold.
const SHEN_REDSHIFT: f64 = 0.1;

/// σ_lnR of Shen et al. (2003) at magnitude M.
fn size_scatter(m: f64) -> f64 {
    let (sigma1, sigma2, m0) = (0.48, 0.25, -20.52);
    sigma2 + (sigma1 - sigma2) / (1.0 + 10f64.powf(-0.8 * (m - m0)))
}

/// Median circularised half-light radius \[kpc\] of an early type (bulge) of magnitude M.
pub fn early_type_radius(m: f64) -> f64 {
    10f64.powf(-0.4 * 0.6 * m - 4.63)
}

/// Median circularised half-light radius \[kpc\] of a late type (disk) of magnitude M.
pub fn late_type_radius(m: f64) -> f64 {
    let (alpha, beta, gamma, m0) = (0.21, 0.53, -1.31, -20.52);
    10f64.powf(
        -0.4 * alpha * m + (beta - alpha) * (1.0 + 10f64.powf(-0.4 * (m - m0))).log10() + gamma,
    )
}

/// Draws the circularised half-light radius \[kpc\] of a component of magnitude M at z: the
/// median of its relation, lognormal scatter, redshift evolution.
pub fn draw_radius<R: Rng>(rng: &mut R, m: f64, z: f64, bulge: bool) -> f64 {
    let (median, evolution) = if bulge {
        (early_type_radius(m), -1.48)
    } else {
        (late_type_radius(m), -0.75)
    };
    let growth = ((1.0 + z) / (1.0 + SHEN_REDSHIFT)).powf(evolution);
    median * growth * (size_scatter(m) * standard_normal(rng)).exp()
}

/// Projected axis ratio of an oblate spheroid of thickness γ at inclination cos i.
pub fn projected_axis_ratio(thickness: f64, cos_i: f64) -> f64 {
    (cos_i * cos_i + thickness * thickness * (1.0 - cos_i * cos_i)).sqrt()
}

/// Axis ratios (bulge, disk) at one random inclination.
pub fn draw_axis_ratios<R: Rng>(rng: &mut R) -> (f64, f64) {
    let cos_i: f64 = rng.gen();
    let disk = (0.222 + 0.056 * standard_normal(rng)).clamp(0.05, 1.0);
    let bulge = (0.66 + 0.1 * standard_normal(rng)).clamp(0.3, 1.0);
    (
        projected_axis_ratio(bulge, cos_i),
        projected_axis_ratio(disk, cos_i),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shen_relations_give_the_published_sizes() {
        // The relations evaluated by hand: early type at M = −21, log R = 5.04 − 4.63 → 2.57 kpc;
        // late type: 1.764 + 0.32 log₁₀(1 + 10^0.192) − 1.31 → 3.84 kpc.
        assert!((early_type_radius(-21.0) - 2.570).abs() < 0.01);
        assert!((late_type_radius(-21.0) - 3.84).abs() < 0.02);
        // Brighter is bigger for both.
        assert!(early_type_radius(-22.0) > early_type_radius(-20.0));
        assert!(late_type_radius(-22.0) > late_type_radius(-20.0));
    }

    #[test]
    fn projected_axis_ratios_span_thickness_to_one() {
        assert!((projected_axis_ratio(0.2, 1.0) - 1.0).abs() < 1e-12);
        assert!((projected_axis_ratio(0.2, 0.0) - 0.2).abs() < 1e-12);
        use rand::SeedableRng;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let draws: Vec<(f64, f64)> = (0..10_000).map(|_| draw_axis_ratios(&mut rng)).collect();
        for &(qb, qd) in &draws {
            assert!((0.05..=1.0).contains(&qd) && (0.3..=1.0).contains(&qb));
        }
        // Random inclinations of thin disks: mean q = E√(c² + γ²(1 − c²)) ≈ 0.556 for γ ≈ 0.22
        // (Monte Carlo in Python, 2·10⁵ draws).
        let mean_disk = draws.iter().map(|d| d.1).sum::<f64>() / draws.len() as f64;
        assert!((mean_disk - 0.556).abs() < 0.01, "mean disk q {mean_disk}");
    }
}
