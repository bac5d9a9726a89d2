//! Criterion benchmarks of whole training steps and inference passes of the reference
//! architectures, in samples per second (`Throughput::Elements(batch)`, so criterion's
//! `elem/s` reads as samples/s):
//!
//! - specz-baseline (800 classes) at batch 32 and 256,
//! - kim-brunner (2 classes) at batch 128,
//! - pasquet (180 classes) at batch 128.
//!
//! A training step is `Trainer::step`: forward in training mode, cross-entropy, backward, Adam.
//! Inference is `Model::forward` in evaluation mode. Threads: rayon's global pool, so
//! `RAYON_NUM_THREADS` sets them.
//!
//! ```text
//! cargo bench -p zcnn --bench models
//! RAYON_NUM_THREADS=1 cargo bench -p zcnn --bench models -- kim-brunner
//! ```
//!
//! `scripts/bench_vs_pytorch.sh` compares the same workloads with PyTorch.

mod common;

use common::{Preset, Workload};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use std::time::Duration;

/// The benchmarked (preset, batch) pairs.
const WORKLOADS: [(Preset, usize); 4] = [
    (Preset::SpeczBaseline, 32),
    (Preset::SpeczBaseline, 256),
    (Preset::KimBrunner, 128),
    (Preset::Pasquet, 128),
];

fn bench_models(c: &mut Criterion) {
    for (preset, batch) in WORKLOADS {
        let mut group = c.benchmark_group(preset.name());
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(batch as u64));
        // Built on first use, so workloads left out by a filter allocate nothing.
        let mut workload: Option<Workload> = None;
        let new = || Workload::new(preset, batch);
        group.bench_function(format!("train_b{batch}"), |b| {
            let w = workload.get_or_insert_with(new);
            b.iter(|| w.train_step())
        });
        group.bench_function(format!("infer_b{batch}"), |b| {
            let w = workload.get_or_insert_with(new);
            b.iter(|| w.infer())
        });
        group.finish();
    }
}

/// Flat sampling, 10 samples, short warm-up and measurement (command-line flags override).
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = models;
    config = config();
    targets = bench_models
}
criterion_main!(models);
