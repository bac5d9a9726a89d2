//! Tensors in PyTorch's layouts and names, so that a model moves between zcnn and PyTorch.
//!
//! # Layouts
//!
//! | zcnn (channels last) | PyTorch |
//! |---|---|
//! | `Conv1d` weight `[k, in, out]` | `Conv1d.weight [out, in, k]` |
//! | `Conv2d` weight `[kh, kw, in, out]` | `Conv2d.weight [out, in, kh, kw]` |
//! | `Dense` weight `[out, in]` | `Linear.weight [out, in]` (columns permuted after a flatten, below) |
//! | biases, `BatchNorm` γ/β/running statistics, `PReLU` slopes `[ch]` | the same, `[ch]` |
//! | `BatchNorm` update counter | `num_batches_tracked`, an `int64` scalar (shape `[]`) |
//!
//! **Flatten.** zcnn flattens a channels-last `[positions, C]` activation as
//! `feature = position·C + c`; PyTorch's `nn.Flatten` of an `[C, positions]` activation gives
//! `feature = c·positions + position`. A `Dense` layer fed (possibly through dropout, element-wise
//! activations, batch norm or appended scalars) by a flatten therefore exports its weight with
//! column `position·C + c` moved to `c·positions + position`; columns of appended scalars
//! (E(B−V)) stay last in both. Per-feature vectors (batch norm, PReLU) on such features are
//! permuted the same way. Each layer learns the order of its input features from
//! [`Layer::connect_feature_order`](crate::layers::Layer::connect_feature_order), which
//! `Sequential` calls as layers are pushed.
//!
//! # Names
//!
//! Layer `i` of a chain is named `i.` as in `nn.Sequential`, and layers without tensors (ReLU,
//! pools, flatten, dropout) keep their index, so the indices match an `nn.Sequential` built
//! with the same modules in the same order.
//!
//! - **One head**: the model is one `nn.Sequential`: trunk layer `i` → `"{i}.weight"`, head
//!   layer `j` → `"{trunk_len + j}.weight"`.
//! - **Several heads**: a module with `trunk = nn.Sequential(...)` and
//!   `heads = nn.ModuleDict({name: nn.Sequential(...)})`: `"trunk.{i}.weight"`,
//!   `"heads.{name}.{j}.weight"` (head names are unique and contain no `.`).
//! - **Inception** at index `i`: a module with `branches = nn.ModuleList([nn.Sequential(...)])`
//!   whose forward concatenates the branches over channels: `"{i}.branches.{b}.{j}.weight"`.
//!
//! The presets, with one head each:
//!
//! - `specz_baseline` (16 trunk layers): `0, 4, 8` Conv1d (`weight [16, in, 8]`, `bias`);
//!   `3, 7, 11` BatchNorm1d (`weight, bias, running_mean, running_var, num_batches_tracked`);
//!   `14` Linear `[512, 16·221]` (flatten permutation); `16` Linear `[k, 512]`. This is
//!   `nn.Sequential` of `3 × [Conv1d(·, 16, 8, padding='same'), ReLU, MaxPool1d(3, 2),
//!   BatchNorm1d(16)], Flatten, Dropout, Linear, Dropout, Linear`: PyTorch's `'same'` pads an
//!   even kernel 3 left and 4 right, as zcnn does.
//! - `kim_brunner` (26 trunk layers): Conv2d at `0, 2, 5, 7, 9, 12, 14, 16`; Linear at `21`
//!   (`[2048, 128·5·5]`, flatten permutation), `24` and the head `26` (LeakyReLU, MaxPool2d,
//!   Flatten and Dropout in between, as in the peer's `nn.Sequential`).
//! - `pasquet` (16 trunk layers): `0` Conv2d 5×5, `1` PReLU, `2, 5, 8` AvgPool2d; Inception
//!   blocks at `3, 4, 6, 7, 9` with branches `0: [conv 1×1, PReLU]`, `1: [conv 1×1, PReLU,
//!   conv 5×5, PReLU]` (absent in block 9, so its later branches move up by one),
//!   `[conv 1×1, PReLU, conv 3×3, PReLU]`, `[conv 1×1, PReLU, AvgPool 2×2 stride 1]`; `10`
//!   Flatten, `11` AppendScalars (E(B−V), no tensors), Linear at `12, 14` and the head at `16`.
//!   TensorFlow's "SAME" average pool with stride 1 (which averages valid pixels only) has no
//!   single PyTorch module: a port needs a small custom module at that index.

use crate::{Error, Result};

/// One tensor in PyTorch's layout, named as in a `state_dict`.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// The values of a tensor: `float32` parameters and statistics, or `int64` counters.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl TensorData {
    /// The dtype as safetensors spells it (`"F32"`, `"I64"`).
    pub fn dtype(&self) -> &'static str {
        match self {
            TensorData::F32(_) => "F32",
            TensorData::I64(_) => "I64",
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::I64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The order of a flat feature vector's features, as far as PyTorch interop cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeatureOrder {
    /// The features have no spatial structure: zcnn and PyTorch order them alike.
    #[default]
    Plain,
    /// The first `positions · channels` features are a flattened channels-last
    /// `[positions, channels]` activation; any further features (appended scalars) follow.
    ChannelsLast { positions: usize, channels: usize },
}

impl FeatureOrder {
    /// PyTorch's index of zcnn's feature `j`: `position·C + c ↦ c·positions + position` inside
    /// the flattened block, unchanged after it.
    pub fn torch_index(self, j: usize) -> usize {
        match self {
            FeatureOrder::Plain => j,
            FeatureOrder::ChannelsLast {
                positions,
                channels,
            } => {
                if j < positions * channels {
                    (j % channels) * positions + j / channels
                } else {
                    j
                }
            }
        }
    }

    /// A per-feature vector (`[features]`) in PyTorch's order.
    pub fn to_torch(self, ours: &[f32]) -> Vec<f32> {
        let mut torch = vec![0.0; ours.len()];
        for (j, &v) in ours.iter().enumerate() {
            torch[self.torch_index(j)] = v;
        }
        torch
    }

    /// A per-feature vector from PyTorch's order into `ours`.
    pub fn from_torch(self, torch: &[f32], ours: &mut [f32]) {
        for (j, v) in ours.iter_mut().enumerate() {
            *v = torch[self.torch_index(j)];
        }
    }
}

/// Where layers write their tensors: names are relative to the layer (`"weight"`), and the
/// sink adds the layer's prefix (`"3."`, `"trunk.3."`, `"5.branches.1.0."`).
pub struct TensorSink<'a> {
    out: &'a mut Vec<TorchTensor>,
    prefix: String,
}

impl<'a> TensorSink<'a> {
    /// A sink appending to `out`, with no prefix.
    pub fn new(out: &'a mut Vec<TorchTensor>) -> Self {
        TensorSink {
            out,
            prefix: String::new(),
        }
    }

    /// The same sink for a sub-module named `name` (`"{prefix}{name}."`).
    pub fn within(&mut self, name: &str) -> TensorSink<'_> {
        TensorSink {
            out: &mut *self.out,
            prefix: format!("{}{name}.", self.prefix),
        }
    }

    /// Adds a `float32` tensor.
    pub fn f32(&mut self, name: &str, shape: Vec<usize>, data: Vec<f32>) {
        self.push(name, shape, TensorData::F32(data));
    }

    /// Adds an `int64` tensor.
    pub fn i64(&mut self, name: &str, shape: Vec<usize>, data: Vec<i64>) {
        self.push(name, shape, TensorData::I64(data));
    }

    fn push(&mut self, name: &str, shape: Vec<usize>, data: TensorData) {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len(), "{name}");
        self.out.push(TorchTensor {
            name: format!("{}{name}", self.prefix),
            shape,
            data,
        });
    }
}

/// Where layers read their tensors from: a name-sorted set seen from inside one layer.
pub struct TensorSource<'a> {
    tensors: &'a std::collections::BTreeMap<String, TorchTensor>,
    prefix: String,
}

impl<'a> TensorSource<'a> {
    /// A source over `tensors` (keyed by full name), with no prefix.
    pub fn new(tensors: &'a std::collections::BTreeMap<String, TorchTensor>) -> Self {
        TensorSource {
            tensors,
            prefix: String::new(),
        }
    }

    /// The same source seen from a sub-module named `name`.
    pub fn within(&self, name: &str) -> TensorSource<'a> {
        TensorSource {
            tensors: self.tensors,
            prefix: format!("{}{name}.", self.prefix),
        }
    }

    /// The `float32` tensor `name` (relative), checked against `shape`.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<&'a [f32]> {
        match &self.get(name, shape)?.data {
            TensorData::F32(v) => Ok(v),
            other => Err(self.dtype_error(name, "F32", other)),
        }
    }

    /// The `int64` tensor `name` (relative), checked against `shape`.
    pub fn i64(&self, name: &str, shape: &[usize]) -> Result<&'a [i64]> {
        match &self.get(name, shape)?.data {
            TensorData::I64(v) => Ok(v),
            other => Err(self.dtype_error(name, "I64", other)),
        }
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<&'a TorchTensor> {
        let full = format!("{}{name}", self.prefix);
        let t = self
            .tensors
            .get(&full)
            .ok_or_else(|| Error(format!("missing tensor '{full}'")))?;
        if t.shape != shape {
            return Err(Error(format!(
                "tensor '{full}': expected shape {shape:?}, found {:?}",
                t.shape
            )));
        }
        Ok(t)
    }

    fn dtype_error(&self, name: &str, expected: &str, found: &TensorData) -> Error {
        Error(format!(
            "tensor '{}{name}': expected dtype {expected}, found {}",
            self.prefix,
            found.dtype()
        ))
    }
}

/// The multi-index of element `flat` of a C-order array of `shape` (`[]` for a scalar).
pub fn unravel_index(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &d) in index.iter_mut().zip(shape).rev() {
        *i = flat % d.max(1);
        flat /= d.max(1);
    }
    index
}

/// A convolution weight from zcnn's `[spatial…, in, out]` to PyTorch's `[out, in, spatial…]`;
/// `spatial` is the number of kernel taps (`k`, or `kh·kw`).
pub fn conv_weight_to_torch(w: &[f32], spatial: usize, cin: usize, cout: usize) -> Vec<f32> {
    assert_eq!(w.len(), spatial * cin * cout, "conv weight length");
    let mut torch = vec![0.0; w.len()];
    for s in 0..spatial {
        for i in 0..cin {
            for o in 0..cout {
                torch[(o * cin + i) * spatial + s] = w[(s * cin + i) * cout + o];
            }
        }
    }
    torch
}

/// The inverse of [`conv_weight_to_torch`], into `w`.
pub fn conv_weight_from_torch(
    torch: &[f32],
    spatial: usize,
    cin: usize,
    cout: usize,
    w: &mut [f32],
) {
    assert_eq!(w.len(), spatial * cin * cout, "conv weight length");
    for s in 0..spatial {
        for i in 0..cin {
            for o in 0..cout {
                w[(s * cin + i) * cout + o] = torch[(o * cin + i) * spatial + s];
            }
        }
    }
}

/// A dense weight `[out, in]` with its columns in PyTorch's order.
pub fn dense_weight_to_torch(w: &[f32], out: usize, order: FeatureOrder) -> Vec<f32> {
    w.chunks_exact(w.len() / out.max(1))
        .flat_map(|row| order.to_torch(row))
        .collect()
}

/// The inverse of [`dense_weight_to_torch`], into `w`.
pub fn dense_weight_from_torch(torch: &[f32], out: usize, order: FeatureOrder, w: &mut [f32]) {
    let cols = w.len() / out.max(1);
    for (row, torch_row) in w.chunks_exact_mut(cols).zip(torch.chunks_exact(cols)) {
        order.from_torch(torch_row, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_last_index_moves_to_channels_first() {
        // [positions 2, channels 3] + 1 appended scalar: ours p·3 + c → torch c·2 + p.
        let order = FeatureOrder::ChannelsLast {
            positions: 2,
            channels: 3,
        };
        let torch: Vec<usize> = (0..7).map(|j| order.torch_index(j)).collect();
        assert_eq!(torch, vec![0, 2, 4, 1, 3, 5, 6]);
        let ours = [0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 99.0];
        let t = order.to_torch(&ours);
        assert_eq!(t, vec![0.0, 10.0, 1.0, 11.0, 2.0, 12.0, 99.0]);
        let mut back = [0.0; 7];
        order.from_torch(&t, &mut back);
        assert_eq!(back, ours);
    }

    #[test]
    fn conv_weight_round_trip_and_layout() {
        // k 2, in 3, out 4: ours [k, in, out], torch [out, in, k].
        let w: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let t = conv_weight_to_torch(&w, 2, 3, 4);
        // torch[o=1, i=2, k=1] = ours[k=1, i=2, o=1] = (1·3 + 2)·4 + 1.
        assert_eq!(t[(3 + 2) * 2 + 1], 21.0);
        let mut back = vec![0.0; 24];
        conv_weight_from_torch(&t, 2, 3, 4, &mut back);
        assert_eq!(back, w);
    }
}
