//! `ZWARN`: a bitmask of warnings per object, in the style of DESI's Redrock
//! (`redrock/zwarning.py`: 0 means no warning; bits 16–23 are left to afterburners). Every
//! bit zcnn defines is listed in [`ZWARN_BITS`] and written into the FITS header.

/// Bit 0: the PDF holds less than [`LOW_CONFIDENCE_BELOW`] of its mass within
/// ±0.003 (1 + z) of `Z` (`Z_CONF` below the threshold).
pub const LOW_CONFIDENCE: u32 = 1 << 0;
/// Bit 1: a second peak at least [`SECOND_PEAK_RATIO`] as high as the mode, farther than
/// [`PEAK_SEPARATION`] (1 + z_mode) from it (a line confusion, e.g. Hα at z vs [O III]).
pub const TWO_PEAKS: u32 = 1 << 1;
/// Bit 2: part of the input was masked (bad pixels filled in by `zcnn import`), more than
/// [`MASKED_ABOVE`] of the pixels.
pub const MASKED_INPUT: u32 = 1 << 2;
/// Bit 3: the input lies outside the training contract (the contract check sets it; reserved
/// until that check exists, never set by the code here).
pub const OUTSIDE_CONTRACT: u32 = 1 << 3;
/// Bit 4: the mode is in the first or last bin: the true z may lie outside the grid (Redrock's
/// `Z_FITLIMIT`).
pub const Z_AT_GRID_EDGE: u32 = 1 << 4;
/// Bits 5–15 are reserved for zcnn; bits 16–23 are reserved for afterburners and never set by
/// zcnn (as in Redrock).
pub const RESERVED_ZCNN: u32 = 0x0000_FFE0;
pub const RESERVED_AFTERBURNER: u32 = 0x00FF_0000;

/// `Z_CONF` under this sets [`LOW_CONFIDENCE`].
pub const LOW_CONFIDENCE_BELOW: f64 = 0.5;
/// Height of a second peak, relative to the mode's bin, that sets [`TWO_PEAKS`].
pub const SECOND_PEAK_RATIO: f64 = 0.2;
/// Minimum separation of a second peak, in units of `1 + z_mode`.
pub const PEAK_SEPARATION: f64 = 0.05;
/// Masked pixel fraction above which [`MASKED_INPUT`] is set.
pub const MASKED_ABOVE: f64 = 0.0;

/// Every defined bit: (bit, name, meaning), for headers and documentation.
pub const ZWARN_BITS: [(u32, &str, &str); 5] = [
    (0, "LOW_CONFIDENCE", "Z_CONF < 0.5"),
    (1, "TWO_PEAKS", "2nd peak >= 0.2 x mode, > 0.05(1+z) away"),
    (2, "MASKED_INPUT", "some input pixels were masked"),
    (3, "OUTSIDE_CONTRACT", "input outside the training contract"),
    (4, "Z_AT_GRID_EDGE", "mode in the first or last bin"),
];

/// What the warnings are computed from.
pub struct ZwarnInputs<'a> {
    /// Bin centres of the PDF.
    pub centers: &'a [f64],
    pub pdf: &'a [f32],
    /// Index of the mode's bin.
    pub mode_bin: usize,
    /// `Z_CONF`.
    pub confidence: f64,
    /// Fraction of masked input pixels, when known.
    pub masked_fraction: Option<f64>,
}

/// The `ZWARN` bits of one object (never [`OUTSIDE_CONTRACT`], which its own check sets).
pub fn zwarn(i: &ZwarnInputs) -> u32 {
    let mut bits = 0;
    if i.confidence < LOW_CONFIDENCE_BELOW {
        bits |= LOW_CONFIDENCE;
    }
    if has_second_peak(i.centers, i.pdf, i.mode_bin) {
        bits |= TWO_PEAKS;
    }
    if i.masked_fraction.is_some_and(|m| m > MASKED_ABOVE) {
        bits |= MASKED_INPUT;
    }
    if i.mode_bin == 0 || i.mode_bin + 1 == i.pdf.len() {
        bits |= Z_AT_GRID_EDGE;
    }
    bits
}

/// Whether some bin farther than `0.05 (1 + z_mode)` from the mode holds at least 0.2 of the
/// mode's probability:  `∃k: |z_k − z_mode| > 0.05 (1 + z_mode) ∧ p_k ≥ 0.2 p_mode`.
fn has_second_peak(centers: &[f64], pdf: &[f32], mode_bin: usize) -> bool {
    let z_mode = centers[mode_bin];
    let height = SECOND_PEAK_RATIO * pdf[mode_bin] as f64;
    let far = PEAK_SEPARATION * (1.0 + z_mode);
    centers
        .iter()
        .zip(pdf)
        .any(|(&z, &p)| (z - z_mode).abs() > far && p as f64 >= height)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(centers: &'a [f64], pdf: &'a [f32], confidence: f64) -> ZwarnInputs<'a> {
        let mode_bin = (0..pdf.len()).fold(0, |b, k| if pdf[k] > pdf[b] { k } else { b });
        ZwarnInputs {
            centers,
            pdf,
            mode_bin,
            confidence,
            masked_fraction: None,
        }
    }

    #[test]
    fn each_bit_is_set_by_its_own_condition() {
        let centers: Vec<f64> = (0..20).map(|k| 0.05 * k as f64 + 0.025).collect();
        let mut pdf = [0.0f32; 20];
        pdf[10] = 1.0;
        assert_eq!(zwarn(&inputs(&centers, &pdf, 0.9)), 0);
        assert_eq!(zwarn(&inputs(&centers, &pdf, 0.4)), LOW_CONFIDENCE);
        // A second bin of 0.25 of the mode's height, 0.3 away (> 0.05 · 1.525): two peaks.
        pdf[10] = 0.8;
        pdf[16] = 0.2;
        assert_eq!(zwarn(&inputs(&centers, &pdf, 0.9)), TWO_PEAKS);
        // Right beside the mode it is the same peak.
        pdf[16] = 0.0;
        pdf[11] = 0.2;
        assert_eq!(zwarn(&inputs(&centers, &pdf, 0.9)), 0);
        let mut masked = inputs(&centers, &pdf, 0.9);
        masked.masked_fraction = Some(0.01);
        assert_eq!(zwarn(&masked), MASKED_INPUT);
        let mut edge = [0.0f32; 20];
        edge[19] = 1.0;
        assert_eq!(zwarn(&inputs(&centers, &edge, 0.9)), Z_AT_GRID_EDGE);
    }

    #[test]
    fn bits_do_not_overlap_the_reserved_ranges() {
        let defined = ZWARN_BITS
            .iter()
            .fold(0u32, |m, (bit, _, _)| m | (1 << bit));
        assert_eq!(defined & (RESERVED_ZCNN | RESERVED_AFTERBURNER), 0);
        assert_eq!(
            defined,
            LOW_CONFIDENCE | TWO_PEAKS | MASKED_INPUT | OUTSIDE_CONTRACT | Z_AT_GRID_EDGE
        );
    }
}
