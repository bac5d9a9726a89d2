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

/// Counts of `values` over `[below z_min, bin 0, …, bin k−1, at or above z_max]`.
pub fn histogram_with_overflow(binning: &ZBinning, values: &[f64]) -> Vec<usize> {
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

/// Bins whose centre lies above this redshift enter the slope Lin et al. (2022) quote for the
/// residual profile (their Fig. "SDSSresP": "slope for z_spec > 0.15"; research notes §1.11).
pub const SLOPE_Z_MIN: f64 = 0.15;

/// Mean Δz in bins of z_true or z_pred, the standard error of each mean, and slopes through it.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidualProfile {
    /// Bin centres.
    pub centers: Vec<f64>,
    /// Mean Δz of the objects in each bin; `None` for an empty bin.
    pub mean_delta_z: Vec<Option<f64>>,
    /// Standard error of each bin's mean Δz; `None` with fewer than two objects.
    pub std_errors: Vec<Option<f64>>,
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
/// Lin et al. (2022)'s Steps 2–4 aim for. The standard error of bin b's mean, as Lin et al.'s
/// `get_residuals_zphoto` (research notes §1.11), is
///
/// ```text
/// e_b = std(Δz) / √(N_b − 1) = √( Σ (Δz − r_b)² / (N_b (N_b − 1)) )
/// ```
pub fn residual_profile(
    z_pred: &[f64],
    z_true: &[f64],
    axis: ResidualAxis,
    binning: &ZBinning,
) -> Result<ResidualProfile, String> {
    check_pairs(z_pred, z_true)?;
    // (bin, Δz) of every object inside the binning's range.
    let members: Vec<(usize, f64)> = z_pred
        .iter()
        .zip(z_true)
        .filter_map(|(&pred, &truth)| {
            let position = match axis {
                ResidualAxis::ZTrue => truth,
                ResidualAxis::ZPred => pred,
            };
            let bin = binning.bin_of(position).ok()?;
            Some((bin, (pred - truth) / (1.0 + truth)))
        })
        .collect();
    let bins = binning.bins();
    let mut sums = vec![0.0; bins];
    let mut counts = vec![0; bins];
    for &(bin, dz) in &members {
        sums[bin] += dz;
        counts[bin] += 1;
    }
    let mean_delta_z: Vec<Option<f64>> = sums
        .iter()
        .zip(&counts)
        .map(|(&sum, &count)| (count > 0).then(|| sum / count as f64))
        .collect();
    let mut squares = vec![0.0; bins];
    for &(bin, dz) in &members {
        let mean = mean_delta_z[bin].expect("a bin with a member has a mean");
        squares[bin] += (dz - mean).powi(2);
    }
    let std_errors = squares
        .iter()
        .zip(&counts)
        .map(|(&square, &count)| {
            let n = count as f64;
            (count > 1).then(|| (square / (n * (n - 1.0))).sqrt())
        })
        .collect();
    let centers = binning.centers();
    let unweighted: Vec<(f64, f64, f64)> = centers
        .iter()
        .zip(&mean_delta_z)
        .filter_map(|(&c, &m)| m.map(|m| (c, m, 1.0)))
        .collect();
    let slope = weighted_fit(&unweighted).map(|fit| fit.slope);
    Ok(ResidualProfile {
        centers,
        mean_delta_z,
        std_errors,
        counts,
        slope,
    })
}

/// A straight line `y = slope · x + intercept`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineFit {
    pub slope: f64,
    pub intercept: f64,
}

impl ResidualProfile {
    /// The line through the profile over the bins whose centre lies above `z_min` (use
    /// [`SLOPE_Z_MIN`]), fitted as Lin et al. (2022) fit it (`fit_z_res`, a `curve_fit` of
    /// `a·z + b` with `sigma` = the bins' standard errors; research notes §1.11): weighted least
    /// squares with `w_b = 1 / e_b²`. Bins with fewer than two objects or no spread (`e_b = 0`)
    /// carry no uncertainty and are left out, as in their `get_residuals_*`. `None` when fewer
    /// than two bins remain.
    ///
    /// Lin et al. weight the z_spec profile by smoothed per-object variances that need the
    /// per-magnitude σ of their Step 3; here both axes use the standard error `e_b`.
    pub fn weighted_fit_above(&self, z_min: f64) -> Option<LineFit> {
        let points: Vec<(f64, f64, f64)> = self
            .centers
            .iter()
            .zip(&self.mean_delta_z)
            .zip(&self.std_errors)
            .filter_map(|((&c, &mean), &error)| match (mean, error) {
                (Some(mean), Some(e)) if c > z_min && e > 0.0 => Some((c, mean, 1.0 / (e * e))),
                _ => None,
            })
            .collect();
        weighted_fit(&points)
    }
}

/// Weighted least-squares line of `y` on `x` through the points `(x, y, w)`:
///
/// ```text
/// x̄ = Σ w x / Σ w,   ȳ = Σ w y / Σ w,
/// slope = Σ w (x − x̄)(y − ȳ) / Σ w (x − x̄)²,   intercept = ȳ − slope · x̄
/// ```
///
/// (ordinary least squares when every `w = 1`); `None` with fewer than two points or when
/// every `x` is the same.
fn weighted_fit(points: &[(f64, f64, f64)]) -> Option<LineFit> {
    if points.len() < 2 {
        return None;
    }
    let total: f64 = points.iter().map(|p| p.2).sum();
    let mean_x = points.iter().map(|(x, _, w)| w * x).sum::<f64>() / total;
    let mean_y = points.iter().map(|(_, y, w)| w * y).sum::<f64>() / total;
    let covariance: f64 = points
        .iter()
        .map(|(x, y, w)| w * (x - mean_x) * (y - mean_y))
        .sum();
    let variance: f64 = points
        .iter()
        .map(|(x, _, w)| w * (x - mean_x).powi(2))
        .sum();
    (variance > 0.0).then(|| {
        let slope = covariance / variance;
        LineFit {
            slope,
            intercept: mean_y - slope * mean_x,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_binning(bins: usize) -> ZBinning {
        ZBinning::new(0.0, 1.0, bins).expect("valid")
    }

    /// `(z_pred, z_true)` whose Δz = (z_pred − z_true)/(1 + z_true) equals `dz`.
    fn with_delta_z(z_true: f64, dz: f64) -> (f64, f64) {
        (z_true + dz * (1.0 + z_true), z_true)
    }

    #[test]
    fn slope_above_0_15_ignores_the_bins_below() {
        // Δz = 0.02 − 0.2 z below z = 0.15 and −0.01 − 0.05 z above: the fit above 0.15
        // recovers −0.05 exactly (every bin lies on the line, whatever its weight), while the
        // slope over all bins mixes both pieces.
        let binning = ZBinning::new(0.0, 0.4, RESIDUAL_PROFILE_BINS).expect("valid");
        let pairs: Vec<(f64, f64)> = (0..4000)
            .map(|i| {
                let z = 0.4 * (i as f64 + 0.5) / 4000.0;
                let dz = if z < 0.15 {
                    0.02 - 0.2 * z
                } else {
                    -0.01 - 0.05 * z
                };
                with_delta_z(z, dz)
            })
            .collect();
        let (z_pred, z_true): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let profile =
            residual_profile(&z_pred, &z_true, ResidualAxis::ZTrue, &binning).expect("valid");
        assert_eq!(profile.counts, vec![100; 40]);
        let above = profile.weighted_fit_above(SLOPE_Z_MIN).expect("25 bins");
        assert!(
            (above.slope + 0.05).abs() < 1e-9,
            "fit above 0.15: {above:?}"
        );
        assert!(
            (above.intercept + 0.01).abs() < 1e-9,
            "fit above 0.15: {above:?}"
        );
        let all = profile.slope.expect("40 bins");
        assert!(
            (all + 0.05).abs() > 0.01,
            "the all-bin slope {all} should differ"
        );
    }

    #[test]
    fn slope_above_weights_bins_by_their_standard_error() {
        // 4 bins of 0.1 over [0, 0.4); the cut 0.1 keeps the centres 0.15, 0.25, 0.35:
        //   bin 1: Δz {0.00, 0.02} → mean 0.01, e = √((0.01² + 0.01²)/(2·1)) = 0.01
        //   bin 2: Δz {0.01, 0.03} → mean 0.02, e = 0.01
        //   bin 3: Δz {0.00, 0.10} → mean 0.05, e = √((0.05² + 0.05²)/2) = 0.05
        // bin 0 holds one object (no standard error) with a wild Δz; it is left out twice over.
        // Weights 1/e² = 10⁴, 10⁴, 400: x̄ = 4140/20400, ȳ = 320/20400, and
        // slope = Σ w(x − x̄)(y − ȳ) / Σ w(x − x̄)² = 3/25 = 0.12 exactly (unweighted: 0.2).
        let binning = ZBinning::new(0.0, 0.4, 4).expect("valid");
        let objects = [
            (0.05, 0.9),
            (0.12, 0.0),
            (0.18, 0.02),
            (0.22, 0.01),
            (0.28, 0.03),
            (0.31, 0.0),
            (0.39, 0.1),
        ];
        let (z_pred, z_true): (Vec<f64>, Vec<f64>) =
            objects.iter().map(|&(z, dz)| with_delta_z(z, dz)).unzip();
        let profile =
            residual_profile(&z_pred, &z_true, ResidualAxis::ZTrue, &binning).expect("valid");
        assert_eq!(profile.counts, vec![1, 2, 2, 2]);
        assert_eq!(profile.std_errors[0], None);
        let errors: Vec<f64> = profile.std_errors[1..].iter().flatten().copied().collect();
        for (e, expected) in errors.iter().zip([0.01, 0.01, 0.05]) {
            assert!((e - expected).abs() < 1e-12, "{errors:?}");
        }
        let fit = profile.weighted_fit_above(0.1).expect("3 bins");
        assert!((fit.slope - 0.12).abs() < 1e-10, "weighted fit {fit:?}");
        // intercept = ȳ − slope · x̄ = (320 − 0.12 · 4140)/20400 = −176.8/20400.
        assert!((fit.intercept + 176.8 / 20400.0).abs() < 1e-12, "{fit:?}");
        // Above 0.2 only two bins remain: the line through them, (0.05 − 0.02)/0.1.
        let two = profile.weighted_fit_above(0.2).expect("2 bins");
        assert!((two.slope - 0.3).abs() < 1e-10, "{two:?}");
        assert_eq!(profile.weighted_fit_above(0.3), None);
    }

    #[test]
    fn the_z_photo_axis_bins_by_the_estimate() {
        // Three objects with z_true in bin 0 of [0, 0.4)/4; their estimates fall in bins 0, 2, 2.
        let binning = ZBinning::new(0.0, 0.4, 4).expect("valid");
        let z_true = [0.05, 0.05, 0.05, 0.5];
        let z_pred = [0.06, 0.21, 0.26, 0.35];
        let by_spec =
            residual_profile(&z_pred, &z_true, ResidualAxis::ZTrue, &binning).expect("valid");
        let by_photo =
            residual_profile(&z_pred, &z_true, ResidualAxis::ZPred, &binning).expect("valid");
        // z_true = 0.5 lies outside the range: left out of the z_spec profile only.
        assert_eq!(by_spec.counts, vec![3, 0, 0, 0]);
        assert_eq!(by_photo.counts, vec![1, 0, 2, 1]);
        // Bin 2 of z_photo: Δz = 0.16/1.05 and 0.21/1.05, mean 0.185/1.05, e = 0.025/1.05.
        let mean = by_photo.mean_delta_z[2].expect("populated");
        assert!((mean - 0.185 / 1.05).abs() < 1e-12, "{mean}");
        let e = by_photo.std_errors[2].expect("two objects");
        assert!((e - 0.025 / 1.05).abs() < 1e-12, "{e}");
        assert_eq!(by_photo.std_errors[3], None);
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
