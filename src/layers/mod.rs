//! Layers: each owns its shape, the caches its backward needs and (by offset) a slice of the
//! model's flat parameter buffer.
//!
//! The flow of one training step through a layer is
//!
//! ```text
//! forward(x → y)                      caches what backward needs (masks, argmax, batch stats)
//! backward(dy → dx += …, grads += …)  accumulates, never overwrites, like the kernels
//! ```
//!
//! Parameters and their gradients are not owned by the layer: the model keeps all of them in
//! one contiguous buffer each, and hands every layer its own sub-slice. A layer says how many
//! floats it needs ([`Layer::param_len`]) and how to initialise them ([`Layer::init_params`]).

mod activation;
mod append;
mod batchnorm;
mod conv1d;
mod conv2d;
mod dense;
mod dropout;
mod flatten;
mod fusion;
mod inception;
mod padding;
mod pool;

pub use activation::{LeakyRelu, Prelu, Relu};
pub use append::AppendScalars;
pub use batchnorm::BatchNorm;
pub use conv1d::Conv1d;
pub use conv2d::Conv2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use fusion::Fused;
pub use inception::Inception;
pub use padding::Padding;
pub use pool::{AvgPool, GlobalAvgPool, MaxPool};

use crate::dims::Dims;
use crate::init::WeightInit;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::any::Any;
pub use zcnn_kernels::epilogue::Activation;

/// Training (batch statistics, dropout active) or evaluation (running statistics, no dropout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}

/// The mode and batch size of a forward or backward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub mode: Mode,
    pub batch: usize,
}

/// What a forward pass needs besides the input: the pass, the dropout stream, the
/// per-sample extra scalars appended by [`AppendScalars`] (`[batch, n_extra]`), and whether an
/// evaluation pass may fuse layers (see [`Fused`]) and skip the caches of backward, which
/// cannot follow it.
pub struct Ctx<'a> {
    pub pass: Pass,
    pub dropout_rng: &'a mut Xoshiro256PlusPlus,
    pub extra: &'a [f32],
    pub fuse: bool,
}

/// A building block of a network. See the module documentation for the calling protocol.
///
/// A layer is `Any` so that code at the edges can find its concrete type: checkpoints in
/// PyTorch's layout (`crate::torch`) give each layer type its tensors there, not here.
pub trait Layer: Any + Send {
    /// Short kind name used in messages ("conv1d", "dense", …).
    fn kind(&self) -> &'static str;

    /// Per-sample shape of the output.
    fn out_dims(&self) -> Dims;

    /// Number of trainable floats this layer keeps in the model's parameter buffer.
    fn param_len(&self) -> usize {
        0
    }

    /// Fills this layer's parameter slice; `rng` is the model's initialisation stream.
    fn init_params(&mut self, _params: &mut [f32], _rng: &mut Xoshiro256PlusPlus) {}

    /// Replaces the weight initialiser (for layers that have weights).
    fn set_weight_init(&mut self, _init: WeightInit, _bias: f32) {}

    /// True if the layer can overwrite its input with its output (element-wise activations):
    /// the model then gives it one buffer for both and saves the memory.
    fn in_place(&self) -> bool {
        false
    }

    /// Allocates the caches for `batch` samples. Called before the first step and whenever the
    /// batch grows; never inside a step.
    fn prepare(&mut self, _batch: usize) {}

    /// Floats of kernel scratch space this layer needs for `batch` samples.
    fn scratch_len(&self, _batch: usize) -> usize {
        0
    }

    /// Computes `y` from `x` (overwriting `y`). For an in-place layer, see
    /// [`Layer::forward_in_place`] instead.
    fn forward(
        &mut self,
        ctx: &mut Ctx,
        params: &[f32],
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
    );

    /// In-place forward (only called when [`Layer::in_place`] is true): `xy` holds the input
    /// and receives the output.
    fn forward_in_place(&mut self, _ctx: &mut Ctx, _params: &[f32], _xy: &mut [f32]) {
        unreachable!("{} does not run in place", self.kind())
    }

    /// Accumulates `dx += ∂L/∂x` (when `dx` is given) and `grads += ∂L/∂θ` from `dy = ∂L/∂y`.
    /// `x` and `y` are the forward's input and output (the same slice for an in-place layer).
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        pass: Pass,
        params: &[f32],
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        grads: &mut [f32],
        scratch: &mut [f32],
    );

    /// The activation this layer computes from its parameters, for a producing layer before it
    /// to apply as it writes its output at inference (`None`: not an activation).
    fn as_activation<'p>(&self, _params: &'p [f32]) -> Option<Activation<'p>> {
        None
    }

    /// For a layer that is a per-channel affine map in evaluation mode (batch norm),
    /// `y = scale·x + shift`: writes `scale` and `shift` (`[channels]` each) and returns true.
    fn eval_affine(&self, _params: &[f32], _scale: &mut [f32], _shift: &mut [f32]) -> bool {
        false
    }

    /// Whether [`Layer::forward_fused`] is implemented.
    fn can_fuse(&self) -> bool {
        false
    }

    /// Evaluation-mode forward with the layers that follow fused in (see [`Fused`]), writing
    /// their output into `y` (only called when [`Layer::can_fuse`] is true). `scratch` is as
    /// large as [`Layer::scratch_len`].
    fn forward_fused(
        &mut self,
        _ctx: &mut Ctx,
        _params: &[f32],
        _x: &[f32],
        _y: &mut [f32],
        _scratch: &mut [f32],
        _fused: &Fused,
    ) {
        unreachable!("{} does not fuse", self.kind())
    }

    /// Non-trainable state by name (batch-norm running statistics).
    fn state(&self) -> Vec<(&'static str, &[f32])> {
        Vec::new()
    }
}
