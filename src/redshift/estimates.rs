//! Point estimates and the CDF of a PDF over redshift bins (a classifier's softmax output).
//!
//! The PDF is `p_k` for bin `k`, taken as uniform inside each bin. It is normalised by its sum
//! here, so a softmax that sums to `1 ± 1e-6` gives the same answer as an exact one.

use super::binning::ZBinning;
use super::quantiles::quantile;

/// Which point estimate to take from a PDF (the papers differ: Lin et al. 2022 use the mode,
/// Pasquet et al. 2019 and Lin et al. 2024 the mean).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointEstimator {
    /// Centre of the most probable bin ([`mode`]).
    Mode,
    /// Expectation `Σ p_k z_k` ([`mean`]).
    Mean,
    /// Where the CDF crosses ½ ([`median`]).
    Median,
}

/// The centre of the most probable bin (the first one on ties).
pub fn mode(binning: &ZBinning, pdf: &[f32]) -> Result<f64, String> {
    Ok(binning.center(argmax_bin(binning, pdf)?))
}

/// The index of the most probable bin (the first one on ties): the predicted class.
pub fn argmax_bin(binning: &ZBinning, pdf: &[f32]) -> Result<usize, String> {
    check_pdf(binning, pdf)?;
    let mut best = 0;
    for (k, &p) in pdf.iter().enumerate() {
        if p > pdf[best] {
            best = k;
        }
    }
    Ok(best)
}

/// The mean `Σ_k p_k z_k / Σ_k p_k`, with `z_k` the bin centres.
pub fn mean(binning: &ZBinning, pdf: &[f32]) -> Result<f64, String> {
    let total = check_pdf(binning, pdf)?;
    let weighted: f64 = pdf
        .iter()
        .enumerate()
        .map(|(k, &p)| p as f64 * binning.center(k))
        .sum();
    Ok(weighted / total)
}

/// The median: the z where the CDF, linear inside each bin, crosses ½ ([`quantile`] at ½).
pub fn median(binning: &ZBinning, pdf: &[f32]) -> Result<f64, String> {
    quantile(binning, pdf, 0.5)
}

/// The CDF of the PDF at `z`, linear inside each bin: 0 below `z_min`, 1 at and above `z_max`,
/// and `C_{b−1} + p_b · (z − edge_b) / width` in bin `b`. `PIT = cdf_at(pdf, z_true)`.
pub fn cdf_at(binning: &ZBinning, pdf: &[f32], z: f64) -> Result<f64, String> {
    let total = check_pdf(binning, pdf)?;
    if z.is_nan() {
        return Err("CDF: z is NaN".to_string());
    }
    if z < binning.z_min() {
        return Ok(0.0);
    }
    if z >= binning.z_max() {
        return Ok(1.0);
    }
    let bin = binning.bin_of(z)?;
    let below: f64 = pdf[..bin].iter().map(|&p| p as f64).sum();
    let fraction = (z - binning.edge(bin)) / binning.width();
    Ok(((below + pdf[bin] as f64 * fraction) / total).clamp(0.0, 1.0))
}

/// One point estimate per row of a `[n, bins]` row-major matrix of PDFs. Errors name the row.
pub fn point_estimates(
    binning: &ZBinning,
    pdfs: &[f32],
    estimator: PointEstimator,
) -> Result<Vec<f64>, String> {
    pdf_rows(binning, pdfs)?
        .enumerate()
        .map(|(row, pdf)| {
            let estimate = match estimator {
                PointEstimator::Mode => mode(binning, pdf),
                PointEstimator::Mean => mean(binning, pdf),
                PointEstimator::Median => median(binning, pdf),
            };
            estimate.map_err(|e| format!("PDF row {row}: {e}"))
        })
        .collect()
}

/// The predicted class (argmax bin) of each row of a `[n, bins]` matrix of PDFs.
pub fn argmax_bins(binning: &ZBinning, pdfs: &[f32]) -> Result<Vec<usize>, String> {
    pdf_rows(binning, pdfs)?
        .enumerate()
        .map(|(row, pdf)| argmax_bin(binning, pdf).map_err(|e| format!("PDF row {row}: {e}")))
        .collect()
}

/// Splits a `[n, bins]` matrix into rows, checking its length.
pub(crate) fn pdf_rows<'a>(
    binning: &ZBinning,
    pdfs: &'a [f32],
) -> Result<std::slice::ChunksExact<'a, f32>, String> {
    let bins = binning.bins();
    if !pdfs.len().is_multiple_of(bins) {
        return Err(format!(
            "PDF matrix: length {} is not a multiple of {bins} bins",
            pdfs.len()
        ));
    }
    Ok(pdfs.chunks_exact(bins))
}

/// Checks that `pdf` has one finite, non-negative value per bin and a positive sum; returns
/// the sum.
pub(crate) fn check_pdf(binning: &ZBinning, pdf: &[f32]) -> Result<f64, String> {
    if pdf.len() != binning.bins() {
        return Err(format!(
            "PDF: expected {} values (one per bin), found {}",
            binning.bins(),
            pdf.len()
        ));
    }
    if let Some(k) = pdf.iter().position(|p| !p.is_finite() || *p < 0.0) {
        return Err(format!(
            "PDF: bin {k} is {} (must be finite and ≥ 0)",
            pdf[k]
        ));
    }
    let total: f64 = pdf.iter().map(|&p| p as f64).sum();
    if total <= 0.0 {
        return Err("PDF: all bins are zero".to_string());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten bins of width 0.1 on [0, 1): centres 0.05, 0.15, ..., 0.95.
    fn tenths() -> ZBinning {
        ZBinning::new(0.0, 1.0, 10).expect("valid")
    }

    const EPS: f64 = 1e-6;

    #[test]
    fn estimates_of_a_one_hot_pdf_are_its_bin() {
        let b = tenths();
        let mut pdf = vec![0.0; 10];
        pdf[3] = 1.0;
        assert!((mode(&b, &pdf).expect("valid") - 0.35).abs() < EPS);
        assert!((mean(&b, &pdf).expect("valid") - 0.35).abs() < EPS);
        // The CDF crosses ½ in the middle of bin 3.
        assert!((median(&b, &pdf).expect("valid") - 0.35).abs() < EPS);
    }

    #[test]
    fn estimates_of_a_skewed_pdf() {
        let b = tenths();
        // p = 0.5 in bin 1, 0.2 in bin 2, 0.3 in bin 8.
        let mut pdf = vec![0.0; 10];
        pdf[1] = 0.5;
        pdf[2] = 0.2;
        pdf[8] = 0.3;
        // mode: centre of bin 1 = 0.15.
        assert!((mode(&b, &pdf).expect("valid") - 0.15).abs() < EPS);
        // mean: 0.5·0.15 + 0.2·0.25 + 0.3·0.85 = 0.075 + 0.05 + 0.255 = 0.38.
        assert!((mean(&b, &pdf).expect("valid") - 0.38).abs() < EPS);
        // median: C crosses ½ exactly at the top of bin 1 → 0.2.
        assert!((median(&b, &pdf).expect("valid") - 0.2).abs() < EPS);
    }

    #[test]
    fn median_interpolates_inside_the_crossing_bin_and_ignores_normalisation() {
        let b = tenths();
        // Unnormalised: 1, 2, 1 in bins 4, 5, 6 → 0.25, 0.5, 0.25. C_4 = 0.25; ½ is reached
        // half-way through bin 5 → 0.55. With 1, 1, 2: C_5 = 0.5 at the top of bin 5 → 0.6.
        let mut pdf = vec![0.0; 10];
        pdf[4] = 1.0;
        pdf[5] = 2.0;
        pdf[6] = 1.0;
        assert!((median(&b, &pdf).expect("valid") - 0.55).abs() < EPS);
        pdf[5] = 1.0;
        pdf[6] = 2.0;
        assert!((median(&b, &pdf).expect("valid") - 0.6).abs() < EPS);
        // 0.1, 0.6, 0.3 in bins 0..3: ½ at 0.1 + 0.1·(0.4/0.6) = 0.16667.
        let pdf = [0.1, 0.6, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert!((median(&b, &pdf).expect("valid") - (0.1 + 0.1 * 0.4 / 0.6)).abs() < EPS);
    }

    #[test]
    fn mode_takes_the_first_bin_on_ties() {
        let b = tenths();
        let pdf = [0.0, 0.4, 0.2, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(argmax_bin(&b, &pdf), Ok(1));
    }

    #[test]
    fn cdf_is_linear_inside_bins() {
        let b = tenths();
        let pdf = [0.1, 0.6, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(cdf_at(&b, &pdf, -1.0), Ok(0.0));
        assert!((cdf_at(&b, &pdf, 0.0).expect("valid")).abs() < EPS);
        assert!((cdf_at(&b, &pdf, 0.05).expect("valid") - 0.05).abs() < EPS);
        assert!((cdf_at(&b, &pdf, 0.125).expect("valid") - 0.25).abs() < EPS);
        assert!((cdf_at(&b, &pdf, 0.3).expect("valid") - 1.0).abs() < EPS);
        assert_eq!(cdf_at(&b, &pdf, 1.0), Ok(1.0));
        assert!(cdf_at(&b, &pdf, f64::NAN).is_err());
    }

    #[test]
    fn batch_estimates_and_bad_pdfs() {
        let b = tenths();
        let mut pdfs = vec![0.0; 20];
        pdfs[2] = 1.0;
        pdfs[10 + 7] = 1.0;
        let modes = point_estimates(&b, &pdfs, PointEstimator::Mode).expect("valid");
        assert!((modes[0] - 0.25).abs() < EPS && (modes[1] - 0.75).abs() < EPS);
        assert_eq!(argmax_bins(&b, &pdfs), Ok(vec![2, 7]));

        pdfs[13] = f32::NAN;
        let err = point_estimates(&b, &pdfs, PointEstimator::Mean).expect_err("NaN");
        assert!(err.contains("row 1") && err.contains("bin 3"), "{err}");
        assert!(point_estimates(&b, &pdfs[..19], PointEstimator::Mean).is_err());
        assert!(mean(&b, &[0.0; 10]).is_err());
        assert!(mean(&b, &[-0.1; 10]).is_err());
        assert!(mode(&b, &[0.1; 9]).is_err());
    }
}
