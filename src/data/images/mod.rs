//! The photometric image simulator: multi-band cutouts of bulge + disk galaxies as a survey
//! would see them, with their true redshifts and properties.
//!
//! Per galaxy ([`galaxy`], from its own random stream): a type with its bulge-to-total ratio and
//! per-component SEDs ([`population`], the spectral simulator's templates, dust and lines); a
//! redshift and luminosity ([`luminosity`] for a magnitude-limited sample, [`buzzard`] for the
//! deep survey); magnitudes by synthetic photometry through the filters at the luminosity
//! distance of a flat ΛCDM cosmology ([`photometry`], [`cosmology`]); sizes, axis ratios and a
//! position angle ([`morphology`]); Sérsic profiles ([`sersic`]) drawn pixel-integrated
//! ([`render`]), convolved with a per-band Moffat PSF ([`psf`], [`fft`]), plus sky and photon
//! noise ([`random`], [`stamp`]); then what a catalogue would list, the asinh magnitude in a
//! 3″ aperture of the noisy cutout with its error ([`aperture`]). [`augment`] holds the
//! training-time transforms.
//!
//! ```no_run
//! use zcnn::data::images::{simulate_images, ImageSimConfig};
//! let config = ImageSimConfig::preset("sdss", 100, 7)?;
//! let set = simulate_images(&config)?;
//! assert_eq!(set.images.len(), 100 * 5 * 64 * 64);
//! # Ok::<(), String>(())
//! ```

pub mod aperture;
pub mod augment;
pub(crate) mod buzzard;
mod context;
pub mod cosmology;
pub mod fft;
mod galaxy;
mod luminosity;
pub mod morphology;
pub mod photometry;
pub mod population;
pub mod psf;
mod random;
pub mod render;
pub mod sersic;
mod simulate;
mod special;
mod stamp;
pub mod survey;

pub use augment::{dihedral, sqrt_stretch, sqrt_stretch_all, DIHEDRAL_COUNT};
pub use cosmology::FlatLcdm;
pub use random::{poisson, standard_normal};
pub use simulate::{simulate_images, ImageLabel, ImageSet, ImageSimConfig, IMAGE_STREAM};
pub use survey::{Survey, IMAGE_PRESETS};
