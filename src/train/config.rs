//! The settings of a training run: batch, epochs, sampling, seed, augmentation and early
//! stopping.

use super::augment::Augment;

/// How the samples of an epoch are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Each sample once per epoch, in a seeded random order.
    Shuffle,
    /// `n` draws with replacement per epoch.
    WithReplacement,
    /// Each sample once per epoch, in order.
    Sequential,
}

/// The validation quantity early stopping watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMetric {
    /// Total validation loss (lower is better).
    ValLoss,
    /// Validation accuracy of a classification head (higher is better).
    ValAccuracy { head: usize },
}

/// Stop when the metric has not improved for `patience` epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStopping {
    pub metric: StopMetric,
    pub patience: usize,
    /// Put the parameters of the best epoch back at the end.
    pub restore_best: bool,
}

/// Settings of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub batch: usize,
    pub epochs: usize,
    /// Stop after this many updates, whatever the epoch (for iteration-based schedules).
    pub max_iterations: Option<u64>,
    pub sampling: Sampling,
    /// Seed of the shuffling stream: the order of epoch `e` depends only on (seed, e), so a
    /// run resumed at an epoch boundary draws the same batches.
    pub seed: u64,
    /// Epoch to start from (0, or the epoch after a checkpoint's when resuming).
    pub first_epoch: usize,
    pub early_stopping: Option<EarlyStopping>,
    /// What is done to the training samples of each batch.
    pub augment: Augment,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            batch: 32,
            epochs: 10,
            max_iterations: None,
            sampling: Sampling::Shuffle,
            seed: 0,
            first_epoch: 0,
            early_stopping: None,
            augment: Augment::None,
        }
    }
}
