//! End-to-end behaviour of the engine: learning a synthetic task, frozen layers, determinism
//! across thread counts, and the presets' parameter counts.

mod common_models;

use common_models::{random_data, tiny_1d, tiny_2d};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::ops::ControlFlow;
use zcnn::dims::Dims;
use zcnn::kernels::optim::{AdamConfig, SgdConfig};
use zcnn::layers::*;
use zcnn::loss::Loss;
use zcnn::model::{Head, Model};
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::presets::{kim_brunner, pasquet, specz_baseline, Output};
use zcnn::sequential::Sequential;
use zcnn::train::{
    evaluate, Dataset, EarlyStopping, Sampling, StopMetric, TargetData, TrainConfig, Trainer,
};

const LEN: usize = 64;
const CLASSES: usize = 8;

/// Noisy sequences with one Gaussian peak; the class is the peak's position in eighths.
fn peak_data(n: usize, seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut inputs = Vec::with_capacity(n * LEN);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let pos = rng.gen_range(0.0..LEN as f32);
        for i in 0..LEN {
            let d = (i as f32 - pos) / 1.5;
            inputs.push((-0.5 * d * d).exp() + 0.1 * rng.gen_range(-1.0f32..1.0));
        }
        labels.push((pos as usize * CLASSES / LEN) as u32);
    }
    Dataset {
        sample: Dims::Seq { len: LEN, ch: 1 },
        inputs: inputs.into(),
        n_extra: 0,
        extra: vec![],
        targets: vec![TargetData::Classes(labels)],
    }
}

fn peak_model(seed: u64) -> Model {
    let mut t = Sequential::new(Dims::Seq { len: LEN, ch: 1 });
    t.push_with(|d| Conv1d::new(d, 8, 5, 1, Padding::Same, 1))
        .unwrap()
        .push_with(Relu::new)
        .unwrap()
        .push_with(|d| MaxPool::new(d, 2, 2, Padding::Valid))
        .unwrap()
        .push_with(|d| Conv1d::new(d, 8, 5, 1, Padding::Same, 1))
        .unwrap()
        .push_with(Relu::new)
        .unwrap()
        .push_with(BatchNorm::new)
        .unwrap()
        .push_with(Flatten::new)
        .unwrap();
    let mut h = Sequential::new(t.out_dims());
    h.push_with(|d| Dense::new(d, CLASSES)).unwrap();
    Model::new(
        t,
        vec![Head::new("position", h, Loss::CrossEntropy)],
        0,
        seed,
    )
    .unwrap()
}

fn adam(lr: f32, n: usize) -> Optimizer {
    Optimizer::new(
        Rule::Adam(AdamConfig {
            lr,
            ..AdamConfig::default()
        }),
        Schedule::Constant,
        n,
    )
    .unwrap()
}

#[test]
fn a_small_cnn_learns_the_position_of_a_peak() {
    let (train, val) = (peak_data(2000, 1), peak_data(500, 2));
    let mut model = peak_model(3);
    let mut opt = adam(3e-3, model.param_count());
    let config = TrainConfig {
        batch: 32,
        epochs: 6,
        seed: 4,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, &train, config).unwrap();
    let history = trainer
        .fit(&mut model, &mut opt, &train, Some(&val), &mut |_, _, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
    let (_, acc) = evaluate(&mut model, &val, 64).unwrap();
    let acc = acc[0].unwrap();
    eprintln!(
        "peak task: validation accuracy {acc:.3} after {} epochs",
        history.epochs.len()
    );
    assert!(
        acc >= 0.9,
        "validation accuracy {acc} < 0.9 (chance is {})",
        1.0 / CLASSES as f32
    );
    assert!(history.epochs.last().unwrap().train_loss < history.epochs[0].train_loss);
}

#[test]
fn a_frozen_trunk_stays_bit_identical_while_the_heads_train() {
    let mut model = tiny_1d(5);
    let data = random_data(&model, 40, 6);
    let mut opt = adam(1e-2, model.param_count());
    let config = TrainConfig {
        batch: 8,
        epochs: 1,
        seed: 7,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, &data, config).unwrap();
    let mut go = |_: zcnn::train::Event, _: &Model, _: &Optimizer| ControlFlow::Continue(());
    trainer
        .fit(&mut model, &mut opt, &data, None, &mut go)
        .unwrap();

    model.set_trunk_frozen(true);
    let trunk = model.trunk_range();
    let before = model.params().to_vec();
    let state_before: Vec<Vec<f32>> = model
        .trunk()
        .layers()
        .iter()
        .flat_map(|l| l.state())
        .map(|(_, s)| s.to_vec())
        .collect();
    trainer
        .fit(&mut model, &mut opt, &data, None, &mut go)
        .unwrap();
    let after = model.params();
    assert_eq!(
        &before[trunk.clone()],
        &after[trunk.clone()],
        "trunk parameters changed"
    );
    assert_ne!(
        &before[trunk.end..],
        &after[trunk.end..],
        "heads did not train"
    );
    let state_after: Vec<Vec<f32>> = model
        .trunk()
        .layers()
        .iter()
        .flat_map(|l| l.state())
        .map(|(_, s)| s.to_vec())
        .collect();
    assert_eq!(
        state_before, state_after,
        "trunk batch-norm statistics changed"
    );
}

/// Trains `model` for a few steps inside a rayon pool of `threads` threads.
fn params_after_training(threads: usize, build: fn(u64) -> Model, rule: Rule) -> Vec<f32> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut model = build(11);
        let data = random_data(&model, 48, 12);
        let mut opt = Optimizer::new(rule, Schedule::Constant, model.param_count()).unwrap();
        let config = TrainConfig {
            batch: 24,
            epochs: 2,
            seed: 13,
            sampling: Sampling::Shuffle,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(&model, &data, config).unwrap();
        trainer
            .fit(&mut model, &mut opt, &data, None, &mut |_, _, _| {
                ControlFlow::Continue(())
            })
            .unwrap();
        model.params().to_vec()
    })
}

/// 1, 2, 3, 7 and 17 threads: pools larger than the machine run fine, and the kernels split
/// work by shape alone (17 threads exceed the 16 batch chunks of the weight-gradient sums).
#[test]
fn the_same_seed_gives_bit_identical_weights_for_any_thread_count() {
    let adam = Rule::Adam(AdamConfig {
        lr: 1e-2,
        ..AdamConfig::default()
    });
    let sgd = Rule::Sgd(SgdConfig {
        lr: 1e-2,
        momentum: 0.9,
        nesterov: true,
        weight_decay: 1e-4,
    });
    for (name, build, rule) in [
        ("tiny_1d", tiny_1d as fn(u64) -> Model, adam),
        ("tiny_2d", tiny_2d, sgd),
    ] {
        let one = params_after_training(1, build, rule);
        for threads in [2, 3, 7, 17] {
            let other = params_after_training(threads, build, rule);
            let differ = one
                .iter()
                .zip(&other)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(
                differ,
                0,
                "{name}: {differ} of {} parameters differ between 1 and {threads} threads",
                one.len()
            );
        }
        assert_ne!(one, build(11).params(), "{name}: training changed nothing");
    }
}

#[test]
fn preset_parameter_counts_match_pytorch() {
    let ce = Loss::CrossEntropy;
    assert_eq!(
        specz_baseline(1780, Output::Classes { k: 800, loss: ce }, 0)
            .unwrap()
            .param_count(),
        2_225_712
    );
    assert_eq!(
        specz_baseline(1780, Output::Classes { k: 80, loss: ce }, 0)
            .unwrap()
            .param_count(),
        1_856_352
    );
    assert_eq!(
        specz_baseline(1780, Output::Regression, 0)
            .unwrap()
            .param_count(),
        1_815_825
    );
    assert_eq!(
        kim_brunner(Output::Classes { k: 2, loss: ce }, 0)
            .unwrap()
            .param_count(),
        11_230_754
    );
    let p = pasquet(Output::Classes { k: 180, loss: ce }, 0).unwrap();
    assert_eq!(p.trunk().out_dims(), Dims::Flat(1024));
    assert_eq!(
        p.in_dims(),
        Dims::Image {
            h: 64,
            w: 64,
            ch: 5
        }
    );
}

#[test]
fn a_head_can_be_replaced_with_another_number_of_classes_and_trained_alone() {
    let mut model = peak_model(21);
    let trunk = model.trunk_range();
    let trunk_before = model.params()[trunk.clone()].to_vec();
    let mut h = Sequential::new(model.trunk().out_dims());
    h.push_with(|d| Dense::new(d, 4)).unwrap();
    model
        .replace_head(0, Head::new("position", h, Loss::CrossEntropy), 22)
        .unwrap();
    assert_eq!(model.heads()[0].outputs(), 4);
    assert_eq!(
        &model.params()[trunk.clone()],
        &trunk_before[..],
        "replacing a head changed the trunk"
    );
    // Four classes: the peak position in quarters.
    let mut data = peak_data(400, 23);
    if let TargetData::Classes(labels) = &mut data.targets[0] {
        labels.iter_mut().for_each(|l| *l /= 2);
    }
    model.set_trunk_frozen(true);
    let mut opt = adam(1e-2, model.param_count());
    let mut trainer = Trainer::new(
        &model,
        &data,
        TrainConfig {
            batch: 32,
            epochs: 2,
            ..TrainConfig::default()
        },
    )
    .unwrap();
    trainer
        .fit(&mut model, &mut opt, &data, None, &mut |_, _, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(
        &model.params()[trunk],
        &trunk_before[..],
        "the frozen trunk changed"
    );
    let bad = Sequential::new(Dims::Flat(3));
    assert!(model
        .replace_head(0, Head::new("x", bad, Loss::CrossEntropy), 1)
        .is_err());
}

#[test]
fn early_stopping_iteration_limits_and_sampling_with_replacement() {
    let (train, val) = (peak_data(64, 31), peak_data(64, 32));
    // A learning rate so small that the validation loss cannot improve for long: patience 1
    // stops the run well before 50 epochs, and the best epoch's parameters come back.
    let mut model = peak_model(33);
    let mut opt = adam(1e-9, model.param_count());
    let es = EarlyStopping {
        metric: StopMetric::ValLoss,
        patience: 1,
        restore_best: true,
    };
    let config = TrainConfig {
        batch: 16,
        epochs: 50,
        early_stopping: Some(es),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, &train, config).unwrap();
    let h = trainer
        .fit(&mut model, &mut opt, &train, Some(&val), &mut |_, _, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
    assert!(
        h.stopped_early && h.epochs.len() < 50,
        "ran {} epochs",
        h.epochs.len()
    );
    assert!(h.best_epoch.is_some());

    // A fixed number of updates, drawing with replacement.
    let mut model = peak_model(34);
    let mut opt = adam(1e-3, model.param_count());
    let config = TrainConfig {
        batch: 16,
        epochs: 100,
        max_iterations: Some(7),
        sampling: Sampling::WithReplacement,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, &train, config).unwrap();
    trainer
        .fit(&mut model, &mut opt, &train, None, &mut |_, _, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(opt.iteration, 7);

    // The callback can stop a run (Ctrl-C in the command line).
    let mut model = peak_model(35);
    let mut opt = adam(1e-3, model.param_count());
    let mut trainer = Trainer::new(
        &model,
        &train,
        TrainConfig {
            batch: 16,
            epochs: 5,
            ..TrainConfig::default()
        },
    )
    .unwrap();
    let h = trainer
        .fit(&mut model, &mut opt, &train, None, &mut |_, _, _| {
            ControlFlow::Break(())
        })
        .unwrap();
    assert!(h.interrupted);
    assert_eq!(opt.iteration, 1);
}
