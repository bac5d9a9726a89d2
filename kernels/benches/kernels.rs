//! Criterion benchmarks of the kernels at the layer shapes of the reference architectures
//! (specz-baseline, kim-brunner, pasquet; see DESIGN.md), forward and backward.
//!
//! Throughput is reported per call as `Throughput::Elements`:
//! - for convolutions and dense layers the element is one FLOP (2 per multiply-add), so
//!   criterion's `Gelem/s` reads as GFLOP/s. Forward: `2·MACs`; backward: `2·MACs` for the
//!   weight gradient plus `2·MACs` for the input gradient when the layer computes one (the first
//!   layer of a network does not, as in the engine);
//! - for pooling, batch norm, dropout and the loss the element is one input value.
//!
//! `fma_peak/1t` measures the single-core FMA peak of this CPU in the same run (independent
//! accumulators of `simd::F32s` doing `mul_add`), so "% of peak" = kernel GFLOP/s ÷ that figure.
//! `fma_peak/all_threads` runs the same loop on every thread of the global rayon pool.
//!
//! Every family runs twice: in the global rayon pool (group `conv2d`, honours
//! `RAYON_NUM_THREADS`) and in a one-thread pool (group `conv2d_1t`), the figure to compare with
//! the single-core peak. Criterion filters select either:
//!
//! ```text
//! cargo bench -p zcnn-kernels --bench kernels                 # everything (a few minutes)
//! cargo bench -p zcnn-kernels --bench kernels -- '_1t/|fma'   # single-thread figures and peak
//! cargo bench -p zcnn-kernels --bench kernels -- 'conv2d/'    # one family, default threads
//! ```
//!
//! Sampling is flat with 10 samples and short warm-up/measurement times so that the whole
//! suite stays within a few minutes; `--measurement-time`, `--warm-up-time` and
//! `--sample-size` on the command line override them.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::hint::black_box;
use std::time::Duration;
use zcnn_kernels::batchnorm::{
    batchnorm_backward, batchnorm_forward_train, BatchNormParams, BatchNormShape,
};
use zcnn_kernels::conv1d::{conv1d_backward, conv1d_forward, Conv1dShape};
use zcnn_kernels::conv2d::{
    conv2d_backward, conv2d_forward, conv2d_forward_direct, conv2d_forward_winograd, Conv2dShape,
};
use zcnn_kernels::dense::{dense_backward, dense_forward, DenseShape};
use zcnn_kernels::dropout::{dropout_backward, dropout_forward, dropout_mask};
use zcnn_kernels::epilogue::Epilogue;
use zcnn_kernels::gemm;
use zcnn_kernels::loss::softmax_cross_entropy;
use zcnn_kernels::pool::{
    avgpool2d_backward, avgpool2d_forward, maxpool1d_backward, maxpool1d_forward,
    maxpool2d_backward, maxpool2d_forward, AvgPadding, Pool1dShape, Pool2dShape,
};
use zcnn_kernels::simd::{splat, F32s, LANES};

/// One timed call with its buffers, ready to run repeatedly.
type Call = Box<dyn FnMut() + Send>;

/// A benchmark case: its name within the family, the work of one call, and a constructor for
/// the call (buffers are allocated only while the case runs, so big cases do not pile up).
struct Case {
    name: String,
    work: u64,
    setup: Box<dyn Fn() -> Call>,
}

impl Case {
    fn new(name: impl Into<String>, work: u64, setup: impl Fn() -> Call + 'static) -> Self {
        Case {
            name: name.into(),
            work,
            setup: Box::new(setup),
        }
    }
}

/// `len` values uniform in [-1, 1) from a stream seeded with `seed`.
fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..len).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// Runs every case of `family` in the global pool (group `family`) and in `single_thread`
/// (group `family_1t`).
fn run_family(c: &mut Criterion, family: &str, cases: &[Case], single_thread: &ThreadPool) {
    for (suffix, pool) in [("", None), ("_1t", Some(single_thread))] {
        let mut group = c.benchmark_group(format!("{family}{suffix}"));
        group.sampling_mode(SamplingMode::Flat);
        for case in cases {
            group.throughput(Throughput::Elements(case.work));
            // Built on first use, so cases left out by a filter allocate nothing.
            let mut call: Option<Call> = None;
            group.bench_function(&case.name, |b| {
                let call = call.get_or_insert_with(&case.setup);
                match pool {
                    Some(pool) => pool.install(|| b.iter(call)),
                    None => b.iter(call),
                }
            });
        }
        group.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Peak
// ---------------------------------------------------------------------------------------------

/// Independent accumulators in the peak loop: enough to cover the FMA latency (4 cycles) times
/// the FMA ports (2) with room to spare, few enough to stay in registers.
const PEAK_ACCUMULATORS: usize = 12;
/// Rounds of `PEAK_ACCUMULATORS` multiply-adds per call.
const PEAK_ROUNDS: usize = 4096;
/// FLOPs of one call of [`fma_loop`] (2 per lane of each `mul_add`).
const PEAK_FLOPS: u64 = (2 * LANES * PEAK_ACCUMULATORS * PEAK_ROUNDS) as u64;

/// `acc ← acc·a + b` on independent accumulators: the highest FMA rate a core reaches.
/// With `a = 0.5`, `b = 0.5` the values stay near 1 (no overflow, no denormals).
fn fma_loop() -> f32 {
    let (a, b) = (black_box(splat(0.5)), black_box(splat(0.5)));
    let mut acc = [black_box(splat(1.0)); PEAK_ACCUMULATORS];
    for _ in 0..PEAK_ROUNDS {
        for v in acc.iter_mut() {
            *v = v.mul_add(a, b);
        }
    }
    acc.iter().fold(F32s::ZERO, |s, &v| s + v).reduce_add()
}

fn bench_peak(c: &mut Criterion) {
    let mut group = c.benchmark_group("fma_peak");
    group.throughput(Throughput::Elements(PEAK_FLOPS));
    group.bench_function("1t", |b| b.iter(fma_loop));
    let threads = rayon::current_num_threads() as u64;
    group.throughput(Throughput::Elements(PEAK_FLOPS * threads));
    group.bench_function("all_threads", |b| {
        b.iter(|| rayon::broadcast(|_| black_box(fma_loop())))
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Convolutions
// ---------------------------------------------------------------------------------------------

/// Forward and backward cases of a 1D convolution; `input_grad` says whether the backward pass
/// computes `dx` (not for the first layer).
fn conv1d_cases(name: &str, s: Conv1dShape, input_grad: bool) -> [Case; 2] {
    let macs = (s.batch * s.out_len() * s.out_ch * s.kernel * s.in_ch) as u64;
    let forward = move || -> Call {
        let (x, w, b) = (
            random(s.input_len(), 1),
            random(s.weight_len(), 2),
            random(s.out_ch, 3),
        );
        let mut y = vec![0.0; s.output_len()];
        let mut scratch = vec![0.0; s.forward_scratch_len()];
        Box::new(move || conv1d_forward(&s, &x, &w, Some(&b), &mut y, &mut scratch))
    };
    let backward = move || -> Call {
        let (x, w, dy) = (
            random(s.input_len(), 1),
            random(s.weight_len(), 2),
            random(s.output_len(), 3),
        );
        let mut dx = vec![0.0; if input_grad { s.input_len() } else { 0 }];
        let (mut dw, mut db) = (vec![0.0; s.weight_len()], vec![0.0; s.out_ch]);
        let mut scratch = vec![0.0; s.backward_scratch_len()];
        Box::new(move || {
            let dx = input_grad.then_some(dx.as_mut_slice());
            conv1d_backward(&s, &x, &w, &dy, dx, &mut dw, Some(&mut db), &mut scratch)
        })
    };
    let backward_flops = 2 * macs * if input_grad { 2 } else { 1 };
    [
        Case::new(format!("{name}_fwd"), 2 * macs, forward),
        Case::new(format!("{name}_bwd"), backward_flops, backward),
    ]
}

/// The three convolutions of specz-baseline at batch 32: kernel 8, Keras "same" padding
/// (3 left, 4 right), each followed by max pooling 3/2.
fn bench_conv1d(c: &mut Criterion, single_thread: &ThreadPool) {
    let layer = |in_len, in_ch| Conv1dShape {
        batch: 32,
        in_len,
        in_ch,
        out_ch: 16,
        kernel: 8,
        stride: 1,
        pad_left: 3,
        pad_right: 4,
        dilation: 1,
    };
    let cases: Vec<Case> = [
        conv1d_cases("specz_1780x1_16_b32", layer(1780, 1), false),
        conv1d_cases("specz_889x16_16_b32", layer(889, 16), true),
        conv1d_cases("specz_444x16_16_b32", layer(444, 16), true),
    ]
    .into_iter()
    .flatten()
    .collect();
    run_family(c, "conv1d", &cases, single_thread);
}

/// A square 2D convolution, stride 1, no dilation, `pad` zeros on every side.
fn conv2d_shape(
    batch: usize,
    size: usize,
    in_ch: usize,
    out_ch: usize,
    k: usize,
    pad: usize,
) -> Conv2dShape {
    Conv2dShape {
        batch,
        in_h: size,
        in_w: size,
        in_ch,
        out_ch,
        kernel_h: k,
        kernel_w: k,
        stride_h: 1,
        stride_w: 1,
        pad_top: pad,
        pad_bottom: pad,
        pad_left: pad,
        pad_right: pad,
        dilation_h: 1,
        dilation_w: 1,
    }
}

/// Forward and backward cases of a 2D convolution (see [`conv1d_cases`]).
fn conv2d_cases(name: &str, s: Conv2dShape, input_grad: bool) -> [Case; 2] {
    let macs =
        (s.batch * s.out_h() * s.out_w() * s.out_ch * s.kernel_h * s.kernel_w * s.in_ch) as u64;
    let forward = move || -> Call {
        let (x, w, b) = (
            random(s.input_len(), 1),
            random(s.weight_len(), 2),
            random(s.out_ch, 3),
        );
        let mut y = vec![0.0; s.output_len()];
        let mut scratch = vec![0.0; s.forward_scratch_len()];
        Box::new(move || conv2d_forward(&s, &x, &w, Some(&b), &mut y, &mut scratch))
    };
    let backward = move || -> Call {
        let (x, w, dy) = (
            random(s.input_len(), 1),
            random(s.weight_len(), 2),
            random(s.output_len(), 3),
        );
        let mut dx = vec![0.0; if input_grad { s.input_len() } else { 0 }];
        let (mut dw, mut db) = (vec![0.0; s.weight_len()], vec![0.0; s.out_ch]);
        let mut scratch = vec![0.0; s.backward_scratch_len()];
        Box::new(move || {
            let dx = input_grad.then_some(dx.as_mut_slice());
            conv2d_backward(&s, &x, &w, &dy, dx, &mut dw, Some(&mut db), &mut scratch)
        })
    };
    let backward_flops = 2 * macs * if input_grad { 2 } else { 1 };
    [
        Case::new(format!("{name}_fwd"), 2 * macs, forward),
        Case::new(format!("{name}_bwd"), backward_flops, backward),
    ]
}

/// The convolutions of kim-brunner at batch 128 and one of each kernel size of pasquet's first
/// inception module at batch 32 (32×32 images, "same" padding).
fn bench_conv2d(c: &mut Criterion, single_thread: &ThreadPool) {
    let kim = |size, in_ch, out_ch, k, pad| conv2d_shape(128, size, in_ch, out_ch, k, pad);
    let pasquet = |in_ch, out_ch, k| conv2d_shape(32, 32, in_ch, out_ch, k, k / 2);
    let cases: Vec<Case> = [
        conv2d_cases("kim_44x44_5_32_k5_b128", kim(44, 5, 32, 5, 0), false),
        conv2d_cases("kim_40x40_32_32_k3_b128", kim(40, 32, 32, 3, 1), true),
        conv2d_cases("kim_20x20_32_64_k3_b128", kim(20, 32, 64, 3, 1), true),
        conv2d_cases("kim_20x20_64_64_k3_b128", kim(20, 64, 64, 3, 1), true),
        conv2d_cases("kim_10x10_64_128_k3_b128", kim(10, 64, 128, 3, 1), true),
        conv2d_cases("kim_10x10_128_128_k3_b128", kim(10, 128, 128, 3, 1), true),
        conv2d_cases("pasquet_32x32_64_48_k1_b32", pasquet(64, 48, 1), true),
        conv2d_cases("pasquet_32x32_48_64_k3_b32", pasquet(48, 64, 3), true),
        conv2d_cases("pasquet_32x32_48_64_k5_b32", pasquet(48, 64, 5), true),
    ]
    .into_iter()
    .flatten()
    .collect();
    run_family(c, "conv2d", &cases, single_thread);
}

/// The forward of a 3×3 convolution by the direct GEMM path and by Winograd F(2×2, 3×3), both
/// with a bias. Both count the direct path's `2·MACs`, so their GFLOP/s are "effective" and the
/// ratio of their throughputs is the speed-up.
fn winograd_cases(name: &str, s: Conv2dShape) -> [Case; 2] {
    let macs = (s.batch * s.out_h() * s.out_w() * s.out_ch * 9 * s.in_ch) as u64;
    let inputs = move || {
        (
            random(s.input_len(), 1),
            random(s.weight_len(), 2),
            random(s.out_ch, 3),
            vec![0.0; s.output_len()],
        )
    };
    let direct = move || -> Call {
        let (x, w, b, mut y) = inputs();
        let mut scratch = vec![0.0; s.direct_forward_scratch_len()];
        Box::new(move || {
            let epilogue = Epilogue::bias(Some(&b));
            conv2d_forward_direct(&s, &x, &w, &epilogue, &mut y, &mut scratch)
        })
    };
    let winograd = move || -> Call {
        let (x, w, b, mut y) = inputs();
        let mut scratch = vec![0.0; s.winograd_scratch_len()];
        Box::new(move || {
            let epilogue = Epilogue::bias(Some(&b));
            conv2d_forward_winograd(&s, &x, &w, &epilogue, &mut y, &mut scratch)
        })
    };
    [
        Case::new(format!("{name}_direct"), 2 * macs, direct),
        Case::new(format!("{name}_winograd"), 2 * macs, winograd),
    ]
}

/// Direct vs Winograd on the 3×3 convolutions of [`bench_conv2d`] (group `conv2d_winograd`).
fn bench_winograd(c: &mut Criterion, single_thread: &ThreadPool) {
    let kim = |size, in_ch, out_ch| conv2d_shape(128, size, in_ch, out_ch, 3, 1);
    let cases: Vec<Case> = [
        winograd_cases("kim_40x40_32_32_b128", kim(40, 32, 32)),
        winograd_cases("kim_20x20_32_64_b128", kim(20, 32, 64)),
        winograd_cases("kim_20x20_64_64_b128", kim(20, 64, 64)),
        winograd_cases("kim_10x10_64_128_b128", kim(10, 64, 128)),
        winograd_cases("kim_10x10_128_128_b128", kim(10, 128, 128)),
        winograd_cases(
            "pasquet_32x32_48_64_b32",
            conv2d_shape(32, 32, 48, 64, 3, 1),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    run_family(c, "conv2d_winograd", &cases, single_thread);
}

// ---------------------------------------------------------------------------------------------
// Dense
// ---------------------------------------------------------------------------------------------

/// Forward and backward (with `dx`) cases of a dense layer.
fn dense_cases(name: &str, s: DenseShape) -> [Case; 2] {
    let macs = (s.batch * s.in_features * s.out_features) as u64;
    let forward = move || -> Call {
        let (x, w, b) = (
            random(s.input_len(), 1),
            random(s.weight_len(), 2),
            random(s.out_features, 3),
        );
        let mut y = vec![0.0; s.output_len()];
        let mut scratch = vec![0.0; s.forward_scratch_len()];
        Box::new(move || dense_forward(&s, &x, &w, Some(&b), &mut y, &mut scratch))
    };
    let backward = move || -> Call {
        let (x, w, dy) = (
            random(s.input_len(), 1),
            random(s.weight_len(), 2),
            random(s.output_len(), 3),
        );
        let (mut dx, mut dw) = (vec![0.0; s.input_len()], vec![0.0; s.weight_len()]);
        let mut db = vec![0.0; s.out_features];
        let mut scratch = vec![0.0; s.backward_scratch_len()];
        Box::new(move || {
            dense_backward(
                &s,
                &x,
                &w,
                &dy,
                Some(&mut dx),
                &mut dw,
                Some(&mut db),
                &mut scratch,
            )
        })
    };
    [
        Case::new(format!("{name}_fwd"), 2 * macs, forward),
        Case::new(format!("{name}_bwd"), 4 * macs, backward),
    ]
}

/// The dense layers of specz-baseline (3536→512, 512→800 at batch 32 and 256) and kim-brunner
/// (3200→2048, 2048→2048 at batch 128).
fn bench_dense(c: &mut Criterion, single_thread: &ThreadPool) {
    let shape = |batch, in_features, out_features| DenseShape {
        batch,
        in_features,
        out_features,
    };
    let cases: Vec<Case> = [
        dense_cases("specz_3536_512_b32", shape(32, 3536, 512)),
        dense_cases("specz_3536_512_b256", shape(256, 3536, 512)),
        dense_cases("specz_512_800_b32", shape(32, 512, 800)),
        dense_cases("specz_512_800_b256", shape(256, 512, 800)),
        dense_cases("kim_3200_2048_b128", shape(128, 3200, 2048)),
        dense_cases("kim_2048_2048_b128", shape(128, 2048, 2048)),
    ]
    .into_iter()
    .flatten()
    .collect();
    run_family(c, "dense", &cases, single_thread);
}

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

/// Forward and backward cases of a max pooling, given its shape in 2D form (a 1D pooling runs
/// through `pool1d` instead, see [`bench_pool`]).
fn maxpool2d_cases(name: &str, s: Pool2dShape) -> [Case; 2] {
    let forward = move || -> Call {
        let x = random(s.input_len(), 1);
        let (mut y, mut argmax) = (vec![0.0; s.output_len()], vec![0u32; s.output_len()]);
        Box::new(move || maxpool2d_forward(&s, &x, &mut y, &mut argmax))
    };
    let backward = move || -> Call {
        let (dy, mut argmax) = (random(s.output_len(), 3), vec![0u32; s.output_len()]);
        maxpool2d_forward(
            &s,
            &random(s.input_len(), 1),
            &mut vec![0.0; s.output_len()],
            &mut argmax,
        );
        let mut dx = vec![0.0; s.input_len()];
        Box::new(move || maxpool2d_backward(&s, &dy, &argmax, &mut dx))
    };
    let values = s.input_len() as u64;
    [
        Case::new(format!("{name}_fwd"), values, forward),
        Case::new(format!("{name}_bwd"), values, backward),
    ]
}

/// Forward and backward cases of a 1D max pooling.
fn maxpool1d_cases(name: &str, s: Pool1dShape) -> [Case; 2] {
    let forward = move || -> Call {
        let x = random(s.input_len(), 1);
        let (mut y, mut argmax) = (vec![0.0; s.output_len()], vec![0u32; s.output_len()]);
        Box::new(move || maxpool1d_forward(&s, &x, &mut y, &mut argmax))
    };
    let backward = move || -> Call {
        let (dy, mut argmax) = (random(s.output_len(), 3), vec![0u32; s.output_len()]);
        maxpool1d_forward(
            &s,
            &random(s.input_len(), 1),
            &mut vec![0.0; s.output_len()],
            &mut argmax,
        );
        let mut dx = vec![0.0; s.input_len()];
        Box::new(move || maxpool1d_backward(&s, &dy, &argmax, &mut dx))
    };
    let values = s.input_len() as u64;
    [
        Case::new(format!("{name}_fwd"), values, forward),
        Case::new(format!("{name}_bwd"), values, backward),
    ]
}

/// Forward and backward cases of an average pooling.
fn avgpool2d_cases(name: &str, s: Pool2dShape, mode: AvgPadding) -> [Case; 2] {
    let forward = move || -> Call {
        let (x, mut y) = (random(s.input_len(), 1), vec![0.0; s.output_len()]);
        Box::new(move || avgpool2d_forward(&s, mode, &x, &mut y))
    };
    let backward = move || -> Call {
        let (dy, mut dx) = (random(s.output_len(), 3), vec![0.0; s.input_len()]);
        Box::new(move || avgpool2d_backward(&s, mode, &dy, &mut dx))
    };
    let values = s.input_len() as u64;
    [
        Case::new(format!("{name}_fwd"), values, forward),
        Case::new(format!("{name}_bwd"), values, backward),
    ]
}

/// specz-baseline's first max pooling (3/2 over 1780×16, batch 32), kim-brunner's first
/// (2×2/2 over 40×40×32, batch 128) and pasquet's inception pooling branch (2×2, stride 1,
/// TensorFlow "SAME": one padded row and column at the end, padding excluded from the mean,
/// over 32×32×48, batch 32).
fn bench_pool(c: &mut Criterion, single_thread: &ThreadPool) {
    let specz = Pool1dShape {
        batch: 32,
        in_len: 1780,
        channels: 16,
        kernel: 3,
        stride: 2,
        pad_left: 0,
        pad_right: 0,
    };
    let square = |batch, size, channels, stride, pad_end| Pool2dShape {
        batch,
        in_h: size,
        in_w: size,
        channels,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: stride,
        stride_w: stride,
        pad_top: 0,
        pad_bottom: pad_end,
        pad_left: 0,
        pad_right: pad_end,
    };
    let cases: Vec<Case> = [
        maxpool1d_cases("max1d_specz_1780x16_k3s2_b32", specz),
        maxpool2d_cases("max2d_kim_40x40x32_k2s2_b128", square(128, 40, 32, 2, 0)),
        avgpool2d_cases(
            "avg2d_same_pasquet_32x32x48_k2s1_b32",
            square(32, 32, 48, 1, 1),
            AvgPadding::ExcludePad,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    run_family(c, "pool", &cases, single_thread);
}

// ---------------------------------------------------------------------------------------------
// Batch norm, dropout, loss
// ---------------------------------------------------------------------------------------------

/// Training-mode batch norm after specz-baseline's first pooling: 32 samples × 889 positions,
/// 16 channels.
fn batchnorm_cases() -> [Case; 2] {
    let s = BatchNormShape {
        rows: 32 * 889,
        channels: 16,
    };
    let ch = s.channels;
    let forward = move || -> Call {
        let (x, gamma, beta) = (random(s.len(), 1), random(ch, 2), random(ch, 3));
        let mut y = vec![0.0; s.len()];
        let (mut running_mean, mut running_var) = (vec![0.0; ch], vec![1.0; ch]);
        let (mut save_mean, mut save_invstd) = (vec![0.0; ch], vec![0.0; ch]);
        Box::new(move || {
            batchnorm_forward_train(
                &s,
                &BatchNormParams::default(),
                &x,
                &gamma,
                &beta,
                &mut y,
                &mut running_mean,
                &mut running_var,
                &mut save_mean,
                &mut save_invstd,
            )
        })
    };
    let backward = move || -> Call {
        let (x, gamma, dy) = (random(s.len(), 1), random(ch, 2), random(s.len(), 3));
        let (save_mean, save_invstd) = (vec![0.0; ch], vec![1.7; ch]);
        let mut dx = vec![0.0; s.len()];
        let (mut dgamma, mut dbeta) = (vec![0.0; ch], vec![0.0; ch]);
        Box::new(move || {
            batchnorm_backward(
                &s,
                &x,
                &gamma,
                &save_mean,
                &save_invstd,
                &dy,
                Some(&mut dx),
                &mut dgamma,
                &mut dbeta,
            )
        })
    };
    let values = s.len() as u64;
    [
        Case::new("bn_train_specz_889x16_b32_fwd", values, forward),
        Case::new("bn_train_specz_889x16_b32_bwd", values, backward),
    ]
}

/// Dropout (p = 0.5) before kim-brunner's first dense layer: 128 × 3200 values. The mask is
/// drawn once per training step, so it is timed on its own.
fn dropout_cases() -> [Case; 3] {
    const LEN: usize = 128 * 3200;
    let mask = || -> Call {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let mut mask = vec![0.0; LEN];
        Box::new(move || dropout_mask(0.5, &mut rng, &mut mask))
    };
    let forward = || -> Call {
        let (x, mut y) = (random(LEN, 1), vec![0.0; LEN]);
        let mut mask = vec![0.0; LEN];
        dropout_mask(0.5, &mut Xoshiro256PlusPlus::seed_from_u64(4), &mut mask);
        Box::new(move || dropout_forward(&x, &mask, &mut y))
    };
    let backward = || -> Call {
        let (dy, mut dx) = (random(LEN, 3), vec![0.0; LEN]);
        let mut mask = vec![0.0; LEN];
        dropout_mask(0.5, &mut Xoshiro256PlusPlus::seed_from_u64(4), &mut mask);
        Box::new(move || dropout_backward(&dy, &mask, &mut dx))
    };
    let values = LEN as u64;
    [
        Case::new("dropout_kim_3200_b128_mask", values, mask),
        Case::new("dropout_kim_3200_b128_fwd", values, forward),
        Case::new("dropout_kim_3200_b128_bwd", values, backward),
    ]
}

/// Softmax cross-entropy over specz-baseline's 800 classes at batch 256 (loss and gradient in
/// one pass).
fn softmax_cross_entropy_case() -> Case {
    const BATCH: usize = 256;
    const CLASSES: usize = 800;
    let setup = || -> Call {
        let logits = random(BATCH * CLASSES, 1);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let labels: Vec<u32> = (0..BATCH)
            .map(|_| rng.gen_range(0..CLASSES as u32))
            .collect();
        let (mut probs, mut grad) = (vec![0.0; BATCH * CLASSES], vec![0.0; BATCH * CLASSES]);
        Box::new(move || {
            black_box(softmax_cross_entropy(
                CLASSES, &logits, &labels, &mut probs, &mut grad,
            ));
        })
    };
    Case::new("softmax_ce_800_b256", (BATCH * CLASSES) as u64, setup)
}

fn bench_elementwise(c: &mut Criterion, single_thread: &ThreadPool) {
    let mut cases: Vec<Case> = batchnorm_cases().into_iter().collect();
    cases.extend(dropout_cases());
    cases.push(softmax_cross_entropy_case());
    run_family(c, "elementwise", &cases, single_thread);
}

// ---------------------------------------------------------------------------------------------
// GEMM: ours against matrixmultiply
// ---------------------------------------------------------------------------------------------

/// `C = A·B` with our `gemm::sgemm` and with `matrixmultiply::sgemm` (which allocates its
/// packing buffer on every call, the reason zcnn has its own), on the engine's GEMM shapes.
/// `(m, k, n, (rsa, csa), (rsb, csb))`; C is row-major.
fn gemm_cases(
    name: &str,
    (m, k, n, sa, sb): (usize, usize, usize, (usize, usize), (usize, usize)),
) -> [Case; 2] {
    let flops = (2 * m * k * n) as u64;
    let span =
        |rows: usize, cols: usize, (rs, cs): (usize, usize)| (rows - 1) * rs + (cols - 1) * cs + 1;
    let ours = move || -> Call {
        let (a, b) = (random(span(m, k, sa), 1), random(span(k, n, sb), 2));
        let mut c = vec![0.0; m * n];
        let mut pack = vec![0.0; gemm::pack_len(m, k, n)];
        Box::new(move || {
            gemm::sgemm(
                m, k, n, 1.0, &a, sa.0, sa.1, &b, sb.0, sb.1, 0.0, &mut c, n, 1, &mut pack,
            )
        })
    };
    let theirs = move || -> Call {
        let (a, b) = (random(span(m, k, sa), 1), random(span(k, n, sb), 2));
        let mut c = vec![0.0; m * n];
        Box::new(move || {
            // SAFETY: a, b and c hold the m×k, k×n and m×n matrices with these strides (their
            // lengths come from `span`), and c does not alias a or b.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    sa.0 as isize,
                    sa.1 as isize,
                    b.as_ptr(),
                    sb.0 as isize,
                    sb.1 as isize,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                )
            }
        })
    };
    [
        Case::new(format!("{name}_zcnn"), flops, ours),
        Case::new(format!("{name}_matrixmultiply"), flops, theirs),
    ]
}

fn bench_gemm(c: &mut Criterion, single_thread: &ThreadPool) {
    let row_major = |m, k, n| (m, k, n, (k, 1), (n, 1));
    let cases: Vec<Case> = [
        gemm_cases("conv_438x192x64", row_major(438, 192, 64)),
        gemm_cases("conv_400x576x64", row_major(400, 576, 64)),
        gemm_cases("conv_100x1152x128", row_major(100, 1152, 128)),
        gemm_cases("conv_1780x128x16", row_major(1780, 128, 16)),
        gemm_cases("dense_32x3536x512", row_major(32, 3536, 512)),
        gemm_cases("dense_128x3200x2048", row_major(128, 3200, 2048)),
        gemm_cases(
            "dense_dw_2048x128x3200",
            (2048, 128, 3200, (1, 2048), (3200, 1)),
        ),
        gemm_cases("conv_dw_576x400x64", (576, 400, 64, (1, 576), (64, 1))),
    ]
    .into_iter()
    .flatten()
    .collect();
    run_family(c, "gemm", &cases, single_thread);
}

/// The whole suite; the one-thread pool is built once and shared by every family.
fn bench_all(c: &mut Criterion) {
    let single_thread = ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread rayon pool");
    bench_peak(c);
    bench_conv1d(c, &single_thread);
    bench_conv2d(c, &single_thread);
    bench_winograd(c, &single_thread);
    bench_dense(c, &single_thread);
    bench_gemm(c, &single_thread);
    bench_pool(c, &single_thread);
    bench_elementwise(c, &single_thread);
}

/// Flat sampling, 10 samples, short warm-up and measurement (command-line flags override).
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = kernels;
    config = config();
    targets = bench_all
}
criterion_main!(kernels);
