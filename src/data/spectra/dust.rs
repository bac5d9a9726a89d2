//! Dust attenuation: the Calzetti et al. (2000) starburst law.

/// R_V = A_V / E(B−V)_star of the Calzetti law (Calzetti et al. 2000, ApJ 533, 682, eq. 5).
pub const CALZETTI_RV: f64 = 4.05;

/// Ratio of the stellar-continuum to the nebular-gas colour excess,
/// E(B−V)_star = 0.44 E(B−V)_gas (Calzetti et al. 2000, eq. 3).
pub const STELLAR_TO_GAS_EBV: f64 = 0.44;

/// Calzetti et al. (2000) eq. 4, with λ in µm:
///
/// - k(λ) = 2.659 (−2.156 + 1.509/λ − 0.198/λ² + 0.011/λ³) + R_V for 0.12 ≤ λ < 0.63 µm,
/// - k(λ) = 2.659 (−1.857 + 1.040/λ) + R_V for 0.63 ≤ λ ≤ 2.20 µm.
///
/// Outside 0.12–2.2 µm the same polynomials are extrapolated (common practice), clamped at
/// k ≥ 0. `lambda` is in Å.
pub fn calzetti_k(lambda: f64) -> f64 {
    let x = 1e4 / lambda; // 1/λ in µm⁻¹
    let k = if lambda < 6300.0 {
        2.659 * (-2.156 + 1.509 * x - 0.198 * x * x + 0.011 * x * x * x) + CALZETTI_RV
    } else {
        2.659 * (-1.857 + 1.040 * x) + CALZETTI_RV
    };
    k.max(0.0)
}

/// Fraction of f_λ transmitted at `lambda` (Å) for colour excess `ebv`:
/// 10^(−0.4 k(λ) E(B−V)).
pub fn transmission(lambda: f64, ebv: f64) -> f64 {
    if ebv == 0.0 {
        return 1.0;
    }
    (-0.4 * std::f64::consts::LN_10 * calzetti_k(lambda) * ebv).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calzetti_k_matches_published_values() {
        // k(Hα) = 3.33 and k(Hβ) = 4.60 are the values commonly quoted for this law;
        // k(V = 5500 Å) ≈ R_V by construction; k(1500 Å) = 10.33 and k(2.2 µm) = 0.37 are
        // eq. 4 evaluated by hand.
        for (lambda, expected, tol) in [
            (6563.0, 3.33, 0.01),
            (4861.0, 4.60, 0.01),
            (5500.0, 4.05, 0.01),
            (1500.0, 10.33, 0.01),
            (22000.0, 0.37, 0.01),
        ] {
            let k = calzetti_k(lambda);
            assert!(
                (k - expected).abs() < tol,
                "k({lambda}) = {k}, expected {expected}"
            );
        }
    }

    #[test]
    fn the_two_branches_nearly_meet_at_0_63_micron() {
        let below =
            2.659 * (-2.156 + 1.509 / 0.63 - 0.198 / 0.63f64.powi(2) + 0.011 / 0.63f64.powi(3));
        let above = 2.659 * (-1.857 + 1.040 / 0.63);
        assert!((below - above).abs() < 0.03);
        assert!((calzetti_k(6299.9) - calzetti_k(6300.1)).abs() < 0.03);
    }

    #[test]
    fn transmission_is_one_without_dust_and_falls_to_the_blue() {
        assert_eq!(transmission(5000.0, 0.0), 1.0);
        let red = transmission(8000.0, 0.3);
        let blue = transmission(4000.0, 0.3);
        assert!(blue < red && red < 1.0);
        // A_V = R_V E(B−V) magnitudes at 5500 Å.
        let a_v = -2.5 * transmission(5500.0, 0.3).log10();
        assert!((a_v - 4.05 * 0.3).abs() < 0.01);
    }
}
