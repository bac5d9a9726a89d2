//! Small models shared by the engine's integration tests (included with `mod common_models;`).
#![allow(dead_code)]

use zcnn::dims::Dims;
use zcnn::layers::*;
use zcnn::loss::Loss;
use zcnn::model::{Head, Model};
use zcnn::sequential::Sequential;
use zcnn::train::{Dataset, TargetData};

/// A 1D network with every 1D layer type, and a classification and a regression head.
pub fn tiny_1d(seed: u64) -> Model {
    let mut t = Sequential::new(Dims::Seq { len: 13, ch: 2 });
    t.push_with(|d| Conv1d::new(d, 5, 3, 1, Padding::Same, 1))
        .unwrap()
        .push_with(Relu::new)
        .unwrap()
        .push_with(|d| Conv1d::new(d, 4, 3, 2, Padding::Explicit(1, 0), 2))
        .unwrap()
        .push_with(|d| Prelu::new(d, 0.2))
        .unwrap()
        .push_with(|d| MaxPool::new(d, 2, 1, Padding::Valid))
        .unwrap()
        .push_with(BatchNorm::new)
        .unwrap()
        .push_with(|d| AvgPool::new(d, 2, 1, Padding::Same))
        .unwrap()
        .push_with(|d| LeakyRelu::new(d, 0.1))
        .unwrap()
        .push_with(Flatten::new)
        .unwrap()
        .push_with(|d| Dropout::new(d, 0.3))
        .unwrap()
        .push_with(|d| Dense::new(d, 6))
        .unwrap();
    let mut cls = Sequential::new(t.out_dims());
    cls.push_with(BatchNorm::new)
        .unwrap()
        .push_with(|d| Dense::new(d, 4))
        .unwrap();
    let mut reg = Sequential::new(t.out_dims());
    reg.push_with(|d| Dense::new(d, 2)).unwrap();
    let heads = vec![
        Head::new("class", cls, Loss::CrossEntropy),
        Head::new("value", reg, Loss::Mse),
    ];
    Model::new(t, heads, 0, seed).unwrap()
}

/// A 2D network with every 2D layer type, an inception block, extra scalars and two heads
/// (soft targets with the JS + entropy loss, and KL).
pub fn tiny_2d(seed: u64) -> Model {
    let input = Dims::Image { h: 7, w: 6, ch: 2 };
    let mut t = Sequential::new(input);
    t.push_with(|d| Conv2d::new(d, 4, 3, 1, Padding::Same, 1))
        .unwrap()
        .push_with(|d| LeakyRelu::new(d, 0.05))
        .unwrap()
        .push_with(|d| MaxPool::new(d, 2, 1, Padding::Valid))
        .unwrap();
    let d = t.out_dims();
    let mut b1 = Sequential::new(d);
    b1.push_with(|d| Conv2d::new(d, 3, 1, 1, Padding::Valid, 1))
        .unwrap();
    let mut b2 = Sequential::new(d);
    b2.push_with(|d| Conv2d::new(d, 2, 1, 1, Padding::Valid, 1))
        .unwrap()
        .push_with(|d| Prelu::new(d, 0.0))
        .unwrap()
        .push_with(|d| Conv2d::new(d, 3, 3, 1, Padding::Same, 1))
        .unwrap();
    let mut b3 = Sequential::new(d);
    b3.push_with(|d| AvgPool::new(d, 2, 1, Padding::Same))
        .unwrap();
    t.push_with(|d| Inception::new(d, vec![b1, b2, b3]))
        .unwrap()
        .push_with(|d| Conv2d::new(d, 3, 2, 2, Padding::Explicit(0, 1), 1))
        .unwrap()
        .push_with(|d| AvgPool::new(d, 2, 1, Padding::Explicit(1, 0)))
        .unwrap();
    t.push_with(Flatten::new)
        .unwrap()
        .push_with(|d| AppendScalars::new(d, 2))
        .unwrap()
        .push_with(|d| Dense::new(d, 5))
        .unwrap()
        .push_with(Relu::new)
        .unwrap();
    let mut js = Sequential::new(t.out_dims());
    js.push_with(|d| Dense::new(d, 4)).unwrap();
    let mut kl = Sequential::new(t.out_dims());
    kl.push_with(|d| Dense::new(d, 3)).unwrap();
    let heads = vec![
        Head::new(
            "js",
            js,
            Loss::JsEntropy {
                lambda1: 0.9,
                lambda2: 0.1,
            },
        ),
        Head::new("kl", kl, Loss::Kl),
    ];
    Model::new(t, heads, 2, seed).unwrap()
}

/// A 2D network ending in global average pooling (the one layer `tiny_2d` cannot chain).
pub fn tiny_global_pool(seed: u64) -> Model {
    let mut t = Sequential::new(Dims::Image { h: 5, w: 4, ch: 3 });
    t.push_with(|d| Conv2d::new(d, 4, 3, 1, Padding::Same, 1))
        .unwrap()
        .push_with(GlobalAvgPool::new)
        .unwrap();
    let mut h = Sequential::new(t.out_dims());
    h.push_with(|d| Dense::new(d, 3)).unwrap();
    Model::new(t, vec![Head::new("z", h, Loss::SoftCrossEntropy)], 0, seed).unwrap()
}

/// Random data for `model`: inputs in [-1, 1), targets that suit each head's loss.
pub fn random_data(model: &Model, n: usize, seed: u64) -> Dataset {
    let sample = model.in_dims();
    let inputs = zcnn::kernels::gradcheck::random_vec(seed, n * sample.size(), 1.0);
    let extra = zcnn::kernels::gradcheck::random_vec(seed + 1, n * model.n_extra(), 1.0);
    let targets = model
        .heads()
        .iter()
        .enumerate()
        .map(|(h, head)| {
            let k = head.outputs();
            match head.loss {
                Loss::CrossEntropy => {
                    TargetData::Classes((0..n).map(|i| ((i * 7 + h) % k) as u32).collect())
                }
                Loss::Mse => TargetData::Values {
                    width: k,
                    values: zcnn::kernels::gradcheck::random_vec(seed + 2, n * k, 1.0),
                },
                _ => {
                    // Rows of a softmax: positive, summing to one.
                    let raw = zcnn::kernels::gradcheck::random_vec(seed + 3 + h as u64, n * k, 2.0);
                    let mut values = Vec::with_capacity(n * k);
                    for row in raw.chunks(k) {
                        let s: f32 = row.iter().map(|v| v.exp()).sum();
                        values.extend(row.iter().map(|v| v.exp() / s));
                    }
                    TargetData::Values { width: k, values }
                }
            }
        })
        .collect();
    Dataset {
        sample,
        inputs: inputs.into(),
        n_extra: model.n_extra(),
        extra,
        targets,
    }
}
