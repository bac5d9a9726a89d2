//! A dataset in memory: samples, their extra scalars and one target set per model head, with
//! its validation and subsets.

use crate::dims::Dims;
use crate::loss::TargetBatch;
use crate::{ensure, Error, Result};

/// The targets of a whole dataset for one head.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetData {
    /// A class index per sample.
    Classes(Vec<u32>),
    /// `width` values per sample (a distribution over bins, or regression targets).
    Values { width: usize, values: Vec<f32> },
}

impl TargetData {
    /// Target buffers for `batch` samples, to gather into.
    pub(super) fn empty_batch(&self, batch: usize) -> TargetBatch {
        match self {
            TargetData::Classes(_) => TargetBatch::Classes(vec![0; batch]),
            TargetData::Values { width, .. } => TargetBatch::Values(vec![0.0; batch * width]),
        }
    }

    /// Copies the targets of the samples `order` into `into` (made by `empty_batch`).
    pub(super) fn gather(&self, order: &[usize], into: &mut TargetBatch) {
        match (self, into) {
            (TargetData::Classes(all), TargetBatch::Classes(buf)) => {
                for (dst, &i) in buf.iter_mut().zip(order) {
                    *dst = all[i];
                }
            }
            (TargetData::Values { width, values }, TargetBatch::Values(buf)) => {
                for (dst, &i) in buf.chunks_exact_mut(*width).zip(order) {
                    dst.copy_from_slice(&values[i * width..(i + 1) * width]);
                }
            }
            _ => unreachable!("target buffer made by empty_batch"),
        }
    }

    fn len(&self) -> usize {
        match self {
            TargetData::Classes(c) => c.len(),
            TargetData::Values { width, values } => values.len() / (*width).max(1),
        }
    }
}

/// Samples with their extra scalars and one target set per model head.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub sample: Dims,
    /// `[n, sample.size()]`.
    pub inputs: Vec<f32>,
    pub n_extra: usize,
    /// `[n, n_extra]`.
    pub extra: Vec<f32>,
    pub targets: Vec<TargetData>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len() / self.sample.size().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every part has the same number of samples and all values are finite.
    pub fn validate(&self) -> Result<()> {
        let n = self.len();
        ensure!(n > 0, "the dataset is empty");
        ensure!(
            self.inputs.len() == n * self.sample.size(),
            "inputs hold {} floats, not a multiple of the sample size {} ({})",
            self.inputs.len(),
            self.sample.size(),
            self.sample
        );
        ensure!(
            self.extra.len() == n * self.n_extra,
            "{} extra values for {n} samples × {}",
            self.extra.len(),
            self.n_extra
        );
        if let Some(i) = self.inputs.iter().position(|v| !v.is_finite()) {
            let s = self.sample.size();
            return Err(Error(format!(
                "input value {} of sample {} is {}",
                i % s,
                i / s,
                self.inputs[i]
            )));
        }
        for (h, t) in self.targets.iter().enumerate() {
            ensure!(
                t.len() == n,
                "targets of head {h} hold {} samples, the inputs {n}",
                t.len()
            );
            if let TargetData::Values { values, .. } = t {
                if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                    return Err(Error(format!(
                        "target value {i} of head {h} is {}",
                        values[i]
                    )));
                }
            }
        }
        Ok(())
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let s = self.sample.size();
        let pick = |v: &[f32], w: usize| {
            indices
                .iter()
                .flat_map(|&i| v[i * w..(i + 1) * w].iter().copied())
                .collect()
        };
        Dataset {
            sample: self.sample,
            inputs: pick(&self.inputs, s),
            n_extra: self.n_extra,
            extra: pick(&self.extra, self.n_extra),
            targets: self
                .targets
                .iter()
                .map(|t| match t {
                    TargetData::Classes(c) => {
                        TargetData::Classes(indices.iter().map(|&i| c[i]).collect())
                    }
                    TargetData::Values { width, values } => TargetData::Values {
                        width: *width,
                        values: pick(values, *width),
                    },
                })
                .collect(),
        }
    }
}
