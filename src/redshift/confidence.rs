//! How much of a PDF lies close to its point estimate: the confidence figure of the
//! catalogues (FITS `Z_CONF`), shared by every output that reports one.

use super::binning::ZBinning;
use super::estimates::cdf_at;

/// The half-width of the window, in units of `1 + z`: ±0.003 (1 + z), the precision of a
/// successful spectroscopic redshift (the `success_0_003` of the reports; Euclid's requirement
/// σ_z ≤ 0.001 (1 + z) at 3σ).
pub const CONFIDENCE_HALF_WIDTH: f64 = 0.003;

/// The probability mass within `±half_width (1 + z)` of `z`:
///
/// ```text
/// Z_CONF = C(z + w) − C(z − w),   w = half_width (1 + z)
/// ```
///
/// with `C` the PDF's CDF, linear inside each bin ([`cdf_at`]). 1 when the whole PDF is in the
/// window, near 0 for a flat PDF over a wide range.
pub fn mass_within(
    binning: &ZBinning,
    pdf: &[f32],
    z: f64,
    half_width: f64,
) -> Result<f64, String> {
    if !(z.is_finite() && half_width.is_finite() && half_width >= 0.0) {
        return Err(format!(
            "confidence window: z = {z} and half-width {half_width} must be finite (half-width ≥ 0)"
        ));
    }
    let w = half_width * (1.0 + z);
    Ok((cdf_at(binning, pdf, z + w)? - cdf_at(binning, pdf, z - w)?).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_within_hand_computed() {
        // 10 bins of width 0.1 on [0, 1), uniform p = 0.1. At z = 0.5 with half-width 0.1:
        // w = 0.15, the window [0.35, 0.65] holds 0.3 of the mass.
        let b = ZBinning::new(0.0, 1.0, 10).expect("valid");
        let flat = [0.1f32; 10];
        let m = mass_within(&b, &flat, 0.5, 0.1).expect("valid");
        assert!((m - 0.3).abs() < 1e-6, "{m}");
        // A one-hot PDF in bin 5 = [0.5, 0.6): the window [0.35, 0.65] holds all of it.
        let mut one_hot = [0.0f32; 10];
        one_hot[5] = 1.0;
        assert!((mass_within(&b, &one_hot, 0.55, 0.1).unwrap() - 1.0).abs() < 1e-6);
        // The window may pass the grid's ends: C is 0 below and 1 above.
        assert!((mass_within(&b, &flat, 0.98, 0.1).unwrap() - (1.0 - 0.782)).abs() < 1e-6);
        assert!(mass_within(&b, &flat, f64::NAN, 0.1).is_err());
        assert!(mass_within(&b, &flat, 0.5, -1.0).is_err());
    }
}
