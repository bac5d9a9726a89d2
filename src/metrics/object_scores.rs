//! What the PDF metrics of a report need of each object, so that an evaluation can run over its
//! inputs a chunk at a time and keep a few numbers per object instead of its PDF (the PDFs of
//! 2 M objects in 800 bins are 6.4 GB of f32).
//!
//! Every PDF metric of the report is a mean of per-object terms (accuracy, CRPS, CDE loss,
//! Brier score) or a function of per-object values (the PIT and its statistics, the
//! purity–completeness curves of the confidence figures). The scores of chunks appended in
//! input order are therefore those of one pass over all objects, and so are the metrics, bit for
//! bit ([`super::mean`] sums in order).

use super::{brier_score_per_object, cde_loss_per_object, crps_per_object, mean, pit_values};
use crate::redshift::confidence::{confidence, Confidence};
use crate::redshift::estimates::argmax_bins;
use crate::redshift::ZBinning;

/// Per-object scores of classifier PDFs against the true redshifts, in input order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PdfScores {
    /// Whether the most probable bin is the bin of z_true.
    pub bin_hit: Vec<bool>,
    /// The binned CRPS ([`crps_per_object`]).
    pub crps: Vec<f64>,
    /// `CDF_pred(z_true)` ([`pit_values`]).
    pub pit: Vec<f64>,
    /// The terms of the CDE loss ([`cde_loss_per_object`]).
    pub cde_loss: Vec<f64>,
    /// The terms of the Brier score ([`brier_score_per_object`]).
    pub brier: Vec<f64>,
    /// The confidence figures of each PDF about its point estimate.
    pub confidence: Vec<Confidence>,
}

impl PdfScores {
    /// The scores of the PDFs `[n, bins]` whose point estimates are `z_pred`, against
    /// `z_true`; `first` is the index of the chunk's first object, so that errors name objects
    /// by their place among all of them.
    pub fn of_chunk(
        binning: &ZBinning,
        pdfs: &[f32],
        z_pred: &[f64],
        z_true: &[f64],
        first: usize,
    ) -> Result<Self, String> {
        if z_pred.len() != z_true.len() {
            return Err(format!(
                "{} point estimates for {} true redshifts",
                z_pred.len(),
                z_true.len()
            ));
        }
        let objects = |e: String| format!("objects {first}..{}: {e}", first + z_true.len());
        let bin_hit = argmax_bins(binning, pdfs)
            .map_err(objects)?
            .iter()
            .zip(z_true)
            .enumerate()
            .map(|(i, (&predicted, &z))| {
                binning
                    .bin_of(z)
                    .map(|truth| truth == predicted)
                    .map_err(|e| format!("z_true[{}]: {e}", first + i))
            })
            .collect::<Result<_, _>>()?;
        let confidence = pdfs
            .chunks_exact(binning.bins())
            .zip(z_pred)
            .map(|(pdf, &z)| confidence(binning, pdf, z))
            .collect::<Result<_, _>>()
            .map_err(objects)?;
        Ok(PdfScores {
            bin_hit,
            crps: crps_per_object(binning, pdfs, z_true).map_err(objects)?,
            pit: pit_values(binning, pdfs, z_true).map_err(objects)?,
            cde_loss: cde_loss_per_object(binning, pdfs, z_true).map_err(objects)?,
            brier: brier_score_per_object(binning, pdfs, z_true).map_err(objects)?,
            confidence,
        })
    }

    /// Appends the scores of the next chunk of objects.
    pub fn append(&mut self, mut next: PdfScores) {
        self.bin_hit.append(&mut next.bin_hit);
        self.crps.append(&mut next.crps);
        self.pit.append(&mut next.pit);
        self.cde_loss.append(&mut next.cde_loss);
        self.brier.append(&mut next.brier);
        self.confidence.append(&mut next.confidence);
    }

    /// The number of objects scored.
    pub fn len(&self) -> usize {
        self.bin_hit.len()
    }

    /// Whether no object was scored.
    pub fn is_empty(&self) -> bool {
        self.bin_hit.is_empty()
    }

    /// Fraction of objects whose most probable bin holds z_true.
    pub fn accuracy(&self) -> f64 {
        self.bin_hit.iter().filter(|&&hit| hit).count() as f64 / self.len() as f64
    }

    /// Mean CRPS.
    pub fn mean_crps(&self) -> f64 {
        mean(&self.crps)
    }

    /// The CDE loss (Izbicki & Lee 2017), the mean of its terms.
    pub fn cde_loss(&self) -> f64 {
        mean(&self.cde_loss)
    }

    /// The Brier score, the mean of its terms.
    pub fn brier(&self) -> f64 {
        mean(&self.brier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{brier_score, cde_loss, classification_accuracy, mean_crps};
    use crate::redshift::estimates::{point_estimates, PointEstimator};

    /// Six PDFs over 5 bins of [0, 1): peaked, broad and two-peaked ones.
    fn case() -> (ZBinning, Vec<f32>, Vec<f64>, Vec<f64>) {
        let b = ZBinning::new(0.0, 1.0, 5).expect("valid");
        let pdfs: Vec<f32> = vec![
            0.8, 0.1, 0.05, 0.05, 0.0, //
            0.15, 0.2, 0.3, 0.2, 0.15, //
            0.4, 0.0, 0.1, 0.0, 0.5, //
            0.0, 0.0, 0.1, 0.9, 0.0, //
            0.1, 0.6, 0.2, 0.1, 0.0, //
            0.0, 0.3, 0.0, 0.3, 0.4, //
        ];
        let z_pred = point_estimates(&b, &pdfs, PointEstimator::Mode).expect("valid");
        let z_true = vec![0.05, 0.5, 0.95, 0.7, 0.45, 0.1];
        (b, pdfs, z_pred, z_true)
    }

    #[test]
    fn chunks_appended_give_the_metrics_of_all_objects_bit_for_bit() {
        let (b, pdfs, z_pred, z_true) = case();
        let whole = PdfScores::of_chunk(&b, &pdfs, &z_pred, &z_true, 0).expect("valid");
        let mut chunked = PdfScores::default();
        for (first, count) in [(0, 2), (2, 3), (5, 1)] {
            let rows = first * 5..(first + count) * 5;
            let span = first..first + count;
            let chunk =
                PdfScores::of_chunk(&b, &pdfs[rows], &z_pred[span.clone()], &z_true[span], first)
                    .expect("valid");
            chunked.append(chunk);
        }
        assert_eq!(chunked, whole);
        assert_eq!(chunked.len(), 6);
        let accuracy = classification_accuracy(&b, &pdfs, &z_true).expect("valid");
        assert_eq!(chunked.accuracy().to_bits(), accuracy.to_bits());
        let crps = mean_crps(&b, &pdfs, &z_true).expect("valid");
        assert_eq!(chunked.mean_crps().to_bits(), crps.to_bits());
        let cde = cde_loss(&b, &pdfs, &z_true).expect("valid");
        assert_eq!(chunked.cde_loss().to_bits(), cde.to_bits());
        let brier = brier_score(&b, &pdfs, &z_true).expect("valid");
        assert_eq!(chunked.brier().to_bits(), brier.to_bits());
        // Bins 0, 2, 4, 3, 1, 4 against true bins 0, 2, 4, 3, 2, 0: four hits.
        assert!((chunked.accuracy() - 4.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn errors_name_the_object_among_all() {
        let (b, pdfs, z_pred, mut z_true) = case();
        z_true[4] = 1.5;
        let err = PdfScores::of_chunk(&b, &pdfs[15..], &z_pred[3..], &z_true[3..], 3)
            .expect_err("z_true beyond the bins");
        assert!(err.contains("z_true[4]"), "{err}");
        let err =
            PdfScores::of_chunk(&b, &pdfs, &z_pred[1..], &z_true, 0).expect_err("lengths differ");
        assert!(err.contains("5 point estimates for 6"), "{err}");
    }
}
