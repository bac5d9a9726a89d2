//! Files: atomic writes (always), and with the `cli` feature safetensors checkpoints, NPY
//! arrays, FITS spectra, galaxy cutouts, CSV redshift catalogues and photometric catalogues
//! (CSV or FITS).

pub mod atomic;
#[cfg(feature = "cli")]
pub mod catalog;
#[cfg(feature = "cli")]
pub mod checkpoint;
#[cfg(feature = "cli")]
pub mod cutouts;
#[cfg(feature = "cli")]
pub mod fits;
#[cfg(feature = "cli")]
pub mod fits_write;
#[cfg(feature = "cli")]
pub mod npy;
#[cfg(feature = "cli")]
pub mod npy_rows;
#[cfg(feature = "parquet")]
pub mod parquet_write;
#[cfg(feature = "cli")]
pub mod photometry;
#[cfg(feature = "cli")]
pub mod photometry_fits;
#[cfg(feature = "hdf5")]
pub mod qp_hdf5;

pub use atomic::write_atomic;
