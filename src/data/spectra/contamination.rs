//! Contamination by a neighbour's overlapping spectrum, the dominant systematic of slitless
//! spectroscopy: the dispersed light of a nearby galaxy falls on the target's pixels, shifted
//! along the dispersion direction by the neighbours' separation.
//!
//! A contaminated spectrum receives the noiseless spectrum of another galaxy of the library, at
//! its own redshift and with the target's LSF, scaled so that its mean |flux| is `flux_ratio`
//! times the target's, and shifted by a whole number of pixels uniform in [−P, P] (P pixels:
//! from a full overlap to none). Pixels where the neighbour's flux exceeds `mask_sigma` times
//! the noise σ are masked as a pipeline flags them, and filled by linear interpolation between
//! the nearest unmasked pixels, as `zcnn import` fills bad pixels. Below the threshold the
//! neighbour's light stays in the spectrum: the residual a decontamination leaves.

use rand::Rng;

use super::draw::{check_range, log_uniform, uniform};
use super::rebin_masked::fill_gaps;

/// How often and how strongly spectra are contaminated.
#[derive(Clone, Debug, PartialEq)]
pub struct Contamination {
    /// Fraction of spectra with a contaminating neighbour, in [0, 1].
    pub fraction: f64,
    /// Mean |flux| of the neighbour over that of the target, log-uniform in (min, max).
    pub flux_ratio: (f64, f64),
    /// Pixels where the neighbour's flux exceeds this many noise σ are masked.
    pub mask_sigma: f64,
}

/// The neighbour drawn for one spectrum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    /// Its index in the library.
    pub galaxy: usize,
    pub z: f64,
    /// Its pixel p lands on the target's pixel p + offset.
    pub offset: isize,
    pub flux_ratio: f64,
}

impl Contamination {
    /// `fraction` of the spectra contaminated by a neighbour 0.1 to 3 times as bright, masked
    /// above 1 σ. These ranges are this project's choice, not survey measurements.
    pub fn with_fraction(fraction: f64) -> Self {
        Contamination {
            fraction,
            flux_ratio: (0.1, 3.0),
            mask_sigma: 1.0,
        }
    }

    /// Checks the fraction, the ratio range and the threshold.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.fraction) {
            return Err(format!(
                "contamination.fraction: expected a value in [0, 1], found {}",
                self.fraction
            ));
        }
        check_range("contamination.flux_ratio", self.flux_ratio, true)?;
        if !(self.mask_sigma.is_finite() && self.mask_sigma > 0.0) {
            return Err(format!(
                "contamination.mask_sigma: must be finite and > 0, found {}",
                self.mask_sigma
            ));
        }
        Ok(())
    }

    /// Draws whether spectrum `target` of a `pixels`-pixel grid is contaminated, and by which of
    /// the `galaxies` other galaxies (never itself when there is another), where and how much.
    pub fn draw_neighbour<R: Rng>(
        &self,
        rng: &mut R,
        target: usize,
        galaxies: usize,
        z_range: (f64, f64),
        pixels: usize,
    ) -> Option<Neighbour> {
        if rng.gen::<f64>() >= self.fraction {
            return None;
        }
        let mut galaxy = rng.gen_range(0..galaxies);
        if galaxy == target && galaxies > 1 {
            galaxy = (galaxy + 1) % galaxies;
        }
        let reach = pixels as isize;
        Some(Neighbour {
            galaxy,
            z: uniform(rng, z_range),
            offset: rng.gen_range(-reach..=reach),
            flux_ratio: log_uniform(rng, self.flux_ratio),
        })
    }
}

/// out\[p\] = neighbour\[p − offset\] where that pixel exists, else 0.
pub fn shift_into(neighbour: &[f64], offset: isize, out: &mut [f64]) {
    for (p, o) in out.iter_mut().enumerate() {
        let source = p as isize - offset;
        *o = usize::try_from(source)
            .ok()
            .and_then(|s| neighbour.get(s))
            .copied()
            .unwrap_or(0.0);
    }
}

/// Masks the pixels of `spectrum` where `contaminant` > `threshold` and fills them by linear
/// interpolation between the nearest unmasked pixels (centres of `edges`); returns how many were
/// masked. When every pixel is above the threshold nothing is left to interpolate from: the
/// spectrum stays contaminated and 0 is returned.
pub fn mask_contaminated(
    spectrum: &mut [f64],
    contaminant: &[f64],
    threshold: f64,
    edges: &[f64],
) -> usize {
    let marked: Vec<bool> = contaminant.iter().map(|&c| c > threshold).collect();
    fill_gaps(edges, spectrum, &marked).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn shifting_moves_pixels_and_zero_fills() {
        let neighbour = [1.0, 2.0, 3.0, 4.0];
        let mut out = [9.0; 4];
        shift_into(&neighbour, 1, &mut out);
        assert_eq!(out, [0.0, 1.0, 2.0, 3.0]);
        shift_into(&neighbour, -2, &mut out);
        assert_eq!(out, [3.0, 4.0, 0.0, 0.0]);
        shift_into(&neighbour, 4, &mut out);
        assert_eq!(out, [0.0; 4]);
    }

    #[test]
    fn masked_pixels_are_interpolated_from_their_neighbours() {
        let edges: Vec<f64> = (0..=5).map(f64::from).collect();
        let mut spectrum = [1.0, 2.0, 100.0, 100.0, 5.0];
        let contaminant = [0.0, 0.5, 50.0, 60.0, 0.9];
        let masked = mask_contaminated(&mut spectrum, &contaminant, 1.0, &edges);
        assert_eq!(masked, 2);
        let expected = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!(spectrum
            .iter()
            .zip(expected)
            .all(|(a, b)| (a - b).abs() < 1e-12));
        // Nothing to interpolate from: the spectrum is left as it is.
        assert_eq!(mask_contaminated(&mut spectrum, &[2.0; 5], 1.0, &edges), 0);
        assert!(spectrum
            .iter()
            .zip(expected)
            .all(|(a, b)| (a - b).abs() < 1e-12));
    }

    #[test]
    fn the_contaminated_fraction_and_ranges_are_respected() {
        let c = Contamination::with_fraction(0.3);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let n = 20_000;
        let drawn: Vec<Neighbour> = (0..n)
            .filter_map(|i| c.draw_neighbour(&mut rng, i % 7, 7, (1.0, 1.8), 100))
            .collect();
        let fraction = drawn.len() as f64 / n as f64;
        // 0.3 ± 4 binomial σ (0.013).
        assert!((fraction - 0.3).abs() < 0.013, "{fraction}");
        for nb in &drawn {
            assert!((0.1..3.0).contains(&nb.flux_ratio));
            assert!((-100..=100).contains(&nb.offset));
            assert!((1.0..1.8).contains(&nb.z));
        }
        assert!(Contamination::with_fraction(1.5).validate().is_err());
        let bad = Contamination {
            mask_sigma: 0.0,
            ..Contamination::with_fraction(0.5)
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .starts_with("contamination.mask_sigma"));
    }
}
