//! The scatter σ₂ of Step 3 per magnitude output and z_spec bin, research notes §1.9b: how
//! far the Step 2 estimates of objects in that bin scatter, smoothed along z and added in
//! quadrature to σ₁. It sets the width of the truncated Gaussian whose centre of mass decides
//! the label shift (§1.9c).

use super::kernel::gaussian_weight;
use super::magnitude_rows::MagnitudeRows;
use super::sample::Sample;
use crate::redshift::binning::ZBinning;

/// σ₂[k][j] in bins for every output k and base bin j, from `subset` (the balanced subset with
/// its Step 2 photo-z) and σ₁ per output ([`fit_dispersions`](super::fit_dispersions)):
///
/// 1. `v(j) = ½ [median + mean] of ((z_photo − z_spec) / w)²` over the objects of output k
///    (rows {2k − 1, 2k, 2k + 1}) with z_spec in bin j;
/// 2. `s = Σ_j v'(j) · g_j / Σ g_j`, `g_j(t) = exp(−½ ((t − j)/σ₁)²)` for t in the populated
///    range [j_lo, j_hi] (0 outside it), summed over j in that range, where `v'(j) = v(j)`
///    for a populated bin and the last populated bin's value for an empty one;
/// 3. `σ₂(j) = √(s(j) + σ₁²)`.
///
/// As in the authors' code a bin counts as populated when `v(j) > 0` (one whose residuals
/// are all exactly zero counts as empty), and an output without populated bins gets σ₂ = σ₁.
pub fn fit_scatters(
    base: &ZBinning,
    rows: &MagnitudeRows,
    subset: &Sample,
    sigma1: &[f64],
) -> Result<Vec<Vec<f64>>, String> {
    subset.check("balanced subset", rows)?;
    if sigma1.len() != rows.outputs() {
        return Err(format!(
            "σ₂ fit: expected σ₁ for {} outputs, found {}",
            rows.outputs(),
            sigma1.len()
        ));
    }
    if let Some(k) = sigma1.iter().position(|s| !s.is_finite() || *s < 0.0) {
        return Err(format!(
            "σ₂ fit: σ₁[{k}] = {} must be finite and ≥ 0",
            sigma1[k]
        ));
    }
    let squared = squared_residuals_per_bin(base, rows, subset);
    Ok(squared
        .into_iter()
        .zip(sigma1)
        .map(|(per_bin, &sigma1)| {
            let v: Vec<f64> = per_bin.into_iter().map(half_median_plus_mean).collect();
            smooth_populated(&v, sigma1)
                .into_iter()
                .map(|s| (s + sigma1 * sigma1).sqrt())
                .collect()
        })
        .collect())
}

/// `((z_photo − z_spec)/w)²` of every object, grouped by output and z_spec bin:
/// `[k][j] → values`. Objects with z_spec outside the base range are left out.
fn squared_residuals_per_bin(
    base: &ZBinning,
    rows: &MagnitudeRows,
    subset: &Sample,
) -> Vec<Vec<Vec<f64>>> {
    let width = base.width();
    let mut grouped = vec![vec![Vec::new(); base.bins()]; rows.outputs()];
    for ((&z_spec, &z_photo), &row) in subset.z_spec.iter().zip(subset.z_photo).zip(subset.row) {
        let Ok(bin) = base.bin_of(z_spec) else {
            continue;
        };
        let squared = ((z_photo - z_spec) / width).powi(2);
        for k in rows.active_outputs(row) {
            grouped[k][bin].push(squared);
        }
    }
    grouped
}

/// `½ (median + mean)` of `values`, 0 when empty (the median of an even count is the mean of
/// the two middle values).
fn half_median_plus_mean(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    };
    let mean = values.iter().sum::<f64>() / n as f64;
    0.5 * (median + mean)
}

/// Step 2 of [`fit_scatters`]: each bin of the populated range spreads its value (or the last
/// populated value) over that range with a Gaussian of σ₁ bins, normalised over the range.
fn smooth_populated(v: &[f64], sigma1: f64) -> Vec<f64> {
    let mut smoothed = vec![0.0; v.len()];
    let (Some(low), Some(high)) = (
        v.iter().position(|&x| x > 0.0),
        v.iter().rposition(|&x| x > 0.0),
    ) else {
        return smoothed;
    };
    let mut previous = 0.0;
    for (j, &value) in v.iter().enumerate().take(high + 1).skip(low) {
        if value > 0.0 {
            previous = value;
        }
        let kernel: Vec<f64> = (low..=high)
            .map(|t| gaussian_weight(t as f64 - j as f64, sigma1))
            .collect();
        let norm: f64 = kernel.iter().sum();
        for (s, g) in smoothed[low..=high].iter_mut().zip(&kernel) {
            *s += previous * g / norm;
        }
    }
    smoothed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_median_plus_mean_by_hand() {
        // median 2, mean 5 → 3.5; even count: median (1 + 3)/2 = 2, mean 2 → 2.
        assert_eq!(half_median_plus_mean(vec![12.0, 1.0, 2.0]), 3.5);
        assert_eq!(half_median_plus_mean(vec![3.0, 1.0]), 2.0);
        assert_eq!(half_median_plus_mean(Vec::new()), 0.0);
    }

    #[test]
    fn smoothing_stays_in_the_populated_range_and_fills_gaps() {
        // Populated bins 1 and 3 (bin 2 empty, reuses 4.0); σ₁ = 0 keeps each value in place.
        let v = [0.0, 4.0, 0.0, 9.0, 0.0];
        assert_eq!(smooth_populated(&v, 0.0), vec![0.0, 4.0, 4.0, 9.0, 0.0]);
        // A huge σ₁ spreads each of the three values evenly over bins 1..=3:
        // (4 + 4 + 9) / 3 in each.
        let s = smooth_populated(&v, 1e9);
        assert_eq!(s[0], 0.0);
        assert_eq!(s[4], 0.0);
        for x in &s[1..=3] {
            assert!((x - 17.0 / 3.0).abs() < 1e-9, "{s:?}");
        }
        // The smoothing keeps the total: Σ s = Σ v'.
        let s = smooth_populated(&v, 1.0);
        assert!((s.iter().sum::<f64>() - 17.0).abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn scatter_by_hand() {
        // One output (one row), 4 bins of width 0.25; σ₁ = 0 (no smoothing).
        let base = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let rows = MagnitudeRows::new(0.0, 1.0, 1).expect("one row");
        // Bin 1: residuals of 0.25 and 0.5 (1 and 2 bins): squares 1, 4 → ½(2.5 + 2.5) = 2.5.
        // Bin 3: residual 0.75 (3 bins): 9. Bin 2 is empty and reuses 2.5; bin 0 stays 0.
        let subset = Sample {
            z_spec: &[0.3, 0.3, 0.8],
            z_photo: &[0.55, 0.8, 0.05],
            row: &[0, 0, 0],
        };
        let s = fit_scatters(&base, &rows, &subset, &[0.0]).expect("valid");
        let expected = [0.0, 2.5f64.sqrt(), 2.5f64.sqrt(), 3.0];
        for (found, e) in s[0].iter().zip(expected) {
            assert!((found - e).abs() < 1e-12, "{s:?}");
        }
        // σ₁ = 2 adds 4 in quadrature where nothing was measured.
        let s = fit_scatters(&base, &rows, &subset, &[2.0]).expect("valid");
        assert!((s[0][0] - 2.0).abs() < 1e-12, "{s:?}");
        assert!(fit_scatters(&base, &rows, &subset, &[0.0, 1.0]).is_err());
        assert!(fit_scatters(&base, &rows, &subset, &[f64::NAN]).is_err());
    }
}
