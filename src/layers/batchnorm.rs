//! Batch normalisation over the channels of any input (dense, sequence or image).

use super::{Ctx, Layer, Mode, Pass};
use crate::dims::Dims;
use crate::Result;
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn_kernels::batchnorm::{
    batchnorm_backward, batchnorm_backward_eval, batchnorm_eval_affine, batchnorm_forward_eval,
    batchnorm_forward_train, BatchNormParams, BatchNormShape,
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

    /// The running mean and (unbiased) variance `[channels]` that evaluation normalises with.
    pub fn running_stats(&self) -> (&[f32], &[f32]) {
        (&self.running_mean, &self.running_var)
    }

    /// Mutable running mean and variance (when loading a checkpoint).
    pub fn running_stats_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.running_mean, &mut self.running_var)
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

    /// `y = scale·x + shift` with `scale = γ/√(running_var + ε)` and
    /// `shift = β − running_mean·scale` (the evaluation-mode normalisation, Ioffe & Szegedy
    /// 2015, §3.1, written as one affine map).
    fn eval_affine(&self, params: &[f32], scale: &mut [f32], shift: &mut [f32]) -> bool {
        let (gamma, beta) = params.split_at(self.dims.channels());
        batchnorm_eval_affine(
            &self.params,
            gamma,
            beta,
            &self.running_mean,
            &self.running_var,
            scale,
            shift,
        );
        true
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
}
