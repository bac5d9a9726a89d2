//! Scores of PDFs over redshift bins against the true redshifts, under RAIL/qp's names:
//! the CDE loss (`rail/evaluation/metrics/cdeloss.py`, Izbicki & Lee 2017) and the Brier score
//! (`qp/metrics/brier.py`). Lower is better for both.
//!
//! A classifier's output `p_k` is the probability of bin `k`, i.e. the piecewise-constant
//! density `f(z) = p_k / Δz` inside bin `k` (qp's `hist` parametrisation). PDFs are
//! normalised by their sum. A `z_true` outside the bins is an error naming the object.

use super::mean;
use super::pdf::pdf_rows_matching;
use crate::redshift::estimates::check_pdf;
use crate::redshift::ZBinning;

/// The conditional density estimation loss of Izbicki & Lee (2017, arXiv:1704.08095, eq. 3),
///
/// ```text
/// L = E_X[ ∫ f(z|x)² dz ] − 2 E_(X,Z)[ f(Z|X) ]
///   = 1/N Σ_i ( Σ_k p_ik² − 2 p_i,b(z_i) ) / Δz          (hist density, exact integral)
/// ```
///
/// with `b(z_i)` the bin of the true redshift. RAIL integrates with the trapezoid rule on a
/// grid; on the bin centres that differs from this exact integral only by half of the two
/// end bins' terms.
pub fn cde_loss(binning: &ZBinning, pdfs: &[f32], z_true: &[f64]) -> Result<f64, String> {
    Ok(mean(&cde_loss_per_object(binning, pdfs, z_true)?))
}

/// Each object's term `(Σ_k p_ik² − 2 p_i,b(z_i)) / Δz` of [`cde_loss`].
pub fn cde_loss_per_object(
    binning: &ZBinning,
    pdfs: &[f32],
    z_true: &[f64],
) -> Result<Vec<f64>, String> {
    per_object(binning, pdfs, z_true, |pdf, true_bin| {
        let square_sum: f64 = pdf.iter().map(|p| p * p).sum();
        (square_sum - 2.0 * pdf[true_bin]) / binning.width()
    })
}

/// The Brier score over the bins (Brier 1950; qp's `Brier.evaluate` on probabilities and a
/// one-hot truth):
///
/// ```text
/// BS = 1/N Σ_i Σ_k (p_ik − o_ik)²,   o_ik = 1 if k = b(z_i) else 0
/// ```
///
/// qp's `calculate_brier` first evaluates the PDF on a 0.01 grid; zcnn scores its own bins.
pub fn brier_score(binning: &ZBinning, pdfs: &[f32], z_true: &[f64]) -> Result<f64, String> {
    Ok(mean(&brier_score_per_object(binning, pdfs, z_true)?))
}

/// Each object's term `Σ_k (p_ik − o_ik)²` of [`brier_score`].
pub fn brier_score_per_object(
    binning: &ZBinning,
    pdfs: &[f32],
    z_true: &[f64],
) -> Result<Vec<f64>, String> {
    per_object(binning, pdfs, z_true, |pdf, true_bin| {
        pdf.iter()
            .enumerate()
            .map(|(k, p)| {
                let outcome = if k == true_bin { 1.0 } else { 0.0 };
                (p - outcome).powi(2)
            })
            .sum()
    })
}

/// `score(normalised PDF, bin of z_true)` of each object.
fn per_object(
    binning: &ZBinning,
    pdfs: &[f32],
    z_true: &[f64],
    score: impl Fn(&[f64], usize) -> f64,
) -> Result<Vec<f64>, String> {
    let rows = pdf_rows_matching(binning, pdfs, z_true)?;
    let mut scores = Vec::with_capacity(z_true.len());
    let mut normalised = vec![0.0; binning.bins()];
    for (i, (pdf, &z)) in rows.zip(z_true).enumerate() {
        let total = check_pdf(binning, pdf).map_err(|e| format!("object {i}: {e}"))?;
        let true_bin = binning
            .bin_of(z)
            .map_err(|e| format!("object {i}: z_true: {e}"))?;
        for (n, &p) in normalised.iter_mut().zip(pdf) {
            *n = p as f64 / total;
        }
        scores.push(score(&normalised, true_bin));
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_scores() {
        // 4 bins of width 0.25 on [0, 1); p = [0.1, 0.2, 0.3, 0.4], z_true = 0.3 (bin 1).
        // CDE: (Σ p² − 2 p_1)/Δz = (0.30 − 0.4)/0.25 = −0.4.
        // Brier: 0.1² + 0.8² + 0.3² + 0.4² = 0.01 + 0.64 + 0.09 + 0.16 = 0.90.
        // Second object one-hot in bin 3 with z_true in bin 3: CDE (1 − 2)/0.25 = −4, Brier 0.
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let pdfs = [0.1, 0.2, 0.3, 0.4, 0.0, 0.0, 0.0, 1.0];
        let z = [0.3, 0.9];
        let cde = cde_loss(&b, &pdfs, &z).expect("valid");
        assert!((cde - (-0.4 - 4.0) / 2.0).abs() < 1e-6, "{cde}");
        let brier = brier_score(&b, &pdfs, &z).expect("valid");
        assert!((brier - 0.45).abs() < 1e-6, "{brier}");
    }

    #[test]
    fn unnormalised_pdfs_are_normalised() {
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let scaled = [0.2, 0.4, 0.6, 0.8];
        let brier = brier_score(&b, &scaled, &[0.3]).expect("valid");
        assert!((brier - 0.9).abs() < 1e-6, "{brier}");
    }

    #[test]
    fn errors_name_the_object() {
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let pdfs = [0.1, 0.2, 0.3, 0.4, 0.0, -1.0, 0.0, 1.0];
        let err = cde_loss(&b, &pdfs, &[0.3, 0.1]).expect_err("negative");
        assert!(err.contains("object 1"), "{err}");
        let err = brier_score(&b, &pdfs[..4], &[1.5]).expect_err("outside");
        assert!(err.contains("object 0"), "{err}");
        assert!(brier_score(&b, &pdfs[..4], &[0.1, 0.2]).is_err());
    }
}
