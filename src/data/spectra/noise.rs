//! Observational noise added to a noiseless spectrum.

use rand::Rng;

use super::draw::{check_range, uniform};
use super::gauss::fill_normal;

/// The noise model.
#[derive(Clone, Debug, PartialEq)]
pub enum NoiseModel {
    /// Noiseless spectra.
    None,
    /// White Gaussian noise at signal-to-noise `snr` per pixel, defined against the mean
    /// absolute signal of the spectrum: σ = mean_i |s_i| / snr.
    WhiteSnr { snr: f64 },
    /// White Gaussian noise of constant per-pixel σ (output units, after flux scaling), drawn
    /// per spectrum uniformly in `sigma` = (min, max). Euclid NISP: ≈ 2.5–3 × 10⁻¹⁸
    /// erg s⁻¹ cm⁻² Å⁻¹ per 13.4 Å pixel (zodiacal-light dominated, about constant in f_λ).
    Gaussian { sigma: (f64, f64) },
    /// Sky plus source: per-pixel variance σ_i² = σ_sky² + max(s_i, 0) / G, with σ_sky drawn
    /// per spectrum uniformly in `sky_sigma` (the constant background of [`Self::Gaussian`]) and
    /// the source's own Poisson noise from its signal s_i, G being the electrons collected per
    /// unit of flux density in one pixel (`electrons_per_flux`, e⁻ per erg s⁻¹ cm⁻² Å⁻¹).
    SkyAndSource {
        sky_sigma: (f64, f64),
        electrons_per_flux: f64,
    },
}

impl NoiseModel {
    /// Checks the SNR is positive and the σ range valid.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            NoiseModel::None => Ok(()),
            NoiseModel::WhiteSnr { snr } if snr.is_finite() && *snr > 0.0 => Ok(()),
            NoiseModel::WhiteSnr { snr } => {
                Err(format!("noise.snr: must be finite and > 0, found {snr}"))
            }
            NoiseModel::Gaussian { sigma } => check_range("noise.sigma", *sigma, false),
            NoiseModel::SkyAndSource {
                sky_sigma,
                electrons_per_flux,
            } => {
                check_range("noise.sky_sigma", *sky_sigma, false)?;
                if electrons_per_flux.is_finite() && *electrons_per_flux > 0.0 {
                    Ok(())
                } else {
                    Err(format!(
                        "noise.electrons_per_flux: must be finite and > 0, found \
                         {electrons_per_flux}"
                    ))
                }
            }
        }
    }

    /// Adds noise to `spectrum` in place and returns the per-pixel σ used (0 for none; the sky
    /// σ for [`Self::SkyAndSource`]). `scratch` is resized to the spectrum length.
    pub fn add<R: Rng>(&self, rng: &mut R, spectrum: &mut [f64], scratch: &mut Vec<f64>) -> f64 {
        let sigma = match self {
            NoiseModel::None => return 0.0,
            NoiseModel::WhiteSnr { snr } => mean_abs(spectrum) / snr,
            NoiseModel::Gaussian { sigma } => uniform(rng, *sigma),
            NoiseModel::SkyAndSource {
                sky_sigma,
                electrons_per_flux,
            } => {
                let sky = uniform(rng, *sky_sigma);
                scratch.resize(spectrum.len(), 0.0);
                fill_normal(rng, 1.0, scratch);
                for (s, unit) in spectrum.iter_mut().zip(scratch.iter()) {
                    // σ_i = √(σ_sky² + max(s_i, 0) / G)
                    *s += unit * (sky * sky + s.max(0.0) / electrons_per_flux).sqrt();
                }
                return sky;
            }
        };
        scratch.resize(spectrum.len(), 0.0);
        fill_normal(rng, sigma, scratch);
        spectrum
            .iter_mut()
            .zip(scratch.iter())
            .for_each(|(s, n)| *s += n);
        sigma
    }
}

/// mean_i |x_i|.
pub fn mean_abs(values: &[f64]) -> f64 {
    values.iter().map(|v| v.abs()).sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn white_noise_gives_the_requested_snr() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let clean: Vec<f64> = (0..50_000).map(|i| 1.0 + (i as f64 * 0.01).sin()).collect();
        for snr in [1.0, 5.0, 20.0] {
            let mut noisy = clean.clone();
            let sigma = NoiseModel::WhiteSnr { snr }.add(&mut rng, &mut noisy, &mut Vec::new());
            let residual: Vec<f64> = noisy.iter().zip(&clean).map(|(a, b)| a - b).collect();
            let measured_sigma =
                (residual.iter().map(|r| r * r).sum::<f64>() / residual.len() as f64).sqrt();
            let measured_snr = mean_abs(&clean) / measured_sigma;
            assert!(
                (measured_snr / snr - 1.0).abs() < 0.02,
                "SNR {measured_snr} for {snr}"
            );
            assert!((sigma - mean_abs(&clean) / snr).abs() < 1e-12);
        }
    }

    #[test]
    fn constant_sigma_is_drawn_in_its_range() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        let model = NoiseModel::Gaussian {
            sigma: (2.5e-18, 3e-18),
        };
        for _ in 0..100 {
            let mut spectrum = vec![0.0; 64];
            let sigma = model.add(&mut rng, &mut spectrum, &mut Vec::new());
            assert!((2.5e-18..3e-18).contains(&sigma));
            assert!(spectrum.iter().all(|v| v.abs() < 10.0 * sigma));
        }
    }

    #[test]
    fn sky_and_source_noise_grows_with_the_signal() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let (sky, gain) = (2.0, 0.5);
        let model = NoiseModel::SkyAndSource {
            sky_sigma: (sky, sky),
            electrons_per_flux: gain,
        };
        for level in [0.0, 8.0, 32.0] {
            let clean = vec![level; 50_000];
            let mut noisy = clean.clone();
            assert_eq!(model.add(&mut rng, &mut noisy, &mut Vec::new()), sky);
            let variance =
                noisy.iter().map(|v| (v - level).powi(2)).sum::<f64>() / noisy.len() as f64;
            // σ² = 4 + level / 0.5: 4, 20, 68.
            let expected = sky * sky + level / gain;
            assert!(
                (variance / expected - 1.0).abs() < 0.03,
                "{variance} vs {expected}"
            );
        }
        let bad = NoiseModel::SkyAndSource {
            sky_sigma: (1.0, 2.0),
            electrons_per_flux: 0.0,
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .starts_with("noise.electrons_per_flux"));
    }

    #[test]
    fn no_noise_leaves_the_spectrum_alone() {
        let mut spectrum = vec![1.0, 2.0];
        let sigma = NoiseModel::None.add(
            &mut Xoshiro256PlusPlus::seed_from_u64(0),
            &mut spectrum,
            &mut Vec::new(),
        );
        assert_eq!((sigma, spectrum), (0.0, vec![1.0, 2.0]));
        assert!(NoiseModel::WhiteSnr { snr: 0.0 }.validate().is_err());
    }
}
