//! Classification accuracy: the fraction of objects whose predicted bin is their true bin.

use crate::redshift::estimates::argmax_bins;
use crate::redshift::ZBinning;

/// `N(predicted == truth) / N`. Errors on empty or mismatched inputs.
pub fn accuracy(predicted_bins: &[usize], true_bins: &[usize]) -> Result<f64, String> {
    if predicted_bins.len() != true_bins.len() {
        return Err(format!(
            "accuracy: {} predicted bins but {} true bins",
            predicted_bins.len(),
            true_bins.len()
        ));
    }
    if predicted_bins.is_empty() {
        return Err("accuracy: no objects".to_string());
    }
    let correct = predicted_bins
        .iter()
        .zip(true_bins)
        .filter(|(p, t)| p == t)
        .count();
    Ok(correct as f64 / predicted_bins.len() as f64)
}

/// Accuracy of a `[n, bins]` matrix of PDFs: the argmax bin of each row against the bin of
/// its `z_true`. Errors name the row with a bad PDF or a `z_true` outside the range.
pub fn classification_accuracy(
    binning: &ZBinning,
    pdfs: &[f32],
    z_true: &[f64],
) -> Result<f64, String> {
    let predicted = argmax_bins(binning, pdfs)?;
    let truth = z_true
        .iter()
        .enumerate()
        .map(|(i, &z)| binning.bin_of(z).map_err(|e| format!("z_true[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    accuracy(&predicted, &truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_matching_bins() {
        assert_eq!(accuracy(&[1, 2, 3, 4], &[1, 2, 0, 4]), Ok(0.75));
        assert!(accuracy(&[], &[]).is_err());
        assert!(accuracy(&[1], &[1, 2]).is_err());
    }

    #[test]
    fn accuracy_of_pdfs() {
        let b = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let pdfs = [
            0.7, 0.1, 0.1, 0.1, // argmax 0, z_true 0.1 → bin 0 ✓
            0.1, 0.1, 0.7, 0.1, // argmax 2, z_true 0.3 → bin 1 ✗
        ];
        assert_eq!(classification_accuracy(&b, &pdfs, &[0.1, 0.3]), Ok(0.5));
        let err = classification_accuracy(&b, &pdfs, &[0.1, 1.3]).expect_err("outside");
        assert!(err.contains("z_true[1]"), "{err}");
        assert!(classification_accuracy(&b, &pdfs, &[0.1]).is_err());
    }
}
