//! The training targets of a batch for the factorised output (research notes §1.5, §1.9c):
//! the magnitude head's and the m redshift heads', as the loss reads them.

use super::extended::{clipped_bin, ExtendedBinning};
use super::magnitude_rows::MagnitudeRows;
use super::sample::{check_finite, check_rows};
use super::step3_labels::{step3_targets, LabelFit, Step3Options};
use crate::redshift::binning::ZBinning;

/// Targets of a batch: `magnitude` is `[batch, m]`, `redshift` `[batch, m · bins]` (head k
/// of object i at `[i][k · bins ..]`).
#[derive(Clone, Debug, PartialEq)]
pub struct FactorisedTargets {
    /// The magnitude head's targets ([`MagnitudeRows::magnitude_target`]).
    pub magnitude: Vec<f32>,
    /// The redshift heads' targets.
    pub redshift: Vec<f32>,
}

/// Steps 1–2 (§1.5): one-hot at the clipped base bin of z in each active head, flat `1/n` in
/// the others. `z` and `row` are index-matched.
pub fn step12_batch_targets(
    base: &ZBinning,
    rows: &MagnitudeRows,
    z: &[f64],
    row: &[usize],
) -> Result<FactorisedTargets, String> {
    let bins = base.bins();
    batch_targets(rows, z, row, bins, |i, out| {
        rows.one_hot_targets(row[i], clipped_bin(base, z[i])?, bins, out)
    })
}

/// Step 3 (§1.9c): [`step3_targets`] for each object, over the extended bins.
pub fn step3_batch_targets(
    binning: &ExtendedBinning,
    rows: &MagnitudeRows,
    fit: &LabelFit,
    z: &[f64],
    row: &[usize],
    options: Step3Options,
) -> Result<FactorisedTargets, String> {
    fit.check(binning, rows)?;
    batch_targets(rows, z, row, binning.extended().bins(), |i, out| {
        step3_targets(binning, rows, fit, z[i], row[i], options, out)
    })
}

/// Checks the batch, writes the magnitude targets and calls `redshift(i, out)` for the
/// redshift targets of object i.
fn batch_targets(
    rows: &MagnitudeRows,
    z: &[f64],
    row: &[usize],
    bins: usize,
    mut redshift: impl FnMut(usize, &mut [f32]) -> Result<(), String>,
) -> Result<FactorisedTargets, String> {
    let name = "targets";
    if z.len() != row.len() {
        return Err(format!(
            "{name}: {} redshifts but {} rows",
            z.len(),
            row.len()
        ));
    }
    check_finite(name, "z", z)?;
    check_rows(name, row, rows)?;
    let m = rows.outputs();
    let head_len = m.checked_mul(bins).ok_or("targets: size overflows")?;
    let mut magnitude = vec![0.0; z.len() * m];
    let mut targets = vec![
        0.0;
        z.len()
            .checked_mul(head_len)
            .ok_or("targets: size overflows")?
    ];
    for (i, (mag, out)) in magnitude
        .chunks_exact_mut(m)
        .zip(targets.chunks_exact_mut(head_len))
        .enumerate()
    {
        rows.magnitude_target(row[i], mag)?;
        redshift(i, out).map_err(|e| format!("{name}: object {i}: {e}"))?;
    }
    Ok(FactorisedTargets {
        magnitude,
        redshift: targets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step12_batch_by_hand() {
        let base = ZBinning::new(0.0, 1.0, 2).expect("valid");
        let rows = MagnitudeRows::new(0.0, 1.0, 3).expect("2 outputs");
        // Object 0: z = 0.7 (bin 1), row 1 (both heads); object 1: z = −0.3 (clipped to bin
        // 0), row 2 (head 1 only).
        let t = step12_batch_targets(&base, &rows, &[0.7, -0.3], &[1, 2]).expect("valid");
        assert_eq!(t.magnitude, vec![0.5, 0.5, 0.0, 1.0]);
        assert_eq!(t.redshift, vec![0.0, 1.0, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0]);
        let err = step12_batch_targets(&base, &rows, &[0.7, f64::NAN], &[1, 2]).expect_err("NaN");
        assert!(err.contains("z[1]"), "{err}");
        assert!(step12_batch_targets(&base, &rows, &[0.7], &[3]).is_err());
    }

    #[test]
    fn step3_batch_matches_the_single_object_targets() {
        let binning = ExtendedBinning::half_each_side(ZBinning::new(0.0, 1.0, 10).expect("valid"))
            .expect("valid");
        let rows = MagnitudeRows::new(0.0, 1.0, 3).expect("2 outputs");
        let fit = LabelFit {
            sigma1: vec![1.0, 2.0],
            sigma2: vec![vec![1.5; 10]; 2],
            density: vec![vec![1.0; 10]; 3],
        };
        let (z, row) = ([0.05, 0.55], [1, 0]);
        let t = step3_batch_targets(&binning, &rows, &fit, &z, &row, Step3Options::default())
            .expect("valid");
        let mut single = vec![0.0; 40];
        for i in 0..2 {
            step3_targets(
                &binning,
                &rows,
                &fit,
                z[i],
                row[i],
                Step3Options::default(),
                &mut single,
            )
            .expect("valid");
            assert_eq!(&t.redshift[i * 40..(i + 1) * 40], &single[..]);
        }
    }
}
