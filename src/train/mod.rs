//! Training: datasets in memory, mini-batching and the training loop.
//!
//! - `dataset.rs`: [`Dataset`] and [`TargetData`], their validation and subsets;
//! - `config.rs`: [`TrainConfig`] and its parts;
//! - `batch.rs`: the buffers of one mini-batch, gathered and run through the model;
//! - `trainer.rs`: [`Trainer`], one step and [`Trainer::fit`];
//! - `history.rs`: what a run reports ([`Event`], [`EpochSummary`], [`History`]);
//! - `evaluate.rs`: [`evaluate`] on a dataset and [`predict`] on new inputs.

mod batch;
mod config;
mod dataset;
mod evaluate;
mod history;
mod trainer;

pub use config::{EarlyStopping, Sampling, StopMetric, TrainConfig};
pub use dataset::{Dataset, TargetData};
pub use evaluate::{evaluate, predict};
pub use history::{EpochSummary, Event, History, StepInfo};
pub use trainer::Trainer;
