//! The line-spread function: convolution with a Gaussian of width σ (observed Å).

use super::gauss::normal_cdf;

/// The kernel is cut at this many σ on each side (it keeps 99.994 % of the Gaussian; the cut
/// kernel is renormalised to sum to one, so the integral is still preserved exactly).
pub const KERNEL_HALF_WIDTH_SIGMAS: f64 = 4.0;

/// Discrete Gaussian kernel for samples `step` apart: w_m = Φ((m + ½)δ/σ) − Φ((m − ½)δ/σ) for
/// |m| ≤ ⌈4σ/δ⌉, i.e. the Gaussian integrated over each sample's cell, renormalised to Σ w = 1.
/// Integrating over the cell (rather than sampling exp(−x²/2σ²)) stays right when σ ≲ δ.
pub fn gaussian_kernel(step: f64, sigma: f64) -> Vec<f64> {
    assert!(step > 0.0 && sigma >= 0.0, "step > 0 and σ ≥ 0");
    if sigma == 0.0 {
        return vec![1.0];
    }
    let half = (KERNEL_HALF_WIDTH_SIGMAS * sigma / step).ceil() as i64;
    let mut kernel: Vec<f64> = (-half..=half)
        .map(|m| {
            let centre = m as f64 * step;
            normal_cdf((centre + 0.5 * step) / sigma) - normal_cdf((centre - 0.5 * step) / sigma)
        })
        .collect();
    let total: f64 = kernel.iter().sum();
    kernel.iter_mut().for_each(|w| *w /= total);
    kernel
}

/// Convolves `flux`, sampled on a uniform grid `step` Å apart, with a Gaussian of width `sigma`
/// Å: out_j = Σ_m w_m flux_{j−m}, the input being zero outside the slice ("same" size output).
///
/// Because Σ w = 1, Σ out = Σ flux (the integral ∫ f dλ ≈ δ Σ f is preserved) whenever the input
/// is zero within ⌈4σ/δ⌉ samples of both ends. Written as one axpy per kernel tap (a scatter),
/// so the inner loop has no reduction and vectorises.
pub fn gaussian_convolve(flux: &[f64], step: f64, sigma: f64, out: &mut [f64]) {
    assert_eq!(flux.len(), out.len(), "input and output lengths");
    let kernel = gaussian_kernel(step, sigma);
    let half = kernel.len() / 2;
    let n = flux.len();
    out.fill(0.0);
    for (tap, &weight) in kernel.iter().enumerate() {
        // out[j + tap − half] += w · flux[j], for every j that keeps the index in 0..n.
        let (src_start, dst_start) = if tap >= half {
            (0, tap - half)
        } else {
            (half - tap, 0)
        };
        if src_start >= n || dst_start >= n {
            continue;
        }
        let len = n - src_start.max(dst_start);
        let src = &flux[src_start..src_start + len];
        let dst = &mut out[dst_start..dst_start + len];
        for (o, &f) in dst.iter_mut().zip(src) {
            *o += weight * f;
        }
    }
}

/// σ of a Gaussian line-spread function of resolving power R = λ/Δλ_FWHM at wavelength λ:
/// σ = λ / (2√(2 ln 2) · R) ≈ λ / (2.355 R).
pub fn sigma_for_resolving_power(lambda: f64, resolving_power: f64) -> f64 {
    let fwhm_per_sigma = 2.0 * (2.0 * std::f64::consts::LN_2).sqrt();
    lambda / (fwhm_per_sigma * resolving_power)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn convolution_preserves_the_integral() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for _ in 0..50 {
            let step = rng.gen_range(0.5..5.0);
            let sigma = rng.gen_range(0.0..30.0);
            let margin = (KERNEL_HALF_WIDTH_SIGMAS * sigma / step).ceil() as usize + 1;
            let n = 2 * margin + rng.gen_range(1..300);
            let mut flux = vec![0.0; n];
            for f in &mut flux[margin..n - margin] {
                *f = rng.gen_range(0.0..3.0);
            }
            let mut out = vec![0.0; n];
            gaussian_convolve(&flux, step, sigma, &mut out);
            let (before, after): (f64, f64) = (flux.iter().sum(), out.iter().sum());
            assert!(
                (before - after).abs() <= 1e-12 * before,
                "σ {sigma}, δ {step}"
            );
        }
    }

    #[test]
    fn a_delta_becomes_a_gaussian_of_the_right_width() {
        let (step, sigma, n) = (0.5, 6.0, 201);
        let mut flux = vec![0.0; n];
        flux[n / 2] = 1.0;
        let mut out = vec![0.0; n];
        gaussian_convolve(&flux, step, sigma, &mut out);
        let centre = (n / 2) as f64 * step;
        let variance: f64 = out
            .iter()
            .enumerate()
            .map(|(j, w)| w * (j as f64 * step - centre).powi(2))
            .sum();
        // Cell integration adds δ²/12 to the variance; the 4σ cut removes a little.
        let expected = sigma * sigma + step * step / 12.0;
        assert!(
            (variance / expected - 1.0).abs() < 2e-3,
            "variance {variance} vs {expected}"
        );
    }

    #[test]
    fn zero_sigma_is_the_identity() {
        let flux = [1.0, 5.0, 2.0];
        let mut out = [0.0; 3];
        gaussian_convolve(&flux, 1.0, 0.0, &mut out);
        assert_eq!(out, flux);
    }

    #[test]
    fn resolving_power_250_at_15500_angstrom() {
        assert!((sigma_for_resolving_power(15_500.0, 250.0) - 26.329).abs() < 1e-3);
    }
}
