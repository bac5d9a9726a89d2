//! Inputs of the engine: simulators and loaders of training data.
//!
//! - [`spectra`]: the Euclid-like spectroscopic simulator (rest-frame SED library, redshifting,
//!   line-spread function, flux-conserving rebinning, noise, normalisation) and the loader of
//!   user `.sed` files.
//! - [`filters`]: photometric filter curves and synthetic AB magnitudes through them.
//! - [`images`]: the multi-band galaxy image simulator (SDSS- and HSC-like cutouts).
//! - [`photometry`]: catalogue photometry from true magnitudes and a survey's error model
//!   (LSST-like magnitudes of the shipped Buzzard mock).

pub mod filters;
pub mod images;
pub mod photometry;
pub mod spectra;
