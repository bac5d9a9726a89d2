//! The image simulator's entry point: N galaxies, each from its own random stream, rendered in
//! parallel into one `[N, bands, H, W]` array with their labels.

use rayon::prelude::*;

use super::aperture::{AperturePhotometry, Measurement};
use super::context::Context;
use super::galaxy::DrawnGalaxy;
use super::population::TYPES;
use super::stamp::{render, Workspace};
use super::survey::Survey;
use crate::data::spectra::stream_rng;

/// Stream purpose of the image simulator's galaxies (distinct from the spectral simulator's).
pub const IMAGE_STREAM: u64 = 0x494D_4147_4553; // "IMAGES"

/// The most float32 pixels one simulation holds in memory (8 GiB: 100 000 cutouts of
/// 5 × 64 × 64).
pub const MAX_PIXELS: usize = 1 << 31;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct ImageSimConfig {
    pub survey: Survey,
    pub n_galaxies: usize,
    pub seed: u64,
    /// Draw a Galactic E(B−V) per galaxy (else 0).
    pub galactic_ebv: bool,
    /// Add sky and photon noise (off only for tests of the noiseless rendering).
    pub noise: bool,
}

impl ImageSimConfig {
    /// The preset `name` with noise and Galactic reddening on.
    pub fn preset(name: &str, n_galaxies: usize, seed: u64) -> Result<Self, String> {
        Ok(ImageSimConfig {
            survey: Survey::preset(name)?,
            n_galaxies,
            seed,
            galactic_ebv: true,
            noise: true,
        })
    }

    /// Checks the run before any work: at least one galaxy, and all cutouts within
    /// [`MAX_PIXELS`]. Returns the pixels per cutout and in all.
    pub fn validate(&self) -> Result<(usize, usize), String> {
        if self.n_galaxies == 0 {
            return Err("the number of galaxies must be at least 1".into());
        }
        let per = self.survey.bands.len() * self.survey.stamp * self.survey.stamp;
        let total = self
            .n_galaxies
            .checked_mul(per)
            .ok_or_else(|| format!("{} cutouts of {per} pixels overflow", self.n_galaxies))?;
        if total > MAX_PIXELS {
            return Err(format!(
                "{} cutouts of {per} pixels need {:.1} GiB; at most {} GiB are simulated at once \
                 (simulate parts with different seeds)",
                self.n_galaxies,
                total as f64 * 4.0 / f64::from(1u32 << 30),
                (MAX_PIXELS * 4) >> 30
            ));
        }
        Ok((per, total))
    }
}

/// The truth about one cutout.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageLabel {
    pub z: f64,
    /// Name of the type (see [`super::population::TYPES`]).
    pub galaxy_type: &'static str,
    pub bulge_to_total: f64,
    pub absolute_r: f64,
    pub ebv: f64,
    /// Apparent AB magnitudes per band (Galactic extinction included), true and noiseless.
    pub magnitudes: Vec<f64>,
    /// Measured from the noisy cutout per band: the asinh AB magnitude within the 3″ aperture
    /// and its 1σ error (see [`super::aperture`]).
    pub observed_magnitudes: Vec<f64>,
    pub magnitude_errors: Vec<f64>,
    /// Half-light radii along the major axis \[arcsec\] and axis ratios.
    pub bulge_r_e: f64,
    pub disk_r_e: f64,
    pub bulge_q: f64,
    pub disk_q: f64,
    /// Position angle of the major axes \[deg\], from the column axis towards the row axis.
    pub position_angle: f64,
    /// Offset of the centre from the centre pixel (column, row) \[px\].
    pub offset: (f64, f64),
    /// PSF FWHM per band \[arcsec\].
    pub fwhm: Vec<f64>,
    /// σ of an empty pixel's noise per band, stored units.
    pub noise: Vec<f64>,
}

impl ImageLabel {
    fn new(g: &DrawnGalaxy, pixel_scale: f64, noise: Vec<f64>, measured: &[Measurement]) -> Self {
        ImageLabel {
            z: g.z,
            galaxy_type: TYPES[g.components.galaxy_type].name,
            bulge_to_total: g.components.bulge_to_total,
            absolute_r: g.absolute_r,
            ebv: g.ebv,
            magnitudes: g.magnitudes.clone(),
            observed_magnitudes: measured.iter().map(|m| m.magnitude).collect(),
            magnitude_errors: measured.iter().map(|m| m.error).collect(),
            bulge_r_e: g.bulge.r_e * pixel_scale,
            disk_r_e: g.disk.r_e * pixel_scale,
            bulge_q: g.bulge.q,
            disk_q: g.disk.q,
            position_angle: g.bulge.position_angle.to_degrees(),
            offset: g.offset,
            fwhm: g.fwhm.clone(),
            noise,
        }
    }
}

/// A simulated image set.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSet {
    pub bands: Vec<String>,
    /// Cutout side \[px\].
    pub size: usize,
    /// `[n, bands, size, size]`, row-major.
    pub images: Vec<f32>,
    pub labels: Vec<ImageLabel>,
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Cutout `i`: `bands × size × size`.
    pub fn cutout(&self, i: usize) -> &[f32] {
        let per = self.bands.len() * self.size * self.size;
        &self.images[i * per..(i + 1) * per]
    }
}

/// Simulates `config.n_galaxies` cutouts. Galaxy i draws everything from the stream
/// (seed, [`IMAGE_STREAM`], i), so the set depends on the seed only, not on the thread count;
/// its observed magnitudes are measured from its noisy cutout ([`super::aperture`]).
pub fn simulate_images(config: &ImageSimConfig) -> Result<ImageSet, String> {
    let (per, total) = config.validate()?;
    let context = Context::new(config.survey.clone(), config.seed, config.galactic_ebv)?;
    let survey = &context.survey;
    let photometry = AperturePhotometry::new(survey);
    let mut images = vec![0.0f32; total];
    let labels = images
        .par_chunks_mut(per)
        .enumerate()
        .map_init(
            || Workspace::new(survey.stamp),
            |ws, (i, out)| {
                let mut rng = stream_rng(config.seed, IMAGE_STREAM, i as u64);
                let galaxy = context
                    .draw_galaxy(&mut rng)
                    .map_err(|e| format!("galaxy {i}: {e}"))?;
                let noise = render(survey, &galaxy, config.noise, &mut rng, ws, out);
                let measured = photometry.measure(out, &noise);
                Ok(ImageLabel::new(
                    &galaxy,
                    survey.pixel_scale,
                    noise,
                    &measured,
                ))
            },
        )
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ImageSet {
        bands: survey.band_names().iter().map(|s| s.to_string()).collect(),
        size: survey.stamp,
        images,
        labels,
    })
}
