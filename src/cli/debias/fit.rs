//! One training run of a step: epochs, batch and learning rate of `[debias]`, the optimiser
//! and schedule of `[train]`, the loss printed after each epoch.

use crate::cli::config::{RunConfig, TrainSettings};
use crate::cli::pipeline;
use crate::model::Model;
use crate::train::{Augment, Dataset, Event, TrainConfig, Trainer};
use std::ops::ControlFlow;

/// One training run of a step.
pub struct Fit {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f32,
    pub augment: Augment,
}

impl Fit {
    /// Trains `model` on `data` with the optimiser and schedule of `[train]` at this lr.
    pub fn run(
        &self,
        config: &RunConfig,
        model: &mut Model,
        data: &Dataset,
        what: &str,
    ) -> Result<(), String> {
        let settings = TrainSettings {
            lr: self.lr,
            ..config.train.clone()
        };
        let iterations = (self.epochs * data.len().div_ceil(self.batch)) as u64;
        let mut opt = pipeline::optimizer(&settings, model.param_count(), iterations)?;
        let train_config = TrainConfig {
            batch: self.batch,
            epochs: self.epochs,
            seed: config.train.seed,
            augment: self.augment,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(model, data, train_config).map_err(|e| e.to_string())?;
        trainer
            .fit(model, &mut opt, data, None, &mut |event, _, _| {
                if let Event::Epoch(e) = event {
                    eprintln!("{what}: epoch {} loss {:.4}", e.epoch + 1, e.train_loss);
                }
                ControlFlow::Continue(())
            })
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(())
    }
}
