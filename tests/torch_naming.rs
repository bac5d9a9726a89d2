//! PyTorch layouts and names: export → import round trips of every preset, the flatten column
//! permutation, the naming schemes, and every error of `Model::import_torch`.

mod common_models;

use common_models::{tiny_1d, tiny_2d};
use zcnn::dims::Dims;
use zcnn::kernels::gradcheck::random_vec;
use zcnn::layers::*;
use zcnn::loss::Loss;
use zcnn::model::{Head, Model};
use zcnn::presets::{kim_brunner, pasquet, specz_baseline, Output};
use zcnn::sequential::Sequential;
use zcnn::torch::{TensorData, TorchTensor};

/// Evaluation outputs of every head on `batch` random samples drawn from `seed`.
fn predict_random(model: &mut Model, batch: usize, seed: u64) -> Vec<Vec<f32>> {
    let x = random_vec(seed, batch * model.in_dims().size(), 1.0);
    let extra = random_vec(seed + 1, batch * model.n_extra(), 1.0);
    eval_outputs(model, &x, &extra, batch)
}

fn eval_outputs(model: &mut Model, x: &[f32], extra: &[f32], batch: usize) -> Vec<Vec<f32>> {
    model.forward(x, extra, batch, Mode::Eval).unwrap();
    (0..model.heads().len())
        .map(|h| model.output(h, batch).to_vec())
        .collect()
}

/// Two training-mode passes, so that batch-norm statistics and counters leave their defaults.
fn train_passes(model: &mut Model, batch: usize, seed: u64) {
    for k in 0..2 {
        let x = random_vec(seed + k, batch * model.in_dims().size(), 1.0);
        let extra = random_vec(seed + 7, batch * model.n_extra(), 1.0);
        model.forward(&x, &extra, batch, Mode::Train).unwrap();
    }
}

/// Exports `a`, imports into `b` (same architecture, other seed) and checks that both give
/// bit-identical predictions and re-export identically.
fn assert_round_trip(mut a: Model, mut b: Model, batch: usize) {
    train_passes(&mut a, batch, 11);
    assert_ne!(
        a.params(),
        b.params(),
        "the two models must start different"
    );
    let exported = a.export_torch();
    b.import_torch(exported.clone()).unwrap();
    assert_eq!(a.params(), b.params());
    assert_eq!(b.export_torch(), exported);
    let pa = predict_random(&mut a, batch, 5);
    let pb = predict_random(&mut b, batch, 5);
    assert_eq!(pa, pb);
}

fn specz(seed: u64) -> Model {
    let classes = Output::Classes {
        k: 800,
        loss: Loss::CrossEntropy,
    };
    specz_baseline(1780, classes, seed).unwrap()
}

fn kim(seed: u64) -> Model {
    let classes = Output::Classes {
        k: 2,
        loss: Loss::CrossEntropy,
    };
    kim_brunner(classes, seed).unwrap()
}

fn pasq(seed: u64) -> Model {
    let classes = Output::Classes {
        k: 180,
        loss: Loss::CrossEntropy,
    };
    pasquet(classes, seed).unwrap()
}

fn names(model: &Model) -> Vec<String> {
    model.export_torch().into_iter().map(|t| t.name).collect()
}

fn shape_of(model: &Model, name: &str) -> Vec<usize> {
    let t = model.export_torch();
    t.iter().find(|t| t.name == name).unwrap().shape.clone()
}

#[test]
fn specz_baseline_round_trip_and_names() {
    let a = specz(1);
    let mut expected = Vec::new();
    for i in [0, 4, 8] {
        expected.push(format!("{i}.weight"));
        expected.push(format!("{i}.bias"));
        for name in [
            "weight",
            "bias",
            "running_mean",
            "running_var",
            "num_batches_tracked",
        ] {
            expected.push(format!("{}.{name}", i + 3));
        }
    }
    expected.extend(["14.weight", "14.bias", "16.weight", "16.bias"].map(String::from));
    assert_eq!(names(&a), expected);
    assert_eq!(shape_of(&a, "0.weight"), vec![16, 1, 8]);
    assert_eq!(shape_of(&a, "4.weight"), vec![16, 16, 8]);
    assert_eq!(shape_of(&a, "3.num_batches_tracked"), Vec::<usize>::new());
    assert_eq!(shape_of(&a, "14.weight"), vec![512, 16 * 221]);
    assert_eq!(shape_of(&a, "16.weight"), vec![800, 512]);
    assert_round_trip(a, specz(2), 3);
}

#[test]
fn kim_brunner_round_trip_and_names() {
    let a = kim(1);
    let convs = [0, 2, 5, 7, 9, 12, 14, 16];
    let mut expected: Vec<String> = Vec::new();
    for i in convs.iter().chain(&[21, 24, 26]) {
        expected.push(format!("{i}.weight"));
        expected.push(format!("{i}.bias"));
    }
    assert_eq!(names(&a), expected);
    assert_eq!(shape_of(&a, "0.weight"), vec![32, 5, 5, 5]);
    assert_eq!(shape_of(&a, "16.weight"), vec![128, 128, 3, 3]);
    assert_eq!(shape_of(&a, "21.weight"), vec![2048, 128 * 5 * 5]);
    assert_eq!(shape_of(&a, "26.weight"), vec![2, 2048]);
    assert_round_trip(a, kim(2), 2);
}

#[test]
fn pasquet_round_trip_and_names() {
    let a = pasq(1);
    let n = names(&a);
    for name in [
        "0.weight",
        "1.weight",
        "3.branches.0.0.weight",
        "3.branches.0.1.weight",
        "3.branches.1.2.weight",
        "3.branches.3.1.weight",
        "9.branches.2.1.weight",
        "12.weight",
        "14.weight",
        "16.weight",
    ] {
        assert!(n.contains(&name.to_string()), "{name} missing from {n:?}");
    }
    // Block 9 has no 5×5 branch: three branches only.
    assert!(!n.iter().any(|x| x.starts_with("9.branches.3.")));
    assert_eq!(shape_of(&a, "3.branches.1.2.weight"), vec![64, 48, 5, 5]);
    // 8×8×(128 + 128 + 92) flattened features and E(B−V).
    assert_eq!(shape_of(&a, "12.weight"), vec![1024, 8 * 8 * 348 + 1]);
    assert_round_trip(a, pasq(2), 2);
}

#[test]
fn multi_head_models_round_trip() {
    let a = tiny_1d(1);
    let n = names(&a);
    assert!(n.contains(&"trunk.0.weight".to_string()));
    assert!(n.contains(&"trunk.5.num_batches_tracked".to_string()));
    assert!(n.contains(&"heads.class.0.running_var".to_string()));
    assert!(n.contains(&"heads.value.0.weight".to_string()));
    assert_round_trip(a, tiny_1d(2), 4);
    let b = tiny_2d(1);
    assert!(names(&b).contains(&"trunk.3.branches.1.2.weight".to_string()));
    assert_round_trip(b, tiny_2d(2), 3);
}

/// `[len 2, ch 3]` → Flatten → (Dropout, AppendScalars) → Dense: the exported weight's
/// columns follow PyTorch's channels-first flatten, the appended scalar stays last.
#[test]
fn flatten_permutes_dense_columns_to_channels_first() {
    let (len, ch, out) = (2, 3, 2);
    let mut t = Sequential::new(Dims::Seq { len, ch });
    t.push_with(Flatten::new)
        .unwrap()
        .push_with(|d| Dropout::new(d, 0.5))
        .unwrap()
        .push_with(|d| AppendScalars::new(d, 1))
        .unwrap()
        .push_with(|d| Dense::new(d, out))
        .unwrap();
    let mut head = Sequential::new(t.out_dims());
    head.push_with(|d| Dense::new(d, 1)).unwrap();
    let mut model = Model::new(t, vec![Head::new("z", head, Loss::Mse)], 1, 0).unwrap();
    // Our column p·C + c (and 6 for the scalar) holds 100·o + 10·p + c (and 100·o + 99).
    let cols = len * ch + 1;
    for o in 0..out {
        for j in 0..cols {
            let (p, c) = (j / ch, j % ch);
            model.params_mut()[o * cols + j] = if j < len * ch {
                (100 * o + 10 * p + c) as f32
            } else {
                (100 * o + 99) as f32
            };
        }
    }
    let w = model
        .export_torch()
        .into_iter()
        .find(|t| t.name == "3.weight")
        .unwrap();
    let TensorData::F32(w) = w.data else {
        panic!("a float weight")
    };
    // PyTorch's column c·len + p.
    let row0: Vec<f32> = w[..cols].to_vec();
    assert_eq!(row0, vec![0.0, 10.0, 1.0, 11.0, 2.0, 12.0, 99.0]);
    assert_eq!(w[cols..], [100.0, 110.0, 101.0, 111.0, 102.0, 112.0, 199.0]);

    // The same map computed PyTorch's way (channels-first flatten, exported weight) agrees.
    let x = random_vec(3, len * ch, 1.0);
    let ebv = [0.25];
    model.forward(&x, &ebv, 1, Mode::Eval).unwrap();
    let ours_hidden = model.trunk().output(1).to_vec();
    let bias = [0.0; 2];
    for o in 0..out {
        let mut y = bias[o];
        for c in 0..ch {
            for p in 0..len {
                y += w[o * cols + c * len + p] * x[p * ch + c];
            }
        }
        y += w[o * cols + len * ch] * ebv[0];
        assert!(
            (y - ours_hidden[o]).abs() < 1e-4,
            "{y} vs {}",
            ours_hidden[o]
        );
    }
}

/// A trunk ending in a flatten with two heads: each head's first dense layer is permuted.
#[test]
fn heads_after_a_flattened_trunk_are_permuted() {
    let mut t = Sequential::new(Dims::Seq { len: 2, ch: 3 });
    t.push_with(Flatten::new).unwrap();
    let head = |out| {
        let mut h = Sequential::new(Dims::Flat(6));
        h.push_with(|d| Dense::new(d, out)).unwrap();
        h
    };
    let heads = vec![
        Head::new("a", head(1), Loss::Mse),
        Head::new("b", head(1), Loss::Mse),
    ];
    let mut model = Model::new(t, heads, 0, 0).unwrap();
    for (j, w) in model.params_mut()[..6].iter_mut().enumerate() {
        *w = j as f32;
    }
    let exported = model.export_torch();
    let w = exported
        .iter()
        .find(|t| t.name == "heads.a.0.weight")
        .unwrap();
    assert_eq!(w.data, TensorData::F32(vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]));
}

#[test]
fn head_names_must_suit_pytorch_modules() {
    let make = |names: [&str; 2]| {
        let mut t = Sequential::new(Dims::Flat(3));
        t.push_with(Relu::new).unwrap();
        let heads = names
            .iter()
            .map(|n| {
                let mut h = Sequential::new(Dims::Flat(3));
                h.push_with(|d| Dense::new(d, 1)).unwrap();
                Head::new(*n, h, Loss::Mse)
            })
            .collect();
        Model::new(t, heads, 0, 0)
    };
    assert!(make(["z", "z"])
        .err()
        .unwrap()
        .0
        .contains("two heads are named 'z'"));
    assert!(make(["a.b", "c"]).err().unwrap().0.contains("'a.b'"));
    assert!(make(["a", "b"]).is_ok());
}

fn tensor_mut<'a>(tensors: &'a mut [TorchTensor], name: &str) -> &'a mut TorchTensor {
    tensors.iter_mut().find(|t| t.name == name).unwrap()
}

/// Every import error names the tensor and what is wrong, and leaves the model unchanged.
#[test]
fn import_errors_are_clear_and_change_nothing() {
    let mut model = tiny_1d(1);
    let good = tiny_1d(2).export_torch();
    let before = model.export_torch();
    let mut check = |tensors: Vec<TorchTensor>, needles: &[&str]| {
        let err = model.import_torch(tensors).expect_err("must fail").0;
        for n in needles {
            assert!(err.contains(n), "'{n}' not in: {err}");
        }
        assert_eq!(
            model.export_torch(),
            before,
            "a failed import changed the model"
        );
    };

    let mut missing = good.clone();
    missing.retain(|t| t.name != "trunk.2.bias");
    check(missing, &["missing tensors 'trunk.2.bias'"]);

    let mut extra = good.clone();
    let mut stray = extra[0].clone();
    stray.name = "trunk.99.weight".into();
    extra.push(stray);
    check(extra, &["unexpected tensors 'trunk.99.weight'"]);

    let mut shape = good.clone();
    tensor_mut(&mut shape, "trunk.0.weight").shape = vec![5, 3, 2];
    check(
        shape,
        &[
            "trunk.0.weight",
            "expected shape [5, 2, 3], found [5, 3, 2]",
        ],
    );

    let mut dtype = good.clone();
    tensor_mut(&mut dtype, "trunk.5.num_batches_tracked").data = TensorData::F32(vec![1.0]);
    check(
        dtype,
        &[
            "trunk.5.num_batches_tracked",
            "expected dtype I64, found F32",
        ],
    );

    let mut nan = good.clone();
    if let TensorData::F32(v) = &mut tensor_mut(&mut nan, "heads.class.1.weight").data {
        v[7] = f32::NAN;
    }
    check(nan, &["heads.class.1.weight", "NaN", "index [1, 1]"]);

    let mut inf = good.clone();
    if let TensorData::F32(v) = &mut tensor_mut(&mut inf, "trunk.0.bias").data {
        v[4] = f32::INFINITY;
    }
    check(inf, &["trunk.0.bias", "inf", "index [4]"]);

    let mut negative = good.clone();
    tensor_mut(&mut negative, "trunk.5.num_batches_tracked").data = TensorData::I64(vec![-3]);
    check(negative, &["trunk.5.num_batches_tracked", "negative"]);

    let mut twice = good.clone();
    twice.push(good[0].clone());
    check(twice, &["given twice", &good[0].name]);

    // A single-head checkpoint does not load into a multi-head model: both lists are named.
    check(
        specz(0).export_torch(),
        &["missing tensors", "unexpected tensors", "and "],
    );

    // And the good set loads.
    model.import_torch(good.clone()).unwrap();
    assert_eq!(model.export_torch(), good);
}
