//! Equal-width redshift bins: the classes of a classification network.
//!
//! A network that classifies redshift predicts one of `k` bins of `[z_min, z_max)`. Bin `b` of
//! a redshift `z` follows the seed's formula
//!
//! ```text
//! b = ⌊ (z − z_min) / (z_max − z_min) · k ⌋
//! ```
//!
//! With `k = 800` on `[1, 1.8)` each bin is 0.001 wide (the spectroscopic seed's classes).
//! Floating-point rounding can put `z` one bin off near an edge, so [`ZBinning::bin_of`]
//! corrects the formula against the edges themselves: `edge(b) ≤ z < edge(b + 1)` always holds
//! for the returned `b`, with the edges of [`ZBinning::edges`].

/// `bins` equal bins of the half-open range `[z_min, z_max)`.
///
/// The fields are private so that every value is valid: build one with [`ZBinning::new`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZBinning {
    z_min: f64,
    z_max: f64,
    bins: usize,
}

impl ZBinning {
    /// `bins` equal bins of `[z_min, z_max)`.
    ///
    /// Errors: `bins == 0`, a non-finite bound or width, `z_max ≤ z_min`, or bins so narrow
    /// that neighbouring edges cannot be told apart in `f64`.
    pub fn new(z_min: f64, z_max: f64, bins: usize) -> Result<Self, String> {
        if bins == 0 {
            return Err("redshift binning: bins must be at least 1, found 0".to_string());
        }
        if !z_min.is_finite() || !z_max.is_finite() {
            return Err(format!(
                "redshift binning: z_min and z_max must be finite, found [{z_min}, {z_max})"
            ));
        }
        if z_max <= z_min {
            return Err(format!(
                "redshift binning: z_max must exceed z_min, found [{z_min}, {z_max})"
            ));
        }
        let span = z_max - z_min;
        if !span.is_finite() {
            return Err(format!(
                "redshift binning: the width z_max − z_min of [{z_min}, {z_max}) overflows f64"
            ));
        }
        let scale = z_min.abs().max(z_max.abs());
        if span / bins as f64 <= 64.0 * f64::EPSILON * scale {
            return Err(format!(
                "redshift binning: {bins} bins of [{z_min}, {z_max}) are too narrow for f64"
            ));
        }
        Ok(Self { z_min, z_max, bins })
    }

    /// Lower bound of the range (inclusive).
    pub fn z_min(&self) -> f64 {
        self.z_min
    }

    /// Upper bound of the range (exclusive).
    pub fn z_max(&self) -> f64 {
        self.z_max
    }

    /// Number of bins `k`.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// Bin width `(z_max − z_min) / k`.
    pub fn width(&self) -> f64 {
        (self.z_max - self.z_min) / self.bins as f64
    }

    /// Edge `j` for `j` in `0..=k`: `z_min + (z_max − z_min) · j / k`, with edge `k` exactly
    /// `z_max`. Panics if `j > k` (a caller bug, not bad data).
    pub fn edge(&self, j: usize) -> f64 {
        assert!(j <= self.bins, "edge {j} of {} bins", self.bins);
        if j == self.bins {
            self.z_max
        } else {
            self.z_min + (self.z_max - self.z_min) * (j as f64 / self.bins as f64)
        }
    }

    /// The `k + 1` edges, from `z_min` to `z_max`.
    pub fn edges(&self) -> Vec<f64> {
        (0..=self.bins).map(|j| self.edge(j)).collect()
    }

    /// Centre of bin `k`: the midpoint of its two edges. Panics if `k ≥ bins`.
    pub fn center(&self, k: usize) -> f64 {
        assert!(k < self.bins, "bin {k} of {}", self.bins);
        0.5 * (self.edge(k) + self.edge(k + 1))
    }

    /// The `k` bin centres.
    pub fn centers(&self) -> Vec<f64> {
        (0..self.bins).map(|k| self.center(k)).collect()
    }

    /// Whether `z` lies in `[z_min, z_max)`.
    pub fn contains(&self, z: f64) -> bool {
        z >= self.z_min && z < self.z_max
    }

    /// The bin `b` with `edge(b) ≤ z < edge(b + 1)`.
    ///
    /// Starts from `b = ⌊(z − z_min)/(z_max − z_min) · k⌋` and moves it by one where rounding
    /// put it on the wrong side of an edge. Errors when `z` is not finite or lies outside
    /// `[z_min, z_max)` (`z == z_max` is outside).
    pub fn bin_of(&self, z: f64) -> Result<usize, String> {
        if !self.contains(z) {
            return Err(format!(
                "z = {z} is outside the redshift range [{}, {})",
                self.z_min, self.z_max
            ));
        }
        let fraction = (z - self.z_min) / (self.z_max - self.z_min);
        let mut b = ((fraction * self.bins as f64).floor() as usize).min(self.bins - 1);
        // z ≥ z_min = edge(0) and z < z_max = edge(k) bound both loops.
        while z < self.edge(b) {
            b -= 1;
        }
        while z >= self.edge(b + 1) {
            b += 1;
        }
        Ok(b)
    }

    /// The same bin width over a range extended by `left` bins below `z_min` and `right` bins
    /// above `z_max`, as Lin et al. (2022, Step 3) extend the output so that shifted labels of
    /// objects near the edges stay inside it. Bin `b` here is near bin `b + left` there.
    pub fn extended(&self, left: usize, right: usize) -> Result<Self, String> {
        let width = self.width();
        Self::new(
            self.z_min - left as f64 * width,
            self.z_max + right as f64 * width,
            self.bins + left + right,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binning(z_min: f64, z_max: f64, bins: usize) -> ZBinning {
        ZBinning::new(z_min, z_max, bins).expect("valid binning")
    }

    #[test]
    fn seed_binning_has_0_001_wide_bins() {
        let b = binning(1.0, 1.8, 800);
        assert!((b.width() - 0.001).abs() < 1e-15);
        let edges = b.edges();
        assert_eq!(edges.len(), 801);
        assert_eq!(edges[0], 1.0);
        assert_eq!(edges[800], 1.8);
        assert!((edges[400] - 1.4).abs() < 1e-15);
        assert!(edges.windows(2).all(|w| w[1] > w[0]));
        assert!((b.center(0) - 1.0005).abs() < 1e-15);
        assert!((b.center(799) - 1.7995).abs() < 1e-15);
    }

    #[test]
    fn bin_of_center_round_trips() {
        for (z_min, z_max) in [(1.0, 1.8), (0.0, 0.4), (0.3, 1.7)] {
            for bins in [800, 80, 1600, 180, 1, 7] {
                let b = binning(z_min, z_max, bins);
                for k in 0..bins {
                    assert_eq!(
                        b.bin_of(b.center(k)),
                        Ok(k),
                        "{z_min}..{z_max}/{bins}, k={k}"
                    );
                }
            }
        }
    }

    #[test]
    fn edges_belong_to_the_upper_bin_and_values_below_to_the_lower() {
        for bins in [800, 80, 1600, 180] {
            let b = binning(1.0, 1.8, bins);
            for j in 1..bins {
                let edge = b.edge(j);
                assert_eq!(b.bin_of(edge), Ok(j), "edge {j} of {bins}");
                let below = f64::from_bits(edge.to_bits() - 1);
                assert_eq!(b.bin_of(below), Ok(j - 1), "just below edge {j} of {bins}");
            }
            assert_eq!(b.bin_of(1.0), Ok(0));
            assert_eq!(b.bin_of(f64::from_bits(1.8f64.to_bits() - 1)), Ok(bins - 1));
        }
    }

    #[test]
    fn bin_of_follows_the_seed_formula_away_from_edges() {
        let b = binning(1.0, 1.8, 800);
        assert_eq!(b.bin_of(1.0004), Ok(0));
        assert_eq!(b.bin_of(1.2345), Ok(234));
        assert_eq!(b.bin_of(1.79999), Ok(799));
    }

    #[test]
    fn outside_the_range_is_an_error_naming_z_and_range() {
        let b = binning(1.0, 1.8, 800);
        let err = b.bin_of(1.8).expect_err("z_max is outside");
        assert!(err.contains("1.8") && err.contains("[1, 1.8)"), "{err}");
        assert!(b.bin_of(0.999_999).is_err());
        assert!(b.bin_of(f64::NAN).is_err());
        assert!(b.bin_of(f64::INFINITY).is_err());
    }

    #[test]
    fn invalid_binnings_are_rejected() {
        assert!(ZBinning::new(1.0, 1.8, 0).is_err());
        assert!(ZBinning::new(1.8, 1.0, 10).is_err());
        assert!(ZBinning::new(1.0, 1.0, 10).is_err());
        assert!(ZBinning::new(f64::NAN, 1.0, 10).is_err());
        assert!(ZBinning::new(0.0, f64::INFINITY, 10).is_err());
        assert!(ZBinning::new(-f64::MAX, f64::MAX, 10).is_err());
        assert!(ZBinning::new(1.0, 1.0 + 1e-15, 1000).is_err());
    }

    #[test]
    fn extended_binning_keeps_the_width() {
        let b = binning(0.0, 0.4, 180);
        let e = b.extended(90, 90).expect("valid extension");
        assert_eq!(e.bins(), 360);
        assert!((e.width() - b.width()).abs() < 1e-15);
        assert!((e.z_min() + 0.2).abs() < 1e-12 && (e.z_max() - 0.6).abs() < 1e-12);
        assert_eq!(e.bin_of(b.center(17)), Ok(17 + 90));
    }
}
