//! Catalogue photometry without images: a survey's photometric error model applied to true
//! magnitudes, for catalogues of magnitudes and errors that the catalogue estimator reads.
//!
//! - [`error_model`]: the point-source error model of Ivezić et al. (2019), eq. 4–5.
//! - [`lsst`]: the LSST bands' coadded depths (their eq. 6 and Tables 1–2).
//! - [`observe`]: one band's measurement, noisy in flux, as an asinh magnitude and its error.
//! - [`buzzard_lsst`]: the shipped Buzzard mock observed by LSST and cut at the gold sample's i.

pub mod buzzard_lsst;
pub mod error_model;
pub mod lsst;
pub mod observe;

pub use buzzard_lsst::{
    simulate_lsst_catalogue, LsstCatalogue, LsstCatalogueConfig, LsstGalaxy, GOLD_I_MAX,
};
pub use error_model::{BandErrors, SIGMA_SYS};
pub use lsst::{lsst_bands, LSST_BANDS};
pub use observe::{observe, Observation};
