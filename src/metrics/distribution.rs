//! Distribution-level diagnostics: mode collapse and redshift-dependent residuals
//! (Lin et al. 2022, who correct both).

use super::{check_finite, check_pairs};
use crate::redshift::ZBinning;

/// Number of bins of the residual-vs-z profile in Lin et al. (2022)'s test phase.
pub const RESIDUAL_PROFILE_BINS: usize = 40;

/// The total-variation distance between the histograms of two samples over the same bins,
///
/// ```text
/// TV = ½ Σ_k | a_k / N_a − b_k / N_b |
/// ```
///
/// with one extra bucket below `z_min` and one at or above `z_max`, so that values outside
/// the range still count. 0 for identical histograms, 1 for disjoint ones. Lin et al. (2022)
/// measure mode collapse as the TV between the histograms of z_pred and z_true.
pub fn total_variation_distance(
    binning: &ZBinning,
    sample_a: &[f64],
    sample_b: &[f64],
) -> Result<f64, String> {
    check_finite("first sample", sample_a)?;
    check_finite("second sample", sample_b)?;
    let counts_a = histogram_with_overflow(binning, sample_a);
    let counts_b = histogram_with_overflow(binning, sample_b);
    let (n_a, n_b) = (sample_a.len() as f64, sample_b.len() as f64);
    let sum: f64 = counts_a
        .iter()
        .zip(&counts_b)
        .map(|(&a, &b)| (a as f64 / n_a - b as f64 / n_b).abs())
        .sum();
    Ok(0.5 * sum)
}

/// Counts over `[below z_min, bin 0, …, bin k−1, at or above z_max]`.
fn histogram_with_overflow(binning: &ZBinning, values: &[f64]) -> Vec<usize> {
    let mut counts = vec![0; binning.bins() + 2];
    for &z in values {
        let bucket = match binning.bin_of(z) {
            Ok(bin) => bin + 1,
            Err(_) if z < binning.z_min() => 0,
            Err(_) => binning.bins() + 1,
        };
        counts[bucket] += 1;
    }
    counts
}

/// Which redshift the residual profile is binned in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResidualAxis {
    /// Bin by z_true (the bias a catalogue user sees for objects of known z).
    ZTrue,
    /// Bin by z_pred (the bias a user sees when selecting objects by their estimate).
    ZPred,
}

/// Mean Δz in bins of z_true or z_pred, and the least-squares slope through it.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidualProfile {
    /// Bin centres.
    pub centers: Vec<f64>,
    /// Mean Δz of the objects in each bin; `None` for an empty bin.
    pub mean_delta_z: Vec<Option<f64>>,
    /// Objects in each bin (objects outside the binning's range are left out).
    pub counts: Vec<usize>,
    /// Least-squares slope of mean Δz against the bin centre, over the non-empty bins
    /// (each bin weighs the same); `None` with fewer than two non-empty bins.
    pub slope: Option<f64>,
}

/// The residual-vs-z profile: `mean Δz` in each bin of `binning` (use
/// [`RESIDUAL_PROFILE_BINS`] bins), with objects binned by `axis`, and its slope
///
/// ```text
/// slope = Σ (c_b − c̄)(r_b − r̄) / Σ (c_b − c̄)²    over non-empty bins b
/// ```
///
/// where `c_b` is a bin centre and `r_b` its mean Δz. A flat profile (slope ≈ 0) is what
/// Lin et al. (2022)'s Steps 2–4 aim for.
pub fn residual_profile(
    z_pred: &[f64],
    z_true: &[f64],
    axis: ResidualAxis,
    binning: &ZBinning,
) -> Result<ResidualProfile, String> {
    check_pairs(z_pred, z_true)?;
    let bins = binning.bins();
    let mut sums = vec![0.0; bins];
    let mut counts = vec![0; bins];
    for (&pred, &truth) in z_pred.iter().zip(z_true) {
        let position = match axis {
            ResidualAxis::ZTrue => truth,
            ResidualAxis::ZPred => pred,
        };
        if let Ok(bin) = binning.bin_of(position) {
            sums[bin] += (pred - truth) / (1.0 + truth);
            counts[bin] += 1;
        }
    }
    let mean_delta_z: Vec<Option<f64>> = sums
        .iter()
        .zip(&counts)
        .map(|(&sum, &count)| (count > 0).then(|| sum / count as f64))
        .collect();
    let centers = binning.centers();
    let slope = least_squares_slope(&centers, &mean_delta_z);
    Ok(ResidualProfile {
        centers,
        mean_delta_z,
        counts,
        slope,
    })
}

/// Ordinary least-squares slope of `y` on `x` over the points where `y` is present.
fn least_squares_slope(x: &[f64], y: &[Option<f64>]) -> Option<f64> {
    let points: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter_map(|(&x, &y)| y.map(|y| (x, y)))
        .collect();
    if points.len() < 2 {
        return None;
    }
    let count = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / count;
    let covariance: f64 = points
        .iter()
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    let variance: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    Some(covariance / variance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_binning(bins: usize) -> ZBinning {
        ZBinning::new(0.0, 1.0, bins).expect("valid")
    }

    #[test]
    fn tv_of_identical_histograms_is_zero_and_of_disjoint_is_one() {
        let b = unit_binning(10);
        let a = [0.11, 0.22, 0.33, 0.95];
        let shuffled = [0.95, 0.33, 0.11, 0.22, 0.95, 0.33, 0.11, 0.22];
        assert_eq!(total_variation_distance(&b, &a, &shuffled), Ok(0.0));
        let disjoint = [0.55, 0.66, 1.5, -0.2];
        assert!((total_variation_distance(&b, &a, &disjoint).expect("valid") - 1.0).abs() < 1e-12);
    }

    #[test]
    fn tv_hand_computed_and_overflow_buckets() {
        let b = unit_binning(2);
        // a: bins [2, 0] → [1, 0]; c: one in bin 0, one above z_max → [½, 0, ½ overflow].
        // TV = ½ (|1 − ½| + 0 + |0 − ½|) = ½
        let tv = total_variation_distance(&b, &[0.1, 0.2], &[0.3, 7.0]).expect("valid");
        assert!((tv - 0.5).abs() < 1e-12);
        assert!(total_variation_distance(&b, &[0.1], &[f64::NAN]).is_err());
        assert!(total_variation_distance(&b, &[], &[0.1]).is_err());
    }

    #[test]
    fn residual_slope_recovers_an_injected_slope() {
        // Δz = a + s·z_true exactly: z_pred = z_true + (a + s·z_true)(1 + z_true).
        let (intercept, injected_slope) = (0.01, -0.05);
        let binning = unit_binning(RESIDUAL_PROFILE_BINS);
        let z_true: Vec<f64> = (0..4000).map(|i| (i as f64 + 0.5) / 4000.0).collect();
        let z_pred: Vec<f64> = z_true
            .iter()
            .map(|&z| z + (intercept + injected_slope * z) * (1.0 + z))
            .collect();
        let profile =
            residual_profile(&z_pred, &z_true, ResidualAxis::ZTrue, &binning).expect("valid");
        assert_eq!(profile.counts, vec![100; 40]);
        let slope = profile.slope.expect("40 populated bins");
        assert!((slope - injected_slope).abs() < 1e-9, "slope {slope}");
        let first = profile.mean_delta_z[0].expect("populated");
        assert!((first - (intercept + injected_slope * 0.0125)).abs() < 1e-9);
    }

    #[test]
    fn residual_profile_by_z_pred_and_empty_bins() {
        let binning = unit_binning(4);
        // Two objects, both predicted in bin 3: Δz = (0.8 − 0.5)/1.5 = 0.2, (0.9 − 0.8)/1.8.
        let profile =
            residual_profile(&[0.8, 0.9], &[0.5, 0.8], ResidualAxis::ZPred, &binning).expect("ok");
        assert_eq!(profile.counts, vec![0, 0, 0, 2]);
        let expected = 0.5 * (0.2 + 0.1 / 1.8);
        assert!((profile.mean_delta_z[3].expect("populated") - expected).abs() < 1e-12);
        assert_eq!(profile.mean_delta_z[0], None);
        assert_eq!(profile.slope, None);
        let err = residual_profile(&[0.8, f64::NAN], &[0.5, 0.8], ResidualAxis::ZPred, &binning)
            .expect_err("NaN");
        assert!(err.contains("z_pred[1]"), "{err}");
    }
}
