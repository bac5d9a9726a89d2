//! Metrics of predicted PDFs over redshift bins: CRPS and PIT.

use crate::redshift::estimates::{cdf_at, check_pdf, pdf_rows};
use crate::redshift::ZBinning;

/// The binned CRPS of each object, as in Lin et al. (2022)'s `PZbias_main.py`:
///
/// ```text
/// CRPS_i = Σ_k (C_pred,k − C_true,k)² · Δz_bin,   C_pred,k = Σ_{j≤k} p_j,
///                                                  C_true,k = 1 if k ≥ bin(z_true) else 0
/// ```
///
/// (the cumulative sums of the PDF and of the one-hot truth). A PDF that is one-hot at the
/// true bin scores 0. Errors name the row with a bad PDF or a `z_true` outside the range.
pub fn crps_per_object(
    binning: &ZBinning,
    pdfs: &[f32],
    z_true: &[f64],
) -> Result<Vec<f64>, String> {
    let rows = pdf_rows_matching(binning, pdfs, z_true)?;
    rows.zip(z_true)
        .enumerate()
        .map(|(i, (pdf, &z))| {
            crps_of_row(binning, pdf, z).map_err(|e| format!("CRPS of object {i}: {e}"))
        })
        .collect()
}

/// The mean of [`crps_per_object`] over the objects.
pub fn mean_crps(binning: &ZBinning, pdfs: &[f32], z_true: &[f64]) -> Result<f64, String> {
    Ok(super::mean(&crps_per_object(binning, pdfs, z_true)?))
}

/// The PIT of each object, `PIT_i = C_pred,i(z_true,i)` with the CDF linear inside each bin
/// ([`cdf_at`]). Uniform on [0, 1] when the PDFs are calibrated: a U-shaped histogram means
/// over-confident PDFs, a ∩ shape over-dispersed ones, a tilt a bias.
pub fn pit_values(binning: &ZBinning, pdfs: &[f32], z_true: &[f64]) -> Result<Vec<f64>, String> {
    let rows = pdf_rows_matching(binning, pdfs, z_true)?;
    rows.zip(z_true)
        .enumerate()
        .map(|(i, (pdf, &z))| {
            if !z.is_finite() {
                return Err(format!("z_true[{i}] is {z} (must be finite)"));
            }
            cdf_at(binning, pdf, z).map_err(|e| format!("PIT of object {i}: {e}"))
        })
        .collect()
}

/// Counts of PIT values in `bins` equal bins of [0, 1] (a PIT of exactly 1 goes to the last
/// bin). A calibrated model gives about `n / bins` in each. Errors on an empty input, zero
/// bins, or a value outside [0, 1] (naming its index).
pub fn pit_histogram(pit: &[f64], bins: usize) -> Result<Vec<usize>, String> {
    if bins == 0 {
        return Err("PIT histogram: bins must be at least 1".to_string());
    }
    if pit.is_empty() {
        return Err("PIT histogram: no values".to_string());
    }
    let mut counts = vec![0; bins];
    for (i, &value) in pit.iter().enumerate() {
        if !(0.0..=1.0).contains(&value) {
            return Err(format!("PIT[{i}] = {value} is outside [0, 1]"));
        }
        let bin = ((value * bins as f64) as usize).min(bins - 1);
        counts[bin] += 1;
    }
    Ok(counts)
}

fn crps_of_row(binning: &ZBinning, pdf: &[f32], z_true: f64) -> Result<f64, String> {
    let total = check_pdf(binning, pdf)?;
    let true_bin = binning.bin_of(z_true)?;
    let mut cdf_pred = 0.0;
    let mut sum = 0.0;
    for (k, &p) in pdf.iter().enumerate() {
        cdf_pred += p as f64 / total;
        let cdf_true = if k >= true_bin { 1.0 } else { 0.0 };
        sum += (cdf_pred - cdf_true) * (cdf_pred - cdf_true);
    }
    Ok(sum * binning.width())
}

/// The rows of a `[n, bins]` PDF matrix, checked to number one per `z_true`.
pub(crate) fn pdf_rows_matching<'a>(
    binning: &ZBinning,
    pdfs: &'a [f32],
    z_true: &[f64],
) -> Result<std::slice::ChunksExact<'a, f32>, String> {
    let rows = pdf_rows(binning, pdfs)?;
    if rows.len() != z_true.len() {
        return Err(format!(
            "{} PDF rows but {} z_true values",
            rows.len(),
            z_true.len()
        ));
    }
    if z_true.is_empty() {
        return Err("no objects".to_string());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redshift::labels::{soft_label, LabelWidth};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn crps_of_a_perfect_one_hot_is_zero() {
        let b = ZBinning::new(1.0, 1.8, 800).expect("valid");
        let mut pdf = vec![0.0; 800];
        pdf[123] = 1.0;
        assert_eq!(mean_crps(&b, &pdf, &[b.center(123)]), Ok(0.0));
    }

    #[test]
    fn crps_hand_computed() {
        // 4 bins of width 0.25 on [0, 1); p = [0.1, 0.2, 0.3, 0.4], z_true = 0.3 (bin 1).
        // C_pred = [0.1, 0.3, 0.6, 1.0], C_true = [0, 1, 1, 1]
        // Σ (C_pred − C_true)² = 0.01 + 0.49 + 0.16 + 0 = 0.66 → CRPS = 0.66 · 0.25 = 0.165
        // Second object: one-hot at bin 3, z_true in bin 0: C_pred = [0,0,0,1], C_true = 1
        // everywhere → Σ = 3 → 0.75. Mean = (0.165 + 0.75)/2 = 0.4575.
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let pdfs = [0.1, 0.2, 0.3, 0.4, 0.0, 0.0, 0.0, 1.0];
        let values = crps_per_object(&b, &pdfs, &[0.3, 0.1]).expect("valid");
        assert!((values[0] - 0.165).abs() < 1e-7, "{}", values[0]);
        assert!((values[1] - 0.75).abs() < 1e-12, "{}", values[1]);
        let mean = mean_crps(&b, &pdfs, &[0.3, 0.1]).expect("valid");
        assert!((mean - 0.4575).abs() < 1e-7);
    }

    #[test]
    fn crps_errors_name_the_object() {
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let pdfs = [0.1, 0.2, 0.3, 0.4, 0.0, f32::NAN, 0.0, 1.0];
        let err = mean_crps(&b, &pdfs, &[0.3, 0.1]).expect_err("NaN");
        assert!(err.contains("object 1"), "{err}");
        assert!(mean_crps(&b, &pdfs[..4], &[0.3, 0.1]).is_err());
        assert!(mean_crps(&b, &pdfs[..4], &[1.3]).is_err());
        assert!(mean_crps(&b, &[], &[]).is_err());
    }

    /// Standard normal deviate by Box–Muller (rand 0.8 has no normal distribution without
    /// rand_distr).
    fn standard_normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
        let u1: f64 = 1.0 - rng.gen::<f64>();
        let u2: f64 = rng.gen();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// χ² of PIT counts against a flat histogram, for PDFs of width `predicted_sigma` when
    /// the truth scatters with `true_sigma` around each PDF's centre.
    fn pit_chi_square(true_sigma: f64, predicted_sigma: f64) -> f64 {
        let b = ZBinning::new(0.0, 1.0, 500).expect("valid");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let n = 20_000;
        let mut pdfs = vec![0.0f32; n * 500];
        let mut z_true = Vec::with_capacity(n);
        for row in pdfs.chunks_exact_mut(500) {
            let center = 0.3 + 0.4 * rng.gen::<f64>();
            soft_label(&b, center, LabelWidth::Z(predicted_sigma), row).expect("valid");
            z_true.push(center + true_sigma * standard_normal(&mut rng));
        }
        let pit = pit_values(&b, &pdfs, &z_true).expect("valid");
        let counts = pit_histogram(&pit, 10).expect("valid");
        let expected = n as f64 / 10.0;
        counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum()
    }

    #[test]
    fn pit_of_a_calibrated_toy_is_flat() {
        // 9 degrees of freedom: P(χ² > 40) ≈ 7e-6. The truth is drawn from each predicted
        // Gaussian (σ = 10 bins), so the PIT is uniform up to the in-bin linear CDF.
        let chi_square = pit_chi_square(0.02, 0.02);
        assert!(chi_square < 40.0, "calibrated χ² = {chi_square}");
        // The same check fails for over-confident PDFs (σ_pred = σ_true / 3).
        let over_confident = pit_chi_square(0.02, 0.02 / 3.0);
        assert!(
            over_confident > 1000.0,
            "over-confident χ² = {over_confident}"
        );
    }

    #[test]
    fn pit_histogram_counts_and_edges() {
        assert_eq!(
            pit_histogram(&[0.0, 0.05, 0.5, 0.99, 1.0], 4),
            Ok(vec![2, 0, 1, 2])
        );
        assert!(pit_histogram(&[1.2], 4).is_err());
        assert!(pit_histogram(&[f64::NAN], 4).is_err());
        assert!(pit_histogram(&[0.5], 0).is_err());
        assert!(pit_histogram(&[], 4).is_err());
    }

    #[test]
    fn pit_of_z_outside_the_range_is_0_or_1() {
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let pdfs = [0.25f32; 8];
        assert_eq!(pit_values(&b, &pdfs, &[-0.5, 2.0]), Ok(vec![0.0, 1.0]));
        assert!(pit_values(&b, &pdfs, &[f64::NAN, 2.0]).is_err());
    }
}
