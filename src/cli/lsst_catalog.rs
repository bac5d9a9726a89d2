//! `zcnn simulate --preset lsst-buzzard`: an LSST-like photometric catalogue from the shipped
//! Buzzard mock ([`crate::data::photometry`]), written as a dataset folder the catalogue
//! estimator reads (`[catalog] bands = ["u", "g", "r", "i", "z", "y"]`, reference "i"; the
//! default column patterns `mag_obs_{band}`, `magerr_{band}`):
//!
//! - `labels.csv`: `index`, `id`, `z`, `buzzard_row` (the galaxy's row in
//!   `data/catalogs/buzzard_lsst_100k.csv`), then per band `mag_<band>` (true AB magnitude),
//!   `mag_obs_<band>` (observed asinh magnitude) and `magerr_<band>` (its 1σ error);
//! - `simulation.toml`: seed, cut, survey years and every band's γ, depth and softening.

use std::path::Path;

use super::files::write_atomic;
use crate::data::photometry::observe::softening;
use crate::data::photometry::{
    simulate_lsst_catalogue, LsstCatalogue, LsstCatalogueConfig, LSST_BANDS, SIGMA_SYS,
};
use crate::io::atomic::StagedDir;

/// The preset's name.
pub const PRESET: &str = "lsst-buzzard";

/// The files of the dataset folder.
pub const FILES: [&str; 2] = ["labels.csv", "simulation.toml"];

/// Simulates the catalogue of `config` and writes the dataset folder `out`.
pub fn simulate(config: &LsstCatalogueConfig, out: &Path) -> Result<(), String> {
    let start = std::time::Instant::now();
    let catalogue = simulate_lsst_catalogue(config)?;
    // All files appear at once, or none.
    let staged = StagedDir::new(out).map_err(|e| e.to_string())?;
    let [labels, simulation] = FILES;
    write_atomic(&staged.file(labels), &labels_csv(&catalogue)?)?;
    write_atomic(
        &staged.file(simulation),
        simulation_toml(config, &catalogue).as_bytes(),
    )?;
    staged.commit().map_err(|e| e.to_string())?;
    eprintln!(
        "simulated {} LSST-like galaxies (observed i < {}, {} years) in {:.1} s → {}",
        catalogue.galaxies.len(),
        config.i_max,
        config.years,
        start.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// The label file (see the module notes).
fn labels_csv(catalogue: &LsstCatalogue) -> Result<Vec<u8>, String> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["index", "id", "z", "buzzard_row"]
        .map(String::from)
        .to_vec();
    for prefix in ["mag", "mag_obs", "magerr"] {
        header.extend(LSST_BANDS.iter().map(|b| format!("{prefix}_{b}")));
    }
    csv.write_record(&header).map_err(|e| e.to_string())?;
    for (i, g) in catalogue.galaxies.iter().enumerate() {
        let mut row = vec![
            i.to_string(),
            format!("{PRESET}-{i:07}"),
            g.z.to_string(),
            g.source_row.to_string(),
        ];
        row.extend(g.true_magnitudes.iter().map(|m| m.to_string()));
        row.extend(g.observed.iter().map(|o| o.magnitude.to_string()));
        row.extend(g.observed.iter().map(|o| o.error.to_string()));
        csv.write_record(&row).map_err(|e| e.to_string())?;
    }
    csv.into_inner().map_err(|e| e.to_string())
}

/// `simulation.toml`: how the catalogue was made.
fn simulation_toml(config: &LsstCatalogueConfig, catalogue: &LsstCatalogue) -> String {
    let list = |values: Vec<String>| format!("[{}]", values.join(", "));
    let bands = &catalogue.bands;
    format!(
        "# zcnn catalogue simulation (see README \"Unbiased photo-z\", the LSST study)\n\
         preset = \"{PRESET}\"\n\
         source = \"data/catalogs/buzzard_lsst_100k.csv (Buzzard, DeRose et al. 2019)\"\n\
         n_galaxies = {}\n\
         seed = {}\n\
         # kept: observed (asinh) i below this\n\
         i_max = {}\n\
         survey_years = {}\n\
         bands = {}\n\
         # Ivezic et al. 2019 eq. 4-5: sigma^2 = sigma_sys^2 + (0.04 - gamma) x + gamma x^2, x = 10^(0.4 (m - m5))\n\
         gamma = {}\n\
         # coadded 5-sigma point-source depth (eq. 6, Tables 1-2)\n\
         m5 = {}\n\
         sigma_sys = {SIGMA_SYS}\n\
         # mag_obs_<band>: asinh magnitude (Lupton et al. 1999); softening b in units of f0 = 3631 Jy\n\
         asinh_softening = {}\n",
        catalogue.galaxies.len(),
        config.seed,
        config.i_max,
        config.years,
        list(bands.iter().map(|b| format!("\"{}\"", b.name)).collect()),
        list(bands.iter().map(|b| b.gamma.to_string()).collect()),
        list(bands.iter().map(|b| format!("{:.4}", b.m5)).collect()),
        list(bands.iter().map(|b| format!("{:e}", softening(b))).collect()),
    )
}
