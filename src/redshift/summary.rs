//! The summary of one PDF that every output carries (CSV, FITS catalogue, qp ancillary
//! columns): point estimates, spread, quantiles, confidence and warnings.

use super::binning::ZBinning;
use super::confidence::confidence;
use super::estimates::{argmax_bin, mean};
use super::quantiles::quantile;
use super::zwarn::{zwarn, ZwarnInputs};

/// The quantiles reported: 2.5, 16, 50, 84 and 97.5 % (±1σ and ±2σ of a Gaussian; RAIL's
/// `z_q2p5, z_q16, z_median, z_q84, z_q97p5`, EAZY's `z025 … z975`).
pub const SUMMARY_QUANTILES: [f64; 5] = [0.025, 0.16, 0.5, 0.84, 0.975];

/// The summary of one PDF.
#[derive(Clone, Debug, PartialEq)]
pub struct PdfSummary {
    /// Centre of the most probable bin.
    pub z_mode: f64,
    /// `Σ p_k z_k`.
    pub z_mean: f64,
    /// The 50 % quantile.
    pub z_median: f64,
    /// `sqrt(Σ p_k (z_k − z_mean)²)`, reported as `ZERR`.
    pub z_std: f64,
    /// The largest bin probability.
    pub p_max: f64,
    /// At [`SUMMARY_QUANTILES`].
    pub quantiles: [f64; 5],
    /// Mass within ±0.003 (1 + z) of the point estimate `z`.
    pub z_conf: f64,
    /// ln(z_conf / the best separated window's mass) ([`confidence`]).
    pub peak_log_ratio: f64,
    /// The `ZWARN` bitmask.
    pub zwarn: u32,
}

/// Summarises `pdf` around the point estimate `z` (the model's estimator); `masked_fraction`
/// is the input's masked pixel fraction when known.
pub fn summarise(
    binning: &ZBinning,
    pdf: &[f32],
    z: f64,
    masked_fraction: Option<f64>,
) -> Result<PdfSummary, String> {
    let mode_bin = argmax_bin(binning, pdf)?;
    let total: f64 = pdf.iter().map(|&p| p as f64).sum();
    let z_mean = mean(binning, pdf)?;
    // σ² = Σ p_k (z_k − μ)² / Σ p_k
    let variance: f64 = pdf
        .iter()
        .enumerate()
        .map(|(k, &p)| p as f64 * (binning.center(k) - z_mean).powi(2))
        .sum::<f64>()
        / total;
    let mut quantiles = [0.0; 5];
    for (value, &q) in quantiles.iter_mut().zip(&SUMMARY_QUANTILES) {
        *value = quantile(binning, pdf, q)?;
    }
    let figures = confidence(binning, pdf, z)?;
    let z_conf = figures.z_conf;
    let centers = binning.centers();
    Ok(PdfSummary {
        z_mode: binning.center(mode_bin),
        z_mean,
        z_median: quantiles[2],
        z_std: variance.sqrt(),
        p_max: pdf[mode_bin] as f64 / total,
        quantiles,
        z_conf,
        peak_log_ratio: figures.peak_log_ratio,
        zwarn: zwarn(&ZwarnInputs {
            centers: &centers,
            pdf,
            mode_bin,
            confidence: z_conf,
            masked_fraction,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_two_bin_pdf() {
        // 4 bins of width 0.25 on [0, 1): p = [0, 0.5, 0.5, 0] → mean 0.5, σ = 0.125,
        // mode 0.375 (first of the tie), median 0.5, q16 = 0.25 + 0.25·0.32 = 0.33.
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let s = summarise(&b, &[0.0, 0.5, 0.5, 0.0], 0.5, Some(0.0)).expect("valid");
        assert!((s.z_mean - 0.5).abs() < 1e-12);
        assert!((s.z_std - 0.125).abs() < 1e-12);
        assert_eq!(s.z_mode, 0.375);
        assert!((s.z_median - 0.5).abs() < 1e-12);
        assert!((s.quantiles[1] - 0.33).abs() < 1e-7);
        assert_eq!(s.p_max, 0.5);
        // Window ±0.0045 around 0.5 holds 2 · 0.0045 · 2 = 0.018 of the mass: low confidence.
        assert!((s.z_conf - 0.018).abs() < 1e-7, "{}", s.z_conf);
        // The other half of the mass sits 0.25 > 0.05 (1 + 0.375) from the mode: two peaks.
        use super::super::zwarn::{LOW_CONFIDENCE, TWO_PEAKS};
        assert_eq!(s.zwarn, LOW_CONFIDENCE | TWO_PEAKS);
    }
}
