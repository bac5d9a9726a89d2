//! A dataset: samples (in memory, or read one at a time from a [`SampleSource`] such as a file
//! on disk), their extra scalars and one target set per model head, with its validation and
//! subsets.

use crate::dims::Dims;
use crate::loss::TargetBatch;
use crate::{ensure, Error, Result};
use std::sync::Arc;

/// Samples that do not sit in memory (e.g. the rows of a file larger than memory), read one at
/// a time. A read may come from any thread of the pool.
pub trait SampleSource: Send + Sync + std::fmt::Debug {
    /// Number of samples.
    fn len(&self) -> usize;

    /// Whether the source holds no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes sample `i` (`sample.size()` floats, channels last) into `out`; fails with a
    /// message naming the sample (and the file) when it cannot be read or is not finite.
    fn read(&self, i: usize, out: &mut [f32]) -> Result<()>;
}

/// Where the samples of a dataset are.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// `[n, sample size]` in memory.
    Memory(Vec<f32>),
    /// The samples `rows` of `source`, in that order (a subset of a file holds only indices).
    Source {
        source: Arc<dyn SampleSource>,
        rows: Vec<usize>,
    },
}

impl Inputs {
    /// All samples of `source`, in its order.
    pub fn source(source: Arc<dyn SampleSource>) -> Inputs {
        let rows = (0..source.len()).collect();
        Inputs::Source { source, rows }
    }

    /// The samples in memory, or `None` for a source.
    pub fn in_memory(&self) -> Option<&[f32]> {
        match self {
            Inputs::Memory(values) => Some(values),
            Inputs::Source { .. } => None,
        }
    }
}

impl From<Vec<f32>> for Inputs {
    fn from(values: Vec<f32>) -> Self {
        Inputs::Memory(values)
    }
}

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
#[derive(Debug, Clone)]
pub struct Dataset {
    pub sample: Dims,
    pub inputs: Inputs,
    pub n_extra: usize,
    /// `[n, n_extra]`.
    pub extra: Vec<f32>,
    pub targets: Vec<TargetData>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match &self.inputs {
            Inputs::Memory(values) => values.len() / self.sample.size().max(1),
            Inputs::Source { rows, .. } => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every part has the same number of samples and all values are finite (the
    /// samples of a source are checked as they are read).
    pub fn validate(&self) -> Result<()> {
        let n = self.len();
        ensure!(n > 0, "the dataset is empty");
        match &self.inputs {
            Inputs::Memory(values) => check_memory_inputs(values, self.sample)?,
            Inputs::Source { source, rows } => {
                if let Some(&row) = rows.iter().find(|&&r| r >= source.len()) {
                    return Err(Error(format!(
                        "sample {row} asked of a source of {} samples",
                        source.len()
                    )));
                }
            }
        }
        ensure!(
            self.extra.len() == n * self.n_extra,
            "{} extra values for {n} samples × {}",
            self.extra.len(),
            self.n_extra
        );
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
            inputs: match &self.inputs {
                Inputs::Memory(values) => Inputs::Memory(pick(values, s)),
                Inputs::Source { source, rows } => Inputs::Source {
                    source: source.clone(),
                    rows: indices.iter().map(|&i| rows[i]).collect(),
                },
            },
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

/// In-memory samples: a whole number of samples, every value finite.
fn check_memory_inputs(values: &[f32], sample: Dims) -> Result<()> {
    let s = sample.size();
    ensure!(
        values.len().is_multiple_of(s.max(1)),
        "inputs hold {} floats, not a multiple of the sample size {s} ({sample})",
        values.len(),
    );
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error(format!(
            "input value {} of sample {} is {}",
            i % s,
            i / s,
            values[i]
        )));
    }
    Ok(())
}
