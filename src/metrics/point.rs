//! Point-estimate metrics: how close `z_pred` is to `z_true`.

use super::{delta_z, median_of};

/// σ_NMAD scale: 1.4826 ≈ 1/Φ⁻¹(¾) makes the MAD a consistent estimator of a Gaussian σ.
const NMAD_SCALE: f64 = 1.4826;

/// Point-estimate metrics of a set of `(z_pred, z_true)` pairs. With `Δz = (z_pred − z_true) /
/// (1 + z_true)`:
#[derive(Clone, Debug, PartialEq)]
pub struct PointMetrics {
    /// Number of objects.
    pub n: usize,
    /// `mean (z_pred − z_true)²`.
    pub mse: f64,
    /// `mean |z_pred − z_true|`.
    pub mae: f64,
    /// `1 − Σ(z_pred − z_true)² / Σ(z_true − mean z_true)²`; `None` when every `z_true` is the
    /// same (the denominator is zero).
    pub r2: Option<f64>,
    /// `mean Δz` (the bias as in Lin et al. 2022's code).
    pub bias: f64,
    /// `median Δz` (the bias as in LSST/RAIL).
    pub bias_median: f64,
    /// `1.4826 · median |Δz − median Δz|`.
    pub sigma_nmad: f64,
    /// Fraction with `|Δz| > 0.15` (catastrophic outliers, photo-z convention).
    pub eta_0_15: f64,
    /// Fraction with `|Δz| > 0.05` (Pasquet et al. 2019's SDSS convention).
    pub eta_0_05: f64,
    /// Fraction with `|Δz| > 0.01`.
    pub frac_0_01: f64,
    /// Fraction with `|Δz| ≤ 0.003`, i.e. `|z_pred − z_true| ≤ 0.003 (1 + z_true)`.
    pub success_0_003: f64,
}

impl PointMetrics {
    /// Computes every metric. Errors on empty or mismatched inputs, non-finite values (naming
    /// the array and index) and `z_true ≤ −1`.
    pub fn compute(z_pred: &[f64], z_true: &[f64]) -> Result<Self, String> {
        let dz = delta_z(z_pred, z_true)?;
        let n = dz.len();
        let count = n as f64;
        let errors: Vec<f64> = z_pred.iter().zip(z_true).map(|(p, t)| p - t).collect();
        let bias_median = median_of(&dz);
        let absolute_deviations: Vec<f64> = dz.iter().map(|d| (d - bias_median).abs()).collect();
        let fraction =
            |keep: &dyn Fn(f64) -> bool| dz.iter().filter(|d| keep(d.abs())).count() as f64 / count;
        Ok(Self {
            n,
            mse: errors.iter().map(|e| e * e).sum::<f64>() / count,
            mae: errors.iter().map(|e| e.abs()).sum::<f64>() / count,
            r2: r_squared(&errors, z_true),
            bias: dz.iter().sum::<f64>() / count,
            bias_median,
            sigma_nmad: NMAD_SCALE * median_of(&absolute_deviations),
            eta_0_15: fraction(&|a| a > 0.15),
            eta_0_05: fraction(&|a| a > 0.05),
            frac_0_01: fraction(&|a| a > 0.01),
            success_0_003: fraction(&|a| a <= 0.003),
        })
    }
}

/// `R² = 1 − SS_res / SS_tot` on z; `None` when `SS_tot = 0`.
fn r_squared(errors: &[f64], z_true: &[f64]) -> Option<f64> {
    let mean_true = z_true.iter().sum::<f64>() / z_true.len() as f64;
    let ss_total: f64 = z_true.iter().map(|z| (z - mean_true).powi(2)).sum();
    let ss_residual: f64 = errors.iter().map(|e| e * e).sum();
    (ss_total > 0.0).then(|| 1.0 - ss_residual / ss_total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn hand_computed_case() {
        // z_true = [0, 0.5, 1, 1, 2], z_pred = [0, 0.53, 0.8, 1.004, 2.9]
        // errors e = [0, 0.03, −0.2, 0.004, 0.9]
        //   MSE = (0 + 0.0009 + 0.04 + 0.000016 + 0.81)/5 = 0.850916/5 = 0.1701832
        //   MAE = (0 + 0.03 + 0.2 + 0.004 + 0.9)/5 = 1.134/5 = 0.2268
        //   mean z_true = 0.9, SS_tot = 0.81 + 0.16 + 0.01 + 0.01 + 1.21 = 2.2
        //   R² = 1 − 0.850916/2.2 = 0.61322
        // Δz = [0, 0.03/1.5, −0.2/2, 0.004/2, 0.9/3] = [0, 0.02, −0.1, 0.002, 0.3]
        //   bias = 0.222/5 = 0.0444; sorted Δz = [−0.1, 0, 0.002, 0.02, 0.3] → median 0.002
        //   |Δz − 0.002| = [0.002, 0.018, 0.102, 0, 0.298] → median 0.018
        //   σ_NMAD = 1.4826 · 0.018 = 0.0266868
        //   |Δz| > 0.15: {0.3} → 0.2; > 0.05: {0.1, 0.3} → 0.4; > 0.01: {0.02, 0.1, 0.3} → 0.6
        //   |Δz| ≤ 0.003: {0, 0.002} → 0.4
        let z_true = [0.0, 0.5, 1.0, 1.0, 2.0];
        let z_pred = [0.0, 0.53, 0.8, 1.004, 2.9];
        let m = PointMetrics::compute(&z_pred, &z_true).expect("valid");
        assert_eq!(m.n, 5);
        assert!(close(m.mse, 0.1701832), "mse {}", m.mse);
        assert!(close(m.mae, 0.2268), "mae {}", m.mae);
        assert!(
            close(m.r2.expect("varied z_true"), 1.0 - 0.850916 / 2.2),
            "r2 {:?}",
            m.r2
        );
        assert!(close(m.bias, 0.0444), "bias {}", m.bias);
        assert!(close(m.bias_median, 0.002), "median {}", m.bias_median);
        assert!(close(m.sigma_nmad, 1.4826 * 0.018), "nmad {}", m.sigma_nmad);
        assert!(close(m.eta_0_15, 0.2));
        assert!(close(m.eta_0_05, 0.4));
        assert!(close(m.frac_0_01, 0.6));
        assert!(close(m.success_0_003, 0.4));
    }

    #[test]
    fn perfect_predictions() {
        let z = [0.1, 0.2, 0.7];
        let m = PointMetrics::compute(&z, &z).expect("valid");
        assert_eq!((m.mse, m.mae, m.bias, m.sigma_nmad), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(m.r2, Some(1.0));
        assert_eq!((m.eta_0_15, m.success_0_003), (0.0, 1.0));
    }

    #[test]
    fn r2_is_none_for_constant_truth_and_errors_are_reported() {
        let m = PointMetrics::compute(&[1.0, 1.2], &[1.1, 1.1]).expect("valid");
        assert_eq!(m.r2, None);
        let err = PointMetrics::compute(&[1.0, f64::NAN], &[1.1, 1.1]).expect_err("NaN");
        assert!(err.contains("z_pred[1]"), "{err}");
        assert!(PointMetrics::compute(&[], &[]).is_err());
    }
}
