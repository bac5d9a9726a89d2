//! Checkpoints of the command: the model in PyTorch's names and layouts, the optimiser state,
//! the run's configuration (so a checkpoint alone is enough for `predict`) and the training
//! history, in one safetensors file (format: `crate::io::checkpoint`).

use super::config::RunConfig;
use crate::io::checkpoint::{
    load_checkpoint, save_checkpoint, Checkpoint as Stored, TrainingState,
};
use crate::model::Model;
use crate::optim::Optimizer;
use crate::train::{EpochSummary, History};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Metadata key of the run configuration (TOML).
const KEY_CONFIG: &str = "zcnn.config";
/// Metadata key of the training history (JSON).
const KEY_HISTORY: &str = "zcnn.history";

/// A checkpoint read back: the configuration, the history and the stored tensors.
pub struct Checkpoint {
    pub config: RunConfig,
    pub history: History,
    /// Epochs completed.
    pub epochs_done: usize,
    stored: Stored,
}

/// Saves the model after `epochs_done` epochs with the optimiser state, atomically.
pub fn write_checkpoint(
    path: &Path,
    config: &RunConfig,
    model: &Model,
    optimizer: &Optimizer,
    epochs_done: usize,
    history: &[EpochSummary],
) -> Result<(), String> {
    let mut metadata = BTreeMap::new();
    metadata.insert(KEY_CONFIG.to_string(), config.to_toml());
    let h = History {
        epochs: history.to_vec(),
        ..History::default()
    };
    metadata.insert(
        KEY_HISTORY.to_string(),
        super::files::history_json(&h, false).to_string(),
    );
    let state = TrainingState {
        optimizer,
        epoch: epochs_done,
    };
    save_checkpoint(path, model, Some(&state), &metadata).map_err(|e| e.to_string())
}

/// Reads a checkpoint written by [`write_checkpoint`].
pub fn read_checkpoint(path: &Path) -> Result<Checkpoint, String> {
    let stored = load_checkpoint(path).map_err(|e| e.to_string())?;
    let where_ = path.display();
    let config_text = stored.metadata.get(KEY_CONFIG).ok_or_else(|| {
        format!("{where_}: no zcnn run configuration in the metadata (key '{KEY_CONFIG}')")
    })?;
    let config = RunConfig::from_toml(config_text, &format!("{where_} (metadata '{KEY_CONFIG}')"))?;
    let history = match stored.metadata.get(KEY_HISTORY) {
        Some(text) => {
            parse_history(text).map_err(|e| format!("{where_}: metadata '{KEY_HISTORY}': {e}"))?
        }
        None => History::default(),
    };
    let epochs_done = stored.epoch().unwrap_or(0);
    Ok(Checkpoint {
        config,
        history,
        epochs_done,
        stored,
    })
}

impl Checkpoint {
    /// Loads the tensors into `model` (built from `self.config`) and, when given, the
    /// optimiser state and the dropout stream, so that training continues bit-identically.
    pub fn restore(
        &self,
        model: &mut Model,
        optimizer: Option<&mut Optimizer>,
    ) -> Result<(), String> {
        self.stored
            .restore_model(model)
            .map_err(|e| e.to_string())?;
        if let Some(opt) = optimizer {
            self.stored
                .restore_training(model, opt)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// The epochs of a history written by `files::history_json`.
fn parse_history(text: &str) -> Result<History, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let epochs = v["epochs"].as_array().ok_or("no 'epochs' array")?;
    let f = |e: &Value, k: &str| e[k].as_f64();
    let epochs = epochs
        .iter()
        .map(|e| {
            Ok(EpochSummary {
                epoch: e["epoch"].as_u64().ok_or("epoch without a number")? as usize - 1,
                train_loss: f(e, "train_loss").ok_or("epoch without train_loss")? as f32,
                val_loss: f(e, "val_loss").map(|x| x as f32),
                val_accuracy: e["val_accuracy"]
                    .as_array()
                    .map(|a| a.iter().map(|x| x.as_f64().map(|x| x as f32)).collect())
                    .unwrap_or_default(),
                seconds: f(e, "seconds").unwrap_or(0.0),
                samples_per_sec: f(e, "samples_per_sec").unwrap_or(0.0),
            })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    Ok(History {
        epochs,
        ..History::default()
    })
}
