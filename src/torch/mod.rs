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
//! permuted the same way. The order is followed layer by layer as a chain is exported or
//! imported ([`FeatureOrder`]): the engine's layers know nothing of it.
//!
//! # Where the code is
//!
//! This module is the only place that knows PyTorch: the engine's `Layer` trait, `Sequential`
//! and `Model` carry no PyTorch names or layouts.
//!
//! - `tensor.rs`: named tensors, and the sink and source a layer writes to and reads from;
//! - `layout.rs`: the feature order and the weight permutations;
//! - `layers.rs`: each layer type's tensors (found by the layer's concrete type);
//! - `chain.rs`: a `Sequential` as an `nn.Sequential`;
//! - `model.rs`: [`Model::export_torch`](crate::model::Model::export_torch) and
//!   [`Model::import_torch`](crate::model::Model::import_torch), the whole `state_dict`.
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

mod chain;
mod layers;
mod layout;
mod model;
mod tensor;

pub use layout::FeatureOrder;
pub use tensor::{TensorData, TensorSink, TensorSource, TorchTensor};
