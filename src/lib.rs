//! # zcnn
//!
//! A CNN engine written by hand, without autograd, for estimating galaxy redshifts. The
//! numerical kernels live in the `zcnn-kernels` crate; this crate builds layers, models,
//! initialisers, optimisers and the training loop on top of them (see the README for the
//! architecture).

#[cfg(feature = "cli")]
pub mod cli;
pub mod cpu;
pub mod data;
pub mod dims;
mod error;
pub mod init;
pub mod io;
pub mod layers;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod presets;
pub mod redshift;
pub mod report;
pub mod rng;
pub mod sequential;
pub mod torch;
pub mod train;

pub use dims::Dims;
pub use error::{Error, Result};
pub use zcnn_kernels as kernels;
