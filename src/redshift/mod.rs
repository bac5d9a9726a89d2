//! Redshift as a classification target: bins, labels and point estimates from a PDF.

pub mod binning;
pub mod confidence;
pub mod estimates;
pub mod gaussian;
pub mod labels;
pub mod lin2022;
pub mod quantiles;
pub mod summary;
pub mod zwarn;

pub use binning::ZBinning;
pub use labels::{LabelKind, LabelWidth};
