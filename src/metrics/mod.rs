//! Redshift-estimation metrics (definitions in `DESIGN.md` § Metric definitions).
//!
//! Every metric starts from the normalised residual
//!
//! ```text
//! Δz = (z_pred − z_true) / (1 + z_true)
//! ```
//!
//! - [`point`]: MSE, MAE, R², bias (mean and median Δz), σ_NMAD, outlier fractions.
//! - [`classification`]: accuracy (predicted bin == true bin).
//! - [`pdf`]: CRPS and PIT for PDFs over redshift bins.
//! - [`attractors`]: the z_pred where catastrophic failures pile up.
//! - [`binned`]: the point metrics in bins of a property (Hα EW, line flux, SNR).
//! - [`selection`]: the purity–completeness curve of a confidence figure.
//! - [`rail_point`]: σ_IQR and the outlier rate `|Δz| > max(0.06, 3σ_IQR)`, as RAIL/qp.
//! - [`pit_stats`]: the PIT's KS, CvM and Anderson–Darling statistics and outlier rate, as qp.
//! - [`pdf_scores`]: the CDE loss and the Brier score, as RAIL/qp.
//! - [`object_scores`]: what the metrics need of each object's PDF, kept chunk by chunk so
//!   that an evaluation streams over its inputs without keeping the PDFs.
//! - [`distribution`]: mode collapse (total-variation distance between the histograms of
//!   z_pred and z_true) and the residual-vs-z profile (binned by z_true or z_pred) with its
//!   slopes, over all bins and, as Lin et al. (2022), weighted above z = 0.15.
//!
//! Inputs are checked: empty inputs, mismatched lengths, NaN or infinite values and
//! `z_true ≤ −1` give an error naming the array and the index, never a panic.

pub mod attractors;
pub mod binned;
pub mod classification;
pub mod distribution;
pub mod object_scores;
pub mod pdf;
pub mod pdf_scores;
pub mod pit_stats;
pub mod point;
pub mod rail_point;
pub mod selection;

pub use classification::{accuracy, classification_accuracy};
pub use distribution::{
    histogram_with_overflow, residual_profile, total_variation_distance, LineFit, ResidualAxis,
    ResidualProfile, RESIDUAL_PROFILE_BINS, SLOPE_Z_MIN,
};
pub use pdf::{crps_per_object, mean_crps, pit_histogram, pit_values};
pub use pdf_scores::{brier_score, brier_score_per_object, cde_loss, cde_loss_per_object};
pub use pit_stats::PitStatistics;
pub use point::PointMetrics;
pub use rail_point::RailPointMetrics;

/// The mean of per-object values, summed in order (so that the mean of chunks of objects,
/// concatenated, equals the mean over all of them bit for bit).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The normalised residual `Δz = (z_pred − z_true) / (1 + z_true)` of each object.
pub fn delta_z(z_pred: &[f64], z_true: &[f64]) -> Result<Vec<f64>, String> {
    check_pairs(z_pred, z_true)?;
    Ok(z_pred
        .iter()
        .zip(z_true)
        .map(|(&pred, &truth)| (pred - truth) / (1.0 + truth))
        .collect())
}

/// Checks a pair of redshift arrays: same, non-zero length; finite values; `z_true > −1`.
pub(crate) fn check_pairs(z_pred: &[f64], z_true: &[f64]) -> Result<(), String> {
    if z_pred.len() != z_true.len() {
        return Err(format!(
            "z_pred has {} values but z_true has {}",
            z_pred.len(),
            z_true.len()
        ));
    }
    check_finite("z_pred", z_pred)?;
    check_finite("z_true", z_true)?;
    if let Some(i) = z_true.iter().position(|&z| z <= -1.0) {
        return Err(format!(
            "z_true[{i}] = {} makes 1 + z_true ≤ 0 in Δz",
            z_true[i]
        ));
    }
    Ok(())
}

/// Checks that `values` is non-empty and finite; errors name the array and the index.
pub(crate) fn check_finite(name: &str, values: &[f64]) -> Result<(), String> {
    if values.is_empty() {
        return Err(format!("{name} is empty"));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!("{name}[{i}] is {} (must be finite)", values[i]));
    }
    Ok(())
}

/// The median of finite, non-empty `values` (the mean of the two middle values for an even
/// count).
pub(crate) fn median_of(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        0.5 * (sorted[middle - 1] + sorted[middle])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_z_divides_by_one_plus_z_true() {
        let dz = delta_z(&[1.1, 0.0], &[1.0, 0.5]).expect("valid");
        assert!((dz[0] - 0.05).abs() < 1e-12);
        assert!((dz[1] + 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_errors_naming_the_index() {
        let err = delta_z(&[0.1, f64::NAN], &[0.1, 0.2]).expect_err("NaN");
        assert!(err.contains("z_pred[1]"), "{err}");
        assert!(delta_z(&[0.1], &[0.1, 0.2]).is_err());
        assert!(delta_z(&[], &[]).is_err());
        let err = delta_z(&[0.1], &[-1.0]).expect_err("z_true = -1");
        assert!(err.contains("z_true[0]"), "{err}");
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median_of(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_of(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
