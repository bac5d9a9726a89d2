//! Step 4, part 1: resample the training set so that its (magnitude row, z_spec) distribution
//! matches the test set's (row, z_photo) distribution, research notes §1.10 step 1.

use super::magnitude_rows::MagnitudeRows;
use super::sample::{check_finite, check_rows};
use crate::redshift::binning::ZBinning;
use crate::rng::{purpose, stream};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The resampled training set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resampled {
    /// Indices into the training set, with repeats where a cell had to be drawn with
    /// replacement; grouped by (row, fine bin), in that order.
    pub indices: Vec<usize>,
    /// Test objects that no training object could stand for: their z_photo lies outside the
    /// fine bins, or their row holds no training object.
    pub unmatched_test: usize,
}

/// Draws about `size` training objects so that their (row, z_spec) histogram follows the
/// test set's (row, z_photo) histogram over the fine bins `fine` (§1.10 step 1). For each row
/// r and fine bin i holding `N_test(i, r)` test objects:
///
/// ```text
/// count(i, r) = round_stoch( size / N_test · N_test(i, r) )
/// ```
///
/// training objects are drawn from the training cell (i', r) whose z_spec bin i' is the
/// populated bin nearest to i (the lower one on ties): a permutation of the cell first
/// (without replacement), then uniform draws with replacement for the rest.
/// `round_stoch(x)` is ⌊x⌋ plus one with probability x − ⌊x⌋. All draws come from the
/// seeded stream [`purpose::RESAMPLE`].
///
/// The authors round `x` half up (`int(x) + int(2·frac(x))`); with fine bins most cells
/// expect less than half an object, so half-up rounding would empty them, while stochastic
/// rounding keeps every cell's expected count. Their rows are also the half-open intervals
/// (r_k − ½w, r_k + ½w] with objects beyond the last skipped; here the rows are those of
/// [`MagnitudeRows::row_of`], clipped, as everywhere else.
#[allow(clippy::too_many_arguments)]
pub fn resample_to_test(
    fine: &ZBinning,
    rows: &MagnitudeRows,
    test_z_photo: &[f64],
    test_row: &[usize],
    train_z_spec: &[f64],
    train_row: &[usize],
    size: usize,
    seed: u64,
) -> Result<Resampled, String> {
    check_set("test set", "z_photo", test_z_photo, test_row, rows)?;
    check_set("training set", "z_spec", train_z_spec, train_row, rows)?;
    let test = cell_members(fine, rows, test_z_photo, test_row);
    let train = cell_members(fine, rows, train_z_spec, train_row);
    let scale = size as f64 / test_z_photo.len() as f64;
    let mut rng = stream(seed, purpose::RESAMPLE);
    let mut indices = Vec::new();
    let mut matched = 0;
    for (test_cells, train_cells) in test.iter().zip(&train) {
        let populated: Vec<usize> = (0..fine.bins())
            .filter(|&i| !train_cells[i].is_empty())
            .collect();
        if populated.is_empty() {
            continue;
        }
        for (bin, test_cell) in test_cells.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            matched += test_cell.len();
            let count = round_stochastic(scale * test_cell.len() as f64, &mut rng);
            let nearest = nearest_populated(&populated, bin);
            indices.extend(draw(&train_cells[nearest], count, &mut rng));
        }
    }
    Ok(Resampled {
        indices,
        unmatched_test: test_z_photo.len() - matched,
    })
}

fn check_set(
    name: &str,
    array: &str,
    z: &[f64],
    row: &[usize],
    rows: &MagnitudeRows,
) -> Result<(), String> {
    if z.is_empty() || z.len() != row.len() {
        return Err(format!(
            "{name}: {} values of {array} and {} magnitude rows (must match, and not be empty)",
            z.len(),
            row.len()
        ));
    }
    check_finite(name, array, z)?;
    check_rows(name, row, rows)
}

/// Object indices per (row, fine bin): `[row][bin] → indices`; values outside the fine range
/// are left out.
fn cell_members(
    fine: &ZBinning,
    rows: &MagnitudeRows,
    z: &[f64],
    row: &[usize],
) -> Vec<Vec<Vec<usize>>> {
    let mut cells = vec![vec![Vec::new(); fine.bins()]; rows.rows()];
    for (i, (&z, &r)) in z.iter().zip(row).enumerate() {
        if let Ok(bin) = fine.bin_of(z) {
            cells[r][bin].push(i);
        }
    }
    cells
}

/// The entry of `populated` (ascending, non-empty) nearest to `bin`; the lower on a tie.
fn nearest_populated(populated: &[usize], bin: usize) -> usize {
    *populated
        .iter()
        .min_by_key(|&&p| p.abs_diff(bin))
        .expect("populated is not empty")
}

/// ⌊x⌋, plus one with probability x − ⌊x⌋ (x ≥ 0).
fn round_stochastic(x: f64, rng: &mut Xoshiro256PlusPlus) -> usize {
    let floor = x.floor();
    floor as usize + usize::from(rng.gen::<f64>() < x - floor)
}

/// `count` members of `cell`: a permutation first, then draws with replacement.
fn draw(cell: &[usize], count: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<usize> {
    let mut chosen = cell.to_vec();
    chosen.shuffle(rng);
    chosen.truncate(count);
    while chosen.len() < count {
        chosen.push(cell[rng.gen_range(0..cell.len())]);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn nearest_bin_prefers_the_lower_on_ties() {
        assert_eq!(nearest_populated(&[2, 6], 4), 2);
        assert_eq!(nearest_populated(&[2, 6], 5), 6);
        assert_eq!(nearest_populated(&[2, 6], 0), 2);
        assert_eq!(nearest_populated(&[2, 6], 9), 6);
    }

    #[test]
    fn stochastic_rounding_keeps_the_expectation() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        assert_eq!(round_stochastic(3.0, &mut rng), 3);
        let total: usize = (0..100_000).map(|_| round_stochastic(0.3, &mut rng)).sum();
        // Binomial(10⁵, 0.3): mean 30 000, σ ≈ 145.
        assert!((total as f64 - 30_000.0).abs() < 1_000.0, "{total}");
    }

    #[test]
    fn draws_without_replacement_first() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut few = draw(&[4, 5, 6, 7], 3, &mut rng);
        few.sort_unstable();
        few.dedup();
        assert_eq!(few.len(), 3, "three distinct members");
        let many = draw(&[4, 5, 6], 8, &mut rng);
        assert_eq!(many.len(), 8);
        let mut first = many[..3].to_vec();
        first.sort_unstable();
        assert_eq!(
            first,
            vec![4, 5, 6],
            "every member before any repeat: {many:?}"
        );
    }
}
