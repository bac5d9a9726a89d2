//! The survey presets: bands (filter, zero point, gain, sky, PSF), pixels and the population.
//!
//! Stored pixel values are sky-subtracted fluxes in each survey's own units: SDSS nanomaggies
//! (m = 22.5 − 2.5 log₁₀ f) and HSC coadd counts (m = 27 − 2.5 log₁₀ f). Numbers and sources
//! (shared research §1a and §2):
//!
//! - SDSS (imaging_statistics, image_quality, frame datamodel pages of sdss3.org): 0.396″ pixels;
//!   median sky u 1.5, g 1.7, r 4.2, i 8.1, z 24.9 nmgy/arcsec²; electrons per nanomaggy = gain /
//!   (nmgy per count), camcol 3 gains 1.59, 3.845, 4.72, 4.86, 4.885 e⁻/DN and mean 0.0101,
//!   0.0038, 0.0051, 0.0066, 0.0326 nmgy/DN; dark variance 8.70, 1.32, 1.32, 4.62, 1.0 DN²
//!   (× gain² in e⁻²); r seeing 1.3″ ± 0.2″ FWHM, FWHM ∝ λ^−0.3 across the bands (Xin et al.);
//!   Galactic extinction A = R · E(B−V) with SFD98 R = 5.155, 3.793, 2.751, 2.086, 1.479.
//! - HSC Wide (surveycodex HSC.yaml citing Aihara et al. 2022 Tab. 1): 0.168″ pixels; seeing
//!   0.79, 0.75, 0.61, 0.68, 0.68″; exposure 600, 600, 1200, 1200, 1200 s; zero points (AB mag
//!   giving 1 e⁻/s) 28.90, 28.86, 28.61, 27.68, 27.33, so one coadd unit is
//!   t · 10^(−0.4 (27 − ZP)) electrons; sky 21.4, 20.6, 19.7, 18.3, 17.9 mag/arcsec². R for
//!   grizy: the SDSS SFD98 values interpolated linearly in 1/λ_pivot (our derivation).

use super::photometry::Band;

/// One band of a survey.
#[derive(Clone, Debug)]
pub struct BandSpec {
    pub band: Band,
    /// m = zero_point − 2.5 log₁₀(stored flux).
    pub zero_point: f64,
    /// Electrons per stored flux unit.
    pub electrons_per_unit: f64,
    /// Sky surface brightness \[mag/arcsec²\].
    pub sky_mag: f64,
    /// Read (and dark) noise variance per pixel \[e⁻²\].
    pub read_variance: f64,
    /// Median PSF FWHM \[arcsec\].
    pub seeing: f64,
    /// A_band / E(B−V).
    pub extinction_coefficient: f64,
}

impl BandSpec {
    /// Sky per pixel in stored units: 10^(−0.4 (μ_sky − ZP)) · pixel area.
    pub fn sky_per_pixel(&self, pixel_scale: f64) -> f64 {
        10f64.powf(-0.4 * (self.sky_mag - self.zero_point)) * pixel_scale * pixel_scale
    }

    /// σ of the noise of an empty pixel (sky Poisson + read noise) in stored units.
    pub fn sky_noise(&self, pixel_scale: f64) -> f64 {
        let sky_electrons = self.sky_per_pixel(pixel_scale) * self.electrons_per_unit;
        (sky_electrons + self.read_variance).sqrt() / self.electrons_per_unit
    }
}

/// How the PSF FWHM of a galaxy's bands is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SeeingModel {
    /// One FWHM in `reference` band ~ N(median, σ) clipped to `range`, scaled to the other bands
    /// as (λ_pivot / λ_reference)^exponent (SDSS scans all bands within minutes).
    Common {
        reference: usize,
        sigma: f64,
        range: (f64, f64),
        exponent: f64,
    },
    /// Each band independently: median × exp(σ N(0, 1)) (HSC bands are taken on different nights).
    PerBand { log_sigma: f64 },
}

/// Where redshifts and magnitudes come from.
#[derive(Clone, Debug, PartialEq)]
pub enum PopulationModel {
    /// A magnitude-limited sample from a Schechter luminosity function (see [`super::luminosity`]).
    MagnitudeLimited {
        z_range: (f64, f64),
        /// Dereddened apparent magnitude range in the selection band.
        magnitude_range: (f64, f64),
        selection_band: usize,
        /// Probability of each of [`super::population::TYPES`].
        type_fractions: [f64; 4],
    },
    /// Redshift and i magnitude of a random Buzzard galaxy (see [`super::buzzard`]) with
    /// `i < i_max`; its type chosen to match its LSST colours.
    Buzzard { i_max: f64 },
}

/// A survey preset.
#[derive(Clone, Debug)]
pub struct Survey {
    pub name: String,
    pub bands: Vec<BandSpec>,
    /// \[arcsec\]
    pub pixel_scale: f64,
    /// Cutout side \[px\].
    pub stamp: usize,
    pub moffat_beta: f64,
    pub seeing: SeeingModel,
    pub population: PopulationModel,
    /// Mean of the exponential distribution of Galactic E(B−V), capped at [`MAX_GALACTIC_EBV`].
    pub mean_ebv: f64,
}

/// Largest Galactic E(B−V) drawn.
pub const MAX_GALACTIC_EBV: f64 = 0.3;

/// The preset names.
pub const IMAGE_PRESETS: [&str; 3] = ["sdss", "sdss44", "hsc"];

/// Embeds a shipped filter file (optionally keeping every n-th knot).
macro_rules! filter {
    ($name:literal, $file:literal) => {
        filter!($name, $file, 1)
    };
    ($name:literal, $file:literal, $every:literal) => {
        Band::shipped(
            $name,
            $file,
            include_str!(concat!("../../../data/filters/", $file)),
            $every,
        )
    };
}

/// The LSST curves are tabulated every 1 Å; they are used only to match Buzzard colours, where
/// every 5th knot changes no band magnitude by more than 5·10⁻³ mag (tested), small next to
/// the spread of colours at fixed redshift.
const LSST_DECIMATION: usize = 5;

/// The rest-frame band of absolute magnitudes: SDSS r.
pub fn reference_band() -> Band {
    filter!("r", "sdss2010-r.dat")
}

/// LSST ugrizy, the bands of the Buzzard magnitudes, every `every`-th knot.
pub fn lsst_bands_every(every: usize) -> Vec<Band> {
    let files = [
        (
            "u",
            "lsst2023-u.dat",
            include_str!("../../../data/filters/lsst2023-u.dat"),
        ),
        (
            "g",
            "lsst2023-g.dat",
            include_str!("../../../data/filters/lsst2023-g.dat"),
        ),
        (
            "r",
            "lsst2023-r.dat",
            include_str!("../../../data/filters/lsst2023-r.dat"),
        ),
        (
            "i",
            "lsst2023-i.dat",
            include_str!("../../../data/filters/lsst2023-i.dat"),
        ),
        (
            "z",
            "lsst2023-z.dat",
            include_str!("../../../data/filters/lsst2023-z.dat"),
        ),
        (
            "y",
            "lsst2023-y.dat",
            include_str!("../../../data/filters/lsst2023-y.dat"),
        ),
    ];
    files
        .into_iter()
        .map(|(name, file, text)| Band::shipped(name, file, text, every))
        .collect()
}

/// The LSST bands the simulator uses (decimated by [`LSST_DECIMATION`]).
pub fn lsst_bands() -> Vec<Band> {
    lsst_bands_every(LSST_DECIMATION)
}

impl Survey {
    /// The preset `name` (one of [`IMAGE_PRESETS`]).
    pub fn preset(name: &str) -> Result<Self, String> {
        match name {
            "sdss" => Ok(sdss(64)),
            "sdss44" => Ok(Survey {
                name: "sdss44".into(),
                ..sdss(44)
            }),
            "hsc" => Ok(hsc()),
            _ => Err(format!(
                "unknown image preset '{name}' (expected one of {})",
                IMAGE_PRESETS.join(", ")
            )),
        }
    }

    pub fn band_names(&self) -> Vec<&str> {
        self.bands.iter().map(|b| b.band.name.as_str()).collect()
    }
}

fn sdss(stamp: usize) -> Survey {
    let bands = [
        (
            filter!("u", "sdss2010-u.dat"),
            1.59,
            0.0101,
            1.5,
            8.7025,
            5.155,
        ),
        (
            filter!("g", "sdss2010-g.dat"),
            3.845,
            0.0038,
            1.7,
            1.3225,
            3.793,
        ),
        (
            filter!("r", "sdss2010-r.dat"),
            4.72,
            0.0051,
            4.2,
            1.3225,
            2.751,
        ),
        (
            filter!("i", "sdss2010-i.dat"),
            4.86,
            0.0066,
            8.1,
            4.6225,
            2.086,
        ),
        (
            filter!("z", "sdss2010-z.dat"),
            4.885,
            0.0326,
            24.9,
            1.0,
            1.479,
        ),
    ];
    Survey {
        name: "sdss".into(),
        bands: bands
            .into_iter()
            .map(
                |(band, gain, nmgy_per_count, sky_nmgy, dark_var, r)| BandSpec {
                    band,
                    zero_point: 22.5,
                    electrons_per_unit: gain / nmgy_per_count,
                    // μ = 22.5 − 2.5 log₁₀(sky in nmgy/arcsec²).
                    sky_mag: 22.5 - 2.5 * f64::log10(sky_nmgy),
                    read_variance: dark_var * gain * gain,
                    seeing: 1.3,
                    extinction_coefficient: r,
                },
            )
            .collect(),
        pixel_scale: 0.396,
        stamp,
        // SDSS PSFs have power-law wings (shared research §3f): a Moffat β at the low end of
        // the 2.5–4.8 range used in practice.
        moffat_beta: 3.0,
        seeing: SeeingModel::Common {
            reference: 2,
            sigma: 0.2,
            range: (0.8, 2.5),
            exponent: -0.3,
        },
        population: PopulationModel::MagnitudeLimited {
            z_range: (0.002, 0.4),
            // SDSS MGS: r_Petro ≤ 17.77 (extinction-corrected); galaxies down to r ≈ 13 exist
            // in it (Lin et al. 2022 bin r from 12.5).
            magnitude_range: (13.0, 17.77),
            selection_band: 2,
            // Red and bulge-dominated galaxies dominate a bright sample (50–90 % red among
            // bright galaxies, shared research §3c): our choice.
            type_fractions: [0.4, 0.3, 0.2, 0.1],
        },
        mean_ebv: 0.03,
    }
}

fn hsc() -> Survey {
    let bands = [
        (filter!("g", "hsc2017-g.dat"), 0.79, 600.0, 28.90, 21.4),
        (filter!("r", "hsc2017-r.dat"), 0.75, 600.0, 28.86, 20.6),
        (filter!("i", "hsc2017-i.dat"), 0.61, 1200.0, 28.61, 19.7),
        (filter!("z", "hsc2017-z.dat"), 0.68, 1200.0, 27.68, 18.3),
        (filter!("y", "hsc2017-y.dat"), 0.68, 1200.0, 27.33, 17.9),
    ];
    let sdss = sdss(64);
    Survey {
        name: "hsc".into(),
        bands: bands
            .into_iter()
            .map(|(band, seeing, exposure, zp_electrons, sky_mag)| {
                let extinction_coefficient = interpolate_extinction(&sdss.bands, band.pivot());
                BandSpec {
                    band,
                    zero_point: 27.0,
                    electrons_per_unit: exposure * 10f64.powf(-0.4 * (27.0 - zp_electrons)),
                    sky_mag,
                    read_variance: 0.0,
                    seeing,
                    extinction_coefficient,
                }
            })
            .collect(),
        pixel_scale: 0.168,
        stamp: 64,
        moffat_beta: 3.5,
        // Our choice: 15 % lognormal scatter of each band's seeing.
        seeing: SeeingModel::PerBand { log_sigma: 0.15 },
        population: PopulationModel::Buzzard { i_max: 25.0 },
        mean_ebv: 0.03,
    }
}

/// R(λ) linear in 1/λ between the SDSS bands (extrapolated beyond z).
fn interpolate_extinction(bands: &[BandSpec], pivot: f64) -> f64 {
    let x = 1.0 / pivot;
    let points: Vec<(f64, f64)> = bands
        .iter()
        .map(|b| (1.0 / b.band.pivot(), b.extinction_coefficient))
        .collect();
    // Points run from u (largest 1/λ) to z; pick the segment around x (or the reddest one).
    let segment = points
        .windows(2)
        .find(|w| x <= w[0].0 && x >= w[1].0)
        .unwrap_or(&points[points.len() - 2..]);
    let ((x0, r0), (x1, r1)) = (segment[0], segment[1]);
    r0 + (r1 - r0) * (x - x0) / (x1 - x0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 5σ point-source depth: S/N of an optimally weighted PSF is F / (σ √NEA), NEA = 4π σ_g²
    /// for a Gaussian PSF of the same FWHM (σ_g = FWHM / 2.355); sky-limited.
    fn point_source_depth(spec: &BandSpec, pixel_scale: f64) -> f64 {
        let sigma_g = spec.seeing / pixel_scale / 2.3548;
        let nea = 4.0 * std::f64::consts::PI * sigma_g * sigma_g;
        let five_sigma = 5.0 * spec.sky_noise(pixel_scale) * nea.sqrt();
        spec.zero_point - 2.5 * five_sigma.log10()
    }

    #[test]
    fn the_noise_model_reproduces_published_depths() {
        // HSC Wide 5σ point-source depths g 26.5, r 26.5, i 26.2, z 25.2, y 24.4 (Aihara et al.,
        // shared research §2, LIT); SDSS r 95 % completeness 22.2 (5σ lies ≈ 0.5 mag deeper).
        let hsc = Survey::preset("hsc").unwrap();
        for (spec, published) in hsc.bands.iter().zip([26.5, 26.5, 26.2, 25.2, 24.4]) {
            let depth = point_source_depth(spec, hsc.pixel_scale);
            assert!(
                (depth - published).abs() < 0.5,
                "{}: {depth}",
                spec.band.name
            );
        }
        let sdss = Survey::preset("sdss").unwrap();
        let r = point_source_depth(&sdss.bands[2], sdss.pixel_scale);
        assert!((22.2..23.5).contains(&r), "SDSS r depth {r}");
    }

    #[test]
    fn decimated_lsst_bands_keep_magnitudes_within_5_millimagnitudes() {
        let population = super::super::population::Population::new(5).unwrap();
        let (full, decimated) = (lsst_bands_every(1), lsst_bands());
        for library in std::iter::once(&population.bulges).chain(&population.disks) {
            for galaxy in library.galaxies().iter().take(5) {
                for z in [0.05, 0.8, 2.0] {
                    for (a, b) in full.iter().zip(&decimated) {
                        let ratio = b.flux_nu(library, galaxy, z) / a.flux_nu(library, galaxy, z);
                        assert!(
                            (2.5 * ratio.log10()).abs() < 5e-3,
                            "{} at z {z}: {ratio}",
                            a.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn hsc_extinction_coefficients_lie_between_sdss_neighbours() {
        let hsc = Survey::preset("hsc").unwrap();
        let r: Vec<f64> = hsc.bands.iter().map(|b| b.extinction_coefficient).collect();
        assert!(r.windows(2).all(|w| w[0] > w[1]), "{r:?}");
        assert!(r[0] < 3.793 && r[0] > 2.751 && r[4] < 1.479, "{r:?}");
        assert!(Survey::preset("nope")
            .unwrap_err()
            .contains("sdss, sdss44, hsc"));
    }
}
