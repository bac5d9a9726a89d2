//! The Moffat (1969) point-spread function and its drawing into a periodic pixel grid.
//!
//! I(r) = (β − 1) / (π α²) · [1 + (r/α)²]^(−β), normalised to unit integral, with
//! FWHM = 2α √(2^(1/β) − 1); the light inside radius R is 1 − [1 + (R/α)²]^(1 − β)
//! (Trujillo et al. 2001, MNRAS 328, 977, eqs. 4–6).

/// Sub-samples per pixel side when the PSF is drawn within [`SUBSAMPLED_FWHMS`] FWHM of its
/// centre (each pixel takes the mean of a 3 × 3 grid of point values: the pixel integral to
/// ≈ 10⁻⁴ for FWHM ≥ 2 px); farther out the profile is smooth on the pixel scale and one
/// point value per pixel suffices.
const SUBSAMPLES: usize = 3;
const SUBSAMPLED_FWHMS: f64 = 3.0;

/// A circular Moffat PSF, lengths in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moffat {
    pub fwhm: f64,
    pub beta: f64,
}

impl Moffat {
    /// The scale α = FWHM / (2 √(2^(1/β) − 1)).
    pub fn alpha(&self) -> f64 {
        self.fwhm / (2.0 * ((2f64).powf(1.0 / self.beta) - 1.0).sqrt())
    }

    /// I(r) per px².
    pub fn value(&self, r: f64) -> f64 {
        let alpha = self.alpha();
        (self.beta - 1.0) / (std::f64::consts::PI * alpha * alpha)
            * inverse_power(1.0 + (r / alpha).powi(2), self.beta)
    }

    /// The light inside radius R: 1 − [1 + (R/α)²]^(1 − β).
    pub fn enclosed(&self, radius: f64) -> f64 {
        1.0 - (1.0 + (radius / self.alpha()).powi(2)).powf(1.0 - self.beta)
    }

    /// Draws the PSF centred on pixel (0, 0) of a periodic `size` × `size` grid (pixel (i, j)
    /// sits at offset (i, j) taken modulo `size` into [−size/2, size/2)): each pixel is the mean
    /// of point values on its sub-grid, times the pixel area 1. Returns the drawn sum (the
    /// light that lands in the grid).
    pub fn draw_periodic(&self, size: usize, out: &mut [f64]) -> f64 {
        assert_eq!(out.len(), size * size, "PSF grid size");
        let half = (size / 2) as isize;
        let wrap = |i: usize| {
            let i = i as isize;
            (if i >= half { i - size as isize } else { i }) as f64
        };
        let step = 1.0 / SUBSAMPLES as f64;
        let subsampled = SUBSAMPLED_FWHMS * self.fwhm;
        let mut total = 0.0;
        for row in 0..size {
            let y = wrap(row);
            for col in 0..size {
                let x = wrap(col);
                if (x * x + y * y).sqrt() > subsampled {
                    let v = self.value((x * x + y * y).sqrt());
                    out[row * size + col] = v;
                    total += v;
                    continue;
                }
                let mut sum = 0.0;
                for sy in 0..SUBSAMPLES {
                    let dy = y - 0.5 + (sy as f64 + 0.5) * step;
                    for sx in 0..SUBSAMPLES {
                        let dx = x - 0.5 + (sx as f64 + 0.5) * step;
                        sum += self.value((dx * dx + dy * dy).sqrt());
                    }
                }
                let v = sum * step * step;
                out[row * size + col] = v;
                total += v;
            }
        }
        total
    }
}

/// x^(−β), without `powf` when 2β is an integer (β = 3 and 3.5 of the presets).
fn inverse_power(x: f64, beta: f64) -> f64 {
    let twice = 2.0 * beta;
    if twice.fract() == 0.0 && twice <= 64.0 {
        let whole = x.powi(-(beta.floor() as i32));
        if beta.fract() == 0.0 {
            whole
        } else {
            whole / x.sqrt()
        }
    } else {
        x.powf(-beta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drawn_psf_holds_the_analytic_light_and_has_its_fwhm() {
        for (fwhm, beta) in [(3.3, 3.0), (4.2, 3.5), (2.0, 4.765)] {
            let psf = Moffat { fwhm, beta };
            let size = 256;
            let mut grid = vec![0.0; size * size];
            let drawn = psf.draw_periodic(size, &mut grid);
            // The square of half-side 128 px holds more than the inscribed circle and less than
            // the circumscribed one.
            let (inner, outer) = (psf.enclosed(128.0), psf.enclosed(128.0 * 2f64.sqrt()));
            assert!(
                drawn > inner - 1e-4 && drawn < outer + 1e-4,
                "{drawn}: {inner}..{outer}"
            );
            assert!((drawn - 1.0).abs() < 2e-3, "PSF sum {drawn}");
            // Half maximum at r = FWHM/2.
            let ratio = psf.value(fwhm / 2.0) / psf.value(0.0);
            assert!((ratio - 0.5).abs() < 1e-12, "{ratio}");
        }
    }

    #[test]
    fn the_enclosed_light_is_the_integral_of_the_profile() {
        let psf = Moffat {
            fwhm: 3.0,
            beta: 3.0,
        };
        let steps = 100_000;
        let radius = 10.0;
        let dr = radius / steps as f64;
        let integral: f64 = (0..steps)
            .map(|i| {
                let r = (i as f64 + 0.5) * dr;
                2.0 * std::f64::consts::PI * r * psf.value(r) * dr
            })
            .sum();
        assert!((integral - psf.enclosed(radius)).abs() < 1e-8);
        assert!((psf.enclosed(1e9) - 1.0).abs() < 1e-12);
        for beta in [3.0, 3.5, 4.765] {
            assert!((inverse_power(2.7, beta) / 2.7f64.powf(-beta) - 1.0).abs() < 1e-14);
        }
    }
}
