//! The point-source photometric error model of Ivezić et al. (2019, ApJ 873, 111, §3.2.1):
//! the noise of a band as a function of the source's magnitude and the band's 5σ depth.
//!
//! - Eq. 5: σ_rand² = (0.04 − γ) x + γ x², x = 10^(0.4 (m − m₅)). σ_rand is the noise-to-signal
//!   ratio N/S of the flux: 0.2 (S/N = 5) at m = m₅ by construction. γ depends on the sky
//!   brightness and the read-out noise (≈ 0.039 for LSST).
//! - Eq. 4: σ² = σ_sys² + σ_rand², with the systematic floor σ_sys = 0.005 (mag).
//!
//! Multiplied by the flux f, eq. 5 reads σ_f² = (0.04 − γ) f f₅ + γ f₅² (f₅ the flux at m₅):
//! the source's own photon noise plus a sky noise √γ f₅ that is there without a source. That is
//! what makes the model usable in flux space, where noise is Gaussian and faint or negative
//! fluxes are fine ([`BandErrors::flux_sigma`]). Fluxes here are in units of f₀ (AB: 3631 Jy),
//! f = 10^(−0.4 m).

/// Ivezić et al. (2019) eq. 4's systematic floor σ_sys \[mag\].
pub const SIGMA_SYS: f64 = 0.005;

/// One band of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct BandErrors {
    /// The band's name (a column suffix, e.g. "i").
    pub name: String,
    /// Eq. 5's γ.
    pub gamma: f64,
    /// The 5σ point-source depth m₅ (of a coadd, for a survey's final catalogue).
    pub m5: f64,
}

impl BandErrors {
    /// σ_rand of a source of AB magnitude `m` (eq. 5): √((0.04 − γ) x + γ x²),
    /// x = 10^(0.4 (m − m₅)).
    pub fn sigma_rand(&self, m: f64) -> f64 {
        let x = 10f64.powf(0.4 * (m - self.m5));
        ((0.04 - self.gamma) * x + self.gamma * x * x).sqrt()
    }

    /// The total error σ of a source of magnitude `m` (eq. 4): √(σ_sys² + σ_rand²).
    pub fn sigma(&self, m: f64) -> f64 {
        (SIGMA_SYS * SIGMA_SYS + self.sigma_rand(m).powi(2)).sqrt()
    }

    /// f₅ = 10^(−0.4 m₅): the flux at the 5σ depth, in units of f₀.
    pub fn flux_m5(&self) -> f64 {
        10f64.powf(-0.4 * self.m5)
    }

    /// The noise of an empty aperture, in units of f₀: eq. 5 times f at f → 0, √γ f₅.
    pub fn sky_sigma(&self) -> f64 {
        self.gamma.sqrt() * self.flux_m5()
    }

    /// The 1σ flux error of a source of flux `flux` (units of f₀), eq. 4–5 multiplied by the
    /// flux: σ_f² = (0.04 − γ) f f₅ + γ f₅² + σ_sys² f². A negative flux (a noisy measurement
    /// of a faint source) has no photon noise of its own: it counts as f = 0 in the first term.
    pub fn flux_sigma(&self, flux: f64) -> f64 {
        let f5 = self.flux_m5();
        let source = (0.04 - self.gamma) * flux.max(0.0) * f5;
        let sky = self.gamma * f5 * f5;
        let floor = (SIGMA_SYS * flux).powi(2);
        (source + sky + floor).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band() -> BandErrors {
        BandErrors {
            name: "i".into(),
            gamma: 0.039,
            m5: 26.86,
        }
    }

    #[test]
    fn errors_by_hand() {
        let b = band();
        // m = m₅: x = 1, σ_rand² = 0.04 − γ + γ = 0.04.
        assert!((b.sigma_rand(26.86) - 0.2).abs() < 1e-12);
        // σ² = 0.005² + 0.2² = 0.040025.
        assert!((b.sigma(26.86) - 0.040_025f64.sqrt()).abs() < 1e-12);
        // m = m₅ − 2.5: x = 0.1, σ_rand² = 0.001 · 0.1 + 0.039 · 0.01 = 0.00049.
        assert!((b.sigma_rand(24.36) - 0.00049f64.sqrt()).abs() < 1e-12);
        // m = m₅ + 2.5: x = 10, σ_rand² = 0.001 · 10 + 0.039 · 100 = 3.91.
        assert!((b.sigma_rand(29.36) - 3.91f64.sqrt()).abs() < 1e-10);
        // Bright: the systematic floor.
        assert!((b.sigma(15.0) - SIGMA_SYS).abs() < 1e-5);
    }

    #[test]
    fn the_flux_error_is_eq_5_times_the_flux() {
        let b = band();
        for m in [20.0, 24.0, 26.86, 28.0] {
            let f = 10f64.powf(-0.4 * m);
            let relative = b.flux_sigma(f) / f;
            assert!(
                (relative - b.sigma(m)).abs() < 1e-12 * b.sigma(m).max(1.0),
                "m {m}"
            );
        }
        // No source: the sky noise √γ f₅; a negative flux adds only the floor.
        assert!((b.flux_sigma(0.0) - b.sky_sigma()).abs() < 1e-24);
        let f5 = b.flux_m5();
        assert!((b.sky_sigma() - 0.039f64.sqrt() * f5).abs() < 1e-24);
        let negative = b.flux_sigma(-f5);
        let expected = (0.039 * f5 * f5 + (SIGMA_SYS * f5).powi(2)).sqrt();
        assert!((negative - expected).abs() < 1e-12 * expected);
    }
}
