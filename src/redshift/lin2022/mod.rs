//! The four correction steps of Lin et al. (2022, A&A 662, A36) as pure functions, read from
//! the authors' code (`QiufanLin/PZbias`; research notes `photometric_redshift.md` §1.4–§1.11,
//! cited as §1.x in each file).
//!
//! - [`magnitude_rows`] (§1.5): r-magnitude rows, the factorised output (one redshift head per
//!   magnitude output plus a magnitude head) and its Step 1–2 targets.
//! - [`mixture`] (§1.5): the inference PDF `p(z) = Σ_k p_k(z) · P(k)`.
//! - [`extended`] (§1.4, §1.6): the range extension of Step 3, the label index and the mode.
//! - [`balanced`] (§1.8): the balanced subset of Steps 2–3.
//! - [`sample`], [`histograms`], [`kernel`], [`minimise`]: checked inputs, per-output
//!   histograms, the discrete Gaussian and a bounded 1-D minimiser they share.
//! - [`dispersion`] (§1.9a): the labelling dispersion σ₁ per magnitude output.
//! - [`scatter`] (§1.9b): the scatter σ₂ per magnitude output and z_spec bin.
//! - [`step3_labels`] (§1.9c): soft, shifted labels over the extended range.
//! - [`targets`] (§1.5, §1.9c): the targets of a batch for the magnitude and redshift heads.
//! - [`resample`], [`calibrate`] (§1.10): Step 4, the bulk-bias correction in z_photo space.
//! - [`wasserstein`] (§1.11): the 1-Wasserstein distance between two redshift histograms.
//!
//! Redshift bins are those of a [`ZBinning`](super::ZBinning); all σ are in bins, as in the
//! authors' code. Probabilities and targets are `f32` (what the network reads and writes);
//! everything else is `f64`.

pub mod balanced;
pub mod calibrate;
pub mod dispersion;
pub mod extended;
pub mod histograms;
pub mod kernel;
pub mod magnitude_rows;
pub mod minimise;
pub mod mixture;
pub mod resample;
pub mod sample;
pub mod scatter;
pub mod step3_labels;
pub mod targets;
pub mod wasserstein;

pub use balanced::balanced_subset;
pub use calibrate::{BulkBiasCorrection, CORRECTION_BINS};
pub use dispersion::fit_dispersions;
pub use extended::{clipped_bin, ExtendedBinning};
pub use magnitude_rows::MagnitudeRows;
pub use mixture::{mixture_pdf, mixture_pdfs};
pub use resample::{resample_to_test, Resampled};
pub use sample::Sample;
pub use scatter::fit_scatters;
pub use step3_labels::{step3_label, step3_targets, LabelFit, Step3Options};
pub use targets::{step12_batch_targets, step3_batch_targets, FactorisedTargets};
pub use wasserstein::wasserstein_distance;
