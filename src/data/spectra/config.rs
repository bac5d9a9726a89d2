//! What to simulate: grid, redshift range, line-spread function, flux scale, noise and
//! normalisation, with the named presets.

use rand::Rng;

use super::contamination::Contamination;
use super::draw::{check_range, log_uniform, uniform};
use super::grid::ObservedGrid;
use super::lsf::sigma_for_resolving_power;
use super::noise::NoiseModel;
use super::normalise::Normalisation;

/// Electrons a NISP red-grism pixel collects per erg s⁻¹ cm⁻² Å⁻¹ of source flux density:
/// G = Δλ A t η / (hc/λ) = 13.4 Å · 10⁴ cm² · 3 × 560 s · 0.5 / 1.24 × 10⁻¹² erg ≈ 9.1 × 10¹⁹,
/// for the Wide-Survey exposure (3 × 560 s, Jahnke et al. 2025) and 1.6 µm photons; the
/// collecting area (≈ 1 m² for the 1.2 m mirror) and the 50 % throughput are assumptions.
/// A line-free continuum of 10⁻¹⁷ then adds σ ≈ 3.3 × 10⁻¹⁹ to the 2.5–3 × 10⁻¹⁸ sky: the
/// source noise matters only for bright lines and continua.
pub const EUCLID_ELECTRONS_PER_FLUX: f64 = 9.1e19;

/// Names accepted by [`SimConfig::preset`].
pub const PRESET_NAMES: [&str; 2] = ["seed", "euclid"];

/// The Gaussian line-spread function, σ in observed Å.
#[derive(Clone, Debug, PartialEq)]
pub enum LineSpread {
    /// No convolution.
    None,
    /// The same σ for every spectrum.
    Fixed { sigma: f64 },
    /// σ drawn per spectrum, uniform in [min, max) (slitless spectroscopy: the resolution is set
    /// by the source size along the dispersion direction).
    Uniform { sigma: (f64, f64) },
}

impl LineSpread {
    /// The largest σ this LSF can draw.
    pub fn max_sigma(&self) -> f64 {
        match self {
            LineSpread::None => 0.0,
            LineSpread::Fixed { sigma } => *sigma,
            LineSpread::Uniform { sigma } => sigma.1,
        }
    }

    /// Draws σ for one spectrum (draws nothing unless `Uniform`).
    pub fn draw<R: Rng>(&self, rng: &mut R) -> f64 {
        match self {
            LineSpread::None => 0.0,
            LineSpread::Fixed { sigma } => *sigma,
            LineSpread::Uniform { sigma } => uniform(rng, *sigma),
        }
    }

    fn validate(&self) -> Result<(), String> {
        match self {
            LineSpread::None => Ok(()),
            LineSpread::Fixed { sigma } => check_range("lsf.sigma", (*sigma, *sigma), false),
            LineSpread::Uniform { sigma } => check_range("lsf.sigma", *sigma, false),
        }
    }
}

/// How a noiseless spectrum (in the library's units, × 1/(1+z)) is brought to physical flux.
#[derive(Clone, Debug, PartialEq)]
pub enum FluxScale {
    /// Keep the library's units (built-in templates: mean rest f_λ of 1 over 4000–9000 Å).
    None,
    /// Scale so the integrated Hα flux \[erg s⁻¹ cm⁻²\] is log-uniform in (min, max). Needs a
    /// library with emission lines.
    HalphaFlux { flux: (f64, f64) },
    /// Scale so the mean f_λ over the grid \[erg s⁻¹ cm⁻² Å⁻¹\] is log-uniform in (min, max)
    /// (for line-free libraries; H_AB = 21 at 1.6 µm is f_λ ≈ 1.7 × 10⁻¹⁸).
    MeanFlambda { flux: (f64, f64) },
}

impl FluxScale {
    /// Draws the target flux of one spectrum (draws nothing for `None`).
    pub fn draw_target<R: Rng>(&self, rng: &mut R) -> f64 {
        match self {
            FluxScale::None => 1.0,
            FluxScale::HalphaFlux { flux } | FluxScale::MeanFlambda { flux } => {
                log_uniform(rng, *flux)
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        match self {
            FluxScale::None => Ok(()),
            FluxScale::HalphaFlux { flux } => check_range("flux_scale.halpha_flux", *flux, true),
            FluxScale::MeanFlambda { flux } => check_range("flux_scale.mean_flambda", *flux, true),
        }
    }
}

/// Everything the simulator needs besides the SED library, the count and the seed.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    pub grid: ObservedGrid,
    /// Redshifts are uniform in [z_min, z_max).
    pub z_range: (f64, f64),
    pub lsf: LineSpread,
    pub flux_scale: FluxScale,
    pub noise: NoiseModel,
    /// Overlapping spectra of neighbours (slitless spectroscopy), or `None`.
    pub contamination: Option<Contamination>,
    pub normalisation: Normalisation,
}

impl SimConfig {
    /// A named preset:
    ///
    /// - `seed`: the spectroscopic seed data (Stivaktakis et al. 2019): 1780 pixels whose centres
    ///   are `np.linspace(11000, 20000, 1780)` (≈ 5.06 Å), z ∈ [1, 1.8), a fixed Gaussian LSF of
    ///   R = 250 **at the grid centre** (σ = 15 500 / (2.355 · 250) ≈ 26.3 Å, the same at every
    ///   wavelength), no flux scaling, no noise, no normalisation.
    /// - `euclid`: the NISP red grism, 12 060–18 920 Å in 512 pixels of 13.4 Å (outer edges),
    ///   z ∈ [1, 1.8), σ_LSF uniform in [10, 20) Å per spectrum, Hα flux log-uniform in
    ///   [2, 10) × 10⁻¹⁶ erg s⁻¹ cm⁻² (above the 2 × 10⁻¹⁶ Wide-Survey limit), sky noise of
    ///   σ ∈ [2.5, 3) × 10⁻¹⁸ erg s⁻¹ cm⁻² Å⁻¹ per pixel plus the source's Poisson noise with
    ///   [`EUCLID_ELECTRONS_PER_FLUX`], no normalisation.
    pub fn preset(name: &str) -> Result<SimConfig, String> {
        match name {
            "seed" => {
                let grid = ObservedGrid {
                    lambda_min: 11_000.0,
                    lambda_max: 20_000.0,
                    pixels: 1780,
                };
                let centre = 0.5 * (grid.lambda_min + grid.lambda_max);
                Ok(SimConfig {
                    grid,
                    z_range: (1.0, 1.8),
                    lsf: LineSpread::Fixed {
                        sigma: sigma_for_resolving_power(centre, 250.0),
                    },
                    flux_scale: FluxScale::None,
                    noise: NoiseModel::None,
                    contamination: None,
                    normalisation: Normalisation::None,
                })
            }
            "euclid" => Ok(SimConfig {
                grid: ObservedGrid::from_edges(12_060.0, 18_920.0, 512),
                z_range: (1.0, 1.8),
                lsf: LineSpread::Uniform {
                    sigma: (10.0, 20.0),
                },
                flux_scale: FluxScale::HalphaFlux {
                    flux: (2e-16, 1e-15),
                },
                noise: NoiseModel::SkyAndSource {
                    sky_sigma: (2.5e-18, 3e-18),
                    electrons_per_flux: EUCLID_ELECTRONS_PER_FLUX,
                },
                contamination: None,
                normalisation: Normalisation::None,
            }),
            _ => Err(format!(
                "unknown simulation preset '{name}'; known presets: {}",
                PRESET_NAMES.join(", ")
            )),
        }
    }

    /// Checks every field (the message names the field and the value found).
    pub fn validate(&self) -> Result<(), String> {
        self.grid.validate()?;
        let (z_min, z_max) = self.z_range;
        if !(z_min.is_finite() && z_max.is_finite() && 0.0 <= z_min && z_min < z_max) {
            return Err(format!(
                "z_range: expected finite 0 ≤ z_min < z_max, found ({z_min}, {z_max})"
            ));
        }
        self.lsf.validate()?;
        self.flux_scale.validate()?;
        self.noise.validate()?;
        if let Some(contamination) = &self.contamination {
            contamination.validate()?;
            if self.noise == NoiseModel::None {
                return Err(
                    "contamination: pixels are masked where the neighbour exceeds \
                            mask_sigma × the noise σ, so it needs a noise model"
                        .to_string(),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_unknown_names_are_errors() {
        for name in PRESET_NAMES {
            SimConfig::preset(name)
                .expect("known")
                .validate()
                .expect("valid");
        }
        let seed = SimConfig::preset("seed").expect("known");
        assert_eq!(seed.grid.pixels, 1780);
        assert!(matches!(seed.lsf, LineSpread::Fixed { sigma } if (sigma - 26.33).abs() < 0.01));
        let euclid = SimConfig::preset("euclid").expect("known");
        assert_eq!(euclid.grid.pixels, 512);
        let err = SimConfig::preset("lsst").expect_err("unknown");
        assert_eq!(
            err,
            "unknown simulation preset 'lsst'; known presets: seed, euclid"
        );
    }

    #[test]
    fn invalid_fields_are_named() {
        let mut config = SimConfig::preset("seed").expect("known");
        config.z_range = (1.8, 1.0);
        assert!(config.validate().expect_err("bad z").starts_with("z_range"));
        config.z_range = (1.0, 1.8);
        config.lsf = LineSpread::Uniform {
            sigma: (20.0, 10.0),
        };
        assert!(config
            .validate()
            .expect_err("bad σ")
            .starts_with("lsf.sigma"));
        config.lsf = LineSpread::None;
        config.flux_scale = FluxScale::HalphaFlux { flux: (0.0, 1.0) };
        assert!(config
            .validate()
            .expect_err("bad flux")
            .starts_with("flux_scale.halpha_flux"));
    }
}
