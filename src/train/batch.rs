//! The buffers of one mini-batch, gathered from a dataset and run through a model.

use super::dataset::{Dataset, Inputs};
use crate::layers::Mode;
use crate::loss::TargetBatch;
use crate::model::Model;
use crate::{ensure, Result};
use rayon::prelude::*;

/// Inputs, extra scalars and targets of up to `capacity` samples, and the per-head losses:
/// allocated once, reused by every batch.
pub(super) struct Batch {
    /// `[capacity, sample size]`.
    x: Vec<f32>,
    /// `[capacity, n_extra]`.
    extra: Vec<f32>,
    /// One target buffer per head.
    pub(super) targets: Vec<TargetBatch>,
    losses: Vec<f32>,
    sample_len: usize,
    n_extra: usize,
}

impl Batch {
    /// Buffers for up to `capacity` samples of `data`, which must fit `model`.
    pub(super) fn new(model: &Model, data: &Dataset, capacity: usize) -> Result<Self> {
        ensure!(capacity > 0, "batch size must be at least 1");
        ensure!(
            data.sample == model.in_dims(),
            "the data's samples are {}, the model takes {}",
            data.sample,
            model.in_dims()
        );
        ensure!(
            data.n_extra == model.n_extra(),
            "the data have {} extra inputs, the model takes {}",
            data.n_extra,
            model.n_extra()
        );
        ensure!(
            data.targets.len() == model.heads().len(),
            "the data have {} target sets for {} heads",
            data.targets.len(),
            model.heads().len()
        );
        Ok(Batch {
            x: vec![0.0; capacity * data.sample.size()],
            extra: vec![0.0; capacity * data.n_extra],
            targets: data
                .targets
                .iter()
                .map(|t| t.empty_batch(capacity))
                .collect(),
            losses: vec![0.0; model.heads().len()],
            sample_len: data.sample.size(),
            n_extra: data.n_extra,
        })
    }

    /// Copies the samples `idx` of `data` into the buffers (a source's samples are read in
    /// parallel, each into its own slot, so the batch does not depend on the thread count).
    pub(super) fn gather(&mut self, data: &Dataset, idx: &[usize]) -> Result<()> {
        let (s, e) = (self.sample_len, self.n_extra);
        match &data.inputs {
            Inputs::Memory(values) => {
                for (k, &i) in idx.iter().enumerate() {
                    self.x[k * s..(k + 1) * s].copy_from_slice(&values[i * s..(i + 1) * s]);
                }
            }
            Inputs::Source { source, rows } => {
                self.x[..idx.len() * s]
                    .par_chunks_mut(s)
                    .zip(idx.par_iter())
                    .try_for_each(|(slot, &i)| source.read(rows[i], slot))?;
            }
        }
        for (k, &i) in idx.iter().enumerate() {
            self.extra[k * e..(k + 1) * e].copy_from_slice(&data.extra[i * e..(i + 1) * e]);
        }
        for (t, buf) in data.targets.iter().zip(&mut self.targets) {
            t.gather(idx, buf);
        }
        Ok(())
    }

    /// The inputs of the first `b` gathered samples.
    pub(super) fn inputs(&self, b: usize) -> &[f32] {
        &self.x[..b * self.sample_len]
    }

    /// The inputs of the first `b` gathered samples, to transform in place.
    pub(super) fn inputs_mut(&mut self, b: usize) -> &mut [f32] {
        &mut self.x[..b * self.sample_len]
    }

    /// Runs `model` on the first `b` gathered samples in `mode` and returns the total loss
    /// (the output gradients are then ready for `Model::backward`).
    pub(super) fn forward_and_loss(
        &mut self,
        model: &mut Model,
        b: usize,
        mode: Mode,
    ) -> Result<f32> {
        let (s, e) = (self.sample_len, self.n_extra);
        model.forward(&self.x[..b * s], &self.extra[..b * e], b, mode)?;
        model.compute_loss(&self.targets, b, &mut self.losses)
    }
}
