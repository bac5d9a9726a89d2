//! Checkpoints: a [safetensors](https://github.com/huggingface/safetensors) file that PyTorch
//! loads as a `state_dict`, and that carries what zcnn needs to resume training exactly.
//!
//! # Format
//!
//! - **Model tensors**, in PyTorch's layouts and `state_dict` names ([`Model::export_torch`];
//!   the naming scheme is documented in [`crate::torch`]): `float32` parameters and batch-norm
//!   statistics, `int64` `num_batches_tracked`.
//! - **Training state** (optional, for resuming), as tensors and metadata whose names start with
//!   `zcnn_state.`:
//!   - tensors `zcnn_state.optimizer.m` and `zcnn_state.optimizer.v` (Adam's moments) or
//!     `zcnn_state.optimizer.velocity` (SGD), `float32 [n_params]` in the order of
//!     [`Model::params`] (trunk, then each head; zcnn's own layouts);
//!   - metadata `zcnn_state.optimizer.rule` (`adam` or `sgd`), `zcnn_state.optimizer.iteration`,
//!     `zcnn_state.epoch` (epochs completed), and `zcnn_state.rng.dropout`: the model's
//!     dropout `Xoshiro256PlusPlus` state, serialised with serde as JSON. (The shuffle order of
//!     an epoch depends only on the training seed and the epoch, so it needs no state.)
//! - `zcnn_state.format` = `zcnn-checkpoint-1` in every file zcnn writes.
//! - `zcnn_state.metadata_seal`: a 64-bit FNV-1a hash (hex) of every other metadata entry, so
//!   that a hand-edited value (e.g. a stored `z_max`, which no tensor shape reveals) is refused
//!   on reading instead of silently changing what the model means. It guards against edits,
//!   not against forgery. Files without it (e.g. PyTorch's) are read unsealed.
//! - **The caller's metadata** (any keys not starting with `zcnn_state.`), e.g. the run's
//!   model and training configuration under `zcnn.config`, so that the file alone is enough to
//!   rebuild the model for prediction.
//!
//! PyTorch reads it with `safetensors.torch.load_file`; drop the `zcnn_state.` tensors before
//! `load_state_dict` (`{k: v for k, v in sd.items() if not k.startswith("zcnn_state.")}`), or
//! save without training state. A safetensors file written by PyTorch (no `zcnn_state.` keys)
//! loads as a checkpoint without training state.
//!
//! # Deterministic bytes
//!
//! zcnn writes the safetensors layout itself rather than through the `safetensors` crate,
//! whose writer emits the metadata map in hash order: an 8-byte little-endian header length,
//! a JSON header (`__metadata__` with keys sorted, then the tensors in data order), padded with
//! spaces to a multiple of 8, then the data of the `int64` tensors and then the `float32` ones,
//! each group sorted by name (the crate's own order: larger alignment first). No time stamps,
//! paths or host names: the same model state gives the same bytes, whatever the number of
//! threads that trained it. The `safetensors` crate parses (and so validates) every file read.
//!
//! Files are replaced atomically ([`write_atomic`]).

use crate::io::atomic::write_atomic;
use crate::model::Model;
use crate::optim::{Optimizer, Rule};
use crate::torch::{TensorData, TorchTensor};
use crate::{ensure, Error, Result};
use rand_xoshiro::Xoshiro256PlusPlus;
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use std::collections::BTreeMap;
use std::path::Path;

/// Prefix of every tensor and metadata key zcnn reserves for itself.
pub const STATE_PREFIX: &str = "zcnn_state.";
/// The value of `zcnn_state.format` in the files this version writes.
pub const FORMAT: &str = "zcnn-checkpoint-1";

const KEY_FORMAT: &str = "zcnn_state.format";
const KEY_EPOCH: &str = "zcnn_state.epoch";
const KEY_RULE: &str = "zcnn_state.optimizer.rule";
const KEY_ITERATION: &str = "zcnn_state.optimizer.iteration";
const KEY_RNG_DROPOUT: &str = "zcnn_state.rng.dropout";
const KEY_SEAL: &str = "zcnn_state.metadata_seal";
/// The largest epoch or update count a checkpoint may hold: far beyond any real run, and far
/// from the integer limits that the next `+ 1` would overflow.
pub const MAX_COUNT: u64 = 1 << 40;
const TENSOR_M: &str = "zcnn_state.optimizer.m";
const TENSOR_V: &str = "zcnn_state.optimizer.v";
const TENSOR_VELOCITY: &str = "zcnn_state.optimizer.velocity";

/// What a checkpoint saves besides the model to resume a run bit for bit.
pub struct TrainingState<'a> {
    pub optimizer: &'a Optimizer,
    /// Epochs completed.
    pub epoch: usize,
}

/// Saves `model` (and, when given, the training state) with the caller's `metadata` to `path`,
/// atomically. Metadata keys must not start with `zcnn_state.`.
pub fn save_checkpoint(
    path: &Path,
    model: &Model,
    training: Option<&TrainingState>,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let bytes = checkpoint_bytes(model, training, metadata)
        .map_err(|e| Error(format!("{}: {e}", path.display())))?;
    write_atomic(path, &bytes)
}

/// The bytes [`save_checkpoint`] writes.
pub fn checkpoint_bytes(
    model: &Model,
    training: Option<&TrainingState>,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    if let Some(key) = metadata.keys().find(|k| k.starts_with(STATE_PREFIX)) {
        return Err(Error(format!(
            "metadata key '{key}' uses the reserved prefix '{STATE_PREFIX}'"
        )));
    }
    let mut meta = metadata.clone();
    meta.insert(KEY_FORMAT.into(), FORMAT.into());
    let mut tensors = model.export_torch();
    if let Some(t) = training {
        add_training_state(t, model, &mut tensors, &mut meta)?;
    }
    meta.insert(KEY_SEAL.into(), seal(&meta));
    Ok(safetensors_bytes(&tensors, &meta))
}

/// The seal of a metadata map: FNV-1a (64 bit; Fowler, Noll & Vo, IETF draft
/// draft-eastlake-fnv, section 2) over every entry but the seal itself, in key order, each key
/// and value followed by a 0 byte so that entries cannot run into each other.
fn seal(metadata: &BTreeMap<String, String>) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET_BASIS;
    for (key, value) in metadata.iter().filter(|(k, _)| k.as_str() != KEY_SEAL) {
        for text in [key, value] {
            // hash = (hash XOR byte) × prime, for each byte, then for the separator 0.
            for &byte in text.as_bytes().iter().chain(&[0]) {
                hash = (hash ^ byte as u64).wrapping_mul(PRIME);
            }
        }
    }
    format!("{hash:016x}")
}

fn add_training_state(
    t: &TrainingState,
    model: &Model,
    tensors: &mut Vec<TorchTensor>,
    meta: &mut BTreeMap<String, String>,
) -> Result<()> {
    let opt = t.optimizer;
    let n = model.param_count();
    ensure!(
        opt.state_a.len() == n,
        "the optimiser holds state for {} parameters, the model has {n}",
        opt.state_a.len()
    );
    let flat = |name: &str, v: &[f32]| TorchTensor {
        name: name.into(),
        shape: vec![v.len()],
        data: TensorData::F32(v.to_vec()),
    };
    match opt.rule {
        Rule::Adam(_) => {
            tensors.push(flat(TENSOR_M, &opt.state_a));
            tensors.push(flat(TENSOR_V, &opt.state_b));
        }
        Rule::Sgd(_) => tensors.push(flat(TENSOR_VELOCITY, &opt.state_a)),
    }
    meta.insert(KEY_RULE.into(), rule_name(&opt.rule).into());
    meta.insert(KEY_ITERATION.into(), opt.iteration.to_string());
    meta.insert(KEY_EPOCH.into(), t.epoch.to_string());
    meta.insert(KEY_RNG_DROPOUT.into(), rng_json(model.dropout_rng())?);
    Ok(())
}

fn rule_name(rule: &Rule) -> &'static str {
    match rule {
        Rule::Adam(_) => "adam",
        Rule::Sgd(_) => "sgd",
    }
}

fn rng_json(rng: &Xoshiro256PlusPlus) -> Result<String> {
    serde_json::to_string(rng).map_err(|e| Error(format!("cannot serialise a random stream: {e}")))
}

/// The safetensors layout with a deterministic header (see the module documentation).
fn safetensors_bytes(tensors: &[TorchTensor], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let mut order: Vec<&TorchTensor> = tensors.iter().collect();
    // Larger elements first (I64, then F32), then by name: every tensor stays aligned.
    order.sort_by(|a, b| {
        let is_f32 = |t: &TorchTensor| matches!(t.data, TensorData::F32(_));
        is_f32(a).cmp(&is_f32(b)).then_with(|| a.name.cmp(&b.name))
    });
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::json!(metadata));
    let mut data = Vec::new();
    for t in &order {
        let start = data.len();
        match &t.data {
            TensorData::F32(v) => data.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            TensorData::I64(v) => data.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        }
        let info = serde_json::json!({
            "dtype": t.data.dtype(),
            "shape": t.shape,
            "data_offsets": [start, data.len()],
        });
        header.insert(t.name.clone(), info);
    }
    let mut header = serde_json::Value::Object(header).to_string().into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut bytes = Vec::with_capacity(8 + header.len() + data.len());
    bytes.extend((header.len() as u64).to_le_bytes());
    bytes.extend(header);
    bytes.extend(data);
    bytes
}

/// The training state read from a checkpoint.
#[derive(Debug, Clone)]
struct SavedTraining {
    epoch: usize,
    rule: String,
    iteration: u64,
    /// Adam's `m` or SGD's velocity.
    state_a: Vec<f32>,
    /// Adam's `v` (empty for SGD).
    state_b: Vec<f32>,
    dropout_rng: Xoshiro256PlusPlus,
}

/// A checkpoint read back: the caller's metadata, the model tensors and, when saved, the
/// training state.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The caller's metadata (the `zcnn_state.` keys removed).
    pub metadata: BTreeMap<String, String>,
    /// The model's tensors in PyTorch's layouts and names.
    pub tensors: Vec<TorchTensor>,
    training: Option<SavedTraining>,
}

/// Reads a checkpoint (or any safetensors file of `F32`/`I64` tensors, e.g. one written by
/// PyTorch). Errors name the file and what is wrong.
pub fn load_checkpoint(path: &Path) -> Result<Checkpoint> {
    let bytes =
        std::fs::read(path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
    parse_checkpoint(&bytes).map_err(|e| Error(format!("{}: {e}", path.display())))
}

/// [`load_checkpoint`] on the bytes of a file (messages without the file name).
pub fn parse_checkpoint(bytes: &[u8]) -> Result<Checkpoint> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| describe(e, bytes.len()))?;
    let mut metadata: BTreeMap<String, String> = header
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let file = SafeTensors::deserialize(bytes).map_err(|e| describe(e, bytes.len()))?;
    let mut tensors = Vec::new();
    let mut state = BTreeMap::new();
    for (name, view) in file.iter() {
        let data = match view.dtype() {
            Dtype::F32 => TensorData::F32(le_values(view.data(), f32::from_le_bytes)),
            Dtype::I64 => TensorData::I64(le_values(view.data(), i64::from_le_bytes)),
            other => {
                return Err(Error(format!(
                    "tensor '{name}' has dtype {other:?}; zcnn reads F32 and I64 tensors"
                )))
            }
        };
        let tensor = TorchTensor {
            name: name.to_string(),
            shape: view.shape().to_vec(),
            data,
        };
        if name.starts_with(STATE_PREFIX) {
            state.insert(name.to_string(), tensor);
        } else {
            tensors.push(tensor);
        }
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(stored) = metadata.get(KEY_SEAL) {
        ensure!(
            *stored == seal(&metadata),
            "the metadata was edited after zcnn wrote this file (its seal '{KEY_SEAL}' no longer \
             matches): a stored setting such as model.z_max would silently change what the \
             model means; retrain, or fine-tune with --init-from and the new settings"
        );
    }
    let training = read_training(&metadata, &mut state)?;
    if let Some(name) = state.keys().next() {
        return Err(Error(format!("unknown zcnn state tensor '{name}'")));
    }
    if let Some(format) = metadata.get(KEY_FORMAT) {
        ensure!(
            format == FORMAT,
            "checkpoint format '{format}' is not '{FORMAT}' (written by another zcnn version?)"
        );
    }
    metadata.retain(|k, _| !k.starts_with(STATE_PREFIX));
    Ok(Checkpoint {
        metadata,
        tensors,
        training,
    })
}

/// A safetensors error in words: truncation, a bad header, or another inconsistency.
fn describe(e: SafeTensorError, file_len: usize) -> Error {
    use SafeTensorError::*;
    let what = match &e {
        HeaderTooSmall => format!("truncated: {file_len} bytes, less than the 8-byte header size"),
        InvalidHeaderLength => {
            format!("truncated or bad header: the header length exceeds the file's {file_len} bytes")
        }
        MetadataIncompleteBuffer => format!(
            "truncated or trailing bytes: the header's tensor offsets do not end at the file's end ({file_len} bytes)"
        ),
        InvalidHeader(_) | InvalidHeaderDeserialization(_) | HeaderTooLarge | JsonError(_) => {
            format!("bad header: {e}")
        }
        _ => format!("invalid safetensors file: {e}"),
    };
    Error(what)
}

/// Little-endian values of `N` bytes each.
fn le_values<T, const N: usize>(bytes: &[u8], from: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|b| from(b.try_into().expect("chunks of N bytes")))
        .collect()
}

fn read_training(
    meta: &BTreeMap<String, String>,
    state: &mut BTreeMap<String, TorchTensor>,
) -> Result<Option<SavedTraining>> {
    let Some(rule) = meta.get(KEY_RULE) else {
        return Ok(None);
    };
    let field = |key: &str| {
        meta.get(key)
            .ok_or_else(|| Error(format!("training state without metadata '{key}'")))
    };
    let number = |key: &str| -> Result<u64> {
        let v = field(key)?;
        match v.parse() {
            Ok(n) if n <= MAX_COUNT => Ok(n),
            _ => Err(Error(format!(
                "metadata '{key}' = '{v}': expected a count from 0 to {MAX_COUNT}"
            ))),
        }
    };
    let rng = |key: &str| -> Result<Xoshiro256PlusPlus> {
        serde_json::from_str(field(key)?).map_err(|e| {
            Error(format!(
                "metadata '{key}' is not a random stream state: {e}"
            ))
        })
    };
    let mut take = |name: &str| -> Result<Vec<f32>> {
        match state.remove(name) {
            Some(TorchTensor {
                data: TensorData::F32(v),
                shape,
                ..
            }) if shape.len() == 1 => Ok(v),
            Some(t) => Err(Error(format!(
                "tensor '{name}': expected F32 of rank 1, found {} {:?}",
                t.data.dtype(),
                t.shape
            ))),
            None => Err(Error(format!("training state without tensor '{name}'"))),
        }
    };
    let (state_a, state_b) = match rule.as_str() {
        "adam" => (take(TENSOR_M)?, take(TENSOR_V)?),
        "sgd" => (take(TENSOR_VELOCITY)?, Vec::new()),
        other => return Err(Error(format!("unknown optimiser rule '{other}'"))),
    };
    Ok(Some(SavedTraining {
        epoch: usize::try_from(number(KEY_EPOCH)?)
            .map_err(|_| Error(format!("metadata '{KEY_EPOCH}' does not fit in memory")))?,
        rule: rule.clone(),
        iteration: number(KEY_ITERATION)?,
        state_a,
        state_b,
        dropout_rng: rng(KEY_RNG_DROPOUT)?,
    }))
}

impl Checkpoint {
    /// Whether the file holds a training state to resume from.
    pub fn has_training_state(&self) -> bool {
        self.training.is_some()
    }

    /// Epochs completed when the training state was saved.
    pub fn epoch(&self) -> Option<usize> {
        self.training.as_ref().map(|t| t.epoch)
    }

    /// Loads the model tensors into `model`, built with the same architecture
    /// ([`Model::import_torch`]; all or nothing).
    pub fn restore_model(&self, model: &mut Model) -> Result<()> {
        model.import_torch(self.tensors.clone())
    }

    /// Restores the optimiser state and the shuffling and dropout streams, so that training
    /// continues exactly where it stopped; returns the epochs completed. Call
    /// [`Checkpoint::restore_model`] too. `optimizer` must use the same rule as the saved one
    /// and be built for `model`.
    pub fn restore_training(&self, model: &mut Model, optimizer: &mut Optimizer) -> Result<usize> {
        let saved = self.training.as_ref().ok_or_else(|| {
            Error("the checkpoint holds no training state (saved for inference only)".into())
        })?;
        let rule = rule_name(&optimizer.rule);
        ensure!(
            saved.rule == rule,
            "the checkpoint's optimiser is {}, the run's is {rule}",
            saved.rule
        );
        let n = model.param_count();
        ensure!(
            optimizer.state_a.len() == n,
            "the optimiser is built for {} parameters, the model has {n}",
            optimizer.state_a.len()
        );
        ensure!(
            saved.state_a.len() == n && saved.state_b.len() == optimizer.state_b.len(),
            "the checkpoint's optimiser state holds {} (+{}) values, the model has {n} parameters",
            saved.state_a.len(),
            saved.state_b.len()
        );
        for (name, v) in [("state", &saved.state_a), ("second moment", &saved.state_b)] {
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error(format!(
                    "optimiser {name} value {i} is {} (not finite)",
                    v[i]
                )));
            }
        }
        optimizer.iteration = saved.iteration;
        optimizer.state_a.copy_from_slice(&saved.state_a);
        optimizer.state_b.copy_from_slice(&saved.state_b);
        *model.dropout_rng_mut() = saved.dropout_rng.clone();
        Ok(saved.epoch)
    }
}
