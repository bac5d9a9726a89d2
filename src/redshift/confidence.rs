//! A quality figure per spectrum that users can select on: how much of the predicted
//! distribution backs the point estimate, and how far ahead of any other redshift it is.
//!
//! Both are pure functions of a PDF over the bins, its binning and the point estimate, so the
//! CSV writer of `zcnn predict` and the FITS writer share them.
//!
//! - `z_conf`: the probability mass within ±0.003 (1 + ẑ) of the estimate ẑ, the window of a
//!   "successful" redshift: the probability, according to the network, that ẑ succeeds.
//! - `peak_log_ratio`: ln(M(ẑ) / M₂), with M(z) the mass within ±0.003 (1 + z) of z and M₂ the
//!   largest M at a bin centre farther than 0.006 (1 + ẑ) from ẑ (two windows that do not
//!   overlap): the analogue of the Δχ² gap between the best and second-best minima that
//!   template fitters require (Redrock's SMALL_DELTA_CHI2 flag: Δχ² < 9 to another minimum
//!   more than 1000 km s⁻¹ away), since Δχ²/2 is a log-likelihood ratio.

use super::binning::ZBinning;
use super::estimates::check_pdf;

/// Half-width of the success window in units of (1 + z): |Δz| ≤ 0.003.
pub const SUCCESS_HALF_WIDTH: f64 = 0.003;

/// The smallest mass [`peak_log_ratio`] divides by, so that a PDF with nothing elsewhere gives a
/// large finite ratio (ln(1/1e-12) ≈ 27.6) rather than infinity.
const MASS_FLOOR: f64 = 1e-12;

/// The quality figures of one spectrum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Confidence {
    /// Probability mass within ±0.003 (1 + ẑ) of the estimate ẑ.
    pub z_conf: f64,
    /// ln(M(ẑ) / max(M₂, 10⁻¹²)), M₂ the best separated alternative (module docs).
    pub peak_log_ratio: f64,
}

/// Both figures for the distribution `pdf` (normalised here, so it need not sum to 1) and the
/// estimate `z_est`. Errors on a PDF of the wrong length, with a negative or non-finite bin or
/// no mass, and on a non-finite estimate.
pub fn confidence(binning: &ZBinning, pdf: &[f32], z_est: f64) -> Result<Confidence, String> {
    let total = check_pdf(binning, pdf)?;
    if !z_est.is_finite() {
        return Err(format!("confidence: the estimate is {z_est}"));
    }
    let z_conf = window_mass(binning, pdf, z_est) / total;
    let separation = 2.0 * SUCCESS_HALF_WIDTH * (1.0 + z_est);
    let second = (0..binning.bins())
        .map(|k| binning.center(k))
        .filter(|z| (z - z_est).abs() > separation)
        .map(|z| window_mass(binning, pdf, z) / total)
        .fold(0.0, f64::max);
    Ok(Confidence {
        z_conf,
        peak_log_ratio: z_conf.max(MASS_FLOOR).ln() - second.max(MASS_FLOOR).ln(),
    })
}

/// Σ_k p_k |[e_k, e_{k+1}) ∩ [z − h, z + h]| / (e_{k+1} − e_k), h = 0.003 (1 + z): the mass
/// of the window, each bin contributing the fraction of it the window covers (the PDF is
/// taken as uniform within a bin).
fn window_mass(binning: &ZBinning, pdf: &[f32], z: f64) -> f64 {
    let half = SUCCESS_HALF_WIDTH * (1.0 + z);
    let (lo, hi) = (z - half, z + half);
    let width = binning.width();
    let first = ((lo - binning.z_min()) / width).floor().max(0.0) as usize;
    let last = (((hi - binning.z_min()) / width).ceil().max(0.0) as usize).min(binning.bins());
    (first..last)
        .map(|k| {
            let covered = hi.min(binning.edge(k + 1)) - lo.max(binning.edge(k));
            f64::from(pdf[k]) * (covered.max(0.0) / width)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 800 bins of 0.001 on [1, 1.8), as the seed's classes.
    fn seed_bins() -> ZBinning {
        ZBinning::new(1.0, 1.8, 800).expect("valid")
    }

    /// A normalised mixture of Gaussian peaks (weight, centre, σ), evaluated at the bin centres.
    fn peaks(binning: &ZBinning, components: &[(f64, f64, f64)]) -> Vec<f32> {
        let raw: Vec<f64> = binning
            .centers()
            .iter()
            .map(|z| {
                components
                    .iter()
                    .map(|(w, mu, s)| w * (-0.5 * ((z - mu) / s).powi(2)).exp() / s)
                    .sum()
            })
            .collect();
        let total: f64 = raw.iter().sum();
        raw.iter().map(|v| (v / total) as f32).collect()
    }

    #[test]
    fn a_narrow_single_peak_is_confident() {
        let b = seed_bins();
        let pdf = peaks(&b, &[(1.0, 1.4005, 0.0015)]);
        let c = confidence(&b, &pdf, 1.4005).expect("valid");
        // ±0.0072 around the peak is ±4.8 σ: almost all of the mass. The best separated window
        // holds the tail beyond 4.8 σ on one side, P ≈ 8 × 10⁻⁷: ln(1 / 8e-7) ≈ 14.
        assert!(c.z_conf > 0.999, "{c:?}");
        assert!(c.peak_log_ratio > 12.0, "{c:?}");
    }

    #[test]
    fn a_broad_peak_puts_little_mass_in_the_window() {
        let b = seed_bins();
        let pdf = peaks(&b, &[(1.0, 1.4005, 0.05)]);
        let c = confidence(&b, &pdf, 1.4005).expect("valid");
        // P(|z − μ| ≤ 0.0072) for σ = 0.05 is erf(0.0072 / (0.05 √2)) ≈ 0.1145.
        assert!((c.z_conf - 0.1145).abs() < 0.005, "{c:?}");
        // The best separated window is next to the excluded zone: almost as much mass.
        assert!(c.peak_log_ratio > 0.0 && c.peak_log_ratio < 0.1, "{c:?}");
    }

    #[test]
    fn two_separated_peaks_split_the_mass_and_the_ratio_is_their_log_ratio() {
        let b = seed_bins();
        let pdf = peaks(&b, &[(0.7, 1.2005, 0.001), (0.3, 1.6005, 0.001)]);
        let c = confidence(&b, &pdf, 1.2005).expect("valid");
        assert!((c.z_conf - 0.7).abs() < 1e-3, "{c:?}");
        assert!(
            (c.peak_log_ratio - (0.7f64 / 0.3).ln()).abs() < 1e-2,
            "{c:?}"
        );
        // The estimate on the smaller peak: the ratio turns negative.
        let c = confidence(&b, &pdf, 1.6005).expect("valid");
        assert!((c.z_conf - 0.3).abs() < 1e-3, "{c:?}");
        assert!(
            (c.peak_log_ratio + (0.7f64 / 0.3).ln()).abs() < 1e-2,
            "{c:?}"
        );
        // Equal peaks: no preference.
        let pdf = peaks(&b, &[(1.0, 1.2005, 0.001), (1.0, 1.6005, 0.001)]);
        let c = confidence(&b, &pdf, 1.2005).expect("valid");
        assert!(c.peak_log_ratio.abs() < 1e-3, "{c:?}");
    }

    #[test]
    fn the_window_covers_fractions_of_bins_and_ignores_normalisation() {
        // Ten bins of 0.1 on [0, 1): at z = 0.5, h = 0.0045 covers 4.5 % of bins 4 and 5 each.
        let b = ZBinning::new(0.0, 1.0, 10).expect("valid");
        let mut pdf = vec![0.0f32; 10];
        pdf[4] = 2.0;
        pdf[5] = 2.0;
        let c = confidence(&b, &pdf, 0.5).expect("valid");
        assert!((c.z_conf - 0.045).abs() < 1e-6, "{c:?}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let b = seed_bins();
        assert!(confidence(&b, &[1.0; 10], 1.4)
            .expect_err("length")
            .contains("expected 800"));
        assert!(confidence(&b, &vec![0.0; 800], 1.4).is_err());
        assert!(confidence(&b, &vec![1.0; 800], f64::NAN).is_err());
    }
}
