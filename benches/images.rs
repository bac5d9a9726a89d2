//! Criterion benchmark of the image simulator, in cutouts per second
//! (`Throughput::Elements(n)`, so criterion's `elem/s` reads as cutouts/s), for each preset:
//! population draw, synthetic photometry, rendering, PSF convolution and noise of `n` galaxies
//! (the shared SED libraries and tables are built once per batch, as `zcnn simulate` does).
//! Threads: rayon's global pool, so `RAYON_NUM_THREADS=1` gives cutouts/s per core.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench -p zcnn --bench images
//! ```

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use std::time::Duration;
use zcnn::data::images::{simulate_images, ImageSimConfig, IMAGE_PRESETS};

/// Cutouts per measured batch.
const BATCH: usize = 64;

fn bench_images(c: &mut Criterion) {
    let mut group = c.benchmark_group("images");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(BATCH as u64));
    for preset in IMAGE_PRESETS {
        let config = ImageSimConfig::preset(preset, BATCH, 1).expect("a shipped preset");
        group.bench_function(preset, |b| {
            b.iter(|| simulate_images(&config).expect("the preset simulates"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_images);
criterion_main!(benches);
