//! `zcnn simulate --preset sdss|sdss44|hsc`: writes an image dataset folder.
//!
//! - `images.npy`: float32 `[n, bands, size, size]`, sky-subtracted flux per pixel in the
//!   survey's units (`zero_points` of `simulation.toml`: m = zero_point − 2.5 log₁₀ flux);
//! - `labels.csv`: one row per cutout (see [`LABEL_COLUMNS`] and the per-band columns);
//! - `simulation.toml`: preset, seed, bands, pixel scale, zero points, extinction coefficients,
//!   cosmology — everything needed to interpret the pixels.

use std::path::Path;

use super::files::{write_atomic, write_npy};
use crate::data::images::aperture::{AperturePhotometry, APERTURE_DIAMETER_ARCSEC};
use crate::data::images::{
    simulate_images, FlatLcdm, ImageSet, ImageSimConfig, IMAGE_PRESETS, IMAGE_STREAM,
};
use crate::io::atomic::StagedDir;

/// Cutouts simulated when `-n` is not given.
pub const DEFAULT_IMAGES: usize = 1000;

/// The files of an image dataset folder.
pub const FILES: [&str; 3] = ["images.npy", "labels.csv", "simulation.toml"];

/// The columns before the per-band ones.
pub const LABEL_COLUMNS: [&str; 14] = [
    "index",
    "id",
    "z",
    "type",
    "bulge_to_total",
    "abs_mag_r",
    "ebv",
    "bulge_r_e",
    "disk_r_e",
    "bulge_q",
    "disk_q",
    "position_angle",
    "offset_x",
    "offset_y",
];

/// The per-band columns, each followed by `_<band>` (e.g. `mag_obs_r`), in this order.
pub const PER_BAND_COLUMNS: [&str; 5] = ["mag", "fwhm", "noise", "mag_obs", "magerr"];

/// Whether `preset` names an image preset (rather than a spectral one).
pub fn is_image_preset(preset: &str) -> bool {
    IMAGE_PRESETS.contains(&preset)
}

/// The settings of `n` cutouts of `preset` from `seed`, checked before any work.
pub fn settings(
    preset: &str,
    n: usize,
    seed: u64,
    galactic_ebv: bool,
) -> Result<ImageSimConfig, String> {
    let mut config = ImageSimConfig::preset(preset, n, seed)?;
    config.galactic_ebv = galactic_ebv;
    config.validate()?;
    Ok(config)
}

/// Simulates the cutouts of `config` (the preset `preset`) and writes the dataset folder `out`.
pub fn simulate(preset: &str, config: &ImageSimConfig, out: &Path) -> Result<(), String> {
    let start = std::time::Instant::now();
    let set = simulate_images(config)?;
    // All files appear at once, or none.
    let staged = StagedDir::new(out).map_err(|e| e.to_string())?;
    let [images, labels, simulation] = FILES;
    let shape = [set.len(), set.bands.len(), set.size, set.size];
    write_npy(&staged.file(images), &shape, &set.images)?;
    write_atomic(&staged.file(labels), &labels_csv(&set, preset)?)?;
    write_atomic(&staged.file(simulation), simulation_toml(config).as_bytes())?;
    staged.commit().map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "simulated {} {preset} cutouts of {} bands × {}×{} px in {seconds:.1} s ({:.0} cutouts/s) → {}",
        set.len(),
        set.bands.len(),
        set.size,
        set.size,
        set.len() as f64 / seconds,
        out.display()
    );
    Ok(())
}

/// The label file: [`LABEL_COLUMNS`], then [`PER_BAND_COLUMNS`] for every band. Angles in
/// degrees, sizes in arcsec (major-axis half-light radii), offsets in pixels from the centre
/// pixel, `mag` the true AB magnitude with Galactic extinction, noise as the σ of an empty pixel
/// in stored units, `mag_obs` and `magerr` the asinh magnitude in a 3″ aperture of the noisy
/// cutout and its error (see [`crate::data::images::aperture`]).
fn labels_csv(set: &ImageSet, preset: &str) -> Result<Vec<u8>, String> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = LABEL_COLUMNS.iter().map(|c| c.to_string()).collect();
    for prefix in PER_BAND_COLUMNS {
        header.extend(set.bands.iter().map(|b| format!("{prefix}_{b}")));
    }
    csv.write_record(&header).map_err(|e| e.to_string())?;
    for (i, l) in set.labels.iter().enumerate() {
        let mut row = vec![
            i.to_string(),
            format!("{preset}-{i:07}"),
            l.z.to_string(),
            l.galaxy_type.to_string(),
            l.bulge_to_total.to_string(),
            l.absolute_r.to_string(),
            l.ebv.to_string(),
            l.bulge_r_e.to_string(),
            l.disk_r_e.to_string(),
            l.bulge_q.to_string(),
            l.disk_q.to_string(),
            l.position_angle.to_string(),
            l.offset.0.to_string(),
            l.offset.1.to_string(),
        ];
        let per_band = [
            &l.magnitudes,
            &l.fwhm,
            &l.noise,
            &l.observed_magnitudes,
            &l.magnitude_errors,
        ];
        for values in per_band {
            row.extend(values.iter().map(|v| v.to_string()));
        }
        csv.write_record(&row).map_err(|e| e.to_string())?;
    }
    csv.into_inner().map_err(|e| e.to_string())
}

/// `simulation.toml`: how the set was made and how to read its pixels.
fn simulation_toml(config: &ImageSimConfig) -> String {
    let survey = &config.survey;
    let list = |values: Vec<String>| format!("[{}]", values.join(", "));
    let per_band = |f: &dyn Fn(&crate::data::images::survey::BandSpec) -> f64| {
        list(survey.bands.iter().map(|b| f(b).to_string()).collect())
    };
    let cosmology = FlatLcdm::CONCORDANCE;
    let photometry = AperturePhotometry::new(survey);
    format!(
        "# zcnn image simulation (see README \"Galaxy images\")\n\
         preset = \"{}\"\n\
         n_galaxies = {}\n\
         seed = {}\n\
         random_stream = {IMAGE_STREAM}\n\
         galactic_ebv = {}\n\
         noise = {}\n\
         layout = \"images.npy: float32 [n, bands, size, size], sky-subtracted flux\"\n\
         bands = {}\n\
         size = {}\n\
         pixel_scale_arcsec = {}\n\
         # m_AB = zero_point - 2.5 log10(pixel sum)\n\
         zero_points = {}\n\
         # A_band = coefficient * E(B-V)\n\
         extinction_coefficients = {}\n\
         electrons_per_unit = {}\n\
         sky_mag_arcsec2 = {}\n\
         median_seeing_arcsec = {}\n\
         moffat_beta = {}\n\
         # mag_obs_<band>: asinh magnitude (Lupton et al. 1999) in a circular aperture, no\n\
         # aperture correction; softening b in units of f0 = 3631 Jy (AB)\n\
         aperture_diameter_arcsec = {APERTURE_DIAMETER_ARCSEC}\n\
         asinh_softening = {}\n\
         hubble_constant = {}\n\
         omega_m = {}\n",
        survey.name,
        config.n_galaxies,
        config.seed,
        config.galactic_ebv,
        config.noise,
        list(
            survey
                .band_names()
                .iter()
                .map(|b| format!("\"{b}\""))
                .collect()
        ),
        survey.stamp,
        survey.pixel_scale,
        per_band(&|b| b.zero_point),
        per_band(&|b| b.extinction_coefficient),
        per_band(&|b| b.electrons_per_unit),
        per_band(&|b| b.sky_mag),
        per_band(&|b| b.seeing),
        survey.moffat_beta,
        list(
            (0..survey.bands.len())
                .map(|b| format!("{:e}", photometry.softening(b)))
                .collect()
        ),
        cosmology.h0,
        cosmology.omega_m,
    )
}
