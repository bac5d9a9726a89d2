//! A progress bar per epoch (loss and throughput), and Ctrl-C handling: the first Ctrl-C asks
//! the training loop to stop after the current step, so a checkpoint can be saved.

use crate::model::Model;
use crate::optim::Optimizer;
use crate::train::Event;
use indicatif::{ProgressBar, ProgressStyle};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The process's Ctrl-C flag, for loops that stop cleanly between steps: set by the first
/// Ctrl-C, the same flag for every caller. The handler is installed at the first call; when a
/// program embedding zcnn has installed its own, Ctrl-C stays that program's.
pub fn ctrl_c_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
        stop
    })
    .clone()
}

/// Shows training progress and reports a Ctrl-C.
pub struct Progress {
    bar: Option<ProgressBar>,
    stop: Arc<AtomicBool>,
    epochs: usize,
}

impl Progress {
    /// Installs the Ctrl-C handler (once per process) for a run of `epochs` epochs.
    pub fn new(epochs: usize) -> Self {
        Progress {
            bar: None,
            stop: ctrl_c_flag(),
            epochs,
        }
    }

    /// Whether Ctrl-C was pressed.
    pub fn interrupted(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The training callback: updates the bar; breaks on Ctrl-C.
    pub fn on_event(&mut self, event: &Event, _model: &Model, _opt: &Optimizer) -> ControlFlow<()> {
        match event {
            Event::Step(s) => {
                let bar = self.bar.get_or_insert_with(|| {
                    let bar = ProgressBar::new(s.batches_per_epoch as u64);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({eta})",
                        )
                        .expect("a valid template")
                        .progress_chars("=> "),
                    );
                    bar
                });
                bar.set_prefix(format!("{}/{}", s.epoch + 1, self.epochs));
                bar.set_position(s.batch_in_epoch as u64);
                if s.batch_in_epoch % 10 == 0 || s.batch_in_epoch == s.batches_per_epoch {
                    bar.set_message(format!(
                        "loss {:.4}  {:.0} samples/s",
                        s.loss, s.samples_per_sec
                    ));
                }
            }
            Event::Epoch(e) => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let val = e
                    .val_loss
                    .map_or(String::new(), |v| format!("  val loss {v:.4}"));
                let acc = match e.val_accuracy.first() {
                    Some(Some(a)) => format!("  val accuracy {:.2} %", 100.0 * a),
                    _ => String::new(),
                };
                eprintln!(
                    "epoch {}/{}: train loss {:.4}{val}{acc}  {:.0} samples/s  {:.1} s",
                    e.epoch + 1,
                    self.epochs,
                    e.train_loss,
                    e.samples_per_sec,
                    e.seconds
                );
            }
        }
        if self.interrupted() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}
