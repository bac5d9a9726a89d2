//! Drawing one galaxy's physical properties: type and SEDs, redshift and luminosity, Galactic
//! reddening, band fluxes of bulge and disk, sizes, shapes and seeing.

use rand::Rng;

use super::buzzard::{BuzzardGalaxy, LSST_I};
use super::context::Context;
use super::morphology::{draw_axis_ratios, draw_radius};
use super::photometry::{apparent_magnitude, Band};
use super::population::TYPES;
use super::random::standard_normal;
use super::sersic::Sersic;
use super::survey::{PopulationModel, SeeingModel, MAX_GALACTIC_EBV};

/// Candidate (type, SEDs, B/T) drawn per Buzzard galaxy; the one closest in colour is kept.
const COLOUR_CANDIDATES: usize = 24;
/// Smallest half-light radius drawn \[px\]: smaller galaxies are point sources after the PSF.
const MIN_RADIUS_PX: f64 = 0.1;
/// Truncation of the bulge and disk profiles in r_e (SDSS model fits; see [`super::sersic`]).
const BULGE_TRUNCATION: f64 = 8.0;
const DISK_TRUNCATION: f64 = 4.0;

/// Which SEDs make a galaxy and in which proportion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Components {
    /// Index into [`TYPES`].
    pub galaxy_type: usize,
    /// Galaxy index in the bulge library and in the type's disk library.
    pub bulge: usize,
    pub disk: usize,
    /// Bulge-to-total ratio of rest-frame r light.
    pub bulge_to_total: f64,
}

/// Everything drawn about one galaxy.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawnGalaxy {
    pub components: Components,
    pub z: f64,
    /// Rest-frame SDSS r absolute magnitude (AB).
    pub absolute_r: f64,
    /// Galactic E(B−V).
    pub ebv: f64,
    /// Apparent AB magnitude per band, Galactic extinction included.
    pub magnitudes: Vec<f64>,
    /// Flux of the bulge and of the disk per band, in stored units.
    pub bulge_flux: Vec<f64>,
    pub disk_flux: Vec<f64>,
    /// Profiles in pixels (centre offset applied by the renderer).
    pub bulge: Sersic,
    pub disk: Sersic,
    /// Offset of the centre from the stamp's centre pixel \[px\].
    pub offset: (f64, f64),
    /// PSF FWHM per band \[arcsec\].
    pub fwhm: Vec<f64>,
}

impl Context {
    /// The parts of ⟨f_ν⟩_b[S_z] / ⟨f_ν⟩_r[L] from the bulge and from the disk, each SED scaled
    /// to unit rest-frame r flux and weighted by B/T and 1 − B/T.
    pub fn band_parts(&self, c: &Components, band: &Band, z: f64) -> (f64, f64) {
        let bulges = &self.population.bulges;
        let disks = &self.population.disks[c.galaxy_type];
        let bulge = &bulges.galaxies()[c.bulge];
        let disk = &disks.galaxies()[c.disk];
        let b = band.flux_nu(bulges, bulge, z) / self.rest_r_bulge[c.bulge];
        let d = band.flux_nu(disks, disk, z) / self.rest_r_disk[c.galaxy_type][c.disk];
        (c.bulge_to_total * b, (1.0 - c.bulge_to_total) * d)
    }

    /// The K-correction from rest r to `band` at z (m = M_r + DM + K).
    fn k_correction(&self, c: &Components, band: &Band, z: f64) -> f64 {
        let (b, d) = self.band_parts(c, band, z);
        apparent_magnitude(0.0, 0.0, z, b + d)
    }

    fn draw_components<R: Rng>(&self, rng: &mut R, galaxy_type: usize) -> Components {
        let ty = &TYPES[galaxy_type];
        let (lo, hi) = ty.bulge_to_total;
        Components {
            galaxy_type,
            bulge: rng.gen_range(0..self.population.bulges.len()),
            disk: rng.gen_range(0..self.population.disks[galaxy_type].len()),
            bulge_to_total: lo + (hi - lo) * rng.gen::<f64>(),
        }
    }

    /// Type, SEDs, z and M_r from the survey's population model.
    fn draw_population<R: Rng>(&self, rng: &mut R) -> Result<(Components, f64, f64), String> {
        match &self.survey.population {
            PopulationModel::MagnitudeLimited {
                type_fractions,
                selection_band,
                ..
            } => {
                let u: f64 = rng.gen::<f64>() * type_fractions.iter().sum::<f64>();
                let mut cumulative = 0.0;
                let galaxy_type = type_fractions
                    .iter()
                    .position(|f| {
                        cumulative += f;
                        u < cumulative
                    })
                    .unwrap_or(TYPES.len() - 1);
                let components = self.draw_components(rng, galaxy_type);
                let band = &self.survey.bands[*selection_band].band;
                let sampler = self.luminosity.as_ref().expect("magnitude-limited context");
                let (z, absolute_r) =
                    sampler.draw(rng, |z| self.k_correction(&components, band, z))?;
                Ok((components, z, absolute_r))
            }
            PopulationModel::Buzzard { .. } => {
                let row = &self.buzzard[rng.gen_range(0..self.buzzard.len())];
                let components = self.closest_in_colour(rng, row);
                let i_band = &self.lsst[LSST_I];
                let k = self.k_correction(&components, i_band, row.z);
                let absolute_r =
                    row.magnitudes[LSST_I] - self.cosmology.distance_modulus(row.z) - k;
                Ok((components, row.z, absolute_r))
            }
        }
    }

    /// Of [`COLOUR_CANDIDATES`] random (type, SEDs, B/T), the one whose LSST colours at the
    /// row's z are closest (least squares over u−g, g−r, r−i, i−z, z−y) to the row's.
    fn closest_in_colour<R: Rng>(&self, rng: &mut R, row: &BuzzardGalaxy) -> Components {
        let target: Vec<f64> = row.magnitudes.windows(2).map(|w| w[0] - w[1]).collect();
        let mut best = (f64::INFINITY, None);
        for _ in 0..COLOUR_CANDIDATES {
            let galaxy_type = rng.gen_range(0..TYPES.len());
            let candidate = self.draw_components(rng, galaxy_type);
            let magnitudes: Vec<f64> = self
                .lsst
                .iter()
                .map(|band| self.k_correction(&candidate, band, row.z))
                .collect();
            let distance: f64 = magnitudes
                .windows(2)
                .zip(&target)
                .map(|(w, t)| (w[0] - w[1] - t).powi(2))
                .sum();
            if distance < best.0 || best.1.is_none() {
                best = (distance, Some(candidate));
            }
        }
        best.1.expect("at least one candidate")
    }

    /// Draws every property of one galaxy from `rng`.
    pub fn draw_galaxy<R: Rng>(&self, rng: &mut R) -> Result<DrawnGalaxy, String> {
        let survey = &self.survey;
        let (components, z, absolute_r) = self.draw_population(rng)?;
        // Galactic E(B−V): exponential with the survey's mean, capped (our choice).
        let ebv = if self.galactic_ebv {
            (-survey.mean_ebv * (1.0 - rng.gen::<f64>()).ln()).min(MAX_GALACTIC_EBV)
        } else {
            0.0
        };
        let distance_modulus = self.cosmology.distance_modulus(z);
        let mut magnitudes = Vec::with_capacity(survey.bands.len());
        let mut bulge_flux = Vec::with_capacity(survey.bands.len());
        let mut disk_flux = Vec::with_capacity(survey.bands.len());
        for spec in &survey.bands {
            let (b, d) = self.band_parts(&components, &spec.band, z);
            // m_b = M_r + DM + K_br(z) + R_b E(B−V).
            let m = apparent_magnitude(absolute_r, distance_modulus, z, b + d)
                + spec.extinction_coefficient * ebv;
            let flux = 10f64.powf(-0.4 * (m - spec.zero_point));
            magnitudes.push(m);
            bulge_flux.push(flux * b / (b + d));
            disk_flux.push(flux * d / (b + d));
        }
        let bt = components.bulge_to_total;
        let pixels_per_kpc = self.cosmology.arcsec_per_kpc(z) / survey.pixel_scale;
        // Component magnitudes: M_bulge = M − 2.5 log₁₀(B/T), M_disk = M − 2.5 log₁₀(1 − B/T).
        let bulge_m = absolute_r - 2.5 * bt.max(1e-3).log10();
        let disk_m = absolute_r - 2.5 * (1.0 - bt).max(1e-3).log10();
        let bulge_radius = draw_radius(rng, bulge_m, z, true) * pixels_per_kpc;
        let disk_radius = draw_radius(rng, disk_m, z, false) * pixels_per_kpc;
        let (bulge_q, disk_q) = draw_axis_ratios(rng);
        let position_angle = std::f64::consts::PI * rng.gen::<f64>();
        // Circularised radius R = r_e √q, so the major-axis r_e = R / √q.
        let profile = |radius: f64, q: f64, n: f64, truncation: f64| {
            let r_e = (radius / q.sqrt()).max(MIN_RADIUS_PX);
            Sersic::new(n, r_e, q, position_angle, truncation)
        };
        let bulge = profile(bulge_radius, bulge_q, 4.0, BULGE_TRUNCATION);
        let disk = profile(disk_radius, disk_q, 1.0, DISK_TRUNCATION);
        // Sub-pixel centring (shared research §3g pitfall 5).
        let offset = (rng.gen::<f64>() - 0.5, rng.gen::<f64>() - 0.5);
        let fwhm = self.draw_seeing(rng);
        Ok(DrawnGalaxy {
            components,
            z,
            absolute_r,
            ebv,
            magnitudes,
            bulge_flux,
            disk_flux,
            bulge,
            disk,
            offset,
            fwhm,
        })
    }

    /// PSF FWHM per band \[arcsec\] from the survey's seeing model.
    fn draw_seeing<R: Rng>(&self, rng: &mut R) -> Vec<f64> {
        let bands = &self.survey.bands;
        match self.survey.seeing {
            SeeingModel::Common {
                reference,
                sigma,
                range,
                exponent,
            } => {
                let reference_fwhm = (bands[reference].seeing + sigma * standard_normal(rng))
                    .clamp(range.0, range.1);
                let reference_pivot = bands[reference].band.pivot();
                bands
                    .iter()
                    .map(|b| reference_fwhm * (b.band.pivot() / reference_pivot).powf(exponent))
                    .collect()
            }
            SeeingModel::PerBand { log_sigma } => bands
                .iter()
                .map(|b| b.seeing * (log_sigma * standard_normal(rng)).exp())
                .collect(),
        }
    }
}
