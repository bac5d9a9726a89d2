//! Point metrics under the names LSST DESC RAIL and qp give them
//! (`qp/metrics/point_estimate_metric_classes.py`: `point_stats_iqr`, `point_outlier_rate`),
//! so that zcnn's numbers compare with RAIL papers. Both start from
//! `e_z = (z_pred − z_true) / (1 + z_true)` ([`super::delta_z`]).

use super::delta_z;

/// The interquartile range of a unit Gaussian, `2 Φ⁻¹(¾) ≈ 1.349`: `σ_IQR = IQR / 1.349`.
const IQR_OF_UNIT_GAUSSIAN: f64 = 1.349;

/// The floor of the outlier cut, from the LSST Science Book (§3.8): `|e_z| > max(0.06, 3σ_IQR)`.
const OUTLIER_FLOOR: f64 = 0.06;

/// RAIL/qp point metrics of a set of `(z_pred, z_true)` pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct RailPointMetrics {
    /// `σ_IQR = (P75(e_z) − P25(e_z)) / 1.349` (qp `point_stats_iqr`).
    pub sigma_iqr: f64,
    /// The cut `max(0.06, 3σ_IQR)` on `|e_z|`.
    pub outlier_cut: f64,
    /// Fraction with `|e_z| > max(0.06, 3σ_IQR)` (qp `point_outlier_rate`).
    pub outlier_rate: f64,
}

impl RailPointMetrics {
    /// Computes both metrics. Errors as [`delta_z`] does (empty, mismatched or non-finite
    /// inputs, `z_true ≤ −1`).
    pub fn compute(z_pred: &[f64], z_true: &[f64]) -> Result<Self, String> {
        let dz = delta_z(z_pred, z_true)?;
        let mut sorted = dz.clone();
        sorted.sort_by(f64::total_cmp);
        // σ_IQR = (P75 − P25) / 1.349, percentiles as numpy's default (linear) method.
        let sigma_iqr = (percentile_of_sorted(&sorted, 0.75) - percentile_of_sorted(&sorted, 0.25))
            / IQR_OF_UNIT_GAUSSIAN;
        let outlier_cut = OUTLIER_FLOOR.max(3.0 * sigma_iqr);
        let outliers = dz.iter().filter(|d| d.abs() > outlier_cut).count();
        Ok(Self {
            sigma_iqr,
            outlier_cut,
            outlier_rate: outliers as f64 / dz.len() as f64,
        })
    }
}

/// The `q`-quantile (`0 ≤ q ≤ 1`) of ascending, non-empty `sorted` values, as numpy's
/// `np.percentile(x, 100 q)` (method "linear"): at position `h = (n − 1) q`,
/// `x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋)`.
pub(crate) fn percentile_of_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_numpy_linear() {
        // np.percentile([1, 2, 3, 4], [0, 25, 50, 100]) = [1, 1.75, 2.5, 4]
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile_of_sorted(&x, 0.0), 1.0);
        assert!((percentile_of_sorted(&x, 0.25) - 1.75).abs() < 1e-15);
        assert!((percentile_of_sorted(&x, 0.5) - 2.5).abs() < 1e-15);
        assert_eq!(percentile_of_sorted(&x, 1.0), 4.0);
        assert_eq!(percentile_of_sorted(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn sigma_iqr_and_outlier_rate_hand_computed() {
        // z_true = 0 so e_z = z_pred: e_z = [-0.02, -0.01, 0, 0.01, 0.1].
        // P25 = -0.01 (position 1), P75 = 0.01 (position 3): IQR = 0.02, σ_IQR = 0.02/1.349.
        // 3σ_IQR = 0.0445 < 0.06, so the cut is 0.06 and only 0.1 is an outlier: 1/5.
        let z_pred = [0.1, -0.02, 0.0, 0.01, -0.01];
        let m = RailPointMetrics::compute(&z_pred, &[0.0; 5]).expect("valid");
        assert!(
            (m.sigma_iqr - 0.02 / 1.349).abs() < 1e-15,
            "{}",
            m.sigma_iqr
        );
        assert_eq!(m.outlier_cut, 0.06);
        assert_eq!(m.outlier_rate, 0.2);
    }

    #[test]
    fn a_wide_scatter_moves_the_cut_to_three_sigma() {
        // e_z = [-0.3, -0.1, 0, 0.1, 0.3, 1.0] (z_true = 1, z_pred = 1 + 2 e_z):
        // P25 at position 1.25 = -0.1 + 0.25·0.1 = -0.075; P75 at 3.75 = 0.1 + 0.75·0.2 = 0.25.
        // σ_IQR = 0.325/1.349 = 0.24092, cut 0.72276: only 1.0 is beyond it.
        let e_z = [-0.3, -0.1, 0.0, 0.1, 0.3, 1.0];
        let z_pred: Vec<f64> = e_z.iter().map(|e| 1.0 + 2.0 * e).collect();
        let m = RailPointMetrics::compute(&z_pred, &[1.0; 6]).expect("valid");
        assert!(
            (m.sigma_iqr - 0.325 / 1.349).abs() < 1e-12,
            "{}",
            m.sigma_iqr
        );
        assert!((m.outlier_cut - 3.0 * 0.325 / 1.349).abs() < 1e-12);
        assert!((m.outlier_rate - 1.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(RailPointMetrics::compute(&[], &[]).is_err());
        assert!(RailPointMetrics::compute(&[f64::NAN], &[0.1]).is_err());
    }
}
