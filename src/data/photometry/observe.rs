//! One band's measurement of a source of known true magnitude, drawn from an error model
//! ([`super::error_model`]), as a catalogue would list it.
//!
//! - Noise in flux space, where it is Gaussian (photon and sky counts): f_obs = f + N(0, σ_f(f)),
//!   f = 10^(−0.4 m) in units of f₀, σ_f from Ivezić et al. (2019) eq. 4–5
//!   ([`BandErrors::flux_sigma`]). A faint source can come out with a negative flux.
//! - Magnitude: the asinh magnitude of Lupton, Gunn & Szalay (1999, AJ 118, 1406), which is
//!   finite for zero and negative fluxes and equals Pogson's for f ≫ b, with the softening they
//!   recommend, b = 1.042 σ_empty, σ_empty = √γ f₅ the model's noise without a source — the
//!   same choice as the image simulator's aperture magnitudes ([`crate::data::images::aperture`]).
//!   A non-detection is therefore a magnitude near the band's zero-flux value −2.5 log₁₀ b with
//!   a large error, not a sentinel.
//! - Error: what a pipeline can compute, i.e. the model's σ_f at the *observed* flux (not the
//!   true one, which would leak the truth into the error column), propagated through the asinh
//!   magnitude: σ_m = (2.5 / ln 10) σ_f / (2b) / √(1 + (f_obs / 2b)²).

use rand::Rng;

use super::error_model::BandErrors;
use crate::data::images::aperture::{asinh_magnitude, SOFTENING_PER_SIGMA};
use crate::data::images::standard_normal;

/// A band's measured magnitude and its 1σ error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// Asinh AB magnitude.
    pub magnitude: f64,
    /// Its 1σ error \[mag\].
    pub error: f64,
}

/// Lupton's softening b of `band`, in units of f₀: 1.042 √γ f₅.
pub fn softening(band: &BandErrors) -> f64 {
    SOFTENING_PER_SIGMA * band.sky_sigma()
}

/// Observes a source of true AB magnitude `magnitude` in `band` (see the module notes).
pub fn observe<R: Rng>(band: &BandErrors, magnitude: f64, rng: &mut R) -> Observation {
    let flux = 10f64.powf(-0.4 * magnitude);
    // f_obs = f + N(0, σ_f(f))
    let observed = flux + band.flux_sigma(flux) * standard_normal(rng);
    let (magnitude, error) = asinh_magnitude(observed, band.flux_sigma(observed), softening(band));
    Observation { magnitude, error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn band() -> BandErrors {
        BandErrors {
            name: "i".into(),
            gamma: 0.039,
            m5: 26.86,
        }
    }

    /// The mean and standard deviation of `n` observations of `magnitude`, and their mean error.
    fn scatter(magnitude: f64, n: usize, seed: u64) -> (f64, f64, f64) {
        let b = band();
        let mut rng = stream(seed, 99);
        let draws: Vec<Observation> = (0..n).map(|_| observe(&b, magnitude, &mut rng)).collect();
        let mean = draws.iter().map(|o| o.magnitude).sum::<f64>() / n as f64;
        let var = draws
            .iter()
            .map(|o| (o.magnitude - mean).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        let error = draws.iter().map(|o| o.error).sum::<f64>() / n as f64;
        (mean, var.sqrt(), error)
    }

    #[test]
    fn the_scatter_of_many_draws_matches_the_model() {
        // Bright and moderately faint: the scatter in magnitudes is eq. 4's σ (≈ 1.0857 N/S;
        // σ is N/S in the paper's small-error approximation), the mean the true magnitude, and
        // the reported errors agree with the scatter.
        let b = band();
        for (m, seed) in [(20.0, 1), (23.0, 2), (24.5, 3)] {
            let (mean, sd, error) = scatter(m, 20_000, seed);
            let expected = 1.085_736 * b.sigma(m);
            assert!(
                (sd / expected - 1.0).abs() < 0.03,
                "m {m}: sd {sd} vs {expected}"
            );
            assert!(
                (error / sd - 1.0).abs() < 0.05,
                "m {m}: error {error} vs sd {sd}"
            );
            assert!(
                (mean - m).abs() < 3.0 * sd / 20_000f64.sqrt() + 1e-3,
                "m {m}: {mean}"
            );
        }
    }

    #[test]
    fn draws_are_seeded_and_faint_sources_stay_finite() {
        let (a, b) = (scatter(24.0, 100, 5), scatter(24.0, 100, 5));
        assert_eq!(a, b);
        assert_ne!(a, scatter(24.0, 100, 6));
        // A source far below the depth: finite magnitudes around the zero-flux magnitude
        // −2.5 log₁₀ b, and errors just under the asinh error of zero flux,
        // (2.5 / ln 10) σ_empty / (2 · 1.042 σ_empty) = 0.5210 mag.
        let zero_flux = -2.5 * softening(&band()).log10();
        let (mean, _, error) = scatter(35.0, 2_000, 7);
        assert!(
            mean.is_finite() && (mean - zero_flux).abs() < 0.1,
            "{mean} vs {zero_flux}"
        );
        assert!((0.4..0.5211).contains(&error), "{error}");
        let at_zero = observe(&band(), f64::INFINITY, &mut stream(8, 99));
        assert!(
            at_zero.error <= 0.5211 && at_zero.error > 0.0,
            "{at_zero:?}"
        );
    }
}
