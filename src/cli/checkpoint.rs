//! Checkpoints of the command: the model in PyTorch's names and layouts, the optimiser state,
//! the run's configuration (so a checkpoint alone is enough for `predict`), the input contract
//! (what the model was trained on: `super::contract`) and the training history, in one
//! safetensors file (format: `crate::io::checkpoint`). Everything read back is untrusted: the
//! configuration passes the same checks as a user's, the contract and the counts theirs.

use super::config::RunConfig;
use super::contract::{InputContract, InputShape, Inputs, KEY_INPUT};
use super::pipeline::{build_model, check, MAX_EPOCHS};
use crate::io::checkpoint::{
    parse_checkpoint as parse_stored, save_checkpoint, Checkpoint as Stored, TrainingState,
};
use crate::model::Model;
use crate::optim::Optimizer;
use crate::train::{EpochSummary, History};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Metadata key of the run configuration (TOML).
pub const KEY_CONFIG: &str = "zcnn.config";
/// Metadata key of the training history (JSON).
pub const KEY_HISTORY: &str = "zcnn.history";

/// A checkpoint read back and checked: the configuration, the input contract, the history and
/// the stored tensors.
pub struct Checkpoint {
    /// The file (named in every error).
    pub path: PathBuf,
    pub config: RunConfig,
    /// What the model was trained on (absent in checkpoints of zcnn before the contract).
    pub contract: Option<InputContract>,
    pub history: History,
    /// Epochs completed.
    pub epochs_done: usize,
    stored: Stored,
}

/// Saves the model after `epochs_done` epochs with the optimiser state and the input
/// contract, atomically.
pub fn write_checkpoint(
    path: &Path,
    config: &RunConfig,
    contract: &InputContract,
    model: &Model,
    optimizer: &Optimizer,
    epochs_done: usize,
    history: &[EpochSummary],
) -> Result<(), String> {
    let mut metadata = BTreeMap::new();
    metadata.insert(KEY_CONFIG.to_string(), config.to_toml());
    metadata.insert(KEY_INPUT.to_string(), contract.to_json());
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
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_checkpoint(&bytes, path)
}

/// [`read_checkpoint`] on the bytes of the file `path`. Everything stored is untrusted: the
/// configuration goes through the checks of a user's config ([`check`]), the contract and the
/// counts through theirs; errors name the file and the metadata key.
pub fn parse_checkpoint(bytes: &[u8], path: &Path) -> Result<Checkpoint, String> {
    let where_ = path.display();
    let stored = parse_stored(bytes).map_err(|e| format!("{where_}: {e}"))?;
    let config_text = stored.metadata.get(KEY_CONFIG).ok_or_else(|| {
        format!("{where_}: no zcnn run configuration in the metadata (key '{KEY_CONFIG}')")
    })?;
    let source = format!("{where_} (metadata '{KEY_CONFIG}')");
    let config = RunConfig::from_toml(config_text, &source)?;
    check(&config).map_err(|e| format!("{source}: {e}"))?;
    let contract = match stored.metadata.get(KEY_INPUT) {
        Some(text) => Some(
            InputContract::from_json(text)
                .map_err(|e| format!("{where_}: metadata '{KEY_INPUT}': {e}"))?,
        ),
        None => None,
    };
    let history = match stored.metadata.get(KEY_HISTORY) {
        Some(text) => {
            parse_history(text).map_err(|e| format!("{where_}: metadata '{KEY_HISTORY}': {e}"))?
        }
        None => History::default(),
    };
    let epochs_done = stored.epoch().unwrap_or(0);
    if epochs_done > MAX_EPOCHS {
        return Err(format!(
            "{where_}: the training state claims {epochs_done} epochs done; at most {MAX_EPOCHS} are possible"
        ));
    }
    Ok(Checkpoint {
        path: path.to_path_buf(),
        config,
        contract,
        history,
        epochs_done,
        stored,
    })
}

impl Checkpoint {
    /// Checks that `inputs` are what the model was trained on (see [`InputContract::check`]).
    /// A checkpoint without a contract (written before zcnn stored one) is accepted with a
    /// warning rather than refused, so that models trained earlier stay usable; its input size
    /// is still checked, by the shapes of its tensors.
    pub fn check_inputs(&self, inputs: &Inputs) -> Result<(), String> {
        match &self.contract {
            Some(contract) => contract.check(&self.path, inputs),
            None => {
                eprintln!(
                    "warning: {} records no input contract (written by an older zcnn): the \
                     pixels, wavelength grid and normalisation of {} cannot be checked",
                    self.path.display(),
                    inputs.source.display()
                );
                Ok(())
            }
        }
    }

    /// The scales of a chunk of spectra against the contract (see [`InputContract::check_scales`]);
    /// nothing to check without a contract ([`Checkpoint::check_inputs`] warned of that).
    pub fn check_scales(&self, inputs: &Inputs) -> Result<(), String> {
        match &self.contract {
            Some(contract) => contract.check_scales(&self.path, inputs),
            None => Ok(()),
        }
    }

    /// Checks cutouts against the contract (see [`InputContract::check_images`]); their
    /// shape only, by the model's, for a checkpoint without a contract.
    pub fn check_images(
        &self,
        source: &Path,
        shape: &InputShape,
        peaks: &[f32],
        first: usize,
    ) -> Result<(), String> {
        match &self.contract {
            Some(contract) => contract.check_images(&self.path, source, shape, peaks, first),
            None => self.model(shape).map(|_| ()),
        }
    }

    /// The model of the stored configuration for inputs of shape `input`, with the stored
    /// weights. An error when the configuration does not describe the stored tensors (e.g. an
    /// edited `model.bins`).
    pub fn model(&self, input: &InputShape) -> Result<Model, String> {
        let where_ = self.path.display();
        let mut model =
            build_model(&self.config.model, input).map_err(|e| format!("{where_}: {e}"))?;
        self.stored.restore_model(&mut model).map_err(|e| {
            format!("{where_}: the stored configuration does not describe the stored tensors: {e}")
        })?;
        Ok(model)
    }

    /// Loads the stored weights into `model`, built from another configuration of the same
    /// architecture (e.g. fine-tuning with another loss; all or nothing).
    pub fn restore_weights(&self, model: &mut Model) -> Result<(), String> {
        self.stored.restore_model(model).map_err(|e| {
            format!(
                "the weights of {} do not fit this run's model: {e}",
                self.path.display()
            )
        })
    }

    /// Restores the optimiser state and the dropout stream into `optimizer` and `model` (built
    /// by [`Checkpoint::model`]), so that training continues bit-identically.
    pub fn restore_training(
        &self,
        model: &mut Model,
        optimizer: &mut Optimizer,
    ) -> Result<(), String> {
        self.stored
            .restore_training(model, optimizer)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.path.display()))
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
                epoch: e["epoch"]
                    .as_u64()
                    .filter(|&n| (1..=MAX_EPOCHS as u64).contains(&n))
                    .ok_or(format!("an epoch without a number from 1 to {MAX_EPOCHS}"))?
                    as usize
                    - 1,
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
        .collect::<Result<Vec<_>, String>>()?;
    Ok(History {
        epochs,
        ..History::default()
    })
}
