//! Fused inference (a convolution absorbing the batch norm and the activation after it) against
//! the layer-by-layer evaluation pass, on the presets and on convolution → batch norm →
//! activation chains (1D and 2D).

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn::dims::Dims;
use zcnn::layers::*;
use zcnn::loss::{Loss, TargetBatch};
use zcnn::model::{Head, Model};
use zcnn::presets::{kim_brunner, pasquet, specz_baseline, Output};
use zcnn::sequential::Sequential;

fn uniform(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
}

/// Adds noise to every parameter, so that PReLU slopes (which start at 0) and biases differ
/// between channels.
fn perturb(model: &mut Model, seed: u64) {
    let noise = uniform(seed, model.param_count(), 0.05);
    for (p, n) in model.params_mut().iter_mut().zip(noise) {
        *p += n;
    }
}

/// The outputs of head 0 from an evaluation pass with fusion on and off.
fn fused_and_unfused(model: &mut Model, batch: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let x = uniform(seed, batch * model.in_dims().size(), 1.0);
    let extra = uniform(seed + 1, batch * model.n_extra(), 1.0);
    let mut run = |fuse: bool| {
        model.set_inference_fusion(fuse);
        model.forward(&x, &extra, batch, Mode::Eval).unwrap();
        model.output(0, batch).to_vec()
    };
    (run(true), run(false))
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Without a batch norm right after a convolution (specz-baseline's follows the pooling),
/// fusion only moves the bias and the activation into the convolution's write-back, with the
/// same roundings: the outputs are identical bit for bit.
#[test]
fn presets_fused_equal_unfused_bit_for_bit() {
    let output = Output::Classes {
        k: 7,
        loss: Loss::CrossEntropy,
    };
    for (name, mut model) in [
        ("specz-baseline", specz_baseline(1780, output, 2).unwrap()),
        ("kim-brunner", kim_brunner(output, 3).unwrap()),
        ("pasquet", pasquet(output, 4).unwrap()),
    ] {
        perturb(&mut model, 5);
        let (fused, unfused) = fused_and_unfused(&mut model, 3, 6);
        assert!(fused.iter().all(|v| v.is_finite()), "{name}");
        assert_eq!(bits(&fused), bits(&unfused), "{name}");
    }
}

/// 2D: conv → batch norm → leaky ReLU, conv → batch norm, and conv → PReLU, with running
/// statistics moved away from (0, 1) by training-mode passes.
fn conv_bn_model(seed: u64) -> Model {
    let mut t = Sequential::new(Dims::Image { h: 9, w: 8, ch: 3 });
    t.push_with(|d| Conv2d::new(d, 20, 3, 1, Padding::Same, 1))
        .unwrap()
        .push_with(BatchNorm::new)
        .unwrap()
        .push_with(|d| LeakyRelu::new(d, 0.1))
        .unwrap()
        .push_with(|d| Conv2d::new(d, 17, 1, 1, Padding::Valid, 1))
        .unwrap()
        .push_with(BatchNorm::new)
        .unwrap()
        .push_with(|d| Conv2d::new(d, 5, 3, 2, Padding::Same, 1))
        .unwrap()
        .push_with(|d| Prelu::new(d, 0.2))
        .unwrap()
        .push_with(Flatten::new)
        .unwrap();
    trained(t, seed)
}

/// 1D: conv → batch norm → PReLU, conv → ReLU, conv → batch norm.
fn conv1d_bn_model(seed: u64) -> Model {
    let mut t = Sequential::new(Dims::Seq { len: 30, ch: 2 });
    t.push_with(|d| Conv1d::new(d, 20, 5, 1, Padding::Same, 1))
        .unwrap()
        .push_with(BatchNorm::new)
        .unwrap()
        .push_with(|d| Prelu::new(d, 0.2))
        .unwrap()
        .push_with(|d| Conv1d::new(d, 17, 3, 2, Padding::Valid, 1))
        .unwrap()
        .push_with(Relu::new)
        .unwrap()
        .push_with(|d| Conv1d::new(d, 6, 4, 1, Padding::Explicit(1, 2), 2))
        .unwrap()
        .push_with(BatchNorm::new)
        .unwrap()
        .push_with(Flatten::new)
        .unwrap();
    trained(t, seed)
}

/// `trunk` with a dense head of 4 values, its parameters perturbed, after five training-mode
/// passes (which move the batch norms' running statistics).
fn trained(t: Sequential, seed: u64) -> Model {
    let mut head = Sequential::new(t.out_dims());
    head.push_with(|d| Dense::new(d, 4)).unwrap();
    let heads = vec![Head::new("z", head, Loss::Mse)];
    let mut model = Model::new(t, heads, 0, seed).unwrap();
    perturb(&mut model, seed + 1);
    for step in 0..5 {
        let batch = 6;
        let x = uniform(seed + 10 + step, batch * model.in_dims().size(), 2.0);
        model.forward(&x, &[], batch, Mode::Train).unwrap();
    }
    model
}

/// Folding a batch norm moves its scale inside the convolution's sum (`Σ x·(w·s)` instead of
/// `(Σ x·w)·s`, Ioffe & Szegedy's γ/σ folded as in inference engines): one more rounding per
/// product and a different rounding of the shift, so the outputs agree to the rounding of a
/// K-term f32 sum, |Δ| ≤ 1e-4·|y| + 1e-6·K (K = 180 products per output here, the most of
/// either model; the same bound as the convolutions' fast paths against their references), not
/// bit for bit.
#[test]
fn folded_batch_norm_matches_the_layer_by_layer_pass() {
    let k = 180.0;
    for (name, mut model) in [("2d", conv_bn_model(11)), ("1d", conv1d_bn_model(13))] {
        let (fused, unfused) = fused_and_unfused(&mut model, 4, 12);
        assert!(fused.iter().all(|v| v.is_finite()), "{name}");
        for (i, (&f, &u)) in fused.iter().zip(&unfused).enumerate() {
            assert!(
                (f - u).abs() <= 1e-4 * u.abs() + 1e-6 * k,
                "{name} output {i}: fused {f}, unfused {u}"
            );
        }
    }
}

/// A fused pass skips the buffers of the layers it absorbed, so backward after it is refused;
/// a training-mode forward makes backward possible again (and is never fused).
#[test]
#[should_panic(expected = "backward after a fused inference forward")]
fn backward_after_a_fused_forward_is_refused() {
    let mut model = conv_bn_model(21);
    let batch = 2;
    let x = uniform(22, batch * model.in_dims().size(), 1.0);
    let targets = [TargetBatch::Values(uniform(23, batch * 4, 1.0))];
    let mut losses = [0.0];
    model.forward(&x, &[], batch, Mode::Train).unwrap();
    model.compute_loss(&targets, batch, &mut losses).unwrap();
    model.backward(&x, batch, Mode::Train);
    model.forward(&x, &[], batch, Mode::Eval).unwrap();
    model.compute_loss(&targets, batch, &mut losses).unwrap();
    model.backward(&x, batch, Mode::Eval);
}
