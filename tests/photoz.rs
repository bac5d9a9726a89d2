//! Photometric redshifts from image cutouts: the streamed dataset trains exactly as the same
//! cutouts in memory (for any thread count), a small network learns redshift from simulated
//! SDSS cutouts, and the `zcnn` commands run on an image dataset folder.

mod support;

use std::path::Path;
use std::sync::Arc;
use support::{fails, ok, s, scratch};
use zcnn::cli::image_data::ImageRows;
use zcnn::data::images::{simulate_images, ImageSimConfig};
use zcnn::dims::Dims;
use zcnn::io::npy::write_npy;
use zcnn::kernels::optim::AdamConfig;
use zcnn::layers::{Conv2d, Dense, GlobalAvgPool, MaxPool, Padding, Relu};
use zcnn::loss::Loss;
use zcnn::metrics::PointMetrics;
use zcnn::model::{Head, Model};
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::redshift::binning::ZBinning;
use zcnn::redshift::estimates::{point_estimates, PointEstimator};
use zcnn::sequential::Sequential;
use zcnn::train::{predict, Augment, Dataset, Inputs, TargetData, TrainConfig, Trainer};

/// Redshift classes over the `sdss44` range.
const BINS: usize = 20;
const Z_MAX: f64 = 0.4;

/// `n` simulated `sdss44` cutouts written as `dir/images.npy`, and their redshifts.
fn cutouts(dir: &Path, n: usize, seed: u64) -> (Arc<ImageRows>, Vec<f32>) {
    let set = simulate_images(&ImageSimConfig::preset("sdss44", n, seed).unwrap()).unwrap();
    let path = dir.join("images.npy");
    write_npy(
        &path,
        &[n, set.bands.len(), set.size, set.size],
        &set.images,
    )
    .unwrap();
    let z = set.labels.iter().map(|l| l.z as f32).collect();
    (Arc::new(ImageRows::open(&path).unwrap()), z)
}

/// A small network that can read colours and sizes: conv 5×5 (16) → ReLU → max pool 2 →
/// conv 3×3 (32) → ReLU → global average pool → dense 64 → ReLU → BINS classes.
fn colour_net(seed: u64) -> Model {
    let mut trunk = Sequential::new(Dims::Image {
        h: 44,
        w: 44,
        ch: 5,
    });
    trunk
        .push_with(|d| Conv2d::new(d, 16, 5, 1, Padding::Valid, 1))
        .unwrap()
        .push_with(Relu::new)
        .unwrap()
        .push_with(|d| MaxPool::new(d, 2, 2, Padding::Valid))
        .unwrap()
        .push_with(|d| Conv2d::new(d, 32, 3, 1, Padding::Valid, 1))
        .unwrap()
        .push_with(Relu::new)
        .unwrap()
        .push_with(GlobalAvgPool::new)
        .unwrap()
        .push_with(|d| Dense::new(d, 64))
        .unwrap()
        .push_with(Relu::new)
        .unwrap();
    let mut head = Sequential::new(trunk.out_dims());
    head.push_with(|d| Dense::new(d, BINS)).unwrap();
    Model::new(
        trunk,
        vec![Head::new("z", head, Loss::CrossEntropy)],
        0,
        seed,
    )
    .unwrap()
}

fn classes(z: &[f32]) -> TargetData {
    let bins = ZBinning::new(0.0, Z_MAX, BINS).unwrap();
    TargetData::Classes(
        z.iter()
            .map(|&v| bins.bin_of(v as f64).unwrap() as u32)
            .collect(),
    )
}

/// Trains `colour_net` on `data` for `epochs` with the dihedral augmentation; the parameters.
fn train(data: &Dataset, epochs: usize) -> Model {
    let mut model = colour_net(3);
    let rule = Rule::Adam(AdamConfig {
        lr: 3e-3,
        ..AdamConfig::default()
    });
    let mut opt = Optimizer::new(rule, Schedule::Constant, model.param_count()).unwrap();
    let config = TrainConfig {
        batch: 32,
        epochs,
        seed: 5,
        augment: Augment::Dihedral,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, data, config).unwrap();
    trainer
        .fit(&mut model, &mut opt, data, None, &mut |_, _, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    model
}

#[test]
fn streamed_cutouts_train_exactly_as_cutouts_in_memory_on_any_thread_count() {
    let dir = scratch("photoz-stream");
    let (rows, z) = cutouts(&dir, 40, 11);
    let (mut pixels, mut peaks) = (Vec::new(), Vec::new());
    rows.read_range(0, rows.count(), &mut pixels, &mut peaks)
        .unwrap();
    let dataset = |inputs| Dataset {
        sample: rows.dims(),
        inputs,
        n_extra: 0,
        extra: Vec::new(),
        targets: vec![classes(&z)],
    };
    let memory = train(&dataset(Inputs::Memory(pixels)), 2);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let streamed = pool.install(|| train(&dataset(Inputs::source(rows.clone())), 2));
        assert_eq!(
            streamed.params(),
            memory.params(),
            "streamed from disk on {threads} threads"
        );
    }
}

#[test]
fn a_small_network_learns_redshift_from_simulated_sdss_cutouts() {
    let dir = scratch("photoz-learn");
    let n = 1200;
    let (rows, z) = cutouts(&dir, n, 21);
    let n_test = 200;
    let train_rows: Vec<usize> = (0..n - n_test).collect();
    let data = Dataset {
        sample: rows.dims(),
        inputs: Inputs::Source {
            source: rows.clone(),
            rows: train_rows,
        },
        n_extra: 0,
        extra: Vec::new(),
        targets: vec![classes(&z[..n - n_test])],
    };
    let mut model = train(&data, 20);
    let (mut pixels, mut peaks) = (Vec::new(), Vec::new());
    rows.read_range(n - n_test, n_test, &mut pixels, &mut peaks)
        .unwrap();
    let probs = predict(&mut model, &pixels, &[], 64)
        .unwrap()
        .swap_remove(0);
    let bins = ZBinning::new(0.0, Z_MAX, BINS).unwrap();
    let z_pred = point_estimates(&bins, &probs, PointEstimator::Mean).unwrap();
    let z_true: Vec<f64> = z[n - n_test..].iter().map(|&v| v as f64).collect();
    let learned = PointMetrics::compute(&z_pred, &z_true).unwrap();
    // The best constant guess: the training set's median redshift.
    let mut sorted: Vec<f64> = z[..n - n_test].iter().map(|&v| v as f64).collect();
    sorted.sort_by(f64::total_cmp);
    let median = vec![sorted[sorted.len() / 2]; n_test];
    let constant = PointMetrics::compute(&median, &z_true).unwrap();
    assert!(
        learned.mae < 0.7 * constant.mae,
        "MAE {} after training, {} for the median redshift",
        learned.mae,
        constant.mae
    );
}

#[test]
fn the_commands_run_on_an_image_dataset_folder() {
    let dir = scratch("photoz-cli");
    let (data, run) = (dir.join("run/data"), dir.join("run"));
    let config = dir.join("photoz.toml");
    std::fs::write(
        &config,
        "[simulate]\npreset = \"sdss44\"\n[model]\npreset = \"kim-brunner\"\nbins = 40\nz_min = 0.0\nz_max = 0.4\n[train]\nepochs = 1\nbatch = 16\n",
    )
    .unwrap();
    let out = ok(&["run", "--config", s(&config), "--out", s(&run), "-n", "60"]);
    assert!(
        out.contains("kim-brunner on sdss44 (6 test cutouts)"),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("report/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["n"], 6, "{report}");
    let checkpoint = run.join("model/checkpoint.safetensors");
    ok(&[
        "evaluate",
        "--checkpoint",
        s(&checkpoint),
        "--data",
        s(&data),
        "--out",
        s(&dir.join("eval")),
        "--all",
    ]);
    // The test split's survey outputs, numbered by the cutouts' rows.
    let eval = dir.join("eval-test");
    ok(&[
        "evaluate",
        "--checkpoint",
        s(&checkpoint),
        "--data",
        s(&data),
        "--out",
        s(&eval),
        "--catalog",
        s(&dir.join("test.fits")),
    ]);
    let csv = std::fs::read_to_string(eval.join("predictions.csv")).unwrap();
    let indices: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(indices, ["54", "55", "56", "57", "58", "59"]);
    assert!(dir.join("test.fits").is_file());
    let predictions = dir.join("z.csv");
    ok(&[
        "predict",
        "--checkpoint",
        s(&checkpoint),
        "--images",
        s(&data.join("images.npy")),
        "--labels",
        s(&data.join("labels.csv")),
        "-o",
        s(&predictions),
    ]);
    let rows = std::fs::read_to_string(&predictions)
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, 61, "a header and one row per cutout");
    // A model for other inputs, and images given as spectra, are refused in the user's terms.
    let err = fails(&[
        "predict",
        "--checkpoint",
        s(&checkpoint),
        "--spectra",
        s(&data.join("images.npy")),
        "-o",
        s(&dir.join("x.csv")),
    ]);
    assert!(
        err.contains("[n, pixels]") && err.contains("--images"),
        "{err}"
    );
    let pasquet = dir.join("pasquet.toml");
    std::fs::write(
        &pasquet,
        "[model]\npreset = \"pasquet\"\nbins = 40\nz_min = 0.0\nz_max = 0.4\n",
    )
    .unwrap();
    let err = fails(&[
        "train",
        "--config",
        s(&pasquet),
        "--data",
        s(&data),
        "--out",
        s(&dir.join("p")),
    ]);
    assert!(
        err.contains("pasquet takes images of 5 bands, 64×64 pixels") && err.contains("44×44"),
        "{err}"
    );
}

#[test]
fn the_catalogue_estimator_trains_evaluates_and_predicts_from_a_photometric_table() {
    let dir = scratch("photoz-catalog");
    let run = dir.join("run");
    let config = dir.join("catalog.toml");
    std::fs::write(
        &config,
        "[simulate]\npreset = \"sdss\"\n[model]\npreset = \"photoz-catalog\"\nbins = 40\nz_min = 0.0\nz_max = 0.4\n[train]\nepochs = 2\nbatch = 16\n",
    )
    .unwrap();
    let out = ok(&["run", "--config", s(&config), "--out", s(&run), "-n", "60"]);
    assert!(
        out.contains("photoz-catalog on sdss (6 test galaxies)"),
        "{out}"
    );
    let checkpoint = run.join("model/checkpoint.safetensors");
    let table = run.join("data/labels.csv");
    let predictions = dir.join("z.csv");
    ok(&[
        "predict",
        "--checkpoint",
        s(&checkpoint),
        "--photometry",
        s(&table),
        "-o",
        s(&predictions),
        "--catalog",
        s(&dir.join("z.fits")),
    ]);
    assert_eq!(
        std::fs::read_to_string(&predictions)
            .unwrap()
            .lines()
            .count(),
        61
    );
    let err = fails(&[
        "predict",
        "--checkpoint",
        s(&checkpoint),
        "--images",
        s(&run.join("data/images.npy")),
        "-o",
        s(&dir.join("x.csv")),
    ]);
    assert!(err.contains("trained on photometry in 5 bands"), "{err}");
    // A reference band that is not among the bands is refused before any work.
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[model]\npreset = \"photoz-catalog\"\nz_min = 0.0\nz_max = 0.4\nbins = 40\n[catalog]\nreference = \"y\"\n",
    )
    .unwrap();
    let err = fails(&[
        "train",
        "--config",
        s(&bad),
        "--data",
        s(&run.join("data")),
        "--out",
        s(&dir.join("m")),
    ]);
    assert!(err.contains("catalog.reference 'y'"), "{err}");
}
