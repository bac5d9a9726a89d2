//! Step 4, part 2: the bulk-bias correction in z_photo space, research notes §1.10 step 2.
//! In each (wide z_photo bin × magnitude row) cell, the mean residual of the resampled
//! training set is subtracted from the test estimates in that cell.

use super::magnitude_rows::MagnitudeRows;
use super::sample::Sample;
use crate::redshift::binning::ZBinning;

/// The wide z_photo bins of the correction: 40 over the base range (0.01 for SDSS).
pub const CORRECTION_BINS: usize = 40;

/// Mean `z_photo − z_spec` per (wide bin, row) cell, measured on a resampled training set.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkBiasCorrection {
    wide: ZBinning,
    rows: usize,
    /// `[bin · rows + row]`; `None` for a cell without training objects.
    mean_residual: Vec<Option<f64>>,
}

impl BulkBiasCorrection {
    /// Measures, in each cell of `wide` (use [`CORRECTION_BINS`] bins over the base range) ×
    /// magnitude row, the mean un-normalised residual of `train` (the resampled training set
    /// with the same model's photo-z):
    ///
    /// ```text
    /// b(cell) = mean over training objects in the cell of (z_photo − z_spec)
    /// ```
    ///
    /// Objects whose z_photo lies outside `wide` are left out.
    pub fn fit(wide: ZBinning, rows: &MagnitudeRows, train: &Sample) -> Result<Self, String> {
        train.check("resampled training set", rows)?;
        let cells = wide.bins() * rows.rows();
        let mut sums = vec![0.0; cells];
        let mut counts = vec![0usize; cells];
        for ((&z_spec, &z_photo), &row) in train.z_spec.iter().zip(train.z_photo).zip(train.row) {
            if let Ok(bin) = wide.bin_of(z_photo) {
                sums[bin * rows.rows() + row] += z_photo - z_spec;
                counts[bin * rows.rows() + row] += 1;
            }
        }
        let mean_residual = sums
            .iter()
            .zip(&counts)
            .map(|(&sum, &count)| (count > 0).then(|| sum / count as f64))
            .collect();
        Ok(Self {
            wide,
            rows: rows.rows(),
            mean_residual,
        })
    }

    /// The measured mean residual of the cell of (`z_photo`, `row`); `None` when the cell held
    /// no training object or `z_photo` lies outside the wide bins.
    pub fn bias(&self, z_photo: f64, row: usize) -> Option<f64> {
        let bin = self.wide.bin_of(z_photo).ok()?;
        *self.mean_residual.get(bin * self.rows + row)?
    }

    /// The corrected estimate `z_photo − b(cell)`; `z_photo` unchanged where no bias was
    /// measured (§1.10 step 2).
    pub fn apply(&self, z_photo: f64, row: usize) -> f64 {
        z_photo - self.bias(z_photo, row).unwrap_or(0.0)
    }

    /// [`apply`](Self::apply) to every test object; `row` is index-matched with `z_photo`.
    pub fn apply_all(&self, z_photo: &[f64], row: &[usize]) -> Result<Vec<f64>, String> {
        if z_photo.len() != row.len() {
            return Err(format!(
                "bulk-bias correction: {} estimates but {} magnitude rows",
                z_photo.len(),
                row.len()
            ));
        }
        Ok(z_photo
            .iter()
            .zip(row)
            .map(|(&z, &r)| self.apply(z, r))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correction_by_hand() {
        let wide = ZBinning::new(0.0, 1.0, 2).expect("valid");
        let rows = MagnitudeRows::new(0.0, 1.0, 3).expect("3 rows");
        // Cell (bin 0, row 1): residuals 0.1 and 0.3 → 0.2. Cell (bin 1, row 0): −0.05.
        // z_photo = 1.2 lies outside the wide bins and is left out.
        let train = Sample {
            z_spec: &[0.1, 0.0, 0.75, 0.5],
            z_photo: &[0.2, 0.3, 0.7, 1.2],
            row: &[1, 1, 0, 0],
        };
        let correction = BulkBiasCorrection::fit(wide, &rows, &train).expect("valid");
        assert!((correction.bias(0.4, 1).expect("measured") - 0.2).abs() < 1e-12);
        assert!((correction.apply(0.4, 1) - 0.2).abs() < 1e-12);
        assert!((correction.apply(0.9, 0) - 0.95).abs() < 1e-12);
        // Unmeasured cells and out-of-range estimates stay as they are.
        assert_eq!(correction.bias(0.4, 0), None);
        assert_eq!(correction.apply(0.4, 2), 0.4);
        assert_eq!(correction.apply(-0.1, 1), -0.1);
        assert!(correction.apply_all(&[0.4], &[1, 2]).is_err());
    }
}
