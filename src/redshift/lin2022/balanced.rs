//! The balanced subset of Steps 2–3, research notes §1.8: at most N_th objects per
//! (base z bin × magnitude row) cell, so that over-populated classes no longer pull the
//! estimates towards them.

use super::extended::clipped_bin;
use super::magnitude_rows::MagnitudeRows;
use super::sample::{check_finite, check_rows};
use crate::redshift::binning::ZBinning;
use crate::rng::{purpose, stream};
use rand::seq::SliceRandom;

/// The indices (sorted) of the balanced subset of a training set with spec-z `z` and
/// magnitude rows `row` (§1.8): the objects are grouped into cells (clipped base z bin ×
/// row); a cell with at most `threshold` objects keeps them all, a larger one keeps
/// `threshold` of them, the first of a permutation drawn from the seeded stream
/// [`purpose::BALANCE`]. The subset size is the length of the result. The same seed gives
/// the same subset; cells are visited in a fixed order, so the result does not depend on
/// threads.
///
/// The authors slice fold `ne` out of one fixed permutation per cell; here another seed
/// gives another subset.
pub fn balanced_subset(
    base: &ZBinning,
    rows: &MagnitudeRows,
    z: &[f64],
    row: &[usize],
    threshold: usize,
    seed: u64,
) -> Result<Vec<usize>, String> {
    let name = "balanced subset";
    if z.len() != row.len() {
        return Err(format!(
            "{name}: {} redshifts but {} magnitude rows",
            z.len(),
            row.len()
        ));
    }
    check_finite(name, "z_spec", z)?;
    check_rows(name, row, rows)?;
    if threshold == 0 {
        return Err(format!(
            "{name}: the cell threshold N_th must be at least 1"
        ));
    }
    let mut cells = vec![Vec::new(); base.bins() * rows.rows()];
    for (i, (&z, &r)) in z.iter().zip(row).enumerate() {
        cells[clipped_bin(base, z)? * rows.rows() + r].push(i);
    }
    let mut rng = stream(seed, purpose::BALANCE);
    let mut subset = Vec::new();
    for cell in &mut cells {
        if cell.len() > threshold {
            cell.shuffle(&mut rng);
            cell.truncate(threshold);
        }
        subset.extend_from_slice(cell);
    }
    subset.sort_unstable();
    Ok(subset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cells_keep_all_and_large_ones_are_capped() {
        let base = ZBinning::new(0.0, 1.0, 2).expect("valid");
        let rows = MagnitudeRows::new(0.0, 1.0, 1).expect("one row");
        // Cell 0 holds objects 0..7 (7 objects), cell 1 objects 7, 8.
        let z = [0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.4, 0.6, 0.9];
        let subset = balanced_subset(&base, &rows, &z, &[0; 9], 3, 42).expect("valid");
        assert_eq!(subset.len(), 5);
        assert!(subset.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(subset.iter().filter(|&&i| i < 7).count(), 3);
        assert!(subset.contains(&7) && subset.contains(&8));
        assert!(balanced_subset(&base, &rows, &z, &[0; 9], 0, 42).is_err());
        assert!(balanced_subset(&base, &rows, &z, &[0; 8], 3, 42).is_err());
        assert!(balanced_subset(&base, &rows, &z, &[1; 9], 3, 42).is_err());
    }
}
