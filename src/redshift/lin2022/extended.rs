//! Step 3's range extension, research notes §1.4, and the point estimate, §1.6.
//!
//! Step 3 adds `left` bins below and `right` bins above the base range (SDSS: n/2 each, so
//! 90 + 180 + 90 = 360 bins over [−0.2, 0.6)), so that shifted labels of objects near the
//! ends stay inside the output. The label index moves from `j` to `j + left`, and the point
//! estimate can fall outside the base range.

use crate::redshift::binning::ZBinning;
use crate::redshift::estimates::argmax_bin;

/// The hard label index of §1.4, clipped to the base bins:
///
/// ```text
/// j = clip(⌊(z − z_min) / w⌋, 0, n − 1)
/// ```
///
/// Errors when `z` is not finite.
pub fn clipped_bin(base: &ZBinning, z: f64) -> Result<usize, String> {
    if !z.is_finite() {
        return Err(format!("redshift must be finite, found {z}"));
    }
    if z < base.z_min() {
        return Ok(0);
    }
    Ok(base.bin_of(z).unwrap_or(base.bins() - 1))
}

/// A base binning and its extension by `left` and `right` bins of the same width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExtendedBinning {
    base: ZBinning,
    extended: ZBinning,
    left: usize,
}

impl ExtendedBinning {
    /// `base` extended by `left` bins below and `right` bins above.
    pub fn new(base: ZBinning, left: usize, right: usize) -> Result<Self, String> {
        Ok(Self {
            base,
            extended: base.extended(left, right)?,
            left,
        })
    }

    /// The SDSS extension of §1.4: `n/2` bins on each side.
    pub fn half_each_side(base: ZBinning) -> Result<Self, String> {
        let half = base.bins() / 2;
        Self::new(base, half, half)
    }

    /// The base binning (the Steps 1–2 output, and the grid of histograms).
    pub fn base(&self) -> &ZBinning {
        &self.base
    }

    /// The extended binning (the Step 3 output).
    pub fn extended(&self) -> &ZBinning {
        &self.extended
    }

    /// The bins added below the base range.
    pub fn left(&self) -> usize {
        self.left
    }

    /// The label index of `z` in the extended output: `clipped_bin(z) + left` (§1.4).
    pub fn label_index(&self, z: f64) -> Result<usize, String> {
        Ok(clipped_bin(&self.base, z)? + self.left)
    }

    /// The point estimate of §1.6: the centre of the most probable extended bin,
    /// `z_centres[argmax p] − left · w`, which is the extended bin's own centre.
    pub fn mode(&self, pdf: &[f32]) -> Result<f64, String> {
        Ok(self.extended.center(argmax_bin(&self.extended, pdf)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdss() -> ExtendedBinning {
        let base = ZBinning::new(0.0, 0.4, 180).expect("valid");
        ExtendedBinning::half_each_side(base).expect("valid")
    }

    #[test]
    fn sdss_extension_is_360_bins_over_minus_0_2_to_0_6() {
        let e = sdss();
        assert_eq!(e.extended().bins(), 360);
        assert_eq!(e.left(), 90);
        assert!((e.extended().z_min() + 0.2).abs() < 1e-12);
        assert!((e.extended().z_max() - 0.6).abs() < 1e-12);
    }

    #[test]
    fn label_index_is_clipped_then_shifted() {
        let e = sdss();
        // ⌊0.1 / (0.4/180)⌋ = 45 (0.1 = 45 w exactly lies on an edge: upper bin).
        assert_eq!(e.label_index(0.1), Ok(45 + 90));
        assert_eq!(e.label_index(0.0011), Ok(90));
        assert_eq!(e.label_index(-0.05), Ok(90));
        assert_eq!(e.label_index(0.4), Ok(179 + 90));
        assert_eq!(e.label_index(0.9), Ok(179 + 90));
        assert!(e.label_index(f64::NAN).is_err());
    }

    #[test]
    fn mode_subtracts_the_left_extension() {
        let e = sdss();
        let w = 0.4 / 180.0;
        let mut pdf = vec![0.0f32; 360];
        pdf[10] = 0.7;
        pdf[200] = 0.3;
        // Bin 10 of the extended output: (10 + ½) w − 90 w, below the base range.
        let z = e.mode(&pdf).expect("valid");
        assert!((z - (10.5 * w - 0.2)).abs() < 1e-12, "{z}");
        pdf[10] = 0.1;
        let z = e.mode(&pdf).expect("valid");
        assert!((z - (200.5 - 90.0) * w).abs() < 1e-12, "{z}");
        assert!(e.mode(&pdf[..180]).is_err());
    }
}
