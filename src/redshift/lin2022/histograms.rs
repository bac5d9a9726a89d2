//! Histograms over (magnitude row × base z bin), and their aggregation into the m outputs,
//! research notes §1.9a steps 1–3.

use super::magnitude_rows::MagnitudeRows;
use crate::redshift::binning::ZBinning;

/// Counts of `z` over (row × bin): `counts[row][bin]`. Values outside the base range are left
/// out, as `numpy.histogram2d` leaves them out in the authors' code. `z` and `row` are
/// index-matched and already checked ([`Sample::check`](super::Sample::check)).
pub fn row_histograms(
    base: &ZBinning,
    rows: &MagnitudeRows,
    z: &[f64],
    row: &[usize],
) -> Vec<Vec<f64>> {
    let mut counts = vec![vec![0.0; base.bins()]; rows.rows()];
    for (&z, &r) in z.iter().zip(row) {
        if let Ok(bin) = base.bin_of(z) {
            counts[r][bin] += 1.0;
        }
    }
    counts
}

/// The row histograms summed into the m outputs with the interlacing of §1.5 (output k sums
/// rows {2k − 1, 2k, 2k + 1}), each output then normalised to sum 1 (§1.9a step 3):
///
/// ```text
/// y_k(i) = Σ_{rows r of k} H(r, i) / (Σ_i Σ_{rows r of k} H(r, i) + 10⁻²⁰)
/// ```
///
/// (the 10⁻²⁰ of the authors' code keeps an empty output at zero).
pub fn output_histograms(rows: &MagnitudeRows, row_counts: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let bins = row_counts.first().map_or(0, Vec::len);
    let mut outputs = vec![vec![0.0; bins]; rows.outputs()];
    for (r, counts) in row_counts.iter().enumerate() {
        for k in rows.active_outputs(r) {
            for (sum, count) in outputs[k].iter_mut().zip(counts) {
                *sum += count;
            }
        }
    }
    for histogram in &mut outputs {
        let total: f64 = histogram.iter().sum::<f64>() + 1e-20;
        histogram.iter_mut().for_each(|h| *h /= total);
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_counted_then_interlaced_into_outputs() {
        let base = ZBinning::new(0.0, 1.0, 4).expect("valid");
        let rows = MagnitudeRows::new(0.0, 1.0, 3).expect("2 outputs");
        // Row 0: bins 0, 0; row 1: bin 2; row 2: bin 3; z = 1.5 is outside the range.
        let z = [0.1, 0.2, 0.6, 0.9, 1.5];
        let row = [0, 0, 1, 2, 2];
        let counts = row_histograms(&base, &rows, &z, &row);
        assert_eq!(
            counts,
            vec![
                vec![2.0, 0.0, 0.0, 0.0],
                vec![0.0, 0.0, 1.0, 0.0],
                vec![0.0, 0.0, 0.0, 1.0],
            ]
        );
        // Output 0 = rows 0, 1 → [2, 0, 1, 0] / 3; output 1 = rows 1, 2 → [0, 0, 1, 1] / 2.
        let outputs = output_histograms(&rows, &counts);
        let expected = [[2.0 / 3.0, 0.0, 1.0 / 3.0, 0.0], [0.0, 0.0, 0.5, 0.5]];
        for (found, expected) in outputs.iter().zip(expected) {
            for (f, e) in found.iter().zip(expected) {
                assert!((f - e).abs() < 1e-15, "{outputs:?}");
            }
        }
    }
}
