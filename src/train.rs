//! Datasets in memory, mini-batching and the training loop.

use crate::dims::Dims;
use crate::layers::Mode;
use crate::loss::{argmax, TargetBatch};
use crate::model::Model;
use crate::optim::Optimizer;
use crate::rng::{purpose, stream};
use crate::{ensure, Error, Result};
use rand::Rng;
use std::ops::ControlFlow;
use std::time::Instant;

/// The targets of a whole dataset for one head.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetData {
    /// A class index per sample.
    Classes(Vec<u32>),
    /// `width` values per sample (a distribution over bins, or regression targets).
    Values { width: usize, values: Vec<f32> },
}

impl TargetData {
    fn empty_batch(&self, batch: usize) -> TargetBatch {
        match self {
            TargetData::Classes(_) => TargetBatch::Classes(vec![0; batch]),
            TargetData::Values { width, .. } => TargetBatch::Values(vec![0.0; batch * width]),
        }
    }

    fn gather(&self, order: &[usize], into: &mut TargetBatch) {
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

/// How the samples of an epoch are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Each sample once per epoch, in a seeded random order.
    Shuffle,
    /// `n` draws with replacement per epoch.
    WithReplacement,
    /// Each sample once per epoch, in order.
    Sequential,
}

/// The validation quantity early stopping watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMetric {
    /// Total validation loss (lower is better).
    ValLoss,
    /// Validation accuracy of a classification head (higher is better).
    ValAccuracy { head: usize },
}

/// Stop when the metric has not improved for `patience` epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStopping {
    pub metric: StopMetric,
    pub patience: usize,
    /// Put the parameters of the best epoch back at the end.
    pub restore_best: bool,
}

/// Settings of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub batch: usize,
    pub epochs: usize,
    /// Stop after this many updates, whatever the epoch (for iteration-based schedules).
    pub max_iterations: Option<u64>,
    pub sampling: Sampling,
    /// Seed of the shuffling stream: the order of epoch `e` depends only on (seed, e), so a
    /// run resumed at an epoch boundary draws the same batches.
    pub seed: u64,
    /// Epoch to start from (0, or the epoch after a checkpoint's when resuming).
    pub first_epoch: usize,
    pub early_stopping: Option<EarlyStopping>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            batch: 32,
            epochs: 10,
            max_iterations: None,
            sampling: Sampling::Shuffle,
            seed: 0,
            first_epoch: 0,
            early_stopping: None,
        }
    }
}

/// Progress of one training step, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    pub epoch: usize,
    pub iteration: u64,
    /// Batches done in this epoch, and the epoch's total.
    pub batch_in_epoch: usize,
    pub batches_per_epoch: usize,
    pub loss: f32,
    pub lr: f32,
    /// Training throughput over the epoch so far.
    pub samples_per_sec: f64,
}

/// What one epoch achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochSummary {
    pub epoch: usize,
    pub train_loss: f32,
    pub val_loss: Option<f32>,
    /// Validation accuracy of each classification head (None for regression heads).
    pub val_accuracy: Vec<Option<f32>>,
    pub seconds: f64,
    pub samples_per_sec: f64,
}

/// A training event passed to the progress callback.
#[derive(Debug)]
pub enum Event<'a> {
    Step(StepInfo),
    Epoch(&'a EpochSummary),
}

/// The record of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    pub epochs: Vec<EpochSummary>,
    pub stopped_early: bool,
    /// True when the callback asked to stop (e.g. Ctrl-C).
    pub interrupted: bool,
    pub best_epoch: Option<usize>,
}

/// Mini-batch buffers and the sampling stream, reused by every step so that a step after the
/// first allocates nothing.
///
/// That holds when the step runs on a thread of the rayon pool, e.g. after
/// `rayon::ThreadPoolBuilder::new().use_current_thread().build_global()` on the training
/// thread, or inside `ThreadPool::install`. Called from any other thread, each parallel kernel
/// call is queued in rayon's injector, which allocates a small block every 63 jobs.
/// [`Trainer::new`] also lets the calling thread steal work once (see [`register_for_stealing`]).
pub struct Trainer {
    pub config: TrainConfig,
    order: Vec<usize>,
    x: Vec<f32>,
    extra: Vec<f32>,
    targets: Vec<TargetBatch>,
    losses: Vec<f32>,
}

impl Trainer {
    /// A trainer for `model` and datasets shaped like `data`.
    pub fn new(model: &Model, data: &Dataset, config: TrainConfig) -> Result<Self> {
        ensure!(config.batch > 0, "batch size must be at least 1");
        register_for_stealing();
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
        let b = config.batch;
        Ok(Trainer {
            order: Vec::new(),
            x: vec![0.0; b * data.sample.size()],
            extra: vec![0.0; b * data.n_extra],
            targets: data.targets.iter().map(|t| t.empty_batch(b)).collect(),
            losses: vec![0.0; model.heads().len()],
            config,
        })
    }

    /// Copies the samples `idx` of `data` into the batch buffers.
    fn gather(&mut self, data: &Dataset, idx: &[usize]) {
        let (s, e) = (data.sample.size(), data.n_extra);
        for (k, &i) in idx.iter().enumerate() {
            self.x[k * s..(k + 1) * s].copy_from_slice(&data.inputs[i * s..(i + 1) * s]);
            self.extra[k * e..(k + 1) * e].copy_from_slice(&data.extra[i * e..(i + 1) * e]);
        }
        for (t, buf) in data.targets.iter().zip(&mut self.targets) {
            t.gather(idx, buf);
        }
    }

    /// One update on the samples `idx` of `data`: forward, loss, backward, optimiser step.
    /// Returns the total loss; fails (without updating) if the loss is not finite.
    pub fn step(
        &mut self,
        model: &mut Model,
        opt: &mut Optimizer,
        data: &Dataset,
        idx: &[usize],
    ) -> Result<f32> {
        let b = idx.len();
        self.gather(data, idx);
        let (s, e) = (data.sample.size(), data.n_extra);
        model.forward(&self.x[..b * s], &self.extra[..b * e], b, Mode::Train)?;
        let loss = model.compute_loss(&self.targets, b, &mut self.losses)?;
        ensure!(
            loss.is_finite(),
            "the training loss became {loss} at iteration {}",
            opt.iteration + 1
        );
        model.backward(&self.x[..b * s], b, Mode::Train);
        model.apply_update(opt);
        Ok(loss)
    }

    /// Draws the sample order of epoch `epoch` from its own stream.
    fn next_order(&mut self, n: usize, epoch: usize) {
        let mut rng = stream(
            self.config.seed ^ (epoch as u64).wrapping_mul(0xA24B_AED4_963E_E407),
            purpose::SHUFFLE,
        );
        self.order.clear();
        match self.config.sampling {
            Sampling::Sequential => self.order.extend(0..n),
            Sampling::Shuffle => {
                self.order.extend(0..n);
                // Fisher–Yates, from the last position down.
                for i in (1..n).rev() {
                    let j = rng.gen_range(0..=i);
                    self.order.swap(i, j);
                }
            }
            Sampling::WithReplacement => {
                for _ in 0..n {
                    let i = rng.gen_range(0..n);
                    self.order.push(i);
                }
            }
        }
    }

    /// Trains for the configured epochs (or iterations), validating after each epoch when
    /// `val` is given. `on_event` sees every step and epoch; returning `ControlFlow::Break`
    /// stops the run cleanly after the current step (e.g. on Ctrl-C).
    pub fn fit(
        &mut self,
        model: &mut Model,
        opt: &mut Optimizer,
        train: &Dataset,
        val: Option<&Dataset>,
        on_event: &mut dyn FnMut(Event, &Model, &Optimizer) -> ControlFlow<()>,
    ) -> Result<History> {
        train
            .validate()
            .map_err(|e| Error(format!("training set: {e}")))?;
        if let Some(v) = val {
            v.validate()
                .map_err(|e| Error(format!("validation set: {e}")))?;
        }
        let n = train.len();
        let b = self.config.batch;
        let batches = n.div_ceil(b);
        let mut history = History::default();
        let mut best: Option<(f64, Vec<f32>)> = None;
        let mut since_best = 0;
        for epoch in self.config.first_epoch..self.config.epochs {
            if self
                .config
                .max_iterations
                .is_some_and(|m| opt.iteration >= m)
            {
                break;
            }
            self.next_order(n, epoch);
            let start = Instant::now();
            let (mut loss_sum, mut seen) = (0.0f64, 0usize);
            for k in 0..batches {
                let idx_range = k * b..((k + 1) * b).min(n);
                let idx = std::mem::take(&mut self.order);
                let result = self.step(model, opt, train, &idx[idx_range.clone()]);
                self.order = idx;
                let loss = result?;
                loss_sum += loss as f64 * idx_range.len() as f64;
                seen += idx_range.len();
                let info = StepInfo {
                    epoch,
                    iteration: opt.iteration,
                    batch_in_epoch: k + 1,
                    batches_per_epoch: batches,
                    loss,
                    lr: opt.current_lr(),
                    samples_per_sec: seen as f64 / start.elapsed().as_secs_f64().max(1e-9),
                };
                let stop_at_limit = self
                    .config
                    .max_iterations
                    .is_some_and(|m| opt.iteration >= m);
                if on_event(Event::Step(info), model, opt).is_break() {
                    history.interrupted = true;
                }
                if history.interrupted || stop_at_limit {
                    break;
                }
            }
            let seconds = start.elapsed().as_secs_f64();
            let (val_loss, val_accuracy) = match val {
                Some(v) => {
                    let (l, a) = evaluate(model, v, b)?;
                    (Some(l), a)
                }
                None => (None, vec![None; model.heads().len()]),
            };
            let summary = EpochSummary {
                epoch,
                train_loss: (loss_sum / seen.max(1) as f64) as f32,
                val_loss,
                val_accuracy,
                seconds,
                samples_per_sec: seen as f64 / seconds.max(1e-9),
            };
            if on_event(Event::Epoch(&summary), model, opt).is_break() {
                history.interrupted = true;
            }
            history.epochs.push(summary);
            if let Some(es) = self.config.early_stopping {
                let last = history.epochs.last().expect("just pushed");
                let score = stop_score(es.metric, last)?;
                if best.as_ref().is_none_or(|(s, _)| score < *s) {
                    best = Some((
                        score,
                        if es.restore_best {
                            model.params().to_vec()
                        } else {
                            Vec::new()
                        },
                    ));
                    history.best_epoch = Some(epoch);
                    since_best = 0;
                } else {
                    since_best += 1;
                    if since_best >= es.patience {
                        history.stopped_early = true;
                    }
                }
            }
            if history.interrupted || history.stopped_early {
                break;
            }
        }
        if let (Some(es), Some((_, params))) = (self.config.early_stopping, best) {
            if es.restore_best && !history.interrupted {
                model.params_mut().copy_from_slice(&params);
            }
        }
        Ok(history)
    }
}

/// rayon's work-stealing deques register a thread with crossbeam-epoch the first time it
/// tries to steal: one small heap allocation per thread, once per process. To keep it out of
/// the training steps, every pool thread looks for work once here (`yield_now` on an empty
/// local queue tries to steal from the other threads).
fn register_for_stealing() {
    rayon::broadcast(|_| {
        rayon::yield_now();
    });
}

/// The early-stopping score of an epoch, as "lower is better".
fn stop_score(metric: StopMetric, e: &EpochSummary) -> Result<f64> {
    match metric {
        StopMetric::ValLoss => e.val_loss.map(|l| l as f64).ok_or_else(|| Error("early stopping on the validation loss needs a validation set".into())),
        StopMetric::ValAccuracy { head } => match e.val_accuracy.get(head) {
            Some(Some(a)) => Ok(-(*a as f64)),
            _ => Err(Error(format!("early stopping on accuracy: head {head} has no validation accuracy (needs a validation set and class labels)"))),
        },
    }
}

/// Mean loss over `data` in evaluation mode, and each classification head's accuracy
/// (predicted class == label; for distribution targets, == the target's argmax).
pub fn evaluate(
    model: &mut Model,
    data: &Dataset,
    batch: usize,
) -> Result<(f32, Vec<Option<f32>>)> {
    let heads = model.heads().len();
    let mut trainer = Trainer::new(
        model,
        data,
        TrainConfig {
            batch,
            ..TrainConfig::default()
        },
    )?;
    let order: Vec<usize> = (0..data.len()).collect();
    let (mut loss_sum, mut correct) = (0.0f64, vec![0usize; heads]);
    for idx in order.chunks(batch) {
        let b = idx.len();
        trainer.gather(data, idx);
        let (s, e) = (data.sample.size(), data.n_extra);
        model.forward(&trainer.x[..b * s], &trainer.extra[..b * e], b, Mode::Eval)?;
        loss_sum += model.compute_loss(&trainer.targets, b, &mut trainer.losses)? as f64 * b as f64;
        for (h, c) in correct.iter_mut().enumerate() {
            if model.heads()[h].loss.is_classification() {
                let k = model.heads()[h].outputs();
                let probs = model.probabilities(h, b);
                *c += (0..b)
                    .filter(|&i| {
                        argmax(&probs[i * k..(i + 1) * k]) == trainer.targets[h].class_of(i, k)
                    })
                    .count();
            }
        }
    }
    let n = data.len() as f32;
    let acc = (0..heads)
        .map(|h| {
            model.heads()[h]
                .loss
                .is_classification()
                .then(|| correct[h] as f32 / n)
        })
        .collect();
    Ok(((loss_sum / data.len() as f64) as f32, acc))
}

/// Outputs of every head for every sample of `inputs` (`[n, in_dims]`), in evaluation mode:
/// probabilities for classification heads, raw values for regression heads.
pub fn predict(
    model: &mut Model,
    inputs: &[f32],
    extra: &[f32],
    batch: usize,
) -> Result<Vec<Vec<f32>>> {
    ensure!(batch > 0, "batch size must be at least 1");
    let (s, e) = (model.in_dims().size(), model.n_extra());
    ensure!(
        inputs.len().is_multiple_of(s),
        "inputs hold {} floats, not a multiple of the sample size {s}",
        inputs.len()
    );
    let n = inputs.len() / s;
    ensure!(
        extra.len() == n * e,
        "{} extra values for {n} samples × {e}",
        extra.len()
    );
    let mut out: Vec<Vec<f32>> = model
        .heads()
        .iter()
        .map(|h| Vec::with_capacity(n * h.outputs()))
        .collect();
    for start in (0..n).step_by(batch) {
        let b = batch.min(n - start);
        model.forward(
            &inputs[start * s..(start + b) * s],
            &extra[start * e..(start + b) * e],
            b,
            Mode::Eval,
        )?;
        for (h, o) in out.iter_mut().enumerate() {
            let raw = model.output(h, b);
            if model.heads()[h].loss.is_classification() {
                let k = model.heads()[h].outputs();
                let first = o.len();
                o.resize(first + raw.len(), 0.0);
                zcnn_kernels::loss::softmax_rows(k, raw, &mut o[first..]);
            } else {
                o.extend_from_slice(raw);
            }
        }
    }
    Ok(out)
}
