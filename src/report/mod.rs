//! Human-readable reports of a run.

#[cfg(feature = "cli")]
pub mod bias_plots;
#[cfg(feature = "cli")]
pub mod lines;
#[cfg(feature = "cli")]
pub mod plots;
#[cfg(feature = "cli")]
pub mod selection;
#[cfg(feature = "cli")]
pub mod study;
#[cfg(all(test, feature = "cli"))]
pub(crate) mod test_support;
