//! Training: datasets (in memory or streamed from a [`SampleSource`]), mini-batching,
//! augmentation and the training loop.
//!
//! - `dataset.rs`: [`Dataset`], [`Inputs`], [`SampleSource`] and [`TargetData`], their
//!   validation and subsets;
//! - `augment.rs`: [`Augment`], the dihedral transforms of training images;
//! - `config.rs`: [`TrainConfig`] and its parts;
//! - `batch.rs`: the buffers of one mini-batch, gathered and run through the model;
//! - `trainer.rs`: [`Trainer`], one step and [`Trainer::fit`];
//! - `history.rs`: what a run reports ([`Event`], [`EpochSummary`], [`History`]);
//! - `evaluate.rs`: [`evaluate`] on a dataset and [`predict`] on new inputs.

mod augment;
mod batch;
mod config;
mod dataset;
mod evaluate;
mod history;
mod trainer;

pub use augment::Augment;
pub use config::{EarlyStopping, Sampling, StopMetric, TrainConfig};
pub use dataset::{Dataset, Inputs, SampleSource, TargetData};
pub use evaluate::{evaluate, predict};
pub use history::{EpochSummary, Event, History, StepInfo};
pub use trainer::Trainer;
