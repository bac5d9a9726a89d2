//! Quantiles of a PDF over redshift bins, and the summary every output format carries.

use super::binning::ZBinning;
use super::estimates::check_pdf;

/// The `q`-quantile (`0 < q < 1`) of a PDF: the z where its CDF, linear inside each bin,
/// crosses `q`. In the bin `k` where `C_{k−1} < q ≤ C_k`: `z = edge_k + Δz (q − C_{k−1}) / p_k`.
pub fn quantile(binning: &ZBinning, pdf: &[f32], q: f64) -> Result<f64, String> {
    if !(q > 0.0 && q < 1.0) {
        return Err(format!("quantile: q = {q} must be in (0, 1)"));
    }
    let total = check_pdf(binning, pdf)?;
    let mut cdf_below = 0.0;
    for (k, &p) in pdf.iter().enumerate() {
        let p = p as f64 / total;
        if p > 0.0 && cdf_below + p >= q {
            let fraction = ((q - cdf_below) / p).clamp(0.0, 1.0);
            return Ok(binning.edge(k) + binning.width() * fraction);
        }
        cdf_below += p;
    }
    // Rounding left the last partial sum just under q: the quantile is the top of the last
    // bin with mass.
    let last = pdf
        .iter()
        .rposition(|&p| p > 0.0)
        .unwrap_or(binning.bins() - 1);
    Ok(binning.edge(last + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_hand_computed() {
        // 4 bins of width 0.25 on [0, 1), p = [0.1, 0.2, 0.3, 0.4]; C = [0.1, 0.3, 0.6, 1.0].
        // q = 0.16: bin 1, 0.25 + 0.25 (0.06/0.2) = 0.325. q = 0.5: bin 2, 0.5 + 0.25 (0.2/0.3).
        // q = 0.975: bin 3, 0.75 + 0.25 (0.375/0.4) = 0.984375.
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let pdf = [0.1, 0.2, 0.3, 0.4];
        assert!((quantile(&b, &pdf, 0.16).unwrap() - 0.325).abs() < 1e-7);
        assert!((quantile(&b, &pdf, 0.5).unwrap() - (0.5 + 0.25 * 0.2 / 0.3)).abs() < 1e-7);
        assert!((quantile(&b, &pdf, 0.975).unwrap() - 0.984375).abs() < 1e-7);
        assert!(quantile(&b, &pdf, 0.0).is_err());
        assert!(quantile(&b, &pdf, f64::NAN).is_err());
        assert!(quantile(&b, &[0.1, 0.2], 0.5).is_err());
    }
}
