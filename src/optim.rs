//! Optimisers over a whole model, and learning-rate schedules.

use crate::{ensure, Result};
use std::ops::Range;
use zcnn_kernels::optim::{adam_step, sgd_step, AdamConfig, SgdConfig};

/// The learning rate as a function of the iteration (0-based, before the update).
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// The base learning rate throughout.
    Constant,
    /// Multiplied by `factor` at each listed iteration (e.g. ÷5 at 60k and 120k: Pasquet 2019).
    Step { factor: f32, at: Vec<u64> },
    /// Linear from the base rate to `end` over `over` iterations, then `end` (Kim & Brunner
    /// 2016: 0.003 → 0.0001).
    Linear { end: f32, over: u64 },
    /// Cosine annealing from the base rate to `end` over `over` iterations, then `end`.
    Cosine { end: f32, over: u64 },
}

impl Schedule {
    /// Learning rate at iteration `iter` for base rate `base`.
    pub fn lr(&self, base: f32, iter: u64) -> f32 {
        match self {
            Schedule::Constant => base,
            Schedule::Step { factor, at } => {
                base * factor.powi(at.iter().filter(|&&a| iter >= a).count() as i32)
            }
            Schedule::Linear { end, over } => {
                let t = (iter as f64 / (*over).max(1) as f64).min(1.0) as f32;
                base + (end - base) * t
            }
            Schedule::Cosine { end, over } => {
                let t = (iter as f64 / (*over).max(1) as f64).min(1.0);
                end + (base - end) * (0.5 * (1.0 + (std::f64::consts::PI * t).cos())) as f32
            }
        }
    }
}

/// Adam/AdamW or SGD (with momentum and Nesterov), with its state for every parameter.
#[derive(Debug, Clone)]
pub struct Optimizer {
    pub rule: Rule,
    pub schedule: Schedule,
    /// Updates applied so far (Adam's `t` is `iteration + 1` during an update).
    pub iteration: u64,
    /// First moments (Adam) or velocities (SGD).
    pub state_a: Vec<f32>,
    /// Second moments (Adam); empty for SGD.
    pub state_b: Vec<f32>,
}

/// The update rule and its hyper-parameters; `lr` is the base rate the schedule scales.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    Adam(AdamConfig),
    Sgd(SgdConfig),
}

impl Optimizer {
    /// An optimiser for `n_params` parameters, its state zeroed.
    pub fn new(rule: Rule, schedule: Schedule, n_params: usize) -> Result<Self> {
        let lr = match rule {
            Rule::Adam(c) => c.lr,
            Rule::Sgd(c) => c.lr,
        };
        ensure!(
            lr.is_finite() && lr > 0.0,
            "learning rate must be positive, got {lr}"
        );
        let second = if matches!(rule, Rule::Adam(_)) {
            n_params
        } else {
            0
        };
        Ok(Optimizer {
            rule,
            schedule,
            iteration: 0,
            state_a: vec![0.0; n_params],
            state_b: vec![0.0; second],
        })
    }

    /// Learning rate of the next update.
    pub fn current_lr(&self) -> f32 {
        let base = match self.rule {
            Rule::Adam(c) => c.lr,
            Rule::Sgd(c) => c.lr,
        };
        self.schedule.lr(base, self.iteration)
    }

    /// Applies one update to the parameters in `ranges` (the trainable ones); the others and
    /// their optimiser state are left untouched.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32], ranges: &[Range<usize>]) {
        assert_eq!(
            params.len(),
            self.state_a.len(),
            "optimiser built for another model"
        );
        let lr = self.current_lr();
        self.iteration += 1;
        for r in ranges {
            let (p, g) = (&mut params[r.clone()], &grads[r.clone()]);
            match self.rule {
                Rule::Adam(c) => {
                    let c = AdamConfig { lr, ..c };
                    adam_step(
                        &c,
                        self.iteration,
                        p,
                        g,
                        &mut self.state_a[r.clone()],
                        &mut self.state_b[r.clone()],
                    );
                }
                Rule::Sgd(c) => {
                    sgd_step(&SgdConfig { lr, ..c }, p, g, &mut self.state_a[r.clone()])
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let step = Schedule::Step {
            factor: 0.2,
            at: vec![10, 20],
        };
        assert_eq!(step.lr(1e-4, 0), 1e-4);
        assert!((step.lr(1e-4, 10) - 2e-5).abs() < 1e-12);
        assert!((step.lr(1e-4, 25) - 4e-6).abs() < 1e-12);
        let lin = Schedule::Linear {
            end: 0.0001,
            over: 100,
        };
        assert!((lin.lr(0.003, 50) - 0.00155).abs() < 1e-7);
        assert!((lin.lr(0.003, 1000) - 0.0001).abs() < 1e-9);
        let cos = Schedule::Cosine { end: 0.0, over: 10 };
        assert!((cos.lr(1.0, 5) - 0.5).abs() < 1e-6);
        assert_eq!(cos.lr(1.0, 0), 1.0);
    }
}
