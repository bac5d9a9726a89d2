//! The workloads shared by the model benchmarks (`models.rs`) and the fixed-time runner that
//! `scripts/bench_vs_pytorch.sh` compares with PyTorch (`throughput.rs`).
//!
//! Each workload is a reference architecture with one batch of random inputs and random class
//! labels, trained with Adam (lr 1e-4) and cross-entropy: the same setting as the peer script
//! `scripts/peers/torch_bench.py` (which also uses Adam for kim-brunner and pasquet, whose
//! papers used SGD with Nesterov momentum and Adam with a step schedule). Pasquet's extra input,
//! E(B−V), is random too.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn::kernels::optim::AdamConfig;
use zcnn::layers::Mode;
use zcnn::loss::Loss;
use zcnn::model::Model;
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::presets::{kim_brunner, pasquet, specz_baseline, Output};
use zcnn::train::{Dataset, TargetData, TrainConfig, Trainer};

/// Spectrum length of specz-baseline.
const SPECTRUM_LEN: usize = 1780;

/// The architectures compared with PyTorch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// specz-baseline with 800 classes (input 1×1780).
    SpeczBaseline,
    /// kim-brunner with 2 classes (input 5×44×44).
    KimBrunner,
    /// pasquet with 180 classes (input 5×64×64 and E(B−V)).
    Pasquet,
}

impl Preset {
    /// The preset named `name` (`specz-baseline`, `kim-brunner` or `pasquet`).
    #[allow(dead_code)] // used by throughput.rs only
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "specz-baseline" => Some(Preset::SpeczBaseline),
            "kim-brunner" => Some(Preset::KimBrunner),
            "pasquet" => Some(Preset::Pasquet),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::SpeczBaseline => "specz-baseline",
            Preset::KimBrunner => "kim-brunner",
            Preset::Pasquet => "pasquet",
        }
    }

    fn classes(self) -> usize {
        match self {
            Preset::SpeczBaseline => 800,
            Preset::KimBrunner => 2,
            Preset::Pasquet => 180,
        }
    }

    fn build(self, seed: u64) -> Model {
        let output = Output::Classes {
            k: self.classes(),
            loss: Loss::CrossEntropy,
        };
        let model = match self {
            Preset::SpeczBaseline => specz_baseline(SPECTRUM_LEN, output, seed),
            Preset::KimBrunner => kim_brunner(output, seed),
            Preset::Pasquet => pasquet(output, seed),
        };
        model.expect("the preset builds")
    }
}

/// A model with one batch of random data, its trainer and its optimiser.
pub struct Workload {
    pub batch: usize,
    pub model: Model,
    data: Dataset,
    indices: Vec<usize>,
    trainer: Trainer,
    opt: Optimizer,
}

impl Workload {
    /// `preset` with `batch` random samples (inputs and extra scalars uniform in [-1, 1), labels
    /// uniform over the classes), every buffer allocated.
    pub fn new(preset: Preset, batch: usize) -> Self {
        let mut model = preset.build(1);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let sample = model.in_dims();
        let inputs: Vec<f32> = (0..batch * sample.size())
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let n_extra = model.n_extra();
        let extra: Vec<f32> = (0..batch * n_extra)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let labels = (0..batch)
            .map(|_| rng.gen_range(0..preset.classes() as u32))
            .collect();
        let data = Dataset {
            sample,
            inputs: inputs.into(),
            n_extra,
            extra,
            targets: vec![TargetData::Classes(labels)],
        };
        let config = TrainConfig {
            batch,
            ..TrainConfig::default()
        };
        let trainer = Trainer::new(&model, &data, config).expect("data match the model");
        let adam = AdamConfig {
            lr: 1e-4,
            ..AdamConfig::default()
        };
        let opt = Optimizer::new(Rule::Adam(adam), Schedule::Constant, model.param_count())
            .expect("a valid learning rate");
        model.prepare(batch);
        Workload {
            batch,
            model,
            data,
            indices: (0..batch).collect(),
            trainer,
            opt,
        }
    }

    /// One training step on the batch (forward, loss, backward, Adam); returns the loss.
    pub fn train_step(&mut self) -> f32 {
        self.trainer
            .step(&mut self.model, &mut self.opt, &self.data, &self.indices)
            .expect("a finite training loss")
    }

    /// One inference pass over the batch (evaluation mode: running statistics, no dropout).
    pub fn infer(&mut self) {
        self.model
            .forward(
                self.data
                    .inputs
                    .in_memory()
                    .expect("random inputs are in memory"),
                &self.data.extra,
                self.batch,
                Mode::Eval,
            )
            .expect("inputs match the model");
    }
}
