//! Batch normalisation over the channels of any input (dense, sequence or image).

use super::{Ctx, Layer, Mode, Pass};
use crate::dims::Dims;
use crate::torch::{FeatureOrder, TensorSink, TensorSource};
use crate::Result;
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn_kernels::batchnorm::{
    batchnorm_backward, batchnorm_backward_eval, batchnorm_forward_eval, batchnorm_forward_train,
    BatchNormParams, BatchNormShape,
};

/// Ioffe & Szegedy 2015. With channels last, every input is a matrix `[batch · positions,
/// channels]`. Parameters: `weight` (γ, starts at 1) then `bias` (β, starts at 0). State: the
/// running mean and (unbiased) variance, updated with PyTorch's momentum convention.
pub struct BatchNorm {
    dims: Dims,
    params: BatchNormParams,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
    num_batches_tracked: u64,
    /// Order of the input features when they are flat (see [`FeatureOrder`]).
    feature_order: FeatureOrder,
    save_mean: Vec<f32>,
    save_invstd: Vec<f32>,
}

impl BatchNorm {
    /// Batch norm with PyTorch's defaults (eps 1e-5, momentum 0.1).
    pub fn new(input: Dims) -> Result<Self> {
        Self::with_params(input, BatchNormParams::default())
    }

    /// Batch norm with a chosen epsilon and momentum.
    pub fn with_params(input: Dims, params: BatchNormParams) -> Result<Self> {
        let ch = input.channels();
        crate::ensure!(ch > 0, "batchnorm: input {input} has no channels");
        crate::ensure!(
            params.eps > 0.0 && (0.0..=1.0).contains(&params.momentum),
            "batchnorm: eps must be > 0 and momentum in [0, 1], got eps {} momentum {}",
            params.eps,
            params.momentum
        );
        Ok(BatchNorm {
            dims: input,
            params,
            running_mean: vec![0.0; ch],
            running_var: vec![1.0; ch],
            num_batches_tracked: 0,
            feature_order: FeatureOrder::Plain,
            save_mean: vec![0.0; ch],
            save_invstd: vec![0.0; ch],
        })
    }

    fn shape(&self, batch: usize) -> BatchNormShape {
        BatchNormShape {
            rows: batch * self.dims.positions(),
            channels: self.dims.channels(),
        }
    }

    /// Number of training-mode forward passes seen (PyTorch's `num_batches_tracked`).
    pub fn num_batches_tracked(&self) -> u64 {
        self.num_batches_tracked
    }

    /// Sets the counter (when loading a checkpoint).
    pub fn set_num_batches_tracked(&mut self, n: u64) {
        self.num_batches_tracked = n;
    }
}

impl Layer for BatchNorm {
    fn kind(&self) -> &'static str {
        "batchnorm"
    }

    fn out_dims(&self) -> Dims {
        self.dims
    }

    fn param_len(&self) -> usize {
        2 * self.dims.channels()
    }

    fn init_params(&mut self, params: &mut [f32], _rng: &mut Xoshiro256PlusPlus) {
        let (gamma, beta) = params.split_at_mut(self.dims.channels());
        gamma.fill(1.0);
        beta.fill(0.0);
    }

    /// Per-channel (per-feature for a flat input): the features keep their order.
    fn connect_feature_order(&mut self, input: FeatureOrder) -> FeatureOrder {
        self.feature_order = input;
        input
    }

    /// `weight`, `bias`, `running_mean`, `running_var` `[channels]` and `num_batches_tracked`
    /// (an `int64` scalar), as PyTorch's `BatchNorm1d`/`BatchNorm2d`.
    fn export_tensors(&self, params: &[f32], out: &mut TensorSink) {
        let ch = self.dims.channels();
        let order = self.feature_order;
        let (gamma, beta) = params.split_at(ch);
        out.f32("weight", vec![ch], order.to_torch(gamma));
        out.f32("bias", vec![ch], order.to_torch(beta));
        out.f32("running_mean", vec![ch], order.to_torch(&self.running_mean));
        out.f32("running_var", vec![ch], order.to_torch(&self.running_var));
        let count = i64::try_from(self.num_batches_tracked).unwrap_or(i64::MAX);
        out.i64("num_batches_tracked", vec![], vec![count]);
    }

    fn import_tensors(&mut self, source: &TensorSource, params: &mut [f32]) -> Result<()> {
        let ch = self.dims.channels();
        let order = self.feature_order;
        let gamma = source.f32("weight", &[ch])?;
        let beta = source.f32("bias", &[ch])?;
        let mean = source.f32("running_mean", &[ch])?;
        let var = source.f32("running_var", &[ch])?;
        let count = source.i64("num_batches_tracked", &[])?[0];
        crate::ensure!(
            count >= 0,
            "tensor 'num_batches_tracked' of a batchnorm is negative ({count})"
        );
        crate::ensure!(
            var.iter().all(|&v| v >= 0.0),
            "tensor 'running_var' of a batchnorm holds a negative variance"
        );
        let (g, b) = params.split_at_mut(ch);
        order.from_torch(gamma, g);
        order.from_torch(beta, b);
        order.from_torch(mean, &mut self.running_mean);
        order.from_torch(var, &mut self.running_var);
        self.num_batches_tracked = count as u64;
        Ok(())
    }

    fn forward(
        &mut self,
        ctx: &mut Ctx,
        params: &[f32],
        x: &[f32],
        y: &mut [f32],
        _scratch: &mut [f32],
    ) {
        let (gamma, beta) = params.split_at(self.dims.channels());
        let shape = self.shape(ctx.pass.batch);
        match ctx.pass.mode {
            Mode::Train => {
                batchnorm_forward_train(
                    &shape,
                    &self.params,
                    x,
                    gamma,
                    beta,
                    y,
                    &mut self.running_mean,
                    &mut self.running_var,
                    &mut self.save_mean,
                    &mut self.save_invstd,
                );
                self.num_batches_tracked += 1;
            }
            Mode::Eval => batchnorm_forward_eval(
                &shape,
                &self.params,
                x,
                gamma,
                beta,
                &self.running_mean,
                &self.running_var,
                y,
            ),
        }
    }

    fn backward(
        &mut self,
        pass: Pass,
        params: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        grads: &mut [f32],
        _scratch: &mut [f32],
    ) {
        let ch = self.dims.channels();
        let gamma = &params[..ch];
        let (dgamma, dbeta) = grads.split_at_mut(ch);
        let shape = self.shape(pass.batch);
        match pass.mode {
            Mode::Train => batchnorm_backward(
                &shape,
                x,
                gamma,
                &self.save_mean,
                &self.save_invstd,
                dy,
                dx,
                dgamma,
                dbeta,
            ),
            // A frozen batch norm: the running statistics are constants.
            Mode::Eval => batchnorm_backward_eval(
                &shape,
                &self.params,
                x,
                gamma,
                &self.running_mean,
                &self.running_var,
                dy,
                dx,
                dgamma,
                dbeta,
            ),
        }
    }

    fn state(&self) -> Vec<(&'static str, &[f32])> {
        vec![
            ("running_mean", &self.running_mean),
            ("running_var", &self.running_var),
        ]
    }

    fn state_mut(&mut self) -> Vec<(&'static str, &mut Vec<f32>)> {
        vec![
            ("running_mean", &mut self.running_mean),
            ("running_var", &mut self.running_var),
        ]
    }
}
