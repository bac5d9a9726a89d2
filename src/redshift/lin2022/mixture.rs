//! The inference PDF of the factorised output, research notes §1.5: the m redshift heads'
//! PDFs mixed with the weights the magnitude head gives its m bins.

/// Writes `p(z_i) = Σ_k p_k(z_i) · P(k)` into `out` (length `bins`), where `heads` holds the
/// m softmax outputs of the redshift heads (m rows of `bins`, row-major) and `magnitude` the
/// magnitude head's softmax `P(k)` (length m). The sums run in `f64`. If every head and the
/// magnitude head sum to 1, so does `p`.
pub fn mixture_pdf(heads: &[f32], magnitude: &[f32], out: &mut [f32]) -> Result<(), String> {
    let (m, bins) = (magnitude.len(), out.len());
    if m == 0 || bins == 0 || heads.len() != m.checked_mul(bins).ok_or("size overflows")? {
        return Err(format!(
            "mixture PDF: expected {m} heads of {bins} bins ({} values), found {}",
            m.saturating_mul(bins),
            heads.len()
        ));
    }
    for (z, target) in out.iter_mut().enumerate() {
        let p: f64 = magnitude
            .iter()
            .enumerate()
            .map(|(k, &weight)| f64::from(heads[k * bins + z]) * f64::from(weight))
            .sum();
        *target = p as f32;
    }
    Ok(())
}

/// [`mixture_pdf`] for a batch: `heads` is `[batch, m · bins]`, `magnitude` `[batch, m]`;
/// returns `[batch, bins]`.
pub fn mixture_pdfs(
    heads: &[f32],
    magnitude: &[f32],
    outputs: usize,
    bins: usize,
) -> Result<Vec<f32>, String> {
    let head_len = outputs.checked_mul(bins).ok_or("size overflows")?;
    if outputs == 0 || bins == 0 || !magnitude.len().is_multiple_of(outputs) {
        return Err(format!(
            "mixture PDFs: {} magnitude probabilities are not a whole number of rows of \
             {outputs}",
            magnitude.len()
        ));
    }
    let batch = magnitude.len() / outputs;
    if heads.len() != batch.checked_mul(head_len).ok_or("size overflows")? {
        return Err(format!(
            "mixture PDFs: expected {batch} × {head_len} head probabilities, found {}",
            heads.len()
        ));
    }
    let mut pdfs = vec![0.0; batch * bins];
    for ((pdf, heads), magnitude) in pdfs
        .chunks_exact_mut(bins)
        .zip(heads.chunks_exact(head_len))
        .zip(magnitude.chunks_exact(outputs))
    {
        mixture_pdf(heads, magnitude, pdf)?;
    }
    Ok(pdfs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixture_by_hand() {
        // Two heads of three bins: [0.2, 0.3, 0.5] and [1, 0, 0], weights 0.25 and 0.75:
        // p = [0.05 + 0.75, 0.075, 0.125] = [0.8, 0.075, 0.125].
        let heads = [0.2, 0.3, 0.5, 1.0, 0.0, 0.0];
        let mut out = [0.0; 3];
        mixture_pdf(&heads, &[0.25, 0.75], &mut out).expect("valid");
        for (p, expected) in out.iter().zip([0.8, 0.075, 0.125]) {
            assert!((p - expected).abs() < 1e-7, "{out:?}");
        }
        assert!(mixture_pdf(&heads[..5], &[0.25, 0.75], &mut out).is_err());
    }

    #[test]
    fn mixture_of_normalised_heads_sums_to_one() {
        let (m, bins, batch) = (6, 50, 4);
        // Unequal but normalised heads and magnitude weights.
        let mut heads = vec![0.0f32; batch * m * bins];
        for (i, h) in heads.chunks_exact_mut(bins).enumerate() {
            let raw: Vec<f64> = (0..bins)
                .map(|z| ((z * 7 + i * 3) % 11) as f64 + 0.1)
                .collect();
            let total: f64 = raw.iter().sum();
            for (p, r) in h.iter_mut().zip(&raw) {
                *p = (r / total) as f32;
            }
        }
        let mut magnitude = vec![0.0f32; batch * m];
        for w in magnitude.chunks_exact_mut(m) {
            let raw = [1.0, 2.0, 3.0, 0.5, 0.25, 4.0];
            let total: f64 = raw.iter().sum();
            for (p, r) in w.iter_mut().zip(raw) {
                *p = (r / total) as f32;
            }
        }
        let pdfs = mixture_pdfs(&heads, &magnitude, m, bins).expect("valid");
        assert_eq!(pdfs.len(), batch * bins);
        for pdf in pdfs.chunks_exact(bins) {
            let sum: f64 = pdf.iter().map(|&p| f64::from(p)).sum();
            assert!((sum - 1.0).abs() < 1e-5, "sum {sum}");
        }
        assert!(mixture_pdfs(&heads, &magnitude[..23], m, bins).is_err());
    }
}
