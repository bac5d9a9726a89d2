//! Models built from arbitrary layer stacks and shapes: every constructor returns a network or
//! an error (never a panic), and a network that builds runs a forward and backward pass with a
//! finite loss.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::layers::*;
use zcnn::loss::{Loss, TargetBatch};
use zcnn::model::{Head, Model};
use zcnn::sequential::Sequential;
use zcnn::Dims;

/// Padding from one byte: valid, same, or explicit (before, after) in 0..3.
fn padding(b: u8) -> Padding {
    match b % 4 {
        0 => Padding::Valid,
        1 => Padding::Same,
        _ => Padding::Explicit((b / 4 % 3) as usize, (b / 12 % 3) as usize),
    }
}

/// Appends the layer described by four bytes; sizes stay small so memory stays bounded.
fn push(seq: &mut Sequential, op: &[u8]) -> zcnn::Result<()> {
    let (k, s, p, c) = (
        (op[1] % 6) as usize,
        (op[2] % 4) as usize,
        padding(op[3]),
        1 + (op[1] / 6 % 5) as usize,
    );
    match op[0] % 12 {
        0 => seq.push_with(|d| Conv1d::new(d, c, k, s, p, 1 + (op[2] / 4 % 3) as usize)),
        1 => seq.push_with(|d| Conv2d::new(d, c, k, s, p, 1 + (op[2] / 4 % 2) as usize)),
        2 => seq.push_with(|d| MaxPool::new(d, k, s, p)),
        3 => seq.push_with(|d| AvgPool::new(d, k, s, p)),
        4 => seq.push_with(BatchNorm::new),
        5 => seq.push_with(Relu::new),
        6 => seq.push_with(|d| LeakyRelu::new(d, (op[3] % 50) as f32 / 100.0)),
        7 => seq.push_with(|d| Prelu::new(d, 0.25)),
        8 => seq.push_with(|d| Dropout::new(d, (op[3] % 10) as f32 / 10.0)),
        9 => seq.push_with(Flatten::new),
        10 => seq.push_with(|d| Dense::new(d, c)),
        _ => seq.push_with(GlobalAvgPool::new),
    }
    .map(|_| ())
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let input = match data[0] % 2 {
        0 => Dims::Seq {
            len: 1 + (data[1] % 24) as usize,
            ch: 1 + (data[2] % 4) as usize,
        },
        _ => Dims::Image {
            h: 1 + (data[1] % 12) as usize,
            w: 1 + (data[2] % 12) as usize,
            ch: 1 + (data[3] % 4) as usize,
        },
    };
    let mut trunk = Sequential::new(input);
    for op in data[4..].chunks_exact(4).take(8) {
        if push(&mut trunk, op).is_err() {
            return;
        }
    }
    let mut head = Sequential::new(trunk.out_dims());
    if head
        .push_with(Flatten::new)
        .and_then(|h| h.push_with(|d| Dense::new(d, 3)))
        .is_err()
    {
        return;
    }
    let Ok(mut model) = Model::new(trunk, vec![Head::new("z", head, Loss::CrossEntropy)], 0, 7)
    else {
        return;
    };
    let batch = 2;
    let x: Vec<f32> = (0..batch * input.size())
        .map(|i| ((i * 37 % 11) as f32 - 5.0) / 5.0)
        .collect();
    model
        .forward(&x, &[], batch, Mode::Train)
        .expect("shapes were checked");
    let mut losses = [0.0];
    let loss = model
        .compute_loss(&[TargetBatch::Classes(vec![0, 2])], batch, &mut losses)
        .expect("valid labels");
    assert!(loss.is_finite(), "loss {loss} for input {input}");
    model.backward(&x, batch, Mode::Train);
    assert!(
        model.grads().iter().all(|g| g.is_finite()),
        "non-finite gradient"
    );
});
