//! Elliptical Sérsic profiles (Sérsic 1963; Graham & Driver 2005, PASA 22, 118).
//!
//! I(r) = I_e exp{−b_n [(r / r_e)^(1/n) − 1]}, with r the elliptical radius
//! r² = x′² + (y′/q)² along the major axis (x′, y′ rotated by the position angle) and b_n such
//! that r_e encloses half the light: γ(2n, b_n) = Γ(2n) / 2 (Graham & Driver eq. 4).
//! The light inside elliptical radius R is (Graham & Driver eqs. 2 and 4, times q for the ellipse)
//!
//! L(<R) = 2π q n I_e r_e² e^(b_n) b_n^(−2n) γ(2n, b_n (R/r_e)^(1/n)).
//!
//! Profiles are truncated at `truncation` · r_e (SDSS's model fits end the de Vaucouleurs profile
//! at 8 r_e and the exponential at 4 r_e; Stoughton et al. 2002, AJ 123, 485), and I_e is chosen so
//! that the truncated profile holds the requested flux.

use super::special::{ln_gamma, lower_gamma_regularised};

/// b_n, the root of P(2n, b) = ½: Newton's method, dP/db = b^(2n−1) e^(−b) / Γ(2n), started
/// from the Ciotti & Bertin (1999) asymptotic series used by GalSim's SBSersic,
/// b_n ≈ 2n − 1/3 + 4/(405n) + 46/(25515n²) + 131/(1148175n³) − 2194697/(30690717750n⁴)
/// (good to ≈ 4·10⁻⁵ at n = 1; the Newton steps take it to machine precision).
pub fn sersic_b(n: f64) -> f64 {
    let a = 2.0 * n;
    let mut b = 2.0 * n - 1.0 / 3.0
        + 4.0 / (405.0 * n)
        + 46.0 / (25515.0 * n * n)
        + 131.0 / (1_148_175.0 * n.powi(3))
        - 2_194_697.0 / (30_690_717_750.0 * n.powi(4));
    for _ in 0..4 {
        let derivative = ((a - 1.0) * b.ln() - b - ln_gamma(a)).exp();
        b -= (lower_gamma_regularised(a, b) - 0.5) / derivative;
    }
    b
}

/// One elliptical Sérsic component, lengths in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sersic {
    /// Sérsic index n (4: de Vaucouleurs bulge, 1: exponential disk).
    pub n: f64,
    /// Half-light radius along the major axis \[px\].
    pub r_e: f64,
    /// Axis ratio b/a in (0, 1].
    pub q: f64,
    /// Position angle of the major axis \[rad\], from +x towards +y (columns towards rows).
    pub position_angle: f64,
    /// The profile is zero beyond this many r_e.
    pub truncation: f64,
    /// b_n of [`sersic_b`].
    b: f64,
}

impl Sersic {
    /// A profile of index n, major-axis half-light radius r_e \[px\], axis ratio q, position
    /// angle \[rad\], truncated at `truncation` · r_e.
    pub fn new(n: f64, r_e: f64, q: f64, position_angle: f64, truncation: f64) -> Self {
        Sersic {
            n,
            r_e,
            q,
            position_angle,
            truncation,
            b: sersic_b(n),
        }
    }

    /// Fraction of the untruncated profile's light inside elliptical radius R:
    /// P(2n, b_n (R/r_e)^(1/n)).
    pub fn enclosed_fraction(&self, radius: f64) -> f64 {
        lower_gamma_regularised(
            2.0 * self.n,
            self.b * (radius / self.r_e).powf(1.0 / self.n),
        )
    }

    /// Total light of the untruncated profile with I_e = 1: 2π q n r_e² e^(b) b^(−2n) Γ(2n).
    pub fn untruncated_flux_per_unit_ie(&self) -> f64 {
        let (n, b) = (self.n, self.b);
        let log = b - 2.0 * n * b.ln() + ln_gamma(2.0 * n);
        2.0 * std::f64::consts::PI * self.q * n * self.r_e * self.r_e * log.exp()
    }

    /// The I_e that puts `flux` inside the truncation radius.
    pub fn intensity_for_flux(&self, flux: f64) -> f64 {
        let inside = self.enclosed_fraction(self.truncation * self.r_e);
        flux / (self.untruncated_flux_per_unit_ie() * inside)
    }

    /// Surface brightness at (dx, dy) from the centre, in units of I_e.
    pub fn value(&self, dx: f64, dy: f64) -> f64 {
        let (sin, cos) = self.position_angle.sin_cos();
        let major = dx * cos + dy * sin;
        let minor = (-dx * sin + dy * cos) / self.q;
        let r = (major * major + minor * minor).sqrt() / self.r_e;
        if r > self.truncation {
            return 0.0;
        }
        let root = if self.n == 4.0 {
            r.sqrt().sqrt()
        } else if self.n == 1.0 {
            r
        } else {
            r.powf(1.0 / self.n)
        };
        (-self.b * (root - 1.0)).exp()
    }

    /// Half-size \[px\] of the square that holds the truncated profile.
    pub fn extent(&self) -> f64 {
        self.truncation * self.r_e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn b_n_makes_r_e_the_half_light_radius() {
        // b₁ = 1.6783, b₄ = 7.6692 (shared research §3a); γ(2n, b_n) = Γ(2n)/2 for every n.
        assert!((sersic_b(1.0) - 1.678_347).abs() < 1e-6);
        assert!((sersic_b(4.0) - 7.669_249).abs() < 1e-6);
        for n in [0.5, 1.0, 2.0, 4.0, 6.0] {
            let p = lower_gamma_regularised(2.0 * n, sersic_b(n));
            assert!((p - 0.5).abs() < 1e-12, "n = {n}: P = {p}");
        }
    }

    /// ∫ I dA by radial quadrature over elliptical annuli (area element 2π q r dr), midpoint rule.
    fn numerical_flux(s: &Sersic, radius: f64) -> f64 {
        let steps = 400_000;
        let dr = radius / steps as f64;
        (0..steps)
            .map(|i| {
                let r = (i as f64 + 0.5) * dr;
                // Along the major axis the elliptical radius is r.
                let (sin, cos) = s.position_angle.sin_cos();
                2.0 * PI * s.q * r * dr * s.value(r * cos, r * sin)
            })
            .sum()
    }

    #[test]
    fn total_flux_and_half_light_radius_match_the_analytic_forms() {
        for n in [1.0, 4.0] {
            let s = Sersic::new(n, 3.0, 0.6, 0.0, 200.0);
            let total = numerical_flux(&s, 200.0 * 3.0);
            let analytic = s.untruncated_flux_per_unit_ie() * s.enclosed_fraction(600.0);
            assert!(
                (total / analytic - 1.0).abs() < 1e-4,
                "n = {n}: {total} vs {analytic}"
            );
            let half = numerical_flux(&s, 3.0) / s.untruncated_flux_per_unit_ie();
            assert!((half - 0.5).abs() < 1e-4, "n = {n}: {half} inside r_e");
        }
    }

    #[test]
    fn intensity_for_flux_accounts_for_the_truncation() {
        let s = Sersic::new(4.0, 2.0, 0.8, 0.3, 8.0);
        let ie = s.intensity_for_flux(5.0);
        let flux = ie * numerical_flux(&s, 16.0);
        assert!((flux - 5.0).abs() < 5e-4, "{flux}");
    }

    #[test]
    fn the_major_axis_follows_the_position_angle() {
        let s = Sersic::new(1.0, 4.0, 0.5, PI / 2.0, 4.0);
        // Major axis along +y: a point 2 px up is as bright as one 1 px to the side.
        assert!((s.value(0.0, 2.0) - s.value(1.0, 0.0)).abs() < 1e-12);
        assert_eq!(s.value(0.0, 16.1), 0.0);
    }
}
