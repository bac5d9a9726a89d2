//! The training loop: mini-batches, one update per batch, validation after each epoch, early
//! stopping.

use super::augment::{self, Augment};
use super::batch::Batch;
use super::config::{Sampling, StopMetric, TrainConfig};
use super::dataset::Dataset;
use super::evaluate::evaluate;
use super::history::{EpochSummary, Event, History, StepInfo};
use crate::layers::Mode;
use crate::model::Model;
use crate::optim::Optimizer;
use crate::rng::{purpose, stream};
use crate::{ensure, Error, Result};
use rand::Rng;
use std::ops::ControlFlow;
use std::time::Instant;

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
    batch: Batch,
    /// One sample, for the augmentation's transforms.
    scratch: Vec<f32>,
}

impl Trainer {
    /// A trainer for `model` and datasets shaped like `data`.
    pub fn new(model: &Model, data: &Dataset, config: TrainConfig) -> Result<Self> {
        ensure!(config.batch > 0, "batch size must be at least 1");
        augment::check(config.augment, data.sample)?;
        register_for_stealing();
        Ok(Trainer {
            order: Vec::new(),
            batch: Batch::new(model, data, config.batch)?,
            scratch: vec![0.0; data.sample.size()],
            config,
        })
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
        self.batch.gather(data, idx)?;
        let (seed, iteration) = (self.config.seed, opt.iteration);
        match self.config.augment {
            Augment::None => {}
            Augment::Dihedral => augment::dihedral_batch(
                self.batch.inputs_mut(b),
                data.sample,
                b,
                seed,
                iteration,
                &mut self.scratch,
            ),
            Augment::WhiteNoise { snr } => augment::white_noise_batch(
                self.batch.inputs_mut(b),
                data.sample.size(),
                b,
                snr,
                seed,
                iteration,
            ),
        }
        let loss = self.batch.forward_and_loss(model, b, Mode::Train)?;
        ensure!(
            loss.is_finite(),
            "the training loss became {loss} at iteration {}",
            opt.iteration + 1
        );
        model.backward(self.batch.inputs(b), b, Mode::Train);
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
