//! Euclid-like spectroscopic simulator.
//!
//! A [`SedLibrary`] of rest-frame galaxies (mixtures of the shipped COSMOS, kcorrect and
//! CWW/Kinney templates, or the user's own `.sed` files, with Calzetti dust and explicit Gaussian
//! emission lines, or a [`Population`] of passive, retired, star-forming and Seyfert galaxies) is
//! redshifted, convolved with a Gaussian line-spread function, rebinned
//! flux-conservingly onto an observed grid, scaled, made noisy and normalised by [`simulate`],
//! which returns the spectra with their true redshifts and properties. Everything is drawn from
//! random streams derived from a seed, so a data set is reproducible and independent of the
//! number of threads.
//!
//! ```no_run
//! use zcnn::data::spectra::{simulate, SedLibrary, SimConfig};
//! let config = SimConfig::preset("euclid")?;
//! let library = SedLibrary::builtin(10_000, 42, true)?;
//! let set = simulate(&config, &library, 10_000, 7)?;
//! assert_eq!(set.flux.len(), 10_000 * config.grid.pixels);
//! # Ok::<(), String>(())
//! ```

mod absorption;
mod config;
mod contamination;
mod draw;
mod dust;
pub(crate) mod gauss;
mod grid;
mod indices;
mod library;
mod lines;
mod lsf;
mod noise;
mod normalise;
mod population;
mod rebin;
mod rebin_masked;
mod sed_file;
mod simulate;
mod templates;

pub use absorption::{pseudo_ew, AbsorptionLine, LickIndex, MG_B, NA_D};
pub use config::{FluxScale, LineSpread, SimConfig, EUCLID_ELECTRONS_PER_FLUX, PRESET_NAMES};
pub use contamination::Contamination;
pub use draw::{check_range, stream_rng, uniform};
pub use dust::{calzetti_k, transmission as dust_transmission};
pub use gauss::fill_normal;
pub use grid::ObservedGrid;
pub use indices::{dn4000, PASSIVE_DN4000};
pub use library::{
    Galaxy, GalaxyLines, LibraryConfig, Mixing, SedLibrary, HALPHA_CONTINUUM_WINDOW,
};
pub use lines::{line_wavelengths, LineConfig, LINE_NAMES, N_LINES};
pub use lsf::{gaussian_convolve, sigma_for_resolving_power};
pub use noise::NoiseModel;
pub use normalise::Normalisation;
pub use population::{GalaxyClass, Population, POPULATION_NAMES};
pub use rebin::rebin_flux_conserving;
pub use rebin_masked::{rebin_masked, MaskedRebin};
pub use sed_file::{
    is_fits, parse_sed, parse_two_columns, read_sed_file, SedPoints, FITS_EXTENSIONS,
};
pub use simulate::{simulate, SpectraSet, SpectrumProperties};
pub use templates::{
    builtin_templates, builtin_templates_of, continua_from_dir, Template, TemplateFamily,
    BUILTIN_FAMILY_NAMES, LATTICE_STEP, REST_RANGE,
};

#[cfg(test)]
mod tests;
