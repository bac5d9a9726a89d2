//! Whole-model gradient checks: the gradient of the summed head losses w.r.t. every
//! parameter, from the model's backward pass, against central finite differences through the
//! whole model and loss (every layer type appears in one of the networks).

mod common_models;

use common_models::{random_data, tiny_1d, tiny_2d, tiny_global_pool};
use zcnn::kernels::gradcheck::{check_gradient, GradCheck};
use zcnn::layers::Mode;
use zcnn::loss::TargetBatch;
use zcnn::model::Model;
use zcnn::train::{Dataset, TargetData};

/// The inputs of a dataset made in memory.
fn memory(data: &Dataset) -> &[f32] {
    data.inputs.in_memory().expect("random data are in memory")
}

fn check_whole_model(name: &str, mut model: Model) {
    let batch = 3;
    let data = random_data(&model, batch, 5);
    let targets: Vec<TargetBatch> = data
        .targets
        .iter()
        .map(|t| match t {
            TargetData::Classes(c) => TargetBatch::Classes(c.clone()),
            TargetData::Values { values, .. } => TargetBatch::Values(values.clone()),
        })
        .collect();
    // Dropout must draw the same mask in every evaluation of the loss.
    let rng0 = model.dropout_rng_mut().clone();
    let mut losses = vec![0.0; model.heads().len()];
    let mut loss_at = |model: &mut Model, params: &[f32]| -> f64 {
        model.params_mut().copy_from_slice(params);
        *model.dropout_rng_mut() = rng0.clone();
        model
            .forward(memory(&data), &data.extra, batch, Mode::Train)
            .unwrap();
        model.compute_loss(&targets, batch, &mut losses).unwrap() as f64
    };
    let mut params = model.params().to_vec();
    loss_at(&mut model, &params);
    model.backward(memory(&data), batch, Mode::Train);
    let analytic = model.grads().to_vec();
    assert!(
        analytic.iter().any(|&g| g != 0.0),
        "{name}: all gradients are zero"
    );
    let cfg = GradCheck {
        eps: 3e-3,
        rtol: 1e-2,
        floor: 1e-2,
        max_probes: 0,
    };
    let kinks = check_gradient(
        name,
        &mut params,
        &analytic,
        |p| loss_at(&mut model, p),
        cfg,
    );
    eprintln!(
        "{name}: {} parameters checked, {kinks} kinks skipped",
        params.len()
    );
}

#[test]
fn gradients_of_a_1d_network_with_two_heads() {
    check_whole_model("tiny_1d", tiny_1d(1));
}

#[test]
fn gradients_of_a_2d_network_with_inception_extra_inputs_and_two_heads() {
    check_whole_model("tiny_2d", tiny_2d(2));
}

#[test]
fn gradients_of_a_network_with_global_pooling() {
    check_whole_model("tiny_global_pool", tiny_global_pool(3));
}

/// A frozen batch norm runs in evaluation mode with its running statistics as constants: the
/// gradients flowing through it (to the layers below and to its own γ and β) come from the
/// evaluation-mode backward. Training passes first bring the running statistics near the
/// batch's (momentum 0.1), as in a trained model.
#[test]
fn gradients_through_a_frozen_batch_norm() {
    let mut model = tiny_1d(1);
    let data = random_data(&model, 3, 6);
    for _ in 0..30 {
        model
            .forward(memory(&data), &data.extra, 3, Mode::Train)
            .unwrap();
    }
    let frozen: Vec<usize> = (0..model.trunk().layers().len())
        .filter(|&i| model.trunk().layers()[i].kind() == "batchnorm")
        .collect();
    assert!(!frozen.is_empty(), "tiny_1d has no batch norm");
    for i in frozen {
        model.set_trunk_layer_frozen(i, true);
    }
    check_whole_model("tiny_1d, batch norm frozen", model);
}
