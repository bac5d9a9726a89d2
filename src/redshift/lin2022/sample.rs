//! A set of objects with z_spec, z_photo and magnitude row, checked once for the Step 3 and
//! Step 4 fits.

use super::magnitude_rows::MagnitudeRows;

/// Objects of one set: spec-z, photo-z (a model's point estimate) and r row, index-matched.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// Spectroscopic redshifts.
    pub z_spec: &'a [f64],
    /// Photometric redshifts of the same objects.
    pub z_photo: &'a [f64],
    /// Magnitude rows ([`MagnitudeRows::row_of`]).
    pub row: &'a [usize],
}

impl Sample<'_> {
    /// The number of objects.
    pub fn len(&self) -> usize {
        self.z_spec.len()
    }

    /// Whether the sample holds no object.
    pub fn is_empty(&self) -> bool {
        self.z_spec.is_empty()
    }

    /// Checks that the three arrays have one length, the redshifts are finite and every row
    /// exists; errors name the array and the index. `name` says which set ("balanced subset",
    /// "training set", …).
    pub fn check(&self, name: &str, rows: &MagnitudeRows) -> Result<(), String> {
        check_lengths(
            name,
            &[self.z_spec.len(), self.z_photo.len(), self.row.len()],
        )?;
        check_finite(name, "z_spec", self.z_spec)?;
        check_finite(name, "z_photo", self.z_photo)?;
        check_rows(name, self.row, rows)
    }
}

/// Errors unless all `lengths` are equal.
pub(crate) fn check_lengths(name: &str, lengths: &[usize]) -> Result<(), String> {
    if lengths.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!(
            "{name}: z_spec, z_photo and row must have one length, found {lengths:?}"
        ));
    }
    Ok(())
}

/// Errors at the first value that is not finite.
pub(crate) fn check_finite(name: &str, array: &str, values: &[f64]) -> Result<(), String> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(format!(
            "{name}: {array}[{i}] is {} (must be finite)",
            values[i]
        )),
        None => Ok(()),
    }
}

/// Errors at the first row outside `rows`.
pub(crate) fn check_rows(name: &str, row: &[usize], rows: &MagnitudeRows) -> Result<(), String> {
    match row.iter().position(|&r| r >= rows.rows()) {
        Some(i) => Err(format!(
            "{name}: row[{i}] = {} but there are {} magnitude rows",
            row[i],
            rows.rows()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_samples_are_errors_naming_the_array_and_index() {
        let rows = MagnitudeRows::SDSS;
        let ok = Sample {
            z_spec: &[0.1, 0.2],
            z_photo: &[0.1, 0.2],
            row: &[0, 10],
        };
        assert_eq!(ok.check("subset", &rows), Ok(()));
        let short = Sample { row: &[0], ..ok };
        assert!(short.check("subset", &rows).is_err());
        let nan = Sample {
            z_photo: &[0.1, f64::NAN],
            ..ok
        };
        let err = nan.check("subset", &rows).expect_err("NaN");
        assert!(err.contains("subset: z_photo[1]"), "{err}");
        let bad_row = Sample {
            row: &[0, 11],
            ..ok
        };
        let err = bad_row.check("subset", &rows).expect_err("row 11");
        assert!(err.contains("row[1] = 11"), "{err}");
    }
}
