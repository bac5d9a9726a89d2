//! What every galaxy of a simulation shares: the survey, the cosmology, the SED libraries with
//! their rest-frame r fluxes, and the population tables.

use super::buzzard::{brighter_than, BuzzardGalaxy};
use super::cosmology::FlatLcdm;
use super::luminosity::LuminositySampler;
use super::photometry::Band;
use super::population::Population;
use super::survey::{lsst_bands, reference_band, PopulationModel, Survey};

/// Shared, read-only state of one simulation.
#[derive(Clone, Debug)]
pub struct Context {
    pub survey: Survey,
    pub cosmology: FlatLcdm,
    pub population: Population,
    /// ⟨f_ν⟩ in rest-frame SDSS r of every bulge and of every disk of each type.
    pub rest_r_bulge: Vec<f64>,
    pub rest_r_disk: Vec<Vec<f64>>,
    /// LSST u g r i z y (the Buzzard magnitudes' bands).
    pub lsst: Vec<Band>,
    /// Buzzard galaxies within the survey's limit (empty for a magnitude-limited survey).
    pub buzzard: Vec<BuzzardGalaxy>,
    /// The luminosity-function sampler (magnitude-limited surveys only).
    pub luminosity: Option<LuminositySampler>,
    /// Draw a Galactic E(B−V) per galaxy (else 0).
    pub galactic_ebv: bool,
}

impl Context {
    pub fn new(survey: Survey, seed: u64, galactic_ebv: bool) -> Result<Self, String> {
        let cosmology = FlatLcdm::CONCORDANCE;
        let population = Population::new(seed)?;
        let r = reference_band();
        let rest_r = |library: &crate::data::spectra::SedLibrary| -> Vec<f64> {
            library
                .galaxies()
                .iter()
                .map(|g| r.flux_nu(library, g, 0.0))
                .collect()
        };
        let rest_r_bulge = rest_r(&population.bulges);
        let rest_r_disk = population.disks.iter().map(rest_r).collect();
        let (buzzard, luminosity) = match &survey.population {
            PopulationModel::MagnitudeLimited {
                z_range,
                magnitude_range,
                ..
            } => (
                Vec::new(),
                Some(LuminositySampler::new(
                    &cosmology,
                    *z_range,
                    *magnitude_range,
                )),
            ),
            PopulationModel::Buzzard { i_max } => {
                let rows = brighter_than(*i_max);
                if rows.is_empty() {
                    return Err(format!("no Buzzard galaxy has i < {i_max}"));
                }
                (rows, None)
            }
        };
        Ok(Context {
            survey,
            cosmology,
            population,
            rest_r_bulge,
            rest_r_disk,
            lsst: lsst_bands(),
            buzzard,
            luminosity,
            galactic_ebv,
        })
    }
}
