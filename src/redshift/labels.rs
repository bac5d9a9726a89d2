//! Training targets for a redshift classifier: hard, soft and shifted labels.
//!
//! - **Hard label**: the bin of `z_true` (one-hot target), as in the seeds.
//! - **Soft label**: the Gaussian `N(z_true, σ)` integrated over each bin,
//!   `p_k = Φ(edge_{k+1}) − Φ(edge_k)`, truncated to the range and renormalised to sum 1.
//!   Lin et al. (2022, Step 3) soften labels this way so that a network trained on them no
//!   longer collapses its predictions onto a few modes.
//! - **Shifted label** (Lin et al. 2022, `PZbias_main.py`, Step 3): near the ends of the range
//!   a network's scatter `σ₂` is truncated, so its predictions are pulled inward by the
//!   difference between `z_true` and the centre of mass `z_cm` of the truncated Gaussian. The
//!   label is moved the other way by the same amount, `z' = 2·z_true − z_cm`, so that after
//!   the scatter the prediction lands on average at `z_true`. `z'` can leave the range: train
//!   on a range extended by a few bins ([`ZBinning::extended`](super::ZBinning::extended)).

use super::binning::ZBinning;
use super::gaussian::{normal_interval_mass, normal_pdf};

/// The width σ of a soft label or of a scatter, in bins or in redshift.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LabelWidth {
    /// σ as a number of bins (Lin et al. give their σ₁, σ₂ in bins).
    Bins(f64),
    /// σ in redshift units.
    Z(f64),
}

impl LabelWidth {
    /// σ in redshift units for this binning. Errors when σ is negative or not finite.
    pub fn in_z(self, binning: &ZBinning) -> Result<f64, String> {
        let sigma_z = match self {
            LabelWidth::Bins(bins) => bins * binning.width(),
            LabelWidth::Z(z) => z,
        };
        if !sigma_z.is_finite() || sigma_z < 0.0 {
            return Err(format!(
                "label width must be finite and ≥ 0, found {self:?} (σ_z = {sigma_z})"
            ));
        }
        Ok(sigma_z)
    }
}

/// How [`fill_targets`] turns a redshift into a target row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LabelKind {
    /// One-hot at the bin of z.
    Hard,
    /// The Gaussian `N(z, σ)` integrated over the bins ([`soft_label`]).
    Soft(LabelWidth),
}

/// The hard label: the bin index of `z` ([`ZBinning::bin_of`]).
pub fn hard_label(binning: &ZBinning, z: f64) -> Result<usize, String> {
    binning.bin_of(z)
}

/// Writes the one-hot target of `z` into `out` (length `bins`).
pub fn one_hot_label(binning: &ZBinning, z: f64, out: &mut [f32]) -> Result<(), String> {
    check_row_len(binning, out.len())?;
    let bin = binning.bin_of(z)?;
    out.fill(0.0);
    out[bin] = 1.0;
    Ok(())
}

/// Writes the soft label of a Gaussian centred at `center` into `out` (length `bins`):
///
/// ```text
/// p_k = [Φ(edge_{k+1}; center, σ) − Φ(edge_k; center, σ)] / Σ_j [Φ(edge_{j+1}) − Φ(edge_j)]
/// ```
///
/// i.e. `N(center, σ)` integrated over each bin, truncated to the range and renormalised.
/// σ = 0 gives the one-hot label. The centre may lie outside the range (a shifted label);
/// it is an error when no probability mass is left inside the range.
pub fn soft_label(
    binning: &ZBinning,
    center: f64,
    width: LabelWidth,
    out: &mut [f32],
) -> Result<(), String> {
    check_row_len(binning, out.len())?;
    let sigma = width.in_z(binning)?;
    if sigma == 0.0 {
        return one_hot_label(binning, center, out);
    }
    let masses = gaussian_bin_masses(binning, center, sigma)?;
    let total: f64 = masses.iter().sum();
    if total <= 0.0 {
        return Err(format!(
            "soft label: N({center}, {sigma}) has no mass inside [{}, {})",
            binning.z_min(),
            binning.z_max()
        ));
    }
    for (target, mass) in out.iter_mut().zip(&masses) {
        *target = (mass / total) as f32;
    }
    Ok(())
}

/// The centre of mass of `N(z_true, σ)` truncated to the range and, optionally, weighted by a
/// per-bin `density` (Lin et al. weight by the training set's z_spec histogram, so that the
/// mass follows where objects actually are):
///
/// ```text
/// z_cm = Σ_k d_k ∫_{bin k} t φ(t) dt / Σ_k d_k ∫_{bin k} φ(t) dt,
/// ∫_a^b t φ(t) dt = μ [Φ(b) − Φ(a)] − σ² [φ(b) − φ(a)]      (φ = N(μ, σ) density)
/// ```
///
/// Without a density this is the mean of the truncated normal: `z_true` in the middle of the
/// range, moved inward near its ends. σ = 0 gives `z_true`.
pub fn truncated_center_of_mass(
    binning: &ZBinning,
    z_true: f64,
    scatter: LabelWidth,
    density: Option<&[f64]>,
) -> Result<f64, String> {
    if !binning.contains(z_true) {
        return Err(format!(
            "shifted label: z = {z_true} is outside the redshift range [{}, {})",
            binning.z_min(),
            binning.z_max()
        ));
    }
    let sigma = scatter.in_z(binning)?;
    if sigma == 0.0 {
        return Ok(z_true);
    }
    let weights = bin_weights(binning, density)?;
    let masses = gaussian_bin_masses(binning, z_true, sigma)?;
    let mut mass_sum = 0.0;
    let mut moment_sum = 0.0;
    for (k, (mass, weight)) in masses.iter().zip(&weights).enumerate() {
        let (low, high) = (binning.edge(k), binning.edge(k + 1));
        let density_difference = normal_pdf(high, z_true, sigma) - normal_pdf(low, z_true, sigma);
        let first_moment = z_true * mass - sigma * sigma * density_difference;
        mass_sum += weight * mass;
        moment_sum += weight * first_moment;
    }
    if mass_sum <= 0.0 {
        return Err(format!(
            "shifted label: the density is zero wherever N({z_true}, {sigma}) has mass"
        ));
    }
    Ok(moment_sum / mass_sum)
}

/// The shifted label of Lin et al. (2022): `z' = 2·z_true − z_cm`, with `z_cm` from
/// [`truncated_center_of_mass`] for the network's scatter σ₂.
///
/// In the middle of the range `z' ≈ z_true`; near an end `z_cm` moves inward, so `z'` moves
/// outward (possibly outside the range), by the same amount.
pub fn shifted_label(
    binning: &ZBinning,
    z_true: f64,
    scatter: LabelWidth,
    density: Option<&[f64]>,
) -> Result<f64, String> {
    let z_cm = truncated_center_of_mass(binning, z_true, scatter, density)?;
    Ok(2.0 * z_true - z_cm)
}

/// Fills a `[batch, bins]` row-major target matrix with one label per redshift of `z`.
/// Errors name the row whose redshift could not be labelled.
pub fn fill_targets(
    binning: &ZBinning,
    z: &[f64],
    kind: LabelKind,
    targets: &mut [f32],
) -> Result<(), String> {
    let bins = binning.bins();
    if targets.len() != z.len() * bins {
        return Err(format!(
            "targets: expected {} values ([{}, {bins}]), found {}",
            z.len() * bins,
            z.len(),
            targets.len()
        ));
    }
    for (row, (&z_row, target_row)) in z.iter().zip(targets.chunks_exact_mut(bins)).enumerate() {
        let result = match kind {
            LabelKind::Hard => one_hot_label(binning, z_row, target_row),
            LabelKind::Soft(width) => soft_label(binning, z_row, width, target_row),
        };
        result.map_err(|e| format!("target row {row}: {e}"))?;
    }
    Ok(())
}

/// `Φ(edge_{k+1}) − Φ(edge_k)` for every bin: the mass of `N(center, σ)` in each bin.
fn gaussian_bin_masses(binning: &ZBinning, center: f64, sigma: f64) -> Result<Vec<f64>, String> {
    if !center.is_finite() {
        return Err(format!("label centre must be finite, found {center}"));
    }
    Ok(binning
        .edges()
        .windows(2)
        .map(|edges| normal_interval_mass(edges[0], edges[1], center, sigma))
        .collect())
}

/// The density weights, checked (length `bins`, finite, ≥ 0), or all ones.
fn bin_weights(binning: &ZBinning, density: Option<&[f64]>) -> Result<Vec<f64>, String> {
    let Some(density) = density else {
        return Ok(vec![1.0; binning.bins()]);
    };
    check_row_len(binning, density.len())?;
    if let Some(k) = density.iter().position(|d| !d.is_finite() || *d < 0.0) {
        return Err(format!(
            "density[{k}] must be finite and ≥ 0, found {}",
            density[k]
        ));
    }
    Ok(density.to_vec())
}

fn check_row_len(binning: &ZBinning, len: usize) -> Result<(), String> {
    if len != binning.bins() {
        return Err(format!(
            "label row: expected {} values (one per bin), found {len}",
            binning.bins()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_binning() -> ZBinning {
        ZBinning::new(1.0, 1.8, 800).expect("valid binning")
    }

    fn soft(binning: &ZBinning, z: f64, width: LabelWidth) -> Vec<f32> {
        let mut out = vec![0.0; binning.bins()];
        soft_label(binning, z, width, &mut out).expect("valid soft label");
        out
    }

    fn argmax(values: &[f32]) -> usize {
        let mut best = 0;
        for (k, v) in values.iter().enumerate() {
            if *v > values[best] {
                best = k;
            }
        }
        best
    }

    #[test]
    fn hard_label_is_one_hot_at_the_bin() {
        let b = seed_binning();
        let mut out = vec![0.5; 800];
        one_hot_label(&b, 1.2345, &mut out).expect("in range");
        assert_eq!(out[234], 1.0);
        assert_eq!(out.iter().sum::<f32>(), 1.0);
        assert_eq!(hard_label(&b, 1.2345), Ok(234));
        assert!(one_hot_label(&b, 2.0, &mut out).is_err());
    }

    #[test]
    fn soft_labels_sum_to_one_and_peak_at_the_true_bin() {
        let b = seed_binning();
        for (z, sigma) in [(1.2345, 2.0), (1.0003, 5.0), (1.7999, 3.0), (1.4003, 0.3)] {
            let label = soft(&b, z, LabelWidth::Bins(sigma));
            let sum: f64 = label.iter().map(|&p| p as f64).sum();
            assert!((sum - 1.0).abs() < 1e-5, "sum {sum} at z={z}");
            assert_eq!(argmax(&label), b.bin_of(z).expect("in range"), "z={z}");
            assert!(label.iter().all(|&p| p >= 0.0));
        }
    }

    #[test]
    fn soft_label_of_a_centred_z_is_symmetric() {
        let b = seed_binning();
        let k = 400;
        let label = soft(&b, b.center(k), LabelWidth::Z(0.003));
        for offset in 1..20 {
            let (left, right) = (label[k - offset], label[k + offset]);
            assert!(
                (left - right).abs() < 1e-7,
                "offset {offset}: {left} vs {right}"
            );
        }
        // 1 bin wide at σ = 3 bins: mass of |u| < 1/6 ≈ 0.1324.
        assert!((label[k] - 0.132_368).abs() < 1e-5, "{}", label[k]);
    }

    #[test]
    fn soft_label_tends_to_one_hot_as_sigma_goes_to_zero() {
        let b = seed_binning();
        let z = 1.23456;
        let bin = b.bin_of(z).expect("in range");
        let mut previous_peak = 0.0;
        for sigma in [1.0, 0.3, 0.1, 0.05] {
            let peak = soft(&b, z, LabelWidth::Bins(sigma))[bin];
            assert!(peak > previous_peak, "σ={sigma}: {peak}");
            previous_peak = peak;
        }
        assert!((soft(&b, z, LabelWidth::Bins(0.001))[bin] - 1.0).abs() < 1e-6);
        let mut one_hot = vec![0.0; 800];
        one_hot_label(&b, z, &mut one_hot).expect("in range");
        assert_eq!(soft(&b, z, LabelWidth::Bins(0.0)), one_hot);
    }

    #[test]
    fn soft_label_near_an_edge_is_truncated_and_renormalised() {
        let b = seed_binning();
        let label = soft(&b, b.edge(0), LabelWidth::Bins(2.0));
        // Half the Gaussian falls below z_min; the rest is doubled.
        let expected_first = 2.0 * normal_interval_mass(1.0, b.edge(1), 1.0, 0.002);
        assert!((label[0] as f64 - expected_first).abs() < 1e-6);
    }

    #[test]
    fn soft_label_errors() {
        let b = seed_binning();
        let mut out = vec![0.0; 800];
        assert!(soft_label(&b, 1.3, LabelWidth::Bins(-1.0), &mut out).is_err());
        assert!(soft_label(&b, 1.3, LabelWidth::Z(f64::NAN), &mut out).is_err());
        assert!(soft_label(&b, f64::NAN, LabelWidth::Bins(1.0), &mut out).is_err());
        assert!(soft_label(&b, 5.0, LabelWidth::Bins(1.0), &mut out).is_err());
        assert!(soft_label(&b, 1.3, LabelWidth::Bins(1.0), &mut out[..799]).is_err());
    }

    #[test]
    fn center_of_mass_moves_inward_and_shifted_label_outward_near_the_edges() {
        let b = seed_binning();
        let scatter = LabelWidth::Bins(10.0);
        let low = b.center(2);
        let cm_low = truncated_center_of_mass(&b, low, scatter, None).expect("valid");
        let shifted_low = shifted_label(&b, low, scatter, None).expect("valid");
        assert!(cm_low > low + 0.003, "inward: {cm_low} vs {low}");
        assert!(shifted_low < low - 0.003, "outward: {shifted_low}");
        assert!((shifted_low - low + (cm_low - low)).abs() < 1e-12);

        let high = b.center(797);
        let cm_high = truncated_center_of_mass(&b, high, scatter, None).expect("valid");
        assert!(cm_high < high - 0.003, "inward: {cm_high} vs {high}");
        assert!(shifted_label(&b, high, scatter, None).expect("valid") > high + 0.003);
    }

    #[test]
    fn center_of_mass_matches_the_truncated_normal_mean_at_the_edge() {
        // N(z_min, σ) truncated to z ≥ z_min (range ≫ σ) has mean z_min + σ·√(2/π).
        let b = seed_binning();
        let sigma = 0.01;
        let cm = truncated_center_of_mass(&b, 1.0, LabelWidth::Z(sigma), None).expect("valid");
        let expected = 1.0 + sigma * (2.0 / std::f64::consts::PI).sqrt();
        assert!((cm - expected).abs() < 1e-12, "{cm} vs {expected}");
    }

    #[test]
    fn shifted_label_is_z_true_in_the_middle_and_for_zero_scatter() {
        let b = seed_binning();
        for z in [1.3, 1.4567, 1.55] {
            let shifted = shifted_label(&b, z, LabelWidth::Bins(10.0), None).expect("valid");
            assert!((shifted - z).abs() < 1e-12, "{shifted} vs {z}");
        }
        let edge = b.center(0);
        assert_eq!(
            shifted_label(&b, edge, LabelWidth::Bins(0.0), None),
            Ok(edge)
        );
    }

    #[test]
    fn density_weighting_pulls_the_center_of_mass_toward_populated_bins() {
        let b = seed_binning();
        let z = b.center(400);
        let mut density = vec![1.0; 800];
        density[..400].fill(0.1);
        let cm =
            truncated_center_of_mass(&b, z, LabelWidth::Bins(5.0), Some(&density)).expect("valid");
        assert!(cm > z + 0.001, "{cm} vs {z}");
        assert!(
            truncated_center_of_mass(&b, z, LabelWidth::Bins(5.0), Some(&density[..3])).is_err()
        );
        density[3] = f64::NAN;
        assert!(truncated_center_of_mass(&b, z, LabelWidth::Bins(5.0), Some(&density)).is_err());
        assert!(truncated_center_of_mass(&b, 0.5, LabelWidth::Bins(5.0), None).is_err());
    }

    #[test]
    fn fill_targets_writes_one_row_per_redshift_and_names_bad_rows() {
        let b = ZBinning::new(0.0, 1.0, 10).expect("valid");
        let z = [0.05, 0.55, 0.95];
        let mut targets = vec![0.0; 30];
        fill_targets(&b, &z, LabelKind::Hard, &mut targets).expect("valid");
        assert_eq!(targets[0], 1.0);
        assert_eq!(targets[10 + 5], 1.0);
        assert_eq!(targets[20 + 9], 1.0);
        assert_eq!(targets.iter().sum::<f32>(), 3.0);

        fill_targets(&b, &z, LabelKind::Soft(LabelWidth::Bins(1.0)), &mut targets).expect("valid");
        for row in targets.chunks_exact(10) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }

        let err = fill_targets(&b, &[0.5, 1.5], LabelKind::Hard, &mut targets[..20])
            .expect_err("row 1 is out of range");
        assert!(err.contains("row 1"), "{err}");
        assert!(fill_targets(&b, &z, LabelKind::Hard, &mut targets[..29]).is_err());
    }
}
