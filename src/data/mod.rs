//! Inputs of the engine: simulators and loaders of training data.
//!
//! - [`spectra`]: the Euclid-like spectroscopic simulator (rest-frame SED library, redshifting,
//!   line-spread function, flux-conserving rebinning, noise, normalisation) and the loader of
//!   user `.sed` files.

pub mod spectra;
