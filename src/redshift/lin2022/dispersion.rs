//! The labelling dispersion σ₁ of Step 3, one per magnitude output, research notes §1.9a.
//!
//! σ₁ is the width (in bins) of the Gaussian that, convolved with the photo-z histogram of the
//! balanced subset, best reproduces its spec-z histogram: the blur a soft label must add to
//! undo the network's mode collapse.

use super::histograms::{output_histograms, row_histograms};
use super::kernel::gaussian_weight;
use super::magnitude_rows::MagnitudeRows;
use super::minimise::minimise_bounded;
use super::sample::Sample;
use crate::redshift::binning::ZBinning;

/// The search range of σ₁ in bins: the authors' bounds (0, 1000], with the open end at 0
/// closed at 10⁻³ bins (any σ below ~0.1 already gives a one-hot kernel).
pub const SIGMA1_RANGE: (f64, f64) = (1e-3, 1000.0);
/// σ₁ of an output without objects: the authors' starting value (no label uses it).
pub const SIGMA1_EMPTY: f64 = 1.0;
/// The clip of the model histogram in the cross-entropy (§1.9a step 4).
const CLIP: f64 = 1e-5;

/// σ₁ per magnitude output from `subset` (the balanced subset with its Step 2 photo-z,
/// §1.9a): the per-output spec-z and photo-z histograms over the base bins, each normalised,
/// and for each output the σ₁ that minimises [`dispersion_cross_entropy`], searched in
/// `ln σ` over [`SIGMA1_RANGE`].
pub fn fit_dispersions(
    base: &ZBinning,
    rows: &MagnitudeRows,
    subset: &Sample,
) -> Result<Vec<f64>, String> {
    subset.check("balanced subset", rows)?;
    let spec = output_histograms(rows, &row_histograms(base, rows, subset.z_spec, subset.row));
    let photo = output_histograms(
        rows,
        &row_histograms(base, rows, subset.z_photo, subset.row),
    );
    Ok(spec
        .iter()
        .zip(&photo)
        .map(|(spec, photo)| fit_dispersion(spec, photo))
        .collect())
}

/// The σ₁ (bins) minimising [`dispersion_cross_entropy`] for one output; [`SIGMA1_EMPTY`] when
/// the spec-z histogram is empty.
pub fn fit_dispersion(spec: &[f64], photo: &[f64]) -> f64 {
    if spec.iter().sum::<f64>() <= 0.0 {
        return SIGMA1_EMPTY;
    }
    let (low, high) = SIGMA1_RANGE;
    let objective = |log_sigma: f64| dispersion_cross_entropy(spec, photo, log_sigma.exp());
    minimise_bounded(objective, low.ln(), high.ln()).exp()
}

/// The cross-entropy between a spec-z histogram `y` and the photo-z histogram `x` blurred by
/// a discrete Gaussian of `σ` bins (§1.9a steps 4–5):
///
/// ```text
/// ŷ(i) = clip( Σ_s x(s) · g(i − s) / Σ_{i'=0}^{n−1} g(i' − s),  10⁻⁵, 1 − 10⁻⁵ ),
/// g(d) = exp(−½ (d/σ)²),        CE(σ) = −Σ_i y(i) ln ŷ(i)
/// ```
///
/// The kernel of each source bin `s` is normalised over the n bins, so no mass leaves the
/// range.
pub fn dispersion_cross_entropy(spec: &[f64], photo: &[f64], sigma: f64) -> f64 {
    let bins = spec.len();
    // g(d) for d = 0..n−1, and prefix sums P(k) = Σ_{d ≤ k} g(d), so that
    // Σ_{i'} g(i' − s) = P(s) + P(n − 1 − s) − g(0).
    let g: Vec<f64> = (0..bins)
        .map(|d| gaussian_weight(d as f64, sigma))
        .collect();
    let prefix: Vec<f64> = g
        .iter()
        .scan(0.0, |sum, &w| {
            *sum += w;
            Some(*sum)
        })
        .collect();
    let mut model = vec![0.0; bins];
    for (s, &x) in photo.iter().enumerate().filter(|(_, &x)| x > 0.0) {
        let weight = x / (prefix[s] + prefix[bins - 1 - s] - g[0]);
        for (i, m) in model.iter_mut().enumerate() {
            *m += weight * g[i.abs_diff(s)];
        }
    }
    -spec
        .iter()
        .zip(&model)
        .filter(|(&y, _)| y > 0.0)
        .map(|(&y, &m)| y * m.clamp(CLIP, 1.0 - CLIP).ln())
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_by_hand() {
        // Three bins, x = δ at bin 1, σ = 1: ŷ = [e^−½, 1, e^−½] / (1 + 2e^−½);
        // y = [0, 1, 0] gives CE = −ln(1 / (1 + 2e^−½)).
        let e = (-0.5f64).exp();
        let ce = dispersion_cross_entropy(&[0.0, 1.0, 0.0], &[0.0, 1.0, 0.0], 1.0);
        assert!((ce - (1.0 + 2.0 * e).ln()).abs() < 1e-12, "{ce}");
        // x = δ at bin 0: its kernel [1, e^−½, e^−2] is normalised over the three bins.
        let ce = dispersion_cross_entropy(&[0.5, 0.0, 0.5], &[1.0, 0.0, 0.0], 1.0);
        let norm = 1.0 + e + (-2.0f64).exp();
        let expected = -0.5 * (1.0 / norm).ln() - 0.5 * ((-2.0f64).exp() / norm).ln();
        assert!((ce - expected).abs() < 1e-12, "{ce} vs {expected}");
        // A tiny σ leaves ŷ = x, clipped: y on an empty bin of x costs −ln 10⁻⁵.
        let ce = dispersion_cross_entropy(&[0.0, 1.0], &[1.0, 0.0], 1e-3);
        assert!((ce + CLIP.ln()).abs() < 1e-12, "{ce}");
    }

    #[test]
    fn an_empty_output_keeps_the_starting_sigma() {
        assert_eq!(fit_dispersion(&[0.0; 5], &[0.0; 5]), SIGMA1_EMPTY);
    }
}
