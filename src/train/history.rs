//! What a run reports: progress of each step, a summary of each epoch, and the run's history.

/// Progress of one training step, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    pub epoch: usize,
    pub iteration: u64,
    /// Batches done in this epoch, and the epoch's total.
    pub batch_in_epoch: usize,
    pub batches_per_epoch: usize,
    pub loss: f32,
    pub lr: f32,
    /// Training throughput over the epoch so far.
    pub samples_per_sec: f64,
}

/// What one epoch achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochSummary {
    pub epoch: usize,
    pub train_loss: f32,
    pub val_loss: Option<f32>,
    /// Validation accuracy of each classification head (None for regression heads).
    pub val_accuracy: Vec<Option<f32>>,
    pub seconds: f64,
    pub samples_per_sec: f64,
}

/// A training event passed to the progress callback.
#[derive(Debug)]
pub enum Event<'a> {
    Step(StepInfo),
    Epoch(&'a EpochSummary),
}

/// The record of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    pub epochs: Vec<EpochSummary>,
    pub stopped_early: bool,
    /// True when the callback asked to stop (e.g. Ctrl-C).
    pub interrupted: bool,
    pub best_epoch: Option<usize>,
}
