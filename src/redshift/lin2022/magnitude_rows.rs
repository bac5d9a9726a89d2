//! Magnitude rows and the factorised output of Lin et al. (2022), research notes §1.5.
//!
//! The r magnitude is cut into `2m − 1` rows of equal width (SDSS: 11 rows of 0.5 mag from
//! 12.5). The network has `m` redshift outputs (heads) and one magnitude output with `m` bins.
//! Row `i` feeds output `k = min(⌊i/2⌋, m − 1)`, and an odd row also feeds `k + 1`, so output
//! `k` answers for rows `{2k − 1, 2k, 2k + 1}`.

/// Rows of equal width in r magnitude; `rows` is odd, `rows = 2m − 1` for `m` outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MagnitudeRows {
    r_min: f64,
    width: f64,
    rows: usize,
}

impl MagnitudeRows {
    /// The SDSS rows of the paper: 11 rows of 0.5 mag from r = 12.5 (m = 6 outputs).
    pub const SDSS: MagnitudeRows = MagnitudeRows {
        r_min: 12.5,
        width: 0.5,
        rows: 11,
    };

    /// `rows` rows of `width` mag from `r_min`. Errors: a non-finite bound, a width ≤ 0, or an
    /// even or zero row count (the interlacing needs `rows = 2m − 1`).
    pub fn new(r_min: f64, width: f64, rows: usize) -> Result<Self, String> {
        if !r_min.is_finite() || !width.is_finite() || width <= 0.0 {
            return Err(format!(
                "magnitude rows: r_min must be finite and the width finite and > 0, found \
                 r_min = {r_min}, width = {width}"
            ));
        }
        if rows.is_multiple_of(2) {
            return Err(format!(
                "magnitude rows: the row count must be odd (2m − 1 for m outputs), found {rows}"
            ));
        }
        Ok(Self { r_min, width, rows })
    }

    /// The lower edge of row 0.
    pub fn r_min(&self) -> f64 {
        self.r_min
    }

    /// The width of a row in magnitudes.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The number of rows, `2m − 1`.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of redshift outputs (and of magnitude-output bins), `m = (rows + 1) / 2`.
    pub fn outputs(&self) -> usize {
        self.rows.div_ceil(2)
    }

    /// The row of magnitude `r`, clipped to the rows (§1.5):
    ///
    /// ```text
    /// row = clip(⌊(r − r_min) / width⌋, 0, rows − 1)
    /// ```
    ///
    /// Errors when `r` is not finite (the authors replace such magnitudes by the largest one
    /// before training; a caller must decide that explicitly).
    pub fn row_of(&self, r: f64) -> Result<usize, String> {
        if !r.is_finite() {
            return Err(format!("r magnitude must be finite, found {r}"));
        }
        let row = ((r - self.r_min) / self.width).floor();
        Ok(row.clamp(0.0, (self.rows - 1) as f64) as usize)
    }

    /// The rows of magnitudes `r`; errors name the index of a non-finite magnitude.
    pub fn rows_of(&self, r: &[f64]) -> Result<Vec<usize>, String> {
        r.iter()
            .enumerate()
            .map(|(i, &r)| self.row_of(r).map_err(|e| format!("r[{i}]: {e}")))
            .collect()
    }

    /// The outputs that row `row` feeds (§1.5): `k = min(⌊row/2⌋, m − 1)`, and `k + 1` too
    /// when `row` is odd. Panics if `row ≥ rows` (a caller bug; rows come from
    /// [`row_of`](Self::row_of) or a checked [`Sample`](super::Sample)).
    pub fn active_outputs(&self, row: usize) -> impl Iterator<Item = usize> {
        assert!(row < self.rows, "row {row} of {}", self.rows);
        let k = (row / 2).min(self.outputs() - 1);
        std::iter::once(k).chain((row % 2 == 1).then_some(k + 1))
    }

    /// Writes the magnitude-head target of row `row` into `out` (length m), §1.5: the sum of
    /// the one-hot rows `{2k − 1, 2k, 2k + 1}` for each output k, renormalised to sum 1:
    ///
    /// ```text
    /// t_k = [k active for row] / (number of active outputs)      (1, or ½ and ½ for odd rows)
    /// ```
    pub fn magnitude_target(&self, row: usize, out: &mut [f32]) -> Result<(), String> {
        self.check_len("magnitude target", out.len(), self.outputs())?;
        out.fill(0.0);
        let active = self.active_outputs(row).count() as f32;
        for k in self.active_outputs(row) {
            out[k] = 1.0 / active;
        }
        Ok(())
    }

    /// Writes the redshift targets of all m outputs into `out` (m rows of `bins`, row-major),
    /// §1.5: an active output gets the label written by `label(k, row_of_out)`, an inactive
    /// one the flat target `1 / bins`. Steps 1–2 write the same one-hot label into every
    /// active output; Step 3 writes a label fitted per output
    /// ([`step3_targets`](super::step3_targets)).
    pub fn redshift_targets(
        &self,
        row: usize,
        bins: usize,
        out: &mut [f32],
        mut label: impl FnMut(usize, &mut [f32]) -> Result<(), String>,
    ) -> Result<(), String> {
        let expected = self
            .outputs()
            .checked_mul(bins)
            .ok_or("target size overflows")?;
        self.check_len("redshift targets", out.len(), expected)?;
        out.fill(1.0 / bins as f32);
        for k in self.active_outputs(row) {
            label(k, &mut out[k * bins..(k + 1) * bins])?;
        }
        Ok(())
    }

    /// The Step 1–2 redshift targets (§1.5): the one-hot label at `bin` in each active output,
    /// flat `1 / bins` elsewhere.
    pub fn one_hot_targets(
        &self,
        row: usize,
        bin: usize,
        bins: usize,
        out: &mut [f32],
    ) -> Result<(), String> {
        if bin >= bins {
            return Err(format!("label bin {bin} is outside the {bins} bins"));
        }
        self.redshift_targets(row, bins, out, |_, head| {
            head.fill(0.0);
            head[bin] = 1.0;
            Ok(())
        })
    }

    fn check_len(&self, what: &str, found: usize, expected: usize) -> Result<(), String> {
        if found != expected {
            return Err(format!(
                "{what}: expected {expected} values for {} magnitude outputs, found {found}",
                self.outputs()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdss_rows_and_their_outputs() {
        let rows = MagnitudeRows::SDSS;
        assert_eq!(rows.outputs(), 6);
        // clip(⌊(r − 12.5)/0.5⌋, 0, 10)
        assert_eq!(rows.row_of(12.4), Ok(0));
        assert_eq!(rows.row_of(12.5), Ok(0));
        assert_eq!(rows.row_of(13.0), Ok(1));
        assert_eq!(rows.row_of(14.74), Ok(4));
        assert_eq!(rows.row_of(17.99), Ok(10));
        assert_eq!(rows.row_of(21.0), Ok(10));
        assert!(rows.row_of(f64::NAN).is_err());
        let err = rows.rows_of(&[14.0, f64::INFINITY]).expect_err("inf");
        assert!(err.contains("r[1]"), "{err}");
        // Output k answers for rows {2k − 1, 2k, 2k + 1}: row → outputs by hand.
        let expected: [&[usize]; 11] = [
            &[0],
            &[0, 1],
            &[1],
            &[1, 2],
            &[2],
            &[2, 3],
            &[3],
            &[3, 4],
            &[4],
            &[4, 5],
            &[5],
        ];
        for (row, outputs) in expected.iter().enumerate() {
            let found: Vec<usize> = rows.active_outputs(row).collect();
            assert_eq!(&found, outputs, "row {row}");
        }
    }

    #[test]
    fn invalid_rows_are_rejected() {
        assert!(MagnitudeRows::new(12.5, 0.5, 10).is_err());
        assert!(MagnitudeRows::new(12.5, 0.0, 11).is_err());
        assert!(MagnitudeRows::new(f64::NAN, 0.5, 11).is_err());
        let one = MagnitudeRows::new(16.0, 0.5, 1).expect("one row, one output");
        assert_eq!(one.outputs(), 1);
        assert_eq!(one.active_outputs(0).collect::<Vec<_>>(), vec![0]);
    }

    #[test]
    fn magnitude_targets_by_hand() {
        let rows = MagnitudeRows::SDSS;
        let mut out = [9.0; 6];
        rows.magnitude_target(4, &mut out).expect("even row");
        assert_eq!(out, [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        rows.magnitude_target(7, &mut out).expect("odd row");
        assert_eq!(out, [0.0, 0.0, 0.0, 0.5, 0.5, 0.0]);
        rows.magnitude_target(10, &mut out).expect("last row");
        assert_eq!(out, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        assert!(rows.magnitude_target(0, &mut [0.0; 5]).is_err());
    }

    #[test]
    fn redshift_targets_are_the_label_when_active_and_flat_otherwise() {
        let rows = MagnitudeRows::new(0.0, 1.0, 5).expect("3 outputs");
        let bins = 4;
        let mut out = vec![0.0; 3 * bins];
        rows.one_hot_targets(3, 2, bins, &mut out)
            .expect("row 3 feeds outputs 1 and 2");
        let flat = 0.25;
        assert_eq!(&out[0..4], &[flat; 4]);
        assert_eq!(&out[4..8], &[0.0, 0.0, 1.0, 0.0]);
        assert_eq!(&out[8..12], &[0.0, 0.0, 1.0, 0.0]);
        rows.one_hot_targets(0, 1, bins, &mut out)
            .expect("row 0 feeds output 0");
        assert_eq!(&out[0..4], &[0.0, 1.0, 0.0, 0.0]);
        assert_eq!(&out[4..12], &[flat; 8]);
        assert!(rows.one_hot_targets(0, 4, bins, &mut out).is_err());
        assert!(rows.one_hot_targets(0, 1, bins, &mut out[..11]).is_err());
    }
}
