//! Real galaxy cutouts in (feature `cli`): the readers behind `zcnn import-images`.
//!
//! - [`catalog`]: the CSV catalogue (id, z, optional E(B−V), NPY row index, photometry);
//! - [`fits`]: one object's cutout from a FITS file (a 3-D cube or one 2-D image per band);
//! - [`pixels`]: non-finite pixels, rejected or masked;
//! - [`npy_stream`]: the float32 `images.npy` written a cutout at a time.
//!
//! NPY arrays `[n, bands, height, width]` are read row by row by [`super::npy_rows::NpyRows`].

pub mod catalog;
pub mod fits;
pub mod npy_stream;
pub mod pixels;

pub use catalog::{parse_cutout_catalog, read_cutout_catalog, CatalogColumns, CutoutCatalog};
pub use fits::{parse_fits_cutout, read_fits_cutout, FitsCutout};
pub use npy_stream::NpyStream;
pub use pixels::{screen_nonfinite, NonFinitePixels};
