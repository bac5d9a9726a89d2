//! Step 3 labels: soft, shifted and over the extended range, research notes §1.9c.
//!
//! A network's estimates of objects in z_spec bin j scatter by σ₂ around j, but only where
//! the data are: near the ends of the range (or of the populated region) the scatter is
//! truncated and weighted by the spec-z density, so on average the estimate lands on the
//! centre of mass `z_cm` of that truncated Gaussian rather than on j. The label is therefore
//! moved the other way, to `j' = 2j − z_cm`, and softened by σ₁ so that the network no longer
//! collapses its estimates onto a few modes.

use super::dispersion::fit_dispersions;
use super::extended::ExtendedBinning;
use super::histograms::row_histograms;
use super::kernel::{gaussian_weight, normalise, normalised_gaussian};
use super::magnitude_rows::MagnitudeRows;
use super::sample::Sample;
use super::scatter::fit_scatters;

/// Below this width (in bins) a Gaussian is treated as a delta (§1.9c).
pub const DELTA_BELOW: f64 = 0.1;

/// The ablations of §1.7 ("Step 3a": `soft = false`; "Step 3b": `shift = false`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step3Options {
    /// Soften the label with N(j', σ₁) (else one-hot at `j'`).
    pub soft: bool,
    /// Shift the centre to `j' = 2j − z_cm` (else `j' = j`).
    pub shift: bool,
}

impl Default for Step3Options {
    fn default() -> Self {
        Self {
            soft: true,
            shift: true,
        }
    }
}

/// Everything the Step 3 labels need, fitted on the balanced subset with its Step 2 photo-z.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelFit {
    /// σ₁ per output, in bins (§1.9a).
    pub sigma1: Vec<f64>,
    /// σ₂ per output and base z bin, in bins (§1.9b).
    pub sigma2: Vec<Vec<f64>>,
    /// The subset's spec-z counts per magnitude row and base z bin: the density `N_row` that
    /// weights the truncated Gaussian (§1.9c).
    pub density: Vec<Vec<f64>>,
}

impl LabelFit {
    /// Fits σ₁, σ₂ and the densities on `subset` (§1.9a–b).
    pub fn fit(
        binning: &ExtendedBinning,
        rows: &MagnitudeRows,
        subset: &Sample,
    ) -> Result<Self, String> {
        let base = binning.base();
        let sigma1 = fit_dispersions(base, rows, subset)?;
        let sigma2 = fit_scatters(base, rows, subset, &sigma1)?;
        let density = row_histograms(base, rows, subset.z_spec, subset.row);
        Ok(Self {
            sigma1,
            sigma2,
            density,
        })
    }

    /// Checks the shapes against the rows and the base bins (a fit built by hand or read back).
    pub fn check(&self, binning: &ExtendedBinning, rows: &MagnitudeRows) -> Result<(), String> {
        let bins = binning.base().bins();
        let shaped = |table: &[Vec<f64>], len: usize| {
            table.len() == len && table.iter().all(|r| r.len() == bins)
        };
        if self.sigma1.len() != rows.outputs()
            || !shaped(&self.sigma2, rows.outputs())
            || !shaped(&self.density, rows.rows())
        {
            return Err(format!(
                "Step 3 label fit: expected σ₁ for {} outputs, σ₂ as {} × {bins} and the density \
                 as {} × {bins}",
                rows.outputs(),
                rows.outputs(),
                rows.rows()
            ));
        }
        Ok(())
    }
}

/// Writes the Step 3 label of one output into `out` (length n_ext) and returns its centre
/// `j'` (§1.9c). `j` is the label index in the extended bins ([`ExtendedBinning::label_index`]),
/// `density` the spec-z counts of the object's row over the base bins.
///
/// ```text
/// p(t) ∝ exp(−½ ((t − j)/σ₂)²) · N_row(t − left)     (N_row = 0 in the extension;
///                                                      a delta at j when σ₂ < 0.1)
/// z_cm = Σ_t t · p(t),        j' = 2j − z_cm          (j' = j without shift)
/// y(t) ∝ exp(−½ ((t − j')/σ₁)²)  over all extended bins (one-hot at clip(trunc j') when
///                                                      σ₁ < 0.1 or without soft labels)
/// ```
pub fn step3_label(
    binning: &ExtendedBinning,
    density: &[f64],
    j: usize,
    sigma1: f64,
    sigma2: f64,
    options: Step3Options,
    out: &mut [f32],
) -> Result<f64, String> {
    let (bins, left) = (binning.extended().bins(), binning.left());
    if out.len() != bins || density.len() != binning.base().bins() || j >= bins {
        return Err(format!(
            "Step 3 label: expected {bins} outputs, {} density bins and j < {bins}, found {}, \
             {} and j = {j}",
            binning.base().bins(),
            out.len(),
            density.len()
        ));
    }
    let centre = if options.shift {
        2.0 * j as f64 - truncated_centre_of_mass(density, left, bins, j, sigma2)?
    } else {
        j as f64
    };
    if sigma1 < DELTA_BELOW || !options.soft {
        out.fill(0.0);
        out[(centre.trunc().max(0.0) as usize).min(bins - 1)] = 1.0;
    } else {
        let label = normalised_gaussian(bins, centre, sigma1)?;
        for (target, y) in out.iter_mut().zip(label) {
            *target = y as f32;
        }
    }
    Ok(centre)
}

/// `z_cm = Σ_t t · p(t)` with `p(t) ∝ g(t − j; σ₂) · N(t − left)` over the extended bins
/// (a delta at j when σ₂ < 0.1), N zero outside the base bins.
fn truncated_centre_of_mass(
    density: &[f64],
    left: usize,
    bins: usize,
    j: usize,
    sigma2: f64,
) -> Result<f64, String> {
    let width = if sigma2 < DELTA_BELOW { 0.0 } else { sigma2 };
    let mut p: Vec<f64> = (0..bins)
        .map(|t| {
            let n = t.checked_sub(left).and_then(|b| density.get(b)).copied();
            gaussian_weight(t as f64 - j as f64, width) * n.unwrap_or(0.0)
        })
        .collect();
    normalise(&mut p).map_err(|_| {
        format!("Step 3 label: the row's spec-z density is zero wherever N({j}, {sigma2}) lies")
    })?;
    Ok(p.iter().enumerate().map(|(t, p)| t as f64 * p).sum())
}

/// Writes the Step 3 redshift targets of one object (spec-z `z`, magnitude row `row`) into
/// `out` (m heads of n_ext bins): each active output k gets [`step3_label`] with its own σ₁(k)
/// and σ₂(k, j), the others the flat `1 / n_ext` (§1.9c).
pub fn step3_targets(
    binning: &ExtendedBinning,
    rows: &MagnitudeRows,
    fit: &LabelFit,
    z: f64,
    row: usize,
    options: Step3Options,
    out: &mut [f32],
) -> Result<(), String> {
    fit.check(binning, rows)?;
    if row >= rows.rows() {
        return Err(format!(
            "row {row} but there are {} magnitude rows",
            rows.rows()
        ));
    }
    let j = binning.label_index(z)?;
    let base_bin = j - binning.left();
    let bins = binning.extended().bins();
    rows.redshift_targets(row, bins, out, |k, head| {
        let (sigma1, sigma2) = (fit.sigma1[k], fit.sigma2[k][base_bin]);
        step3_label(binning, &fit.density[row], j, sigma1, sigma2, options, head).map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redshift::binning::ZBinning;

    /// 10 base bins over [0, 1), 5 added on each side: 20 extended bins, base bin b at b + 5.
    fn binning() -> ExtendedBinning {
        ExtendedBinning::half_each_side(ZBinning::new(0.0, 1.0, 10).expect("valid")).expect("valid")
    }

    fn label(
        density: &[f64],
        j: usize,
        s1: f64,
        s2: f64,
        options: Step3Options,
    ) -> (f64, Vec<f32>) {
        let mut out = vec![0.0; 20];
        let centre = step3_label(&binning(), density, j, s1, s2, options, &mut out).expect("valid");
        (centre, out)
    }

    #[test]
    fn centre_of_mass_near_both_edges_by_hand() {
        // Flat density, σ₂ = 1. At the lower edge (base bin 0, j = 5) the Gaussian keeps
        // d = 0..9: z_cm = 5 + Σ d e^(−d²/2) / Σ e^(−d²/2) = 5 + 0.91188879 / 1.75331414
        // = 5.52009436, so j' = 10 − 5.52009436 = 4.47990564; the upper edge mirrors it.
        let flat = [1.0; 10];
        let shift = 0.520_094_356_3;
        let (low, _) = label(&flat, 5, 1.0, 1.0, Step3Options::default());
        assert!((low - (5.0 - shift)).abs() < 1e-9, "{low}");
        let (high, _) = label(&flat, 14, 1.0, 1.0, Step3Options::default());
        assert!((high - (14.0 + shift)).abs() < 1e-9, "{high}");
        // In the middle the truncation is negligible: j' ≈ j (within e^(−12.5)).
        let (middle, _) = label(&flat, 10, 1.0, 1.0, Step3Options::default());
        assert!((middle - 10.0).abs() < 1e-4, "{middle}");
    }

    #[test]
    fn the_density_weights_the_centre_of_mass() {
        // Density [0, 1, 3, 0, 2, 0, …], σ₂ = 1, j = 2 + 5 = 7: weights t = 6: e^−½ · 1,
        // t = 7: 3, t = 9: 2 e^−2. z_cm = (6 e^−½ + 21 + 18 e^−2) / (e^−½ + 3 + 2 e^−2).
        let mut density = [0.0; 10];
        density[1] = 1.0;
        density[2] = 3.0;
        density[4] = 2.0;
        let (e1, e2) = ((-0.5f64).exp(), (-2.0f64).exp());
        let z_cm = (6.0 * e1 + 21.0 + 18.0 * e2) / (e1 + 3.0 + 2.0 * e2);
        let (centre, _) = label(&density, 7, 1.0, 1.0, Step3Options::default());
        assert!(
            (centre - (14.0 - z_cm)).abs() < 1e-12,
            "{centre} vs {}",
            14.0 - z_cm
        );
        // Zero density wherever the Gaussian lies is an error, not a NaN label.
        let mut out = vec![0.0; 20];
        let err = step3_label(
            &binning(),
            &[0.0; 10],
            7,
            1.0,
            1.0,
            Step3Options::default(),
            &mut out,
        );
        assert!(err.is_err());
    }

    #[test]
    fn soft_hard_delta_and_unshifted_labels() {
        let flat = [1.0; 10];
        let (centre, soft) = label(&flat, 5, 2.0, 1.0, Step3Options::default());
        let sum: f32 = soft.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6, "{sum}");
        // y(4) / y(5) = exp(−½ ((4 − j')² − (5 − j')²) / σ₁²), untruncated in the extension.
        let ratio = f64::from(soft[4]) / f64::from(soft[5]);
        let expected = (-0.5 * ((4.0 - centre).powi(2) - (5.0 - centre).powi(2)) / 4.0).exp();
        assert!((ratio - expected).abs() < 1e-5, "{ratio} vs {expected}");
        // Hard (Step 3a): one-hot at trunc(4.4799) = 4.
        let hard = Step3Options {
            soft: false,
            shift: true,
        };
        let (_, one_hot) = label(&flat, 5, 2.0, 1.0, hard);
        assert_eq!(one_hot[4], 1.0);
        assert_eq!(one_hot.iter().sum::<f32>(), 1.0);
        // σ₁ < 0.1 is one-hot too; σ₂ < 0.1 makes the scatter a delta: no shift.
        let (_, tiny) = label(&flat, 5, 0.05, 1.0, Step3Options::default());
        assert_eq!(tiny[4], 1.0);
        let (centre, _) = label(&flat, 5, 2.0, 0.05, Step3Options::default());
        assert_eq!(centre, 5.0);
        // Step 3b: soft, unshifted: centred on j.
        let (centre, unshifted) = label(
            &flat,
            5,
            2.0,
            1.0,
            Step3Options {
                soft: true,
                shift: false,
            },
        );
        assert_eq!(centre, 5.0);
        assert!((unshifted[4] - unshifted[6]).abs() < 1e-7);
    }

    #[test]
    fn targets_fill_active_outputs_with_their_own_labels() {
        let b = binning();
        let rows = MagnitudeRows::new(0.0, 1.0, 3).expect("2 outputs");
        let fit = LabelFit {
            sigma1: vec![1.0, 0.05],
            sigma2: vec![vec![1.0; 10]; 2],
            density: vec![vec![1.0; 10]; 3],
        };
        let mut out = vec![0.0; 40];
        // Row 1 feeds both outputs; z = 0.05 is base bin 0, j = 5.
        step3_targets(&b, &rows, &fit, 0.05, 1, Step3Options::default(), &mut out).expect("ok");
        let (_, soft) = label(&[1.0; 10], 5, 1.0, 1.0, Step3Options::default());
        assert_eq!(&out[..20], &soft[..]);
        assert_eq!(out[20 + 4], 1.0, "output 1 has σ₁ < 0.1: one-hot at 4");
        // Row 0 feeds output 0 only: output 1 is flat 1/20.
        step3_targets(&b, &rows, &fit, 0.05, 0, Step3Options::default(), &mut out).expect("ok");
        assert!(out[20..].iter().all(|&y| y == 0.05));
        let short = LabelFit {
            sigma1: vec![1.0],
            ..fit.clone()
        };
        assert!(step3_targets(
            &b,
            &rows,
            &short,
            0.05,
            0,
            Step3Options::default(),
            &mut out
        )
        .is_err());
        assert!(
            step3_targets(&b, &rows, &fit, 0.05, 3, Step3Options::default(), &mut out).is_err()
        );
    }
}
