//! The observed wavelength grid: uniform pixels.

/// `pixels` uniform pixels whose **centres** run from `lambda_min` to `lambda_max` \[Å\]
/// inclusive, like `np.linspace(lambda_min, lambda_max, pixels)`; pixel edges lie half a step
/// either side of the centres.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedGrid {
    pub lambda_min: f64,
    pub lambda_max: f64,
    pub pixels: usize,
}

impl ObservedGrid {
    /// The grid whose outer pixel **edges** are `lo` and `hi` (step (hi − lo) / pixels).
    pub fn from_edges(lo: f64, hi: f64, pixels: usize) -> Self {
        let half_step = 0.5 * (hi - lo) / pixels as f64;
        ObservedGrid {
            lambda_min: lo + half_step,
            lambda_max: hi - half_step,
            pixels,
        }
    }

    /// Pixel width \[Å\]: (λ_max − λ_min) / (pixels − 1).
    pub fn step(&self) -> f64 {
        (self.lambda_max - self.lambda_min) / (self.pixels - 1) as f64
    }

    /// The `pixels` centres \[Å\].
    pub fn centers(&self) -> Vec<f64> {
        let step = self.step();
        (0..self.pixels)
            .map(|i| self.lambda_min + i as f64 * step)
            .collect()
    }

    /// The `pixels + 1` edges \[Å\].
    pub fn edges(&self) -> Vec<f64> {
        let step = self.step();
        let first = self.lambda_min - 0.5 * step;
        (0..=self.pixels).map(|i| first + i as f64 * step).collect()
    }

    /// At least 2 pixels, finite 0 < λ_min < λ_max.
    pub fn validate(&self) -> Result<(), String> {
        let ok = self.pixels >= 2
            && self.lambda_min.is_finite()
            && self.lambda_max.is_finite()
            && 0.0 < self.lambda_min
            && self.lambda_min < self.lambda_max;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "grid: expected at least 2 pixels and finite 0 < lambda_min < lambda_max, found \
                 {} pixels from {} to {} Å",
                self.pixels, self.lambda_min, self.lambda_max
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_match_numpy_linspace_and_edges_surround_them() {
        let grid = ObservedGrid {
            lambda_min: 11_000.0,
            lambda_max: 20_000.0,
            pixels: 1780,
        };
        let centres = grid.centers();
        assert_eq!(centres.len(), 1780);
        assert_eq!(centres[0], 11_000.0);
        assert!((centres[1779] - 20_000.0).abs() < 1e-9);
        assert!((grid.step() - 9000.0 / 1779.0).abs() < 1e-12);
        let edges = grid.edges();
        assert_eq!(edges.len(), 1781);
        assert!((edges[1] - 0.5 * (centres[0] + centres[1])).abs() < 1e-9);
    }

    #[test]
    fn from_edges_puts_the_outer_edges_where_asked() {
        let grid = ObservedGrid::from_edges(12_060.0, 18_920.0, 512);
        let edges = grid.edges();
        assert!((edges[0] - 12_060.0).abs() < 1e-9 && (edges[512] - 18_920.0).abs() < 1e-9);
        assert!((grid.step() - 13.398_437_5).abs() < 1e-9);
    }

    #[test]
    fn invalid_grids_are_rejected() {
        assert!(ObservedGrid {
            lambda_min: 2.0,
            lambda_max: 1.0,
            pixels: 10
        }
        .validate()
        .is_err());
        assert!(ObservedGrid {
            lambda_min: 1.0,
            lambda_max: 2.0,
            pixels: 1
        }
        .validate()
        .is_err());
        assert!(ObservedGrid {
            lambda_min: 1.0,
            lambda_max: f64::NAN,
            pixels: 9
        }
        .validate()
        .is_err());
    }
}
